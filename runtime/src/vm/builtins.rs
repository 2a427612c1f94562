//! Libcalls reached by generated code through the table at `vmctx[BUILTINS]`. Each takes the
//! caller's vmctx first and returns a status (0 = ok, nonzero = trap) or a result. Addresses,
//! lengths and grow deltas are u64 for both index types (generated code zero-extends i32
//! operands); segment offsets and lengths are u32.

use super::vmctx::VMOffsets;
use crate::store::StoreOpaque;
use crate::trap::TrapCode;

pub(crate) const MEMORY_GROW: usize = 0;
pub(crate) const MEMORY_FILL: usize = 1;
pub(crate) const MEMORY_COPY: usize = 2;
pub(crate) const MEMORY_INIT: usize = 3;
pub(crate) const DATA_DROP: usize = 4;
pub(crate) const TABLE_GROW: usize = 5;
pub(crate) const TABLE_FILL: usize = 6;
pub(crate) const TABLE_COPY: usize = 7;
pub(crate) const TABLE_INIT: usize = 8;
pub(crate) const ELEM_DROP: usize = 9;
pub(crate) const RECORD_TRAP_INDEX: usize = 10;
pub(crate) const EXN_NEW: usize = 11;
pub(crate) const GC_ALLOC: usize = 12;
pub(crate) const ARRAY_FILL: usize = 13;
pub(crate) const ARRAY_COPY: usize = 14;
pub(crate) const ARRAY_INIT_DATA: usize = 15;
pub(crate) const ARRAY_INIT_ELEM: usize = 16;
pub(crate) const IS_SUBTYPE: usize = 17;
pub(crate) const MEMMOVE: usize = 18;

/// The table itself, laid out as consecutive function pointers in the order above.
#[repr(C)]
pub(crate) struct Builtins {
    memory_grow: extern "C" fn(usize, u32, u64) -> u64,
    memory_fill: unsafe extern "C" fn(usize, u64, u32, u64) -> u32,
    memory_copy: extern "C" fn(usize, u32, u32, u64, u64, u64) -> u32,
    memory_init: extern "C" fn(usize, u32, u32, u64, u32, u32) -> u32,
    data_drop: extern "C" fn(usize, u32) -> u32,
    table_grow: extern "C" fn(usize, u32, u64, u64) -> u64,
    table_fill: extern "C" fn(usize, u32, u64, u64, u64) -> u32,
    table_copy: extern "C" fn(usize, u32, u32, u64, u64, u64) -> u32,
    table_init: extern "C" fn(usize, u32, u32, u64, u32, u32) -> u32,
    elem_drop: extern "C" fn(usize, u32) -> u32,
    record_trap_index: extern "C" fn(usize, u64) -> u32,
    exn_new: unsafe extern "C" fn(usize, u32) -> u64,
    gc_alloc: unsafe extern "C" fn(usize, u32, u32, u32, u32, u32) -> u64,
    array_fill: extern "C" fn(usize, u64, u32, u64, u64, u32) -> u32,
    array_copy: extern "C" fn(usize, u64, u32, u64, u32, u32) -> u32,
    array_init_data: extern "C" fn(usize, u64, u32, u32, u32, u32) -> u32,
    array_init_elem: extern "C" fn(usize, u64, u32, u32, u32, u32) -> u32,
    is_subtype: extern "C" fn(usize, u32, u32) -> u32,
    memmove: unsafe extern "C" fn(usize, u64, u64, u64) -> u32,
}

unsafe extern "C" {
    /// helpers.c: passes its frame pointer on to [`lockstep_exn_new_rust`].
    fn lockstep_exn_new(vmctx: usize, tag: u32) -> u64;
    /// helpers.c: passes its frame pointer on to [`lockstep_gc_alloc_rust`].
    fn lockstep_gc_alloc(
        vmctx: usize,
        type_id: u32,
        len: u32,
        seg_kind: u32,
        seg: u32,
        seg_off: u32,
    ) -> u64;
}

pub(crate) static BUILTINS: Builtins = Builtins {
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    record_trap_index,
    exn_new: lockstep_exn_new,
    gc_alloc: lockstep_gc_alloc,
    array_fill,
    array_copy,
    array_init_data,
    array_init_elem,
    is_subtype,
    memmove,
};

pub(crate) fn builtins_addr() -> usize {
    &BUILTINS as *const Builtins as usize
}

/// Run `f` on the store and instance owning `vmctx`, turning panics into `on_panic`.
fn with_instance<R>(vmctx: usize, on_panic: R, f: impl FnOnce(&mut StoreOpaque, usize) -> R) -> R {
    // SAFETY: `vmctx` is the context of the calling wasm instance; slots STORE and INSTANCE
    // were written at instantiation and the store outlives every call into its instances.
    // While wasm runs the host holds no other reference into the store.
    let (store, inst) = unsafe {
        let p = vmctx as *const usize;
        let store = *p.add(VMOffsets::slot_of(VMOffsets::STORE)) as *mut StoreOpaque;
        let inst = *p.add(VMOffsets::slot_of(VMOffsets::INSTANCE));
        (&mut *store, inst)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(store, inst))).unwrap_or(on_panic)
}

extern "C" fn memory_grow(vmctx: usize, mem: u32, delta: u64) -> u64 {
    with_instance(vmctx, u64::MAX, |s, i| s.memory_grow(i, mem, delta))
}
/// `memory.fill`, whose bounds generated code has checked: `len` bytes at native address
/// `dst` set to the low byte of `val` (like [`memmove`], without looking anything up).
///
/// # Safety
/// `dst..dst + len` lies in a linear memory of the calling instance, checked by generated code
/// against the memory's current length just before the call.
unsafe extern "C" fn memory_fill(_vmctx: usize, dst: u64, val: u32, len: u64) -> u32 {
    // SAFETY: see above.
    unsafe { std::ptr::write_bytes(dst as usize as *mut u8, val as u8, len as usize) };
    0
}
extern "C" fn memory_copy(vmctx: usize, dm: u32, sm: u32, dst: u64, src: u64, len: u64) -> u32 {
    with_instance(vmctx, 1, |s, i| s.memory_copy(i, dm, sm, dst, src, len))
}
/// `memory.copy` within one memory, whose bounds generated code has checked: `len` bytes from
/// native address `src` to `dst`. The general `memory_copy` above found the store, the
/// instance and the memory through three dependent loads and checked both ranges again
/// before `memmove`; Sightglass's `shootout-memmove` makes ~230,000 such copies per run, most
/// of a few hundred bytes, and spent 9% of its time in that lookup (Wasmtime, which also
/// checks inline, 0.7%).
///
/// # Safety
/// `dst..dst + len` and `src..src + len` lie in one linear memory of the calling instance:
/// generated code calls this only after checking both ranges against the memory's current
/// length, and nothing can resize the memory between that check and this call.
unsafe extern "C" fn memmove(_vmctx: usize, dst: u64, src: u64, len: u64) -> u32 {
    // SAFETY: see above; the ranges may overlap, which `copy` allows.
    unsafe {
        std::ptr::copy(
            src as usize as *const u8,
            dst as usize as *mut u8,
            len as usize,
        )
    };
    0
}
extern "C" fn memory_init(vmctx: usize, mem: u32, seg: u32, dst: u64, src: u32, len: u32) -> u32 {
    with_instance(vmctx, 1, |s, i| s.memory_init(i, mem, seg, dst, src, len))
}
extern "C" fn data_drop(vmctx: usize, seg: u32) -> u32 {
    with_instance(vmctx, 0, |s, i| s.data_drop(i, seg))
}
extern "C" fn table_grow(vmctx: usize, table: u32, init: u64, delta: u64) -> u64 {
    with_instance(vmctx, u64::MAX, |s, i| s.table_grow(i, table, init, delta))
}
extern "C" fn table_fill(vmctx: usize, table: u32, dst: u64, val: u64, len: u64) -> u32 {
    with_instance(vmctx, 1, |s, i| s.table_fill(i, table, dst, val, len))
}
extern "C" fn table_copy(vmctx: usize, dt: u32, st: u32, dst: u64, src: u64, len: u64) -> u32 {
    with_instance(vmctx, 1, |s, i| s.table_copy(i, dt, st, dst, src, len))
}
extern "C" fn table_init(vmctx: usize, table: u32, seg: u32, dst: u64, src: u32, len: u32) -> u32 {
    with_instance(vmctx, 1, |s, i| s.table_init(i, table, seg, dst, src, len))
}
extern "C" fn elem_drop(vmctx: usize, seg: u32) -> u32 {
    with_instance(vmctx, 0, |s, i| s.elem_drop(i, seg))
}
extern "C" fn record_trap_index(_vmctx: usize, index: u64) -> u32 {
    super::traps::set_trap_index(index);
    0
}

/// A new exception object of the instance's tag `tag` with a zeroed payload, which the caller
/// then writes; returns its exnref, or 0 after recording the trap (heap limit, or a panic
/// caught in the store), which generated code turns into a trap. Reached through
/// `lockstep_exn_new` (helpers.c), which passes its frame pointer: the allocation may collect,
/// with the wasm stack's roots found from there (the payload being thrown is still in the
/// thrower's frame, under its stack map).
#[unsafe(no_mangle)]
extern "C" fn lockstep_exn_new_rust(vmctx: usize, tag: u32, fp: usize) -> u64 {
    with_instance(vmctx, 0, |s, i| {
        let t = s.instances[i].tags[tag as usize];
        let n = s.tags[t].ty.params().len();
        match s.new_exception_zeroed(t, n, Some(fp), true) {
            Some(addr) => addr,
            None => {
                super::traps::set_host_trap(crate::trap::Trap::from_code(TrapCode::OutOfGcHeap));
                0
            }
        }
    })
}

/// Report a GC trap to the trap machinery (generated code then traps with the host code).
fn gc_status(r: Result<(), TrapCode>) -> u32 {
    match r {
        Ok(()) => 0,
        Err(c) => {
            super::traps::set_host_trap(crate::trap::Trap::from_code(c));
            1
        }
    }
}

/// A new object of canonical type `type_id` (an array of `len` elements, initialised from
/// data segment (`seg_kind` 1) or element segment (2) `seg` at `seg_off` when asked); may
/// collect first, with the wasm stack's roots found from `fp` (the C helper's frame).
/// Returns 0 after recording the trap.
#[unsafe(no_mangle)]
extern "C" fn lockstep_gc_alloc_rust(
    vmctx: usize,
    type_id: u32,
    len: u32,
    seg_kind: u32,
    seg: u32,
    seg_off: u32,
    fp: usize,
) -> u64 {
    with_instance(vmctx, 0, |s, i| {
        match s.gc_alloc_seg(i, type_id, len, seg_kind, seg, seg_off, Some(fp)) {
            Ok(p) => p,
            Err(c) => {
                super::traps::set_host_trap(crate::trap::Trap::from_code(c));
                0
            }
        }
    })
}
extern "C" fn array_fill(vmctx: usize, arr: u64, off: u32, lo: u64, hi: u64, n: u32) -> u32 {
    with_instance(vmctx, 1, |s, _| {
        gc_status(s.array_fill(arr, off, lo, hi, n))
    })
}
extern "C" fn array_copy(vmctx: usize, dst: u64, di: u32, src: u64, si: u32, n: u32) -> u32 {
    with_instance(vmctx, 1, |s, _| {
        gc_status(s.array_copy(dst, di, src, si, n))
    })
}
extern "C" fn array_init_data(vmctx: usize, arr: u64, seg: u32, dst: u32, src: u32, n: u32) -> u32 {
    with_instance(vmctx, 1, |s, i| {
        gc_status(s.array_init_data(i, arr, seg, dst, src, n))
    })
}
extern "C" fn array_init_elem(vmctx: usize, arr: u64, seg: u32, dst: u32, src: u32, n: u32) -> u32 {
    with_instance(vmctx, 1, |s, i| {
        gc_status(s.array_init_elem(i, arr, seg, dst, src, n))
    })
}
/// Whether canonical type `a` is a subtype of `b` (the slow path of casts and
/// `call_indirect` when the ids differ).
extern "C" fn is_subtype(vmctx: usize, a: u32, b: u32) -> u32 {
    with_instance(vmctx, 0, |s, _| {
        u32::from(s.engine.registry().is_subtype_id(a, b))
    })
}
