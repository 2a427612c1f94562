#!/usr/bin/env bash
# The main job: the official spec suite on every built engine, with machine-readable reports.
#
# It runs the `lockstep` binary that `cargo test --workspace --release` builds: a plain
# `cargo run -p lockstep-harness` resolves features for one package only and would rebuild
# Cranelift a second time. `--no-run` is a no-op after the test step and builds it otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release --all-targets --no-run
mkdir -p target/reports
target/release/lockstep spec \
  --json target/reports/spec.json --junit target/reports/spec.xml "$@"
