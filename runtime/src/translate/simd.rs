//! Fixed-width SIMD: every `v128` instruction, lowered to Cranelift's vector IR.
//!
//! Wasm has one `v128` type; Cranelift types vectors by lane shape. Every v128 on the operand
//! stack, in a local, a block parameter or a call is an `i8x16`; an instruction bitcasts its
//! operands to the shape it works on ([`FuncTranslator::pop_v`]) and its result back
//! ([`FuncTranslator::push_v`]). The bitcasts are free: the egraph folds bitcast pairs and the
//! backend keeps all shapes in the same XMM registers.
//!
//! Most instructions map to one Cranelift instruction with the same semantics (lane-wise
//! wrapping arithmetic, saturating ops, `fmin`/`fmax` with Wasm's NaN and signed-zero rules,
//! out-of-range `swizzle` indices selecting zero). The rest are composed here, each with a
//! comment: shift counts (masked to the lane width), lane extraction of narrow lanes,
//! `pmin`/`pmax`, extended multiplication, pairwise addition, the dot product and the
//! conversions that go through 64-bit lanes.

mod relaxed;

use super::{FuncTranslator, misrouted};
use crate::trap::Result;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};

use types::{F32X4, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64X2};

/// Which half of the input lanes a widening operation reads.
#[derive(Clone, Copy)]
enum Half {
    Low,
    High,
}

/// Sign of a widening operation's input lanes.
#[derive(Clone, Copy)]
enum Sign {
    S,
    U,
}

impl FuncTranslator<'_, '_> {
    /// Reinterpret a vector as another lane shape (no code).
    fn vcast(&mut self, ty: Type, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            return v;
        }
        let flags = MemFlagsData::new().with_endianness(Endianness::Little);
        self.b.ins().bitcast(ty, flags, v)
    }

    /// Pop a v128 as lane shape `ty`.
    fn pop_v(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.vcast(ty, v)
    }

    /// Push a vector of any shape as the canonical `i8x16`.
    fn push_v(&mut self, v: Value) {
        let v = self.vcast(I8X16, v);
        self.push(v);
    }

    fn vconst(&mut self, ty: Type, bytes: [u8; 16]) -> Value {
        let c = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(&bytes[..]));
        self.b.ins().vconst(ty, c)
    }

    fn v_unop(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop_v(ty);
        let v = f(self, a);
        self.push_v(v);
    }

    fn v_binop(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let b = self.pop_v(ty);
        let a = self.pop_v(ty);
        let v = f(self, a, b);
        self.push_v(v);
    }

    /// Lane-wise integer comparison: all ones where true.
    fn v_icmp(&mut self, ty: Type, cc: IntCC) {
        self.v_binop(ty, |s, a, b| s.b.ins().icmp(cc, a, b));
    }

    /// Lane-wise float comparison: an integer mask of the same lane width.
    fn v_fcmp(&mut self, ty: Type, cc: FloatCC) {
        self.v_binop(ty, |s, a, b| s.b.ins().fcmp(cc, a, b));
    }

    /// A shift by a scalar count. Wasm takes the count modulo the lane width; the mask makes
    /// that explicit rather than relying on the backend.
    fn v_shift(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let count = self.pop();
        let a = self.pop_v(ty);
        let bits = i64::from(ty.lane_bits());
        let count = self.b.ins().band_imm_s(count, bits - 1);
        let v = f(self, a, count);
        self.push_v(v);
    }

    /// A scalar result (`any_true`, `all_true`, `bitmask`) as an i32.
    fn v_to_i32(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop_v(ty);
        let r = f(self, a);
        let r = match self.b.func.dfg.value_type(r) {
            I32 => r,
            _ => self.b.ins().uextend(I32, r),
        };
        self.push(r);
    }

    fn splat(&mut self, ty: Type) {
        let x = self.pop();
        // i8 and i16 lanes are splatted from the low bits of an i32 operand.
        let x = match ty.lane_type() {
            I8 | I16 => self.b.ins().ireduce(ty.lane_type(), x),
            _ => x,
        };
        let v = self.b.ins().splat(ty, x);
        self.push_v(v);
    }

    fn extract_lane(&mut self, ty: Type, lane: u8, sign: Option<Sign>) {
        let a = self.pop_v(ty);
        let x = self.b.ins().extractlane(a, lane);
        let x = match sign {
            Some(Sign::S) => self.b.ins().sextend(I32, x),
            Some(Sign::U) => self.b.ins().uextend(I32, x),
            None => x,
        };
        self.push(x);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let x = self.pop();
        let a = self.pop_v(ty);
        let x = match ty.lane_type() {
            I8 | I16 => self.b.ins().ireduce(ty.lane_type(), x),
            _ => x,
        };
        let v = self.b.ins().insertlane(a, x, lane);
        self.push_v(v);
    }

    /// Widen half of the lanes of `a` (of shape `from`) to twice their width.
    fn widen(&mut self, a: Value, half: Half, sign: Sign) -> Value {
        let ins = self.b.ins();
        match (half, sign) {
            (Half::Low, Sign::S) => ins.swiden_low(a),
            (Half::High, Sign::S) => ins.swiden_high(a),
            (Half::Low, Sign::U) => ins.uwiden_low(a),
            (Half::High, Sign::U) => ins.uwiden_high(a),
        }
    }

    fn v_extend(&mut self, from: Type, half: Half, sign: Sign) {
        self.v_unop(from, |s, a| s.widen(a, half, sign));
    }

    /// `extmul`: widen the same half of both operands, then multiply (the product of two
    /// n-bit values always fits in 2n bits).
    fn v_extmul(&mut self, from: Type, half: Half, sign: Sign) {
        self.v_binop(from, |s, a, b| {
            let a = s.widen(a, half, sign);
            let b = s.widen(b, half, sign);
            s.b.ins().imul(a, b)
        });
    }

    /// `extadd_pairwise`: widen both halves, then add adjacent lanes.
    fn v_extadd_pairwise(&mut self, from: Type, sign: Sign) {
        self.v_unop(from, |s, a| {
            let lo = s.widen(a, Half::Low, sign);
            let hi = s.widen(a, Half::High, sign);
            s.b.ins().iadd_pairwise(lo, hi)
        });
    }

    /// `pmin` is `b < a ? b : a` and `pmax` is `a < b ? b : a`, lane-wise; unlike
    /// `fmin`/`fmax` they return the first operand when either is NaN.
    fn v_pminmax(&mut self, ty: Type, max: bool) {
        self.v_binop(ty, |s, a, b| {
            let mask = if max {
                s.b.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                s.b.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let mask = s.vcast(ty, mask);
            s.b.ins().bitselect(mask, b, a)
        });
    }

    pub(super) fn translate_simd(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match *op {
            // Memory.
            O::V128Load { ref memarg } => {
                self.load(memarg, 16, |s, f, a, o| s.b.ins().load(I8X16, f, a, o))
            }
            O::V128Load8x8S { ref memarg } => {
                self.load_v(memarg, 8, |s, f, a, o| s.b.ins().sload8x8(f, a, o))
            }
            O::V128Load8x8U { ref memarg } => {
                self.load_v(memarg, 8, |s, f, a, o| s.b.ins().uload8x8(f, a, o))
            }
            O::V128Load16x4S { ref memarg } => {
                self.load_v(memarg, 8, |s, f, a, o| s.b.ins().sload16x4(f, a, o))
            }
            O::V128Load16x4U { ref memarg } => {
                self.load_v(memarg, 8, |s, f, a, o| s.b.ins().uload16x4(f, a, o))
            }
            O::V128Load32x2S { ref memarg } => {
                self.load_v(memarg, 8, |s, f, a, o| s.b.ins().sload32x2(f, a, o))
            }
            O::V128Load32x2U { ref memarg } => {
                self.load_v(memarg, 8, |s, f, a, o| s.b.ins().uload32x2(f, a, o))
            }
            O::V128Load8Splat { ref memarg } => self.load_splat(memarg, I8X16),
            O::V128Load16Splat { ref memarg } => self.load_splat(memarg, I16X8),
            O::V128Load32Splat { ref memarg } => self.load_splat(memarg, I32X4),
            O::V128Load64Splat { ref memarg } => self.load_splat(memarg, I64X2),
            O::V128Load32Zero { ref memarg } => self.load_zero(memarg, I32X4),
            O::V128Load64Zero { ref memarg } => self.load_zero(memarg, I64X2),
            O::V128Load8Lane { ref memarg, lane } => self.load_lane(memarg, I8X16, lane),
            O::V128Load16Lane { ref memarg, lane } => self.load_lane(memarg, I16X8, lane),
            O::V128Load32Lane { ref memarg, lane } => self.load_lane(memarg, I32X4, lane),
            O::V128Load64Lane { ref memarg, lane } => self.load_lane(memarg, I64X2, lane),
            O::V128Store { ref memarg } => self.store(memarg, 16, None),
            O::V128Store8Lane { ref memarg, lane } => self.store_lane(memarg, I8X16, lane),
            O::V128Store16Lane { ref memarg, lane } => self.store_lane(memarg, I16X8, lane),
            O::V128Store32Lane { ref memarg, lane } => self.store_lane(memarg, I32X4, lane),
            O::V128Store64Lane { ref memarg, lane } => self.store_lane(memarg, I64X2, lane),

            // Constants, shuffles and lanes.
            O::V128Const { value } => {
                let v = self.vconst(I8X16, *value.bytes());
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let b = self.pop_v(I8X16);
                let a = self.pop_v(I8X16);
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(&lanes[..]));
                let v = self.b.ins().shuffle(a, b, mask);
                self.push_v(v);
            }
            O::I8x16Swizzle => self.v_binop(I8X16, |s, a, b| s.b.ins().swizzle(a, b)),
            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Some(Sign::S)),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Some(Sign::U)),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Some(Sign::S)),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Some(Sign::U)),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, None),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, None),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, None),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, None),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            // Integer comparisons.
            O::I8x16Eq => self.v_icmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.v_icmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.v_icmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.v_icmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.v_icmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.v_icmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.v_icmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.v_icmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.v_icmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.v_icmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.v_icmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.v_icmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.v_icmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.v_icmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.v_icmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.v_icmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.v_icmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.v_icmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.v_icmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.v_icmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.v_icmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.v_icmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.v_icmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.v_icmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.v_icmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.v_icmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.v_icmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.v_icmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.v_icmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.v_icmp(I64X2, IntCC::SignedGreaterThanOrEqual),

            // Float comparisons (`ne` is true for unordered operands, as in Wasm).
            O::F32x4Eq => self.v_fcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.v_fcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.v_fcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.v_fcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.v_fcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.v_fcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.v_fcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.v_fcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.v_fcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.v_fcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.v_fcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.v_fcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // Bitwise.
            O::V128Not => self.v_unop(I8X16, |s, a| s.b.ins().bnot(a)),
            O::V128And => self.v_binop(I8X16, |s, a, b| s.b.ins().band(a, b)),
            O::V128AndNot => self.v_binop(I8X16, |s, a, b| s.b.ins().band_not(a, b)),
            O::V128Or => self.v_binop(I8X16, |s, a, b| s.b.ins().bor(a, b)),
            O::V128Xor => self.v_binop(I8X16, |s, a, b| s.b.ins().bxor(a, b)),
            O::V128Bitselect => {
                let c = self.pop_v(I8X16);
                let (a, b) = self.pop2();
                let v = self.b.ins().bitselect(c, a, b);
                self.push_v(v);
            }
            O::V128AnyTrue => self.v_to_i32(I8X16, |s, a| s.b.ins().vany_true(a)),

            // Integer lane arithmetic.
            O::I8x16Abs => self.v_unop(I8X16, |s, a| s.b.ins().iabs(a)),
            O::I16x8Abs => self.v_unop(I16X8, |s, a| s.b.ins().iabs(a)),
            O::I32x4Abs => self.v_unop(I32X4, |s, a| s.b.ins().iabs(a)),
            O::I64x2Abs => self.v_unop(I64X2, |s, a| s.b.ins().iabs(a)),
            O::I8x16Neg => self.v_unop(I8X16, |s, a| s.b.ins().ineg(a)),
            O::I16x8Neg => self.v_unop(I16X8, |s, a| s.b.ins().ineg(a)),
            O::I32x4Neg => self.v_unop(I32X4, |s, a| s.b.ins().ineg(a)),
            O::I64x2Neg => self.v_unop(I64X2, |s, a| s.b.ins().ineg(a)),
            O::I8x16Popcnt => self.v_unop(I8X16, |s, a| s.b.ins().popcnt(a)),
            O::I8x16AllTrue => self.v_to_i32(I8X16, |s, a| s.b.ins().vall_true(a)),
            O::I16x8AllTrue => self.v_to_i32(I16X8, |s, a| s.b.ins().vall_true(a)),
            O::I32x4AllTrue => self.v_to_i32(I32X4, |s, a| s.b.ins().vall_true(a)),
            O::I64x2AllTrue => self.v_to_i32(I64X2, |s, a| s.b.ins().vall_true(a)),
            O::I8x16Bitmask => self.v_to_i32(I8X16, |s, a| s.b.ins().vhigh_bits(I32, a)),
            O::I16x8Bitmask => self.v_to_i32(I16X8, |s, a| s.b.ins().vhigh_bits(I32, a)),
            O::I32x4Bitmask => self.v_to_i32(I32X4, |s, a| s.b.ins().vhigh_bits(I32, a)),
            O::I64x2Bitmask => self.v_to_i32(I64X2, |s, a| s.b.ins().vhigh_bits(I32, a)),
            O::I8x16Shl => self.v_shift(I8X16, |s, a, c| s.b.ins().ishl(a, c)),
            O::I16x8Shl => self.v_shift(I16X8, |s, a, c| s.b.ins().ishl(a, c)),
            O::I32x4Shl => self.v_shift(I32X4, |s, a, c| s.b.ins().ishl(a, c)),
            O::I64x2Shl => self.v_shift(I64X2, |s, a, c| s.b.ins().ishl(a, c)),
            O::I8x16ShrS => self.v_shift(I8X16, |s, a, c| s.b.ins().sshr(a, c)),
            O::I16x8ShrS => self.v_shift(I16X8, |s, a, c| s.b.ins().sshr(a, c)),
            O::I32x4ShrS => self.v_shift(I32X4, |s, a, c| s.b.ins().sshr(a, c)),
            O::I64x2ShrS => self.v_shift(I64X2, |s, a, c| s.b.ins().sshr(a, c)),
            O::I8x16ShrU => self.v_shift(I8X16, |s, a, c| s.b.ins().ushr(a, c)),
            O::I16x8ShrU => self.v_shift(I16X8, |s, a, c| s.b.ins().ushr(a, c)),
            O::I32x4ShrU => self.v_shift(I32X4, |s, a, c| s.b.ins().ushr(a, c)),
            O::I64x2ShrU => self.v_shift(I64X2, |s, a, c| s.b.ins().ushr(a, c)),
            O::I8x16Add => self.v_binop(I8X16, |s, a, b| s.b.ins().iadd(a, b)),
            O::I16x8Add => self.v_binop(I16X8, |s, a, b| s.b.ins().iadd(a, b)),
            O::I32x4Add => self.v_binop(I32X4, |s, a, b| s.b.ins().iadd(a, b)),
            O::I64x2Add => self.v_binop(I64X2, |s, a, b| s.b.ins().iadd(a, b)),
            O::I8x16Sub => self.v_binop(I8X16, |s, a, b| s.b.ins().isub(a, b)),
            O::I16x8Sub => self.v_binop(I16X8, |s, a, b| s.b.ins().isub(a, b)),
            O::I32x4Sub => self.v_binop(I32X4, |s, a, b| s.b.ins().isub(a, b)),
            O::I64x2Sub => self.v_binop(I64X2, |s, a, b| s.b.ins().isub(a, b)),
            O::I16x8Mul => self.v_binop(I16X8, |s, a, b| s.b.ins().imul(a, b)),
            O::I32x4Mul => self.v_binop(I32X4, |s, a, b| s.b.ins().imul(a, b)),
            O::I64x2Mul => self.v_binop(I64X2, |s, a, b| s.b.ins().imul(a, b)),
            O::I8x16AddSatS => self.v_binop(I8X16, |s, a, b| s.b.ins().sadd_sat(a, b)),
            O::I8x16AddSatU => self.v_binop(I8X16, |s, a, b| s.b.ins().uadd_sat(a, b)),
            O::I16x8AddSatS => self.v_binop(I16X8, |s, a, b| s.b.ins().sadd_sat(a, b)),
            O::I16x8AddSatU => self.v_binop(I16X8, |s, a, b| s.b.ins().uadd_sat(a, b)),
            O::I8x16SubSatS => self.v_binop(I8X16, |s, a, b| s.b.ins().ssub_sat(a, b)),
            O::I8x16SubSatU => self.v_binop(I8X16, |s, a, b| s.b.ins().usub_sat(a, b)),
            O::I16x8SubSatS => self.v_binop(I16X8, |s, a, b| s.b.ins().ssub_sat(a, b)),
            O::I16x8SubSatU => self.v_binop(I16X8, |s, a, b| s.b.ins().usub_sat(a, b)),
            O::I8x16MinS => self.v_binop(I8X16, |s, a, b| s.b.ins().smin(a, b)),
            O::I8x16MinU => self.v_binop(I8X16, |s, a, b| s.b.ins().umin(a, b)),
            O::I8x16MaxS => self.v_binop(I8X16, |s, a, b| s.b.ins().smax(a, b)),
            O::I8x16MaxU => self.v_binop(I8X16, |s, a, b| s.b.ins().umax(a, b)),
            O::I16x8MinS => self.v_binop(I16X8, |s, a, b| s.b.ins().smin(a, b)),
            O::I16x8MinU => self.v_binop(I16X8, |s, a, b| s.b.ins().umin(a, b)),
            O::I16x8MaxS => self.v_binop(I16X8, |s, a, b| s.b.ins().smax(a, b)),
            O::I16x8MaxU => self.v_binop(I16X8, |s, a, b| s.b.ins().umax(a, b)),
            O::I32x4MinS => self.v_binop(I32X4, |s, a, b| s.b.ins().smin(a, b)),
            O::I32x4MinU => self.v_binop(I32X4, |s, a, b| s.b.ins().umin(a, b)),
            O::I32x4MaxS => self.v_binop(I32X4, |s, a, b| s.b.ins().smax(a, b)),
            O::I32x4MaxU => self.v_binop(I32X4, |s, a, b| s.b.ins().umax(a, b)),
            O::I8x16AvgrU => self.v_binop(I8X16, |s, a, b| s.b.ins().avg_round(a, b)),
            O::I16x8AvgrU => self.v_binop(I16X8, |s, a, b| s.b.ins().avg_round(a, b)),
            O::I16x8Q15MulrSatS => self.v_binop(I16X8, |s, a, b| s.b.ins().sqmul_round_sat(a, b)),
            // dot: multiply the widened halves, then add adjacent products (wrapping, as the
            // one overflowing case, (-2^15)^2 * 2, wraps in Wasm too).
            O::I32x4DotI16x8S => self.v_binop(I16X8, |s, a, b| {
                let (al, ah) = (
                    s.widen(a, Half::Low, Sign::S),
                    s.widen(a, Half::High, Sign::S),
                );
                let (bl, bh) = (
                    s.widen(b, Half::Low, Sign::S),
                    s.widen(b, Half::High, Sign::S),
                );
                let lo = s.b.ins().imul(al, bl);
                let hi = s.b.ins().imul(ah, bh);
                s.b.ins().iadd_pairwise(lo, hi)
            }),

            // Narrowing, widening, extended multiplication, pairwise addition.
            O::I8x16NarrowI16x8S => self.v_binop(I16X8, |s, a, b| s.b.ins().snarrow(a, b)),
            O::I8x16NarrowI16x8U => self.v_binop(I16X8, |s, a, b| s.b.ins().unarrow(a, b)),
            O::I16x8NarrowI32x4S => self.v_binop(I32X4, |s, a, b| s.b.ins().snarrow(a, b)),
            O::I16x8NarrowI32x4U => self.v_binop(I32X4, |s, a, b| s.b.ins().unarrow(a, b)),
            O::I16x8ExtendLowI8x16S => self.v_extend(I8X16, Half::Low, Sign::S),
            O::I16x8ExtendHighI8x16S => self.v_extend(I8X16, Half::High, Sign::S),
            O::I16x8ExtendLowI8x16U => self.v_extend(I8X16, Half::Low, Sign::U),
            O::I16x8ExtendHighI8x16U => self.v_extend(I8X16, Half::High, Sign::U),
            O::I32x4ExtendLowI16x8S => self.v_extend(I16X8, Half::Low, Sign::S),
            O::I32x4ExtendHighI16x8S => self.v_extend(I16X8, Half::High, Sign::S),
            O::I32x4ExtendLowI16x8U => self.v_extend(I16X8, Half::Low, Sign::U),
            O::I32x4ExtendHighI16x8U => self.v_extend(I16X8, Half::High, Sign::U),
            O::I64x2ExtendLowI32x4S => self.v_extend(I32X4, Half::Low, Sign::S),
            O::I64x2ExtendHighI32x4S => self.v_extend(I32X4, Half::High, Sign::S),
            O::I64x2ExtendLowI32x4U => self.v_extend(I32X4, Half::Low, Sign::U),
            O::I64x2ExtendHighI32x4U => self.v_extend(I32X4, Half::High, Sign::U),
            O::I16x8ExtMulLowI8x16S => self.v_extmul(I8X16, Half::Low, Sign::S),
            O::I16x8ExtMulHighI8x16S => self.v_extmul(I8X16, Half::High, Sign::S),
            O::I16x8ExtMulLowI8x16U => self.v_extmul(I8X16, Half::Low, Sign::U),
            O::I16x8ExtMulHighI8x16U => self.v_extmul(I8X16, Half::High, Sign::U),
            O::I32x4ExtMulLowI16x8S => self.v_extmul(I16X8, Half::Low, Sign::S),
            O::I32x4ExtMulHighI16x8S => self.v_extmul(I16X8, Half::High, Sign::S),
            O::I32x4ExtMulLowI16x8U => self.v_extmul(I16X8, Half::Low, Sign::U),
            O::I32x4ExtMulHighI16x8U => self.v_extmul(I16X8, Half::High, Sign::U),
            O::I64x2ExtMulLowI32x4S => self.v_extmul(I32X4, Half::Low, Sign::S),
            O::I64x2ExtMulHighI32x4S => self.v_extmul(I32X4, Half::High, Sign::S),
            O::I64x2ExtMulLowI32x4U => self.v_extmul(I32X4, Half::Low, Sign::U),
            O::I64x2ExtMulHighI32x4U => self.v_extmul(I32X4, Half::High, Sign::U),
            O::I16x8ExtAddPairwiseI8x16S => self.v_extadd_pairwise(I8X16, Sign::S),
            O::I16x8ExtAddPairwiseI8x16U => self.v_extadd_pairwise(I8X16, Sign::U),
            O::I32x4ExtAddPairwiseI16x8S => self.v_extadd_pairwise(I16X8, Sign::S),
            O::I32x4ExtAddPairwiseI16x8U => self.v_extadd_pairwise(I16X8, Sign::U),

            // Float lane arithmetic.
            O::F32x4Abs => self.v_unop(F32X4, |s, a| s.b.ins().fabs(a)),
            O::F64x2Abs => self.v_unop(F64X2, |s, a| s.b.ins().fabs(a)),
            O::F32x4Neg => self.v_unop(F32X4, |s, a| s.b.ins().fneg(a)),
            O::F64x2Neg => self.v_unop(F64X2, |s, a| s.b.ins().fneg(a)),
            O::F32x4Sqrt => self.v_unop(F32X4, |s, a| s.b.ins().sqrt(a)),
            O::F64x2Sqrt => self.v_unop(F64X2, |s, a| s.b.ins().sqrt(a)),
            O::F32x4Ceil => self.v_unop(F32X4, |s, a| s.b.ins().ceil(a)),
            O::F64x2Ceil => self.v_unop(F64X2, |s, a| s.b.ins().ceil(a)),
            O::F32x4Floor => self.v_unop(F32X4, |s, a| s.b.ins().floor(a)),
            O::F64x2Floor => self.v_unop(F64X2, |s, a| s.b.ins().floor(a)),
            O::F32x4Trunc => self.v_unop(F32X4, |s, a| s.b.ins().trunc(a)),
            O::F64x2Trunc => self.v_unop(F64X2, |s, a| s.b.ins().trunc(a)),
            O::F32x4Nearest => self.v_unop(F32X4, |s, a| s.b.ins().nearest(a)),
            O::F64x2Nearest => self.v_unop(F64X2, |s, a| s.b.ins().nearest(a)),
            O::F32x4Add => self.v_binop(F32X4, |s, a, b| s.b.ins().fadd(a, b)),
            O::F64x2Add => self.v_binop(F64X2, |s, a, b| s.b.ins().fadd(a, b)),
            O::F32x4Sub => self.v_binop(F32X4, |s, a, b| s.b.ins().fsub(a, b)),
            O::F64x2Sub => self.v_binop(F64X2, |s, a, b| s.b.ins().fsub(a, b)),
            O::F32x4Mul => self.v_binop(F32X4, |s, a, b| s.b.ins().fmul(a, b)),
            O::F64x2Mul => self.v_binop(F64X2, |s, a, b| s.b.ins().fmul(a, b)),
            O::F32x4Div => self.v_binop(F32X4, |s, a, b| s.b.ins().fdiv(a, b)),
            O::F64x2Div => self.v_binop(F64X2, |s, a, b| s.b.ins().fdiv(a, b)),
            O::F32x4Min => self.v_binop(F32X4, |s, a, b| s.b.ins().fmin(a, b)),
            O::F64x2Min => self.v_binop(F64X2, |s, a, b| s.b.ins().fmin(a, b)),
            O::F32x4Max => self.v_binop(F32X4, |s, a, b| s.b.ins().fmax(a, b)),
            O::F64x2Max => self.v_binop(F64X2, |s, a, b| s.b.ins().fmax(a, b)),
            O::F32x4PMin => self.v_pminmax(F32X4, false),
            O::F64x2PMin => self.v_pminmax(F64X2, false),
            O::F32x4PMax => self.v_pminmax(F32X4, true),
            O::F64x2PMax => self.v_pminmax(F64X2, true),

            // Conversions.
            O::F32x4ConvertI32x4S => self.v_unop(I32X4, |s, a| s.b.ins().fcvt_from_sint(F32X4, a)),
            O::F32x4ConvertI32x4U => self.v_unop(I32X4, |s, a| s.b.ins().fcvt_from_uint(F32X4, a)),
            O::I32x4TruncSatF32x4S => {
                self.v_unop(F32X4, |s, a| s.b.ins().fcvt_to_sint_sat(I32X4, a))
            }
            O::I32x4TruncSatF32x4U => {
                self.v_unop(F32X4, |s, a| s.b.ins().fcvt_to_uint_sat(I32X4, a))
            }
            // The low two i32 lanes, widened to i64 lanes (exact), then converted.
            O::F64x2ConvertLowI32x4S => self.v_unop(I32X4, |s, a| {
                let w = s.b.ins().swiden_low(a);
                s.b.ins().fcvt_from_sint(F64X2, w)
            }),
            O::F64x2ConvertLowI32x4U => self.v_unop(I32X4, |s, a| {
                let w = s.b.ins().uwiden_low(a);
                s.b.ins().fcvt_from_uint(F64X2, w)
            }),
            // Saturate to i64 lanes, then narrow (saturating again, to the i32 range) into
            // the low half with zeros above.
            O::I32x4TruncSatF64x2SZero => self.v_unop(F64X2, |s, a| {
                let t = s.b.ins().fcvt_to_sint_sat(I64X2, a);
                let zero = s.vconst(I64X2, [0; 16]);
                s.b.ins().snarrow(t, zero)
            }),
            O::I32x4TruncSatF64x2UZero => self.v_unop(F64X2, |s, a| {
                let t = s.b.ins().fcvt_to_uint_sat(I64X2, a);
                let zero = s.vconst(I64X2, [0; 16]);
                s.b.ins().uunarrow(t, zero)
            }),
            O::F32x4DemoteF64x2Zero => self.v_unop(F64X2, |s, a| s.b.ins().fvdemote(a)),
            O::F64x2PromoteLowF32x4 => self.v_unop(F32X4, |s, a| s.b.ins().fvpromote_low(a)),
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }

    /// A load whose result is a vector of any shape, pushed as the canonical `i8x16` (the
    /// scalar `load` helper pushes what it is given).
    fn load_v(
        &mut self,
        ma: &wasmparser::MemArg,
        size: u32,
        f: impl FnOnce(&mut Self, MemFlagsData, Value, i32) -> Value,
    ) {
        self.load(ma, size, f);
        let v = self.pop();
        self.push_v(v);
    }

    /// Load one lane-sized scalar and splat it.
    fn load_splat(&mut self, ma: &wasmparser::MemArg, ty: Type) {
        let lane = ty.lane_type();
        self.load_v(ma, lane.bytes(), |s, f, a, o| {
            let x = s.b.ins().load(lane, f, a, o);
            s.b.ins().splat(ty, x)
        });
    }

    /// Load a 32- or 64-bit scalar into lane 0, zeroing the rest.
    fn load_zero(&mut self, ma: &wasmparser::MemArg, ty: Type) {
        let lane = ty.lane_type();
        self.load_v(ma, lane.bytes(), |s, f, a, o| {
            let x = s.b.ins().load(lane, f, a, o);
            s.b.ins().scalar_to_vector(ty, x)
        });
    }

    fn load_lane(&mut self, ma: &wasmparser::MemArg, ty: Type, lane: u8) {
        let v = self.pop_v(ty);
        let lt = ty.lane_type();
        self.load_v(ma, lt.bytes(), |s, f, a, o| {
            let x = s.b.ins().load(lt, f, a, o);
            s.b.ins().insertlane(v, x, lane)
        });
    }

    fn store_lane(&mut self, ma: &wasmparser::MemArg, ty: Type, lane: u8) {
        let v = self.pop_v(ty);
        let x = self.b.ins().extractlane(v, lane);
        self.push(x);
        self.store(ma, ty.lane_type().bytes(), None);
    }
}
