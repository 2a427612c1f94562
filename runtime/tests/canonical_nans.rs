//! `Config::canonicalize_nans`: Cranelift's NaN canonicalization makes arithmetic NaNs
//! canonical; without it the host's propagated NaN (x86: the first NaN operand, quieted)
//! comes out. Instructions the pass does not rewrite keep their operand's bits either way.

use lockstep_runtime::*;

const WAT: &str = r#"(module
    (func (export "f32.add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
    (func (export "f64.sqrt") (param f64) (result f64) (f64.sqrt (local.get 0)))
    (func (export "f32.demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
    (func (export "f32.neg") (param f32) (result f32) (f32.neg (local.get 0)))
    (func (export "f32x4.mul") (param v128 v128) (result v128) (f32x4.mul (local.get 0) (local.get 1)))
    (func (export "f64x2.trunc") (param v128) (result v128) (f64x2.trunc (local.get 0)))
    (func (export "f32x4.pmax") (param v128 v128) (result v128) (f32x4.pmax (local.get 0) (local.get 1)))
    (func (export "relaxed_min") (param v128 v128) (result v128) (f32x4.relaxed_min (local.get 0) (local.get 1))))"#;

const CANON32: u32 = 0x7fc0_0000;
const CANON64: u64 = 0x7ff8_0000_0000_0000;
/// Negative quiet NaNs with a payload beyond the quiet bit.
const N32: u32 = 0xffc0_1234;
const N64: u64 = 0xfff8_0000_0000_5678;

fn lanes32(x: [u32; 4]) -> u128 {
    x.iter()
        .rev()
        .fold(0, |acc, l| (acc << 32) | u128::from(*l))
}

fn lanes64(x: [u64; 2]) -> u128 {
    (u128::from(x[1]) << 64) | u128::from(x[0])
}

fn setup(canonicalize: bool) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config
        .wasm_relaxed_simd(true)
        .canonicalize_nans(canonicalize);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    (store, inst)
}

fn call(store: &mut Store<()>, inst: &Instance, name: &str, args: &[Val]) -> Val {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, args, &mut out).unwrap();
    out[0]
}

/// Each call with its result without and with the switch.
fn cases() -> Vec<(&'static str, Vec<Val>, Val, Val)> {
    use Val::{F32, F64, V128};
    let one = 1f32.to_bits();
    let ones = V128(lanes32([one; 4]));
    let v = lanes32([N32, one, 0x7fa0_0001, 2.5f32.to_bits()]);
    vec![
        ("f32.add", vec![F32(N32), F32(one)], F32(N32), F32(CANON32)),
        // A signalling NaN comes out quiet, with its payload.
        (
            "f64.sqrt",
            vec![F64(0x7ff0_0000_0000_0001)],
            F64(0x7ff8_0000_0000_0001),
            F64(CANON64),
        ),
        ("f32.demote", vec![F64(N64)], F32(0xffc0_0000), F32(CANON32)),
        (
            "f32.neg",
            vec![F32(N32)],
            F32(0x7fc0_1234),
            F32(0x7fc0_1234),
        ),
        (
            "f32x4.mul",
            vec![V128(v), ones],
            V128(lanes32([N32, one, 0x7fe0_0001, 2.5f32.to_bits()])),
            V128(lanes32([CANON32, one, CANON32, 2.5f32.to_bits()])),
        ),
        (
            "f64x2.trunc",
            vec![V128(lanes64([N64, 2.5f64.to_bits()]))],
            V128(lanes64([N64, 2f64.to_bits()])),
            V128(lanes64([CANON64, 2f64.to_bits()])),
        ),
        // pmax is a compare and select, not arithmetic: the first operand, bit for bit.
        ("f32x4.pmax", vec![V128(v), ones], V128(v), V128(v)),
        // Native relaxed_min is minps (a compare and select too): the second operand
        // when either is NaN.
        (
            "relaxed_min",
            vec![ones, V128(v)],
            V128(lanes32([N32, one, 0x7fa0_0001, one])),
            V128(lanes32([N32, one, 0x7fa0_0001, one])),
        ),
    ]
}

#[test]
fn arithmetic_nans_are_canonical_only_with_the_switch() {
    let (mut plain, p) = setup(false);
    let (mut canon, c) = setup(true);
    for (name, args, without, with) in cases() {
        assert_eq!(
            call(&mut plain, &p, name, &args),
            without,
            "{name} {args:?}"
        );
        assert_eq!(
            call(&mut canon, &c, name, &args),
            with,
            "{name} {args:?} canonicalized"
        );
    }
}
