#!/usr/bin/env bash
# Formatting and lints. Fails on any warning.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
