//! Relaxed SIMD (spec 3.0 section 4.3.4, "Relaxed operations"): each instruction may give
//! one of a few results, for every lane. The rules here take `alt`, the index of the
//! alternative to compute, the same for every lane; alternative 0 is the oracle's own
//! choice, the deterministic one: that of the non-relaxed instruction each one relaxes
//! (`swizzle`, `trunc_sat`, `min`/`max`, `q15mulr_sat_s`, `bitselect`, the signed dot
//! product), and for `madd` the fused result. [`ALTERNATIVES`] bounds `alt`: every rule
//! gives, for `alt` in `0..ALTERNATIVES`, each result the spec permits (an `alt` past an
//! instruction's last alternative repeats its last).
//!
//! The store runs every relaxed instruction with one `alt` (`Store::set_relaxed_choice`),
//! which is how an implementation that picks one hardware behaviour runs them: the results
//! of a call under each choice are the call's permitted results, against which another
//! engine's result can be checked.

use super::lanes::{f32x4, f64x2, i8x16, i16x8, i32x4, i64x2, u8x16};
use super::numeric::{self, float32, float64};
use super::q15mulr_sat;
use crate::instr::{RelaxedBinary, RelaxedTernary, RelaxedUnary};
use crate::value::Slot;

/// The number of alternatives the rules enumerate.
pub const ALTERNATIVES: usize = 4;

/// `alt`-th of `choices`, or the last one.
fn pick<T: Copy>(alt: usize, choices: &[T]) -> T {
    choices[alt.min(choices.len() - 1)]
}

/// `relaxed_trunc`: a NaN or out-of-range lane is saturated (NaN to 0), or the target's
/// "integer indefinite" value (`INT_MIN` for signed, all ones for unsigned).
fn trunc32(alt: usize, x: f64, signed: bool) -> u32 {
    let sat = if signed {
        numeric::i32_trunc_sat_s(x)
    } else {
        numeric::i32_trunc_sat_u(x)
    };
    let in_range = if signed {
        numeric::i32_trunc_s(x).is_ok()
    } else {
        numeric::i32_trunc_u(x).is_ok()
    };
    let indefinite = if signed { i32::MIN as u32 } else { u32::MAX };
    if in_range {
        sat
    } else if signed {
        pick(alt, &[sat, indefinite])
    } else {
        // Alternative 2 pairs the signed "indefinite" with the unsigned saturation: what x86
        // code generators give (`cvttps2dq` for signed, a saturating sequence for unsigned), so
        // a call that truncates both ways on such an engine has one choice here too.
        pick(alt, &[sat, indefinite, sat])
    }
}

pub fn unary(op: RelaxedUnary, alt: usize, a: Slot) -> Slot {
    use RelaxedUnary as R;
    let f32s =
        |a: Slot, signed| f32x4::lanes(a).map(|x| trunc32(alt, numeric::f32_as_f64(x), signed));
    let f64s = |a: Slot, signed| {
        let x = f64x2::lanes(a).map(|x| trunc32(alt, f64::from_bits(x), signed));
        i32x4::from_lanes([x[0] as i32, x[1] as i32, 0, 0])
    };
    match op {
        R::I32x4RelaxedTruncF32x4S => i32x4::from_lanes(f32s(a, true).map(|x| x as i32)),
        R::I32x4RelaxedTruncF32x4U => i32x4::from_lanes(f32s(a, false).map(|x| x as i32)),
        R::I32x4RelaxedTruncF64x2SZero => f64s(a, true),
        R::I32x4RelaxedTruncF64x2UZero => f64s(a, false),
    }
}

/// `relaxed_min`/`relaxed_max`: with a NaN, or zeros of both signs, the result may be the
/// non-relaxed one, either operand.
fn min_max<T: Copy>(alt: usize, a: T, b: T, exact: T, special: bool) -> T {
    if special {
        pick(alt, &[exact, a, b])
    } else {
        exact
    }
}

/// `relaxed_dot_i8x16_i7x16_s` on one pair: `b` is read signed or unsigned (only its top
/// bit is in doubt), the sum wraps or saturates in 16 bits.
fn dot2(alt: usize, a: [i8; 2], b: [i8; 2]) -> i16 {
    let unsigned_b = alt % 2 == 1;
    let bv = |x: i8| {
        if unsigned_b {
            i32::from(x as u8)
        } else {
            i32::from(x)
        }
    };
    let sum = i32::from(a[0]) * bv(b[0]) + i32::from(a[1]) * bv(b[1]);
    if alt / 2 == 1 {
        sum.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    } else {
        sum as i16
    }
}

/// `canon` (`Config::canonicalize_nans`) makes the NaN of the `min`/`max` alternative that
/// is the non-relaxed instruction canonical, as Cranelift's pass does to the `fmin`/`fmax`
/// that instruction lowers to; the alternatives that return an operand (x86's
/// compare-and-select) keep its bits.
pub fn binary(op: RelaxedBinary, alt: usize, canon: bool, a: Slot, b: Slot) -> Slot {
    use RelaxedBinary as R;
    match op {
        // An index of 16 or more selects 0, or (below 128) the lane it names modulo 16.
        R::I8x16RelaxedSwizzle => {
            let (x, s) = (u8x16::lanes(a), u8x16::lanes(b));
            u8x16::from_lanes(s.map(|j| match j {
                0..16 => x[j as usize],
                16..128 => pick(alt, &[0, x[(j % 16) as usize]]),
                _ => 0,
            }))
        }
        R::F32x4RelaxedMin | R::F32x4RelaxedMax => {
            let min = op == R::F32x4RelaxedMin;
            f32x4::zip(a, b, |x, y| {
                let exact = if min {
                    float32::min(x, y)
                } else {
                    float32::max(x, y)
                };
                let exact = if canon {
                    float32::canonical(exact)
                } else {
                    exact
                };
                let zeros = (x | y) & !float32::SIGN == 0;
                min_max(
                    alt,
                    x,
                    y,
                    exact,
                    float32::is_nan(x) || float32::is_nan(y) || zeros,
                )
            })
        }
        R::F64x2RelaxedMin | R::F64x2RelaxedMax => {
            let min = op == R::F64x2RelaxedMin;
            f64x2::zip(a, b, |x, y| {
                let exact = if min {
                    float64::min(x, y)
                } else {
                    float64::max(x, y)
                };
                let exact = if canon {
                    float64::canonical(exact)
                } else {
                    exact
                };
                let zeros = (x | y) & !float64::SIGN == 0;
                min_max(
                    alt,
                    x,
                    y,
                    exact,
                    float64::is_nan(x) || float64::is_nan(y) || zeros,
                )
            })
        }
        // `-32768 * -32768` saturates to 32767, or wraps to -32768.
        R::I16x8RelaxedQ15mulrS => i16x8::zip(a, b, |x, y| {
            let sat = q15mulr_sat(x, y);
            if x == i16::MIN && y == i16::MIN {
                pick(alt, &[sat, i16::MIN])
            } else {
                sat
            }
        }),
        R::I16x8RelaxedDotI8x16I7x16S => {
            let (x, y) = (i8x16::lanes(a), i8x16::lanes(b));
            i16x8::from_lanes(std::array::from_fn(|i| {
                dot2(alt, [x[2 * i], x[2 * i + 1]], [y[2 * i], y[2 * i + 1]])
            }))
        }
    }
}

/// `canon` (`Config::canonicalize_nans`) makes every NaN of `madd`/`nmadd` canonical: each of
/// its alternatives ends in an arithmetic instruction (`fma`, or `fmul` then `fadd`).
pub fn ternary(op: RelaxedTernary, alt: usize, canon: bool, a: Slot, b: Slot, c: Slot) -> Slot {
    use RelaxedTernary as R;
    let r = ternary_raw(op, alt, a, b, c);
    match op {
        R::F32x4RelaxedMadd | R::F32x4RelaxedNmadd if canon => super::canonical_f32x4(r),
        R::F64x2RelaxedMadd | R::F64x2RelaxedNmadd if canon => super::canonical_f64x2(r),
        _ => r,
    }
}

fn ternary_raw(op: RelaxedTernary, alt: usize, a: Slot, b: Slot, c: Slot) -> Slot {
    use RelaxedTernary as R;
    // `relaxed_madd`: rounded once (fused) or twice; `nmadd` negates `a * b`.
    let madd32 = |neg: bool| {
        let (a, b, c) = (f32x4::lanes(a), f32x4::lanes(b), f32x4::lanes(c));
        f32x4::from_lanes(std::array::from_fn(|i| {
            let x = if neg { float32::neg(a[i]) } else { a[i] };
            pick(
                alt,
                &[
                    float32::fma(x, b[i], c[i]),
                    float32::add(float32::mul(x, b[i]), c[i]),
                ],
            )
        }))
    };
    let madd64 = |neg: bool| {
        let (a, b, c) = (f64x2::lanes(a), f64x2::lanes(b), f64x2::lanes(c));
        f64x2::from_lanes(std::array::from_fn(|i| {
            let x = if neg { float64::neg(a[i]) } else { a[i] };
            pick(
                alt,
                &[
                    float64::fma(x, b[i], c[i]),
                    float64::add(float64::mul(x, b[i]), c[i]),
                ],
            )
        }))
    };
    // `relaxed_laneselect`: `bitselect`, or, where a mask lane is neither all ones nor all
    // zeros, its top bit choosing the whole lane.
    macro_rules! laneselect {
        ($shape:ident, $t:ty) => {{
            let (x, y, m) = ($shape::lanes(a), $shape::lanes(b), $shape::lanes(c));
            $shape::from_lanes(std::array::from_fn(|i| {
                let bits = (x[i] & m[i]) | (y[i] & !m[i]);
                let top = if m[i] < 0 { x[i] } else { y[i] };
                pick(alt, &[bits, top])
            }))
        }};
    }
    match op {
        R::F32x4RelaxedMadd => madd32(false),
        R::F32x4RelaxedNmadd => madd32(true),
        R::F64x2RelaxedMadd => madd64(false),
        R::F64x2RelaxedNmadd => madd64(true),
        R::I8x16RelaxedLaneselect => laneselect!(i8x16, i8),
        R::I16x8RelaxedLaneselect => laneselect!(i16x8, i16),
        R::I32x4RelaxedLaneselect => laneselect!(i32x4, i32),
        R::I64x2RelaxedLaneselect => laneselect!(i64x2, i64),
        // The pairwise dot products (as above), extended, summed in pairs, plus `c`.
        R::I32x4RelaxedDotI8x16I7x16AddS => {
            let (x, y, acc) = (i8x16::lanes(a), i8x16::lanes(b), i32x4::lanes(c));
            let d = |k: usize| {
                i32::from(dot2(
                    alt,
                    [x[2 * k], x[2 * k + 1]],
                    [y[2 * k], y[2 * k + 1]],
                ))
            };
            i32x4::from_lanes(std::array::from_fn(|i| {
                d(2 * i).wrapping_add(d(2 * i + 1)).wrapping_add(acc[i])
            }))
        }
    }
}
