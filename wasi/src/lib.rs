//! `lockstep-wasi`: one WASI preview1 host for every lockstep engine.
//!
//! The host is not engine code, so sharing it between engines does not weaken a differential
//! run: both engines see the same system-call results for the same calls, and any difference
//! in what a program prints, returns or leaves in memory comes from the engines.
//!
//! - [`ctx`]: [`WasiCtx`], the state a program sees (arguments, environment, preopened
//!   directories, the descriptor table, clocks, random, captured output, exit status).
//! - [`memory`]: [`GuestMemory`], the engine-neutral view of linear memory the calls use.
//! - [`syscalls`]: the calls themselves and [`syscalls::FUNCS`], the import table both bindings
//!   walk (module, name, signature), so neither binding lists the calls again.
//! - [`runtime`] and [`oracle`]: the two thin bindings (Wasmtime-style `add_to_linker` for the
//!   runtime's `Linker<T>`, and import resolution for the oracle's store).
//!
//! Filesystem access goes through `cap-std` directories: a path is resolved beneath its
//! preopen, and `..`, absolute paths and symlinks that would leave it are refused by cap-std.

pub mod ctx;
pub mod memory;
pub mod oracle;
pub mod runtime;
pub mod syscalls;

pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use memory::GuestMemory;
pub use syscalls::{Errno, HostError};
