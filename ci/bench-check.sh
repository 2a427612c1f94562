#!/usr/bin/env bash
# Performance regression gate (not part of ci/all.sh: the machine is noisy, so this is a
# command to run by hand or on a quiet machine).
#
# Runs a quick subset of the benchmarks (kernels on the runtime and the oracle, compile of
# the medium module, typed and wasm->host calls, instantiation), three rounds, and compares
# the medians with this machine's baseline: benches/baseline.json (Intel Xeon, 2 cores) or
# benches/baselines/<cpu>-<cores>c.json, the one recorded on this CPU and core count. Fails
# when a figure is slower than the baseline by more than its threshold, which `--update`
# derives from the noise it measures, and is still slower after 4 more rounds.
#
#   ci/bench-check.sh            # check (exit 1 on a regression)
#   ci/bench-check.sh --update   # re-measure (5 rounds) and rewrite this machine's baseline
#   ci/bench-check.sh --rounds 5 --baseline other.json
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet -p lockstep-benches --bin lockstep-bench -- check "$@"
