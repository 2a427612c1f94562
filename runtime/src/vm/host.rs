//! The bridge between generated code and Rust: host-function contexts reached from the
//! wasm->host shim, and calls from the host into generated code.

use super::traps;
use super::vmctx::VMFuncRef;
use crate::store::StoreInner;
use crate::trap::Trap;
use crate::values::ValRaw;
use std::sync::Arc;

/// A host function in array form: arguments in, results out, in `ValRaw` slots.
pub(crate) type HostFn<T> =
    Arc<dyn Fn(&mut StoreInner<T>, &mut [ValRaw]) -> Result<(), Trap> + Send + Sync + 'static>;

/// Type-erased owner of a host-function context (only dropped, never called through).
pub(crate) trait ErasedHostCtx {}

/// The "vmctx" of a host function. The wasm->host shim loads `call` from offset 0 and calls
/// it with the context pointer and the address of its `ValRaw` array.
#[repr(C)]
pub(crate) struct HostFuncCtx<T> {
    call: unsafe extern "C" fn(*const HostFuncCtx<T>, *mut ValRaw) -> u32,
    store: *mut StoreInner<T>,
    nvals: usize,
    func: HostFn<T>,
    pub funcref: VMFuncRef,
}

impl<T> ErasedHostCtx for HostFuncCtx<T> {}

/// Create a host function context owned by `store` and return the address of its funcref.
pub(crate) fn new_host_func<T: 'static>(
    store: &mut StoreInner<T>,
    func: HostFn<T>,
    nvals: usize,
    shim: usize,
    sig: u32,
) -> usize {
    let store_ptr: *mut StoreInner<T> = store;
    let ctx = Box::new(HostFuncCtx {
        call: host_entry::<T>,
        store: store_ptr,
        nvals: nvals.max(1),
        func,
        funcref: VMFuncRef::new(shim, sig, 0),
    });
    let addr = &*ctx as *const HostFuncCtx<T> as usize;
    ctx.funcref.vmctx.set(addr);
    let fr = &ctx.funcref as *const VMFuncRef as usize;
    store.opaque.host_ctxs.push(ctx);
    fr
}

unsafe extern "C" fn host_entry<T>(ctx: *const HostFuncCtx<T>, values: *mut ValRaw) -> u32 {
    // SAFETY: `ctx` is the context the shim was given, owned by a live store (the store owns
    // every instance that can reach it). We clone what we need out of it before creating the
    // `&mut StoreInner`, so no reference into the context is held across the call. The store
    // is not otherwise borrowed while wasm runs: the host entered wasm through `&mut` access.
    // `values` points at the shim's array of `nvals` slots.
    let (func, store, vals) = unsafe {
        let c = &*ctx;
        (
            c.func.clone(),
            &mut *c.store,
            std::slice::from_raw_parts_mut(values, c.nvals),
        )
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| func(store, vals))) {
        Ok(Ok(())) => 0,
        Ok(Err(t)) => {
            traps::set_host_trap(t);
            1
        }
        Err(_) => {
            traps::set_host_trap(Trap::new("host function panicked"));
            1
        }
    }
}

/// The engine-wide signature id stored in a funcref.
pub(crate) fn funcref_type_id(funcref: usize) -> u32 {
    // SAFETY: callers pass funcref addresses that came out of this store's tables, instances
    // or host contexts (see `StoreOpaque::func_for_funcref`), all of which outlive the store's
    // use of them.
    unsafe { (*(funcref as *const VMFuncRef)).type_id.get() as u32 }
}

/// Call a funcref through an array-entry trampoline for its signature.
#[inline]
pub(crate) fn call_funcref(
    array_entry: usize,
    funcref: usize,
    values: &mut [ValRaw],
) -> Result<(), Trap> {
    // SAFETY: `funcref` is a live VMFuncRef of the calling store; `array_entry` is the
    // trampoline for its signature and `values` has max(params, results) slots (checked by
    // every caller against the function type).
    unsafe {
        let fr = &*(funcref as *const VMFuncRef);
        traps::invoke(
            array_entry,
            fr.vmctx.get(),
            fr.code.get(),
            values.as_mut_ptr(),
            &traps::frame_info,
        )
    }
}

/// Copy an imported function's funcref into an importing instance's funcref array.
pub(crate) fn copy_funcref(src: *const VMFuncRef) -> VMFuncRef {
    // SAFETY: `src` is a live funcref owned by the same store (checked by the caller).
    let s = unsafe { &*src };
    VMFuncRef::new(s.code.get(), s.type_id.get() as u32, s.vmctx.get())
}
