//! Numeric instructions (spec section 4.3, "Numerics"), on raw bits.
//!
//! Integers wrap. Floats are bit patterns (`u32`/`u64`), so NaN payloads are under control:
//! where the spec lets a NaN result be nondeterministic, the oracle makes the reference
//! interpreter's choice: the first NaN operand with its quiet bit set, otherwise the
//! canonical NaN. Rust's float operations are used only where IEEE-754 fixes the result.

use crate::TrapKind;
use crate::instr::{BinOp, Cmp, FloatOp, IntOp};
use crate::value::Slot;

// ---------------------------------------------------------------------------------------
// Integers.

pub fn i32_div_s(a: u32, b: u32) -> Result<u32, TrapKind> {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        Err(TrapKind::IntegerDivideByZero)
    } else if a == i32::MIN && b == -1 {
        Err(TrapKind::IntegerOverflow)
    } else {
        Ok((a / b) as u32)
    }
}

pub fn i32_div_u(a: u32, b: u32) -> Result<u32, TrapKind> {
    a.checked_div(b).ok_or(TrapKind::IntegerDivideByZero)
}

/// `rem_s`: the sign of the dividend; `MIN rem_s -1` is 0, not a trap.
pub fn i32_rem_s(a: u32, b: u32) -> Result<u32, TrapKind> {
    if b == 0 {
        Err(TrapKind::IntegerDivideByZero)
    } else {
        Ok((a as i32).wrapping_rem(b as i32) as u32)
    }
}

pub fn i32_rem_u(a: u32, b: u32) -> Result<u32, TrapKind> {
    a.checked_rem(b).ok_or(TrapKind::IntegerDivideByZero)
}

pub fn i64_div_s(a: u64, b: u64) -> Result<u64, TrapKind> {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        Err(TrapKind::IntegerDivideByZero)
    } else if a == i64::MIN && b == -1 {
        Err(TrapKind::IntegerOverflow)
    } else {
        Ok((a / b) as u64)
    }
}

pub fn i64_div_u(a: u64, b: u64) -> Result<u64, TrapKind> {
    a.checked_div(b).ok_or(TrapKind::IntegerDivideByZero)
}

pub fn i64_rem_s(a: u64, b: u64) -> Result<u64, TrapKind> {
    if b == 0 {
        Err(TrapKind::IntegerDivideByZero)
    } else {
        Ok((a as i64).wrapping_rem(b as i64) as u64)
    }
}

pub fn i64_rem_u(a: u64, b: u64) -> Result<u64, TrapKind> {
    a.checked_rem(b).ok_or(TrapKind::IntegerDivideByZero)
}

// ---------------------------------------------------------------------------------------
// Floats: shared definitions for both widths.

macro_rules! float_ops {
    (
        $mod:ident, $bits:ty, $float:ty,
        sign = $sign:expr, exp = $exp:expr, quiet = $quiet:expr
    ) => {
        pub mod $mod {
            use crate::instr::FloatOp;

            /// Sign bit.
            pub const SIGN: $bits = $sign;
            /// Exponent bits.
            pub const EXP: $bits = $exp;
            /// The quiet bit (most significant bit of the payload).
            pub const QUIET: $bits = $quiet;
            /// The canonical NaN: positive, only the quiet bit set in the payload.
            pub const CANONICAL_NAN: $bits = EXP | QUIET;

            pub fn is_nan(a: $bits) -> bool {
                a & EXP == EXP && a & !(SIGN | EXP) != 0
            }

            /// `a`, or the canonical NaN if `a` is a NaN (`Config::canonicalize_nans`).
            pub fn canonical(a: $bits) -> $bits {
                if is_nan(a) { CANONICAL_NAN } else { a }
            }

            fn f(a: $bits) -> $float {
                <$float>::from_bits(a)
            }

            /// Result of an arithmetic operation: the first NaN operand, quieted; else the
            /// computed result, with any NaN produced replaced by the canonical NaN.
            ///
            /// `r` must be a NaN whenever an operand is (true of every IEEE operation), so
            /// the common case, a result that is a number, is decided by one test of `r`
            /// before the operands are looked at (it was three tests on every float rule).
            fn arith2(a: $bits, b: $bits, r: $float) -> $bits {
                if !r.is_nan() {
                    r.to_bits()
                } else if is_nan(a) {
                    a | QUIET
                } else if is_nan(b) {
                    b | QUIET
                } else {
                    CANONICAL_NAN
                }
            }

            /// `arith2` of one operand.
            fn arith1(a: $bits, r: $float) -> $bits {
                arith2(a, a, r)
            }

            pub fn add(a: $bits, b: $bits) -> $bits {
                arith2(a, b, f(a) + f(b))
            }
            pub fn sub(a: $bits, b: $bits) -> $bits {
                arith2(a, b, f(a) - f(b))
            }
            pub fn mul(a: $bits, b: $bits) -> $bits {
                arith2(a, b, f(a) * f(b))
            }
            pub fn div(a: $bits, b: $bits) -> $bits {
                arith2(a, b, f(a) / f(b))
            }
            /// `a * b + c` rounded once (relaxed SIMD's fused multiply-add).
            pub fn fma(a: $bits, b: $bits, c: $bits) -> $bits {
                if is_nan(a) || is_nan(b) {
                    arith2(a, b, <$float>::NAN)
                } else {
                    arith2(c, c, f(a).mul_add(f(b), f(c)))
                }
            }
            pub fn sqrt(a: $bits) -> $bits {
                arith1(a, f(a).sqrt())
            }
            pub fn ceil(a: $bits) -> $bits {
                arith1(a, f(a).ceil())
            }
            pub fn floor(a: $bits) -> $bits {
                arith1(a, f(a).floor())
            }
            pub fn trunc(a: $bits) -> $bits {
                arith1(a, f(a).trunc())
            }
            /// Round to nearest integer, ties to even (keeps the sign of zero).
            pub fn nearest(a: $bits) -> $bits {
                arith1(a, f(a).round_ties_even())
            }

            /// `min`: NaN if either operand is NaN; -0 is below +0.
            pub fn min(a: $bits, b: $bits) -> $bits {
                if is_nan(a) || is_nan(b) {
                    arith2(a, b, <$float>::NAN)
                } else if f(a) == f(b) {
                    // Equal, possibly zeros of different signs: -0 wins.
                    a | b
                } else if f(a) < f(b) {
                    a
                } else {
                    b
                }
            }

            /// `max`: NaN if either operand is NaN; +0 is above -0.
            pub fn max(a: $bits, b: $bits) -> $bits {
                if is_nan(a) || is_nan(b) {
                    arith2(a, b, <$float>::NAN)
                } else if f(a) == f(b) {
                    a & b
                } else if f(a) > f(b) {
                    a
                } else {
                    b
                }
            }

            // Sign operations are pure bit operations, even on NaNs.
            pub fn abs(a: $bits) -> $bits {
                a & !SIGN
            }
            pub fn neg(a: $bits) -> $bits {
                a ^ SIGN
            }
            pub fn copysign(a: $bits, b: $bits) -> $bits {
                (a & !SIGN) | (b & SIGN)
            }

            /// The rule of the instruction `op` names; its NaN result canonical if `canon`
            /// (as `arith32!`/`arith64!` in `exec.rs`: all but `copysign`).
            #[inline(always)]
            pub fn binary(op: FloatOp, canon: bool, a: $bits, b: $bits) -> $bits {
                let r = match op {
                    FloatOp::Add => add(a, b),
                    FloatOp::Sub => sub(a, b),
                    FloatOp::Mul => mul(a, b),
                    FloatOp::Div => div(a, b),
                    FloatOp::Min => min(a, b),
                    FloatOp::Max => max(a, b),
                    FloatOp::Copysign => return copysign(a, b),
                };
                if canon { canonical(r) } else { r }
            }

            // Comparisons (false whenever a NaN is involved, except `ne`).
            pub fn eq(a: $bits, b: $bits) -> bool {
                f(a) == f(b)
            }
            pub fn ne(a: $bits, b: $bits) -> bool {
                f(a) != f(b)
            }
            pub fn lt(a: $bits, b: $bits) -> bool {
                f(a) < f(b)
            }
            pub fn gt(a: $bits, b: $bits) -> bool {
                f(a) > f(b)
            }
            pub fn le(a: $bits, b: $bits) -> bool {
                f(a) <= f(b)
            }
            pub fn ge(a: $bits, b: $bits) -> bool {
                f(a) >= f(b)
            }
        }
    };
}

float_ops!(
    float32,
    u32,
    f32,
    sign = 0x8000_0000,
    exp = 0x7f80_0000,
    quiet = 0x0040_0000
);
float_ops!(
    float64,
    u64,
    f64,
    sign = 0x8000_0000_0000_0000,
    exp = 0x7ff0_0000_0000_0000,
    quiet = 0x0008_0000_0000_0000
);

// ---------------------------------------------------------------------------------------
// Conversions.

/// `trunc` of a float (given as f64: every f32 converts exactly) into the integer range
/// `lo < t < hi` (both bounds exclusive, exactly representable). NaN is an invalid
/// conversion, out of range is an overflow.
fn trunc_checked(x: f64, lo: f64, hi: f64) -> Result<f64, TrapKind> {
    if x.is_nan() {
        return Err(TrapKind::InvalidConversionToInteger);
    }
    let t = x.trunc();
    if t <= lo || t >= hi {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(t)
}

// Exclusive bounds: -2^31 - 1, 2^31, -1, 2^32, -2^63 - 1 (not representable: use the
// inclusive check below), 2^63, 2^64.
const TWO31: f64 = 2147483648.0;
const TWO32: f64 = 4294967296.0;
const TWO63: f64 = 9223372036854775808.0;
const TWO64: f64 = 18446744073709551616.0;

pub fn i32_trunc_s(x: f64) -> Result<u32, TrapKind> {
    Ok(trunc_checked(x, -TWO31 - 1.0, TWO31)? as i32 as u32)
}
pub fn i32_trunc_u(x: f64) -> Result<u32, TrapKind> {
    Ok(trunc_checked(x, -1.0, TWO32)? as u32)
}
pub fn i64_trunc_s(x: f64) -> Result<u64, TrapKind> {
    if x.is_nan() {
        return Err(TrapKind::InvalidConversionToInteger);
    }
    let t = x.trunc();
    // -2^63 itself is representable and in range; anything below is not.
    if !(-TWO63..TWO63).contains(&t) {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(t as i64 as u64)
}
pub fn i64_trunc_u(x: f64) -> Result<u64, TrapKind> {
    Ok(trunc_checked(x, -1.0, TWO64)? as u64)
}

// Saturating versions: Rust's `as` from float to int is exactly `trunc_sat` (NaN -> 0,
// out-of-range values clamp to the nearest bound).
pub fn i32_trunc_sat_s(x: f64) -> u32 {
    x as i32 as u32
}
pub fn i32_trunc_sat_u(x: f64) -> u32 {
    x as u32
}
pub fn i64_trunc_sat_s(x: f64) -> u64 {
    x as i64 as u64
}
pub fn i64_trunc_sat_u(x: f64) -> u64 {
    x as u64
}

// Integer to float: Rust's `as` rounds to nearest, ties to even, which is the spec's rule.
// (For i64 -> f32 this is a single rounding of the exact integer, not a double rounding
// through f64.)
pub fn f32_convert_i32_s(a: u32) -> u32 {
    (a as i32 as f32).to_bits()
}
pub fn f32_convert_i32_u(a: u32) -> u32 {
    (a as f32).to_bits()
}
pub fn f32_convert_i64_s(a: u64) -> u32 {
    (a as i64 as f32).to_bits()
}
pub fn f32_convert_i64_u(a: u64) -> u32 {
    (a as f32).to_bits()
}
pub fn f64_convert_i32_s(a: u32) -> u64 {
    f64::from(a as i32).to_bits()
}
pub fn f64_convert_i32_u(a: u32) -> u64 {
    f64::from(a).to_bits()
}
pub fn f64_convert_i64_s(a: u64) -> u64 {
    (a as i64 as f64).to_bits()
}
pub fn f64_convert_i64_u(a: u64) -> u64 {
    (a as f64).to_bits()
}

/// `f32.demote_f64`: round to nearest; a NaN keeps its sign and the top payload bits and
/// becomes quiet (so the canonical NaN stays canonical).
pub fn f32_demote(a: u64) -> u32 {
    if float64::is_nan(a) {
        let sign = ((a >> 63) as u32) << 31;
        let payload = ((a >> 29) as u32) & 0x007f_ffff;
        sign | float32::EXP | float32::QUIET | payload
    } else {
        (f64::from_bits(a) as f32).to_bits()
    }
}

/// `f64.promote_f32`: exact; a NaN keeps its sign and payload and becomes quiet.
pub fn f64_promote(a: u32) -> u64 {
    if float32::is_nan(a) {
        let sign = u64::from(a >> 31) << 63;
        let payload = u64::from(a & 0x007f_ffff) << 29;
        sign | float64::EXP | float64::QUIET | payload
    } else {
        f64::from(f32::from_bits(a)).to_bits()
    }
}

/// The float value of f32 bits, widened exactly to f64 (for the truncations).
pub fn f32_as_f64(a: u32) -> f64 {
    f64::from(f32::from_bits(a))
}

/// The comparison `c` of `a` and `b` (slots holding two numbers of the same type): the rule
/// of the comparison instruction of the same name, for [`crate::instr::Instr::BrIfCmp`].
/// Inlined: as a call it cost more than the fused dispatches saved.
#[inline(always)]
pub(crate) fn compare(c: Cmp, a: Slot, b: Slot) -> bool {
    let (a32, b32) = (a as u32, b as u32);
    let (a64, b64) = (a as u64, b as u64);
    match c {
        Cmp::I32Eq => a32 == b32,
        Cmp::I32Ne => a32 != b32,
        Cmp::I32LtS => (a32 as i32) < (b32 as i32),
        Cmp::I32LtU => a32 < b32,
        Cmp::I32GtS => (a32 as i32) > (b32 as i32),
        Cmp::I32GtU => a32 > b32,
        Cmp::I32LeS => (a32 as i32) <= (b32 as i32),
        Cmp::I32LeU => a32 <= b32,
        Cmp::I32GeS => (a32 as i32) >= (b32 as i32),
        Cmp::I32GeU => a32 >= b32,
        Cmp::I64Eq => a64 == b64,
        Cmp::I64Ne => a64 != b64,
        Cmp::I64LtS => (a64 as i64) < (b64 as i64),
        Cmp::I64LtU => a64 < b64,
        Cmp::I64GtS => (a64 as i64) > (b64 as i64),
        Cmp::I64GtU => a64 > b64,
        Cmp::I64LeS => (a64 as i64) <= (b64 as i64),
        Cmp::I64LeU => a64 <= b64,
        Cmp::I64GeS => (a64 as i64) >= (b64 as i64),
        Cmp::I64GeU => a64 >= b64,
        Cmp::F32Eq => float32::eq(a32, b32),
        Cmp::F32Ne => float32::ne(a32, b32),
        Cmp::F32Lt => float32::lt(a32, b32),
        Cmp::F32Gt => float32::gt(a32, b32),
        Cmp::F32Le => float32::le(a32, b32),
        Cmp::F32Ge => float32::ge(a32, b32),
        Cmp::F64Eq => float64::eq(a64, b64),
        Cmp::F64Ne => float64::ne(a64, b64),
        Cmp::F64Lt => float64::lt(a64, b64),
        Cmp::F64Gt => float64::gt(a64, b64),
        Cmp::F64Le => float64::le(a64, b64),
        Cmp::F64Ge => float64::ge(a64, b64),
    }
}

/// `i32.op` of `a` and `b` for [`crate::instr::Instr::I32BinConst`]: the rule of the
/// instruction of the same name.
pub(crate) fn i32_binary(op: IntOp, a: u32, b: u32) -> u32 {
    match op {
        IntOp::Add => a.wrapping_add(b),
        IntOp::Sub => a.wrapping_sub(b),
        IntOp::Mul => a.wrapping_mul(b),
        IntOp::And => a & b,
        IntOp::Or => a | b,
        IntOp::Xor => a ^ b,
        IntOp::Shl => a.wrapping_shl(b),
        IntOp::ShrS => (a as i32).wrapping_shr(b) as u32,
        IntOp::ShrU => a.wrapping_shr(b),
        IntOp::Rotl => a.rotate_left(b % 32),
        IntOp::Rotr => a.rotate_right(b % 32),
    }
}

/// `i64.op` of `a` and `b` for [`crate::instr::Instr::I64BinConst`].
pub(crate) fn i64_binary(op: IntOp, a: u64, b: u64) -> u64 {
    match op {
        IntOp::Add => a.wrapping_add(b),
        IntOp::Sub => a.wrapping_sub(b),
        IntOp::Mul => a.wrapping_mul(b),
        IntOp::And => a & b,
        IntOp::Or => a | b,
        IntOp::Xor => a ^ b,
        IntOp::Shl => a.wrapping_shl(b as u32),
        IntOp::ShrS => (a as i64).wrapping_shr(b as u32) as u64,
        IntOp::ShrU => a.wrapping_shr(b as u32),
        IntOp::Rotl => a.rotate_left((b % 64) as u32),
        IntOp::Rotr => a.rotate_right((b % 64) as u32),
    }
}

/// The binary operation `op` of `a` and `b` (number slots read as 64 bits; a 32-bit result
/// zero-extended), for [`crate::instr::Instr::BinLocal`] and `BinLocals`: the rule of the
/// instruction of the same name. Inlined into the loop: as a call it cost more than the
/// dispatch it saves (the loop's live registers are saved around it).
#[inline(always)]
pub(crate) fn binary(op: BinOp, canon: bool, a: u64, b: u64) -> u64 {
    let i32 = |o| u64::from(i32_binary(o, a as u32, b as u32));
    let i64 = |o| i64_binary(o, a, b);
    let f32 = |o| u64::from(float32::binary(o, canon, a as u32, b as u32));
    let f64 = |o| float64::binary(o, canon, a, b);
    match op {
        BinOp::I32Add => i32(IntOp::Add),
        BinOp::I32Sub => i32(IntOp::Sub),
        BinOp::I32Mul => i32(IntOp::Mul),
        BinOp::I32And => i32(IntOp::And),
        BinOp::I32Or => i32(IntOp::Or),
        BinOp::I32Xor => i32(IntOp::Xor),
        BinOp::I32Shl => i32(IntOp::Shl),
        BinOp::I32ShrS => i32(IntOp::ShrS),
        BinOp::I32ShrU => i32(IntOp::ShrU),
        BinOp::I32Rotl => i32(IntOp::Rotl),
        BinOp::I32Rotr => i32(IntOp::Rotr),
        BinOp::I64Add => i64(IntOp::Add),
        BinOp::I64Sub => i64(IntOp::Sub),
        BinOp::I64Mul => i64(IntOp::Mul),
        BinOp::I64And => i64(IntOp::And),
        BinOp::I64Or => i64(IntOp::Or),
        BinOp::I64Xor => i64(IntOp::Xor),
        BinOp::I64Shl => i64(IntOp::Shl),
        BinOp::I64ShrS => i64(IntOp::ShrS),
        BinOp::I64ShrU => i64(IntOp::ShrU),
        BinOp::I64Rotl => i64(IntOp::Rotl),
        BinOp::I64Rotr => i64(IntOp::Rotr),
        BinOp::F32Add => f32(FloatOp::Add),
        BinOp::F32Sub => f32(FloatOp::Sub),
        BinOp::F32Mul => f32(FloatOp::Mul),
        BinOp::F32Div => f32(FloatOp::Div),
        BinOp::F32Min => f32(FloatOp::Min),
        BinOp::F32Max => f32(FloatOp::Max),
        BinOp::F32Copysign => f32(FloatOp::Copysign),
        BinOp::F64Add => f64(FloatOp::Add),
        BinOp::F64Sub => f64(FloatOp::Sub),
        BinOp::F64Mul => f64(FloatOp::Mul),
        BinOp::F64Div => f64(FloatOp::Div),
        BinOp::F64Min => f64(FloatOp::Min),
        BinOp::F64Max => f64(FloatOp::Max),
        BinOp::F64Copysign => f64(FloatOp::Copysign),
    }
}
