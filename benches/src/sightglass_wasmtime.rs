//! lockstep-wasi's host calls bound to Wasmtime's `Linker` (feature `peers`), so the
//! Sightglass programs run on Wasmtime with the same host, and the same output checks, as
//! on ours.

use super::*;
use lockstep_wasi::memory::{GuestMemory, MemoryError, no_memory, read_from, write_into};
use lockstep_wasi::syscalls::{self, FUNCS, HostError, Ty};
use wasmtime::{Caller, Extern, FuncType, Linker, Module, Store, Val, ValType};

/// The message of the error `proc_exit` unwinds with.
const EXIT: &str = lockstep_wasi::runtime::EXIT_TRAP;

struct Mem<'a>(Option<&'a mut [u8]>);

impl GuestMemory for Mem<'_> {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> std::result::Result<(), MemoryError> {
        read_from(self.0.as_deref().ok_or_else(no_memory)?, addr, buf)
    }
    fn write(&mut self, addr: u32, bytes: &[u8]) -> std::result::Result<(), MemoryError> {
        write_into(self.0.as_deref_mut().ok_or_else(no_memory)?, addr, bytes)
    }
}

fn val_type(t: Ty) -> ValType {
    match t {
        Ty::I32 => ValType::I32,
        Ty::I64 => ValType::I64,
    }
}

/// One host call: the caller's exported `memory` and the store's context, both borrowed.
fn call(
    mut caller: Caller<'_, WasiCtx>,
    index: usize,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let args: Vec<u64> = params
        .iter()
        .map(|v| match v {
            Val::I32(x) => u64::from(*x as u32),
            Val::I64(x) => *x as u64,
            _ => 0,
        })
        .collect();
    let memory = caller.get_export("memory").and_then(Extern::into_memory);
    let (mut mem, ctx) = match memory {
        Some(m) => {
            let (data, ctx) = m.data_and_store_mut(&mut caller);
            (Mem(Some(data)), ctx)
        }
        None => (Mem(None), caller.data_mut()),
    };
    match syscalls::call(ctx, &mut mem, index, &args) {
        Ok(Some(e)) => {
            results[0] = Val::I32(e);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(HostError::Exit(code)) => {
            ctx.exit_code = Some(code);
            Err(wasmtime::Error::msg(EXIT))
        }
        Err(HostError::Trap(msg)) => Err(wasmtime::Error::msg(msg)),
    }
}

pub struct Wasmtime {
    program: Program,
    engine: wasmtime::Engine,
    module: Module,
    linker: Linker<WasiCtx>,
}

impl Wasmtime {
    pub fn new(p: &Program) -> Result<Wasmtime> {
        let bytes = std::fs::read(&p.wasm)?;
        let engine = crate::engines::peers::wasmtime_engine();
        let module = Module::from_binary(&engine, &bytes).map_err(|e| anyhow!("{e:?}"))?;
        let mut linker = Linker::new(&engine);
        for (index, def) in FUNCS.iter().enumerate() {
            let ty = FuncType::new(
                &engine,
                def.params.iter().copied().map(val_type),
                def.results.iter().copied().map(val_type),
            );
            linker
                .func_new(def.module, def.name, ty, move |c, p, r| {
                    call(c, index, p, r)
                })
                .map_err(|e| anyhow!("{e:?}"))?;
        }
        // The WASI calls the host leaves out return ENOSYS, as on lockstep's engines.
        for import in module.imports() {
            let (m, name) = (import.module(), import.name());
            if !syscalls::unsupported(m) || syscalls::lookup(m, name).is_some() {
                continue;
            }
            if let wasmtime::ExternType::Func(ft) = import.ty() {
                let has_result = ft.results().len() == 1;
                linker
                    .func_new(m, name, ft, move |_, _, r| {
                        if has_result {
                            r[0] = Val::I32(syscalls::ENOSYS_RESULT);
                        }
                        Ok(())
                    })
                    .map_err(|e| anyhow!("{e:?}"))?;
            }
        }
        Ok(Wasmtime {
            program: p.clone(),
            engine,
            module,
            linker,
        })
    }
}

impl Runner for Wasmtime {
    fn run(&mut self) -> Result<Duration> {
        let mut store = Store::new(&self.engine, ctx(&self.program)?);
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| anyhow!("{e:?}"))?;
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|e| anyhow!("{e:?}"))?;
        let r = start.call(&mut store, ());
        let ctx = std::mem::take(store.data_mut());
        let exit = match (r, ctx.exit_code) {
            (Ok(()), _) => Ok(0),
            (Err(e), Some(c)) if format!("{e:?}").contains(EXIT) => Ok(c),
            (Err(e), _) => Err(format!("{e:?}")),
        };
        check(&self.program, EngineKind::Wasmtime, Ran { exit, ctx })
    }
}
