#!/usr/bin/env bash
# Everything CI runs, in order. `.ci/run` and .github/workflows/ci.yml both call this.
# The campaign runs last so that the run closes on its `N passed, N failed` line.
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
