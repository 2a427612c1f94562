//! Tables and references: table.get/set/size inline; grow/fill/copy/init/drop as libcalls.

use super::{FuncTranslator, codes, misrouted};
use crate::trap::Result;
use crate::vm::builtins as bi;
use crate::vm::vmctx::{VMFuncRef, VMOffsets, VMTableDef};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, TrapCode, Value, types};

impl FuncTranslator<'_, '_> {
    /// Bounds-check `index` against `table` (trapping with `code`) and return the element's
    /// address.
    pub(super) fn table_elem_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let def = self.load_readonly(types::I64, self.vmctx, self.env.offsets.table(table));
        let len = self.load_trusted(types::I64, def, VMTableDef::LEN);
        let idx = self.widen_operand(index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, idx, len);
        self.b.ins().trapnz(oob, code);
        let base = self.load_trusted(types::I64, def, VMTableDef::BASE);
        let scaled = self.b.ins().ishl_imm_u(idx, 3);
        self.b.ins().iadd(base, scaled)
    }

    fn table64(&self, table: u32) -> bool {
        self.env.info.tables[table as usize].table64
    }

    /// Address of the funcref record of function `index` of this instance.
    pub(super) fn funcref_addr(&mut self, index: u32) -> Value {
        let arr = self.load_readonly(types::I64, self.vmctx, VMOffsets::FUNCREFS);
        self.b
            .ins()
            .iadd_imm_s(arr, i64::from(index) * VMFuncRef::SIZE)
    }

    pub(super) fn translate_table(&mut self, op: &wasmparser::Operator<'_>) -> Result<()> {
        use types::{I32, I64};
        use wasmparser::Operator as O;
        match *op {
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
                let v = self.bool_to_i32(c);
                self.push(v);
            }
            O::RefFunc { function_index } => {
                let v = self.funcref_addr(function_index);
                self.push_non_null(v);
            }
            O::TableGet { table } => {
                let idx = self.pop();
                let addr = self.table_elem_addr(table, idx, codes::TABLE_OOB);
                let v = self.load_trusted(I64, addr, 0);
                self.push(v);
            }
            O::TableSet { table } => {
                let (idx, val) = self.pop2();
                let addr = self.table_elem_addr(table, idx, codes::TABLE_OOB);
                self.b
                    .ins()
                    .store(cranelift_codegen::ir::MemFlagsData::trusted(), val, addr, 0);
            }
            O::TableSize { table } => {
                let def = self.load_readonly(I64, self.vmctx, self.env.offsets.table(table));
                let len = self.load_trusted(I64, def, VMTableDef::LEN);
                let v = self.index_result(len, self.table64(table));
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.widen_operand(delta);
                let t = self.b.ins().iconst(I32, i64::from(table));
                let old = self.call_builtin(bi::TABLE_GROW, &[t, init, delta], I64);
                let v = self.index_result(old, self.table64(table));
                self.push(v);
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let (dst, len) = (self.widen_operand(dst), self.widen_operand(len));
                let t = self.b.ins().iconst(I32, i64::from(table));
                self.call_builtin_checked(bi::TABLE_FILL, &[t, dst, val, len], codes::TABLE_OOB);
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let (dst, src, len) = (
                    self.widen_operand(dst),
                    self.widen_operand(src),
                    self.widen_operand(len),
                );
                let dt = self.b.ins().iconst(I32, i64::from(dst_table));
                let sr = self.b.ins().iconst(I32, i64::from(src_table));
                self.call_builtin_checked(
                    bi::TABLE_COPY,
                    &[dt, sr, dst, src, len],
                    codes::TABLE_OOB,
                );
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.widen_operand(dst);
                let t = self.b.ins().iconst(I32, i64::from(table));
                let seg = self.b.ins().iconst(I32, i64::from(elem_index));
                self.call_builtin_checked(
                    bi::TABLE_INIT,
                    &[t, seg, dst, src, len],
                    codes::TABLE_OOB,
                );
            }
            O::ElemDrop { elem_index } => {
                let seg = self.b.ins().iconst(I32, i64::from(elem_index));
                self.call_builtin(bi::ELEM_DROP, &[seg], I32);
            }
            _ => return Err(misrouted(op)),
        }
        Ok(())
    }
}
