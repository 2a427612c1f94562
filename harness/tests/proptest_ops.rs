//! proptest suites: single-instruction modules for every scalar numeric, conversion and memory
//! instruction of the instruction table ([`lockstep_harness::ops`]), and sequences of table,
//! reference and bulk-memory instructions, with random (edge-biased) operands, run on every
//! engine and compared step by step ([`lockstep_harness::lockstep`]). Memory instructions also
//! get random alignments and offsets.
//!
//! Each suite compiles its module(s) once where it can and keeps case counts modest, so the whole
//! file runs in a few seconds in `cargo test --release`.

mod common;

use std::cell::RefCell;

use common::{Lockstep, module_of, runner, value};
use lockstep_harness::engine::Val;
use lockstep_harness::engines;
use lockstep_harness::ops::{self, Access, Op};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use wasmparser::ValType;

/// One module exporting every op of the table that `keep` selects, then `cases` random calls of
/// each op on every engine.
fn suite(name: &str, keep: impl Fn(&Op) -> bool, cases: u32) {
    let ops: Vec<(String, &Op)> = ops::all()
        .iter()
        .filter(|op| keep(op))
        .map(|op| (op.name.clone(), op))
        .collect();
    assert!(!ops.is_empty(), "{name}: no op");
    let lockstep = RefCell::new(Lockstep::new(engines::all(), &module_of(&ops)));
    for (text, op) in &ops {
        let strategy: Vec<BoxedStrategy<Val>> = op.params.iter().map(|&t| value(t)).collect();
        let result = runner(cases, &format!("{name}{text}"))
            .run(&strategy, |args| lockstep.borrow_mut().check(text, &args));
        if let Err(e) = result {
            panic!("{name}: {text}: {e}");
        }
    }
}

/// A scalar numeric op whose name starts with one of `prefixes`.
fn numeric(op: &Op, prefixes: &[&str]) -> bool {
    op.is_scalar_numeric() && prefixes.iter().any(|p| op.name.starts_with(p))
}

/// Every integer operator: arithmetic, bits, comparisons, sign extension.
#[test]
fn int_numeric() {
    suite(
        "int",
        |op| numeric(op, &["i32.", "i64."]) && !op.is_conversion(),
        96,
    );
}

/// Every float operator.
#[test]
fn float_numeric() {
    suite(
        "float",
        |op| numeric(op, &["f32.", "f64."]) && !op.is_conversion(),
        128,
    );
}

/// Every conversion between scalar types (saturating ones included).
#[test]
fn conversions() {
    suite(
        "conv",
        |op| numeric(op, &["i32.", "i64.", "f32.", "f64."]) && op.is_conversion(),
        128,
    );
}

/// The scalar loads then the scalar stores of the table.
fn accesses() -> Vec<&'static Op> {
    let scalar =
        |op: &&Op| !op.params.contains(&ValType::V128) && !op.results.contains(&ValType::V128);
    let loads = ops::all()
        .iter()
        .filter(|op| matches!(op.access, Access::Load { .. }))
        .filter(scalar);
    let stores = ops::all()
        .iter()
        .filter(|op| matches!(op.access, Access::Store { .. }))
        .filter(scalar);
    loads.chain(stores).collect()
}

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
    let accesses = accesses();
    assert_eq!(accesses.len(), 23, "14 scalar loads and 9 stores");
    let engines = RefCell::new(Some(engines::all()));
    let strategy = (
        0..accesses.len(),
        0u32..4,
        offset(),
        address(),
        prop::collection::vec(any::<u8>(), 16),
        value(ValType::I64),
        value(ValType::F64),
    );
    let result = runner(256, "memory").run(&strategy, |(k, align, off, addr, data, i, f)| {
        let op = accesses[k];
        let load = matches!(op.access, Access::Load { .. });
        let natural = op.access.natural_alignment().expect("a load or store");
        let align = 1u32 << align.min(natural);
        let data: String = data.iter().map(|b| format!("\\{b:02x}")).collect();
        let (name, ty) = (&op.name, *op.params.last().expect("an operand"));
        let ty = if load { op.results[0] } else { ty };
        let t = ops::type_name(ty);
        let body = if load {
            format!(
                "(func (export \"f\") (param i32) (result {t}) ({name} offset={off} align={align} (local.get 0)))"
            )
        } else {
            format!(
                "(func (export \"f\") (param i32 {t}) ({name} offset={off} align={align} (local.get 0) (local.get 1)))"
            )
        };
        let wat = format!(
            "(module (memory (export \"mem\") 2 2) (data (i32.const 65528) \"{data}\") (data (i32.const 0) \"{data}\") {body})"
        );
        let value = match (ty, i, f) {
            (ValType::I32, Val::I64(x), _) => Val::I32(x as u32),
            (ValType::I64, i, _) => i,
            (ValType::F32, _, Val::F64(x)) => Val::F32(x as u32),
            (_, _, f) => f,
        };
        let mut lockstep = Lockstep::new(engines.borrow_mut().take().expect("engines"), &wat);
        let args = if load {
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
    let engines = engines::all();
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
