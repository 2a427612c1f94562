//! Shared by the proptest suites (`proptest_ops.rs`, `proptest_simd.rs`): every engine in
//! lockstep on one instance, the deterministic proptest runner, and edge-biased scalar operands.
#![allow(dead_code)] // Each test crate uses its own part.

use lockstep_harness::diff::{self, Comparison, Rules, StateComparison};
use lockstep_harness::engine::{Engine, InstanceId, Session, Val, WasmFeatures};
use lockstep_harness::engines;
use lockstep_harness::suite::required_2_0;
use lockstep_harness::wast::runner::guarded;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Every engine given with a session holding one instance of `wat`.
pub struct Lockstep {
    pub engines: Vec<Box<dyn Engine>>,
    pub sessions: Vec<(Box<dyn Session>, InstanceId)>,
}

impl Lockstep {
    /// Validated with the 2.0 features (without SIMD).
    pub fn new(engines: Vec<Box<dyn Engine>>, wat: &str) -> Lockstep {
        Lockstep::with_features(engines, wat, required_2_0())
    }

    pub fn with_features(
        engines: Vec<Box<dyn Engine>>,
        wat: &str,
        features: WasmFeatures,
    ) -> Lockstep {
        let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
        let sessions = engines
            .iter()
            .map(|e| {
                // An engine that panics is named, with the module, in the failure.
                let panicked = |m: String| -> ! { panic!("{} panicked: {m}\n{wat}", e.name()) };
                let mut s = guarded(|| e.new_session(features)).unwrap_or_else(|m| panicked(m));
                let m = guarded(|| s.compile(&bytes))
                    .unwrap_or_else(|m| panicked(m))
                    .unwrap_or_else(|err| panic!("{}: {err}\n{wat}", e.name()));
                let i = guarded(|| s.instantiate(m))
                    .unwrap_or_else(|m| panicked(m))
                    .unwrap_or_else(|err| panic!("{}: {err}\n{wat}", e.name()));
                (s, i)
            })
            .collect();
        Lockstep { engines, sessions }
    }

    /// Call `export` everywhere and compare results, then exported state.
    pub fn check(&mut self, export: &str, args: &[Val]) -> Result<(), TestCaseError> {
        self.check_with(export, args, Rules::default())
    }

    /// [`Lockstep::check`] under explicit comparison rules.
    pub fn check_with(
        &mut self,
        export: &str,
        args: &[Val],
        rules: Rules,
    ) -> Result<(), TestCaseError> {
        let mut outs = Vec::new();
        for (k, (s, i)) in self.sessions.iter_mut().enumerate() {
            match guarded(|| s.invoke(*i, export, args)) {
                Ok(r) => outs.push(r),
                Err(m) => {
                    return Err(TestCaseError::fail(format!(
                        "{export}: {} panicked: {m}",
                        self.engines[k].name()
                    )));
                }
            }
        }
        let n0 = self.engines[0].name();
        for k in 1..outs.len() {
            let names = (n0, self.engines[k].name());
            if let Comparison::Diverged(d) = diff::compare_calls(names, &outs[0], &outs[k], rules) {
                return Err(TestCaseError::fail(format!(
                    "{export}({}): {d}",
                    args.iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let snaps: Vec<_> = self
            .sessions
            .iter_mut()
            .map(|(s, i)| s.snapshot(*i))
            .collect();
        for k in 1..snaps.len() {
            let names = (n0, self.engines[k].name());
            if let StateComparison::Diverged(d) =
                diff::compare_states(names, &snaps[0], &snaps[k], rules)
            {
                return Err(TestCaseError::fail(format!("after {export}: {d}")));
            }
        }
        Ok(())
    }
}

/// The engines to compare, or `None` (the test is a no-op) when fewer than two are built.
pub fn engines() -> Option<Vec<Box<dyn Engine>>> {
    let e = engines::built();
    if e.len() < 2 {
        eprintln!("fewer than two engines are built: nothing to compare");
        return None;
    }
    Some(e)
}

pub fn runner(cases: u32, seed_name: &str) -> TestRunner {
    let mut seed = [0u8; 32];
    for (i, b) in seed_name.bytes().enumerate() {
        seed[i % 32] ^= b;
    }
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &seed,
        ),
    )
}

pub fn int32() -> BoxedStrategy<u32> {
    prop_oneof![
        prop::sample::select(vec![
            0u32,
            1,
            2,
            31,
            32,
            33,
            u32::MAX,
            0x8000_0000,
            0x7fff_ffff,
            0xffff_fffe
        ]),
        (0u32..32).prop_map(|k| 1u32 << k),
        any::<u32>(),
    ]
    .boxed()
}

pub fn int64() -> BoxedStrategy<u64> {
    prop_oneof![
        prop::sample::select(vec![
            0u64,
            1,
            2,
            63,
            64,
            65,
            u64::MAX,
            1 << 63,
            (1 << 63) - 1,
            0xffff_ffff,
            1 << 32
        ]),
        (0u32..64).prop_map(|k| 1u64 << k),
        any::<u64>(),
    ]
    .boxed()
}

pub fn float32() -> BoxedStrategy<u32> {
    prop_oneof![
        prop::sample::select(vec![
            0u32,
            0x8000_0000,
            0x7f80_0000,
            0xff80_0000,
            0x7fc0_0000,
            0xffc0_0000,
            0x7fa0_0001,
            0x7f7f_ffff,
            1,
            0x8000_0001,
            0x3f00_0000,
            0x3fc0_0000,
            0x4020_0000,
            0x4f00_0000,
            0xcf00_0000,
            0x4f80_0000,
            0x5f00_0000,
            0xdf00_0000,
            0x3f80_0000,
            0xbf80_0000,
        ]),
        (-40i32..40).prop_map(|k| 2f32.powi(k).to_bits()),
        any::<i32>().prop_map(|x| (x as f32).to_bits()),
        any::<u32>(),
    ]
    .boxed()
}

pub fn float64() -> BoxedStrategy<u64> {
    prop_oneof![
        prop::sample::select(vec![
            0u64,
            1 << 63,
            0x7ff0_0000_0000_0000,
            0xfff0_0000_0000_0000,
            0x7ff8_0000_0000_0000,
            0xfff8_0000_0000_0000,
            0x7ff4_0000_0000_0001,
            0x7fef_ffff_ffff_ffff,
            1,
            0x3fe0_0000_0000_0000,
            0x3ff8_0000_0000_0000,
            0x4004_0000_0000_0000,
            0x41e0_0000_0000_0000,
            0xc1e0_0000_0020_0000,
            0x41f0_0000_0000_0000,
            0x43e0_0000_0000_0000,
            0xc3e0_0000_0000_0000,
            0x43f0_0000_0000_0000,
        ]),
        (-80i32..80).prop_map(|k| 2f64.powi(k).to_bits()),
        any::<i64>().prop_map(|x| (x as f64).to_bits()),
        any::<u64>(),
    ]
    .boxed()
}
