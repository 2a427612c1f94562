//! Typed function references: `call_ref`, `return_call_ref`, `ref.as_non_null`, `br_on_null`
//! and `br_on_non_null`.
//!
//! A function reference is the address of its `VMFuncRef` (0 = null), so `call_ref` loads the
//! code pointer and the callee's vmctx straight from the record; validation has already
//! proved that the reference's type is the instruction's, so no signature check is needed
//! (unlike `call_indirect`, whose table may hold any function). A null reference traps
//! before the load, unless the translator knows the operand is not null (then `br_on_null`
//! and `br_on_non_null` need no test either): the values in `non_null` come from `ref.func`, `ref.as_non_null`, the fall-through of `br_on_null`, and
//! reads of non-null locals and globals.

use super::{FuncTranslator, block_args, codes, misrouted};
use crate::trap::Result;
use cranelift_codegen::ir::{InstBuilder, Value};

impl FuncTranslator<'_, '_> {
    pub(super) fn translate_funcref(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match *op {
            O::CallRef { type_index } => self.call_ref(type_index, false),
            O::ReturnCallRef { type_index } => self.call_ref(type_index, true),
            O::RefAsNonNull => {
                let r = self.pop();
                self.check_non_null(r, codes::NULL_REF);
                self.push_non_null(r);
            }
            O::BrOnNull { relative_depth } => {
                let r = self.pop();
                if self.non_null.contains(&r) {
                    // Never taken.
                    self.push(r);
                    return Ok(());
                }
                let (target, arity) = self.branch_target(relative_depth);
                let args = self.peekn(arity).to_vec();
                let next = self.b.create_block();
                // Non-null (nonzero) falls through with the reference; null branches.
                self.b.ins().brif(r, next, &[], target, &block_args(&args));
                self.b.seal_block(next);
                self.b.switch_to_block(next);
                self.push_non_null(r);
            }
            O::BrOnNonNull { relative_depth } => {
                let r = self.pop();
                let (target, arity) = self.branch_target(relative_depth);
                // The target's last result is the reference itself.
                let mut args = self.peekn(arity - 1).to_vec();
                args.push(r);
                if self.non_null.contains(&r) {
                    // Always taken.
                    self.b.ins().jump(target, &block_args(&args));
                    self.reachable = false;
                    return Ok(());
                }
                let next = self.b.create_block();
                self.b.ins().brif(r, target, &block_args(&args), next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }

    /// `call_ref` (or `return_call_ref` with `tail`) of the reference on top of the stack.
    fn call_ref(&mut self, type_index: u32, tail: bool) {
        let fref = self.pop();
        self.check_non_null(fref, codes::NULL_FUNC_REF);
        let nargs = self.env.info.types[type_index as usize].params().len();
        self.call_through_funcref(type_index, fref, nargs, tail);
    }

    /// Trap with `code` when `r` is null, unless it is known not to be.
    fn check_non_null(&mut self, r: Value, code: cranelift_codegen::ir::TrapCode) {
        if !self.non_null.contains(&r) {
            self.b.ins().trapz(r, code);
        }
    }

    /// Push a value known not to be null.
    pub(super) fn push_non_null(&mut self, v: Value) {
        self.non_null.insert(v);
        self.push(v);
    }
}
