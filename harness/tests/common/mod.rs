//! Shared by the proptest suites (`proptest_ops.rs`, `proptest_simd.rs`): every engine in
//! lockstep on one instance ([`lockstep_harness::lockstep`]), the deterministic proptest runner,
//! edge-biased operands ([`lockstep_harness::edge`]) and one-instruction functions of the
//! instruction table ([`lockstep_harness::ops`]).
#![allow(dead_code)] // Each test crate uses its own part.

use lockstep_harness::diff::{CallResult, Rules};
use lockstep_harness::edge::{edge_v128, edge_value};
use lockstep_harness::engine::{Engine, Val, WasmFeatures};
use lockstep_harness::fuzz::rng::Rng;
use lockstep_harness::lockstep::{self, NotInstantiated, StepVerdict};
use lockstep_harness::ops::{Op, type_name};
use lockstep_harness::suite::required_2_0;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use wasmparser::ValType;

/// Every engine given, each with a session holding one instance of `wat`, in lockstep.
pub struct Lockstep {
    pub engines: Vec<Box<dyn Engine>>,
    run: lockstep::Lockstep,
}

impl Lockstep {
    /// Validated with the 2.0 features (without SIMD).
    pub fn new(engines: Vec<Box<dyn Engine>>, wat: &str) -> Lockstep {
        Lockstep::with_features(engines, wat, required_2_0())
    }

    /// Every engine must compile and instantiate `wat` (the failure names the engine and the
    /// module otherwise).
    pub fn with_features(
        engines: Vec<Box<dyn Engine>>,
        wat: &str,
        features: WasmFeatures,
    ) -> Lockstep {
        let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
        let refs: Vec<&dyn Engine> = engines.iter().map(|e| e.as_ref()).collect();
        let run = lockstep::Lockstep::instantiate(&refs, features, &bytes, Rules::default())
            .unwrap_or_else(|e| match e {
                NotInstantiated::Verdict(v) => panic!("{v:?}\n{wat}"),
                NotInstantiated::TrappedEverywhere => panic!("instantiation traps\n{wat}"),
            });
        Lockstep { engines, run }
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
        match self.run.call(export, args, rules) {
            StepVerdict::Agreed { .. } | StepVerdict::Inconclusive(_) => Ok(()),
            StepVerdict::Diverged(d) => Err(TestCaseError::fail(format!(
                "{export}({}): {d}",
                args.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            StepVerdict::Panicked { engine, message } => Err(TestCaseError::fail(format!(
                "{export}: {engine} panicked: {message}"
            ))),
        }
    }

    /// Each engine's outcome of calling `export` (names in engine order).
    pub fn outcomes(
        &mut self,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<(&'static str, CallResult)>, TestCaseError> {
        let names = self.run.names().to_vec();
        match self.run.invoke(export, args) {
            Ok(outcomes) => Ok(names.into_iter().zip(outcomes).collect()),
            Err(v) => Err(TestCaseError::fail(format!("{export}: {v:?}"))),
        }
    }
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

/// An edge-biased value of `ty`: the campaign's generator ([`edge_value`]) seeded by proptest.
pub fn value(ty: ValType) -> BoxedStrategy<Val> {
    any::<u64>()
        .prop_map(move |seed| edge_value(&mut Rng::new(seed), ty))
        .boxed()
}

/// An edge-biased v128 ([`edge_v128`]: lanes of a random shape).
pub fn v128() -> BoxedStrategy<u128> {
    any::<u64>()
        .prop_map(|seed| edge_v128(&mut Rng::new(seed)))
        .boxed()
}

/// One module with every op of `ops` exported under its name (lane ops with the lane in the
/// name: `"i8x16.extract_lane 3"`) as `(op (local.get 0) ...)`, the result routed through a
/// local and a block (see [`routed`]).
pub fn module_of(ops: &[(String, &Op)]) -> String {
    let mut wat = String::from("(module\n");
    for (text, op) in ops {
        wat.push_str(&func(text, text, &op.params, op.results.first().copied()));
    }
    wat.push(')');
    wat
}

/// A function exporting `(instr (local.get 0) ...)`.
pub fn func(export: &str, instr: &str, params: &[ValType], result: Option<ValType>) -> String {
    let ps: Vec<&str> = params.iter().map(|t| type_name(*t)).collect();
    let gets: String = (0..params.len())
        .map(|i| format!(" (local.get {i})"))
        .collect();
    format!(
        "  (func (export \"{export}\") (param {}){})\n",
        ps.join(" "),
        routed(
            &format!("({instr}{gets})"),
            params.len(),
            result.map(type_name)
        )
    )
}

/// The rest of a function header and its body computing `expr` (after `nparams` parameters):
/// a result goes through a local and a block result before it is returned, as values do in real
/// code. Each hop is a place where an engine can lose track of a v128's lane type (extending
/// loads once panicked the runtime's translator there while a direct return worked).
pub fn routed(expr: &str, nparams: usize, result: Option<&str>) -> String {
    match result {
        None => format!(" {expr}"),
        Some(t) => format!(
            " (result {t}) (local {t}) (local.set {nparams} {expr}) (block (result {t}) (local.get {nparams}))"
        ),
    }
}
