//! The VM side of an instance: its context's slots and the bodies of the memory and table
//! libcalls ([`super::builtins`]) that generated code reaches through it.

use super::vmctx::{VMFuncRef, VMOffsets};
use crate::instance::InstanceData;
use crate::store::StoreOpaque;

/// A copy of the funcref of store function `func`, for an importing instance's funcref array.
pub(crate) fn import_funcref(s: &StoreOpaque, func: usize) -> VMFuncRef {
    // SAFETY: `funcs[func].funcref` is the address of a record owned by this store (an
    // instance's funcref array or a host context), alive as long as the store.
    unsafe { super::host::copy_funcref(s.funcref_ptr(func)) }
}

/// Write the slots of instance `inst`'s VM context (layout: [`VMOffsets`]). `inst` is about
/// to become instance number `s.instances.len()`.
pub(crate) fn fill_vmctx(
    vmctx: &mut [usize],
    s: &mut StoreOpaque,
    inst: &InstanceData,
    offsets: VMOffsets,
) {
    vmctx[VMOffsets::slot_of(VMOffsets::LIMITS)] = &*s.limits as *const _ as usize;
    vmctx[VMOffsets::slot_of(VMOffsets::BUILTINS)] = crate::vm::builtins::builtins_addr();
    vmctx[VMOffsets::slot_of(VMOffsets::FUNCREFS)] = inst.funcrefs.as_ptr() as usize;
    vmctx[VMOffsets::slot_of(VMOffsets::STORE)] = s as *mut StoreOpaque as usize;
    vmctx[VMOffsets::slot_of(VMOffsets::INSTANCE)] = s.instances.len();
    for (i, &mi) in inst.memories.iter().enumerate() {
        vmctx[VMOffsets::slot_of(offsets.memory(i as u32))] = s.memories[mi].def_ptr() as usize;
    }
    for (i, &ti) in inst.tables.iter().enumerate() {
        vmctx[VMOffsets::slot_of(offsets.table(i as u32))] =
            &*s.tables[ti].def as *const _ as usize;
    }
    for (i, &gi) in inst.globals.iter().enumerate() {
        vmctx[VMOffsets::slot_of(offsets.global(i as u32))] = s.globals[gi].cell.as_ptr() as usize;
    }
}

impl StoreOpaque {
    fn mem_of(&self, inst: usize, mem: u32) -> usize {
        self.instances[inst].memories[mem as usize]
    }
    fn table_of(&self, inst: usize, table: u32) -> usize {
        self.instances[inst].tables[table as usize]
    }

    pub(crate) fn memory_grow(&mut self, inst: usize, mem: u32, delta: u32) -> u32 {
        let m = self.mem_of(inst, mem);
        match self.memories[m].grow(u64::from(delta)) {
            Some(old) => old as u32,
            None => u32::MAX,
        }
    }

    pub(crate) fn memory_fill(
        &mut self,
        inst: usize,
        mem: u32,
        dst: u32,
        val: u32,
        len: u32,
    ) -> u32 {
        let m = self.mem_of(inst, mem);
        let data = self.memories[m].data_mut();
        let (d, n) = (dst as usize, len as usize);
        match d.checked_add(n) {
            Some(end) if end <= data.len() => {
                data[d..end].fill(val as u8);
                0
            }
            _ => 1,
        }
    }

    pub(crate) fn memory_copy(
        &mut self,
        inst: usize,
        dm: u32,
        sm: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u32 {
        let (d, s, n) = (dst as usize, src as usize, len as usize);
        let dmi = self.mem_of(inst, dm);
        let smi = self.mem_of(inst, sm);
        let dlen = self.memories[dmi].data().len();
        let slen = self.memories[smi].data().len();
        if d + n > dlen || s + n > slen {
            return 1;
        }
        if dmi == smi {
            self.memories[dmi].data_mut().copy_within(s..s + n, d);
        } else {
            let tmp = self.memories[smi].data()[s..s + n].to_vec();
            self.memories[dmi].data_mut()[d..d + n].copy_from_slice(&tmp);
        }
        0
    }

    pub(crate) fn memory_init(
        &mut self,
        inst: usize,
        mem: u32,
        seg: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u32 {
        let m = self.mem_of(inst, mem);
        let i = &self.instances[inst];
        let data: &[u8] = if i.data_dropped[seg as usize] {
            &[]
        } else {
            &i.module.inner.info.datas[seg as usize].data
        };
        let (d, s, n) = (dst as usize, src as usize, len as usize);
        if s + n > data.len() {
            return 1;
        }
        let src_bytes = data[s..s + n].to_vec();
        let mem = self.memories[m].data_mut();
        if d + n > mem.len() {
            return 1;
        }
        mem[d..d + n].copy_from_slice(&src_bytes);
        0
    }

    pub(crate) fn data_drop(&mut self, inst: usize, seg: u32) -> u32 {
        self.instances[inst].data_dropped[seg as usize] = true;
        0
    }

    pub(crate) fn table_grow(&mut self, inst: usize, table: u32, init: u64, delta: u32) -> u32 {
        let t = self.table_of(inst, table);
        match self.tables[t].grow(u64::from(delta), init) {
            Some(old) => old as u32,
            None => u32::MAX,
        }
    }

    pub(crate) fn table_fill(
        &mut self,
        inst: usize,
        table: u32,
        dst: u32,
        val: u64,
        len: u32,
    ) -> u32 {
        let t = self.table_of(inst, table);
        let elems = &mut self.tables[t].elems;
        let (d, n) = (dst as usize, len as usize);
        if d + n > elems.len() {
            return 1;
        }
        elems[d..d + n].fill(val);
        0
    }

    pub(crate) fn table_copy(
        &mut self,
        inst: usize,
        dt: u32,
        st: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u32 {
        let dti = self.table_of(inst, dt);
        let sti = self.table_of(inst, st);
        let (d, s, n) = (dst as usize, src as usize, len as usize);
        if d + n > self.tables[dti].elems.len() || s + n > self.tables[sti].elems.len() {
            return 1;
        }
        if dti == sti {
            self.tables[dti].elems.copy_within(s..s + n, d);
        } else {
            let tmp = self.tables[sti].elems[s..s + n].to_vec();
            self.tables[dti].elems[d..d + n].copy_from_slice(&tmp);
        }
        0
    }

    pub(crate) fn table_init(
        &mut self,
        inst: usize,
        table: u32,
        seg: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u32 {
        let t = self.table_of(inst, table);
        let (d, s, n) = (dst as usize, src as usize, len as usize);
        let items = &self.instances[inst].elems[seg as usize];
        if s + n > items.len() || d + n > self.tables[t].elems.len() {
            return 1;
        }
        let vals = items[s..s + n].to_vec();
        self.tables[t].elems[d..d + n].copy_from_slice(&vals);
        0
    }

    pub(crate) fn elem_drop(&mut self, inst: usize, seg: u32) -> u32 {
        self.instances[inst].elems[seg as usize] = Vec::new();
        0
    }
}
