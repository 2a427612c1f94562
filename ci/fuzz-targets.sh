#!/usr/bin/env bash
# The cargo-fuzz targets: build every target with nightly (cargo-fuzz installed pinned if
# missing), write the seed corpus, then run each target for a short time. Any finding (a crash
# artifact, a non-zero exit) fails the run; artifacts land in fuzz/artifacts/<target>/.
#
#   LOCKSTEP_FUZZ_TARGET_SECONDS  seconds per target (default 30)
#   LOCKSTEP_FUZZ_SANITIZER       none (default) or address; see fuzz/README.md for why
# The nightly builds live in fuzz/target (CARGO_TARGET_DIR is ignored for them); the stable seed
# generator uses CARGO_TARGET_DIR or target/, where the release tests were built.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_FUZZ_VERSION=0.13.2
seconds="${LOCKSTEP_FUZZ_TARGET_SECONDS:-30}"
sanitizer="${LOCKSTEP_FUZZ_SANITIZER:-none}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
start=$(date +%s)
step() { echo "== fuzz-targets: $1 ($(( $(date +%s) - start ))s)"; }

if ! cargo +nightly fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  step "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
fi

step "build (sanitizer $sanitizer)"
env -u CARGO_TARGET_DIR cargo +nightly fuzz build -s "$sanitizer"

step "seed corpus"
bash fuzz/seed-corpus.sh fuzz/corpus

# The runtime catches traps of generated code with its own SIGSEGV/SIGBUS/SIGILL/SIGFPE
# handlers; under ASan they must be allowed to take over (fuzz/README.md).
export ASAN_OPTIONS="${ASAN_OPTIONS:-allow_user_segv_handler=1:handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:detect_leaks=0}"
targets=$(env -u CARGO_TARGET_DIR cargo +nightly fuzz list)
failed=()
for t in $targets; do
  step "run $t for ${seconds}s"
  dict=()
  [ "$t" = compile ] && dict=(-dict=fuzz/wasm.dict)
  rm -rf "fuzz/artifacts/$t"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  set +e
  env -u CARGO_TARGET_DIR cargo +nightly fuzz run -s "$sanitizer" "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
    "${dict[@]}" >"fuzz/artifacts/$t.log" 2>&1
  status=$?
  set -e
  grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|SUMMARY)|finding|panicked" \
    "fuzz/artifacts/$t.log" | head -20 || true
  if [ "$status" != 0 ] || compgen -G "fuzz/artifacts/$t/*" >/dev/null; then
    echo "$t: FINDING (exit $status); log: fuzz/artifacts/$t.log"
    failed+=("$t")
  fi
done
step done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets with findings: ${failed[*]} (see fuzz/artifacts/ and fuzz/README.md to reproduce)"
  exit 1
fi
echo "fuzz targets: no findings in ${seconds}s each"
