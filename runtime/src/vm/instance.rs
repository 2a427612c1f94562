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
        vmctx[VMOffsets::slot_of(offsets.memory_base(i as u32))] = s.memories[mi].base();
    }
    for (i, &ti) in inst.tables.iter().enumerate() {
        vmctx[VMOffsets::slot_of(offsets.table(i as u32))] =
            &*s.tables[ti].def as *const _ as usize;
    }
    for (i, &gi) in inst.globals.iter().enumerate() {
        vmctx[VMOffsets::slot_of(offsets.global(i as u32))] = s.globals[gi].cell.as_ptr() as usize;
    }
    for (i, &ti) in inst.tags.iter().enumerate() {
        vmctx[VMOffsets::slot_of(offsets.tag(i as u32))] = ti + 1;
    }
}

/// The range `[start, start + len)` if it lies within `0..size`. Computed in u64 with a
/// checked add, so an address near 2^64 is out of bounds, never wrapped.
fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

impl StoreOpaque {
    fn mem_of(&self, inst: usize, mem: u32) -> usize {
        self.instances[inst].memories[mem as usize]
    }
    fn table_of(&self, inst: usize, table: u32) -> usize {
        self.instances[inst].tables[table as usize]
    }

    /// The old size in pages, or `u64::MAX` (-1 of either index type) on failure.
    pub(crate) fn memory_grow(&mut self, inst: usize, mem: u32, delta: u64) -> u64 {
        let m = self.mem_of(inst, mem);
        self.memories[m].grow(delta).unwrap_or(u64::MAX)
    }

    pub(crate) fn memory_copy(
        &mut self,
        inst: usize,
        dm: u32,
        sm: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> u32 {
        let dmi = self.mem_of(inst, dm);
        let smi = self.mem_of(inst, sm);
        let (Some(d), Some(s)) = (
            range(dst, len, self.memories[dmi].data().len()),
            range(src, len, self.memories[smi].data().len()),
        ) else {
            return 1;
        };
        if dmi == smi {
            self.memories[dmi].data_mut().copy_within(s, d.start);
        } else {
            let tmp = self.memories[smi].data()[s].to_vec();
            self.memories[dmi].data_mut()[d].copy_from_slice(&tmp);
        }
        0
    }

    pub(crate) fn memory_init(
        &mut self,
        inst: usize,
        mem: u32,
        seg: u32,
        dst: u64,
        src: u32,
        len: u32,
    ) -> u32 {
        let m = self.mem_of(inst, mem);
        // The segment (in `instances`) and the memory (in `memories`) are borrowed side by
        // side and copied directly; the bytes used to go through a temporary `Vec` first.
        let i = &self.instances[inst];
        let data: &[u8] = if i.data_dropped[seg as usize] {
            &[]
        } else {
            &i.module.inner.info.datas[seg as usize].data
        };
        let Some(s) = range(src.into(), len.into(), data.len()) else {
            return 1;
        };
        let mem = self.memories[m].data_mut();
        let Some(d) = range(dst, len.into(), mem.len()) else {
            return 1;
        };
        mem[d].copy_from_slice(&data[s]);
        0
    }

    pub(crate) fn data_drop(&mut self, inst: usize, seg: u32) -> u32 {
        self.instances[inst].data_dropped[seg as usize] = true;
        0
    }

    /// The old size, or `u64::MAX` (-1 of either index type) on failure.
    pub(crate) fn table_grow(&mut self, inst: usize, table: u32, init: u64, delta: u64) -> u64 {
        let t = self.table_of(inst, table);
        self.tables[t].grow(delta, init).unwrap_or(u64::MAX)
    }

    pub(crate) fn table_fill(
        &mut self,
        inst: usize,
        table: u32,
        dst: u64,
        val: u64,
        len: u64,
    ) -> u32 {
        let t = self.table_of(inst, table);
        let elems = &mut self.tables[t].elems;
        match range(dst, len, elems.len()) {
            Some(r) => {
                elems[r].fill(val);
                0
            }
            None => 1,
        }
    }

    pub(crate) fn table_copy(
        &mut self,
        inst: usize,
        dt: u32,
        st: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> u32 {
        let dti = self.table_of(inst, dt);
        let sti = self.table_of(inst, st);
        let (Some(d), Some(s)) = (
            range(dst, len, self.tables[dti].elems.len()),
            range(src, len, self.tables[sti].elems.len()),
        ) else {
            return 1;
        };
        if dti == sti {
            self.tables[dti].elems.copy_within(s, d.start);
        } else {
            let tmp = self.tables[sti].elems[s].to_vec();
            self.tables[dti].elems[d].copy_from_slice(&tmp);
        }
        0
    }

    pub(crate) fn table_init(
        &mut self,
        inst: usize,
        table: u32,
        seg: u32,
        dst: u64,
        src: u32,
        len: u32,
    ) -> u32 {
        let t = self.table_of(inst, table);
        // As in `memory_init`: segment and table are borrowed side by side, no temporary.
        let items = &self.instances[inst].elems[seg as usize];
        let (Some(s), Some(d)) = (
            range(src.into(), len.into(), items.len()),
            range(dst, len.into(), self.tables[t].elems.len()),
        ) else {
            return 1;
        };
        self.tables[t].elems[d].copy_from_slice(&items[s]);
        0
    }

    pub(crate) fn elem_drop(&mut self, inst: usize, seg: u32) -> u32 {
        self.instances[inst].elems[seg as usize] = Vec::new();
        0
    }
}
