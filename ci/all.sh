#!/usr/bin/env bash
# Everything CI runs, in order. `.ci/run` and .github/workflows/ci.yml both call this.
# The campaigns run last so that the run closes on an `N passed, N failed` line; the peers step
# (Wasmtime and wasmi beside lockstep's engines) comes after the default build's steps because its
# build replaces target/release/lockstep.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "== $1 ($(( $(date +%s) - start ))s)"; }
step lint;  bash ci/lint.sh
step test;  bash ci/test.sh
step fault-injection; bash ci/fault-injection.sh
step spec;  bash ci/spec.sh
step fuzz-targets; bash ci/fuzz-targets.sh
step fuzz;  bash ci/fuzz.sh
step peers; bash ci/peers.sh
