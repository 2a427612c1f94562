//! Sightglass programs (`../shared/corpus/sightglass`, WASI preview1 commands) end to end on
//! our runtime and, with the `peers` feature, on Wasmtime. Every run's stdout, stderr and exit
//! status are checked against the program's `.expected` files (the same [`check`] on both
//! engines), so a wrong engine never looks fast.
//!
//! The engines get one WASI host: lockstep-wasi's, through its `add_to_linker` on ours and
//! bound to Wasmtime's `Linker` in `sightglass_wasmtime.rs`. The host is not
//! engine code, so sharing it keeps the comparison about the engines; `wasmtime-wasi` would
//! need Wasmtime's component model and a Tokio runtime in the peers build.
//!
//! The figure is the time between the program's `bench.start` and `bench.end` calls, read
//! on the process CPU-time clock (like every `lockstep-bench` figure): instantiation,
//! start-up and output checks are outside it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use lockstep_wasi::WasiCtx;

use crate::engines::EngineKind;
use crate::measure::{Stats, process_cpu_ns};

/// A program with the folder it runs in (preopened as `.`) and its expected output.
#[derive(Clone, Debug)]
pub struct Program {
    pub name: String,
    pub wasm: PathBuf,
    pub dir: PathBuf,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Every Sightglass program with `.expected` files, sorted by name (`richards` has none and
/// is left out). Empty when the corpus is absent.
pub fn programs() -> Vec<Program> {
    let mut out = Vec::new();
    for (name, wasm) in crate::corpus::sightglass() {
        let (Some(dir), Some(stem)) = (wasm.parent(), wasm.file_stem()) else {
            continue;
        };
        let stem = stem.to_string_lossy();
        let read = |ext: &str| std::fs::read(dir.join(format!("{stem}.{ext}.expected")));
        if let (Ok(stdout), Ok(stderr)) = (read("stdout"), read("stderr")) {
            out.push(Program {
                name,
                wasm: wasm.clone(),
                dir: dir.to_path_buf(),
                stdout,
                stderr,
            });
        }
    }
    out
}

/// The named programs, or an error naming the missing ones.
pub fn find(names: &[&str]) -> Result<Vec<Program>> {
    let all = programs();
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|p| p.name == *n)
                .cloned()
                .ok_or_else(|| anyhow!("sightglass program `{n}` not found"))
        })
        .collect()
}

fn cpu_clock() -> Duration {
    Duration::from_nanos(process_cpu_ns() as u64)
}

fn ctx(p: &Program) -> Result<WasiCtx> {
    Ok(WasiCtx::builder()
        .arg(format!("{}.wasm", p.name))
        .preopen_dir(&p.dir, ".")
        .with_context(|| format!("preopening {}", p.dir.display()))?
        .deterministic(true)
        .bench_clock(cpu_clock)
        .build())
}

/// One run's outcome: the exit code (`None` when it trapped, with the message) and output.
struct Ran {
    exit: std::result::Result<u32, String>,
    ctx: WasiCtx,
}

fn check(p: &Program, engine: EngineKind, ran: Ran) -> Result<Duration> {
    let who = format!("sightglass/{} on {}", p.name, engine.name());
    match ran.exit {
        Ok(0) => {}
        Ok(c) => bail!("{who}: exit code {c}"),
        Err(m) => bail!("{who}: trap: {m}"),
    }
    if ran.ctx.stdout.bytes != p.stdout {
        bail!("{who}: stdout differs from the .expected file");
    }
    if ran.ctx.stderr.bytes != p.stderr {
        bail!("{who}: stderr differs from the .expected file");
    }
    ran.ctx
        .bench_elapsed
        .ok_or_else(|| anyhow!("{who}: bench.start/bench.end were not both called"))
}

/// A program compiled once on one engine; each [`Runner::run`] instantiates it afresh.
pub trait Runner {
    /// Run once, check the output, return the bench span.
    fn run(&mut self) -> Result<Duration>;
}

struct Ours {
    program: Program,
    engine: lockstep_runtime::Engine,
    module: lockstep_runtime::Module,
    linker: lockstep_runtime::Linker<lockstep_wasi::runtime::RuntimeWasi>,
}

impl Ours {
    fn new(p: &Program) -> Result<Ours> {
        use lockstep_runtime as rt;
        let bytes = std::fs::read(&p.wasm)?;
        let engine = crate::engines::ours_engine();
        let module = rt::Module::new(&engine, &bytes).map_err(|e| anyhow!("{e}"))?;
        let mut linker = rt::Linker::new(&engine);
        lockstep_wasi::runtime::add_to_linker(&mut linker, |s| s).map_err(|e| anyhow!("{e}"))?;
        lockstep_wasi::runtime::define_unsupported(&mut linker, &module)
            .map_err(|e| anyhow!("{e}"))?;
        Ok(Ours {
            program: p.clone(),
            engine,
            module,
            linker,
        })
    }
}

impl Runner for Ours {
    fn run(&mut self) -> Result<Duration> {
        use lockstep_wasi::runtime::{EXIT_TRAP, RuntimeWasi};
        let ctx = ctx(&self.program)?;
        let mut store =
            lockstep_runtime::Store::new(&self.engine, RuntimeWasi { ctx, memory: None });
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| anyhow!("{e}"))?;
        store.data_mut().memory = instance.get_memory(&mut store, "memory");
        let start = instance
            .get_func(&mut store, "_start")
            .context("no _start export")?;
        let r = start.call(&mut store, &[], &mut []);
        let ctx = std::mem::take(&mut store.data_mut().ctx);
        let exit = match (r, ctx.exit_code) {
            (Ok(()), _) => Ok(0),
            (Err(e), Some(c)) if e.to_string().contains(EXIT_TRAP) => Ok(c),
            (Err(e), _) => Err(e.to_string()),
        };
        check(&self.program, EngineKind::Ours, Ran { exit, ctx })
    }
}

#[cfg(feature = "peers")]
#[path = "sightglass_wasmtime.rs"]
mod wasmtime_wasi;

/// Compile `p` for `engine` (ours, or Wasmtime with the `peers` feature).
pub fn runner(engine: EngineKind, p: &Program) -> Result<Box<dyn Runner>> {
    match engine {
        EngineKind::Ours => Ok(Box::new(Ours::new(p)?)),
        #[cfg(feature = "peers")]
        EngineKind::Wasmtime => Ok(Box::new(wasmtime_wasi::Wasmtime::new(p)?)),
        other => bail!(
            "sightglass programs run on ours and wasmtime only, not {}",
            other.name()
        ),
    }
}

/// Run `r` until `budget` is met; the stats of the bench spans.
pub fn measure(r: &mut dyn Runner, budget: crate::measure::Budget) -> Result<Stats> {
    // The first run warms up (the host's file cache, lazily built engine state): not counted.
    r.run()?;
    let start = std::time::Instant::now();
    let mut spans = Vec::new();
    while spans.len() < budget.max_samples
        && (spans.len() < budget.min_samples || start.elapsed() < budget.min_time)
    {
        spans.push(r.run()?.as_nanos() as f64);
    }
    Ok(crate::measure::stats(&mut spans))
}
