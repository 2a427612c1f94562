//! Direct calls, calls to imported functions and call_indirect.

use super::{FuncTranslator, codes, misrouted};
use crate::trap::Result;
use crate::vm::vmctx::VMFuncRef;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    ExtFuncData, ExternalName, InstBuilder, UserExternalName, Value, types,
};

impl FuncTranslator<'_, '_> {
    fn finish_call(&mut self, inst: cranelift_codegen::ir::Inst) {
        let rets = self.b.inst_results(inst).to_vec();
        self.stack.extend(rets);
    }

    fn call_through_funcref(&mut self, type_index: u32, fref: Value, nargs: usize) {
        let code = self.load_trusted(types::I64, fref, VMFuncRef::CODE);
        let callee_vmctx = self.load_trusted(types::I64, fref, VMFuncRef::VMCTX);
        let mut args = vec![callee_vmctx];
        args.extend(self.popn(nargs));
        let sig = self.sig_ref(type_index);
        let inst = self.b.ins().call_indirect(sig, code, &args);
        self.finish_call(inst);
    }

    pub(super) fn translate_call(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match *op {
            O::Call { function_index } => {
                let info = self.env.info;
                let type_index = info.funcs[function_index as usize];
                let nargs = info.types[type_index as usize].params().len();
                if function_index < info.num_imported_funcs {
                    let fref = self.funcref_addr(function_index);
                    self.call_through_funcref(type_index, fref, nargs);
                } else {
                    let fr =
                        match self.func_refs.get(&function_index) {
                            Some(&f) => f,
                            None => {
                                let sig = self.sig_ref(type_index);
                                let name = self.b.func.declare_imported_user_function(
                                    UserExternalName::new(0, function_index),
                                );
                                let f = self.b.import_function(ExtFuncData {
                                    name: ExternalName::User(name),
                                    signature: sig,
                                    colocated: true,
                                    patchable: false,
                                });
                                self.func_refs.insert(function_index, f);
                                f
                            }
                        };
                    let mut args = vec![self.vmctx];
                    args.extend(self.popn(nargs));
                    let inst = self.b.ins().call(fr, &args);
                    self.finish_call(inst);
                }
            }
            O::CallIndirect {
                type_index,
                table_index,
            } => {
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
                self.call_builtin(crate::vm::builtins::RECORD_TRAP_INDEX, &[idx]);
                self.b.ins().trap(codes::UNINIT_ELEM);
                self.b.switch_to_block(cont);
                let actual = self.load_trusted(types::I64, fref, VMFuncRef::TYPE_ID);
                let expected = i64::from(self.env.info.type_ids[type_index as usize]);
                let bad = self.b.ins().icmp_imm_s(IntCC::NotEqual, actual, expected);
                self.b.ins().trapnz(bad, codes::BAD_SIG);
                let nargs = self.env.info.types[type_index as usize].params().len();
                self.call_through_funcref(type_index, fref, nargs);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }
}
