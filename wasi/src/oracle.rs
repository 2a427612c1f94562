//! The binding for lockstep-oracle: resolves a module's imports against the WASI host.
//!
//! Each WASI function is an oracle host function lent its caller
//! ([`Store::alloc_host_func_with_caller`]): the calls reach the calling instance's exported
//! `memory` through [`Caller::get_export`], and run the same host code ([`syscalls::call`]) as
//! the runtime's binding. The oracle's store holds no embedder data, so the [`WasiCtx`] is
//! shared with the closures through an `Arc<Mutex<_>>`.

use std::sync::{Arc, Mutex};

use lockstep_oracle::{Caller, Extern, ExternType, FuncType, Module, Store, Trap, ValType, Value};

use crate::WasiCtx;
use crate::memory::{GuestMemory, MemoryError, no_memory, read_from, write_into};
use crate::syscalls::{self, FUNCS, HostError, Ty};

/// The trap message of `proc_exit`; the code itself is in [`WasiCtx::exit_code`].
pub const EXIT_TRAP: &str = crate::runtime::EXIT_TRAP;

/// The calling instance's exported `memory`, looked up on each access (a call that grows
/// memory cannot leave a stale view behind).
struct CallerMemory<'a, 'b> {
    caller: &'a mut Caller<'b>,
}

impl CallerMemory<'_, '_> {
    fn data(&mut self) -> Result<&mut [u8], MemoryError> {
        match self.caller.get_export("memory") {
            Some(Extern::Memory(m)) => Ok(self.caller.store_mut().memory_data_mut(m)),
            _ => Err(no_memory()),
        }
    }
}

impl GuestMemory for CallerMemory<'_, '_> {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), MemoryError> {
        read_from(self.data()?, addr, buf)
    }
    fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemoryError> {
        write_into(self.data()?, addr, bytes)
    }
}

fn val_type(t: Ty) -> ValType {
    match t {
        Ty::I32 => ValType::I32,
        Ty::I64 => ValType::I64,
    }
}

/// Why a module's imports cannot be resolved.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown import: {module}.{name} (the WASI host provides wasi_snapshot_preview1 and bench)"
)]
pub struct UnknownImport {
    pub module: String,
    pub name: String,
}

/// Allocate host function `index` of [`FUNCS`] in `store`, running on `ctx`.
fn alloc(store: &mut Store, index: usize, ctx: &Arc<Mutex<WasiCtx>>) -> lockstep_oracle::FuncAddr {
    let def = &FUNCS[index];
    let ty = FuncType {
        params: def.params.iter().copied().map(val_type).collect(),
        results: def.results.iter().copied().map(val_type).collect(),
    };
    let ctx = Arc::clone(ctx);
    store.alloc_host_func_with_caller(
        ty,
        Box::new(move |caller, params| {
            // The oracle checked the types: every argument is an i32 or an i64.
            let args: Vec<u64> = params
                .iter()
                .map(|v| match v {
                    Value::I32(x) => u64::from(*x),
                    Value::I64(x) => *x,
                    _ => 0,
                })
                .collect();
            let mut ctx = ctx.lock().unwrap_or_else(|p| p.into_inner());
            let mut mem = CallerMemory { caller };
            match syscalls::call(&mut ctx, &mut mem, index, &args) {
                Ok(Some(e)) => Ok(vec![Value::I32(e as u32)]),
                Ok(None) => Ok(vec![]),
                Err(HostError::Exit(code)) => {
                    ctx.exit_code = Some(code);
                    Err(Trap::host(EXIT_TRAP))
                }
                Err(HostError::Trap(msg)) => Err(Trap::host(msg)),
            }
        }),
    )
}

/// The externs `module`'s imports resolve to, in import order, allocated in `store`: the
/// host's functions, and for the other WASI calls functions returning `ENOSYS` with the
/// signature the module asks for (as the runtime's `define_unsupported`).
pub fn resolve_imports(
    store: &mut Store,
    module: &Module,
    ctx: &Arc<Mutex<WasiCtx>>,
) -> Result<Vec<Extern>, UnknownImport> {
    let mut externs = Vec::new();
    for (m, name, ty) in module.imports() {
        let unknown = || UnknownImport {
            module: m.clone(),
            name: name.clone(),
        };
        let ExternType::Func(import_ty) = ty else {
            return Err(unknown());
        };
        let addr = if let Some(index) = syscalls::lookup(&m, &name) {
            alloc(store, index, ctx)
        } else if syscalls::unsupported(&m) {
            let has_result = import_ty.results == [ValType::I32];
            store.alloc_host_func(
                import_ty,
                Box::new(move |_| {
                    Ok(if has_result {
                        vec![Value::I32(syscalls::ENOSYS_RESULT as u32)]
                    } else {
                        vec![]
                    })
                }),
            )
        } else {
            return Err(unknown());
        };
        externs.push(Extern::Func(addr));
    }
    Ok(externs)
}
