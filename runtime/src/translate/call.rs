//! Direct calls, calls to imported functions and call_indirect, and their tail-call forms.
//!
//! Every wasm function and every wasm->host shim uses Cranelift's `tail` calling convention,
//! so `return_call`/`return_call_indirect` lower to Cranelift's `return_call` and
//! `return_call_indirect`: the callee reuses the caller's frame, and a tail-recursive loop runs
//! in constant native stack. The host enters wasm through a SystemV array trampoline, which
//! makes an ordinary call into the `tail` convention, so tail calls never cross the host
//! boundary. Each callee's prologue still checks the stack limit.

use super::exceptions::Callee;
use super::{FuncTranslator, codes, misrouted};
use crate::trap::Result;
use crate::vm::vmctx::VMFuncRef;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, ExtFuncData, ExternalName, InstBuilder, UserExternalName, Value, types,
};

impl FuncTranslator<'_, '_> {
    /// Call (or, with `tail`, tail-call) through a `VMFuncRef` with `nargs` stack arguments.
    pub(super) fn call_through_funcref(
        &mut self,
        type_index: u32,
        fref: Value,
        nargs: usize,
        tail: bool,
    ) {
        let code = self.load_trusted(types::I64, fref, VMFuncRef::CODE);
        let callee_vmctx = self.load_trusted(types::I64, fref, VMFuncRef::VMCTX);
        let mut args = vec![callee_vmctx];
        args.extend(self.popn(nargs));
        let sig = self.sig_ref(type_index);
        if tail {
            self.b.ins().return_call_indirect(sig, code, &args);
            self.reachable = false;
        } else {
            let rets = self.emit_call(Callee::Indirect(sig, code), &args);
            self.stack.extend(rets);
        }
    }

    /// The imported-function reference of defined function `function_index`.
    fn direct_func_ref(&mut self, function_index: u32, type_index: u32) -> ir::FuncRef {
        if let Some(&f) = self.func_refs.get(&function_index) {
            return f;
        }
        let sig = self.sig_ref(type_index);
        let name = self
            .b
            .func
            .declare_imported_user_function(UserExternalName::new(0, function_index));
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(function_index, f);
        f
    }

    /// `call` (or `return_call` with `tail`) of function `function_index`.
    fn call_direct(&mut self, function_index: u32, tail: bool) {
        let info = self.env.info;
        let type_index = info.funcs[function_index as usize];
        let nargs = info.types[type_index as usize].params().len();
        if function_index < info.num_imported_funcs {
            let fref = self.funcref_addr(function_index);
            self.call_through_funcref(type_index, fref, nargs, tail);
            return;
        }
        let fr = self.direct_func_ref(function_index, type_index);
        let mut args = vec![self.vmctx];
        args.extend(self.popn(nargs));
        if tail {
            self.b.ins().return_call(fr, &args);
            self.reachable = false;
        } else {
            let rets = self.emit_call(Callee::Direct(fr), &args);
            self.stack.extend(rets);
        }
    }

    /// `call_indirect` (or `return_call_indirect` with `tail`).
    fn call_indirect(&mut self, type_index: u32, table_index: u32, tail: bool) {
        let idx = self.pop();
        let addr = self.table_elem_addr(table_index, idx, codes::UNDEF_ELEM);
        let fref = self.load_trusted(types::I64, addr, 0);
        // A null element traps in a cold block that first records the index, so the
        // message can name it ("uninitialized element 7").
        let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, fref, 0);
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(is_null, cold, &[], cont, &[]);
        self.b.seal_block(cold);
        self.b.seal_block(cont);
        self.b.set_cold_block(cold);
        self.b.switch_to_block(cold);
        let wide = self.widen_operand(idx);
        self.call_builtin(crate::vm::builtins::RECORD_TRAP_INDEX, &[wide], types::I32);
        self.b.ins().trap(codes::UNINIT_ELEM);
        self.b.switch_to_block(cont);
        let actual = self.load_trusted(types::I64, fref, VMFuncRef::TYPE_ID);
        let expected = i64::from(self.env.info.type_ids[type_index as usize]);
        let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, actual, expected);
        if self.env.info.type_infos[type_index as usize].is_final {
            // No subtypes: equal ids or a mismatch.
            self.b.ins().trapnz(bad, codes::BAD_SIG);
        } else {
            // Different ids may still be a declared subtype: ask the registry (cold).
            let slow = self.b.create_block();
            let ok = self.b.create_block();
            self.b.ins().brif(bad, slow, &[], ok, &[]);
            self.b.seal_block(slow);
            self.b.set_cold_block(slow);
            self.b.switch_to_block(slow);
            let a = self.b.ins().ireduce(types::I32, actual);
            let e = self.b.ins().iconst(types::I32, expected);
            let sub = self.call_builtin(crate::vm::builtins::IS_SUBTYPE, &[a, e], types::I32);
            self.b.ins().trapz(sub, codes::BAD_SIG);
            self.b.ins().jump(ok, &[]);
            self.b.seal_block(ok);
            self.b.switch_to_block(ok);
        }
        let nargs = self.env.info.types[type_index as usize].params().len();
        self.call_through_funcref(type_index, fref, nargs, tail);
    }

    pub(super) fn translate_call(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match *op {
            O::Call { function_index } => self.call_direct(function_index, false),
            O::ReturnCall { function_index } => self.call_direct(function_index, true),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true),
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }
}
