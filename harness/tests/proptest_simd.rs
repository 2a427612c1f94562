//! proptest suite for every fixed-width SIMD instruction (the simd proposal's 236 operators,
//! relaxed SIMD excluded): single-instruction modules with random, edge-biased operands (lanes
//! mixing 0, -1, lane minimum and maximum, NaNs with payloads, ±inf, ±0, small integers), run on
//! every engine that executes SIMD and compared with the `diff` rules (NaN lanes as scalars).
//!
//! The operators are data: [`plain_ops`] (no immediates), [`LANE_OPS`] (a lane immediate),
//! [`MEMORY_OPS`] (a memarg, and a lane for the `*_lane` forms), plus `v128.const` and
//! `i8x16.shuffle`. [`table_covers_every_simd_operator`] checks that these tables name exactly
//! wasmparser's list of SIMD operators.
//!
//! Until two engines execute SIMD ([`Engine::supported_features`] includes
//! [`WasmFeatures::SIMD`]), the suites say so on stderr and run on the one engine that does,
//! without comparing anything; [`planted_bug_is_found`] shows meanwhile that the comparison is
//! live, against a stand-in second engine with a planted one-bit bug.
//!
//! Modules without immediates are compiled once per suite; immediates that are drawn per case
//! (shuffle masks, constants, memargs) make one small module per case. Case counts are modest so
//! the whole file runs in a few seconds in `cargo test --release`.

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;

use common::{Lockstep, float32, float64, int32, int64, runner};
use lockstep_harness::diff::{self, Comparison, Rules};
use lockstep_harness::engine::{
    CompileError, Engine, InstanceId, InstantiateError, InvokeError, ModuleId, Session, Snapshot,
    Val, WasmFeatures,
};
use lockstep_harness::engines;
use lockstep_harness::suite::required_2_0;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    I32,
    I64,
    F32,
    F64,
    V128,
}

impl T {
    fn name(self) -> &'static str {
        match self {
            T::I32 => "i32",
            T::I64 => "i64",
            T::F32 => "f32",
            T::F64 => "f64",
            T::V128 => "v128",
        }
    }

    fn parse(s: &str) -> T {
        match s {
            "i32" => T::I32,
            "i64" => T::I64,
            "f32" => T::F32,
            "f64" => T::F64,
            "v128" => T::V128,
            other => panic!("unknown type {other}"),
        }
    }

    fn strategy(self) -> BoxedStrategy<Val> {
        match self {
            T::I32 => int32().prop_map(Val::I32).boxed(),
            T::I64 => int64().prop_map(Val::I64).boxed(),
            T::F32 => float32().prop_map(Val::F32).boxed(),
            T::F64 => float64().prop_map(Val::F64).boxed(),
            T::V128 => v128().prop_map(Val::V128).boxed(),
        }
    }
}

/// Shift counts: every count up to past the widest lane, and the i32 edges.
fn shift_count() -> BoxedStrategy<Val> {
    prop_oneof![0u32..140, int32()].prop_map(Val::I32).boxed()
}

fn lane8() -> BoxedStrategy<u64> {
    prop_oneof![
        prop::sample::select(vec![0u64, 1, 2, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x40, 0x0f]),
        any::<u8>().prop_map(u64::from),
    ]
    .boxed()
}

fn lane16() -> BoxedStrategy<u64> {
    prop_oneof![
        prop::sample::select(vec![
            0u64, 1, 2, 0x7fff, 0x8000, 0x8001, 0xffff, 0xfffe, 0x00ff, 0xff00, 0x7f, 0x80, 0x4000
        ]),
        any::<u16>().prop_map(u64::from),
    ]
    .boxed()
}

/// `n` lanes of `bits` bits (lane 0 first) packed into a v128.
fn pack(bits: u32, lanes: &[u64]) -> u128 {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    lanes.iter().enumerate().fold(0u128, |v, (i, &l)| {
        v | ((l & mask) as u128) << (bits * i as u32)
    })
}

/// Lanes of one shape, all drawn or one splatted.
fn shaped(bits: u32, lane: BoxedStrategy<u64>) -> BoxedStrategy<u128> {
    let n = (128 / bits) as usize;
    prop_oneof![
        3 => prop::collection::vec(lane.clone(), n).prop_map(move |l| pack(bits, &l)),
        1 => lane.prop_map(move |l| pack(bits, &vec![l; n])),
    ]
    .boxed()
}

/// A v128 operand with edge-biased lanes of a random shape.
fn v128() -> BoxedStrategy<u128> {
    prop_oneof![
        1 => any::<u128>(),
        1 => prop::sample::select(vec![0u128, u128::MAX, 1, 1 << 127]),
        2 => shaped(8, lane8()),
        2 => shaped(16, lane16()),
        2 => shaped(32, int32().prop_map(u64::from).boxed()),
        2 => shaped(64, int64()),
        3 => shaped(32, float32().prop_map(u64::from).boxed()),
        3 => shaped(64, float64()),
    ]
    .boxed()
}

/// An operator without immediates: (instruction, parameter types, result type).
type Op = (String, Vec<T>, Option<T>);

/// Every SIMD operator without immediates, as `"op params -> result"` lines.
fn plain_table() -> String {
    let mut t = String::new();
    let mut add = |line: String| {
        t.push_str(&line);
        t.push('\n');
    };
    let unary = |op: &str| format!("{op} v128 -> v128");
    let binary = |op: &str| format!("{op} v128 v128 -> v128");
    add(binary("i8x16.swizzle"));
    for (shape, scalar) in [
        ("i8x16", "i32"),
        ("i16x8", "i32"),
        ("i32x4", "i32"),
        ("i64x2", "i64"),
        ("f32x4", "f32"),
        ("f64x2", "f64"),
    ] {
        add(format!("{shape}.splat {scalar} -> v128"));
    }
    // Comparisons.
    for shape in ["i8x16", "i16x8", "i32x4"] {
        for op in [
            "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
        ] {
            add(binary(&format!("{shape}.{op}")));
        }
    }
    for op in ["eq", "ne", "lt_s", "gt_s", "le_s", "ge_s"] {
        add(binary(&format!("i64x2.{op}")));
    }
    for shape in ["f32x4", "f64x2"] {
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            add(binary(&format!("{shape}.{op}")));
        }
    }
    // Bitwise.
    add(unary("v128.not"));
    for op in ["and", "andnot", "or", "xor"] {
        add(binary(&format!("v128.{op}")));
    }
    add("v128.bitselect v128 v128 v128 -> v128".to_string());
    add("v128.any_true v128 -> i32".to_string());
    // Integer lanes.
    for shape in ["i8x16", "i16x8", "i32x4", "i64x2"] {
        for op in ["abs", "neg"] {
            add(unary(&format!("{shape}.{op}")));
        }
        for op in ["all_true", "bitmask"] {
            add(format!("{shape}.{op} v128 -> i32"));
        }
        for op in ["shl", "shr_s", "shr_u"] {
            add(format!("{shape}.{op} v128 i32 -> v128"));
        }
        for op in ["add", "sub"] {
            add(binary(&format!("{shape}.{op}")));
        }
    }
    add(unary("i8x16.popcnt"));
    for shape in ["i8x16", "i16x8"] {
        for op in ["add_sat_s", "add_sat_u", "sub_sat_s", "sub_sat_u", "avgr_u"] {
            add(binary(&format!("{shape}.{op}")));
        }
    }
    for shape in ["i8x16", "i16x8", "i32x4"] {
        for op in ["min_s", "min_u", "max_s", "max_u"] {
            add(binary(&format!("{shape}.{op}")));
        }
    }
    for shape in ["i16x8", "i32x4", "i64x2"] {
        add(binary(&format!("{shape}.mul")));
    }
    for (to, from) in [("i8x16", "i16x8"), ("i16x8", "i32x4")] {
        for s in ["s", "u"] {
            add(binary(&format!("{to}.narrow_{from}_{s}")));
        }
    }
    for (to, from) in [("i16x8", "i8x16"), ("i32x4", "i16x8"), ("i64x2", "i32x4")] {
        for half in ["low", "high"] {
            for s in ["s", "u"] {
                add(unary(&format!("{to}.extend_{half}_{from}_{s}")));
                add(binary(&format!("{to}.extmul_{half}_{from}_{s}")));
            }
        }
    }
    for (to, from) in [("i16x8", "i8x16"), ("i32x4", "i16x8")] {
        for s in ["s", "u"] {
            add(unary(&format!("{to}.extadd_pairwise_{from}_{s}")));
        }
    }
    add(binary("i16x8.q15mulr_sat_s"));
    add(binary("i32x4.dot_i16x8_s"));
    // Float lanes.
    for shape in ["f32x4", "f64x2"] {
        for op in ["ceil", "floor", "trunc", "nearest", "abs", "neg", "sqrt"] {
            add(unary(&format!("{shape}.{op}")));
        }
        for op in ["add", "sub", "mul", "div", "min", "max", "pmin", "pmax"] {
            add(binary(&format!("{shape}.{op}")));
        }
    }
    // Conversions.
    for op in [
        "i32x4.trunc_sat_f32x4_s",
        "i32x4.trunc_sat_f32x4_u",
        "f32x4.convert_i32x4_s",
        "f32x4.convert_i32x4_u",
        "i32x4.trunc_sat_f64x2_s_zero",
        "i32x4.trunc_sat_f64x2_u_zero",
        "f64x2.convert_low_i32x4_s",
        "f64x2.convert_low_i32x4_u",
        "f32x4.demote_f64x2_zero",
        "f64x2.promote_low_f32x4",
    ] {
        add(unary(op));
    }
    t
}

/// [`plain_table`] parsed.
fn plain_ops() -> Vec<Op> {
    plain_table()
        .lines()
        .map(|l| {
            let (lhs, result) = l.split_once("->").expect("an arrow");
            let mut words = lhs.split_whitespace();
            let op = words.next().expect("an op").to_string();
            let result = result.trim();
            let result = (!result.is_empty()).then(|| T::parse(result));
            (op, words.map(T::parse).collect(), result)
        })
        .collect()
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
    let Some(engines) = simd_engines("regressions") else {
        return;
    };
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

/// Operators with a lane immediate: (instruction, lanes, parameters, result).
const LANE_OPS: &[(&str, u32, &[T], T)] = &[
    ("i8x16.extract_lane_s", 16, &[T::V128], T::I32),
    ("i8x16.extract_lane_u", 16, &[T::V128], T::I32),
    ("i8x16.replace_lane", 16, &[T::V128, T::I32], T::V128),
    ("i16x8.extract_lane_s", 8, &[T::V128], T::I32),
    ("i16x8.extract_lane_u", 8, &[T::V128], T::I32),
    ("i16x8.replace_lane", 8, &[T::V128, T::I32], T::V128),
    ("i32x4.extract_lane", 4, &[T::V128], T::I32),
    ("i32x4.replace_lane", 4, &[T::V128, T::I32], T::V128),
    ("i64x2.extract_lane", 2, &[T::V128], T::I64),
    ("i64x2.replace_lane", 2, &[T::V128, T::I64], T::V128),
    ("f32x4.extract_lane", 4, &[T::V128], T::F32),
    ("f32x4.replace_lane", 4, &[T::V128, T::F32], T::V128),
    ("f64x2.extract_lane", 2, &[T::V128], T::F64),
    ("f64x2.replace_lane", 2, &[T::V128, T::F64], T::V128),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mem {
    /// `(param addr) (result v128)`
    Load,
    /// `(param addr v128)`
    Store,
    /// `(param addr v128) (result v128)`, with a lane immediate
    LoadLane(u32),
    /// `(param addr v128)`, with a lane immediate
    StoreLane(u32),
}

/// Memory operators: (instruction, kind, natural alignment log2).
const MEMORY_OPS: &[(&str, Mem, u32)] = &[
    ("v128.load", Mem::Load, 4),
    ("v128.load8x8_s", Mem::Load, 3),
    ("v128.load8x8_u", Mem::Load, 3),
    ("v128.load16x4_s", Mem::Load, 3),
    ("v128.load16x4_u", Mem::Load, 3),
    ("v128.load32x2_s", Mem::Load, 3),
    ("v128.load32x2_u", Mem::Load, 3),
    ("v128.load8_splat", Mem::Load, 0),
    ("v128.load16_splat", Mem::Load, 1),
    ("v128.load32_splat", Mem::Load, 2),
    ("v128.load64_splat", Mem::Load, 3),
    ("v128.load32_zero", Mem::Load, 2),
    ("v128.load64_zero", Mem::Load, 3),
    ("v128.store", Mem::Store, 4),
    ("v128.load8_lane", Mem::LoadLane(16), 0),
    ("v128.load16_lane", Mem::LoadLane(8), 1),
    ("v128.load32_lane", Mem::LoadLane(4), 2),
    ("v128.load64_lane", Mem::LoadLane(2), 3),
    ("v128.store8_lane", Mem::StoreLane(16), 0),
    ("v128.store16_lane", Mem::StoreLane(8), 1),
    ("v128.store32_lane", Mem::StoreLane(4), 2),
    ("v128.store64_lane", Mem::StoreLane(2), 3),
];

/// The operators whose immediates are drawn per case by their own suites.
const IMMEDIATE_OPS: &[&str] = &["v128.const", "i8x16.shuffle"];

fn simd_features() -> WasmFeatures {
    required_2_0() | WasmFeatures::SIMD
}

/// The engines kept between the cases of a suite that builds a module per case; fresh ones when
/// a case panicked in an engine and never gave them back (so that proptest can still shrink it).
fn take(kept: &RefCell<Option<Vec<Box<dyn Engine>>>>) -> Vec<Box<dyn Engine>> {
    kept.borrow_mut().take().unwrap_or_else(|| {
        engines::built()
            .into_iter()
            .filter(|e| e.supported_features().contains(WasmFeatures::SIMD))
            .collect()
    })
}

/// The engines that execute SIMD. With fewer than two there is nothing to compare: say so, and
/// run on the one there is (the modules and the harness are still exercised).
fn simd_engines(suite: &str) -> Option<Vec<Box<dyn Engine>>> {
    let all = engines::built();
    let (simd, without): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|e| e.supported_features().contains(WasmFeatures::SIMD));
    if simd.len() < 2 {
        let names =
            |v: &[Box<dyn Engine>]| v.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ");
        eprintln!(
            "proptest_simd {suite}: NOT COMPARED: fewer than two engines execute SIMD (with SIMD: [{}]; \
             without: [{}]); running on [{}] alone. The comparison starts once a second engine \
             declares WasmFeatures::SIMD.",
            names(&simd),
            names(&without),
            names(&simd)
        );
    }
    (!simd.is_empty()).then_some(simd)
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

fn param_strategies(op: &str, params: &[T]) -> Vec<BoxedStrategy<Val>> {
    params
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == 1 && op.contains(".sh") {
                shift_count()
            } else {
                t.strategy()
            }
        })
        .collect()
}

/// A function exporting `(instr (local.get 0) ...)`.
fn func(export: &str, instr: &str, params: &[T], result: Option<T>) -> String {
    let ps: Vec<&str> = params.iter().map(|t| t.name()).collect();
    let gets: String = (0..params.len())
        .map(|i| format!(" (local.get {i})"))
        .collect();
    format!(
        "  (func (export \"{export}\") (param {}){})\n",
        ps.join(" "),
        routed(
            &format!("({instr}{gets})"),
            params.len(),
            result.map(T::name)
        )
    )
}

/// The rest of a function header and its body computing `expr` (after `nparams` parameters):
/// a result goes through a local and a block result before it is returned, as values do in real
/// code. Each hop is a place where an engine can lose track of a v128's lane type (extending
/// loads once panicked the runtime's translator there while a direct return worked).
fn routed(expr: &str, nparams: usize, result: Option<&str>) -> String {
    match result {
        None => format!(" {expr}"),
        Some(t) => format!(
            " (result {t}) (local {t}) (local.set {nparams} {expr}) (block (result {t}) (local.get {nparams}))"
        ),
    }
}

/// One module holding every operator of `ops`, then `cases` random calls of each.
fn plain_suite(name: &str, keep: impl Fn(&str) -> bool, cases: u32) {
    let Some(engines) = simd_engines(name) else {
        return;
    };
    let ops: Vec<Op> = plain_ops()
        .into_iter()
        .filter(|(op, _, _)| keep(op))
        .collect();
    assert!(!ops.is_empty());
    let mut wat = String::from("(module\n");
    for (op, params, result) in &ops {
        wat.push_str(&func(op, op, params, *result));
    }
    wat.push(')');
    let lockstep = RefCell::new(Lockstep::with_features(engines, &wat, simd_features()));
    for (op, params, _) in &ops {
        run_suite(name, &lockstep, op, param_strategies(op, params), cases);
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
    let Some(engines) = simd_engines("lanes") else {
        return;
    };
    let mut wat = String::from("(module\n");
    for (op, lanes, params, result) in LANE_OPS {
        for lane in 0..*lanes {
            wat.push_str(&func(
                &format!("{op} {lane}"),
                &format!("{op} {lane}"),
                params,
                Some(*result),
            ));
        }
    }
    wat.push(')');
    let lockstep = RefCell::new(Lockstep::with_features(engines, &wat, simd_features()));
    for (op, lanes, params, _) in LANE_OPS {
        for lane in 0..*lanes {
            run_suite(
                "lanes",
                &lockstep,
                &format!("{op} {lane}"),
                param_strategies(op, params),
                12,
            );
        }
    }
}

/// i8x16.shuffle with random lane indices (both operands), one module per case.
#[test]
fn shuffle() {
    let Some(engines) = simd_engines("shuffle") else {
        return;
    };
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
    for (k, (s, i)) in lockstep.sessions.iter_mut().enumerate() {
        let got = s.invoke(*i, export, args);
        let name = lockstep.engines[k].name();
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
    match (float, bits) {
        (true, 32) => {
            let b = v as u32;
            let sign = if b >> 31 == 1 { "-" } else { "" };
            let x = f32::from_bits(b);
            if x.is_nan() {
                format!("{sign}nan:0x{:x}", b & 0x7f_ffff)
            } else if x.is_infinite() {
                format!("{sign}inf")
            } else {
                format!("{x:?}")
            }
        }
        (true, _) => {
            let sign = if v >> 63 == 1 { "-" } else { "" };
            let x = f64::from_bits(v);
            if x.is_nan() {
                format!("{sign}nan:0x{:x}", v & 0xf_ffff_ffff_ffff)
            } else if x.is_infinite() {
                format!("{sign}inf")
            } else {
                format!("{x:?}")
            }
        }
        _ => v.to_string(),
    }
}

/// v128.const in every shape, NaN payloads included: each engine must return the bits exactly.
#[test]
fn constants() {
    let Some(engines) = simd_engines("const") else {
        return;
    };
    let engines = RefCell::new(Some(engines));
    let shapes: [(&str, u32, bool); 6] = [
        ("i8x16", 8, false),
        ("i16x8", 16, false),
        ("i32x4", 32, false),
        ("i64x2", 64, false),
        ("f32x4", 32, true),
        ("f64x2", 64, true),
    ];
    let strategy = prop_oneof![
        shaped(8, lane8()).prop_map(|v| (0, v)),
        shaped(16, lane16()).prop_map(|v| (1, v)),
        shaped(32, int32().prop_map(u64::from).boxed()).prop_map(|v| (2, v)),
        shaped(64, int64()).prop_map(|v| (3, v)),
        shaped(32, float32().prop_map(u64::from).boxed()).prop_map(|v| (4, v)),
        shaped(64, float64()).prop_map(|v| (5, v)),
    ];
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
    let Some(engines) = simd_engines("memory") else {
        return;
    };
    let engines = RefCell::new(Some(engines));
    let strategy = (
        0..MEMORY_OPS.len(),
        0u32..5,
        offset(),
        address(),
        prop::collection::vec(any::<u8>(), 32),
        v128(),
        0u32..16,
    );
    let result =
        runner(512, "memory").run(&strategy, |(k, align, off, addr, data, value, lane)| {
            let (op, kind, natural) = MEMORY_OPS[k];
            let align = 1u32 << align.min(natural);
            let data: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
            let (imm, params, result) = match kind {
                Mem::Load => (String::new(), "i32", Some("v128")),
                Mem::Store => (String::new(), "i32 v128", None),
                Mem::LoadLane(n) => (format!(" {}", lane % n), "i32 v128", Some("v128")),
                Mem::StoreLane(n) => (format!(" {}", lane % n), "i32 v128", None),
            };
            let gets = if params == "i32" {
                "(local.get 0)"
            } else {
                "(local.get 0) (local.get 1)"
            };
            let expr = format!("({op} offset={off} align={align}{imm} {gets})");
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

/// wasmparser's SIMD operators (relaxed SIMD excluded), as text-format instruction names.
fn wasmparser_simd_ops() -> BTreeSet<String> {
    macro_rules! names {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
            vec![$( (stringify!($proposal), stringify!($visit)) ),*]
        };
    }
    let all: Vec<(&str, &str)> = wasmparser::for_each_visit_simd_operator!(names);
    all.into_iter()
        .filter(|(proposal, _)| *proposal == "simd")
        .map(|(_, visit)| {
            // visit_i8x16_add -> i8x16.add: the first underscore after the shape is the dot.
            visit
                .strip_prefix("visit_")
                .expect("visit_")
                .replacen('_', ".", 1)
        })
        .collect()
}

/// The tables above name every SIMD operator exactly once, and nothing else; and every plain
/// and lane entry's signature validates.
#[test]
fn table_covers_every_simd_operator() {
    let mut ours: Vec<String> = plain_ops().into_iter().map(|(op, _, _)| op).collect();
    ours.extend(LANE_OPS.iter().map(|(op, ..)| op.to_string()));
    ours.extend(MEMORY_OPS.iter().map(|(op, ..)| op.to_string()));
    ours.extend(IMMEDIATE_OPS.iter().map(|op| op.to_string()));
    let set: BTreeSet<String> = ours.iter().cloned().collect();
    assert_eq!(set.len(), ours.len(), "an operator is listed twice");
    let theirs = wasmparser_simd_ops();
    let missing: Vec<_> = theirs.difference(&set).collect();
    let extra: Vec<_> = set.difference(&theirs).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, not SIMD operators {extra:?}"
    );
    assert_eq!(
        theirs.len(),
        236,
        "the simd proposal has 236 non-relaxed operators"
    );
    assert_eq!(ours.len(), 236);

    // Signatures: one module with every plain and lane operator validates with SIMD.
    let mut wat = String::from("(module\n");
    for (op, params, result) in plain_ops() {
        wat.push_str(&func(&op, &op, &params, result));
    }
    for (op, lanes, params, result) in LANE_OPS {
        wat.push_str(&func(
            op,
            &format!("{op} {}", lanes - 1),
            params,
            Some(*result),
        ));
    }
    wat.push(')');
    let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}"));
    wasmparser::Validator::new_with_features(simd_features())
        .validate_all(&bytes)
        .unwrap_or_else(|e| panic!("{e}"));
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
    let Some(oracle) = engines::KNOWN
        .iter()
        .find(|(n, _)| *n == "oracle")
        .and_then(|(_, make)| make(&Default::default()).ok())
    else {
        return;
    };
    let twin = engines::KNOWN
        .iter()
        .find(|(n, _)| *n == "oracle")
        .and_then(|(_, make)| make(&Default::default()).ok())
        .expect("the oracle twice");
    let planted: Box<dyn Engine> = Box::new(Planted(twin, "i16x8.avgr_u"));
    let ops: Vec<Op> = plain_ops()
        .into_iter()
        .filter(|(op, ..)| op.starts_with("i16x8.a"))
        .collect();
    let mut wat = String::from("(module\n");
    for (op, params, result) in &ops {
        wat.push_str(&func(op, op, params, *result));
    }
    wat.push(')');
    let lockstep = RefCell::new(Lockstep::with_features(
        vec![oracle, planted],
        &wat,
        simd_features(),
    ));
    for (op, params, _) in &ops {
        let result = runner(16, op).run(&param_strategies(op, params), |args| {
            lockstep.borrow_mut().check(op, &args)
        });
        if op == "i16x8.avgr_u" {
            let e = result.expect_err("the planted bug is found").to_string();
            assert!(e.contains("32-bit lanes 1 differ"), "{e}");
        } else {
            result.unwrap_or_else(|e| panic!("{op}: {e}"));
        }
    }
}

/// v128 in signatures next to every other type: functions that return one of their parameters,
/// a constant or a null reference, and several values at once. Arguments and results cross the
/// host boundary here, where a v128 slot is twice as wide as any other.
#[test]
fn v128_in_signatures() {
    let Some(engines) = simd_engines("signatures") else {
        return;
    };
    // Every list has a v128 parameter.
    let lists: [&[&str]; 8] = [
        &["v128"],
        &["v128", "v128"],
        &["i32", "v128", "i64"],
        &["v128", "f32", "v128", "f64"],
        &["externref", "v128"],
        &["v128", "funcref"],
        &["f64", "f64", "v128", "i32", "v128"],
        &["v128", "externref", "v128", "i64", "v128", "f32", "v128"],
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
    let arg = |t: &str| -> BoxedStrategy<Val> {
        match t {
            "funcref" => Just(Val::FuncRef(None)).boxed(),
            "externref" => prop::option::of(0u32..8).prop_map(Val::ExternRef).boxed(),
            t => T::parse(t).strategy(),
        }
    };
    for (export, l) in &exports {
        let strategy: Vec<BoxedStrategy<Val>> = lists[*l].iter().map(|t| arg(t)).collect();
        run_suite("signatures", &lockstep, export, strategy, 8);
    }
}
