#!/usr/bin/env bash
# The third-party peers: build the harness once with `--features peers` (Wasmtime and wasmi
# beside lockstep's engines), then hold all four engines against the spec suites and run a short
# three-engine campaign (oracle, runtime, Wasmtime), whose divergences name the odd one out.
#
# The peers build replaces target/release/lockstep with a binary that has every engine; the
# default build's steps (spec.sh, fuzz.sh) rebuild theirs from the cached artifacts.
#
#   LOCKSTEP_PEERS_FUZZ_SECONDS  length of the campaign (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "== peers: $1 ($(( $(date +%s) - start ))s)"; }

step build
cargo build --release -p lockstep-harness --features peers
mkdir -p target/reports

step "spec on every engine"
target/release/lockstep spec --engine all --suite wasm-v1 --suite wasm-v2 --suite proposal:simd \
  --json target/reports/spec-peers.json

step "stack-depth parity"
cargo test --release -p lockstep-harness --features peers --test stack_depth

step "three-engine campaign"
target/release/lockstep fuzz --seconds "${LOCKSTEP_PEERS_FUZZ_SECONDS:-60}" --seed 1 --jobs 2 \
  --engine oracle --engine runtime --engine wasmtime --out target/reports/peers-findings
