//! The bridge between generated code and Rust: host-function contexts reached from the
//! wasm->host shim, and calls from the host into generated code.

use super::traps;
use super::vmctx::VMFuncRef;
use crate::store::{FuncData, FuncKind, StoreInner, StoreOpaque};
use crate::trap::Trap;
use crate::values::ValRaw;
use std::sync::Arc;

/// A host function's body in array form: arguments in, results out, in `ValRaw` slots.
pub(crate) trait HostBody<T>:
    Fn(&mut StoreInner<T>, &mut [ValRaw]) -> Result<(), Trap> + Send + Sync + 'static
{
}

impl<T, F> HostBody<T> for F where
    F: Fn(&mut StoreInner<T>, &mut [ValRaw]) -> Result<(), Trap> + Send + Sync + 'static
{
}

/// Pin a closure's signature to [`HostBody`]'s (closures infer their signature from an
/// expected `Fn` type, which a generic `HostBody` bound alone does not give them).
#[inline(always)]
pub(crate) fn host_body<T, F>(f: F) -> F
where
    F: Fn(&mut StoreInner<T>, &mut [ValRaw]) -> Result<(), Trap> + Send + Sync + 'static,
{
    f
}

/// A host function not yet placed in a store (what `Linker` keeps): it can make a context
/// for its body in any store. The body's type is erased only here, at definition time; each
/// context and its entry are generic over it (see [`host_entry`]).
#[doc(hidden)]
pub trait HostDef<T>: Send + Sync {
    /// Create a context for this body owned by `store`; returns its funcref's address.
    fn instantiate(
        self: Arc<Self>,
        store: &mut StoreInner<T>,
        nvals: usize,
        shim: usize,
        sig: u32,
    ) -> usize;
}

impl<T: 'static, F: HostBody<T>> HostDef<T> for F {
    fn instantiate(
        self: Arc<Self>,
        store: &mut StoreInner<T>,
        nvals: usize,
        shim: usize,
        sig: u32,
    ) -> usize {
        new_host_func(store, self, nvals, shim, sig)
    }
}

/// The low 32 bits of a value slot, read with a 4-byte load.
///
/// The wasm->host shim writes an `i32`/`f32` argument with a 4-byte store. Decoding it as
/// `slot as u32` let LLVM load the slot's low 8 bytes and truncate (`mov (%rsi),%rax`): a load
/// wider than the store it reads, which the CPU cannot forward from the store buffer, so it
/// waits for the store to reach the cache (a store-forwarding stall). `call/host4` (an `i32`
/// first argument) read 6.2 ns in the peers bench binary and 3.7 ns in the default one with
/// the same machine code (how long the load waits depends on timing that code placement
/// changes); with a load of the width stored, which forwards, both read 3.6-3.9 ns.
#[inline(always)]
pub(crate) fn slot_low32(slot: &ValRaw) -> u32 {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: `slot` is a valid, aligned `u128`; on a little-endian target its low 32 bits
        // are its first 4 bytes, and a `u32` read at its address is aligned (16 >= 4).
        unsafe { std::ptr::read(slot as *const ValRaw as *const u32) }
    }
    #[cfg(not(target_endian = "little"))]
    {
        *slot as u32
    }
}

/// A host function definition, shareable between stores.
pub(crate) type HostFn<T> = Arc<dyn HostDef<T>>;

/// One active call from wasm into a host function: the wasm->host shim's frame pointer (the
/// shim's caller is wasm), so that a collection inside the host function can walk the wasm
/// frames below it, and the record of the enclosing host call of the same store, if any.
#[repr(C)]
pub(crate) struct HostCallRecord {
    pub fp: usize,
    pub prev: *const HostCallRecord,
}

/// Type-erased owner of a host-function context (only dropped, never called through).
pub(crate) trait ErasedHostCtx {}

/// The "vmctx" of a host function. The wasm->host shim loads `entry` from offset 0 and calls
/// it with the context pointer, the address of its `ValRaw` array and its frame pointer.
#[repr(C)]
pub(crate) struct HostFuncCtx<T, F> {
    /// `host_entry::<T, F>`, called by the shim with the context, its value array and its
    /// own frame pointer.
    entry: unsafe extern "C" fn(*const HostFuncCtx<T, F>, *mut ValRaw, usize) -> u32,
    store: *mut StoreInner<T>,
    nvals: usize,
    func: Arc<F>,
    pub funcref: VMFuncRef,
}

impl<T, F> ErasedHostCtx for HostFuncCtx<T, F> {}

/// Create a host function context owned by `store` and return the address of its funcref.
fn new_host_func<T: 'static, F: HostBody<T>>(
    store: &mut StoreInner<T>,
    func: Arc<F>,
    nvals: usize,
    shim: usize,
    sig: u32,
) -> usize {
    let store_ptr: *mut StoreInner<T> = store;
    let ctx = Box::new(HostFuncCtx {
        entry: host_entry::<T, F>,
        store: store_ptr,
        nvals: nvals.max(1),
        func,
        funcref: VMFuncRef::new(shim, sig, 0),
    });
    let addr = &*ctx as *const HostFuncCtx<T, F> as usize;
    ctx.funcref.vmctx.set(addr);
    let fr = &ctx.funcref as *const VMFuncRef as usize;
    store.opaque.host_ctxs.push(ctx);
    fr
}

/// The host call proper, one monomorphic copy per host body type `F`.
///
/// Typed entry: this was one `host_entry::<T>` calling every body through `dyn Fn`, an
/// indirect call the compiler could not see through, so each call paid a second frame (the
/// body's), the body's `ValRaw` decode and result encode behind it, and a copy of the 64-byte
/// `Result<(), Trap>` the body returned through memory. Generic over `F`, the body (and with
/// it the user's closure and the decode of its arguments from the shim's array) is inlined
/// here; `catch_unwind` sees a closure returning the `u32` status, so nothing but that status
/// crosses it on success. For a `Func::wrap` of `|| {}` the entry compiles to `return 0`:
/// the body can neither panic nor reach the store, so nothing can read the host-call record
/// and the compiler drops its push and pop too (any body that can collect, or fail, keeps
/// them).
///
/// # Safety
/// Called only by the wasm->host shim: `ctx` is the context the shim was given (owned by a
/// live store), `values` the shim's array of `nvals` slots and `shim_fp` its frame pointer.
unsafe extern "C" fn host_entry<T, F: HostBody<T>>(
    ctx: *const HostFuncCtx<T, F>,
    values: *mut ValRaw,
    shim_fp: usize,
) -> u32 {
    // The closure is called through a pointer into its `Arc` rather than a clone of the `Arc`:
    // the clone and its drop were a locked increment and decrement per call, about 70% of a
    // wasm->host call's time (perf annotate on `call/host0`). No clone is needed to keep the
    // closure alive: the context, and with it the `Arc`, is owned by `store.opaque.host_ctxs`,
    // which only grows while the store lives, and the host function cannot drop the store.
    //
    // SAFETY: `ctx` is the context the shim was given, owned by a live store (the store owns
    // every instance that can reach it). We take what we need out of it before creating the
    // `&mut StoreInner`, so no reference into the context (which the store owns) is held across
    // the call; the closure itself lives in the `Arc`'s shared allocation, not in the context,
    // and stays alive for the reason above. The store is not otherwise borrowed while wasm
    // runs: the host entered wasm through `&mut` access. `values` points at the shim's array
    // of `nvals` slots.
    let (func, store, vals) = unsafe {
        let c = &*ctx;
        let func = Arc::as_ptr(&c.func);
        let vals = std::slice::from_raw_parts_mut(values, c.nvals);
        (&*func, c.store, vals)
    };
    // The record for the collector's stack walk. It is kept in the store rather than in a
    // thread-local (the store pointer is in hand; a thread-local is an extra address
    // computation per push and pop) and here rather than in a C wrapper between the shim and
    // this function as before (a whole extra call level only to take its frame address; the
    // shim passes its frame pointer, which is what the walk needs). Every path below returns
    // normally (panics are caught), so the record is always popped.
    //
    // SAFETY (the two writes through `store`): it points at the live store (above); no
    // reference to the store exists between the `&mut` the body gets and these writes.
    let rec = HostCallRecord {
        fp: shim_fp,
        prev: unsafe { (*store).opaque.host_calls },
    };
    unsafe { (*store).opaque.host_calls = &rec };
    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: see above; this is the only reference to the store during the call.
        let store = unsafe { &mut *store };
        match func(store, vals) {
            Ok(()) => 0,
            Err(t) => host_error(store, vals, t),
        }
    }))
    .unwrap_or_else(|_| host_panicked());
    unsafe { (*store).opaque.host_calls = rec.prev };
    status
}

/// The status for a host call that returned an error: 2 with the exception in slot 0 when
/// the host threw one of this store's exceptions (the shim throws it into its wasm caller),
/// otherwise 1 with the trap waiting in `traps`. Out of line: only success stays on the hot
/// path.
#[cold]
#[inline(never)]
fn host_error<T>(store: &mut StoreInner<T>, vals: &mut [ValRaw], t: Trap) -> u32 {
    // An exception whose object was collected (the host released it) is not thrown: it stays
    // a trap carrying the exception's host-side copy.
    let exn = t.as_exception().map(|e| e.exn);
    match exn {
        Some(r) if store.opaque.owns_exn(r) => {
            vals[0] = r.0 as ValRaw;
            2
        }
        _ => {
            traps::set_host_trap(t);
            1
        }
    }
}

/// The status for a host function that panicked: a trap.
#[cold]
#[inline(never)]
fn host_panicked() -> u32 {
    traps::set_host_trap(Trap::new("host function panicked"));
    1
}

/// The engine-wide signature id stored in a funcref.
///
/// # Safety
/// `funcref` must be the address of a live [`VMFuncRef`].
unsafe fn funcref_type_id(funcref: usize) -> u32 {
    // SAFETY: the caller guarantees `funcref` points at a live record.
    unsafe { (*(funcref as *const VMFuncRef)).type_id.get() as u32 }
}

/// Call a funcref through an array-entry trampoline for its signature.
///
/// # Safety
/// `funcref` must be the address of a live [`VMFuncRef`], `array_entry` the array-entry
/// trampoline of its signature, and `values` must hold at least max(params, results) slots
/// whose parameters have that signature's types.
#[inline]
unsafe fn call_funcref(
    array_entry: usize,
    funcref: usize,
    values: &mut [ValRaw],
    limit: Option<traps::EntryLimit<'_>>,
) -> Result<(), Trap> {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let fr = &*(funcref as *const VMFuncRef);
        traps::invoke(
            array_entry,
            fr.vmctx.get(),
            fr.code.get(),
            values.as_mut_ptr(),
            limit,
            &traps::frame_info,
        )
    }
}

/// Copy a funcref (for an importing instance's funcref array).
///
/// # Safety
/// `src` must point at a live [`VMFuncRef`].
pub(crate) unsafe fn copy_funcref(src: *const VMFuncRef) -> VMFuncRef {
    // SAFETY: guaranteed by the caller.
    let s = unsafe { &*src };
    VMFuncRef::new(s.code.get(), s.type_id.get() as u32, s.vmctx.get())
}

// The store's side of the bridge. Store invariant relied on below: every funcref address the
// store holds or receives from generated code (instance funcref arrays, host contexts, table
// elements, `ref.func` results) is a record owned by this store, alive as long as the store.
impl StoreOpaque {
    /// The store-level function index for a funcref address, registering it if new.
    pub(crate) fn func_for_funcref(&mut self, funcref: usize) -> usize {
        if let Some(&i) = self.funcref_index.get(&funcref) {
            return i;
        }
        // SAFETY: by the store invariant above `funcref` is a live record of this store.
        let sig = unsafe { funcref_type_id(funcref) };
        let ty = self.engine.sig_type(sig);
        self.push_func(FuncData {
            funcref,
            sig,
            ty,
            _kind: FuncKind::Wasm,
            array_entry: 0,
        })
    }

    /// Call the function at store index `func` with raw values (params in, results out).
    /// `values` must have max(params, results) slots holding arguments of the function's
    /// parameter types (checked by every caller against the function type).
    #[inline]
    pub(crate) fn call_raw(&mut self, func: usize, values: &mut [ValRaw]) -> Result<(), Trap> {
        let f = &self.funcs[func];
        let (funcref, sig) = (f.funcref, f.sig);
        let entry = match f.array_entry {
            0 => {
                // Only the entry: a wasm function called from the host needs no shim.
                let t = self
                    .engine
                    .array_entry(sig)
                    .map_err(|e| Trap::new(e.to_string()))?;
                self.funcs[func].array_entry = t;
                t
            }
            e => e,
        };
        // An outermost entry sets the stack limit, from the last host frame before wasm.
        let limit = (self.entry_depth == 0).then(|| traps::EntryLimit {
            cell: &self.limits.stack_limit,
            max: self.engine.config().max_wasm_stack,
            floor: traps::thread_stack_floor(),
        });
        let needed = value_slots(&self.funcs[func].ty);
        if values.len() < needed {
            return Err(Trap::new(
                "internal error: too few value slots for the call",
            ));
        }
        self.entry_depth += 1;
        // SAFETY: `funcref` is this store's live record (store invariant), `entry` is the
        // trampoline of its signature `sig`, and `values` is long enough (checked above).
        let r = unsafe { call_funcref(entry, funcref, values, limit) };
        self.entry_depth -= 1;
        r.map_err(|mut t| match t.take_pending() {
            Some(exn) => match self.exn_ref(exn).and_then(|r| self.exception(r)) {
                Some(e) => Trap::exception(e),
                None => Trap::new("internal error: unknown exception object"),
            },
            None => t,
        })
    }
}

/// Value slots a call of `ty` needs: arguments in, results out, at least one.
fn value_slots(ty: &crate::types::FuncType) -> usize {
    ty.params().len().max(ty.results().len())
}
