//! proptest suite for every fixed-width SIMD instruction (the simd proposal's 236 operators,
//! relaxed SIMD excluded): single-instruction modules with random, edge-biased operands (lanes
//! mixing 0, -1, lane minimum and maximum, NaNs with payloads, ±inf, ±0, small integers), run on
//! every engine that executes SIMD and compared with the `diff` rules (NaN lanes as scalars).
//!
//! The operators are the SIMD rows of the instruction table ([`lockstep_harness::ops`], checked
//! against wasmparser's operator list by `tests/ops_table.rs`): [`plain_ops`] (no immediates),
//! [`lane_ops_of_table`] (a lane immediate), [`memory_ops_of_table`] (a memarg, and a lane for the
//! `*_lane` forms), plus `v128.const` and `i8x16.shuffle`, which have suites of their own.
//!
//! [`planted_bug_is_found`] shows that the comparison is live, against a second engine with a
//! planted one-bit bug.
//!
//! Modules without immediates are compiled once per suite; immediates that are drawn per case
//! (shuffle masks, constants, memargs) make one small module per case. Case counts are modest so
//! the whole file runs in a few seconds in `cargo test --release`.

mod common;

use std::cell::RefCell;

use common::{Lockstep, module_of, routed, runner, v128, value};
use lockstep_harness::diff::{self, Comparison, Rules};
use lockstep_harness::engine::{
    CompileError, Engine, InstanceId, InstantiateError, InvokeError, ModuleId, Session, Snapshot,
    Val, WasmFeatures,
};
use lockstep_harness::engines;
use lockstep_harness::features;
use lockstep_harness::ops::{self, Access, Imm, Op, float_text};
use lockstep_harness::suite::required_2_0;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use wasmparser::ValType;

/// Shift counts: every count up to past the widest lane, and the i32 edges.
fn shift_count() -> BoxedStrategy<Val> {
    prop_oneof![(0u32..140).prop_map(Val::I32), value(ValType::I32)].boxed()
}

fn simd_ops() -> impl Iterator<Item = &'static Op> {
    ops::all()
        .iter()
        .filter(|op| op.needs == WasmFeatures::SIMD)
}

/// Every SIMD operator without immediates.
fn plain_ops() -> Vec<&'static Op> {
    simd_ops().filter(|op| op.imm == Imm::None).collect()
}

/// The operators with a lane immediate, with their lane count.
fn lane_ops_of_table() -> Vec<(&'static Op, u8)> {
    simd_ops()
        .filter_map(|op| match op.imm {
            Imm::Lane(n) => Some((op, n)),
            _ => None,
        })
        .collect()
}

/// The memory operators (loads, stores, lane loads and stores).
fn memory_ops_of_table() -> Vec<&'static Op> {
    simd_ops().filter(|op| op.access != Access::None).collect()
}

const EXTENDING_LOADS: [&str; 6] = [
    "v128.load8x8_s",
    "v128.load8x8_u",
    "v128.load16x4_s",
    "v128.load16x4_u",
    "v128.load32x2_s",
    "v128.load32x2_u",
];

/// Two runtime bugs this suite found, kept as named regressions:
/// - extending loads (`v128.load8x8_s` ...) left an i16x8/i32x4/i64x2 value on the
///   translator's stack, and storing it in a local panicked Cranelift's frontend;
/// - a reference result of a function with a v128 parameter came back non-null (externref) or
///   crashed the host (funcref): the result left the argument's upper half in its 128-bit slot.
#[test]
fn runtime_simd_regressions() {
    let engines = simd_engines();
    let engines = RefCell::new(Some(engines));
    let mut failures = Vec::new();
    for op in EXTENDING_LOADS {
        let wat = format!(
            "(module (memory 1) (data (i32.const 0) \"\\01\\82\\03\\84\\05\\86\\07\\88\") \
             (func (export \"f\") (param i32) (result v128) (local v128) \
             (local.set 1 ({op} (local.get 0))) (local.get 1)))"
        );
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut l = Lockstep::with_features(take(&engines), &wat, simd_features());
            let r = l.check("f", &[Val::I32(0)]);
            *engines.borrow_mut() = Some(l.engines);
            r
        }));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{e}")),
            Err(p) => failures.push(
                p.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "panicked".to_string()),
            ),
        }
    }
    for r in [
        "(result externref) (ref.null extern)",
        "(result funcref) (ref.null func)",
    ] {
        let wat = format!("(module (func (export \"f\") (param v128) {r}))");
        let mut l = Lockstep::with_features(take(&engines), &wat, simd_features());
        if let Err(e) = l.check("f", &[Val::V128(u128::MAX)]) {
            failures.push(format!("{e}"));
        }
        *engines.borrow_mut() = Some(l.engines);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn simd_features() -> WasmFeatures {
    required_2_0() | WasmFeatures::SIMD
}

/// The engines kept between the cases of a suite that builds a module per case; fresh ones when
/// a case panicked in an engine and never gave them back (so that proptest can still shrink it).
fn take(kept: &RefCell<Option<Vec<Box<dyn Engine>>>>) -> Vec<Box<dyn Engine>> {
    kept.borrow_mut()
        .take()
        .unwrap_or_else(|| features::executing(engines::all(), WasmFeatures::SIMD).0)
}

/// The engines that execute SIMD: every engine today, and the suites need two to compare.
fn simd_engines() -> Vec<Box<dyn Engine>> {
    let (simd, without) = features::executing(engines::all(), WasmFeatures::SIMD);
    let names = |v: &[Box<dyn Engine>]| v.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ");
    assert!(
        simd.len() >= 2,
        "fewer than two engines execute SIMD (with: [{}]; without: [{}])",
        names(&simd),
        names(&without)
    );
    simd
}

fn run_suite(
    name: &str,
    lockstep: &RefCell<Lockstep>,
    export: &str,
    strategy: Vec<BoxedStrategy<Val>>,
    cases: u32,
) {
    let result = runner(cases, &format!("simd{name}{export}"))
        .run(&strategy, |args| lockstep.borrow_mut().check(export, &args));
    if let Err(e) = result {
        panic!("{name}: {export}: {e}");
    }
}

fn param_strategies(op: &Op) -> Vec<BoxedStrategy<Val>> {
    op.params
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if i == 1 && op.name.contains(".sh") {
                shift_count()
            } else {
                value(t)
            }
        })
        .collect()
}

/// One module holding every plain operator `keep` selects, then `cases` random calls of each.
fn plain_suite(name: &str, keep: impl Fn(&str) -> bool, cases: u32) {
    let engines = simd_engines();
    let ops: Vec<(String, &Op)> = plain_ops()
        .into_iter()
        .filter(|op| keep(&op.name))
        .map(|op| (op.name.clone(), op))
        .collect();
    assert!(!ops.is_empty());
    let wat = module_of(&ops);
    let lockstep = RefCell::new(Lockstep::with_features(engines, &wat, simd_features()));
    for (text, op) in &ops {
        run_suite(name, &lockstep, text, param_strategies(op), cases);
    }
}

fn is_float(op: &str) -> bool {
    op.starts_with("f32x4.")
        || op.starts_with("f64x2.")
        || op.contains("_f32x4")
        || op.contains("_f64x2")
}

/// Integer-lane and bitwise operators.
#[test]
fn integer_ops() {
    plain_suite("int", |op| !is_float(op), 64);
}

/// Float-lane operators and conversions.
#[test]
fn float_ops() {
    plain_suite("float", is_float, 96);
}

/// Every lane of every extract_lane and replace_lane.
#[test]
fn lane_ops() {
    let engines = simd_engines();
    let ops: Vec<(String, &Op)> = lane_ops_of_table()
        .into_iter()
        .flat_map(|(op, lanes)| (0..lanes).map(move |lane| (op.text(&lane.to_string()), op)))
        .collect();
    let wat = module_of(&ops);
    let lockstep = RefCell::new(Lockstep::with_features(engines, &wat, simd_features()));
    for (text, op) in &ops {
        run_suite("lanes", &lockstep, text, param_strategies(op), 12);
    }
}

/// i8x16.shuffle with random lane indices (both operands), one module per case.
#[test]
fn shuffle() {
    let engines = simd_engines();
    let engines = RefCell::new(Some(engines));
    let mask = prop::collection::vec(
        prop_oneof![0u8..32, 0u8..16, 16u8..32, Just(0u8), Just(31u8)],
        16,
    );
    let strategy = (mask, v128(), v128());
    let result = runner(96, "shuffle").run(&strategy, |(mask, a, b)| {
        let lanes: Vec<String> = mask.iter().map(|m| m.to_string()).collect();
        let wat = format!(
            "(module (func (export \"f\") (param v128 v128){}))",
            routed(
                &format!(
                    "(i8x16.shuffle {} (local.get 0) (local.get 1))",
                    lanes.join(" ")
                ),
                2,
                Some("v128")
            )
        );
        let mut lockstep = Lockstep::with_features(take(&engines), &wat, simd_features());
        let r = lockstep.check("f", &[Val::V128(a), Val::V128(b)]);
        // The reference result: byte i is byte mask[i] of a ++ b.
        let bytes: Vec<u8> = a.to_le_bytes().into_iter().chain(b.to_le_bytes()).collect();
        let want = u128::from_le_bytes(std::array::from_fn(|i| bytes[mask[i] as usize]));
        let exact = exactly(&mut lockstep, "f", &[Val::V128(a), Val::V128(b)], want);
        *engines.borrow_mut() = Some(lockstep.engines);
        r.and(exact)
            .map_err(|e| TestCaseError::fail(format!("{wat}: {e}")))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Every engine returns exactly `want` (no NaN latitude: nothing here computes).
fn exactly(
    lockstep: &mut Lockstep,
    export: &str,
    args: &[Val],
    want: u128,
) -> Result<(), TestCaseError> {
    let expected = Ok(vec![Val::V128(want)]);
    for (name, got) in lockstep.outcomes(export, args)? {
        if let Comparison::Diverged(d) = diff::compare_calls(
            ("expected", name),
            &expected,
            &got,
            Rules { exact_nans: true },
        ) {
            return Err(TestCaseError::fail(d.to_string()));
        }
    }
    Ok(())
}

/// A lane of `bits` bits as v128.const text.
fn const_lane(bits: u32, float: bool, v: u64) -> String {
    if float {
        float_text(v, bits)
    } else {
        v.to_string()
    }
}

/// v128.const in every shape, NaN payloads included: each engine must return the bits exactly.
#[test]
fn constants() {
    let engines = simd_engines();
    let engines = RefCell::new(Some(engines));
    let shapes: [(&str, u32, bool); 6] = [
        ("i8x16", 8, false),
        ("i16x8", 16, false),
        ("i32x4", 32, false),
        ("i64x2", 64, false),
        ("f32x4", 32, true),
        ("f64x2", 64, true),
    ];
    let strategy = (0..shapes.len(), v128());
    let result = runner(96, "const").run(&strategy, |(shape, v)| {
        let (name, bits, float) = shapes[shape];
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let lanes: Vec<String> = (0..128 / bits)
            .map(|i| const_lane(bits, float, (v >> (bits * i)) as u64 & mask))
            .collect();
        let wat = format!(
            "(module (func (export \"f\"){}))",
            routed(
                &format!("(v128.const {name} {})", lanes.join(" ")),
                0,
                Some("v128")
            )
        );
        let mut lockstep = Lockstep::with_features(take(&engines), &wat, simd_features());
        let r = lockstep
            .check("f", &[])
            .and(exactly(&mut lockstep, "f", &[], v));
        *engines.borrow_mut() = Some(lockstep.engines);
        r.map_err(|e| TestCaseError::fail(format!("{wat}: {e}")))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn address() -> BoxedStrategy<u32> {
    prop_oneof![
        0u32..64,
        65_500u32..65_536,
        131_030u32..131_072,
        prop::sample::select(vec![u32::MAX, u32::MAX - 7, u32::MAX - 15, 0x8000_0000]),
        any::<u32>(),
    ]
    .boxed()
}

fn offset() -> BoxedStrategy<u32> {
    prop_oneof![
        Just(0u32),
        0u32..40,
        65_520u32..65_540,
        131_040u32..131_080,
        prop::sample::select(vec![u32::MAX, u32::MAX - 15, 0x7fff_ffff]),
    ]
    .boxed()
}

/// Each case: one SIMD load or store with a random alignment, offset and lane in a fresh
/// two-page memory with random contents (also across the page boundary and at the very end), at
/// an edge-biased address in or out of bounds. Results and the memory after are compared.
#[test]
fn memory_ops() {
    let engines = simd_engines();
    let engines = RefCell::new(Some(engines));
    let ops = memory_ops_of_table();
    let strategy = (
        0..ops.len(),
        0u32..5,
        offset(),
        address(),
        prop::collection::vec(any::<u8>(), 32),
        v128(),
        0u32..16,
    );
    let result =
        runner(512, "memory").run(&strategy, |(k, align, off, addr, data, value, lane)| {
            let op = ops[k];
            let natural = op.access.natural_alignment().expect("a load or store");
            let align = 1u32 << align.min(natural);
            let data: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
            let imm = match op.imm {
                Imm::MemArgLane(n) => format!(" {}", lane % n as u32),
                _ => String::new(),
            };
            let params = if op.params.len() == 1 {
                "i32"
            } else {
                "i32 v128"
            };
            let result = op.results.first().map(|_| "v128");
            let name = &op.name;
            let gets = if params == "i32" {
                "(local.get 0)"
            } else {
                "(local.get 0) (local.get 1)"
            };
            let expr = format!("({name} offset={off} align={align}{imm} {gets})");
            let body = routed(&expr, params.split(' ').count(), result);
            let wat = format!(
                "(module (memory (export \"mem\") 2 2) (data (i32.const 0) \"{data}\") \
             (data (i32.const 65520) \"{data}\") (data (i32.const 131040) \"{data}\") \
             (func (export \"f\") (param {params}) {body}))"
            );
            let args = if params == "i32" {
                vec![Val::I32(addr)]
            } else {
                vec![Val::I32(addr), Val::V128(value)]
            };
            let mut lockstep = Lockstep::with_features(take(&engines), &wat, simd_features());
            let r = lockstep.check("f", &args);
            *engines.borrow_mut() = Some(lockstep.engines);
            r.map_err(|e| TestCaseError::fail(format!("{wat}: {e}")))
        });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// An engine that returns another's results with one v128 bit flipped for one export: a
/// stand-in second SIMD engine with a planted bug, to show the suites compare while only one
/// real engine executes SIMD.
struct Planted(Box<dyn Engine>, &'static str);

struct PlantedSession(Box<dyn Session>, &'static str);

impl Engine for Planted {
    fn name(&self) -> &'static str {
        "planted"
    }
    fn supported_features(&self) -> WasmFeatures {
        self.0.supported_features()
    }
    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        Box::new(PlantedSession(self.0.new_session(features), self.1))
    }
}

impl Session for PlantedSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        self.0.compile(bytes)
    }
    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        self.0.instantiate(module)
    }
    fn register(&mut self, name: &str, instance: InstanceId) {
        self.0.register(name, instance)
    }
    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError> {
        let r = self.0.invoke(instance, export, args);
        match r {
            Ok(v) if export == self.1 => Ok(v
                .into_iter()
                .map(|x| match x {
                    Val::V128(b) => Val::V128(b ^ 1 << 40),
                    other => other,
                })
                .collect()),
            other => other,
        }
    }
    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        self.0.get_global(instance, export)
    }
    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        self.0.snapshot(instance)
    }
}

/// The comparison is live: a planted one-bit bug in `i16x8.avgr_u` on a second engine fails
/// the suite with the lanes named, and the other operators still agree.
#[test]
fn planted_bug_is_found() {
    let oracle = engines::oracle::engine();
    let planted: Box<dyn Engine> = Box::new(Planted(engines::oracle::engine(), "i16x8.avgr_u"));
    let ops: Vec<(String, &Op)> = plain_ops()
        .into_iter()
        .filter(|op| op.name.starts_with("i16x8.a"))
        .map(|op| (op.name.clone(), op))
        .collect();
    let lockstep = RefCell::new(Lockstep::with_features(
        vec![oracle, planted],
        &module_of(&ops),
        simd_features(),
    ));
    for (text, op) in &ops {
        let result = runner(16, text).run(&param_strategies(op), |args| {
            lockstep.borrow_mut().check(text, &args)
        });
        if text == "i16x8.avgr_u" {
            let e = result.expect_err("the planted bug is found").to_string();
            assert!(e.contains("32-bit lanes 1 differ"), "{e}");
        } else {
            result.unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }
}

/// v128 in signatures next to every other type: functions that return one of their parameters,
/// a constant or a null reference, and several values at once. Arguments and results cross the
/// host boundary here, where a v128 slot is twice as wide as any other.
#[test]
fn v128_in_signatures() {
    let engines = simd_engines();
    // Every list has a v128 parameter.
    use ValType::{F32, F64, I32, I64, V128};
    let (funcref, externref) = (ValType::FUNCREF, ValType::EXTERNREF);
    let lists: [&[ValType]; 8] = [
        &[V128],
        &[V128, V128],
        &[I32, V128, I64],
        &[V128, F32, V128, F64],
        &[externref, V128],
        &[V128, funcref],
        &[F64, F64, V128, I32, V128],
        &[V128, externref, V128, I64, V128, F32, V128],
    ];
    let constants = [
        ("i32", "(i32.const -7)"),
        ("i64", "(i64.const 0x7fff_ffff_ffff_fff0)"),
        ("f32", "(f32.const -nan:0x200001)"),
        ("f64", "(f64.const -0.0)"),
        ("v128", "(v128.const i32x4 -1 0 0x7fc00000 1)"),
        ("funcref", "(ref.null func)"),
        ("externref", "(ref.null extern)"),
    ];
    let mut wat = String::from("(module\n");
    let mut exports: Vec<(String, usize)> = Vec::new();
    for (l, params) in lists.iter().enumerate() {
        let params: Vec<&str> = params.iter().map(|&t| ops::type_name(t)).collect();
        let ps = params.join(" ");
        for (i, t) in params.iter().enumerate() {
            let name = format!("{l}/param{i}");
            wat.push_str(&format!(
                "  (func (export \"{name}\") (param {ps}) (result {t}) (local.get {i}))\n"
            ));
            exports.push((name, l));
        }
        for (t, c) in constants {
            let name = format!("{l}/{t}");
            wat.push_str(&format!(
                "  (func (export \"{name}\") (param {ps}) (result {t}) {c})\n"
            ));
            exports.push((name, l));
        }
        // Every parameter back, last first, plus two null references.
        let rs: Vec<&str> = params.iter().rev().copied().collect();
        let gets: String = (0..params.len())
            .rev()
            .map(|i| format!(" (local.get {i})"))
            .collect();
        let name = format!("{l}/all");
        wat.push_str(&format!(
            "  (func (export \"{name}\") (param {ps}) (result {} externref funcref){gets} (ref.null extern) (ref.null func))\n",
            rs.join(" ")
        ));
        exports.push((name, l));
    }
    wat.push(')');
    let lockstep = RefCell::new(Lockstep::with_features(engines, &wat, simd_features()));
    let arg = |t: ValType| -> BoxedStrategy<Val> {
        match t {
            ValType::Ref(r) if r.is_func_ref() => Just(Val::FuncRef(None)).boxed(),
            ValType::Ref(_) => prop::option::of(0u32..8).prop_map(Val::ExternRef).boxed(),
            t => value(t),
        }
    };
    for (export, l) in &exports {
        let strategy: Vec<BoxedStrategy<Val>> = lists[*l].iter().map(|&t| arg(t)).collect();
        run_suite("signatures", &lockstep, export, strategy, 8);
    }
}
