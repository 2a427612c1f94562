//! The binding for lockstep-oracle: resolves a module's imports against the WASI host.
//!
//! The oracle's host functions (`Store::alloc_host_func`) receive only their arguments: the
//! store, and with it the caller's memory, stays borrowed by the interpreter for the whole
//! call, and no accessor reaches it. So on the oracle the calls that touch memory trap with
//! [`NO_MEMORY`]; `proc_exit` and `bench.start`/`bench.end`, which do not, work. The oracle
//! needs a host-function form that is lent the caller's memory (see the project's issue 15).

use std::sync::{Arc, Mutex};

use lockstep_oracle::{Extern, ExternType, FuncType, Module, Store, Trap, ValType, Value};

use crate::WasiCtx;
use crate::memory::{GuestMemory, MemoryError};
use crate::syscalls::{self, FUNCS, HostError, Ty};

/// The trap message of a WASI call that needs memory on the oracle.
pub const NO_MEMORY: &str =
    "wasi: the oracle lends host functions no access to guest memory (Store::alloc_host_func)";
/// The trap message of `proc_exit`; the code itself is in [`WasiCtx::exit_code`].
pub const EXIT_TRAP: &str = crate::runtime::EXIT_TRAP;

struct NoMemory;

impl GuestMemory for NoMemory {
    fn read(&mut self, _: u32, _: &mut [u8]) -> Result<(), MemoryError> {
        Err(MemoryError::Unavailable(NO_MEMORY.into()))
    }
    fn write(&mut self, _: u32, _: &[u8]) -> Result<(), MemoryError> {
        Err(MemoryError::Unavailable(NO_MEMORY.into()))
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

/// The externs `module`'s imports resolve to, in import order, allocated in `store`.
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
            let def = &FUNCS[index];
            let ty = FuncType {
                params: def.params.iter().copied().map(val_type).collect(),
                results: def.results.iter().copied().map(val_type).collect(),
            };
            let ctx = Arc::clone(ctx);
            store.alloc_host_func(
                ty,
                Box::new(move |params| {
                    let args: Vec<u64> = params
                        .iter()
                        .map(|v| match v {
                            Value::I32(x) => u64::from(*x),
                            Value::I64(x) => *x,
                            _ => 0,
                        })
                        .collect();
                    let mut ctx = ctx.lock().unwrap_or_else(|p| p.into_inner());
                    match syscalls::call(&mut ctx, &mut NoMemory, index, &args) {
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
