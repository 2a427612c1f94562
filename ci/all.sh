#!/usr/bin/env bash
# Everything CI runs, in order. `.ci/run` and .github/workflows/ci.yml both call this.
# The campaigns run last so that the run closes on an `N passed, N failed` line; the peers step
# (Wasmtime and wasmi beside lockstep's engines) comes after the default build's steps because its
# build replaces target/release/lockstep.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# Each step says how much disk is left: CI's disks are small and shared, and one run has failed
# with "No space left on device" in the peers build.
step() {
  echo "== $1 ($(( $(date +%s) - start ))s; target/ $(du -sh target 2>/dev/null | cut -f1 || echo 0)," \
       "$(df -h . | awk 'NR == 2 { print $4 }') free)"
}
step lint;  bash ci/lint.sh
step test;  bash ci/test.sh
step fault-injection; bash ci/fault-injection.sh
step spec;  bash ci/spec.sh
step fuzz-targets; bash ci/fuzz-targets.sh
# The nightly fuzz build (over 1 GB) is not used again in this run.
rm -rf fuzz/target
step fuzz;  bash ci/fuzz.sh
step peers; bash ci/peers.sh
