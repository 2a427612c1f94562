#!/usr/bin/env bash
# The main job: the official spec suite on every built engine, with machine-readable reports,
# then the upstream WebAssembly/testsuite checkout beside the repository (../shared/testsuite,
# the Wasm 3.0 suite) when it is present.
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

testsuite=../shared/testsuite
if [ -d "$testsuite" ]; then
  echo "== the upstream testsuite at $testsuite (Wasm 3.0; see its PINNED.md)"
  target/release/lockstep spec --testsuite "$testsuite" \
    --json target/reports/testsuite.json --junit target/reports/testsuite.xml
else
  echo "== skipped: no upstream testsuite checkout at $testsuite (the pinned WebAssembly/testsuite" \
       "copy, see the README); the embedded suites above ran"
fi
