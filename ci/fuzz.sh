#!/usr/bin/env bash
# A short differential campaign: wasm-smith modules on the oracle and the runtime, compared call
# by call. The seed is fixed so a red run is reproducible as printed; pass `--seed S` to vary it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release --all-targets --no-run
mkdir -p target/reports
target/release/lockstep fuzz --seconds "${LOCKSTEP_FUZZ_SECONDS:-60}" --seed 1 \
  --out target/reports/fuzz-findings "$@"
