#!/usr/bin/env bash
# The README's test command. Release profile: the same build serves the tests and the spec run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release
