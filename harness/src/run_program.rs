//! `lockstep run`: a WASI command module on each engine in turn, compared.
//!
//! Each engine gets a fresh [`WasiCtx`] built from the same options; the comparison covers
//! what the program wrote to stdout and stderr, how it ended (exit code or trap) and a hash
//! of its final memory. With more than one engine clocks and random are deterministic, so a
//! difference is the engines', not the inputs'. With one engine the output is passed through
//! and the process exits with the program's code, like `wasmtime run`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lockstep_wasi::{WasiCtx, runtime::RuntimeWasi};

use crate::engine::TrapCode;

/// The engines `lockstep run` can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEngine {
    Oracle,
    Runtime,
}

impl RunEngine {
    pub fn name(self) -> &'static str {
        match self {
            RunEngine::Oracle => "oracle",
            RunEngine::Runtime => "runtime",
        }
    }
    /// `--engine` values (repeatable, `all` for both); none given means all.
    pub fn parse_list(names: &[String]) -> Result<Vec<RunEngine>> {
        let mut out = Vec::new();
        let mut push = |e| {
            if !out.contains(&e) {
                out.push(e);
            }
        };
        for n in names {
            match n.as_str() {
                "oracle" => push(RunEngine::Oracle),
                "runtime" => push(RunEngine::Runtime),
                "all" => {
                    push(RunEngine::Oracle);
                    push(RunEngine::Runtime);
                }
                other => bail!("unknown engine `{other}` (expected oracle, runtime or all)"),
            }
        }
        if out.is_empty() {
            out = vec![RunEngine::Oracle, RunEngine::Runtime];
        }
        Ok(out)
    }
}

/// What `lockstep run` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct ProgramOptions {
    pub program: PathBuf,
    pub engines: Vec<String>,
    /// `(host, guest)` preopens.
    pub dirs: Vec<(PathBuf, String)>,
    pub env: Vec<(String, String)>,
    /// Force fixed clocks and random (always on with more than one engine).
    pub deterministic: bool,
    pub bench: bool,
    /// Arguments after the program name.
    pub args: Vec<String>,
}

impl ProgramOptions {
    /// Parse `--dir HOST::GUEST` (or `--dir PATH`, preopened under the same name).
    pub fn parse_dir(s: &str) -> (PathBuf, String) {
        match s.split_once("::") {
            Some((host, guest)) => (PathBuf::from(host), guest.to_string()),
            None => (PathBuf::from(s), s.to_string()),
        }
    }
    /// Parse `--env K=V`.
    pub fn parse_env(s: &str) -> Result<(String, String)> {
        match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("--env expects KEY=VALUE, got `{s}`"),
        }
    }
}

/// How a program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Exit(u32),
    Trap(String),
}

impl Status {
    /// Traps compare by kind: the engines word host and spec traps alike but not identically.
    fn same_as(&self, other: &Status) -> bool {
        match (self, other) {
            (Status::Trap(a), Status::Trap(b)) => {
                let (ca, cb) = (TrapCode::from_message(a), TrapCode::from_message(b));
                ca == cb && (ca != TrapCode::Other || a == b)
            }
            _ => self == other,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exit(c) => write!(f, "exit {c}"),
            Status::Trap(m) => write!(f, "trap: {m}"),
        }
    }
}

/// One engine's run of the program.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub engine: RunEngine,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: Status,
    /// FNV-1a of the exported `memory` at the end, if there is one.
    pub memory_hash: Option<u64>,
    /// Time between `bench.start` and `bench.end`.
    pub bench: Option<Duration>,
    /// Instantiation and `_start`, compilation excluded.
    pub elapsed: Duration,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn build_ctx(opts: &ProgramOptions, deterministic: bool, echo: bool) -> Result<WasiCtx> {
    let argv0 = opts
        .program
        .file_name()
        .map_or("program.wasm".into(), |n| n.to_string_lossy().into_owned());
    let mut b = WasiCtx::builder()
        .arg(argv0)
        .args(opts.args.iter().cloned())
        .deterministic(deterministic)
        .echo_output(echo);
    for (k, v) in &opts.env {
        b = b.env(k, v);
    }
    for (host, guest) in &opts.dirs {
        b = b
            .preopen_dir(host, guest)
            .with_context(|| format!("--dir {}: cannot open the directory", host.display()))?;
    }
    Ok(b.build())
}

/// Run the program once on `engine`. `Err` is bad input (the module does not load or link).
pub fn run_on(
    engine: RunEngine,
    bytes: &[u8],
    opts: &ProgramOptions,
    deterministic: bool,
    echo: bool,
) -> Result<Outcome> {
    let ctx = build_ctx(opts, deterministic, echo)?;
    match engine {
        RunEngine::Runtime => run_runtime(bytes, ctx),
        RunEngine::Oracle => run_oracle(bytes, ctx),
    }
}

fn status_of(trap_message: &str, ctx: &WasiCtx, exit_trap: &str) -> Status {
    match ctx.exit_code {
        Some(code) if trap_message.contains(exit_trap) => Status::Exit(code),
        _ => Status::Trap(trap_message.to_string()),
    }
}

fn run_runtime(bytes: &[u8], ctx: WasiCtx) -> Result<Outcome> {
    use lockstep_runtime as rt;
    let engine = rt::Engine::new(&rt::Config::new())?;
    let module = rt::Module::new(&engine, bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut linker = rt::Linker::<RuntimeWasi>::new(&engine);
    lockstep_wasi::runtime::add_to_linker(&mut linker, |s| s)?;
    lockstep_wasi::runtime::define_unsupported(&mut linker, &module)?;
    let mut store = rt::Store::new(&engine, RuntimeWasi { ctx, memory: None });
    let start = Instant::now();
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let memory = instance.get_memory(&mut store, "memory");
    store.data_mut().memory = memory;
    let entry = instance
        .get_func(&mut store, "_start")
        .context("the module exports no `_start` function (not a WASI command)")?;
    let result = entry.call(&mut store, &[], &mut []);
    let elapsed = start.elapsed();
    let memory_hash = memory.map(|m| fnv1a(m.data(&mut store)));
    let state = store.data_mut();
    let ctx = std::mem::take(&mut state.ctx);
    let status = match result {
        Ok(()) => Status::Exit(0),
        Err(e) => status_of(&e.to_string(), &ctx, lockstep_wasi::runtime::EXIT_TRAP),
    };
    Ok(outcome(
        RunEngine::Runtime,
        ctx,
        status,
        memory_hash,
        elapsed,
    ))
}

fn run_oracle(bytes: &[u8], ctx: WasiCtx) -> Result<Outcome> {
    use lockstep_oracle as or;
    let mut store = or::Store::new(or::Config {
        // Real programs recurse deeper than spec tests; the frame stack is on the heap.
        max_call_depth: 100_000,
        ..or::Config::default()
    });
    let module = store.compile(bytes).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let ctx = Arc::new(Mutex::new(ctx));
    let imports = lockstep_wasi::oracle::resolve_imports(&mut store, &module, &ctx)?;
    let start = Instant::now();
    let instance = store
        .instantiate(&module, &imports)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let Some(or::Extern::Func(entry)) = store.export(instance, "_start") else {
        bail!("the module exports no `_start` function (not a WASI command)");
    };
    let result = store.invoke(entry, &[]);
    let elapsed = start.elapsed();
    let memory_hash = match store.export(instance, "memory") {
        Some(or::Extern::Memory(m)) => Some(fnv1a(store.memory_data(m))),
        _ => None,
    };
    let ctx = std::mem::take(&mut *ctx.lock().unwrap_or_else(|p| p.into_inner()));
    let status = match result {
        Ok(_) => Status::Exit(0),
        Err(or::CallError::Trap(t)) => {
            status_of(&t.message, &ctx, lockstep_wasi::oracle::EXIT_TRAP)
        }
        // An exception that escapes `_start` ends the program like a trap.
        Err(e @ or::CallError::Exception(_)) => {
            status_of(&e.to_string(), &ctx, lockstep_wasi::oracle::EXIT_TRAP)
        }
    };
    Ok(outcome(
        RunEngine::Oracle,
        ctx,
        status,
        memory_hash,
        elapsed,
    ))
}

fn outcome(
    engine: RunEngine,
    ctx: WasiCtx,
    status: Status,
    memory_hash: Option<u64>,
    elapsed: Duration,
) -> Outcome {
    Outcome {
        engine,
        stdout: ctx.stdout.bytes,
        stderr: ctx.stderr.bytes,
        status,
        memory_hash,
        bench: ctx.bench_elapsed,
        elapsed,
    }
}

/// What differs between two outcomes, one line each; empty when they agree.
pub fn differences(a: &Outcome, b: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let stream = |name: &str, x: &[u8], y: &[u8], out: &mut Vec<String>| {
        if x != y {
            let at = x.iter().zip(y).take_while(|(p, q)| p == q).count();
            out.push(format!(
                "{name} differs: {} {} bytes, {} {} bytes, first difference at byte {at}",
                a.engine.name(),
                x.len(),
                b.engine.name(),
                y.len()
            ));
        }
    };
    if !a.status.same_as(&b.status) {
        out.push(format!(
            "status differs: {} {}, {} {}",
            a.engine.name(),
            a.status,
            b.engine.name(),
            b.status
        ));
    }
    stream("stdout", &a.stdout, &b.stdout, &mut out);
    stream("stderr", &a.stderr, &b.stderr, &mut out);
    if a.memory_hash != b.memory_hash {
        out.push(format!(
            "final memory differs: {} {:016x?}, {} {:016x?}",
            a.engine.name(),
            a.memory_hash,
            b.engine.name(),
            b.memory_hash
        ));
    }
    out
}

/// The `lockstep run` command; returns the process exit code. `Err` is bad input (exit 2).
pub fn run(opts: &ProgramOptions) -> Result<u8> {
    let engines = RunEngine::parse_list(&opts.engines)?;
    let bytes = std::fs::read(&opts.program)
        .with_context(|| format!("cannot read {}", opts.program.display()))?;
    let single = engines.len() == 1;
    let deterministic = opts.deterministic || !single;
    let mut outcomes = Vec::new();
    for &e in &engines {
        let o = run_on(e, &bytes, opts, deterministic, single)?;
        let bench = o.bench.map_or(String::new(), |b| {
            format!(", bench {:.3} ms", b.as_secs_f64() * 1e3)
        });
        if opts.bench || !single {
            eprintln!(
                "lockstep: {}: {}, {:.3} s{bench}",
                e.name(),
                o.status,
                o.elapsed.as_secs_f64()
            );
        }
        outcomes.push(o);
    }
    if single {
        return Ok(match &outcomes[0].status {
            Status::Exit(c) => *c as u8,
            Status::Trap(m) => {
                eprintln!("lockstep: wasm trap: {m}");
                // What a shell reports for an abort, as `wasmtime run` does.
                134
            }
        });
    }
    let first = &outcomes[0];
    let mut divergences = 0;
    for other in &outcomes[1..] {
        for d in differences(first, other) {
            eprintln!("lockstep: divergence: {d}");
            divergences += 1;
        }
    }
    if divergences > 0 {
        eprintln!("lockstep: {divergences} divergence(s)");
        return Ok(1);
    }
    // The engines agree: the program's output, once.
    use std::io::Write;
    std::io::stdout().write_all(&first.stdout)?;
    std::io::stderr().write_all(&first.stderr)?;
    eprintln!(
        "lockstep: {} engines agree ({}), 0 divergences",
        outcomes.len(),
        first.status
    );
    Ok(0)
}
