#!/usr/bin/env bash
# Proof that the differential campaign finds bugs: each miscompile planted behind the runtime's
# `fault-injection` feature must be found and shrunk by a bounded campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p lockstep-harness --features fault-injection --test fault_injection -- --nocapture
