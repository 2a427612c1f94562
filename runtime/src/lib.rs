//! lockstep-runtime: a WebAssembly runtime that compiles every function to native x86-64 code
//! with Cranelift, in the style of Wasmtime.
//!
//! - [`Engine`]/[`Config`]: compilation settings and the host ISA.
//! - [`Module`]: validation (typed [`Error`]: malformed vs invalid) and parallel compilation.
//! - [`Store`], [`Linker`], [`Instance`], [`Func`], [`TypedFunc`], [`Memory`], [`Table`],
//!   [`Global`].
//! - Traps ([`Trap`]) come back as `Err` with the spec's message text and a wasm backtrace;
//!   faults in generated code are caught by signal handlers and never crash the host.
//!
//! Only x86-64 Linux is supported (signal context layout and code relocation are
//! architecture-specific).
//!
//! # Design
//! - Every wasm function uses Cranelift's `tail` calling convention with the callee's VM
//!   context as first argument (`translate::wasm_signature`). Calls inside a module are direct
//!   (`call` with PC-relative relocations patched in `compile.rs`); imported functions and
//!   `call_indirect` go through `VMFuncRef { code, type_id, vmctx }` records.
//! - The host enters wasm through a per-signature "array" trampoline
//!   (`extern "C" fn(vmctx, code, *mut ValRaw)`) called from `lockstep_invoke` in
//!   `vm/helpers.c`, which owns the `sigsetjmp`. Wasm reaches the host through a per-signature
//!   shim that spills arguments to a stack array, calls a Rust `extern "C"` entry, and executes
//!   a trap instruction if the host reported an error, so `siglongjmp` never crosses Rust frames.
//! - Linear memories reserve 4 GiB + a guard (2 GiB by default) and never move; accesses whose
//!   static offset reaches past the guard, or all accesses with
//!   [`BoundsChecks::Explicit`], are compared against the current length. memory64 accesses
//!   are always checked explicitly, with an add that traps on overflow, so an effective
//!   address past 2^64 traps instead of wrapping (`translate/memory.rs` explains the
//!   strategy); a memory64 memory grows up to [`Config::memory_reservation`].
//! - Each memory of a multi-memory instance has its own reservation and guard.
//! - `return_call`/`return_call_indirect` are Cranelift tail calls in the `tail` convention
//!   that every wasm function already uses, so only the host entry trampoline changes
//!   convention.
//! - Typed function references ([`Config::wasm_function_references`]): a reference value is
//!   the address of a `VMFuncRef` (0 = null) whatever its static type, so `call_ref` and
//!   `return_call_ref` call through the record directly, and a concrete `(ref $t)` names the
//!   engine-wide signature id ([`HeapType::Concrete`]).
//! - `translate/route.rs` names every wasmparser operator once and sends it to its family
//!   file; operators of features the runtime does not execute form one listed group.
//! - Relaxed SIMD takes the host's fastest permitted result, or with
//!   [`Config::relaxed_simd_deterministic`] the same result on every host
//!   (`translate/simd/relaxed.rs`).
//! - Bulk memory/table operations and `memory.grow`/`table.grow` are libcalls reached through
//!   a function-pointer table in the VM context (`vm/builtins.rs`, bodies in
//!   `vm/instance.rs`).
//! - `unsafe` is denied outside `vm/`.
//!
//! # Unsafe-design caveats
//! - A host function reconstructs `&mut StoreInner<T>` from the pointer stored in its context
//!   while the outer `call` still holds `&mut Store`; this is the same pattern Wasmtime uses
//!   (the outer borrow is lent to wasm for the duration of the call) and is sound only because
//!   the outer frame touches nothing while wasm runs.
//! - The stack limit is `max(SP - max_wasm_stack, thread stack bottom + 128 KiB)`, with SP
//!   that of the last host frame before wasm (`lockstep_invoke`) at the outermost entry. A host function called at the deepest wasm level gets at least those
//!   128 KiB; host code needing more native stack than that can still overflow the thread.
//! - Per-thread alternate signal stacks (256 KiB) are installed on first entry and never freed.
//! - Stores are `!Send`; a store and everything in it must stay on one thread.

#![deny(unsafe_code)]

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("lockstep-runtime supports x86_64 Linux only");

mod compile;
pub mod config;
mod engine;
mod exception;
mod externals;
#[cfg(feature = "fault-injection")]
pub mod fault;
mod func;
mod gc;
mod gctypes;
mod instance;
mod linker;
mod module;
mod placement;
mod store;
mod translate;
mod trap;
pub mod types;
mod values;
// The only module allowed `unsafe` (its submodules say why each use is sound).
#[allow(unsafe_code)]
mod vm;

pub use config::{BoundsChecks, Config, OptLevel, WasmFeatures};
pub use engine::Engine;
pub use exception::{Exception, Tag};
pub use externals::{Extern, Global, Memory, Table};
pub use func::{
    Caller, Func, HostResult, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmTy, WasmTyList,
};
pub use gc::{ArrayRef, StructRef};
pub use instance::Instance;
pub use linker::Linker;
pub use module::Module;
pub use store::{AsContextMut, Store, StoreInner, StoreOpaque};
pub use trap::{Error, FrameInfo, Result, Trap, TrapCode};
pub use types::{
    ExternType, FuncType, GlobalType, HeapType, MemoryType, Mutability, RefType, TableType,
    TagType, ValType,
};
pub use values::{AnyRef, ExnRef, ExternRef, Val, ValRaw};

impl<T> Store<T> {
    /// Create a host reference whose payload the store keeps alive.
    pub fn new_externref(&mut self, payload: impl std::any::Any + Send + Sync) -> ExternRef {
        self.inner.opaque.new_externref(Box::new(payload))
    }

    /// The payload of a host reference created by this store.
    pub fn externref_data(&self, r: ExternRef) -> Option<&(dyn std::any::Any + Send + Sync)> {
        if !r.is_host() {
            return None;
        }
        let i = usize::try_from(r.0 >> 2).ok()?.checked_sub(1)?;
        self.inner.opaque.externrefs.get(i).map(|b| &**b)
    }
}
