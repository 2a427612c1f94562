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

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("lockstep-runtime supports x86_64 Linux only");

mod compile;
pub mod config;
mod engine;
mod externals;
mod func;
mod instance;
mod linker;
mod module;
mod store;
mod translate;
mod trap;
pub mod types;
mod values;
mod vm;

pub use config::{BoundsChecks, Config, OptLevel, WasmFeatures};
pub use engine::Engine;
pub use externals::{Extern, Global, Memory, Table};
pub use func::{
    Caller, Func, HostResult, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmTy, WasmTyList,
};
pub use instance::Instance;
pub use linker::Linker;
pub use module::Module;
pub use store::{AsContextMut, Store, StoreInner, StoreOpaque};
pub use trap::{Error, FrameInfo, Result, Trap, TrapCode};
pub use types::{ExternType, FuncType, GlobalType, MemoryType, Mutability, TableType, ValType};
pub use values::{ExternRef, Val, ValRaw};

impl<T> Store<T> {
    /// Create a host reference whose payload the store keeps alive.
    pub fn new_externref(&mut self, payload: impl std::any::Any + Send + Sync) -> ExternRef {
        self.inner.opaque.new_externref(Box::new(payload))
    }

    /// The payload of a host reference created by this store.
    pub fn externref_data(&self, r: ExternRef) -> Option<&(dyn std::any::Any + Send + Sync)> {
        let i = usize::try_from(r.0).ok()?.checked_sub(1)?;
        self.inner.opaque.externrefs.get(i).map(|b| &**b)
    }
}
