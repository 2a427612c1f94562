//! The binding for lockstep-runtime, in the style of `wasmtime_wasi::add_to_linker`.
//!
//! The runtime's `Caller` cannot look up the calling instance's exports (its calls into the
//! host pass only the host function's own context, not the caller's instance), so the
//! embedder records the instance's memory in [`RuntimeWasi::memory`] after instantiation
//! (before calling `_start`); the calls reach memory through it.

use lockstep_runtime::{Caller, FuncType, Linker, Memory, Module, Result, Trap, Val, ValType};

use crate::WasiCtx;
use crate::memory::{GuestMemory, MemoryError, no_memory, read_from, write_into};
use crate::syscalls::{self, FUNCS, HostError, Ty};

/// What a store's data holds for WASI.
#[derive(Default)]
pub struct RuntimeWasi {
    pub ctx: WasiCtx,
    /// The program's memory, set by the embedder once the instance exists.
    pub memory: Option<Memory>,
}

/// The trap message of `proc_exit`; the code itself is in [`WasiCtx::exit_code`].
pub const EXIT_TRAP: &str = "wasi: proc_exit";

struct CallerMemory<'a, 'b, T> {
    caller: &'a mut Caller<'b, T>,
    memory: Option<Memory>,
}

impl<T> CallerMemory<'_, '_, T> {
    fn data(&mut self) -> Result<&mut [u8], MemoryError> {
        let m = self.memory.ok_or_else(no_memory)?;
        Ok(m.data_mut(&mut *self.caller))
    }
}

impl<T> GuestMemory for CallerMemory<'_, '_, T> {
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

/// Define every host function of [`FUNCS`] in `linker`; `get` finds the WASI state in the
/// store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut RuntimeWasi,
) -> Result<()> {
    for (index, def) in FUNCS.iter().enumerate() {
        let ty = FuncType::new(
            def.params.iter().copied().map(val_type),
            def.results.iter().copied().map(val_type),
        );
        linker.func_new(
            def.module,
            def.name,
            ty,
            move |mut caller, params, results| {
                let args: Vec<u64> = params
                    .iter()
                    .map(|v| match v {
                        Val::I32(x) => *x as u32 as u64,
                        Val::I64(x) => *x as u64,
                        _ => 0,
                    })
                    .collect();
                let state = get(caller.data_mut());
                let memory = state.memory;
                // The context leaves the store for the call, so memory and context can both be
                // borrowed mutably.
                let mut ctx = std::mem::take(&mut state.ctx);
                let mut mem = CallerMemory {
                    caller: &mut caller,
                    memory,
                };
                let r = syscalls::call(&mut ctx, &mut mem, index, &args);
                let state = get(caller.data_mut());
                state.ctx = ctx;
                match r {
                    Ok(Some(e)) => {
                        results[0] = Val::I32(e);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(HostError::Exit(code)) => {
                        state.ctx.exit_code = Some(code);
                        Err(Trap::new(EXIT_TRAP))
                    }
                    Err(HostError::Trap(msg)) => Err(Trap::new(msg)),
                }
            },
        )?;
    }
    Ok(())
}

/// Link the WASI calls `module` imports that the host leaves out as functions returning
/// `ENOSYS`, with the signature the module asks for.
pub fn define_unsupported<T: 'static>(linker: &mut Linker<T>, module: &Module) -> Result<()> {
    for (m, name, ty) in module.imports() {
        if !syscalls::unsupported(m) || syscalls::lookup(m, name).is_some() {
            continue;
        }
        if let lockstep_runtime::ExternType::Func(ft) = ty {
            let has_result = ft.results() == [ValType::I32];
            linker.func_new(m, name, ft, move |_, _, results| {
                if has_result {
                    results[0] = Val::I32(syscalls::ENOSYS_RESULT);
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}
