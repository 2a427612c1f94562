#![no_main]
// The logic lives in lockstep_harness::targets::single_op (replayed on stable by harness/tests/fuzz_targets.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| lockstep_harness::targets::single_op(data));
