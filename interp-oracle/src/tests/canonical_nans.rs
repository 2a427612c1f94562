//! `Config::canonicalize_nans`: arithmetic NaNs become the canonical NaN, the instructions
//! Cranelift's `nan_canonicalization` pass leaves alone keep their operand's bits.

use super::*;

const MODULE: &str = r#"(module
    (func (export "f32.add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
    (func (export "f32.sqrt") (param f32) (result f32) (f32.sqrt (local.get 0)))
    (func (export "f32.min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
    (func (export "f32.neg") (param f32) (result f32) (f32.neg (local.get 0)))
    (func (export "f32.copysign") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1)))
    (func (export "f64.div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
    (func (export "f64.nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
    (func (export "f32.demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
    (func (export "f64.promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
    (func (export "f32x4.mul") (param v128 v128) (result v128) (f32x4.mul (local.get 0) (local.get 1)))
    (func (export "f64x2.floor") (param v128) (result v128) (f64x2.floor (local.get 0)))
    (func (export "f32x4.demote") (param v128) (result v128) (f32x4.demote_f64x2_zero (local.get 0)))
    (func (export "f32x4.pmin") (param v128 v128) (result v128) (f32x4.pmin (local.get 0) (local.get 1)))
    (func (export "f32x4.abs") (param v128) (result v128) (f32x4.abs (local.get 0)))
    (func (export "madd") (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
    (func (export "rmin") (param v128 v128) (result v128) (f64x2.relaxed_min (local.get 0) (local.get 1))))"#;

/// A negative f32 NaN with a payload other than the quiet bit alone.
const N32: u32 = 0xffc0_1234;
const N64: u64 = 0xfff8_0000_0000_5678;

fn store(canonicalize_nans: bool) -> (Store, InstanceAddr) {
    let mut s = Store::new(Config {
        features: WasmFeatures::WASM3,
        canonicalize_nans,
        ..Config::default()
    });
    let i = instantiate(&mut s, MODULE);
    (s, i)
}

fn lanes32(x: [u32; 4]) -> u128 {
    x.iter()
        .rev()
        .fold(0, |acc, l| (acc << 32) | u128::from(*l))
}

fn lanes64(x: [u64; 2]) -> u128 {
    (u128::from(x[1]) << 64) | u128::from(x[0])
}

/// Every call of the test with its result without and with the switch.
fn cases() -> Vec<(&'static str, Vec<Value>, Value, Value)> {
    use Value::{F32, F64, V128};
    let one32 = 1f32.to_bits();
    let one64 = 1f64.to_bits();
    let v32 = lanes32([N32, one32, 0x7fa0_0001, one32]);
    let v64 = lanes64([N64, 2.5f64.to_bits()]);
    vec![
        // Propagated operand NaNs (quieted) without the switch, canonical with it.
        (
            "f32.add",
            vec![F32(N32), F32(one32)],
            F32(N32),
            F32(F32_CANON),
        ),
        (
            "f32.min",
            vec![F32(one32), F32(N32)],
            F32(N32),
            F32(F32_CANON),
        ),
        (
            "f32.sqrt",
            vec![F32(0x7f80_0001)],
            F32(0x7fc0_0001),
            F32(F32_CANON),
        ),
        (
            "f64.div",
            vec![F64(N64), F64(one64)],
            F64(N64),
            F64(F64_CANON),
        ),
        ("f64.nearest", vec![F64(N64)], F64(N64), F64(F64_CANON)),
        // A NaN computed from non-NaN operands is canonical either way (0/0).
        (
            "f64.div",
            vec![F64(0), F64(0)],
            F64(F64_CANON),
            F64(F64_CANON),
        ),
        (
            "f32.demote",
            vec![F64(N64)],
            F32(0xffc0_0000),
            F32(F32_CANON),
        ),
        (
            "f64.promote",
            vec![F32(N32)],
            F64(0xfff8_0246_8000_0000),
            F64(F64_CANON),
        ),
        // Sign operations are bit operations: never canonicalized.
        (
            "f32.neg",
            vec![F32(N32)],
            F32(N32 & 0x7fff_ffff),
            F32(N32 & 0x7fff_ffff),
        ),
        (
            "f32.copysign",
            vec![F32(N32), F32(0)],
            F32(0x7fc0_1234),
            F32(0x7fc0_1234),
        ),
        // Vector lanes: NaN lanes canonical, the others as computed.
        (
            "f32x4.mul",
            vec![V128(v32), V128(lanes32([one32; 4]))],
            V128(lanes32([N32, one32, 0x7fe0_0001, one32])),
            V128(lanes32([F32_CANON, one32, F32_CANON, one32])),
        ),
        (
            "f64x2.floor",
            vec![V128(v64)],
            V128(lanes64([N64, 2f64.to_bits()])),
            V128(lanes64([F64_CANON, 2f64.to_bits()])),
        ),
        (
            "f32x4.demote",
            vec![V128(v64)],
            V128(lanes32([0xffc0_0000, 2.5f32.to_bits(), 0, 0])),
            V128(lanes32([F32_CANON, 2.5f32.to_bits(), 0, 0])),
        ),
        // pmin is a compare and select: the operand's NaN, bit for bit.
        (
            "f32x4.pmin",
            vec![V128(v32), V128(lanes32([one32; 4]))],
            V128(v32),
            V128(v32),
        ),
        (
            "f32x4.abs",
            vec![V128(v32)],
            V128(v32 & !(1 << 31)),
            V128(v32 & !(1 << 31)),
        ),
        // relaxed_madd's deterministic choice: fused, then canonical.
        (
            "madd",
            vec![V128(v32), V128(lanes32([one32; 4])), V128(0)],
            V128(lanes32([N32, one32, 0x7fe0_0001, one32])),
            V128(lanes32([F32_CANON, one32, F32_CANON, one32])),
        ),
        // relaxed_min's deterministic choice is `min`.
        (
            "rmin",
            vec![V128(v64), V128(lanes64([one64; 2]))],
            V128(lanes64([N64, one64])),
            V128(lanes64([F64_CANON, one64])),
        ),
    ]
}

#[test]
fn arithmetic_nans_are_canonical_only_with_the_switch() {
    let (mut plain, i) = store(false);
    let (mut canon, j) = store(true);
    for (name, args, without, with) in cases() {
        assert_eq!(
            call1(&mut plain, i, name, &args),
            without,
            "{name} {args:?}"
        );
        assert_eq!(
            call1(&mut canon, j, name, &args),
            with,
            "{name} {args:?} canonicalized"
        );
    }
}

#[test]
fn relaxed_min_alternatives_that_return_an_operand_keep_its_bits() {
    let (mut s, i) = store(true);
    let one = 1f64.to_bits();
    let args = [
        Value::V128(lanes64([N64, one])),
        Value::V128(lanes64([one, one])),
    ];
    let results: Vec<Value> = (0..RELAXED_CHOICES)
        .map(|k| {
            s.set_relaxed_choice(k);
            call1(&mut s, i, "rmin", &args)
        })
        .collect();
    // The non-relaxed `min` (canonical), then each operand (x86's minpd returns one).
    assert_eq!(results[0], Value::V128(lanes64([F64_CANON, one])));
    assert_eq!(results[1], Value::V128(lanes64([N64, one])));
    assert_eq!(results[2], Value::V128(lanes64([one, one])));
}
