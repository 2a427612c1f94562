//! Locals and globals.

use super::{FuncTranslator, clif_type, misrouted};
use crate::trap::Result;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

impl FuncTranslator<'_, '_> {
    pub(super) fn translate_variables(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use wasmparser::Operator as O;
        match *op {
            O::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                if self.local_types[local_index as usize].is_non_null_ref() {
                    self.push_non_null(v);
                } else {
                    self.push(v);
                }
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::GlobalGet { global_index } => {
                let content = self.env.info.globals[global_index as usize].content;
                let ptr = self.global_ptr(global_index);
                let v = self
                    .b
                    .ins()
                    .load(clif_type(content), MemFlagsData::trusted(), ptr, 0);
                if content.is_non_null_ref() {
                    self.push_non_null(v);
                } else {
                    self.push(v);
                }
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let ptr = self.global_ptr(global_index);
                self.b.ins().store(MemFlagsData::trusted(), v, ptr, 0);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }

    fn global_ptr(&mut self, index: u32) -> Value {
        let off = self.env.offsets.global(index);
        self.load_readonly(types::I64, self.vmctx, off)
    }
}
