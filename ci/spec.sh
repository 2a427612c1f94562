#!/usr/bin/env bash
# The main job: the official spec suite on every built engine, with machine-readable reports.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/reports
cargo run --release --bin lockstep -- spec \
  --json target/reports/spec.json --junit target/reports/spec.xml "$@"
