//! proptest suites: single-instruction modules for every numeric, conversion, memory, table and
//! reference instruction, with random (edge-biased) operands, run on every built engine and
//! compared with the `diff` rules. Memory instructions also get random alignments and offsets.
//!
//! Each suite compiles its module(s) once where it can and keeps case counts modest, so the whole
//! file runs in a few seconds in `cargo test --release`.

mod common;

use std::cell::RefCell;

use common::{Lockstep, engines, float32, float64, int32, int64, runner};
use lockstep_harness::engine::Val;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[derive(Clone, Copy, Debug, PartialEq)]
enum T {
    I32,
    I64,
    F32,
    F64,
}

impl T {
    fn name(self) -> &'static str {
        match self {
            T::I32 => "i32",
            T::I64 => "i64",
            T::F32 => "f32",
            T::F64 => "f64",
        }
    }
    fn strategy(self) -> BoxedStrategy<Val> {
        match self {
            T::I32 => int32().prop_map(Val::I32).boxed(),
            T::I64 => int64().prop_map(Val::I64).boxed(),
            T::F32 => float32().prop_map(Val::F32).boxed(),
            T::F64 => float64().prop_map(Val::F64).boxed(),
        }
    }
}

fn parse_t(s: &str) -> T {
    match s {
        "i32" => T::I32,
        "i64" => T::I64,
        "f32" => T::F32,
        _ => T::F64,
    }
}

/// `"op params -> result"` lines, e.g. `"i32.add i32 i32 -> i32"`.
fn ops(table: &str) -> Vec<(String, Vec<T>, T)> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (lhs, result) = l.split_once("->").expect("an arrow");
            let mut words = lhs.split_whitespace();
            let op = words.next().expect("an op").to_string();
            (op, words.map(parse_t).collect(), parse_t(result.trim()))
        })
        .collect()
}

/// One module exporting every op of `table` as a function `op`, then `cases` random calls of
/// each op on every engine.
fn suite(name: &str, table: &str, cases: u32) {
    let Some(engines) = engines() else { return };
    let ops = ops(table);
    let mut wat = String::from("(module\n");
    for (op, params, result) in &ops {
        let ps: Vec<&str> = params.iter().map(|t| t.name()).collect();
        let gets: String = (0..params.len())
            .map(|i| format!("(local.get {i})"))
            .collect();
        wat.push_str(&format!(
            "  (func (export \"{op}\") (param {}) (result {}) ({op} {gets}))\n",
            ps.join(" "),
            result.name()
        ));
    }
    wat.push(')');
    let lockstep = RefCell::new(Lockstep::new(engines, &wat));
    for (op, params, _) in &ops {
        let strategy: Vec<BoxedStrategy<Val>> = params.iter().map(|t| t.strategy()).collect();
        let result = runner(cases, &format!("{name}{op}"))
            .run(&strategy, |args| lockstep.borrow_mut().check(op, &args));
        if let Err(e) = result {
            panic!("{name}: {op}: {e}");
        }
    }
}

#[test]
fn int_numeric() {
    suite(
        "int",
        "i32.clz i32 -> i32\n i32.ctz i32 -> i32\n i32.popcnt i32 -> i32\n i32.eqz i32 -> i32
         i32.extend8_s i32 -> i32\n i32.extend16_s i32 -> i32
         i32.add i32 i32 -> i32\n i32.sub i32 i32 -> i32\n i32.mul i32 i32 -> i32
         i32.div_s i32 i32 -> i32\n i32.div_u i32 i32 -> i32\n i32.rem_s i32 i32 -> i32\n i32.rem_u i32 i32 -> i32
         i32.and i32 i32 -> i32\n i32.or i32 i32 -> i32\n i32.xor i32 i32 -> i32
         i32.shl i32 i32 -> i32\n i32.shr_s i32 i32 -> i32\n i32.shr_u i32 i32 -> i32\n i32.rotl i32 i32 -> i32\n i32.rotr i32 i32 -> i32
         i32.eq i32 i32 -> i32\n i32.ne i32 i32 -> i32\n i32.lt_s i32 i32 -> i32\n i32.lt_u i32 i32 -> i32
         i32.gt_s i32 i32 -> i32\n i32.gt_u i32 i32 -> i32\n i32.le_s i32 i32 -> i32\n i32.le_u i32 i32 -> i32
         i32.ge_s i32 i32 -> i32\n i32.ge_u i32 i32 -> i32
         i64.clz i64 -> i64\n i64.ctz i64 -> i64\n i64.popcnt i64 -> i64\n i64.eqz i64 -> i32
         i64.extend8_s i64 -> i64\n i64.extend16_s i64 -> i64\n i64.extend32_s i64 -> i64
         i64.add i64 i64 -> i64\n i64.sub i64 i64 -> i64\n i64.mul i64 i64 -> i64
         i64.div_s i64 i64 -> i64\n i64.div_u i64 i64 -> i64\n i64.rem_s i64 i64 -> i64\n i64.rem_u i64 i64 -> i64
         i64.and i64 i64 -> i64\n i64.or i64 i64 -> i64\n i64.xor i64 i64 -> i64
         i64.shl i64 i64 -> i64\n i64.shr_s i64 i64 -> i64\n i64.shr_u i64 i64 -> i64\n i64.rotl i64 i64 -> i64\n i64.rotr i64 i64 -> i64
         i64.eq i64 i64 -> i32\n i64.ne i64 i64 -> i32\n i64.lt_s i64 i64 -> i32\n i64.lt_u i64 i64 -> i32
         i64.gt_s i64 i64 -> i32\n i64.gt_u i64 i64 -> i32\n i64.le_s i64 i64 -> i32\n i64.le_u i64 i64 -> i32
         i64.ge_s i64 i64 -> i32\n i64.ge_u i64 i64 -> i32",
        96,
    );
}

#[test]
fn float_numeric() {
    let mut table = String::new();
    for t in ["f32", "f64"] {
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"] {
            table.push_str(&format!("{t}.{op} {t} -> {t}\n"));
        }
        for op in ["add", "sub", "mul", "div", "min", "max", "copysign"] {
            table.push_str(&format!("{t}.{op} {t} {t} -> {t}\n"));
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            table.push_str(&format!("{t}.{op} {t} {t} -> i32\n"));
        }
    }
    suite("float", &table, 128);
}

#[test]
fn conversions() {
    suite(
        "conv",
        "i32.wrap_i64 i64 -> i32
         i32.trunc_f32_s f32 -> i32\n i32.trunc_f32_u f32 -> i32\n i32.trunc_f64_s f64 -> i32\n i32.trunc_f64_u f64 -> i32
         i64.trunc_f32_s f32 -> i64\n i64.trunc_f32_u f32 -> i64\n i64.trunc_f64_s f64 -> i64\n i64.trunc_f64_u f64 -> i64
         i32.trunc_sat_f32_s f32 -> i32\n i32.trunc_sat_f32_u f32 -> i32\n i32.trunc_sat_f64_s f64 -> i32\n i32.trunc_sat_f64_u f64 -> i32
         i64.trunc_sat_f32_s f32 -> i64\n i64.trunc_sat_f32_u f32 -> i64\n i64.trunc_sat_f64_s f64 -> i64\n i64.trunc_sat_f64_u f64 -> i64
         i64.extend_i32_s i32 -> i64\n i64.extend_i32_u i32 -> i64
         f32.convert_i32_s i32 -> f32\n f32.convert_i32_u i32 -> f32\n f32.convert_i64_s i64 -> f32\n f32.convert_i64_u i64 -> f32
         f64.convert_i32_s i32 -> f64\n f64.convert_i32_u i32 -> f64\n f64.convert_i64_s i64 -> f64\n f64.convert_i64_u i64 -> f64
         f32.demote_f64 f64 -> f32\n f64.promote_f32 f32 -> f64
         i32.reinterpret_f32 f32 -> i32\n i64.reinterpret_f64 f64 -> i64\n f32.reinterpret_i32 i32 -> f32\n f64.reinterpret_i64 i64 -> f64",
        128,
    );
}

/// (op, value type, natural alignment log2)
const LOADS: &[(&str, T, u32)] = &[
    ("i32.load", T::I32, 2),
    ("i64.load", T::I64, 3),
    ("f32.load", T::F32, 2),
    ("f64.load", T::F64, 3),
    ("i32.load8_s", T::I32, 0),
    ("i32.load8_u", T::I32, 0),
    ("i32.load16_s", T::I32, 1),
    ("i32.load16_u", T::I32, 1),
    ("i64.load8_s", T::I64, 0),
    ("i64.load8_u", T::I64, 0),
    ("i64.load16_s", T::I64, 1),
    ("i64.load16_u", T::I64, 1),
    ("i64.load32_s", T::I64, 2),
    ("i64.load32_u", T::I64, 2),
];

const STORES: &[(&str, T, u32)] = &[
    ("i32.store", T::I32, 2),
    ("i64.store", T::I64, 3),
    ("f32.store", T::F32, 2),
    ("f64.store", T::F64, 3),
    ("i32.store8", T::I32, 0),
    ("i32.store16", T::I32, 1),
    ("i64.store8", T::I64, 0),
    ("i64.store16", T::I64, 1),
    ("i64.store32", T::I64, 2),
];

fn address() -> BoxedStrategy<u32> {
    prop_oneof![
        0u32..64,
        65_500u32..65_536,
        131_000u32..131_072,
        prop::sample::select(vec![u32::MAX, u32::MAX - 3, 0x8000_0000]),
        any::<u32>(),
    ]
    .boxed()
}

fn offset() -> BoxedStrategy<u32> {
    prop_oneof![
        Just(0u32),
        0u32..16,
        65_530u32..65_540,
        131_060u32..131_080,
        prop::sample::select(vec![u32::MAX, 0x7fff_ffff]),
    ]
    .boxed()
}

/// Each case: one load or store with a random alignment and offset in a fresh two-page memory
/// with random contents, at a random (edge-biased) address.
#[test]
fn memory_access() {
    let Some(engines) = engines() else { return };
    let engines = RefCell::new(Some(engines));
    let n = LOADS.len() + STORES.len();
    let strategy = (
        0..n,
        0u32..4,
        offset(),
        address(),
        prop::collection::vec(any::<u8>(), 16),
        T::I64.strategy(),
        T::F64.strategy(),
    );
    let result = runner(256, "memory").run(&strategy, |(k, align, off, addr, data, i, f)| {
        let (op, t, natural) = if k < LOADS.len() { LOADS[k] } else { STORES[k - LOADS.len()] };
        let align = 1u32 << align.min(natural);
        let data: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
        let body = if k < LOADS.len() {
            format!(
                "(func (export \"f\") (param i32) (result {t}) ({op} offset={off} align={align} (local.get 0)))",
                t = t.name()
            )
        } else {
            format!(
                "(func (export \"f\") (param i32 {t}) ({op} offset={off} align={align} (local.get 0) (local.get 1)))",
                t = t.name()
            )
        };
        let wat = format!(
            "(module (memory (export \"mem\") 2 2) (data (i32.const 65528) \"{data}\") (data (i32.const 0) \"{data}\") {body})"
        );
        let value = match t {
            T::I32 => match i {
                Val::I64(x) => Val::I32(x as u32),
                v => v,
            },
            T::I64 => i,
            T::F32 => match f {
                Val::F64(x) => Val::F32(x as u32),
                v => v,
            },
            T::F64 => f,
        };
        let mut lockstep = Lockstep::new(engines.borrow_mut().take().expect("engines"), &wat);
        let args = if k < LOADS.len() {
            vec![Val::I32(addr)]
        } else {
            vec![Val::I32(addr), value]
        };
        let r = lockstep.check("f", &args);
        *engines.borrow_mut() = Some(lockstep.engines);
        r.map_err(|e| TestCaseError::fail(format!("{wat}: {e}")))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

const TABLES: &str = r#"(module
  (type $v (func (result i32)))
  (table $t (export "t") 8 16 funcref)
  (table $e (export "e") 4 8 externref)
  (memory (export "mem") 1 2)
  (data $d "\01\02\03\04\05\06\07\08")
  (func $a (result i32) (i32.const 1))
  (func $b (result i32) (i32.const 2))
  (func $c (param i32) (result i32) (local.get 0))
  (elem $seg func $a $b $c $a)
  (elem (table $t) (i32.const 0) func $a $b)
  (elem declare func $c)
  (func (export "table.get") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "table.set") (param i32 i32)
    (table.set $t (local.get 0) (if (result funcref) (local.get 1) (then (ref.func $b)) (else (ref.null func)))))
  (func (export "table.size") (result i32) (table.size $t))
  (func (export "table.grow") (param i32 i32) (result i32)
    (table.grow $t (if (result funcref) (local.get 1) (then (ref.func $a)) (else (ref.null func))) (local.get 0)))
  (func (export "table.fill") (param i32 i32 i32)
    (table.fill $t (local.get 0) (if (result funcref) (local.get 2) (then (ref.func $c)) (else (ref.null func))) (local.get 1)))
  (func (export "table.copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "table.init") (param i32 i32 i32) (table.init $t $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "elem.drop") (param i32) (elem.drop $seg))
  (func (export "call_indirect") (param i32) (result i32) (call_indirect $t (type $v) (local.get 0)))
  (func (export "ref.null") (param i32) (result i32) (ref.is_null (ref.null func)))
  (func (export "ref.func") (param i32) (result i32) (ref.is_null (ref.func $c)))
  (func (export "extern.set") (param i32 externref) (table.set $e (local.get 0) (local.get 1)))
  (func (export "extern.get") (param i32) (result externref) (table.get $e (local.get 0)))
  (func (export "extern.grow") (param i32 externref) (result i32) (table.grow $e (local.get 1) (local.get 0)))
  (func (export "memory.fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "memory.copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "memory.init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (export "data.drop") (param i32) (data.drop $d))
  (func (export "memory.grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "memory.size") (param i32) (result i32) (memory.size))
)"#;

fn small() -> BoxedStrategy<u32> {
    prop_oneof![0u32..20, 65_530u32..65_540, Just(u32::MAX), any::<u32>()].boxed()
}

/// Sequences of table, reference and bulk-memory instructions with random operands on one
/// instance: results and the tables and memory after every call are compared.
#[test]
fn tables_references_bulk_memory() {
    let Some(engines) = engines() else { return };
    let three: &[&str] = &[
        "table.fill",
        "table.copy",
        "table.init",
        "memory.fill",
        "memory.copy",
        "memory.init",
    ];
    let two: &[&str] = &["table.set", "table.grow"];
    let one: &[&str] = &[
        "table.get",
        "elem.drop",
        "call_indirect",
        "ref.null",
        "ref.func",
        "extern.get",
        "data.drop",
        "memory.grow",
        "memory.size",
    ];
    let engines = RefCell::new(Some(engines));
    let call = (
        0usize..19,
        small(),
        small(),
        small(),
        prop::option::of(0u32..3),
    );
    let strategy = prop::collection::vec(call, 1..12);
    let result = runner(128, "tables").run(&strategy, |calls| {
        let mut lockstep = Lockstep::new(engines.borrow_mut().take().expect("engines"), TABLES);
        let mut r = Ok(());
        for (k, a, b, c, ext) in calls {
            let ext = Val::ExternRef(ext);
            let (name, args) = if k < three.len() {
                (three[k], vec![Val::I32(a), Val::I32(b), Val::I32(c)])
            } else if k < three.len() + two.len() {
                (two[k - three.len()], vec![Val::I32(a), Val::I32(b % 2)])
            } else if k < three.len() + two.len() + one.len() {
                (one[k - three.len() - two.len()], vec![Val::I32(a)])
            } else if k == 17 {
                ("extern.set", vec![Val::I32(a % 6), ext])
            } else {
                ("extern.grow", vec![Val::I32(a % 6), ext])
            };
            r = lockstep.check(name, &args);
            if r.is_err() {
                break;
            }
        }
        *engines.borrow_mut() = Some(lockstep.engines);
        r
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
