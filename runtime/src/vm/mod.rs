//! The unsafe core of the runtime. Everything that touches raw pointers, mmap, signals or
//! generated code lives in this module; the rest of the crate is safe Rust.
//!
//! - [`vmctx`]: the layout of the per-instance VM context, shared by translator and host.
//! - [`memory`]: linear-memory reservations (mmap/mprotect).
//! - [`code`]: executable code memory and the global registry of code ranges and trap tables.
//! - [`traps`]: signal handlers, the setjmp/longjmp entry, stack limits and backtraces.
//! - [`builtins`]: libcalls that generated code reaches through the VM context.
//! - [`host`]: the array-ABI bridge from generated wasm->host shims into Rust closures, and
//!   the store's calls into generated code.
//! - [`unwind`]: the exception frame walker (`try_call` handlers) behind `lockstep_throw`.
//! - [`instance`]: an instance's VM context slots and the memory/table libcall bodies.

pub(crate) mod builtins;
pub(crate) mod code;
pub(crate) mod gc;
pub(crate) mod host;
pub(crate) mod instance;
pub(crate) mod memory;
pub(crate) mod traps;
pub(crate) mod unwind;
pub(crate) mod vmctx;
