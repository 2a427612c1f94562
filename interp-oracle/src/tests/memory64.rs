//! Memory64 and table64 (64-bit addresses that never wrap), multi-memory and extended constant
//! expressions.

use super::*;

fn i64s(v: &[u64]) -> Vec<Value> {
    v.iter().map(|x| Value::I64(*x)).collect()
}

#[test]
fn addresses_near_2_pow_64_trap_and_never_wrap() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (memory i64 1 3)
            (data (i64.const 0) "\01\02\03\04")
            (func (export "load") (param i64) (result i32) (i32.load8_u (local.get 0)))
            (func (export "load_far") (param i64) (result i32)
                (i32.load offset=0xffff_ffff_ffff_fffe (local.get 0)))
            (func (export "store") (param i64 i32) (i64.store8 (local.get 0) (i64.extend_i32_u (local.get 1))))
            (func (export "fill") (param i64 i64) (memory.fill (local.get 0) (i32.const 7) (local.get 1)))
            (func (export "size") (result i64) (memory.size))
            (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#,
    );
    assert_eq!(call1(&mut s, i, "load", &i64s(&[3])), Value::I32(4));
    for addr in [65536, u64::MAX, 1 << 32] {
        let t = trap(&mut s, i, "load", &i64s(&[addr]));
        assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess, "{addr:#x}");
    }
    // addr + offset overflows 64 bits: 2 + (2^64 - 2) would wrap to 0.
    for addr in [0, 2, u64::MAX] {
        let t = trap(&mut s, i, "load_far", &i64s(&[addr]));
        assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess, "{addr:#x}");
    }
    let t = trapped(call(
        &mut s,
        i,
        "store",
        &[Value::I64(u64::MAX), Value::I32(9)],
    ));
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    // A fill whose end wraps past 2^64 to a small number is out of bounds, and writes nothing.
    let t = trapped(call(&mut s, i, "fill", &i64s(&[16, u64::MAX - 8])));
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    assert_eq!(call1(&mut s, i, "load", &i64s(&[16])), Value::I32(0));
    // Sizes and growth are i64; a failed grow is i64 -1.
    assert_eq!(call1(&mut s, i, "size", &[]), Value::I64(1));
    assert_eq!(call1(&mut s, i, "grow", &i64s(&[2])), Value::I64(1));
    assert_eq!(call1(&mut s, i, "grow", &i64s(&[1])), Value::I64(u64::MAX));
    assert_eq!(
        call1(&mut s, i, "grow", &i64s(&[u64::MAX])),
        Value::I64(u64::MAX)
    );
    assert_eq!(call1(&mut s, i, "size", &[]), Value::I64(3));
}

#[test]
fn a_failed_grow_of_a_32_bit_memory_is_i32_minus_one() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module (memory 1 2)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    assert_eq!(
        call1(&mut s, i, "grow", &[Value::I32(2)]),
        Value::I32(u32::MAX)
    );
}

#[test]
fn table64_indices_and_sizes_are_i64() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (type $f (func (result i32)))
            (table $t i64 2 4 funcref)
            (elem (table $t) (i64.const 1) func $seven)
            (func $seven (result i32) (i32.const 7))
            (func (export "call") (param i64) (result i32)
                (call_indirect $t (type $f) (local.get 0)))
            (func (export "size") (result i64) (table.size $t))
            (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
            (func (export "fill") (param i64 i64) (table.fill $t (local.get 0) (ref.null func) (local.get 1))))"#,
    );
    assert_eq!(call1(&mut s, i, "call", &i64s(&[1])), Value::I32(7));
    let t = trap(&mut s, i, "call", &i64s(&[0]));
    assert_eq!(t.kind, TrapKind::UninitializedElement);
    for index in [2, 1 << 32, u64::MAX] {
        let t = trap(&mut s, i, "call", &i64s(&[index]));
        assert_eq!(t.kind, TrapKind::UndefinedElement, "{index:#x}");
    }
    let t = trapped(call(&mut s, i, "fill", &i64s(&[1, u64::MAX])));
    assert_eq!(t.kind, TrapKind::OutOfBoundsTableAccess);
    assert_eq!(call1(&mut s, i, "call", &i64s(&[1])), Value::I32(7));
    assert_eq!(call1(&mut s, i, "grow", &i64s(&[2])), Value::I64(2));
    assert_eq!(call1(&mut s, i, "grow", &i64s(&[1])), Value::I64(u64::MAX));
    assert_eq!(call1(&mut s, i, "size", &[]), Value::I64(4));
}

#[test]
fn memories_are_addressed_by_index() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (memory $a 1)
            (memory $b i64 1)
            (data (memory $b) (i64.const 8) "\2a")
            (func (export "copy") (memory.copy $a $b (i32.const 0) (i64.const 8) (i32.const 1)))
            (func (export "a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
            (func (export "b") (param i64) (result i32) (i32.load8_u $b (local.get 0))))"#,
    );
    assert_eq!(call1(&mut s, i, "a", &[Value::I32(0)]), Value::I32(0));
    call(&mut s, i, "copy", &[]).unwrap();
    assert_eq!(call1(&mut s, i, "a", &[Value::I32(0)]), Value::I32(42));
    assert_eq!(call1(&mut s, i, "b", &[Value::I64(8)]), Value::I32(42));
}

#[test]
fn importing_checks_the_address_type() {
    let mut s = store_3_0(10);
    let exporter = instantiate(&mut s, r#"(module (memory (export "m") i64 1))"#);
    let Some(m) = s.export(exporter, "m") else {
        panic!("no export")
    };
    let bytes = wat::parse_str(r#"(module (import "x" "m" (memory 1)))"#).unwrap();
    let module = s.compile(&bytes).unwrap();
    let e = s.instantiate(&module, &[m]).unwrap_err();
    assert!(matches!(e, InstantiateError::Link(ref m) if m.contains("incompatible import type")));
    let bytes = wat::parse_str(r#"(module (import "x" "m" (memory i64 1)))"#).unwrap();
    let module = s.compile(&bytes).unwrap();
    assert!(s.instantiate(&module, &[m]).is_ok());
}

#[test]
fn extended_constant_expressions() {
    let (mut s, i) = setup_3_0(
        10,
        r#"(module
            (global $base i32 (i32.const 100))
            (global $g (export "g") i32 (i32.sub (i32.mul (global.get $base) (i32.const 3)) (i32.const 1)))
            (global $h (export "h") i64 (i64.add (i64.const -1) (i64.mul (i64.const 2) (i64.const 4))))
            (memory 1)
            (data (offset (i32.add (global.get $base) (i32.const 2))) "\05")
            (func (export "at") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    );
    let global = |s: &Store, name| match s.export(i, name) {
        Some(Extern::Global(g)) => s.global_get(g),
        other => panic!("{other:?}"),
    };
    assert_eq!(global(&s, "g"), Value::I32(299));
    assert_eq!(global(&s, "h"), Value::I64(7));
    assert_eq!(call1(&mut s, i, "at", &[Value::I32(102)]), Value::I32(5));
}
