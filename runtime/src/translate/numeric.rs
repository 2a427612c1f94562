//! Constants, integer and float arithmetic, comparisons and conversions.

use super::{FuncTranslator, misrouted};
use crate::trap::Result;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{InstBuilder, InstructionData, MemFlagsData, Opcode, Value, types};

impl FuncTranslator<'_, '_> {
    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().icmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().fcmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(self, a, b);
        self.push(v);
    }

    /// A commutative integer operation, its operands ordered for the register allocator.
    ///
    /// x64's two-address instructions (`xor`, `and`, `or`, `add`, `imul`) overwrite their first
    /// operand. Wasm's order put a local's value first and the freshly computed temporary
    /// second (`local.get x; ...; i64.xor`), so the tied operand was usually one still live
    /// afterwards: regalloc2 had to split around it and insert a copy, and on a large
    /// straight-line function under register pressure (shootout-keccak's permutation: 2,300
    /// `xor`s, 1,100 `and`s, ~43 values live at once) that search is most of the compile time.
    /// A value defined by the instruction just emitted is a stack temporary whose only use is
    /// usually this one, so it goes first and its register is simply reused. Constants stay
    /// second (an immediate). On keccak this cut the compile's instruction count by ~2%
    /// (regalloc2 ~3%); ordering the other way round costs ~7% more.
    fn commutative(&mut self, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let last = self
            .b
            .current_block()
            .and_then(|blk| self.b.func.layout.last_inst(blk));
        let swap = last.is_some()
            && self.b.func.dfg.value_def(b).inst() == last
            && self.iconst_of(b).is_none();
        let v = if swap { f(self, b, a) } else { f(self, a, b) };
        self.push(v);
    }

    /// The value of `v` if it is an integer constant.
    fn iconst_of(&self, v: Value) -> Option<i64> {
        let inst = self.b.func.dfg.value_def(v).inst()?;
        match self.b.func.dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    /// `x & 0xffff_ffff` on i64, as the zero extension of `x`'s low half. x64 has no
    /// immediate for that mask, so the `and` read it from the constant pool and was tied to
    /// `x`; the extension is one untied 32-bit `mov`, or nothing when Cranelift can narrow the
    /// producer to a 32-bit operation (which zeroes the upper half). Keccak's permutation has
    /// 330 such masks: ~2% fewer instructions to compile it, and 3% less code.
    fn i64_and(&mut self, a: Value, b: Value) -> Value {
        let (x, k) = if self.iconst_of(a).is_some() {
            (b, a)
        } else {
            (a, b)
        };
        if self.iconst_of(k) == Some(0xffff_ffff) {
            let lo = self.b.ins().ireduce(types::I32, x);
            self.b.ins().uextend(types::I64, lo)
        } else {
            self.b.ins().band(a, b)
        }
    }

    fn unop(&mut self, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = f(self, a);
        self.push(v);
    }

    pub(super) fn translate_numeric(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use types::{F32, F64, I8, I16, I32, I64};
        use wasmparser::Operator as O;
        match *op {
            O::I32Const { value } => {
                let v = self.b.ins().iconst(I32, i64::from(value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            // Tests.
            O::I32Eqz | O::I64Eqz => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
                let v = self.bool_to_i32(c);
                self.push(v);
            }
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            #[cfg(feature = "fault-injection")]
            O::I32GtU | O::I64GtU if crate::fault::is(crate::fault::Fault::SwappedCompare) => {
                // Planted bug: operands swapped.
                let (a, b) = self.pop2();
                let c = self.b.ins().icmp(IntCC::UnsignedGreaterThan, b, a);
                let v = self.bool_to_i32(c);
                self.push(v);
            }
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),
            // Integer arithmetic.
            O::I32Clz | O::I64Clz => self.unop(|s, a| s.b.ins().clz(a)),
            O::I32Ctz | O::I64Ctz => self.unop(|s, a| s.b.ins().ctz(a)),
            O::I32Popcnt | O::I64Popcnt => self.unop(|s, a| s.b.ins().popcnt(a)),
            O::I32Add | O::I64Add => self.commutative(|s, a, b| s.b.ins().iadd(a, b)),
            O::I32Sub | O::I64Sub => self.binop(|s, a, b| s.b.ins().isub(a, b)),
            O::I32Mul | O::I64Mul => self.commutative(|s, a, b| s.b.ins().imul(a, b)),
            O::I32DivS | O::I64DivS => self.binop(|s, a, b| s.b.ins().sdiv(a, b)),
            O::I32DivU | O::I64DivU => self.binop(|s, a, b| s.b.ins().udiv(a, b)),
            O::I32RemS | O::I64RemS => self.binop(|s, a, b| s.b.ins().srem(a, b)),
            O::I32RemU | O::I64RemU => self.binop(|s, a, b| s.b.ins().urem(a, b)),
            O::I32And => self.commutative(|s, a, b| s.b.ins().band(a, b)),
            O::I64And => self.commutative(|s, a, b| s.i64_and(a, b)),
            O::I32Or | O::I64Or => self.commutative(|s, a, b| s.b.ins().bor(a, b)),
            O::I32Xor | O::I64Xor => self.commutative(|s, a, b| s.b.ins().bxor(a, b)),
            O::I32Shl | O::I64Shl => self.binop(|s, a, b| s.b.ins().ishl(a, b)),
            O::I32ShrS | O::I64ShrS => self.binop(|s, a, b| s.b.ins().sshr(a, b)),
            O::I32ShrU | O::I64ShrU => self.binop(|s, a, b| s.b.ins().ushr(a, b)),
            O::I32Rotl | O::I64Rotl => self.binop(|s, a, b| s.b.ins().rotl(a, b)),
            O::I32Rotr | O::I64Rotr => self.binop(|s, a, b| s.b.ins().rotr(a, b)),
            // Float arithmetic.
            O::F32Abs | O::F64Abs => self.unop(|s, a| s.b.ins().fabs(a)),
            O::F32Neg | O::F64Neg => self.unop(|s, a| s.b.ins().fneg(a)),
            O::F32Ceil | O::F64Ceil => self.unop(|s, a| s.b.ins().ceil(a)),
            O::F32Floor | O::F64Floor => self.unop(|s, a| s.b.ins().floor(a)),
            O::F32Trunc | O::F64Trunc => self.unop(|s, a| s.b.ins().trunc(a)),
            O::F32Nearest | O::F64Nearest => self.unop(|s, a| s.b.ins().nearest(a)),
            O::F32Sqrt | O::F64Sqrt => self.unop(|s, a| s.b.ins().sqrt(a)),
            O::F32Add | O::F64Add => self.binop(|s, a, b| s.b.ins().fadd(a, b)),
            O::F32Sub | O::F64Sub => self.binop(|s, a, b| s.b.ins().fsub(a, b)),
            O::F32Mul | O::F64Mul => self.binop(|s, a, b| s.b.ins().fmul(a, b)),
            O::F32Div | O::F64Div => self.binop(|s, a, b| s.b.ins().fdiv(a, b)),
            #[cfg(feature = "fault-injection")]
            O::F32Min | O::F64Min if crate::fault::is(crate::fault::Fault::MinNanRule) => {
                // Planted bug: a NaN operand is ignored (the other operand is returned).
                self.binop(|s, a, b| {
                    let m = s.b.ins().fmin(a, b);
                    let b_nan = s.b.ins().fcmp(FloatCC::Unordered, b, b);
                    let m = s.b.ins().select(b_nan, a, m);
                    let a_nan = s.b.ins().fcmp(FloatCC::Unordered, a, a);
                    s.b.ins().select(a_nan, b, m)
                })
            }
            O::F32Min | O::F64Min => self.binop(|s, a, b| s.b.ins().fmin(a, b)),
            O::F32Max | O::F64Max => self.binop(|s, a, b| s.b.ins().fmax(a, b)),
            O::F32Copysign | O::F64Copysign => self.binop(|s, a, b| s.b.ins().fcopysign(a, b)),
            // Conversions.
            O::I32WrapI64 => self.unop(|s, a| s.b.ins().ireduce(I32, a)),
            O::I64ExtendI32S => self.unop(|s, a| s.b.ins().sextend(I64, a)),
            O::I64ExtendI32U => self.unop(|s, a| s.b.ins().uextend(I64, a)),
            O::I32TruncF32S | O::I32TruncF64S => self.unop(|s, a| s.b.ins().fcvt_to_sint(I32, a)),
            O::I32TruncF32U | O::I32TruncF64U => self.unop(|s, a| s.b.ins().fcvt_to_uint(I32, a)),
            O::I64TruncF32S | O::I64TruncF64S => self.unop(|s, a| s.b.ins().fcvt_to_sint(I64, a)),
            O::I64TruncF32U | O::I64TruncF64U => self.unop(|s, a| s.b.ins().fcvt_to_uint(I64, a)),
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unop(|s, a| s.b.ins().fcvt_to_sint_sat(I32, a))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unop(|s, a| s.b.ins().fcvt_to_uint_sat(I32, a))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unop(|s, a| s.b.ins().fcvt_to_sint_sat(I64, a))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unop(|s, a| s.b.ins().fcvt_to_uint_sat(I64, a))
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unop(|s, a| s.b.ins().fcvt_from_sint(F32, a))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unop(|s, a| s.b.ins().fcvt_from_uint(F32, a))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unop(|s, a| s.b.ins().fcvt_from_sint(F64, a))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unop(|s, a| s.b.ins().fcvt_from_uint(F64, a))
            }
            O::F32DemoteF64 => self.unop(|s, a| s.b.ins().fdemote(F32, a)),
            O::F64PromoteF32 => self.unop(|s, a| s.b.ins().fpromote(F64, a)),
            O::I32ReinterpretF32 => {
                self.unop(|s, a| s.b.ins().bitcast(I32, MemFlagsData::new(), a))
            }
            O::I64ReinterpretF64 => {
                self.unop(|s, a| s.b.ins().bitcast(I64, MemFlagsData::new(), a))
            }
            O::F32ReinterpretI32 => {
                self.unop(|s, a| s.b.ins().bitcast(F32, MemFlagsData::new(), a))
            }
            O::F64ReinterpretI64 => {
                self.unop(|s, a| s.b.ins().bitcast(F64, MemFlagsData::new(), a))
            }
            // Sign extension.
            O::I32Extend8S => self.unop(|s, a| {
                let n = s.b.ins().ireduce(I8, a);
                s.b.ins().sextend(I32, n)
            }),
            O::I32Extend16S => self.unop(|s, a| {
                let n = s.b.ins().ireduce(I16, a);
                s.b.ins().sextend(I32, n)
            }),
            O::I64Extend8S => self.unop(|s, a| {
                let n = s.b.ins().ireduce(I8, a);
                s.b.ins().sextend(I64, n)
            }),
            O::I64Extend16S => self.unop(|s, a| {
                let n = s.b.ins().ireduce(I16, a);
                s.b.ins().sextend(I64, n)
            }),
            O::I64Extend32S => self.unop(|s, a| {
                let n = s.b.ins().ireduce(I32, a);
                s.b.ins().sextend(I64, n)
            }),
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Instance, Module, Store};

    /// The reordered commutative operations and the masked `and` compute what wasm says, with
    /// the constant on either side and the operands in either order.
    #[test]
    fn reordered_and_masked_operations() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (func (export "mask_r") (param i64) (result i64)
                    local.get 0 i64.const 0xffffffff i64.and)
                (func (export "mask_l") (param i64) (result i64)
                    i64.const 0xffffffff local.get 0 i64.and)
                (func (export "mask_fresh") (param i64 i64) (result i64)
                    local.get 0 local.get 1 i64.xor i64.const 0xffffffff i64.and)
                (func (export "mix") (param i64 i64) (result i64)
                    local.get 0 local.get 1 local.get 1 i64.const 7 i64.shl i64.xor
                    i64.and local.get 0 i64.const 3 i64.mul i64.add
                    local.get 1 i64.or local.get 0 i64.sub)
                (func (export "mix32") (param i32 i32) (result i32)
                    local.get 0 local.get 1 i32.const 5 i32.rotl i32.and
                    local.get 1 i32.xor local.get 0 i32.mul))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let samples: [i64; 6] = [0, 1, -1, 0x1234_5678_9abc_def0, i64::MIN, 0xffff_ffff];
        for name in ["mask_r", "mask_l"] {
            let f = inst.get_typed_func::<i64, i64>(&mut store, name).unwrap();
            for x in samples {
                assert_eq!(
                    f.call(&mut store, x).unwrap(),
                    x & 0xffff_ffff,
                    "{name}({x})"
                );
            }
        }
        let fresh = inst
            .get_typed_func::<(i64, i64), i64>(&mut store, "mask_fresh")
            .unwrap();
        let mix = inst
            .get_typed_func::<(i64, i64), i64>(&mut store, "mix")
            .unwrap();
        let mix32 = inst
            .get_typed_func::<(i32, i32), i32>(&mut store, "mix32")
            .unwrap();
        for a in samples {
            for b in samples {
                assert_eq!(
                    fresh.call(&mut store, (a, b)).unwrap(),
                    (a ^ b) & 0xffff_ffff
                );
                let want =
                    ((a & (b ^ (b << 7))).wrapping_add(a.wrapping_mul(3)) | b).wrapping_sub(a);
                assert_eq!(mix.call(&mut store, (a, b)).unwrap(), want);
                let (x, y) = (a as i32, b as i32);
                let want32 = ((x & y.rotate_left(5)) ^ y).wrapping_mul(x);
                assert_eq!(mix32.call(&mut store, (x, y)).unwrap(), want32);
            }
        }
    }
}
