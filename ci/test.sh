#!/usr/bin/env bash
# The README's test command. Release profile: the same build serves the tests, the spec run and
# the benches, which `--all-targets` runs once each in test mode so they cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release --all-targets
