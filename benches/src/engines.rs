//! The engines under test behind one interface: load a kernel module, run `run(n)`.

use anyhow::{Context, Result, anyhow, bail};

/// Which engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// lockstep-runtime (Cranelift).
    Ours,
    /// lockstep-oracle (reference interpreter).
    Oracle,
    /// wasmtime 48 (same Cranelift generation), feature `peers`.
    Wasmtime,
    /// wasmi 2.0 (register-based interpreter), feature `peers`.
    Wasmi,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Ours => "ours",
            EngineKind::Oracle => "oracle",
            EngineKind::Wasmtime => "wasmtime",
            EngineKind::Wasmi => "wasmi",
        }
    }

    pub fn parse(s: &str) -> Option<EngineKind> {
        EngineKind::all().into_iter().find(|k| k.name() == s)
    }

    pub fn all() -> Vec<EngineKind> {
        vec![
            EngineKind::Ours,
            EngineKind::Oracle,
            EngineKind::Wasmtime,
            EngineKind::Wasmi,
        ]
    }

    /// The engines built into this binary.
    pub fn available() -> Vec<EngineKind> {
        EngineKind::all()
            .into_iter()
            .filter(|k| k.is_available())
            .collect()
    }

    pub fn is_available(self) -> bool {
        match self {
            EngineKind::Ours | EngineKind::Oracle => true,
            EngineKind::Wasmtime | EngineKind::Wasmi => cfg!(feature = "peers"),
        }
    }

    /// Compiling engines get the large kernel sizes, interpreters the smaller ones.
    pub fn is_interpreter(self) -> bool {
        matches!(self, EngineKind::Oracle | EngineKind::Wasmi)
    }

    /// Whether this engine executes what a kernel needs: wasmi has neither GC nor exceptions.
    pub fn executes(self, needs: crate::kernels::Needs) -> bool {
        match self {
            EngineKind::Ours | EngineKind::Oracle | EngineKind::Wasmtime => true,
            EngineKind::Wasmi => !needs.gc && !needs.exceptions,
        }
    }

    /// The peer each of our engines is compared with.
    pub fn peer(self) -> Option<EngineKind> {
        match self {
            EngineKind::Ours => Some(EngineKind::Wasmtime),
            EngineKind::Oracle => Some(EngineKind::Wasmi),
            _ => None,
        }
    }
}

/// An instantiated kernel: `run(n) -> i64`.
pub trait KernelInstance {
    fn run(&mut self, n: i32) -> Result<i64>;
}

/// A compiler for the compile-time figures (the engine is created once). For the oracle,
/// compiling is decoding, validation and the branch pre-pass.
pub enum Compiler {
    Ours(lockstep_runtime::Engine),
    Oracle(Box<lockstep_oracle::Store>),
    #[cfg(feature = "peers")]
    Wasmtime(wasmtime::Engine),
    #[cfg(feature = "peers")]
    Wasmi(wasmi::Engine),
}

impl Compiler {
    pub fn new(kind: EngineKind) -> Result<Compiler> {
        Ok(match kind {
            EngineKind::Ours => Compiler::Ours(ours_engine()),
            EngineKind::Oracle => Compiler::Oracle(Box::default()),
            #[cfg(feature = "peers")]
            EngineKind::Wasmtime => Compiler::Wasmtime(peers::wasmtime_engine()),
            #[cfg(feature = "peers")]
            EngineKind::Wasmi => Compiler::Wasmi(wasmi::Engine::default()),
            #[cfg(not(feature = "peers"))]
            _ => bail!("{} needs the `peers` feature", kind.name()),
        })
    }

    pub fn compile(&self, wasm: &[u8]) -> Result<()> {
        match self {
            Compiler::Ours(e) => {
                lockstep_runtime::Module::from_binary(e, wasm).map_err(|e| anyhow!("{e}"))?;
            }
            Compiler::Oracle(s) => {
                s.compile(wasm).map_err(|e| anyhow!("{e:?}"))?;
            }
            #[cfg(feature = "peers")]
            Compiler::Wasmtime(e) => {
                wasmtime::Module::from_binary(e, wasm).map_err(|e| anyhow!("{e:?}"))?;
            }
            #[cfg(feature = "peers")]
            Compiler::Wasmi(e) => {
                wasmi::Module::new(e, wasm).map_err(|e| anyhow!("{e}"))?;
            }
        }
        Ok(())
    }
}

/// The runtime with its defaults plus memory64 (the `sieve64` kernel), exceptions (`throw`) and
/// GC (`gc`).
pub fn ours_engine() -> lockstep_runtime::Engine {
    let mut config = lockstep_runtime::Config::new();
    config.wasm_memory64(true);
    config.wasm_exceptions(true);
    config.wasm_function_references(true);
    config.wasm_gc(true);
    lockstep_runtime::Engine::new(&config).expect("default engine")
}

/// Instantiate a kernel (no imports) on `kind`.
pub fn load_kernel(
    kind: EngineKind,
    kernel: &crate::kernels::Kernel,
) -> Result<Box<dyn KernelInstance>> {
    let wasm = &kernel.wasm();
    match kind {
        EngineKind::Ours => Ok(Box::new(OursKernel::new(wasm)?)),
        // Thrown exceptions are heap objects too: with the oracle's faster throws a full-budget
        // run of `throw` in one store reached `max_objects` ("allocation limit exceeded").
        EngineKind::Oracle => Ok(Box::new(OracleKernel::new(
            wasm,
            kernel.needs.gc || kernel.needs.exceptions,
        )?)),
        EngineKind::Wasmtime => peers::wasmtime_kernel(wasm),
        EngineKind::Wasmi => peers::wasmi_kernel(wasm),
    }
}

pub struct OursKernel {
    store: lockstep_runtime::Store<()>,
    run: lockstep_runtime::TypedFunc<i32, i64>,
}

impl OursKernel {
    pub fn new(wasm: &[u8]) -> Result<OursKernel> {
        use lockstep_runtime::{Instance, Module, Store};
        let engine = ours_engine();
        let module = Module::from_binary(&engine, wasm).map_err(|e| anyhow!("compile: {e}"))?;
        let mut store = Store::new(&engine, ());
        let instance =
            Instance::new(&mut store, &module, &[]).map_err(|e| anyhow!("instantiate: {e}"))?;
        let run = instance
            .get_typed_func::<i32, i64>(&mut store, "run")
            .map_err(|e| anyhow!("{e}"))?;
        Ok(OursKernel { store, run })
    }
}

impl KernelInstance for OursKernel {
    fn run(&mut self, n: i32) -> Result<i64> {
        self.run
            .call(&mut self.store, n)
            .map_err(|t| anyhow!("trap: {t}"))
    }
}

pub struct OracleKernel {
    store: lockstep_oracle::Store,
    run: lockstep_oracle::FuncAddr,
    /// The module again when every run needs a fresh store (see [`OracleKernel::new`]).
    fresh_store_each_run: Option<Vec<u8>>,
}

impl OracleKernel {
    /// The oracle never frees a heap object (objects live as long as their store, and past
    /// `Config::max_objects` allocation traps), so a kernel that allocates gets a fresh store for
    /// each run (`fresh_store_each_run`); decoding and instantiating a kernel costs well under 1%
    /// of a run.
    pub fn new(wasm: &[u8], fresh_store_each_run: bool) -> Result<OracleKernel> {
        use lockstep_oracle::{Config, Extern, Store, WasmFeatures};
        // Wasm 3.0 (memory64 for `sieve64`, exceptions and GC for `throw` and `gc`).
        let mut store = Store::new(Config {
            features: WasmFeatures::WASM3,
            ..Config::default()
        });
        let module = store.compile(wasm).map_err(|e| anyhow!("compile: {e:?}"))?;
        let inst = store
            .instantiate(&module, &[])
            .map_err(|e| anyhow!("instantiate: {e:?}"))?;
        let Some(Extern::Func(run)) = store.export(inst, "run") else {
            bail!("no exported function `run`");
        };
        let fresh_store_each_run = fresh_store_each_run.then(|| wasm.to_vec());
        Ok(OracleKernel {
            store,
            run,
            fresh_store_each_run,
        })
    }
}

impl KernelInstance for OracleKernel {
    fn run(&mut self, n: i32) -> Result<i64> {
        use lockstep_oracle::Value;
        if let Some(wasm) = self.fresh_store_each_run.take() {
            *self = OracleKernel::new(&wasm, true)?;
        }
        let out = self
            .store
            .invoke(self.run, &[Value::I32(n as u32)])
            .map_err(|t| anyhow!("trap: {t}"))?;
        match out.as_slice() {
            [Value::I64(v)] => Ok(*v as i64),
            other => bail!("unexpected results {other:?}"),
        }
    }
}

/// Run a kernel once and check its result against the reference.
pub fn run_checked(inst: &mut dyn KernelInstance, n: i32, expected: i64) -> Result<()> {
    let got = inst.run(n)?;
    if got != expected {
        bail!("wrong result for n = {n}: got {got}, expected {expected}");
    }
    Ok(())
}

/// Load and check a kernel: the first run's result must match the reference.
pub fn load_checked(
    kind: EngineKind,
    kernel: &crate::kernels::Kernel,
    n: i32,
) -> Result<Box<dyn KernelInstance>> {
    if !kind.executes(kernel.needs) {
        bail!(
            "{} does not execute {} ({:?})",
            kind.name(),
            kernel.name,
            kernel.needs
        );
    }
    let mut inst =
        load_kernel(kind, kernel).with_context(|| format!("{} on {}", kernel.name, kind.name()))?;
    run_checked(inst.as_mut(), n, kernel.expected(n))
        .with_context(|| format!("{} on {}", kernel.name, kind.name()))?;
    Ok(inst)
}

#[cfg(feature = "peers")]
pub mod peers {
    //! wasmtime and wasmi, configured like our engines (signal-based bounds checks and
    //! parallel compilation for wasmtime; defaults for wasmi).
    use super::KernelInstance;
    use anyhow::{Result, anyhow};

    pub fn wasmtime_engine() -> wasmtime::Engine {
        let mut config = wasmtime::Config::new();
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        config.wasm_memory64(true);
        config.wasm_exceptions(true);
        config.wasm_gc(true);
        wasmtime::Engine::new(&config).expect("wasmtime engine")
    }

    struct WasmtimeKernel {
        store: wasmtime::Store<()>,
        run: wasmtime::TypedFunc<i32, i64>,
    }

    impl KernelInstance for WasmtimeKernel {
        fn run(&mut self, n: i32) -> Result<i64> {
            self.run
                .call(&mut self.store, n)
                .map_err(|e| anyhow!("trap: {e:?}"))
        }
    }

    pub fn wasmtime_kernel(wasm: &[u8]) -> Result<Box<dyn KernelInstance>> {
        let engine = wasmtime_engine();
        let module = wasmtime::Module::from_binary(&engine, wasm).map_err(|e| anyhow!("{e:?}"))?;
        let mut store = wasmtime::Store::new(&engine, ());
        let instance =
            wasmtime::Instance::new(&mut store, &module, &[]).map_err(|e| anyhow!("{e:?}"))?;
        let run = instance
            .get_typed_func::<i32, i64>(&mut store, "run")
            .map_err(|e| anyhow!("{e:?}"))?;
        Ok(Box::new(WasmtimeKernel { store, run }))
    }

    struct WasmiKernel {
        store: wasmi::Store<()>,
        run: wasmi::TypedFunc<i32, i64>,
    }

    impl KernelInstance for WasmiKernel {
        fn run(&mut self, n: i32) -> Result<i64> {
            self.run
                .call(&mut self.store, n)
                .map_err(|e| anyhow!("trap: {e}"))
        }
    }

    pub fn wasmi_kernel(wasm: &[u8]) -> Result<Box<dyn KernelInstance>> {
        let mut config = wasmi::Config::default();
        config.wasm_memory64(true);
        let engine = wasmi::Engine::new(&config);
        let module = wasmi::Module::new(&engine, wasm).map_err(|e| anyhow!("{e}"))?;
        let mut store = wasmi::Store::new(&engine, ());
        let linker = wasmi::Linker::<()>::new(&engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| anyhow!("{e}"))?;
        let run = instance
            .get_typed_func::<i32, i64>(&store, "run")
            .map_err(|e| anyhow!("{e}"))?;
        Ok(Box::new(WasmiKernel { store, run }))
    }
}

#[cfg(not(feature = "peers"))]
pub mod peers {
    //! Without the `peers` feature, the peer engines are absent.
    use super::KernelInstance;
    use anyhow::{Result, bail};

    const MSG: &str = "wasmtime and wasmi need `--features peers`";

    pub fn wasmtime_kernel(_: &[u8]) -> Result<Box<dyn KernelInstance>> {
        bail!(MSG)
    }
    pub fn wasmi_kernel(_: &[u8]) -> Result<Box<dyn KernelInstance>> {
        bail!(MSG)
    }
}
