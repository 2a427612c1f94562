//! Relaxed SIMD: the deterministic choice, and the results of the other choices.

use super::*;

const MODULE: &str = r#"(module
    (func (export "swizzle") (param v128 v128) (result v128) (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
    (func (export "madd") (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
    (func (export "min") (param v128 v128) (result v128) (f64x2.relaxed_min (local.get 0) (local.get 1)))
    (func (export "trunc") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
    (func (export "laneselect") (param v128 v128 v128) (result v128) (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
    (func (export "q15") (param v128 v128) (result v128) (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
    (func (export "dot") (param v128 v128) (result v128) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1))))"#;

fn v(x: u128) -> Value {
    Value::V128(x)
}

/// The results of `name` under every relaxed choice.
fn all_choices(s: &mut Store, i: InstanceAddr, name: &str, args: &[Value]) -> Vec<Value> {
    let results = (0..RELAXED_CHOICES)
        .map(|k| {
            s.set_relaxed_choice(k);
            call1(s, i, name, args)
        })
        .collect();
    s.set_relaxed_choice(0);
    results
}

fn lanes32(x: [u32; 4]) -> u128 {
    x.iter()
        .rev()
        .fold(0, |acc, l| (acc << 32) | u128::from(*l))
}

#[test]
fn choice_zero_is_the_deterministic_instruction_and_the_others_are_the_alternatives() {
    let (mut s, i) = setup_3_0(10, MODULE);
    // Index 17 (below 128): 0 or lane 1; index 200: always 0.
    let a = u128::from_le_bytes(std::array::from_fn(|k| 10 + k as u8));
    let idx = u128::from_le_bytes([17, 200, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let r = all_choices(&mut s, i, "swizzle", &[v(a), v(idx)]);
    assert_eq!(
        r[0],
        v(u128::from_le_bytes([
            0, 0, 13, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10
        ]))
    );
    assert_eq!(
        r[1],
        v(u128::from_le_bytes([
            11, 0, 13, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10
        ]))
    );
    // (1 + 2^-23) * (1 - 2^-23) - 1: fused gives -2^-46, unfused rounds the product to 1: 0.
    let x = f32::from_bits(0x3f80_0001);
    let y = f32::from_bits(0x3f7f_fffe);
    let splat = |f: f32| v(lanes32([f.to_bits(); 4]));
    let r = all_choices(&mut s, i, "madd", &[splat(x), splat(y), splat(-1.0)]);
    assert_eq!(r[0], splat(x.mul_add(y, -1.0)));
    assert_ne!(r[0], splat(0.0));
    assert_eq!(r[1], splat(0.0));
    // NaN lanes: the non-relaxed NaN, or either operand.
    let nan = f64::NAN.to_bits();
    let two = |a: u64, b: u64| v(u128::from(a) | (u128::from(b) << 64));
    let r = all_choices(&mut s, i, "min", &[two(nan, 1), two(2f64.to_bits(), 1)]);
    assert_eq!(r[0], two(0x7ff8_0000_0000_0000, 1));
    assert_eq!(r[1], two(nan, 1));
    assert_eq!(r[2], two(2f64.to_bits(), 1));
    // Out of range: saturated, or INT_MIN.
    let big = v(lanes32([
        3e9f32.to_bits(),
        f32::NAN.to_bits(),
        1.5f32.to_bits(),
        0,
    ]));
    let r = all_choices(&mut s, i, "trunc", &[big]);
    assert_eq!(r[0], v(lanes32([i32::MAX as u32, 0, 1, 0])));
    assert_eq!(r[1], v(lanes32([0x8000_0000, 0x8000_0000, 1, 0])));
    // A mask lane neither all ones nor all zeros: bitselect, or its top bit.
    let m = v(lanes32([0x8000_0001, 0, !0, 1]));
    let r = all_choices(&mut s, i, "laneselect", &[v(lanes32([!0; 4])), v(0), m]);
    assert_eq!(r[0], v(lanes32([0x8000_0001, 0, !0, 1])));
    assert_eq!(r[1], v(lanes32([!0, 0, !0, 0])));
    // -32768 * -32768: saturated or wrapped.
    let min = v(u128::from_le_bytes([0, 0x80].repeat(8).try_into().unwrap()));
    let r = all_choices(&mut s, i, "q15", &[min, min]);
    assert_eq!(
        r[0],
        v(u128::from_le_bytes(
            [0xff, 0x7f].repeat(8).try_into().unwrap()
        ))
    );
    assert_eq!(r[1], min);
    // b = -1 (top bit set): read signed (-1) or unsigned (255).
    let ones = v(u128::from_le_bytes([1; 16]));
    let r = all_choices(&mut s, i, "dot", &[ones, v(u128::MAX)]);
    assert_eq!(
        r[0],
        v(u128::from_le_bytes(
            [0xfe, 0xff].repeat(8).try_into().unwrap()
        ))
    );
    assert_eq!(
        r[1],
        v(u128::from_le_bytes(
            [0xfe, 0x01].repeat(8).try_into().unwrap()
        ))
    );
}
