//! Relaxed SIMD: each instruction has a set of permitted results, and the runtime picks the
//! one the host computes fastest, written next to each lowering below. With
//! `Config::relaxed_simd_deterministic` every instruction takes the deterministic choice
//! instead (the same answer on every host): the matching non-relaxed instruction where there
//! is one, a fused multiply-add for `madd`/`nmadd`, and signed×signed products for the dot
//! products.

use super::super::{FuncTranslator, misrouted};
use super::{Half, Sign};
use crate::trap::{Error, Result};
use cranelift_codegen::ir::{InstBuilder, Type, Value};
use wasmparser::Operator as O;

use cranelift_codegen::ir::types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2};

impl FuncTranslator<'_, '_> {
    pub(in crate::translate) fn translate_relaxed_simd(&mut self, op: &O<'_>) -> Result<()> {
        let native = !self.env.relaxed_deterministic;
        match *op {
            // Native: `pshufb`, which takes an index modulo 16 unless its top bit is set
            // (then the lane is 0); both are permitted for indices >= 16.
            O::I8x16RelaxedSwizzle if native => {
                self.v_binop(I8X16, |s, a, b| s.b.ins().x86_pshufb(a, b))
            }
            O::I8x16RelaxedSwizzle => self.translate_simd(&O::I8x16Swizzle)?,
            // Native: `cvttps2dq`, INT_MIN for NaN and out-of-range lanes (permitted).
            O::I32x4RelaxedTruncF32x4S if native => {
                self.v_unop(F32X4, |s, a| s.b.ins().x86_cvtt2dq(I32X4, a))
            }
            O::I32x4RelaxedTruncF32x4S => self.translate_simd(&O::I32x4TruncSatF32x4S)?,
            // Native: `cvttpd2dq` into the low lanes, zeros above.
            O::I32x4RelaxedTruncF64x2SZero if native => self.v_unop(F64X2, |s, a| {
                let t = s.b.ins().x86_cvtt2dq(I64X2, a);
                let zero = s.vconst(I64X2, [0; 16]);
                s.b.ins().snarrow(t, zero)
            }),
            O::I32x4RelaxedTruncF64x2SZero => self.translate_simd(&O::I32x4TruncSatF64x2SZero)?,
            // x86 before AVX-512 has no unsigned vector truncation: the saturating sequence is
            // the native choice too.
            O::I32x4RelaxedTruncF32x4U => self.translate_simd(&O::I32x4TruncSatF32x4U)?,
            O::I32x4RelaxedTruncF64x2UZero => self.translate_simd(&O::I32x4TruncSatF64x2UZero)?,
            // Native: `vfmadd` when the CPU has FMA, else a rounded multiply then add (both
            // permitted). Deterministic: always fused.
            O::F32x4RelaxedMadd => self.relaxed_madd(F32X4, false)?,
            O::F64x2RelaxedMadd => self.relaxed_madd(F64X2, false)?,
            O::F32x4RelaxedNmadd => self.relaxed_madd(F32X4, true)?,
            O::F64x2RelaxedNmadd => self.relaxed_madd(F64X2, true)?,
            // Every lane width: `bitselect` (pand/pandn/por), which is the deterministic
            // choice; SSE4.1's `blendv` (top bit of each lane) is not reachable through this
            // Cranelift release's IR, and bitselect costs one instruction more at most.
            O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => self.translate_simd(&O::V128Bitselect)?,
            // Native: `minps`/`maxps` (and the pd forms), which return the second operand when
            // either is NaN or both are zeros: `a < b ? a : b` is pmin with swapped operands.
            O::F32x4RelaxedMin if native => self.relaxed_minmax(F32X4, false),
            O::F64x2RelaxedMin if native => self.relaxed_minmax(F64X2, false),
            O::F32x4RelaxedMax if native => self.relaxed_minmax(F32X4, true),
            O::F64x2RelaxedMax if native => self.relaxed_minmax(F64X2, true),
            O::F32x4RelaxedMin => self.translate_simd(&O::F32x4Min)?,
            O::F64x2RelaxedMin => self.translate_simd(&O::F64x2Min)?,
            O::F32x4RelaxedMax => self.translate_simd(&O::F32x4Max)?,
            O::F64x2RelaxedMax => self.translate_simd(&O::F64x2Max)?,
            // Native: `pmulhrsw`, which wraps the one overflowing case (-2^15 * -2^15) to
            // -2^15 instead of saturating (permitted).
            O::I16x8RelaxedQ15mulrS if native => {
                self.v_binop(I16X8, |s, a, b| s.b.ins().x86_pmulhrsw(a, b))
            }
            O::I16x8RelaxedQ15mulrS => self.translate_simd(&O::I16x8Q15MulrSatS)?,
            O::I16x8RelaxedDotI8x16I7x16S => self.v_binop(I8X16, |s, a, b| s.relaxed_dot(a, b)),
            // The i16 dot product, then adjacent i16 lanes widened and added, plus `c`.
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_v(I32X4);
                let b = self.pop_v(I8X16);
                let a = self.pop_v(I8X16);
                let dot = self.relaxed_dot(a, b);
                let lo = self.widen(dot, Half::Low, Sign::S);
                let hi = self.widen(dot, Half::High, Sign::S);
                let sums = self.b.ins().iadd_pairwise(lo, hi);
                let v = self.b.ins().iadd(sums, c);
                self.push_v(v);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }

    /// `a * b + c`, or `-(a * b) + c` for `nmadd`.
    fn relaxed_madd(&mut self, ty: Type, negate: bool) -> Result<()> {
        let fused = self.env.has_fma || self.env.relaxed_deterministic;
        if fused && !self.env.has_fma {
            // Cranelift would lower a vector fma to per-lane libcalls, which this runtime
            // does not link.
            return Err(Error::Compile(
                "deterministic relaxed_madd needs a host with FMA".into(),
            ));
        }
        let c = self.pop_v(ty);
        let b = self.pop_v(ty);
        let a = self.pop_v(ty);
        let a = if negate { self.b.ins().fneg(a) } else { a };
        let v = if fused {
            self.b.ins().fma(a, b, c)
        } else {
            let p = self.b.ins().fmul(a, b);
            self.b.ins().fadd(p, c)
        };
        self.push_v(v);
        Ok(())
    }

    /// `minps`/`maxps` semantics: `a < b ? a : b` and `a > b ? a : b`.
    fn relaxed_minmax(&mut self, ty: Type, max: bool) {
        let b = self.pop();
        let a = self.pop();
        self.push(b);
        self.push(a);
        self.v_pminmax(ty, max);
    }

    /// Adjacent products of i8 lanes summed into i16 lanes. Native: `pmaddubsw`, with `a`
    /// signed and `b` unsigned, the pair sums saturated; for a `b` whose lanes fit in 7 bits
    /// that is exact, and otherwise permitted. Deterministic: both signed, the pair sums
    /// wrapping (they overflow only for two -128 × -128 products).
    fn relaxed_dot(&mut self, a: Value, b: Value) -> Value {
        if !self.env.relaxed_deterministic {
            return self.b.ins().x86_pmaddubsw(a, b);
        }
        let (al, ah) = (
            self.widen(a, Half::Low, Sign::S),
            self.widen(a, Half::High, Sign::S),
        );
        let (bl, bh) = (
            self.widen(b, Half::Low, Sign::S),
            self.widen(b, Half::High, Sign::S),
        );
        let lo = self.b.ins().imul(al, bl);
        let hi = self.b.ins().imul(ah, bh);
        self.b.ins().iadd_pairwise(lo, hi)
    }
}
