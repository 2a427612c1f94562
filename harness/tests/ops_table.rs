//! The instruction table ([`lockstep_harness::ops`]) against wasmparser's operator list and
//! against the engines: every operator of the WebAssembly 2.0 proposals (SIMD included) and of
//! the 3.0 proposals in [`PROPOSALS`] has a row and every row is such an operator; every row's one-instruction module validates and
//! compiles and instantiates on every engine, so an operator an engine does not support is
//! caught here rather than by a fuzzer.

use std::collections::BTreeSet;

use lockstep_harness::engine::{Engine, WasmFeatures};
use lockstep_harness::engines;
use lockstep_harness::ops::{self, NOT_INSTRUCTIONS};
use lockstep_harness::targets::one_op::Instance;

/// The proposals whose operators the table holds: WebAssembly 2.0, and tail calls of 3.0 (a
/// 3.0 proposal joins this list with its rows).
const PROPOSALS: &[&str] = &[
    "mvp",
    "sign_extension",
    "saturating_float_to_int",
    "bulk_memory",
    "reference_types",
    "simd",
    "tail_call",
];

/// wasmparser's operators, as (proposal, visit method name).
fn wasmparser_operators() -> Vec<(&'static str, &'static str)> {
    macro_rules! names {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
            vec![$( (stringify!($proposal), stringify!($visit)) ),*]
        };
    }
    let mut all: Vec<(&str, &str)> = wasmparser::for_each_visit_operator!(names);
    all.extend(wasmparser::for_each_visit_simd_operator!(names));
    all
}

#[test]
fn table_names_every_operator_of_its_proposals_and_nothing_else() {
    let theirs: BTreeSet<&str> = wasmparser_operators()
        .into_iter()
        .filter(|(proposal, _)| PROPOSALS.contains(proposal))
        .map(|(_, visit)| visit)
        .filter(|visit| !NOT_INSTRUCTIONS.iter().any(|(n, _)| n == visit))
        .collect();
    let ours: BTreeSet<String> = ops::all().iter().map(|op| op.operator()).collect();
    let missing: Vec<_> = theirs.iter().filter(|v| !ours.contains(**v)).collect();
    let extra: Vec<_> = ours
        .iter()
        .filter(|v| !theirs.contains(v.as_str()))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the table {missing:?}; not operators of {PROPOSALS:?}: {extra:?}"
    );
    let simd = ops::all()
        .iter()
        .filter(|op| op.needs == WasmFeatures::SIMD)
        .count();
    assert_eq!(simd, 236, "the simd proposal has 236 non-relaxed operators");
    // Polymorphic operators have one row per operand type, never two identical rows.
    for (i, a) in ops::all().iter().enumerate() {
        assert!(
            !ops::all()[..i].contains(a),
            "{} is listed twice with the same signature",
            a.name
        );
    }
}

/// Every row's module (the `single_op` target's, with zero immediates and data where drawn)
/// validates with the row's features and instantiates on every engine that executes them; every
/// engine executes every 2.0 row.
#[test]
fn every_operator_compiles_on_every_engine() {
    let engines = engines::all();
    let mut failures = Vec::new();
    for e in &engines {
        let features = e.supported_features();
        let rows = ops::supported(features);
        let v2 = ops::supported(lockstep_harness::suite::required_2_0() | WasmFeatures::SIMD);
        assert!(
            v2.iter().all(|op| rows.contains(op)),
            "{} executes every 2.0 row",
            e.name()
        );
        eprintln!("{}: {} rows", e.name(), rows.len());
        for (i, op) in rows.iter().enumerate() {
            let input = Instance::input(i, &[]);
            let mut u = arbitrary::Unstructured::new(&input);
            let instance = Instance::arbitrary(&mut u, features).expect("an instance");
            assert_eq!(instance.op, *op);
            let wasm = instance.module(features).expect("the module assembles");
            if let Err(err) = wasmparser::Validator::new_with_features(features).validate_all(&wasm)
            {
                failures.push(format!("{instance}: does not validate: {err}"));
                continue;
            }
            if let Err(err) = instantiate(e.as_ref(), features, &wasm) {
                failures.push(format!("{}: {instance}: {err}", e.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn instantiate(engine: &dyn Engine, features: WasmFeatures, wasm: &[u8]) -> Result<(), String> {
    let mut s = engine.new_session(features);
    let m = s.compile(wasm).map_err(|e| e.to_string())?;
    s.instantiate(m).map(|_| ()).map_err(|e| e.to_string())
}
