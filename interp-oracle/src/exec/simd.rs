//! SIMD instructions (spec sections 4.3 "Numerics" on vectors and 4.4.3 "Vector
//! instructions"): 128-bit values, lanewise integer and float arithmetic, lane access,
//! shuffles, conversions and vector loads and stores.
//!
//! Each rule reads a `v128` through a lane view of `simd/lanes.rs` (`i8x16::lanes(v)`,
//! `f32x4::zip(a, b, ...)`, ...) and applies the scalar operation lane by lane. Float lanes
//! reuse the scalar float rules of `exec/numeric.rs`, so NaN results follow exactly the
//! same rules as `f32.add` and friends. Integer lanes wrap unless the instruction says it
//! saturates.
//!
//! - `simd/lanes.rs`: the lane views;
//! - `simd/memory.rs`: loads and stores;
//! - this file: every other instruction, one function per operand shape, as the spec
//!   interpreter's AST groups them: [`unary`], [`binary`], [`ternary`], [`shift`],
//!   [`extract_lane`], [`replace_lane`] and [`shuffle`].

mod lanes;
pub mod memory;
pub mod relaxed;
#[cfg(test)]
mod tests;

use std::array::from_fn;

use super::numeric::{self, float32, float64};
use crate::instr::{
    SimdBinary, SimdExtractLane, SimdReplaceLane, SimdShift, SimdTernary, SimdUnary,
};
use crate::value::Slot;
use lanes::{f32x4, f64x2, i8x16, i16x8, i32x4, i64x2, u8x16, u16x8, u32x4, u64x2};

/// `extend!(from => to, low|high, v)`: the low or high half of the lanes of `v`, each
/// widened (sign- or zero-extended by the lane types of the two shapes).
macro_rules! extend {
    ($from:ident => $to:ident, low, $v:expr) => {
        extend!(@half $from, $to, $v, 0)
    };
    ($from:ident => $to:ident, high, $v:expr) => {
        extend!(@half $from, $to, $v, $to::N)
    };
    (@half $from:ident, $to:ident, $v:expr, $start:expr) => {{
        let a = $from::lanes($v);
        $to::from_lanes(std::array::from_fn(|i| $to::Lane::from(a[$start + i])))
    }};
}
pub(crate) use extend;

/// An `i32` result (a boolean or a bitmask) as a slot.
fn bool_slot(b: bool) -> Slot {
    Slot::from(b)
}

/// `bitmask`: bit `i` is the sign bit of lane `i`.
fn bitmask<const N: usize, T: Copy + PartialOrd + Default>(lanes: [T; N]) -> Slot {
    lanes
        .iter()
        .enumerate()
        .fold(0, |m, (i, x)| m | (Slot::from(*x < T::default()) << i))
}

/// `all_true`: every lane is non-zero.
fn all_true<const N: usize, T: Copy + PartialEq + Default>(lanes: [T; N]) -> Slot {
    bool_slot(lanes.iter().all(|x| *x != T::default()))
}

/// Saturate a wide integer into `[lo, hi]` (the spec's `sat_N`).
fn sat<T: TryFrom<i64>>(x: i64, lo: i64, hi: i64) -> T
where
    T::Error: std::fmt::Debug,
{
    T::try_from(x.clamp(lo, hi)).expect("clamped into range")
}

/// `i16x8.q15mulr_sat_s` on one lane: rounding Q15 multiplication, saturated.
fn q15mulr_sat(a: i16, b: i16) -> i16 {
    let p = (i32::from(a) * i32::from(b) + 0x4000) >> 15;
    sat(i64::from(p), i64::from(i16::MIN), i64::from(i16::MAX))
}

/// `narrow`: the lanes of `a` then those of `b`, each saturated into the narrower type.
macro_rules! narrow {
    ($from:ident => $to:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($from::lanes($a), $from::lanes($b));
        let n = $from::N;
        let (lo, hi) = (i64::from($to::Lane::MIN), i64::from($to::Lane::MAX));
        $to::from_lanes(from_fn(|i| {
            let x = if i < n { a[i] } else { b[i - n] };
            sat(i64::from(x), lo, hi)
        }))
    }};
}

/// `extmul_low|high`: the product of the extended low or high halves.
macro_rules! extmul {
    ($from:ident => $to:ident, $half:ident, $a:expr, $b:expr) => {
        $to::zip(
            extend!($from => $to, $half, $a),
            extend!($from => $to, $half, $b),
            |x, y| x.wrapping_mul(y),
        )
    };
}

/// `extadd_pairwise`: the sum of each pair of adjacent lanes, extended.
macro_rules! extadd_pairwise {
    ($from:ident => $to:ident, $a:expr) => {{
        let a = $from::lanes($a);
        $to::from_lanes(from_fn(|i| {
            $to::Lane::from(a[2 * i]) + $to::Lane::from(a[2 * i + 1])
        }))
    }};
}

/// The unsigned average rounding up: `(a + b + 1) / 2` without overflow.
fn avgr_u8(a: u8, b: u8) -> u8 {
    ((u16::from(a) + u16::from(b)).div_ceil(2)) as u8
}
fn avgr_u16(a: u16, b: u16) -> u16 {
    ((u32::from(a) + u32::from(b)).div_ceil(2)) as u16
}

/// `fpmin`: `b` if `b < a`, otherwise `a` (no NaN or zero-sign rules).
fn pmin32(a: u32, b: u32) -> u32 {
    if float32::lt(b, a) { b } else { a }
}
fn pmax32(a: u32, b: u32) -> u32 {
    if float32::lt(a, b) { b } else { a }
}
fn pmin64(a: u64, b: u64) -> u64 {
    if float64::lt(b, a) { b } else { a }
}
fn pmax64(a: u64, b: u64) -> u64 {
    if float64::lt(a, b) { b } else { a }
}

/// `v128.vunop` and the other one-operand instructions.
pub fn unary(op: SimdUnary, a: Slot) -> Slot {
    use SimdUnary as S;
    match op {
        // ---- splat: the operand is a scalar.
        S::I8x16Splat => u8x16::splat(a as u8),
        S::I16x8Splat => u16x8::splat(a as u16),
        S::I32x4Splat | S::F32x4Splat => u32x4::splat(a as u32),
        S::I64x2Splat | S::F64x2Splat => u64x2::splat(a as u64),

        // ---- Bitwise and tests.
        S::V128Not => !a,
        S::V128AnyTrue => bool_slot(a != 0),
        S::I8x16AllTrue => all_true(i8x16::lanes(a)),
        S::I16x8AllTrue => all_true(i16x8::lanes(a)),
        S::I32x4AllTrue => all_true(i32x4::lanes(a)),
        S::I64x2AllTrue => all_true(i64x2::lanes(a)),
        S::I8x16Bitmask => bitmask(i8x16::lanes(a)),
        S::I16x8Bitmask => bitmask(i16x8::lanes(a)),
        S::I32x4Bitmask => bitmask(i32x4::lanes(a)),
        S::I64x2Bitmask => bitmask(i64x2::lanes(a)),

        // ---- Integer.
        S::I8x16Abs => i8x16::map(a, i8::wrapping_abs),
        S::I16x8Abs => i16x8::map(a, i16::wrapping_abs),
        S::I32x4Abs => i32x4::map(a, i32::wrapping_abs),
        S::I64x2Abs => i64x2::map(a, i64::wrapping_abs),
        S::I8x16Neg => i8x16::map(a, i8::wrapping_neg),
        S::I16x8Neg => i16x8::map(a, i16::wrapping_neg),
        S::I32x4Neg => i32x4::map(a, i32::wrapping_neg),
        S::I64x2Neg => i64x2::map(a, i64::wrapping_neg),
        S::I8x16Popcnt => u8x16::map(a, |x| x.count_ones() as u8),
        S::I16x8ExtAddPairwiseI8x16S => extadd_pairwise!(i8x16 => i16x8, a),
        S::I16x8ExtAddPairwiseI8x16U => extadd_pairwise!(u8x16 => u16x8, a),
        S::I32x4ExtAddPairwiseI16x8S => extadd_pairwise!(i16x8 => i32x4, a),
        S::I32x4ExtAddPairwiseI16x8U => extadd_pairwise!(u16x8 => u32x4, a),
        S::I16x8ExtendLowI8x16S => extend!(i8x16 => i16x8, low, a),
        S::I16x8ExtendHighI8x16S => extend!(i8x16 => i16x8, high, a),
        S::I16x8ExtendLowI8x16U => extend!(u8x16 => u16x8, low, a),
        S::I16x8ExtendHighI8x16U => extend!(u8x16 => u16x8, high, a),
        S::I32x4ExtendLowI16x8S => extend!(i16x8 => i32x4, low, a),
        S::I32x4ExtendHighI16x8S => extend!(i16x8 => i32x4, high, a),
        S::I32x4ExtendLowI16x8U => extend!(u16x8 => u32x4, low, a),
        S::I32x4ExtendHighI16x8U => extend!(u16x8 => u32x4, high, a),
        S::I64x2ExtendLowI32x4S => extend!(i32x4 => i64x2, low, a),
        S::I64x2ExtendHighI32x4S => extend!(i32x4 => i64x2, high, a),
        S::I64x2ExtendLowI32x4U => extend!(u32x4 => u64x2, low, a),
        S::I64x2ExtendHighI32x4U => extend!(u32x4 => u64x2, high, a),

        // ---- Float: the scalar rules, lane by lane.
        S::F32x4Ceil => f32x4::map(a, float32::ceil),
        S::F32x4Floor => f32x4::map(a, float32::floor),
        S::F32x4Trunc => f32x4::map(a, float32::trunc),
        S::F32x4Nearest => f32x4::map(a, float32::nearest),
        S::F32x4Abs => f32x4::map(a, float32::abs),
        S::F32x4Neg => f32x4::map(a, float32::neg),
        S::F32x4Sqrt => f32x4::map(a, float32::sqrt),
        S::F64x2Ceil => f64x2::map(a, float64::ceil),
        S::F64x2Floor => f64x2::map(a, float64::floor),
        S::F64x2Trunc => f64x2::map(a, float64::trunc),
        S::F64x2Nearest => f64x2::map(a, float64::nearest),
        S::F64x2Abs => f64x2::map(a, float64::abs),
        S::F64x2Neg => f64x2::map(a, float64::neg),
        S::F64x2Sqrt => f64x2::map(a, float64::sqrt),

        // ---- Conversions: the scalar rules, lane by lane; `_zero` and `_low` variants
        // produce or read only the low lanes.
        S::I32x4TruncSatF32x4S => {
            f32x4::map(a, |x| numeric::i32_trunc_sat_s(numeric::f32_as_f64(x)))
        }
        S::I32x4TruncSatF32x4U => {
            f32x4::map(a, |x| numeric::i32_trunc_sat_u(numeric::f32_as_f64(x)))
        }
        S::I32x4TruncSatF64x2SZero => {
            let x = f64x2::lanes(a).map(|x| numeric::i32_trunc_sat_s(f64::from_bits(x)));
            u32x4::from_lanes([x[0], x[1], 0, 0])
        }
        S::I32x4TruncSatF64x2UZero => {
            let x = f64x2::lanes(a).map(|x| numeric::i32_trunc_sat_u(f64::from_bits(x)));
            u32x4::from_lanes([x[0], x[1], 0, 0])
        }
        S::F32x4ConvertI32x4S => u32x4::map(a, numeric::f32_convert_i32_s),
        S::F32x4ConvertI32x4U => u32x4::map(a, numeric::f32_convert_i32_u),
        S::F64x2ConvertLowI32x4S => {
            let x = u32x4::lanes(a);
            f64x2::from_lanes([x[0], x[1]].map(numeric::f64_convert_i32_s))
        }
        S::F64x2ConvertLowI32x4U => {
            let x = u32x4::lanes(a);
            f64x2::from_lanes([x[0], x[1]].map(numeric::f64_convert_i32_u))
        }
        S::F32x4DemoteF64x2Zero => {
            let x = f64x2::lanes(a).map(numeric::f32_demote);
            f32x4::from_lanes([x[0], x[1], 0, 0])
        }
        S::F64x2PromoteLowF32x4 => {
            let x = f32x4::lanes(a);
            f64x2::from_lanes([x[0], x[1]].map(numeric::f64_promote))
        }
    }
}

/// `v128.vbinop`: two vectors to one.
pub fn binary(op: SimdBinary, a: Slot, b: Slot) -> Slot {
    use SimdBinary as S;
    match op {
        // ---- Bitwise.
        S::V128And => a & b,
        S::V128AndNot => a & !b,
        S::V128Or => a | b,
        S::V128Xor => a ^ b,

        // ---- Swizzle: lane `b[i]` of `a`, zero for an index out of range.
        S::I8x16Swizzle => {
            let (a, b) = (u8x16::lanes(a), u8x16::lanes(b));
            u8x16::from_lanes(b.map(|j| a.get(j as usize).copied().unwrap_or(0)))
        }

        // ---- Integer comparisons.
        S::I8x16Eq => i8x16::cmp(a, b, |x, y| x == y),
        S::I8x16Ne => i8x16::cmp(a, b, |x, y| x != y),
        S::I8x16LtS => i8x16::cmp(a, b, |x, y| x < y),
        S::I8x16LtU => u8x16::cmp(a, b, |x, y| x < y),
        S::I8x16GtS => i8x16::cmp(a, b, |x, y| x > y),
        S::I8x16GtU => u8x16::cmp(a, b, |x, y| x > y),
        S::I8x16LeS => i8x16::cmp(a, b, |x, y| x <= y),
        S::I8x16LeU => u8x16::cmp(a, b, |x, y| x <= y),
        S::I8x16GeS => i8x16::cmp(a, b, |x, y| x >= y),
        S::I8x16GeU => u8x16::cmp(a, b, |x, y| x >= y),
        S::I16x8Eq => i16x8::cmp(a, b, |x, y| x == y),
        S::I16x8Ne => i16x8::cmp(a, b, |x, y| x != y),
        S::I16x8LtS => i16x8::cmp(a, b, |x, y| x < y),
        S::I16x8LtU => u16x8::cmp(a, b, |x, y| x < y),
        S::I16x8GtS => i16x8::cmp(a, b, |x, y| x > y),
        S::I16x8GtU => u16x8::cmp(a, b, |x, y| x > y),
        S::I16x8LeS => i16x8::cmp(a, b, |x, y| x <= y),
        S::I16x8LeU => u16x8::cmp(a, b, |x, y| x <= y),
        S::I16x8GeS => i16x8::cmp(a, b, |x, y| x >= y),
        S::I16x8GeU => u16x8::cmp(a, b, |x, y| x >= y),
        S::I32x4Eq => i32x4::cmp(a, b, |x, y| x == y),
        S::I32x4Ne => i32x4::cmp(a, b, |x, y| x != y),
        S::I32x4LtS => i32x4::cmp(a, b, |x, y| x < y),
        S::I32x4LtU => u32x4::cmp(a, b, |x, y| x < y),
        S::I32x4GtS => i32x4::cmp(a, b, |x, y| x > y),
        S::I32x4GtU => u32x4::cmp(a, b, |x, y| x > y),
        S::I32x4LeS => i32x4::cmp(a, b, |x, y| x <= y),
        S::I32x4LeU => u32x4::cmp(a, b, |x, y| x <= y),
        S::I32x4GeS => i32x4::cmp(a, b, |x, y| x >= y),
        S::I32x4GeU => u32x4::cmp(a, b, |x, y| x >= y),
        S::I64x2Eq => i64x2::cmp(a, b, |x, y| x == y),
        S::I64x2Ne => i64x2::cmp(a, b, |x, y| x != y),
        S::I64x2LtS => i64x2::cmp(a, b, |x, y| x < y),
        S::I64x2GtS => i64x2::cmp(a, b, |x, y| x > y),
        S::I64x2LeS => i64x2::cmp(a, b, |x, y| x <= y),
        S::I64x2GeS => i64x2::cmp(a, b, |x, y| x >= y),

        // ---- Float comparisons.
        S::F32x4Eq => f32x4::cmp(a, b, float32::eq),
        S::F32x4Ne => f32x4::cmp(a, b, float32::ne),
        S::F32x4Lt => f32x4::cmp(a, b, float32::lt),
        S::F32x4Gt => f32x4::cmp(a, b, float32::gt),
        S::F32x4Le => f32x4::cmp(a, b, float32::le),
        S::F32x4Ge => f32x4::cmp(a, b, float32::ge),
        S::F64x2Eq => f64x2::cmp(a, b, float64::eq),
        S::F64x2Ne => f64x2::cmp(a, b, float64::ne),
        S::F64x2Lt => f64x2::cmp(a, b, float64::lt),
        S::F64x2Gt => f64x2::cmp(a, b, float64::gt),
        S::F64x2Le => f64x2::cmp(a, b, float64::le),
        S::F64x2Ge => f64x2::cmp(a, b, float64::ge),

        // ---- Integer arithmetic (wrapping unless saturating).
        S::I8x16Add => u8x16::zip(a, b, u8::wrapping_add),
        S::I16x8Add => u16x8::zip(a, b, u16::wrapping_add),
        S::I32x4Add => u32x4::zip(a, b, u32::wrapping_add),
        S::I64x2Add => u64x2::zip(a, b, u64::wrapping_add),
        S::I8x16Sub => u8x16::zip(a, b, u8::wrapping_sub),
        S::I16x8Sub => u16x8::zip(a, b, u16::wrapping_sub),
        S::I32x4Sub => u32x4::zip(a, b, u32::wrapping_sub),
        S::I64x2Sub => u64x2::zip(a, b, u64::wrapping_sub),
        S::I16x8Mul => u16x8::zip(a, b, u16::wrapping_mul),
        S::I32x4Mul => u32x4::zip(a, b, u32::wrapping_mul),
        S::I64x2Mul => u64x2::zip(a, b, u64::wrapping_mul),
        S::I8x16AddSatS => i8x16::zip(a, b, i8::saturating_add),
        S::I8x16AddSatU => u8x16::zip(a, b, u8::saturating_add),
        S::I8x16SubSatS => i8x16::zip(a, b, i8::saturating_sub),
        S::I8x16SubSatU => u8x16::zip(a, b, u8::saturating_sub),
        S::I16x8AddSatS => i16x8::zip(a, b, i16::saturating_add),
        S::I16x8AddSatU => u16x8::zip(a, b, u16::saturating_add),
        S::I16x8SubSatS => i16x8::zip(a, b, i16::saturating_sub),
        S::I16x8SubSatU => u16x8::zip(a, b, u16::saturating_sub),
        S::I8x16MinS => i8x16::zip(a, b, Ord::min),
        S::I8x16MinU => u8x16::zip(a, b, Ord::min),
        S::I8x16MaxS => i8x16::zip(a, b, Ord::max),
        S::I8x16MaxU => u8x16::zip(a, b, Ord::max),
        S::I16x8MinS => i16x8::zip(a, b, Ord::min),
        S::I16x8MinU => u16x8::zip(a, b, Ord::min),
        S::I16x8MaxS => i16x8::zip(a, b, Ord::max),
        S::I16x8MaxU => u16x8::zip(a, b, Ord::max),
        S::I32x4MinS => i32x4::zip(a, b, Ord::min),
        S::I32x4MinU => u32x4::zip(a, b, Ord::min),
        S::I32x4MaxS => i32x4::zip(a, b, Ord::max),
        S::I32x4MaxU => u32x4::zip(a, b, Ord::max),
        S::I8x16AvgrU => u8x16::zip(a, b, avgr_u8),
        S::I16x8AvgrU => u16x8::zip(a, b, avgr_u16),
        S::I16x8Q15MulrSatS => i16x8::zip(a, b, q15mulr_sat),
        S::I32x4DotI16x8S => {
            let (a, b) = (i16x8::lanes(a), i16x8::lanes(b));
            let p = |i: usize| i32::from(a[i]) * i32::from(b[i]);
            i32x4::from_lanes(from_fn(|i| p(2 * i).wrapping_add(p(2 * i + 1))))
        }
        S::I8x16NarrowI16x8S => narrow!(i16x8 => i8x16, a, b),
        S::I8x16NarrowI16x8U => narrow!(i16x8 => u8x16, a, b),
        S::I16x8NarrowI32x4S => narrow!(i32x4 => i16x8, a, b),
        S::I16x8NarrowI32x4U => narrow!(i32x4 => u16x8, a, b),
        S::I16x8ExtMulLowI8x16S => extmul!(i8x16 => i16x8, low, a, b),
        S::I16x8ExtMulHighI8x16S => extmul!(i8x16 => i16x8, high, a, b),
        S::I16x8ExtMulLowI8x16U => extmul!(u8x16 => u16x8, low, a, b),
        S::I16x8ExtMulHighI8x16U => extmul!(u8x16 => u16x8, high, a, b),
        S::I32x4ExtMulLowI16x8S => extmul!(i16x8 => i32x4, low, a, b),
        S::I32x4ExtMulHighI16x8S => extmul!(i16x8 => i32x4, high, a, b),
        S::I32x4ExtMulLowI16x8U => extmul!(u16x8 => u32x4, low, a, b),
        S::I32x4ExtMulHighI16x8U => extmul!(u16x8 => u32x4, high, a, b),
        S::I64x2ExtMulLowI32x4S => extmul!(i32x4 => i64x2, low, a, b),
        S::I64x2ExtMulHighI32x4S => extmul!(i32x4 => i64x2, high, a, b),
        S::I64x2ExtMulLowI32x4U => extmul!(u32x4 => u64x2, low, a, b),
        S::I64x2ExtMulHighI32x4U => extmul!(u32x4 => u64x2, high, a, b),

        // ---- Float arithmetic: the scalar rules, lane by lane.
        S::F32x4Add => f32x4::zip(a, b, float32::add),
        S::F32x4Sub => f32x4::zip(a, b, float32::sub),
        S::F32x4Mul => f32x4::zip(a, b, float32::mul),
        S::F32x4Div => f32x4::zip(a, b, float32::div),
        S::F32x4Min => f32x4::zip(a, b, float32::min),
        S::F32x4Max => f32x4::zip(a, b, float32::max),
        S::F32x4PMin => f32x4::zip(a, b, pmin32),
        S::F32x4PMax => f32x4::zip(a, b, pmax32),
        S::F64x2Add => f64x2::zip(a, b, float64::add),
        S::F64x2Sub => f64x2::zip(a, b, float64::sub),
        S::F64x2Mul => f64x2::zip(a, b, float64::mul),
        S::F64x2Div => f64x2::zip(a, b, float64::div),
        S::F64x2Min => f64x2::zip(a, b, float64::min),
        S::F64x2Max => f64x2::zip(a, b, float64::max),
        S::F64x2PMin => f64x2::zip(a, b, pmin64),
        S::F64x2PMax => f64x2::zip(a, b, pmax64),
    }
}

/// `Config::canonicalize_nans` on a `v128` result: every NaN lane of the float lanes of the
/// shape the result has becomes the canonical NaN. Cranelift's pass canonicalizes the result
/// of the vector `fadd`, `fsub`, `fmul`, `fdiv`, `fmin`, `fmax`, `sqrt`, `ceil`, `floor`,
/// `trunc`, `nearest`, `fvdemote` and `fvpromote_low` (and `fma`); `pmin`/`pmax` are
/// compare-and-select there, and keep the operand's bits here too.
pub(crate) fn canonical_f32x4(v: Slot) -> Slot {
    f32x4::map(v, float32::canonical)
}

pub(crate) fn canonical_f64x2(v: Slot) -> Slot {
    f64x2::map(v, float64::canonical)
}

/// [`unary`]'s result `r` of `op` with its NaN lanes canonical, where `op` is arithmetic.
pub fn canonical_unary(op: SimdUnary, r: Slot) -> Slot {
    use SimdUnary as S;
    match op {
        S::F32x4Ceil
        | S::F32x4Floor
        | S::F32x4Trunc
        | S::F32x4Nearest
        | S::F32x4Sqrt
        | S::F32x4DemoteF64x2Zero => canonical_f32x4(r),
        S::F64x2Ceil
        | S::F64x2Floor
        | S::F64x2Trunc
        | S::F64x2Nearest
        | S::F64x2Sqrt
        | S::F64x2PromoteLowF32x4 => canonical_f64x2(r),
        _ => r,
    }
}

/// [`binary`]'s result `r` of `op` with its NaN lanes canonical, where `op` is arithmetic.
pub fn canonical_binary(op: SimdBinary, r: Slot) -> Slot {
    use SimdBinary as S;
    match op {
        S::F32x4Add | S::F32x4Sub | S::F32x4Mul | S::F32x4Div | S::F32x4Min | S::F32x4Max => {
            canonical_f32x4(r)
        }
        S::F64x2Add | S::F64x2Sub | S::F64x2Mul | S::F64x2Div | S::F64x2Min | S::F64x2Max => {
            canonical_f64x2(r)
        }
        _ => r,
    }
}

/// `v128.vternop`: three vectors to one.
pub fn ternary(op: SimdTernary, a: Slot, b: Slot, c: Slot) -> Slot {
    match op {
        // Bits of `a` where `c` is set, of `b` elsewhere.
        SimdTernary::V128Bitselect => (a & c) | (b & !c),
    }
}

/// `ishape.vshiftop`: the count `n` is taken modulo the lane width.
pub fn shift(op: SimdShift, a: Slot, n: u32) -> Slot {
    use SimdShift as S;
    match op {
        S::I8x16Shl => u8x16::map(a, |x| x << (n % 8)),
        S::I8x16ShrS => i8x16::map(a, |x| x >> (n % 8)),
        S::I8x16ShrU => u8x16::map(a, |x| x >> (n % 8)),
        S::I16x8Shl => u16x8::map(a, |x| x << (n % 16)),
        S::I16x8ShrS => i16x8::map(a, |x| x >> (n % 16)),
        S::I16x8ShrU => u16x8::map(a, |x| x >> (n % 16)),
        S::I32x4Shl => u32x4::map(a, |x| x << (n % 32)),
        S::I32x4ShrS => i32x4::map(a, |x| x >> (n % 32)),
        S::I32x4ShrU => u32x4::map(a, |x| x >> (n % 32)),
        S::I64x2Shl => u64x2::map(a, |x| x << (n % 64)),
        S::I64x2ShrS => i64x2::map(a, |x| x >> (n % 64)),
        S::I64x2ShrU => u64x2::map(a, |x| x >> (n % 64)),
    }
}

/// `shape.extract_lane_sx l`: the scalar in lane `l`.
pub fn extract_lane(op: SimdExtractLane, l: u8, v: Slot) -> Slot {
    use SimdExtractLane as S;
    let l = l as usize;
    match op {
        S::I8x16ExtractLaneS => Slot::from(i8x16::lanes(v)[l] as i32 as u32),
        S::I8x16ExtractLaneU => Slot::from(u8x16::lanes(v)[l]),
        S::I16x8ExtractLaneS => Slot::from(i16x8::lanes(v)[l] as i32 as u32),
        S::I16x8ExtractLaneU => Slot::from(u16x8::lanes(v)[l]),
        S::I32x4ExtractLane | S::F32x4ExtractLane => Slot::from(u32x4::lanes(v)[l]),
        S::I64x2ExtractLane | S::F64x2ExtractLane => Slot::from(u64x2::lanes(v)[l]),
    }
}

/// `shape.replace_lane l`: `v` with lane `l` set to the scalar `x`.
pub fn replace_lane(op: SimdReplaceLane, l: u8, v: Slot, x: Slot) -> Slot {
    use SimdReplaceLane as S;
    let l = l as usize;
    macro_rules! replace {
        ($shape:ident, $t:ty) => {{
            let mut a = $shape::lanes(v);
            a[l] = x as $t;
            $shape::from_lanes(a)
        }};
    }
    match op {
        S::I8x16ReplaceLane => replace!(u8x16, u8),
        S::I16x8ReplaceLane => replace!(u16x8, u16),
        S::I32x4ReplaceLane | S::F32x4ReplaceLane => replace!(u32x4, u32),
        S::I64x2ReplaceLane | S::F64x2ReplaceLane => replace!(u64x2, u64),
    }
}

/// `i8x16.shuffle`: lane `s[i]` of the 32 lanes of `a` then `b` (validation keeps the
/// indices below 32). The lanes are the little-endian bytes: taking them as bytes, not
/// shifted out of the `u128` one by one, made the rule about 4 times cheaper. Not inlined:
/// inside the dispatch loop it made the loop's other rules slower (CoreMark, no shuffles).
#[inline(never)]
pub fn shuffle(indices: u128, a: u128, b: u128) -> u128 {
    let mut ab = [0u8; 32];
    ab[..16].copy_from_slice(&a.to_le_bytes());
    ab[16..].copy_from_slice(&b.to_le_bytes());
    u128::from_le_bytes(indices.to_le_bytes().map(|j| ab[j as usize]))
}
