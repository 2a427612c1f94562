//! Unit tests: modules are written in the text format and run end to end.

use crate::*;

fn instantiate(store: &mut Store, wat: &str) -> InstanceAddr {
    let bytes = wat::parse_str(wat).expect("wat");
    let module = store.compile(&bytes).expect("compile");
    store.instantiate(&module, &[]).expect("instantiate")
}

fn setup(wat: &str) -> (Store, InstanceAddr) {
    let mut store = Store::new(Config::default());
    let inst = instantiate(&mut store, wat);
    (store, inst)
}

fn func(store: &Store, inst: InstanceAddr, name: &str) -> FuncAddr {
    match store.export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

/// How many of export `name`'s translated instructions satisfy `p`: the tests of the
/// translator's fused instructions check that a pattern became the instruction meant for it.
fn count_instrs(
    store: &Store,
    inst: InstanceAddr,
    name: &str,
    p: fn(&crate::instr::Instr) -> bool,
) -> usize {
    let crate::instance::FuncKind::Wasm { code, .. } =
        &store.funcs[func(store, inst, name).0 as usize].kind
    else {
        panic!("{name} is a wasm function");
    };
    code.instrs.iter().filter(|x| p(x)).count()
}

fn call(
    store: &mut Store,
    inst: InstanceAddr,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, CallError> {
    let f = func(store, inst, name);
    store.invoke(f, args)
}

fn call1(store: &mut Store, inst: InstanceAddr, name: &str, args: &[Value]) -> Value {
    let r = call(store, inst, name, args).expect("no trap");
    assert_eq!(r.len(), 1);
    r[0]
}

fn trap(store: &mut Store, inst: InstanceAddr, name: &str, args: &[Value]) -> Trap {
    trapped(call(store, inst, name, args))
}

/// The trap a call ended with.
fn trapped(r: Result<Vec<Value>, CallError>) -> Trap {
    match r {
        Err(CallError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

const F32_CANON: u32 = 0x7fc0_0000;
const F64_CANON: u64 = 0x7ff8_0000_0000_0000;

#[test]
fn integer_division_and_remainder() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
            (func (export "div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
            (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
            (func (export "rem_s64") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
            (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1))))"#,
    );
    let min = Value::I32(0x8000_0000);
    let m1 = Value::I32(u32::MAX);
    assert_eq!(
        trap(&mut s, i, "div_s", &[min, m1]).kind,
        TrapKind::IntegerOverflow
    );
    assert!(
        trap(&mut s, i, "div_s", &[min, m1])
            .message
            .contains("integer overflow")
    );
    let t = trap(&mut s, i, "div_u", &[Value::I32(1), Value::I32(0)]);
    assert_eq!(t.kind, TrapKind::IntegerDivideByZero);
    assert_eq!(t.message, "integer divide by zero");
    assert_eq!(call1(&mut s, i, "rem_s", &[min, m1]), Value::I32(0));
    assert_eq!(
        call1(
            &mut s,
            i,
            "rem_s",
            &[Value::I32(-7i32 as u32), Value::I32(2)]
        ),
        Value::I32(-1i32 as u32)
    );
    assert_eq!(
        call1(
            &mut s,
            i,
            "div_s",
            &[Value::I32(-7i32 as u32), Value::I32(2)]
        ),
        Value::I32(-3i32 as u32)
    );
    assert_eq!(
        call1(
            &mut s,
            i,
            "rem_s64",
            &[Value::I64(i64::MIN as u64), Value::I64(u64::MAX)]
        ),
        Value::I64(0)
    );
    let t = trap(
        &mut s,
        i,
        "div_s64",
        &[Value::I64(i64::MIN as u64), Value::I64(u64::MAX)],
    );
    assert_eq!(t.kind, TrapKind::IntegerOverflow);
}

#[test]
fn float_nan_propagation_and_min_max() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
            (func (export "min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
            (func (export "max") (param f32 f32) (result f32) (f32.max (local.get 0) (local.get 1)))
            (func (export "min64") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
            (func (export "max64") (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1)))
            (func (export "sub64") (param f64 f64) (result f64) (f64.sub (local.get 0) (local.get 1)))
            (func (export "neg") (param f32) (result f32) (f32.neg (local.get 0)))
            (func (export "abs64") (param f64) (result f64) (f64.abs (local.get 0)))
            (func (export "copysign") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1))))"#,
    );
    let one = Value::F32(1.0f32.to_bits());
    // A signalling NaN operand comes back quieted, payload kept.
    let snan = Value::F32(0x7fa0_0001);
    assert_eq!(
        call1(&mut s, i, "add", &[snan, one]),
        Value::F32(0x7fe0_0001)
    );
    assert_eq!(
        call1(&mut s, i, "add", &[one, Value::F32(0xffa0_0000)]),
        Value::F32(0xffe0_0000)
    );
    // inf - inf produces the canonical NaN.
    let inf = Value::F64(f64::INFINITY.to_bits());
    assert_eq!(
        call1(&mut s, i, "sub64", &[inf, inf]),
        Value::F64(F64_CANON)
    );
    // -0 is below +0.
    let pz = Value::F32(0);
    let nz = Value::F32(0x8000_0000);
    assert_eq!(call1(&mut s, i, "min", &[pz, nz]), nz);
    assert_eq!(call1(&mut s, i, "min", &[nz, pz]), nz);
    assert_eq!(call1(&mut s, i, "max", &[pz, nz]), pz);
    assert_eq!(call1(&mut s, i, "max", &[nz, pz]), pz);
    assert_eq!(
        call1(&mut s, i, "min64", &[Value::F64(0), Value::F64(1 << 63)]),
        Value::F64(1 << 63)
    );
    assert_eq!(
        call1(&mut s, i, "max64", &[Value::F64(1 << 63), Value::F64(0)]),
        Value::F64(0)
    );
    // NaN propagates through min/max.
    assert_eq!(
        call1(&mut s, i, "min", &[one, Value::F32(F32_CANON)]),
        Value::F32(F32_CANON)
    );
    assert_eq!(
        call1(&mut s, i, "max", &[Value::F32(0x7f80_0001), one]),
        Value::F32(0x7fc0_0001)
    );
    // Sign operations are bitwise, also on NaN.
    assert_eq!(
        call1(&mut s, i, "neg", &[Value::F32(0x7fa0_0000)]),
        Value::F32(0xffa0_0000)
    );
    assert_eq!(
        call1(&mut s, i, "abs64", &[Value::F64(0xfff0_0000_0000_0001)]),
        Value::F64(0x7ff0_0000_0000_0001)
    );
    assert_eq!(
        call1(&mut s, i, "copysign", &[one, nz]),
        Value::F32((-1.0f32).to_bits())
    );
}

#[test]
fn nearest_rounds_half_to_even() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
            (func (export "nearest32") (param f32) (result f32) (f32.nearest (local.get 0))))"#,
    );
    for (x, want) in [
        (0.5, 0.0),
        (1.5, 2.0),
        (2.5, 2.0),
        (-0.5, -0.0),
        (-2.5, -2.0),
        (4.7, 5.0),
    ] {
        let got = call1(&mut s, i, "nearest", &[Value::F64(f64::to_bits(x))]);
        assert_eq!(got, Value::F64(f64::to_bits(want)), "nearest({x})");
    }
    let got = call1(&mut s, i, "nearest32", &[Value::F32((-3.5f32).to_bits())]);
    assert_eq!(got, Value::F32((-4.0f32).to_bits()));
}

#[test]
fn float_to_int_traps_and_saturates() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "t32s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
            (func (export "t32u") (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
            (func (export "t64s") (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
            (func (export "sat32s") (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0)))
            (func (export "sat64u") (param f64) (result i64) (i64.trunc_sat_f64_u (local.get 0))))"#,
    );
    let f32v = |x: f32| Value::F32(x.to_bits());
    let f64v = |x: f64| Value::F64(x.to_bits());
    let t = trap(&mut s, i, "t32s", &[Value::F32(F32_CANON)]);
    assert_eq!(t.kind, TrapKind::InvalidConversionToInteger);
    assert_eq!(t.message, "invalid conversion to integer");
    assert_eq!(
        trap(&mut s, i, "t32s", &[f32v(2147483648.0)]).kind,
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        call1(&mut s, i, "t32s", &[f32v(-2147483648.0)]),
        Value::I32(0x8000_0000)
    );
    assert_eq!(
        call1(&mut s, i, "t32s", &[f32v(-1.9)]),
        Value::I32(-1i32 as u32)
    );
    assert_eq!(call1(&mut s, i, "t32u", &[f64v(-0.9)]), Value::I32(0));
    assert_eq!(
        call1(&mut s, i, "t32u", &[f64v(4294967295.9)]),
        Value::I32(u32::MAX)
    );
    assert_eq!(
        trap(&mut s, i, "t32u", &[f64v(4294967296.0)]).kind,
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        trap(&mut s, i, "t32u", &[f64v(-1.0)]).kind,
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        call1(&mut s, i, "t64s", &[f64v(-9223372036854775808.0)]),
        Value::I64(i64::MIN as u64)
    );
    assert_eq!(
        trap(&mut s, i, "t64s", &[f64v(9223372036854775808.0)]).kind,
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        call1(&mut s, i, "sat32s", &[f32v(1e10)]),
        Value::I32(i32::MAX as u32)
    );
    assert_eq!(
        call1(&mut s, i, "sat32s", &[f32v(-1e10)]),
        Value::I32(i32::MIN as u32)
    );
    assert_eq!(
        call1(&mut s, i, "sat32s", &[Value::F32(F32_CANON)]),
        Value::I32(0)
    );
    assert_eq!(call1(&mut s, i, "sat64u", &[f64v(-5.0)]), Value::I64(0));
    assert_eq!(
        call1(&mut s, i, "sat64u", &[f64v(f64::INFINITY)]),
        Value::I64(u64::MAX)
    );
}

#[test]
fn conversions_round_and_keep_nan_payloads() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "i64_to_f32") (param i64) (result f32) (f32.convert_i64_s (local.get 0)))
            (func (export "u64_to_f32") (param i64) (result f32) (f32.convert_i64_u (local.get 0)))
            (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
            (func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0))))"#,
    );
    // 2^24 + 1 is exactly halfway between two f32s: ties to even.
    assert_eq!(
        call1(&mut s, i, "i64_to_f32", &[Value::I64(16777217)]),
        Value::F32(16777216.0f32.to_bits())
    );
    // A value just above a halfway point must round up (no double rounding through f64).
    assert_eq!(
        call1(
            &mut s,
            i,
            "i64_to_f32",
            &[Value::I64(0x0020_0000_2000_0001)]
        ),
        Value::F32(9007200328482816.0f32.to_bits())
    );
    assert_eq!(
        call1(&mut s, i, "u64_to_f32", &[Value::I64(u64::MAX)]),
        Value::F32(18446744073709551616.0f32.to_bits())
    );
    assert_eq!(
        call1(&mut s, i, "demote", &[Value::F64(F64_CANON)]),
        Value::F32(F32_CANON)
    );
    assert_eq!(
        call1(&mut s, i, "demote", &[Value::F64(0xfff8_0000_0000_0000)]),
        Value::F32(0xffc0_0000)
    );
    assert_eq!(
        call1(&mut s, i, "promote", &[Value::F32(F32_CANON)]),
        Value::F64(F64_CANON)
    );
    assert_eq!(
        call1(&mut s, i, "promote", &[Value::F32(0x7fa0_0000)]),
        Value::F64(0x7ffc_0000_0000_0000)
    );
}

#[test]
fn memory_bounds_and_grow() {
    let (mut s, i) = setup(
        r#"(module
            (memory (export "mem") 1 2)
            (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
            (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    assert_eq!(
        call1(&mut s, i, "load", &[Value::I32(65528)]),
        Value::I32(0)
    );
    let t = trap(&mut s, i, "load", &[Value::I32(65529)]);
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    assert_eq!(t.message, "out of bounds memory access");
    // The effective address does not wrap around.
    assert_eq!(
        trap(&mut s, i, "load", &[Value::I32(u32::MAX)]).kind,
        TrapKind::OutOfBoundsMemoryAccess
    );
    call(
        &mut s,
        i,
        "store",
        &[Value::I32(8), Value::I64(0x1122_3344_5566_7788)],
    )
    .unwrap();
    assert_eq!(
        call1(&mut s, i, "load", &[Value::I32(4)]),
        Value::I32(0x5566_7788)
    );
    assert_eq!(
        trap(
            &mut s,
            i,
            "fill",
            &[Value::I32(65535), Value::I32(1), Value::I32(2)]
        )
        .kind,
        TrapKind::OutOfBoundsMemoryAccess
    );
    assert_eq!(call1(&mut s, i, "grow", &[Value::I32(1)]), Value::I32(1));
    assert_eq!(
        call1(&mut s, i, "grow", &[Value::I32(1)]),
        Value::I32(u32::MAX)
    );
    let Some(Extern::Memory(m)) = s.export(i, "mem") else {
        panic!()
    };
    assert_eq!(s.memory_data(m).len(), 2 * 65536);
    assert_eq!(s.memory_data(m)[8], 0x88);
}

#[test]
fn tables_and_call_indirect() {
    let (mut s, i) = setup(
        r#"(module
            (type $ii (func (param i32) (result i32)))
            (type $v (func))
            (table $t 4 10 funcref)
            (table $e (export "ext") 2 externref)
            (elem (table $t) (i32.const 0) func $double $nop)
            (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
            (func $nop (type $v))
            (func (export "call") (param i32 i32) (result i32)
                (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
            (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
            (func (export "size") (result i32) (table.size $t))
            (func (export "set_ext") (param i32 externref) (table.set $e (local.get 0) (local.get 1)))
            (func (export "get_ext") (param i32) (result externref) (table.get $e (local.get 0))))"#,
    );
    assert_eq!(
        call1(&mut s, i, "call", &[Value::I32(0), Value::I32(21)]),
        Value::I32(42)
    );
    let t = trap(&mut s, i, "call", &[Value::I32(1), Value::I32(0)]);
    assert_eq!(t.kind, TrapKind::IndirectCallTypeMismatch);
    assert_eq!(t.message, "indirect call type mismatch");
    let t = trap(&mut s, i, "call", &[Value::I32(2), Value::I32(0)]);
    assert_eq!(t.kind, TrapKind::UninitializedElement);
    assert_eq!(t.message, "uninitialized element 2");
    let t = trap(&mut s, i, "call", &[Value::I32(4), Value::I32(0)]);
    assert_eq!(t.kind, TrapKind::UndefinedElement);
    assert_eq!(call1(&mut s, i, "grow", &[Value::I32(6)]), Value::I32(4));
    assert_eq!(
        call1(&mut s, i, "grow", &[Value::I32(1)]),
        Value::I32(u32::MAX)
    );
    assert_eq!(call1(&mut s, i, "size", &[]), Value::I32(10));
    call(
        &mut s,
        i,
        "set_ext",
        &[Value::I32(1), Value::ExternRef(Some(7))],
    )
    .unwrap();
    assert_eq!(
        call1(&mut s, i, "get_ext", &[Value::I32(1)]),
        Value::ExternRef(Some(7))
    );
    assert_eq!(
        call1(&mut s, i, "get_ext", &[Value::I32(0)]),
        Value::ExternRef(None)
    );
    let t = trap(&mut s, i, "get_ext", &[Value::I32(2)]);
    assert_eq!(t.kind, TrapKind::OutOfBoundsTableAccess);
    let Some(Extern::Table(ext)) = s.export(i, "ext") else {
        panic!()
    };
    assert_eq!(s.table_get(ext, 1), Some(Value::ExternRef(Some(7))));
}

#[test]
fn deep_recursion_exhausts_the_call_stack() {
    let (mut s, i) = setup(
        r#"(module
            (func $f (export "f") (param i64) (result i64)
                (i64.add (call $f (local.get 0)) (i64.const 1)))
            (func $even (export "even") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
                    (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
            (func $odd (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
                    (else (call $even (i32.sub (local.get 0) (i32.const 1)))))))"#,
    );
    let t = trap(&mut s, i, "f", &[Value::I64(0)]);
    assert_eq!(t.kind, TrapKind::CallStackExhausted);
    assert_eq!(t.message, "call stack exhausted");
    // The store is still usable afterwards, and moderate depth works.
    assert_eq!(call1(&mut s, i, "even", &[Value::I32(5000)]), Value::I32(1));
}

#[test]
fn loops_and_branch_tables() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "fac") (param i64) (result i64) (local i64)
                (local.set 1 (i64.const 1))
                (block $done
                    (loop $top
                        (br_if $done (i64.eqz (local.get 0)))
                        (local.set 1 (i64.mul (local.get 1) (local.get 0)))
                        (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                        (br $top)))
                (local.get 1))
            (func (export "switch") (param i32) (result i32)
                (block $d (block $c (block $b (block $a
                    (br_table $a $b $c $d (local.get 0)))
                    (return (i32.const 10)))
                    (return (i32.const 11)))
                    (return (i32.const 12)))
                (i32.const 13)))"#,
    );
    assert_eq!(
        call1(&mut s, i, "fac", &[Value::I64(20)]),
        Value::I64(2432902008176640000)
    );
    for (x, want) in [(0, 10), (1, 11), (2, 12), (3, 13), (100, 13)] {
        assert_eq!(
            call1(&mut s, i, "switch", &[Value::I32(x)]),
            Value::I32(want)
        );
    }
}

#[test]
fn multi_value_blocks() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "swap") (param i32 i32) (result i32 i32)
                (local.get 1) (local.get 0))
            (func (export "block_params") (result i32)
                (i32.const 1) (i32.const 2)
                (block (param i32 i32) (result i32) (i32.add))
                (i32.const 10)
                (i32.mul))
            (func (export "sum") (param $n i32) (result i32)
                (i32.const 0)
                (loop $l (param i32) (result i32)
                    (i32.add (local.get $n))
                    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                    (br_if $l (local.get $n))))
            (func (export "if_params") (param i32) (result i32)
                (i32.const 6) (i32.const 3)
                (if (param i32 i32) (result i32) (local.get 0)
                    (then (i32.sub))
                    (else (i32.mul))))
            (func (export "br_values") (result i32 i64)
                (i32.const 5)
                (block (param i32) (result i32 i64)
                    (drop) (i32.const 100) (i32.const 9) (i64.const 8)
                    (br_if 0 (i32.const 1))
                    unreachable))
            )"#,
    );
    let r = call(&mut s, i, "swap", &[Value::I32(1), Value::I32(2)]).unwrap();
    assert_eq!(r, vec![Value::I32(2), Value::I32(1)]);
    assert_eq!(call1(&mut s, i, "block_params", &[]), Value::I32(30));
    assert_eq!(call1(&mut s, i, "sum", &[Value::I32(5)]), Value::I32(15));
    assert_eq!(
        call1(&mut s, i, "if_params", &[Value::I32(1)]),
        Value::I32(3)
    );
    assert_eq!(
        call1(&mut s, i, "if_params", &[Value::I32(0)]),
        Value::I32(18)
    );
    let r = call(&mut s, i, "br_values", &[]).unwrap();
    assert_eq!(r, vec![Value::I32(9), Value::I64(8)]);
}

#[test]
fn branch_keeps_values_and_drops_the_rest() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "g") (param i32) (result i32)
                (i32.const 100)
                (block (result i32)
                    (i32.const 1) (i32.const 2) (i32.const 3)
                    (br_if 0 (local.get 0))
                    (drop) (drop))
                (i32.add)))"#,
    );
    assert_eq!(call1(&mut s, i, "g", &[Value::I32(1)]), Value::I32(103));
    assert_eq!(call1(&mut s, i, "g", &[Value::I32(0)]), Value::I32(101));
}

#[test]
fn instantiation_keeps_partial_segment_effects() {
    let mut s = Store::new(Config::default());
    let a = instantiate(
        &mut s,
        r#"(module (memory (export "mem") 1) (table (export "tab") 2 funcref)
            (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    );
    let Some(mem) = s.export(a, "mem") else {
        panic!()
    };
    let Some(tab) = s.export(a, "tab") else {
        panic!()
    };
    let bytes = wat::parse_str(
        r#"(module
            (import "a" "mem" (memory 1))
            (import "a" "tab" (table 2 funcref))
            (func $f)
            (elem (i32.const 0) $f)
            (elem (i32.const 1) $f $f)
            (data (i32.const 0) "hello"))"#,
    )
    .unwrap();
    let m = s.compile(&bytes).unwrap();
    let err = s.instantiate(&m, &[mem, tab]).unwrap_err();
    let InstantiateError::Trap(t) = err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TrapKind::OutOfBoundsTableAccess);
    let Extern::Table(tab) = tab else { panic!() };
    // The first element segment was applied, the data segment never ran.
    assert!(matches!(s.table_get(tab, 0), Some(Value::FuncRef(Some(_)))));
    assert_eq!(s.table_get(tab, 1), Some(Value::FuncRef(None)));
    assert_eq!(call1(&mut s, a, "peek", &[Value::I32(0)]), Value::I32(0));

    let bytes = wat::parse_str(
        r#"(module
            (import "a" "mem" (memory 1))
            (data (i32.const 0) "hi")
            (data (i32.const 65535) "xy"))"#,
    )
    .unwrap();
    let m = s.compile(&bytes).unwrap();
    let Err(InstantiateError::Trap(t)) = s.instantiate(&m, &[mem]) else {
        panic!()
    };
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    assert_eq!(
        call1(&mut s, a, "peek", &[Value::I32(1)]),
        Value::I32(u32::from(b'i'))
    );
}

#[test]
fn linking_checks_import_types() {
    let mut s = Store::new(Config::default());
    let g = s.alloc_global(ValType::I32, false, Value::I32(5));
    let mem = s.alloc_memory(Limits {
        min: 1,
        max: Some(2),
    });
    let f = s.alloc_host_func(
        FuncType {
            params: vec![ValType::I32],
            results: vec![ValType::I32],
        },
        Box::new(|args| match args {
            [Value::I32(x)] => Ok(vec![Value::I32(x + 1)]),
            _ => Err(Trap::host("bad args")),
        }),
    );
    let bad = s.alloc_host_func(
        FuncType {
            params: vec![],
            results: vec![ValType::I32],
        },
        Box::new(|_| Ok(vec![Value::I64(1)])),
    );
    let wat = r#"(module
        (import "h" "f" (func $f (param i32) (result i32)))
        (import "h" "g" (global $g i32))
        (import "h" "m" (memory 1 3))
        (func (export "run") (result i32) (call $f (global.get $g))))"#;
    let m = s.compile(&wat::parse_str(wat).unwrap()).unwrap();
    assert_eq!(m.imports().len(), 3);
    let i = s
        .instantiate(
            &m,
            &[Extern::Func(f), Extern::Global(g), Extern::Memory(mem)],
        )
        .unwrap();
    assert_eq!(call1(&mut s, i, "run", &[]), Value::I32(6));
    // Wrong kind and wrong function type.
    let err = s
        .instantiate(
            &m,
            &[Extern::Global(g), Extern::Global(g), Extern::Memory(mem)],
        )
        .unwrap_err();
    assert!(
        matches!(&err, InstantiateError::Link(msg) if msg.contains("incompatible import type"))
    );
    let err = s
        .instantiate(
            &m,
            &[Extern::Func(bad), Extern::Global(g), Extern::Memory(mem)],
        )
        .unwrap_err();
    assert!(
        matches!(&err, InstantiateError::Link(msg) if msg.contains("incompatible import type"))
    );
    // Memory max 2 fits max 3; an unbounded memory does not.
    let unbounded = s.alloc_memory(Limits { min: 1, max: None });
    let err = s
        .instantiate(
            &m,
            &[
                Extern::Func(f),
                Extern::Global(g),
                Extern::Memory(unbounded),
            ],
        )
        .unwrap_err();
    assert!(matches!(err, InstantiateError::Link(_)));
    // A host function returning the wrong type traps instead of panicking.
    let t = trapped(s.invoke(bad, &[]));
    assert_eq!(t.kind, TrapKind::Host);
    // Wrong argument types are reported, not panicked on.
    let run = func(&s, i, "run");
    let t = trapped(s.invoke(run, &[Value::I32(1)]));
    assert_eq!(t.kind, TrapKind::Host);
}

#[test]
fn malformed_and_invalid_are_distinguished() {
    let s = Store::new(Config::default());
    assert!(matches!(
        s.compile(b"\0asm\x02\0\0\0"),
        Err(CompileError::Malformed(_))
    ));
    assert!(matches!(
        s.compile(b"\0asm\x01\0\0\0\x0d\x00"),
        Err(CompileError::Malformed(_))
    ));
    let invalid = wat::parse_str("(module (func (result i32) (i64.const 0)))").unwrap();
    assert!(matches!(s.compile(&invalid), Err(CompileError::Invalid(_))));
}

#[test]
fn bulk_memory_and_passive_segments() {
    let (mut s, i) = setup(
        r#"(module
            (memory 1)
            (data $d "abcdef")
            (table 4 funcref)
            (elem $e func $f $f)
            (func $f (result i32) (i32.const 42))
            (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
            (func (export "drop") (data.drop $d))
            (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "tinit") (param i32 i32 i32) (table.init $e (local.get 0) (local.get 1) (local.get 2)))
            (func (export "edrop") (elem.drop $e))
            (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#,
    );
    let v = |x: u32| Value::I32(x);
    call(&mut s, i, "init", &[v(10), v(1), v(3)]).unwrap();
    assert_eq!(call1(&mut s, i, "load", &[v(10)]), v(u32::from(b'b')));
    call(&mut s, i, "copy", &[v(11), v(10), v(3)]).unwrap();
    assert_eq!(call1(&mut s, i, "load", &[v(12)]), v(u32::from(b'c')));
    assert_eq!(
        trap(&mut s, i, "init", &[v(0), v(4), v(3)]).kind,
        TrapKind::OutOfBoundsMemoryAccess
    );
    call(&mut s, i, "drop", &[]).unwrap();
    call(&mut s, i, "init", &[v(0), v(0), v(0)]).unwrap();
    assert_eq!(
        trap(&mut s, i, "init", &[v(0), v(0), v(1)]).kind,
        TrapKind::OutOfBoundsMemoryAccess
    );
    call(&mut s, i, "tinit", &[v(2), v(0), v(2)]).unwrap();
    assert_eq!(call1(&mut s, i, "call", &[v(3)]), v(42));
    call(&mut s, i, "edrop", &[]).unwrap();
    assert_eq!(
        trap(&mut s, i, "tinit", &[v(0), v(0), v(1)]).kind,
        TrapKind::OutOfBoundsTableAccess
    );
}

#[test]
fn start_function_trap_is_an_instantiation_error() {
    let mut s = Store::new(Config::default());
    let bytes = wat::parse_str("(module (func $s unreachable) (start $s))").unwrap();
    let m = s.compile(&bytes).unwrap();
    let Err(InstantiateError::Trap(t)) = s.instantiate(&m, &[]) else {
        panic!()
    };
    assert_eq!(t.kind, TrapKind::Unreachable);
}

#[test]
fn fuel_bounds_infinite_loops() {
    let (mut s, i) =
        setup(r#"(module (func (export "spin") (loop (br 0))) (func (export "nop")))"#);
    s.set_fuel(Some(1000));
    let t = trap(&mut s, i, "spin", &[]);
    assert_eq!(t.kind, TrapKind::Host);
    assert!(t.message.contains("all fuel consumed"));
    assert_eq!(s.fuel(), Some(0));
    s.set_fuel(None);
    call(&mut s, i, "nop", &[]).unwrap();
}

/// A `br_if` fused into a jump (`Instr::JumpIfCmp`) uses the fuel of a taken branch, and an
/// `if` fused into one (`Instr::JumpUnlessCmp`) none, as the unfused rules do (a `nop`
/// between the halves keeps them apart).
#[test]
fn fused_jumps_use_the_fuel_of_the_unfused_rules() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "fused") (param $n i32) (local $i i32)
              (loop $l
                (if (i32.lt_u (local.get $i) (i32.const 3)) (then (nop)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
            (func (export "apart") (param $n i32) (local $i i32)
              (loop $l
                local.get $i
                i32.const 3
                i32.lt_u
                nop
                if nop end
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                local.get $i
                local.get $n
                i32.lt_u
                nop
                br_if $l)))"#,
    );
    let mut used = |name: &str, n: u32| {
        s.set_fuel(Some(1000));
        call(&mut s, i, name, &[Value::I32(n)]).unwrap();
        1000 - s.fuel().unwrap_or(0)
    };
    for n in [0, 1, 5, 40] {
        assert_eq!(used("fused", n), used("apart", n), "n = {n}");
    }
    let fused = used("fused", 40);
    assert!(fused >= 39, "{fused}: one unit per taken branch");
    s.set_fuel(Some(10));
    let t = trap(&mut s, i, "fused", &[Value::I32(40)]);
    assert!(t.message.contains("all fuel consumed"));
    let crate::instance::FuncKind::Wasm { code, .. } =
        &s.funcs[func(&s, i, "fused").0 as usize].kind
    else {
        panic!("fused is a wasm function");
    };
    use crate::instr::Instr;
    assert!(
        code.instrs
            .iter()
            .any(|x| matches!(x, Instr::JumpIfCmp(..)))
    );
    assert!(
        code.instrs
            .iter()
            .any(|x| matches!(x, Instr::JumpUnlessCmp(..)))
    );
}

#[test]
fn memory_can_grow_to_four_gib_lazily() {
    let (mut s, i) = setup(
        r#"(module (memory 0)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    );
    assert_eq!(call1(&mut s, i, "grow", &[Value::I32(1)]), Value::I32(0));
    call(&mut s, i, "store", &[Value::I32(7), Value::I32(9)]).unwrap();
    assert_eq!(
        call1(&mut s, i, "grow", &[Value::I32(65536)]),
        Value::I32(u32::MAX)
    );
    // Growing to the full 4 GiB may fail on a small machine; either answer is allowed.
    let r = call1(&mut s, i, "grow", &[Value::I32(65535)]);
    assert!(r == Value::I32(1) || r == Value::I32(u32::MAX));
    assert_eq!(call1(&mut s, i, "load", &[Value::I32(7)]), Value::I32(9));
    if r == Value::I32(1) {
        assert_eq!(
            call1(&mut s, i, "load", &[Value::I32(u32::MAX)]),
            Value::I32(0)
        );
    }
}

#[test]
fn config_without_simd_rejects_simd() {
    let s = Store::new(Config {
        features: WasmFeatures::WASM2.difference(WasmFeatures::SIMD),
        max_call_depth: 100,
        ..Config::default()
    });
    // An opcode of a disabled proposal does not exist: malformed. A SIMD type alone is invalid.
    let bytes = wat::parse_str("(module (func (result v128) (v128.const i64x2 0 0)))").unwrap();
    assert!(matches!(s.compile(&bytes), Err(CompileError::Malformed(_))));
    let bytes = wat::parse_str("(module (func (param v128)))").unwrap();
    assert!(matches!(s.compile(&bytes), Err(CompileError::Invalid(_))));
}

#[test]
fn v128_values_keep_all_128_bits_everywhere() {
    // Through params, results, locals, globals, select, branches, calls and memory.
    let (mut s, i) = setup(
        r#"(module
            (memory (export "mem") 1)
            (global $g (export "g") (mut v128) (v128.const i64x2 0x1111 0x2222))
            (func $id (param v128) (result v128) (local.get 0))
            (func (export "roundtrip") (param v128 i32) (result v128)
                (local $l v128)
                (local.set $l (call $id (local.get 0)))
                (global.set $g (local.get $l))
                (v128.store (i32.const 16) (global.get $g))
                (block (result v128)
                    (br_if 0 (v128.load (i32.const 16)) (local.get 1))
                    (drop)
                    (select (v128.const i32x4 1 2 3 4) (local.get $l) (i32.const 0))))
            (func (export "lane") (param v128) (result i64)
                (i64x2.extract_lane 1 (local.get 0))))"#,
    );
    let v = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
    let r = call1(&mut s, i, "roundtrip", &[Value::V128(v), Value::I32(1)]);
    assert_eq!(r, Value::V128(v));
    let r = call1(&mut s, i, "roundtrip", &[Value::V128(v), Value::I32(0)]);
    assert_eq!(r, Value::V128(v));
    let Some(Extern::Global(g)) = s.export(i, "g") else {
        panic!("global export")
    };
    assert_eq!(s.global_get(g), Value::V128(v));
    let Some(Extern::Memory(m)) = s.export(i, "mem") else {
        panic!("memory export")
    };
    assert_eq!(s.memory_data(m)[16..32], v.to_le_bytes());
    let r = call1(&mut s, i, "lane", &[Value::V128(v)]);
    assert_eq!(r, Value::I64(0x0123_4567_89ab_cdef));
}

#[test]
fn simd_out_of_bounds_traps() {
    let (mut s, i) = setup(
        r#"(module (memory 1)
            (func (export "load") (param i32) (result v128) (v128.load offset=1 (local.get 0)))
            (func (export "store_lane") (param i32)
                (v128.store64_lane 1 (local.get 0) (v128.const i64x2 0 0))))"#,
    );
    assert_eq!(
        call1(&mut s, i, "load", &[Value::I32(65536 - 17)]),
        Value::V128(0)
    );
    let t = trap(&mut s, i, "load", &[Value::I32(65536 - 16)]);
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    assert!(t.to_string().contains("out of bounds memory access"));
    call(&mut s, i, "store_lane", &[Value::I32(65536 - 8)]).unwrap();
    let t = trap(&mut s, i, "store_lane", &[Value::I32(65536 - 7)]);
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
}

#[test]
fn foreign_function_references_do_not_panic() {
    let (mut s, i) = setup(
        r#"(module
            (table $t (export "t") 1 funcref)
            (func (export "set") (param funcref) (table.set $t (i32.const 0) (local.get 0)))
            (func (export "call") (call_indirect $t (i32.const 0))))"#,
    );
    call(&mut s, i, "set", &[Value::FuncRef(Some(FuncAddr(123_456)))]).unwrap();
    let t = trap(&mut s, i, "call", &[]);
    assert_eq!(t.kind, TrapKind::Host);
}

#[test]
fn half_a_million_nested_calls_do_not_touch_the_rust_stack() {
    let mut s = Store::new(Config {
        max_call_depth: 1_000_000,
        ..Config::default()
    });
    let i = instantiate(
        &mut s,
        r#"(module
            (func $down (export "down") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0))
                    (then (i32.const 0))
                    (else (i32.add (i32.const 1)
                        (call $down (i32.sub (local.get 0) (i32.const 1))))))))"#,
    );
    assert_eq!(
        call1(&mut s, i, "down", &[Value::I32(500_000)]),
        Value::I32(500_000)
    );
    let t = trap(&mut s, i, "down", &[Value::I32(1_000_000)]);
    assert_eq!(t.kind, TrapKind::CallStackExhausted);
}

/// A store validating and executing every Wasm 3.0 feature, with a call depth of `depth`.
fn store_3_0(depth: usize) -> Store {
    Store::new(Config {
        features: WasmFeatures::WASM3,
        max_call_depth: depth,
        ..Config::default()
    })
}

fn setup_3_0(depth: usize, wat: &str) -> (Store, InstanceAddr) {
    let mut store = store_3_0(depth);
    let inst = instantiate(&mut store, wat);
    (store, inst)
}

mod canonical_nans;
mod exceptions;
mod func_refs;
mod gc;
mod host_caller;
mod memory64;
mod relaxed_simd;
mod tail_calls;

/// The fused pairs of the pre-pass (`instr.rs`, "Fused pairs"): fused where the pair is
/// straight-line code, left apart where a label lies between its halves (the loop's start,
/// a block's end, an `else`), and in every case computing what the unfused rules compute.
#[test]
fn fused_pairs_never_span_a_label() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "count") (param $n i32) (result i32) (local $i i32) (local $j i32)
              (local.set $i (i32.const 0))
              (loop $l
                (local.get $i) (i32.const 1) (i32.add) (local.set $i)
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
              (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)))
            (func (export "count_by") (param $n i32) (result i32) (local $i i32) (local $j i32)
              (local.set $i (i32.const 0))
              (loop $l
                (local.set $i (i32.add (i32.mul (local.get $j) (local.get $n)) (i32.const 1)))
                (local.set $j (i32.add (i32.clz (local.get $j)) (local.get $i)))
                (br_if $l (i32.lt_u (local.get $j) (i32.const 100))))
              (local.get $i))
            (func (export "pick") (param $c i32) (result i32) (local $x i32)
              (local.set $x (i32.const 7))
              (block $b
                (br_if $b (local.get $c))
                (local.set $x (i32.const 9)))
              (local.get $x)
              (if (result i32) (local.get $c)
                (then (local.set $x (i32.const 1)) (local.get $x))
                (else (local.get $x)))
              (i32.add))
            (func (export "until") (param $n i32) (result i32) (local $i i32)
              (block $out
                (loop $l
                  (local.set $i (i32.add (local.get $i) (i32.const 3)))
                  (br_if $out (i32.eqz (i32.lt_u (local.get $i) (local.get $n))))
                  (br_if $l (i32.eqz (i32.eqz (local.get $n))))))
              (local.get $i)))"#,
    );
    // count(n) = i * n + j with i = n and j = 1 + 2 + ... + n.
    assert_eq!(call1(&mut s, i, "count", &[Value::I32(5)]), Value::I32(40));
    assert_eq!(call1(&mut s, i, "count", &[Value::I32(1)]), Value::I32(2));
    // pick(c): c != 0 keeps x = 7 and adds 1; c = 0 sets x = 9 and adds it again.
    assert_eq!(call1(&mut s, i, "pick", &[Value::I32(1)]), Value::I32(8));
    assert_eq!(call1(&mut s, i, "pick", &[Value::I32(0)]), Value::I32(18));
    // until(n): the first multiple of 3 that is at least n (both `br_if`s are fused, the first
    // one is a forward branch patched at the block's end).
    assert_eq!(call1(&mut s, i, "until", &[Value::I32(10)]), Value::I32(12));
    assert_eq!(call1(&mut s, i, "until", &[Value::I32(0)]), Value::I32(3));

    // count_by(n): i = j * n + 1, j = clz(j) + i until j >= 100 (from j = 0), then i.
    let count_by = |s: &mut Store, n: u32| call1(s, i, "count_by", &[Value::I32(n)]);
    assert_eq!(count_by(&mut s, 10), Value::I32(331));
    assert_eq!(count_by(&mut s, 1), Value::I32(88));
    assert_eq!(count_by(&mut s, 3), Value::I32(100));

    // The pre-pass did fuse in `count`: `i += 1` (a local and a constant, the result set to
    // a local), `j = j + i` (both operands locals, the result set to a local), the loop's
    // test (a comparison of two locals and the branch) and the final `i * n` (both operands
    // locals).
    use crate::instr::{BinOp, Cmp, Instr, IntOp, Rhs};
    let code_of = |name: &str| {
        let crate::instance::FuncKind::Wasm { code, .. } =
            &s.funcs[func(&s, i, name).0 as usize].kind
        else {
            panic!("{name} is a wasm function");
        };
        code.instrs.clone()
    };
    let code = code_of("count");
    let has = |p: fn(&Instr) -> bool| code.iter().any(p);
    assert!(has(|x| matches!(
        x,
        Instr::I32BinLocalConstTo(IntOp::Add, 1, 1, 1)
    )));
    assert!(has(|x| matches!(
        x,
        Instr::BinLocalsTo(BinOp::I32Add, 2, 1, 2)
    )));
    assert!(has(|x| matches!(
        x,
        Instr::JumpIfCmp(Cmp::I32LtU, Rhs::Local, 1, 0, _)
    )));
    assert!(has(|x| matches!(x, Instr::BinLocals(BinOp::I32Mul, 1, 0))));
    // ... but not across the loop's label: the `local.set $i` before it is fused only with
    // its constant.
    assert!(has(|x| matches!(x, Instr::LocalSetConst(1, 0))));
    assert!(!has(|x| matches!(x, Instr::LocalSetGet(1, 1))));
    // In `count_by`: a constant right operand of the result of another rule, a `local.set`
    // and the `local.get` after it, a local right operand set to a local, and a local compared
    // with a constant.
    let code = code_of("count_by");
    let has = |p: fn(&Instr) -> bool| code.iter().any(p);
    assert!(has(|x| matches!(x, Instr::I32AddConst(1))));
    assert!(has(|x| matches!(x, Instr::LocalSetGet(1, 2))));
    assert!(has(|x| matches!(x, Instr::BinLocalTo(BinOp::I32Add, 1, 2))));
    assert!(has(|x| matches!(
        x,
        Instr::JumpIfCmp(Cmp::I32LtU, Rhs::Const, 2, 100, _)
    )));
    let crate::instance::FuncKind::Wasm { code, .. } =
        &s.funcs[func(&s, i, "until").0 as usize].kind
    else {
        panic!("until is a wasm function");
    };
    let fused = code
        .instrs
        .iter()
        .filter(|x| matches!(x, Instr::BrIfEqz(_)));
    assert_eq!(fused.count(), 2);
}

/// A comparison followed by `br_if` is one `BrIfCmp` (backward and forward branches), followed
/// by `if` one `BrUnlessCmp`, and computes what the two rules compute (signed and unsigned,
/// `i32` and `i64`).
#[test]
fn compare_and_br_if_fuse() {
    use crate::instr::Instr;
    let (mut s, i) = setup(
        r#"(module
            (func (export "sum_from_minus_3") (param $n i32) (result i32)
              (local $i i32) (local $s i32)
              (local.set $i (i32.const -3))
              (block $done
                (loop $l
                  (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
                  (local.set $s (i32.add (local.get $s) (local.get $i)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $l)))
              (local.get $s))
            (func (export "max_s") (param $a i32) (param $b i32) (result i32)
              (if (result i32) (i32.gt_s (local.get $a) (local.get $b))
                (then (local.get $a))
                (else (local.get $b))))
            (func (export "cmp64") (param $a i64) (param $b i64) (result i32)
              (block $lt (br_if $lt (i64.lt_s (local.get $a) (local.get $b)))
                (return (i32.const 0)))
              (block $ltu (br_if $ltu (i64.lt_u (local.get $a) (local.get $b)))
                (return (i32.const 1)))
              (i32.const 2))
            (func (export "below") (param $a i32) (param $b i32) (result i32)
              ;; Branches that move operands (a value to keep, a value to drop), an operand
              ;; that is no local, a signed comparison with a negative constant, `if` on one.
              (block $keep (result i32)
                (i32.const 10)
                (br_if $keep (i32.lt_s (local.get $a) (local.get $b)))
                (drop)
                (block $drop
                  (i32.const 5)
                  (br_if $drop (i32.ge_u (local.get $a) (i32.const 7)))
                  (drop)
                  (br_if $drop (i32.gt_s (i32.add (local.get $a) (i32.const 1)) (i32.const 5)))
                  (if (i32.le_s (local.get $b) (i32.const -2))
                    (then (return (i32.const 3))))
                  (return (i32.const 4)))
                (i32.const 6)))
            (func (export "flag") (param $a i32) (result i32)
              (i32.add (i32.lt_s (local.get $a) (i32.const -1))
                       (i32.shl (i32.ge_u (local.get $a) (local.get $a)) (i32.const 1)))))"#,
    );
    // below(a, b): 10 if a < b (signed); else 6 if a >= 7 (unsigned, the 5 dropped), else 6
    // if a + 1 > 5 (signed), else 3 if b <= -2 (signed), else 4.
    let below = |s: &mut Store, a: i32, b: i32| {
        call1(s, i, "below", &[Value::I32(a as u32), Value::I32(b as u32)])
    };
    for (a, b, r) in [
        (-5, 2, 10),
        (-1, -3, 6),
        (7, 1, 6),
        (6, 1, 6),
        (5, 2, 6),
        (3, -3, 3),
        (3, -2, 3),
        (3, -1, 4),
        (0, 0, 4),
    ] {
        assert_eq!(below(&mut s, a, b), Value::I32(r), "below({a}, {b})");
    }
    // flag(a) = (a < -1) + 2 * (a >= a): pushed comparisons of a local and a constant or local.
    let flag = |s: &mut Store, a: i32| call1(s, i, "flag", &[Value::I32(a as u32)]);
    assert_eq!(flag(&mut s, -2), Value::I32(3));
    assert_eq!(flag(&mut s, -1), Value::I32(2));
    assert_eq!(flag(&mut s, 9), Value::I32(2));
    let sum = |s: &mut Store, n: i32| call1(s, i, "sum_from_minus_3", &[Value::I32(n as u32)]);
    assert_eq!(sum(&mut s, 2), Value::I32(-5i32 as u32));
    assert_eq!(sum(&mut s, -5), Value::I32(0));
    let cmp = |s: &mut Store, a: i64, b: i64| {
        call1(s, i, "cmp64", &[Value::I64(a as u64), Value::I64(b as u64)])
    };
    assert_eq!(cmp(&mut s, -1, 0), Value::I32(1));
    assert_eq!(cmp(&mut s, 0, -1), Value::I32(0));
    assert_eq!(cmp(&mut s, 1, 2), Value::I32(2));
    let max = |s: &mut Store, a: i32, b: i32| {
        call1(s, i, "max_s", &[Value::I32(a as u32), Value::I32(b as u32)])
    };
    assert_eq!(max(&mut s, -1, 2), Value::I32(2));
    assert_eq!(max(&mut s, 3, -4), Value::I32(3));
    // Comparisons of locals are jumps (`br_if`s that move no operand, `if`s); the others are
    // `CmpLocal` and a plain branch, or a comparison fused with the branch after it.
    let count = |name: &str, p: fn(&Instr) -> bool| count_instrs(&s, i, name, p);
    assert_eq!(
        count("sum_from_minus_3", |x| matches!(x, Instr::JumpIfCmp(..))),
        1
    );
    assert_eq!(count("max_s", |x| matches!(x, Instr::JumpUnlessCmp(..))), 1);
    assert_eq!(count("cmp64", |x| matches!(x, Instr::JumpIfCmp(..))), 2);
    assert_eq!(count("below", |x| matches!(x, Instr::JumpIfCmp(..))), 0);
    assert_eq!(count("below", |x| matches!(x, Instr::CmpLocal(..))), 2);
    assert_eq!(count("below", |x| matches!(x, Instr::BrIfCmp(..))), 1);
    assert_eq!(count("below", |x| matches!(x, Instr::JumpUnlessCmp(..))), 1);
    assert_eq!(count("flag", |x| matches!(x, Instr::CmpLocal(..))), 2);
}

/// A binary operation whose right operand, or both, are `local.get`s is one `BinLocal` or
/// `BinLocals` (integer and float, both widths), with a `local.set` of its result after it
/// one `BinLocalTo` or `BinLocalsTo`, never across a label, and computes what the
/// unfused rules compute: wrapping, shift counts modulo the width, the NaN rules (first NaN
/// operand quieted, canonical NaN otherwise) and `copysign` on a NaN. Division by zero is
/// not fused and still traps.
#[test]
fn binary_with_local_operands_fuses() {
    use crate::instr::{BinOp, Instr};
    let (mut s, i) = setup(
        r#"(module
            (func (export "i32") (param $a i32) (param $b i32) (result i32)
              (i32.sub (i32.const 0) (local.get $a))    ;; 0 - a
              (i32.shl (local.get $a) (local.get $b))   ;; a << (b mod 32)
              (i32.add)
              (i32.rotr (local.get $b) (local.get $a))  ;; b rotr a
              (i32.xor))
            (func (export "i64") (param $a i64) (param $b i64) (result i64)
              (i64.mul (local.get $a) (local.get $b))
              (i64.shr_s (local.get $b))
              (local.get $a)
              (i64.sub))
            (func (export "f64") (param $a f64) (param $b f64) (result f64)
              (f64.mul (local.get $a) (local.get $b))
              (f64.add (local.get $a))
              (f64.div (local.get $b)))
            (func (export "f32") (param $a f32) (param $b f32) (result f32)
              (f32.min (local.get $a) (local.get $b))
              (f32.copysign (local.get $b)))
            (func (export "to") (param $a i64) (param $b i64) (result i64) (local $c i64)
              (local.set $c (i64.rotl (local.get $a) (local.get $b)))  ;; c = a rotl b
              (local.set $b (i64.sub (local.get $c) (local.get $a)))   ;; b = c - a
              (local.set $a (i64.and (local.get $c) (local.get $b)))   ;; a = c & b
              (local.get $a)
              (block (local.set $c (i64.xor (local.get $a) (local.get $b))))
              (local.get $c)
              (i64.add))
            (func (export "f64to") (param $a f64) (param $b f64) (result f64)
              (local.set $a (f64.mul (f64.const 2) (local.get $a)))  ;; a = 2 * a
              (local.get $a))
            (func (export "div") (param $a i32) (param $b i32) (result i32)
              (i32.div_u (local.get $a) (local.get $b)))
            (func (export "label") (param $a i32) (param $b i32) (result i32)
              (local.get $a)
              (block (result i32) (local.get $b))
              (i32.add)
              (local.get $a) (local.get $b)
              (loop (param i32 i32) (result i32) (i32.sub))
              (i32.add)))"#,
    );
    let i32s = |s: &mut Store, a: i32, b: i32| {
        call1(s, i, "i32", &[Value::I32(a as u32), Value::I32(b as u32)])
    };
    let i32_ref = |a: i32, b: i32| {
        (0i32.wrapping_sub(a).wrapping_add(a.wrapping_shl(b as u32)))
            ^ (b as u32).rotate_right(a as u32 % 32) as i32
    };
    for (a, b) in [(3, 5), (-7, 33), (i32::MIN, -1), (1, 0)] {
        assert_eq!(
            i32s(&mut s, a, b),
            Value::I32(i32_ref(a, b) as u32),
            "i32 {a} {b}"
        );
    }
    let i64s = |s: &mut Store, a: i64, b: i64| {
        call1(s, i, "i64", &[Value::I64(a as u64), Value::I64(b as u64)])
    };
    for (a, b) in [(3i64, 5i64), (-7, 65), (i64::MAX, 3)] {
        let r = a.wrapping_mul(b).wrapping_shr(b as u32).wrapping_sub(a);
        assert_eq!(i64s(&mut s, a, b), Value::I64(r as u64), "i64 {a} {b}");
    }
    let f64s = |s: &mut Store, a: u64, b: u64| call1(s, i, "f64", &[Value::F64(a), Value::F64(b)]);
    let (x, y) = (1.5f64, -0.25f64);
    let r = (x * y + x) / y;
    assert_eq!(
        f64s(&mut s, x.to_bits(), y.to_bits()),
        Value::F64(r.to_bits())
    );
    // A NaN operand comes out quieted (the first one), 0 * inf gives the canonical NaN.
    let snan = 0x7ff0_0000_0000_0001u64;
    assert_eq!(
        f64s(&mut s, snan, y.to_bits()),
        Value::F64(snan | 0x0008_0000_0000_0000)
    );
    assert_eq!(
        f64s(&mut s, 0.0f64.to_bits(), f64::INFINITY.to_bits()),
        Value::F64(0x7ff8_0000_0000_0000)
    );
    let f32s = |s: &mut Store, a: u32, b: u32| call1(s, i, "f32", &[Value::F32(a), Value::F32(b)]);
    // min(-0, +0) = -0, copysign with +0 gives +0; a NaN keeps its payload, quieted, and
    // copysign's sign.
    assert_eq!(
        f32s(&mut s, (-0.0f32).to_bits(), 0.0f32.to_bits()),
        Value::F32(0.0f32.to_bits())
    );
    assert_eq!(
        f32s(&mut s, 0x7f80_0001, (-1.0f32).to_bits()),
        Value::F32(0xffc0_0001)
    );
    let to = |s: &mut Store, a: u64, b: u64| call1(s, i, "to", &[Value::I64(a), Value::I64(b)]);
    let to_ref = |a: u64, b: u64| {
        let c = a.rotate_left((b % 64) as u32);
        let b = c.wrapping_sub(a);
        let a = c & b;
        a.wrapping_add(a ^ b)
    };
    for (a, b) in [(0x1234_5678_9abc_def0, 68), (u64::MAX, 1), (3, 0)] {
        assert_eq!(to(&mut s, a, b), Value::I64(to_ref(a, b)), "to {a} {b}");
    }
    let f64to = |s: &mut Store, a: u64| call1(s, i, "f64to", &[Value::F64(a), Value::F64(0)]);
    assert_eq!(
        f64to(&mut s, 1.25f64.to_bits()),
        Value::F64(2.5f64.to_bits())
    );
    assert_eq!(
        f64to(&mut s, snan),
        Value::F64(snan | 0x0008_0000_0000_0000)
    );
    let div = call(&mut s, i, "div", &[Value::I32(1), Value::I32(0)]);
    assert!(div.is_err(), "division by zero still traps");
    let label = |s: &mut Store, a: i32, b: i32| {
        call1(s, i, "label", &[Value::I32(a as u32), Value::I32(b as u32)])
    };
    assert_eq!(label(&mut s, 10, 3), Value::I32(20));

    let code_of = |s: &Store, name: &str| {
        let crate::instance::FuncKind::Wasm { code, .. } =
            &s.funcs[func(s, i, name).0 as usize].kind
        else {
            panic!("{name} is a wasm function");
        };
        code.instrs.clone()
    };
    let code = code_of(&s, "i32");
    assert!(code.contains(&Instr::BinLocal(BinOp::I32Sub, 0)));
    assert!(code.contains(&Instr::BinLocals(BinOp::I32Shl, 0, 1)));
    assert!(code.contains(&Instr::BinLocals(BinOp::I32Rotr, 1, 0)));
    let code = code_of(&s, "f64");
    assert!(code.contains(&Instr::BinLocals(BinOp::F64Mul, 0, 1)));
    assert!(code.contains(&Instr::BinLocal(BinOp::F64Add, 0)));
    assert!(code.contains(&Instr::BinLocal(BinOp::F64Div, 1)));
    let code = code_of(&s, "f32");
    assert!(code.contains(&Instr::BinLocals(BinOp::F32Min, 0, 1)));
    assert!(code.contains(&Instr::BinLocal(BinOp::F32Copysign, 1)));
    let code = code_of(&s, "to");
    assert!(code.contains(&Instr::BinLocalsTo(BinOp::I64Rotl, 0, 1, 2)));
    assert!(code.contains(&Instr::BinLocalsTo(BinOp::I64Sub, 2, 0, 1)));
    assert!(code.contains(&Instr::BinLocalsTo(BinOp::I64And, 2, 1, 0)));
    // Inside the block (whose start leaves a label before its first instruction only).
    assert!(code.contains(&Instr::BinLocalsTo(BinOp::I64Xor, 0, 1, 2)));
    let code = code_of(&s, "f64to");
    assert!(code.contains(&Instr::BinLocalTo(BinOp::F64Mul, 0, 0)));
    let code = code_of(&s, "div");
    assert!(
        !code
            .iter()
            .any(|x| matches!(x, Instr::BinLocal(..) | Instr::BinLocals(..)))
    );
    // The `local.get`s before a block's end and before a loop's start stay apart from the
    // operation after the label.
    let code = code_of(&s, "label");
    assert!(
        !code
            .iter()
            .any(|x| matches!(x, Instr::BinLocal(..) | Instr::BinLocals(..)))
    );
}

/// A tail call into another instance's function: when it returns (or throws past it), its
/// caller continues in the caller's own instance, also after several tail calls across
/// instances. Once, the frame below kept the tail callee's instance current, so the caller
/// read the other instance's global.
#[test]
fn tail_call_into_another_instance_returns_to_the_callers_instance() {
    let mut s = store_3_0(1000);
    let x = instantiate(
        &mut s,
        r#"(module (global $g i32 (i32.const 2))
             (tag $e (export "e"))
             (func (export "c") (result i32) (global.get $g))
             (func (export "t") (result i32) (throw $e)))"#,
    );
    let c = func(&s, x, "c");
    let t = func(&s, x, "t");
    let Some(Extern::Tag(e)) = s.export(x, "e") else {
        panic!("tag export")
    };
    let bytes = wat::parse_str(
        r#"(module (import "x" "c" (func $c (result i32)))
             (import "x" "t" (func $t (result i32)))
             (import "x" "e" (tag $e))
             (global $g i32 (i32.const 1))
             (func $b (result i32) (return_call $c))
             (func $here (result i32) (return_call $b))
             (func $throws (result i32) (return_call $t))
             (func (export "a") (result i32) (call $b) (drop) (global.get $g))
             (func (export "a2") (result i32) (call $here) (drop) (global.get $g))
             (func (export "caught") (result i32)
               (block $h (try_table (catch $e $h) (call $throws) (drop)))
               (global.get $g)))"#,
    )
    .expect("wat");
    let m = s.compile(&bytes).expect("compile");
    let y = s
        .instantiate(&m, &[Extern::Func(c), Extern::Func(t), Extern::Tag(e)])
        .expect("instantiate");
    assert_eq!(call1(&mut s, y, "a", &[]), Value::I32(1));
    assert_eq!(call1(&mut s, y, "a2", &[]), Value::I32(1));
    assert_eq!(call1(&mut s, y, "caught", &[]), Value::I32(1));
}

/// A run keeps the code of the functions it entered in a cache by function address (see
/// `exec.rs`): a host function called from wasm that instantiates a module (new function
/// addresses) and runs it must leave the outer run's callers and their code intact.
#[test]
fn a_host_function_that_instantiates_and_runs_a_module_mid_call() {
    let mut s = Store::new(Config::default());
    let h = s.alloc_host_func_with_caller(
        FuncType {
            params: vec![],
            results: vec![ValType::I32],
        },
        Box::new(|caller, _| {
            let store = caller.store_mut();
            let inner = instantiate(
                store,
                r#"(module
                     (func $twenty (param i32) (result i32) (i32.add (local.get 0) (i32.const 20)))
                     (func (export "k") (result i32) (call $twenty (call $twenty (i32.const 0)))))"#,
            );
            let k = func(store, inner, "k");
            match store.invoke(k, &[]) {
                Ok(r) => Ok(r),
                Err(_) => Err(Trap::host("inner run failed")),
            }
        }),
    );
    let m = s
        .compile(
            &wat::parse_str(
                r#"(module (import "host" "h" (func $h (result i32)))
                     (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
                     (func $mid (result i32) (call $inc (call $h)))
                     (func (export "run") (result i32) (call $inc (call $mid))))"#,
            )
            .expect("wat"),
        )
        .expect("compile");
    let i = s.instantiate(&m, &[Extern::Func(h)]).expect("instantiate");
    assert_eq!(call1(&mut s, i, "run", &[]), Value::I32(42));
    assert_eq!(call1(&mut s, i, "run", &[]), Value::I32(42));
}

/// The rarer rules run out of line (`Store::cold`, called from the dispatch loop's last
/// arm): the operand height goes to them and comes back, so operands below a cold
/// instruction survive it and its result lands on top; `memory.grow` there is seen by the
/// next `memory.size`; a trap in a cold rule keeps its message.
#[test]
fn cold_rules_keep_the_operand_stack() {
    let (mut s, i) = setup(
        r#"(module
            (memory 1)
            (table 4 funcref)
            (func $f (result i32) (i32.const 7))
            (elem declare func $f)
            (func (export "mix") (param $n i32) (result i32) (local $acc i32) (local $i i32)
              (loop $l
                (local.get $acc)
                (table.size)                                  ;; 4
                (i32.add)
                (memory.size)                                 ;; 1 + i
                (i32.add)
                (i32.trunc_sat_f32_s (f32.const 1e10))        ;; saturates
                (i32.const 2147483647)
                (i32.sub)
                (i32.add)
                (ref.is_null (ref.func $f))                   ;; 0
                (i32.add)
                (i32x4.extract_lane 2
                  (i32x4.replace_lane 2 (v128.const i32x4 0 0 0 0) (local.get $i)))
                (i32.add)
                (local.set $acc)
                (drop (memory.grow (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
              (local.get $acc))
            (func (export "oob") (result i32)
              (i32.const 1)
              (drop (table.get (i32.const 9)))))"#,
    );
    // Each round adds 4 + (1 + i) + 0 + 0 + i.
    let expect = |n: u32| (0..n).map(|i| 5 + 2 * i).sum::<u32>();
    assert_eq!(
        call1(&mut s, i, "mix", &[Value::I32(3)]),
        Value::I32(expect(3))
    );
    let t = trap(&mut s, i, "oob", &[]);
    assert_eq!(t.kind, TrapKind::OutOfBoundsTableAccess, "{t:?}");
    assert_eq!(t.message, TrapKind::OutOfBoundsTableAccess.message());
}

/// Suspended callers are kept in a frame stack that only grows: an element left by a
/// return is written over by a later call. Frames reused that way still resume in their
/// own instance after a call into another one (`global.get` reads the caller's global),
/// and the call-depth limit counts the live frames only (it is the same with frames
/// written over as with fresh ones).
#[test]
fn reused_frames_resume_their_instance_and_keep_the_depth_limit() {
    let mut s = Store::new(Config {
        max_call_depth: 10,
        ..Config::default()
    });
    let b = instantiate(
        &mut s,
        r#"(module
            (global $c (mut i32) (i32.const 0))
            (func (export "inc") (result i32)
              (global.set $c (i32.add (global.get $c) (i32.const 1)))
              (global.get $c))
            (func (export "count") (result i32) (global.get $c)))"#,
    );
    let inc = func(&s, b, "inc");
    let m = s
        .compile(
            &wat::parse_str(
                r#"(module
                    (import "b" "inc" (func $inc (result i32)))
                    (global $g i32 (i32.const 100))
                    (func $rec (export "rec") (param $n i32) (result i32)
                      (if (result i32) (i32.eqz (local.get $n))
                        (then (global.get $g))
                        (else
                          (drop (call $inc))
                          (i32.add
                            (call $rec (i32.sub (local.get $n) (i32.const 1)))
                            (global.get $g)))))
                    (func (export "run") (result i32)
                      (i32.add
                        (i32.add (call $rec (i32.const 5)) (call $rec (i32.const 3)))
                        (call $rec (i32.const 8)))))"#,
            )
            .expect("wat"),
        )
        .expect("compile");
    let a = s
        .instantiate(&m, &[Extern::Func(inc)])
        .expect("instantiate");
    // rec(n) = 100 (n + 1); rec(5) + rec(3) + rec(8) in one run, frames reused twice.
    assert_eq!(call1(&mut s, a, "run", &[]), Value::I32(600 + 400 + 900));
    assert_eq!(call1(&mut s, b, "count", &[]), Value::I32(16));
    // Entered from the host, rec(n)'s deepest calls push the n-th suspended frame: 9 is
    // the most a depth of 10 allows.
    assert_eq!(call1(&mut s, a, "rec", &[Value::I32(9)]), Value::I32(1000));
    let t = trap(&mut s, a, "rec", &[Value::I32(10)]);
    assert_eq!(t.kind, TrapKind::CallStackExhausted);
    assert_eq!(call1(&mut s, a, "rec", &[Value::I32(9)]), Value::I32(1000));
}

/// A branch that leaves the function (`br`, `br_if`, `br_table` to the function's label)
/// returns to the caller, which continues in its own body (the loop keeps the current body's
/// instructions only while branches stay in it); branches within a body keep their operands
/// at the label's height, counted from the frame's first local, with operands of the caller
/// below the callee's frame.
#[test]
fn branches_out_of_a_function_resume_the_caller_body() {
    let (mut s, i) = setup(
        r#"(module
            (func $by_br (param i32) (result i32)
              (block (result i32)
                (i32.const 100)
                (br_if 1 (local.get 0) (i32.eqz (local.get 0)))
                (drop)
                (br 1 (i32.add (local.get 0) (i32.const 1)))))
            (func $by_table (param i32) (result i32) (local i64 i64)
              (i32.const 7)
              (block (result i32)
                (block (result i32)
                  (i32.mul (local.get 0) (i32.const 3))
                  (br_table 0 1 2 (i32.and (local.get 0) (i32.const 3))))
                (br 1 (i32.add (i32.const 1000))))
              (i32.add))
            (func (export "loop") (param $n i32) (result i32) (local $acc i32) (local $k i32)
              (loop $l
                ;; an operand of the caller's below each call's frame
                (local.set $acc
                  (i32.add (local.get $acc)
                    (i32.add (call $by_br (local.get $k)) (call $by_table (local.get $k)))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $k) (local.get $n))))
              (local.get $acc)))"#,
    );
    // by_br(0) = 0 (br_if taken with its operand), by_br(k) = k + 1 otherwise;
    // by_table(k): k & 3 = 0 -> 3k + 1000 (the inner block's `br 1` returns), 1 -> 3k + 7,
    // else 3k (br_table to the function's label).
    let expected: u32 = (0..10u32)
        .map(|k| {
            let by_br = if k == 0 { 0 } else { k + 1 };
            let by_table = match k & 3 {
                0 => 3 * k + 1000,
                1 => 3 * k + 7,
                _ => 3 * k,
            };
            by_br + by_table
        })
        .sum();
    assert_eq!(
        call1(&mut s, i, "loop", &[Value::I32(10)]),
        Value::I32(expected)
    );
}

/// Operand and local indices are counted from the current frame's first local: a call deep
/// in an expression (the caller's operands below the callee's frame), a host call from a
/// nested frame, returns of no, one and two results, declared locals reading zero where an
/// earlier callee left values in the same stack slots, and an exception caught two frames up
/// at its handler's height.
#[test]
fn frames_index_from_their_first_local() {
    let mut s = Store::new(Config {
        features: WasmFeatures::WASM3,
        ..Config::default()
    });
    let triple = s.alloc_host_func(
        FuncType {
            params: vec![ValType::I32],
            results: vec![ValType::I32],
        },
        Box::new(|args| match args {
            [Value::I32(x)] => Ok(vec![Value::I32(x * 3)]),
            _ => Err(Trap::host("bad args")),
        }),
    );
    let bytes = wat::parse_str(
        r#"(module
            (import "host" "triple" (func $triple (param i32) (result i32)))
            (tag $e (param i32))
            (func $dirty (param i32) (result i32 i32)
              (i32.const 11) (i32.const 12) (i32.const 13) (drop) (drop) (drop)
              (local.get 0) (i32.add (local.get 0) (i32.const 1)))
            (func $none (param i32))
            (func $fresh (param i32) (result i32) (local i32 i64 f64)
              (i32.add (local.get 0)
                (i32.add (local.get 1)
                  (i32.add (i32.wrap_i64 (local.get 2))
                    (i32.trunc_f64_s (local.get 3))))))
            (func $host_deep (param i32) (result i32) (local i32)
              (local.set 1 (i32.const 5))
              (i32.add (local.get 1) (call $triple (i32.add (local.get 0) (i32.const 1)))))
            (func $thrower (param i32) (result i32)
              (if (local.get 0) (then (throw $e (i32.const 77))))
              (i32.const 1))
            (func $middle (param i32) (result i32) (local i64)
              (i32.add (i32.const 1000) (call $thrower (local.get 0))))
            (func (export "run") (param i32) (result i32)
              (i32.const 1)
              (i32.const 2)
              (call $dirty (local.get 0))
              (i32.add)
              (call $none (i32.const 9))
              (i32.add (call $fresh (i32.const 4)))
              (i32.add (call $host_deep (local.get 0)))
              (i32.add
                (block $h (result i32)
                  (try_table (catch $e $h)
                    (i32.const 3)
                    (call $middle (local.get 0))
                    (i32.add)
                    (br 1))
                  (unreachable)))
              (i32.add)
              (i32.add)))"#,
    )
    .unwrap();
    let m = s.compile(&bytes).unwrap();
    let i = s.instantiate(&m, &[Extern::Func(triple)]).unwrap();
    // 1 + (2 + (x + (x + 1)) + 4 + (5 + 3 (x + 1)) + caught), caught = 77 when x != 0,
    // else 3 + 1000 + 1.
    for x in [0u32, 6] {
        let caught = if x == 0 { 1004 } else { 77 };
        let expected = 1 + (2 + x + (x + 1) + 4 + 5 + 3 * (x + 1) + caught);
        assert_eq!(
            call1(&mut s, i, "run", &[Value::I32(x)]),
            Value::I32(expected),
            "x = {x}"
        );
    }
}

/// The loop keeps the current instance's memory 0 at hand (see `exec.rs`): it must follow
/// the instance on a call into another instance (from one without memories too), a return,
/// a tail call into another instance and back to its caller, an exception caught in the
/// caller's instance, and a second memory must still be the instance's own.
#[test]
fn memory_zero_follows_the_current_instance() {
    let mut s = store_3_0(1000);
    let x = instantiate(
        &mut s,
        r#"(module (memory 1) (memory 1)
             (data (memory 0) (i32.const 0) "\20")
             (data (memory 1) (i32.const 0) "\30")
             (tag $e (export "e"))
             (func (export "c") (result i32)
               (i32.add (i32.load8_u (i32.const 0)) (i32.load8_u 1 (i32.const 0))))
             (func (export "t") (result i32) (i32.store8 (i32.const 1) (i32.const 5)) (throw $e)))"#,
    );
    let c = func(&s, x, "c");
    let t = func(&s, x, "t");
    let Some(Extern::Tag(e)) = s.export(x, "e") else {
        panic!("tag export")
    };
    let imports = [Extern::Func(c), Extern::Func(t), Extern::Tag(e)];
    let bytes = wat::parse_str(
        r#"(module (import "x" "c" (func $c (result i32)))
             (import "x" "t" (func $t (result i32)))
             (import "x" "e" (tag $e))
             (memory 1)
             (data (i32.const 0) "\01\02")
             (func $tail (result i32) (return_call $c))
             (func $throws (result i32) (return_call $t))
             (func (export "a") (result i32)
               (i32.add (call $c) (i32.load8_u (i32.const 0))))
             (func (export "a2") (result i32)
               (i32.add (call $tail) (i32.load8_u (i32.const 1))))
             (func (export "caught") (result i32)
               (block $h (try_table (catch $e $h) (call $throws) (drop)))
               (i32.load8_u (i32.const 1))))"#,
    )
    .expect("wat");
    let m = s.compile(&bytes).expect("compile");
    let y = s.instantiate(&m, &imports).expect("instantiate");
    assert_eq!(call1(&mut s, y, "a", &[]), Value::I32(0x50 + 1));
    assert_eq!(call1(&mut s, y, "a2", &[]), Value::I32(0x50 + 2));
    // `t` wrote byte 1 of x's memory 0, not y's.
    assert_eq!(call1(&mut s, y, "caught", &[]), Value::I32(2));
    assert_eq!(call1(&mut s, x, "c", &[]), Value::I32(0x50));
    // From an instance without memories into one with, and back.
    let bytes = wat::parse_str(
        r#"(module (import "x" "c" (func $c (result i32)))
             (func (export "n") (result i32) (i32.add (call $c) (call $c))))"#,
    )
    .expect("wat");
    let m = s.compile(&bytes).expect("compile");
    let z = s.instantiate(&m, &[Extern::Func(c)]).expect("instantiate");
    assert_eq!(call1(&mut s, z, "n", &[]), Value::I32(0xa0));
}

/// Loads whose address is a local or an `i32.add` (`Instr::LoadAt`), and `local.get`/
/// `i32.const`/`i64.const` fused with a `local.set`, compute what the unfused rules compute:
/// every load's width and extension, the sum wrapping at 32 bits, offsets, and the trap.
#[test]
fn loads_at_a_local_or_a_sum() {
    let (mut s, i) = setup(
        r#"(module (memory 1)
            (data (i32.const 0) "\81\82\83\84\85\86\87\88")
            (func (export "at") (param $p i32) (result i64) (local $q i32) (local $r i64)
              (local.set $q (local.get $p))
              (local.set $r (i64.const -1))
              (i64.add
                (i64.add
                  (i64.add (i64.extend_i32_u (i32.load8_s (local.get $q)))
                           (i64.extend_i32_u (i32.load16_s offset=1 (local.get $q))))
                  (i64.add (i64.load8_s (local.get $q)) (i64.load32_s offset=2 (local.get $q))))
                (i64.add
                  (i64.add (i64.extend_i32_u (i32.load (local.get $q)))
                           (i64.load16_u offset=1 (local.get $q)))
                  (i64.add (i64.load (local.get $p)) (local.get $r)))))
            (func (export "sum") (param $a i32) (param $b i32) (result i32)
              (i32.load8_u offset=1 (i32.add (local.get $a) (i32.sub (local.get $b) (i32.const 0)))))
            (func (export "f") (param $p i32) (result f64) (local $x i32)
              (local.set $x (i32.const 4))
              (f64.add (f64.promote_f32 (f32.load (local.get $x))) (f64.load (local.get $p)))))"#,
    );
    let at = |s: &mut Store, p: u32| call1(s, i, "at", &[Value::I32(p)]);
    // At 0: 0x81 as i8 (zero-extended as i32), 0x8382 as i16 (same), 0x81 as i64, 0x86858483
    // as i64, 0x84838281, 0x8382, the 8 bytes, and -1.
    let want = u64::from(0x81u8 as i8 as i32 as u32)
        .wrapping_add(u64::from(0x8382u16 as i16 as i32 as u32))
        .wrapping_add(0x81u8 as i8 as i64 as u64)
        .wrapping_add(0x86858483u32 as i32 as i64 as u64)
        .wrapping_add(0x84838281)
        .wrapping_add(0x8382)
        .wrapping_add(0x8887868584838281)
        .wrapping_add(u64::MAX);
    assert_eq!(at(&mut s, 0), Value::I64(want));
    assert_eq!(
        trap(&mut s, i, "at", &[Value::I32(65535)]).kind,
        TrapKind::OutOfBoundsMemoryAccess
    );
    let sum = |s: &mut Store, a: u32, b: u32| call1(s, i, "sum", &[Value::I32(a), Value::I32(b)]);
    assert_eq!(sum(&mut s, 2, 3), Value::I32(0x87));
    // The sum wraps at 32 bits (the offset is added after, without wrapping).
    assert_eq!(sum(&mut s, u32::MAX, 3), Value::I32(0x84));
    let t = trap(&mut s, i, "sum", &[Value::I32(65535), Value::I32(0)]);
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    let f = call1(&mut s, i, "f", &[Value::I32(0)]);
    let want = f64::from(f32::from_bits(0x88878685)) + f64::from_bits(0x8887868584838281);
    assert_eq!(f, Value::F64(want.to_bits()));
    use crate::instr::{Addr, Instr};
    let count = |name: &str, p: fn(&Instr) -> bool| count_instrs(&s, i, name, p);
    assert_eq!(
        count("at", |x| matches!(x, Instr::LoadAt(_, Addr::Local, ..))),
        7
    );
    assert_eq!(count("at", |x| matches!(x, Instr::LocalCopy(0, 1))), 1);
    assert_eq!(
        count("at", |x| matches!(x, Instr::LocalSetConst(2, u64::MAX))),
        1
    );
    assert_eq!(
        count("sum", |x| matches!(x, Instr::LoadAt(_, Addr::Add, ..))),
        1
    );
    assert_eq!(count("f", |x| matches!(x, Instr::LocalSetConst(1, 4))), 1);
}

/// `local.get`/`local.tee` tested by a `br_if` that moves no operand are jumps
/// (`Instr::JumpIfLocal`, `Instr::JumpIfTee`) with the unfused rules' results and fuel, and a
/// `local.tee` of a local-and-constant operation is one `Instr::I32BinLocalConstTee`.
#[test]
fn locals_tested_by_br_if() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "halvings") (param $n i32) (result i32) (local $k i32)
              (loop $l
                (drop (local.tee $k (i32.add (local.get $k) (i32.const 1))))
                (br_if $l (local.tee $n (i32.shr_u (i32.mul (local.get $n) (i32.const 1)) (i32.const 1)))))
              (local.get $k))
            (func (export "halvings_apart") (param $n i32) (result i32) (local $k i32)
              (loop $l
                (drop (local.tee $k (i32.add (local.get $k) (i32.const 1))))
                (local.tee $n (i32.shr_u (i32.mul (local.get $n) (i32.const 1)) (i32.const 1)))
                (nop)
                (br_if $l))
              (local.get $k))
            (func (export "popcnt") (param $n i32) (result i32) (local $k i32)
              (block $b
                (loop $l
                  (br_if $b (i32.eqz (local.get $n)))
                  (local.set $n (i32.and (local.get $n) (i32.sub (local.get $n) (i32.const 1))))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br_if $l (local.get $n))))
              (local.get $k))
            (func (export "popcnt_apart") (param $n i32) (result i32) (local $k i32)
              (block $b
                (loop $l
                  (br_if $b (i32.eqz (local.get $n)))
                  (local.set $n (i32.and (local.get $n) (i32.sub (local.get $n) (i32.const 1))))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (local.get $n)
                  (nop)
                  (br_if $l)))
              (local.get $k)))"#,
    );
    let mut run = |name: &str, n: u32| {
        s.set_fuel(Some(10_000));
        let r = call1(&mut s, i, name, &[Value::I32(n)]);
        (r, 10_000 - s.fuel().unwrap_or(0))
    };
    for (n, halvings, ones) in [
        (0, 1, 0),
        (1, 1, 1),
        (8, 4, 1),
        (0xff, 8, 8),
        (u32::MAX, 32, 32),
    ] {
        let (r, fuel) = run("halvings", n);
        assert_eq!(r, Value::I32(halvings), "halvings({n})");
        assert_eq!((r, fuel), run("halvings_apart", n), "halvings({n})");
        let (r, fuel) = run("popcnt", n);
        assert_eq!(r, Value::I32(ones), "popcnt({n})");
        assert_eq!((r, fuel), run("popcnt_apart", n), "popcnt({n})");
    }
    use crate::instr::Instr;
    let count = |name: &str, p: fn(&Instr) -> bool| count_instrs(&s, i, name, p);
    assert_eq!(
        count("halvings", |x| matches!(x, Instr::JumpIfTee(0, _))),
        1
    );
    assert_eq!(
        count("halvings", |x| matches!(
            x,
            Instr::I32BinLocalConstTee(_, 1, 1, 1)
        )),
        1
    );
    assert_eq!(
        count("halvings_apart", |x| matches!(x, Instr::JumpIfTee(..))),
        0
    );
    assert_eq!(
        count("popcnt", |x| matches!(x, Instr::JumpIfLocal(0, _))),
        1
    );
    assert_eq!(
        count("popcnt_apart", |x| matches!(x, Instr::JumpIfLocal(..))),
        0
    );
}

/// Stores whose address is a local and value a local or a constant (`Instr::StoreAt`) write
/// what the unfused rules write: every width (the value's low bytes), offsets, the trap.
#[test]
fn stores_at_a_local() {
    let (mut s, i) = setup(
        r#"(module (memory 1)
            (func (export "st") (param $p i32) (param $v i64) (result i64)
              (local $w i32) (local $f f32) (local $d f64)
              (local.set $w (i32.wrap_i64 (local.get $v)))
              (local.set $f (f32.reinterpret_i32 (local.get $w)))
              (local.set $d (f64.reinterpret_i64 (local.get $v)))
              (i64.store (local.get $p) (local.get $v))
              (i64.store offset=8 (local.get $p) (local.get $v))
              (i32.store8 offset=8 (local.get $p) (local.get $w))
              (i32.store16 offset=10 (local.get $p) (local.get $w))
              (i64.store8 offset=1 (local.get $p) (local.get $v))
              (i64.store16 offset=2 (local.get $p) (local.get $v))
              (i64.store32 offset=4 (local.get $p) (local.get $v))
              (i32.store offset=16 (local.get $p) (local.get $w))
              (f32.store offset=20 (local.get $p) (local.get $f))
              (f64.store offset=24 (local.get $p) (local.get $d))
              (i32.store8 offset=32 (local.get $p) (i32.const 0x1ff))
              (i32.store16 offset=34 (local.get $p) (i32.const 0x12345))
              (i32.store offset=36 (local.get $p) (i32.const -2))
              (f32.store offset=40 (local.get $p) (f32.const -1))
              (i64.add (i64.add (i64.load (local.get $p)) (i64.load offset=8 (local.get $p)))
                (i64.add (i64.add (i64.load offset=16 (local.get $p)) (i64.load offset=24 (local.get $p)))
                  (i64.add (i64.load offset=32 (local.get $p)) (i64.load offset=40 (local.get $p)))))))"#,
    );
    let v: u64 = 0x8877_6655_4433_2211;
    let w = v as u32;
    let le = |b: &[u8]| {
        let mut x = [0u8; 8];
        x[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(x)
    };
    let mut m = [0u8; 48];
    m[0..8].copy_from_slice(&v.to_le_bytes());
    m[8..16].copy_from_slice(&v.to_le_bytes());
    m[8] = w as u8;
    m[10..12].copy_from_slice(&(w as u16).to_le_bytes());
    m[1] = v as u8;
    m[2..4].copy_from_slice(&(v as u16).to_le_bytes());
    m[4..8].copy_from_slice(&(v as u32).to_le_bytes());
    m[16..20].copy_from_slice(&w.to_le_bytes());
    m[20..24].copy_from_slice(&w.to_le_bytes());
    m[24..32].copy_from_slice(&v.to_le_bytes());
    m[32] = 0xff;
    m[34..36].copy_from_slice(&0x2345u16.to_le_bytes());
    m[36..40].copy_from_slice(&(-2i32).to_le_bytes());
    m[40..44].copy_from_slice(&(-1f32).to_bits().to_le_bytes());
    let want = m.chunks(8).fold(0u64, |acc, c| acc.wrapping_add(le(c)));
    let args = |p: u32| [Value::I32(p), Value::I64(v)];
    assert_eq!(call1(&mut s, i, "st", &args(100)), Value::I64(want));
    let t = trap(&mut s, i, "st", &args(65536 - 8));
    assert_eq!(t.kind, TrapKind::OutOfBoundsMemoryAccess);
    use crate::instr::{Instr, Rhs};
    let count = |p: fn(&Instr) -> bool| count_instrs(&s, i, "st", p);
    assert_eq!(
        count(|x| matches!(x, Instr::StoreAt(_, Rhs::Local, ..))),
        10
    );
    assert_eq!(count(|x| matches!(x, Instr::StoreAt(_, Rhs::Const, ..))), 4);
}

/// Float comparisons fused with the `br_if` or `if` after them (and with their local or
/// constant operands) compute the unfused rules' results, NaNs and signed zeros included.
#[test]
fn float_comparisons_fused_with_branches() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "br") (param $a f64) (param $b f64) (result i32)
              (block $t (br_if $t (f64.lt (local.get $a) (local.get $b))) (return (i32.const 0)))
              (i32.const 1))
            (func (export "br_apart") (param $a f64) (param $b f64) (result i32)
              (block $t (f64.lt (local.get $a) (local.get $b)) (nop) (br_if $t) (return (i32.const 0)))
              (i32.const 1))
            (func (export "if") (param $a f64) (param $b f64) (result i32)
              (if (result i32) (f64.ne (f64.add (local.get $a) (f64.const 0)) (local.get $b))
                (then (i32.const 1)) (else (i32.const 0))))
            (func (export "if_apart") (param $a f64) (param $b f64) (result i32)
              (f64.ne (f64.add (local.get $a) (f64.const 0)) (local.get $b)) (nop)
              (if (result i32) (then (i32.const 1)) (else (i32.const 0))))
            (func (export "ge32") (param $a f32) (result i32)
              (block $t (br_if $t (f32.ge (local.get $a) (f32.const -0))) (return (i32.const 0)))
              (i32.const 1))
            (func (export "ge32_apart") (param $a f32) (result i32)
              (block $t (f32.ge (local.get $a) (f32.const -0)) (nop) (br_if $t) (return (i32.const 0)))
              (i32.const 1)))"#,
    );
    let vals = [0.0, -0.0, 1.0, -1.5, f64::INFINITY, f64::NAN, -f64::NAN];
    for a in vals {
        for b in vals {
            let args = [Value::F64(a.to_bits()), Value::F64(b.to_bits())];
            let lt = call1(&mut s, i, "br", &args);
            assert_eq!(lt, Value::I32(u32::from(a < b)), "{a} < {b}");
            assert_eq!(lt, call1(&mut s, i, "br_apart", &args));
            let ne = call1(&mut s, i, "if", &args);
            assert_eq!(ne, Value::I32(u32::from(a + 0.0 != b)), "{a} != {b}");
            assert_eq!(ne, call1(&mut s, i, "if_apart", &args));
        }
        let x = [Value::F32((a as f32).to_bits())];
        let ge = call1(&mut s, i, "ge32", &x);
        assert_eq!(ge, Value::I32(u32::from(a as f32 >= -0.0)), "{a} >= -0");
        assert_eq!(ge, call1(&mut s, i, "ge32_apart", &x));
    }
    use crate::instr::{Cmp, Instr, Rhs};
    let count = |name: &str, p: fn(&Instr) -> bool| count_instrs(&s, i, name, p);
    assert_eq!(
        count("br", |x| matches!(
            x,
            Instr::JumpIfCmp(Cmp::F64Lt, Rhs::Local, 0, 1, _)
        )),
        1
    );
    assert_eq!(count("br_apart", |x| matches!(x, Instr::JumpIfCmp(..))), 0);
    assert_eq!(
        count("if", |x| matches!(x, Instr::BrUnlessCmp(Cmp::F64Ne, _))),
        1
    );
    assert_eq!(
        count("ge32", |x| matches!(
            x,
            Instr::JumpIfCmp(Cmp::F32Ge, Rhs::Const, 0, _, _)
        )),
        1
    );
}

/// A comparison with a 64-bit constant (`Instr::CmpConst`), alone or with the `br_if` or `if`
/// after it (`Instr::JumpIfCmpConst`, `Instr::JumpUnlessCmpConst`), computes the unfused
/// rules' results and fuel, NaNs included; 32-bit constants are not fused.
#[test]
fn comparisons_with_a_constant() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "f64") (param $x f64) (result i32)
              (block $t (br_if $t (f64.gt (f64.add (local.get $x) (f64.const 0)) (f64.const 4)))
                (return (i32.const 0)))
              (i32.const 1))
            (func (export "f64_apart") (param $x f64) (result i32)
              (block $t (f64.gt (f64.add (local.get $x) (f64.const 0)) (f64.const 4)) (nop) (br_if $t)
                (return (i32.const 0)))
              (i32.const 1))
            (func (export "i64") (param $x i64) (result i32)
              (if (result i32) (i64.lt_s (i64.add (local.get $x) (i64.const 0)) (i64.const -5))
                (then (i32.const 1)) (else (i32.const 0))))
            (func (export "f32") (param $x f32) (result i32)
              (f32.ne (f32.add (local.get $x) (f32.const 0)) (f32.const 1.5)))
            (func (export "i32") (param $x i32) (result i32)
              (block $t (result i32)
                (br_if $t (i32.const 7) (i32.ge_u (i32.add (local.get $x) (i32.const 0)) (i32.const 3)))
                (drop) (i32.const 0))))"#,
    );
    let mut run = |name: &str, x: Value| {
        s.set_fuel(Some(100));
        let r = call1(&mut s, i, name, &[x]);
        (r, 100 - s.fuel().unwrap_or(0))
    };
    for x in [
        0.0,
        -0.0,
        4.0,
        4.5,
        -5.0,
        -6.0,
        1.5,
        f64::INFINITY,
        f64::NAN,
    ] {
        let (r, fuel) = run("f64", Value::F64(x.to_bits()));
        assert_eq!(r, Value::I32(u32::from(x > 4.0)), "{x} > 4");
        assert_eq!((r, fuel), run("f64_apart", Value::F64(x.to_bits())));
        let r = run("i64", Value::I64(x as i64 as u64)).0;
        assert_eq!(r, Value::I32(u32::from((x as i64) < -5)), "{x} < -5");
        let r = run("f32", Value::F32((x as f32).to_bits())).0;
        assert_eq!(r, Value::I32(u32::from(x as f32 != 1.5)), "{x} != 1.5");
        let r = run("i32", Value::I32(x as i32 as u32)).0;
        assert_eq!(r, Value::I32(if x as i32 as u32 >= 3 { 7 } else { 0 }));
    }
    use crate::instr::{Cmp, Instr};
    let count = |name: &str, p: fn(&Instr) -> bool| count_instrs(&s, i, name, p);
    assert_eq!(
        count("f64", |x| matches!(
            x,
            Instr::JumpIfCmpConst(Cmp::F64Gt, _, 0x4010_0000_0000_0000)
        )),
        1
    );
    assert_eq!(
        count("f64_apart", |x| matches!(x, Instr::CmpConst(Cmp::F64Gt, _))),
        1
    );
    assert_eq!(
        count(
            "i64",
            |x| matches!(x, Instr::JumpUnlessCmpConst(Cmp::I64LtS, _, k) if *k == -5i64 as u64)
        ),
        1
    );
    assert_eq!(count("f32", |x| matches!(x, Instr::CmpConst(..))), 0);
    assert_eq!(count("i32", |x| matches!(x, Instr::CmpConst(..))), 0);
}

/// An `i64` operation with a constant whose result is `local.set` (`Instr::I64BinConstTo`)
/// writes what the unfused rules write, wrapping and shift counts modulo 64 included.
#[test]
fn i64_operation_with_a_constant_to_a_local() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "f") (param $x i64) (result i64) (local $h i64) (local $r i64)
              (local.set $h (i64.mul (i64.xor (local.get $x) (local.get $h)) (i64.const 0x100000001b3)))
              (local.set $r (i64.rotl (local.get $h) (i64.const 67)))
              (i64.add (local.get $h) (local.get $r))))"#,
    );
    for x in [0u64, 1, 0xcbf2_9ce4_8422_2325, u64::MAX] {
        let h = x.wrapping_mul(0x100000001b3);
        let want = h.wrapping_add(h.rotate_left(3));
        assert_eq!(call1(&mut s, i, "f", &[Value::I64(x)]), Value::I64(want));
    }
    use crate::instr::{Instr, IntOp};
    let count = |p: fn(&Instr) -> bool| count_instrs(&s, i, "f", p);
    assert_eq!(
        count(|x| matches!(x, Instr::I64BinConstTo(IntOp::Mul, 1, _))),
        1
    );
    assert_eq!(
        count(|x| matches!(x, Instr::I64BinConstTo(IntOp::Rotl, 2, 67))),
        1
    );
}
