//! The `lockstep-bench` figures: peer comparison, CoreMark, regression gate and chart.

use crate::calls::{CALL_KINDS, call_bench, instantiate_bench, run_kind};
use crate::engines::{Compiler, EngineKind, load_checked};
use crate::kernels::{KERNELS, Kernel};
use crate::measure::{Budget, Machine, Stats, fmt_ns, time, time_interleaved};
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One measured figure: nanoseconds per unit (a kernel run, a compile, a call...).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Figure {
    /// `kernel/fib`, `compile/medium`, `call/typed0`, `instantiate`, `coremark`...
    pub id: String,
    pub engine: String,
    pub median_ns: f64,
    pub min_ns: f64,
    pub max_ns: f64,
    pub samples: usize,
    /// Extra facts: the kernel's `n`, a module's bytes and functions, a CoreMark score.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub info: BTreeMap<String, f64>,
}

impl Figure {
    fn new(id: &str, engine: EngineKind, s: Stats) -> Figure {
        Figure {
            id: id.to_string(),
            engine: engine.name().to_string(),
            median_ns: s.median,
            min_ns: s.min,
            max_ns: s.max,
            samples: s.samples,
            info: if s.wall.is_finite() {
                BTreeMap::from([("wall_ns".to_string(), s.wall)])
            } else {
                BTreeMap::new()
            },
        }
    }
    fn with(mut self, k: &str, v: f64) -> Figure {
        self.info.insert(k.to_string(), v);
        self
    }
}

/// A set of figures with the machine and load they were measured under.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub machine: Machine,
    /// 1-minute load average before and after the run.
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    pub date_unix: u64,
    pub figures: Vec<Figure>,
}

impl Results {
    pub fn get(&self, id: &str, engine: &str) -> Option<&Figure> {
        self.figures
            .iter()
            .find(|f| f.id == id && f.engine == engine)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn say(msg: impl AsRef<str>) {
    eprintln!("{}", msg.as_ref());
}

/// The kernel size an engine runs.
pub fn kernel_n(kind: EngineKind, k: &Kernel) -> i32 {
    if kind.is_interpreter() {
        k.interp_n
    } else {
        k.jit_n
    }
}

pub fn kernel_figures(engines: &[EngineKind], budget: Budget) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for k in KERNELS {
        for &e in engines {
            if !e.executes(k.needs) {
                say(format!(
                    "  kernel/{:<9} {:<9} sits out ({:?})",
                    k.name,
                    e.name(),
                    k.needs
                ));
                continue;
            }
            let n = kernel_n(e, k);
            let mut inst = load_checked(e, k, n)?;
            let expected = k.expected(n);
            let s = time(budget, || {
                let got = inst.run(n).expect("kernel trapped");
                assert_eq!(got, expected, "{} on {}: wrong result", k.name, e.name());
                1
            });
            say(format!(
                "  kernel/{:<9} {:<9} n={:<9} {}",
                k.name,
                e.name(),
                n,
                fmt_ns(s.median)
            ));
            out.push(Figure::new(&format!("kernel/{}", k.name), e, s).with("n", f64::from(n)));
        }
    }
    Ok(out)
}

/// The compile-time workloads: generated modules and (when present) the corpus.
pub fn compile_workloads(corpus: bool) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = crate::workloads::SIZES
        .iter()
        .map(|(name, n)| {
            (
                name.to_string(),
                crate::wat_to_wasm(&crate::workloads::compile_module(*n)),
            )
        })
        .collect();
    if corpus {
        if crate::corpus::dir().is_none() {
            say(crate::corpus::absent_message());
        }
        for (name, path) in crate::corpus::modules() {
            match std::fs::read(&path) {
                Ok(bytes) => v.push((name, bytes)),
                Err(e) => say(format!("skipping {}: {e}", path.display())),
            }
        }
    }
    v
}

pub fn compile_figures(
    engines: &[EngineKind],
    budget: Budget,
    workloads: &[(String, Vec<u8>)],
) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for (name, wasm) in workloads {
        let funcs = crate::corpus::defined_funcs(wasm);
        // The engines that compile this module, timed in turns (see `time_interleaved`).
        let mut compilers = Vec::new();
        for &e in engines {
            let c = Compiler::new(e)?;
            match c.compile(wasm) {
                Ok(()) => compilers.push((e, c)),
                Err(err) => say(format!("  compile/{name} on {}: FAILED: {err:#}", e.name())),
            }
        }
        let stats = time_interleaved(budget, &compilers, |(_, c)| {
            c.compile(wasm).unwrap();
            1
        });
        for ((e, _), s) in compilers.iter().zip(stats) {
            let e = *e;
            say(format!(
                "  compile/{:<14} {:<9} {:>5} funcs {:>8} B  {}  ({:.0} funcs/s, {:.2} MB/s)",
                name,
                e.name(),
                funcs,
                wasm.len(),
                fmt_ns(s.median),
                funcs as f64 / (s.median / 1e9),
                wasm.len() as f64 / (s.median / 1e9) / 1e6
            ));
            out.push(
                Figure::new(&format!("compile/{name}"), e, s)
                    .with("funcs", funcs as f64)
                    .with("bytes", wasm.len() as f64),
            );
        }
    }
    Ok(out)
}

/// Batch sizes for call figures (calls per sample).
const CALL_BATCH_JIT: u64 = 20_000;
const CALL_BATCH_INTERP: u64 = 2_000;

pub fn call_figures(engines: &[EngineKind], budget: Budget) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for &e in engines {
        let mut cb = call_bench(e)?;
        let batch = if e.is_interpreter() {
            CALL_BATCH_INTERP
        } else {
            CALL_BATCH_JIT
        };
        for (kind, _) in CALL_KINDS {
            let s = time(budget, || {
                std::hint::black_box(run_kind(cb.as_mut(), kind, batch));
                batch
            });
            say(format!(
                "  call/{:<9} {:<9} {}",
                kind,
                e.name(),
                fmt_ns(s.median)
            ));
            out.push(Figure::new(&format!("call/{kind}"), e, s));
        }
        let mut inst = instantiate_bench(e)?;
        let s = time(budget, || {
            for _ in 0..20 {
                inst();
            }
            20
        });
        say(format!(
            "  instantiate    {:<9} {}",
            e.name(),
            fmt_ns(s.median)
        ));
        out.push(Figure::new("instantiate", e, s));
    }
    Ok(out)
}

/// The clock CoreMark's `env.clock_ms` import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoremarkClock {
    /// Process CPU time: other processes on a shared machine barely move the score.
    Cpu,
    /// Wall-clock time, as CoreMark intends on a quiet machine.
    Wall,
}

/// Run CoreMark once on an engine; returns the score (iterations per second).
pub fn coremark(kind: EngineKind) -> Result<f64> {
    coremark_with(kind, CoremarkClock::Cpu)
}

pub fn coremark_with(kind: EngineKind, clock: CoremarkClock) -> Result<f64> {
    let path = crate::corpus::coremark().ok_or_else(|| anyhow!(crate::corpus::absent_message()))?;
    let wasm = std::fs::read(&path)?;
    let start = Clock {
        wall: Instant::now(),
        cpu0: crate::measure::process_cpu_ns(),
        kind: clock,
    };
    let score = match kind {
        EngineKind::Ours => {
            use lockstep_runtime::{Linker, Module, Store};
            let engine = crate::engines::ours_engine();
            let module = Module::from_binary(&engine, &wasm).map_err(|e| anyhow!("{e}"))?;
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::<()>::new(&engine);
            linker
                .func_wrap("env", "clock_ms", move || start.ms())
                .map_err(|e| anyhow!("{e}"))?;
            let inst = linker
                .instantiate(&mut store, &module)
                .map_err(|e| anyhow!("{e}"))?;
            let run = inst
                .get_typed_func::<(), f32>(&mut store, "run")
                .map_err(|e| anyhow!("{e}"))?;
            run.call(&mut store, ()).map_err(|e| anyhow!("trap: {e}"))?
        }
        EngineKind::Oracle => {
            use lockstep_oracle::{Extern, FuncType, Store, ValType, Value};
            let mut store = Store::default();
            let module = store.compile(&wasm).map_err(|e| anyhow!("{e:?}"))?;
            let clock = store.alloc_host_func(
                FuncType {
                    params: vec![],
                    results: vec![ValType::I64],
                },
                Box::new(move |_| Ok(vec![Value::I64(start.ms() as u64)])),
            );
            let inst = store
                .instantiate(&module, &[Extern::Func(clock)])
                .map_err(|e| anyhow!("{e:?}"))?;
            let Some(Extern::Func(run)) = store.export(inst, "run") else {
                bail!("no `run` export");
            };
            match store
                .invoke(run, &[])
                .map_err(|e| anyhow!("trap: {e}"))?
                .as_slice()
            {
                [Value::F32(bits)] => f32::from_bits(*bits),
                other => bail!("unexpected result {other:?}"),
            }
        }
        #[cfg(feature = "peers")]
        EngineKind::Wasmtime => {
            let e = |r: wasmtime::Error| anyhow!("{r:?}");
            let engine = crate::engines::peers::wasmtime_engine();
            let module = wasmtime::Module::from_binary(&engine, &wasm).map_err(e)?;
            let mut store = wasmtime::Store::new(&engine, ());
            let mut linker = wasmtime::Linker::<()>::new(&engine);
            linker
                .func_wrap("env", "clock_ms", move || start.ms())
                .map_err(e)?;
            let inst = linker.instantiate(&mut store, &module).map_err(e)?;
            let run = inst
                .get_typed_func::<(), f32>(&mut store, "run")
                .map_err(e)?;
            run.call(&mut store, ()).map_err(e)?
        }
        #[cfg(feature = "peers")]
        EngineKind::Wasmi => {
            let e = |r: wasmi::Error| anyhow!("{r}");
            let engine = wasmi::Engine::default();
            let module = wasmi::Module::new(&engine, &wasm).map_err(e)?;
            let mut store = wasmi::Store::new(&engine, ());
            let mut linker = wasmi::Linker::<()>::new(&engine);
            linker
                .func_wrap("env", "clock_ms", move || start.ms())
                .map_err(|x| anyhow!("{x}"))?;
            let inst = linker
                .instantiate_and_start(&mut store, &module)
                .map_err(e)?;
            let run = inst.get_typed_func::<(), f32>(&store, "run").map_err(e)?;
            run.call(&mut store, ()).map_err(e)?
        }
        #[cfg(not(feature = "peers"))]
        _ => bail!("{} needs the `peers` feature", kind.name()),
    };
    let score = f64::from(score);
    if !score.is_finite() || score <= 0.0 {
        bail!(
            "CoreMark on {} returned an invalid score {score}",
            kind.name()
        );
    }
    Ok(score)
}

#[derive(Clone, Copy)]
struct Clock {
    wall: Instant,
    cpu0: f64,
    kind: CoremarkClock,
}

impl Clock {
    fn ms(&self) -> i64 {
        match self.kind {
            CoremarkClock::Wall => self.wall.elapsed().as_millis() as i64,
            CoremarkClock::Cpu => ((crate::measure::process_cpu_ns() - self.cpu0) / 1e6) as i64,
        }
    }
}

pub fn coremark_figures(engines: &[EngineKind]) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for &e in engines {
        say(format!("  coremark on {} (about 18 s)...", e.name()));
        let score = coremark(e)?;
        say(format!("  coremark       {:<9} score {score:.1}", e.name()));
        let s = Stats {
            median: 1e9 / score,
            min: 1e9 / score,
            max: 1e9 / score,
            wall: f64::NAN,
            samples: 1,
        };
        out.push(Figure::new("coremark", e, s).with("score", score));
    }
    Ok(out)
}

/// Which groups a comparison run measures.
#[derive(Clone, Debug)]
pub struct CompareOpts {
    pub groups: Vec<String>,
    pub engines: Vec<EngineKind>,
    pub quick: bool,
}

pub fn run_compare(opts: &CompareOpts) -> Result<Results> {
    let load_before = crate::measure::load_average();
    let budget = if opts.quick {
        Budget::QUICK
    } else {
        Budget::FULL
    };
    let mut figures = Vec::new();
    let has = |g: &str| opts.groups.iter().any(|x| x == g);
    if has("kernels") {
        say("kernels:");
        figures.extend(kernel_figures(&opts.engines, budget)?);
    }
    if has("calls") {
        say("calls:");
        figures.extend(call_figures(&opts.engines, budget)?);
    }
    if has("compile") {
        say("compile:");
        let w = compile_workloads(true);
        let b = if opts.quick {
            Budget::QUICK
        } else {
            Budget::SLOW
        };
        figures.extend(compile_figures(&opts.engines, b, &w)?);
    }
    if has("sightglass") {
        say("sightglass:");
        let programs = crate::sightglass::programs();
        if programs.is_empty() {
            say(crate::corpus::absent_message());
        }
        // The compilers only: an interpreter takes minutes on the larger programs
        // (`lockstep run` checks the oracle on them).
        let engines: Vec<EngineKind> = opts
            .engines
            .iter()
            .copied()
            .filter(|e| matches!(e, EngineKind::Ours | EngineKind::Wasmtime))
            .collect();
        figures.extend(sightglass_figures(&engines, budget, &programs)?);
    }
    if has("coremark") {
        say("coremark:");
        if crate::corpus::coremark().is_none() {
            say(crate::corpus::absent_message());
        } else {
            figures.extend(coremark_figures(&opts.engines)?);
        }
    }
    Ok(Results {
        machine: Machine::current(),
        load_before,
        load_after: crate::measure::load_average(),
        date_unix: unix_now(),
        figures,
    })
}

fn ratio(r: &Results, id: &str, a: &str, b: &str) -> Option<f64> {
    Some(r.get(id, a)?.median_ns / r.get(id, b)?.median_ns)
}

fn cell(r: &Results, id: &str, engine: &str) -> String {
    match r.get(id, engine) {
        Some(f) if id == "coremark" => format!("{:.0}", f.info["score"]),
        Some(f) => fmt_ns(f.median_ns),
        None => "-".into(),
    }
}

fn ratio_cell(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into())
}

/// A Markdown table: each figure on every engine, and the ratios ours/wasmtime and
/// oracle/wasmi (time ratios: above 1 is slower than the peer; for CoreMark the ratio of
/// scores is inverted so it reads the same way).
pub fn table(r: &Results) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for f in &r.figures {
        if !ids.contains(&f.id.as_str()) {
            ids.push(&f.id);
        }
    }
    let mut s = String::from(
        "| figure | ours | wasmtime | ours/wasmtime | oracle | wasmi | oracle/wasmi |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for id in ids {
        let mut label = id.to_string();
        if let Some(f) = r.figures.iter().find(|f| f.id == id)
            && let Some(b) = f.info.get("bytes")
        {
            label = format!("{id} ({} funcs, {:.0} KB)", f.info["funcs"], b / 1024.0);
        }
        s.push_str(&format!(
            "| {label} | {} | {} | {} | {} | {} | {} |\n",
            cell(r, id, "ours"),
            cell(r, id, "wasmtime"),
            ratio_cell(ratio(r, id, "ours", "wasmtime")),
            cell(r, id, "oracle"),
            cell(r, id, "wasmi"),
            ratio_cell(ratio(r, id, "oracle", "wasmi")),
        ));
    }
    s
}

/// Compile throughput lines (functions/s and bytes/s) for each compile figure.
pub fn compile_throughput(r: &Results) -> String {
    let mut s = String::from("| module | engine | functions/s | MB/s |\n|---|---|---:|---:|\n");
    for f in r.figures.iter().filter(|f| f.id.starts_with("compile/")) {
        let secs = f.median_ns / 1e9;
        s.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} |\n",
            &f.id["compile/".len()..],
            f.engine,
            f.info["funcs"] / secs,
            f.info["bytes"] / secs / 1e6
        ));
    }
    s
}

pub fn save_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(v)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

pub fn load_json<T: for<'a> Deserialize<'a>>(path: &Path) -> Result<T> {
    let s = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&s)?)
}

// ---------------------------------------------------------------------------------------
// Regression gate

/// The committed baseline: per-figure medians, their measured noise and the threshold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub machine: Machine,
    pub rounds: usize,
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    pub date_unix: u64,
    /// key: `id@engine`.
    pub figures: BTreeMap<String, BaselineFigure>,
    /// Figures measured later than the rest (`check --update --only PREFIX`): when, under
    /// what load, and which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial_updates: Vec<PartialUpdate>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartialUpdate {
    pub prefix: String,
    pub rounds: usize,
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
    pub date_unix: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaselineFigure {
    /// Median over rounds of each round's median, in ns.
    pub median_ns: f64,
    /// Largest relative deviation of a round's median from `median_ns`.
    pub noise: f64,
    /// Relative slowdown that fails the gate: max(floor, 3 x noise).
    pub threshold: f64,
}

/// Where the gate's baseline for a machine lives. The ratios between engines move a lot
/// between CPUs (on an AMD EPYC, matmul's oracle/wasmi is 3.2x against 4.3x on the Xeon of
/// `baseline.json`), so one machine's figures are no gate for another: each machine gets its
/// own file, `baseline.json` (the first machine's) or `baselines/<cpu>-<cores>c.json`.
#[derive(Clone, Debug, PartialEq)]
pub enum BaselineFor {
    /// A baseline recorded on this CPU with this many cores.
    Recorded(PathBuf),
    /// None yet: a check falls back to `fallback` (and warns), `--update` writes `new`.
    Missing { fallback: PathBuf, new: PathBuf },
}

/// The baseline of machine `here` among `dir/baseline.json` and `dir/baselines/*.json`
/// (sorted by name; a file that does not parse as a baseline is skipped).
pub fn baseline_for(dir: &Path, here: &Machine) -> BaselineFor {
    let fallback = dir.join("baseline.json");
    let mut files = vec![fallback.clone()];
    if let Ok(entries) = std::fs::read_dir(dir.join("baselines")) {
        let mut more: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        more.sort();
        files.extend(more);
    }
    for f in files {
        if let Ok(b) = load_json::<Baseline>(&f)
            && b.machine.same_hardware(here)
        {
            return BaselineFor::Recorded(f);
        }
    }
    BaselineFor::Missing {
        fallback,
        new: dir
            .join("baselines")
            .join(format!("{}.json", machine_slug(here))),
    }
}

/// A file name for a machine: its CPU model in lower case, runs of other characters as one
/// `-`, and its core count, e.g. `amd-epyc-2c`.
pub fn machine_slug(m: &Machine) -> String {
    let mut slug = String::new();
    for c in m.cpu.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    format!("{}-{}c", slug.trim_end_matches('-'), m.cores)
}

/// The floor of every threshold: slowdowns under 10% are never reported.
pub const MIN_THRESHOLD: f64 = 0.10;
/// Threshold = NOISE_FACTOR x measured noise (when above the floor).
pub const NOISE_FACTOR: f64 = 3.0;

/// The Sightglass programs the gate runs on ours: bench spans of 15-35 ms on ours (a C
/// compressor, a C sort, a Rust hash), so three rounds stay within seconds.
pub const GATE_PROGRAMS: &[&str] = &["bz2", "quicksort", "blake3-scalar"];

/// The `sightglass/NAME` figures: each program's bench span, output checked on every run.
pub fn sightglass_figures(
    engines: &[EngineKind],
    budget: Budget,
    programs: &[crate::sightglass::Program],
) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for p in programs {
        for &e in engines {
            let mut r = crate::sightglass::runner(e, p)?;
            let s = crate::sightglass::measure(r.as_mut(), budget)?;
            say(format!(
                "  sightglass/{:<16} {:<9} {}",
                p.name,
                e.name(),
                fmt_ns(s.median)
            ));
            out.push(Figure::new(&format!("sightglass/{}", p.name), e, s));
        }
    }
    Ok(out)
}

/// One round of the gate's quick subset: kernels on ours and the oracle, compile of the
/// medium module, typed calls, wasm→host calls and instantiation on ours, and the
/// [`GATE_PROGRAMS`] on ours when the corpus is present.
pub fn gate_round() -> Result<Vec<Figure>> {
    let mut figs = kernel_figures(&[EngineKind::Ours, EngineKind::Oracle], Budget::QUICK)?;
    let w: Vec<(String, Vec<u8>)> = compile_workloads(false)
        .into_iter()
        .filter(|(n, _)| n == "medium")
        .collect();
    figs.extend(compile_figures(&[EngineKind::Ours], Budget::QUICK, &w)?);
    let mut cb = call_bench(EngineKind::Ours)?;
    for kind in ["typed0", "typed4", "host4"] {
        let s = time(Budget::QUICK, || {
            std::hint::black_box(run_kind(cb.as_mut(), kind, CALL_BATCH_JIT));
            CALL_BATCH_JIT
        });
        say(format!("  call/{kind:<9} ours      {}", fmt_ns(s.median)));
        figs.push(Figure::new(&format!("call/{kind}"), EngineKind::Ours, s));
    }
    let mut inst = instantiate_bench(EngineKind::Ours)?;
    let s = time(Budget::QUICK, || {
        for _ in 0..20 {
            inst();
        }
        20
    });
    say(format!("  instantiate    ours      {}", fmt_ns(s.median)));
    figs.push(Figure::new("instantiate", EngineKind::Ours, s));
    if crate::corpus::dir().is_some() {
        let programs = crate::sightglass::find(GATE_PROGRAMS)?;
        figs.extend(sightglass_figures(
            &[EngineKind::Ours],
            Budget::QUICK,
            &programs,
        )?);
    } else {
        say(crate::corpus::absent_message());
    }
    Ok(figs)
}

/// Per figure key: (median of the rounds' medians, noise).
pub type RoundSummary = BTreeMap<String, (f64, f64)>;

/// Run `rounds` more rounds, appending each figure's round median to `per` (key
/// `id@engine`).
fn gate_rounds(rounds: usize, per: &mut BTreeMap<String, Vec<f64>>) -> Result<()> {
    for r in 0..rounds {
        say(format!("round {}/{rounds}:", r + 1));
        for f in gate_round()? {
            per.entry(format!("{}@{}", f.id, f.engine))
                .or_default()
                .push(f.median_ns);
        }
    }
    Ok(())
}

/// Per figure, the median of its round medians and the noise (the largest relative deviation
/// of a round's median from that median).
pub(crate) fn gate_summary(per: &BTreeMap<String, Vec<f64>>) -> RoundSummary {
    per.iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            let st = crate::measure::stats(&mut v);
            let noise = v
                .iter()
                .map(|x| (x - st.median).abs() / st.median)
                .fold(0.0, f64::max);
            (k.clone(), (st.median, noise))
        })
        .collect()
}

/// Run `rounds` rounds; per figure, the median of round medians and the noise; and the load
/// average before the rounds.
pub fn gate_measure(rounds: usize) -> Result<(RoundSummary, Option<f64>)> {
    let load_before = crate::measure::load_average();
    let mut per = BTreeMap::new();
    gate_rounds(rounds, &mut per)?;
    Ok((gate_summary(&per), load_before))
}

/// Rounds a check adds when a figure is over its threshold. A slowdown that is the machine's
/// (another VM on the host for a minute) seldom lasts through them, a regression always does:
/// on a 2-core EPYC VM, checks of an unchanged build read compile/medium 13-16% and oracle
/// sieve 22% slow, over 10% and 18% thresholds (`docs/PERFORMANCE.md`, Regression gate).
pub const CONFIRM_ROUNDS: usize = 4;

/// The figures of `m` slower than `base` allows.
pub(crate) fn over_threshold(base: &Baseline, m: &RoundSummary) -> Vec<String> {
    base.figures
        .iter()
        .filter(|(k, b)| {
            m.get(*k)
                .is_some_and(|(now, _)| now / b.median_ns - 1.0 > b.threshold)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Measure the gate's figures and write the baseline. With `only`, the baseline at `path` is
/// kept and only the figures whose key starts with `only` are (re)placed, so adding figures
/// does not re-measure the others under different load.
pub fn gate_update(path: &Path, rounds: usize, only: Option<&str>) -> Result<()> {
    let (m, load_before) = gate_measure(rounds)?;
    let measured = m
        .into_iter()
        .filter(|(k, _)| only.is_none_or(|p| k.starts_with(p)))
        .map(|(k, (median_ns, noise))| {
            let threshold = (NOISE_FACTOR * noise).max(MIN_THRESHOLD);
            (
                k,
                BaselineFigure {
                    median_ns,
                    noise,
                    threshold,
                },
            )
        });
    let b = match only {
        None => Baseline {
            machine: Machine::current(),
            rounds,
            load_before,
            load_after: crate::measure::load_average(),
            date_unix: unix_now(),
            figures: measured.collect(),
            partial_updates: Vec::new(),
        },
        Some(prefix) => {
            let mut b: Baseline = load_json(path)?;
            if b.machine != Machine::current() {
                bail!(
                    "--only keeps a baseline measured on another machine or rustc: use --update alone"
                );
            }
            b.figures.extend(measured);
            b.partial_updates.retain(|u| u.prefix != prefix);
            b.partial_updates.push(PartialUpdate {
                prefix: prefix.to_string(),
                rounds,
                load_before,
                load_after: crate::measure::load_average(),
                date_unix: unix_now(),
            });
            b
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    save_json(path, &b)?;
    println!("baseline written to {} ({rounds} rounds)", path.display());
    for (k, f) in &b.figures {
        println!(
            "  {k:<24} {:>12}  noise {:>5.1}%  threshold {:>5.1}%",
            fmt_ns(f.median_ns),
            f.noise * 100.0,
            f.threshold * 100.0
        );
    }
    Ok(())
}

/// Compare against the baseline; returns the number of regressions.
pub fn gate_check(path: &Path, rounds: usize) -> Result<usize> {
    let base: Baseline = load_json(path)?;
    let here = Machine::current();
    if !here.same_hardware(&base.machine) {
        println!(
            "warning: the baseline was measured on `{}` ({} cores), this is `{}` ({} cores): \
             figures may not be comparable (`check --update` records this machine's own)",
            base.machine.cpu, base.machine.cores, here.cpu, here.cores
        );
    }
    if here.rustc != base.machine.rustc {
        println!(
            "warning: baseline built with `{}`, now `{}`",
            base.machine.rustc, here.rustc
        );
    }
    let mut per = BTreeMap::new();
    gate_rounds(rounds, &mut per)?;
    // A figure over its threshold is measured again: it fails only if the median of all the
    // rounds is still over (a burst of other load in the first rounds is outvoted).
    let suspects = over_threshold(&base, &gate_summary(&per));
    if !suspects.is_empty() {
        println!(
            "over the threshold after {rounds} rounds: {}; measuring {CONFIRM_ROUNDS} more rounds",
            suspects.join(", ")
        );
        gate_rounds(CONFIRM_ROUNDS, &mut per)?;
    }
    let m = gate_summary(&per);
    let mut bad = 0;
    println!(
        "{:<24} {:>12} {:>12} {:>8} {:>9}",
        "figure", "baseline", "now", "change", "threshold"
    );
    for (k, b) in &base.figures {
        let Some((now, _)) = m.get(k) else {
            println!("{k:<24} missing from this run");
            continue;
        };
        let change = now / b.median_ns - 1.0;
        let over = change > b.threshold;
        let verdict = if suspects.contains(k) && over {
            bad += 1;
            "SLOWER"
        } else if suspects.contains(k) {
            "ok (cleared when measured again)"
        } else if over {
            "ok (over only in the added rounds)"
        } else if change < -b.threshold {
            "faster"
        } else {
            "ok"
        };
        println!(
            "{k:<24} {:>12} {:>12} {:>+7.1}% {:>8.1}%  {verdict}",
            fmt_ns(b.median_ns),
            fmt_ns(*now),
            change * 100.0,
            b.threshold * 100.0
        );
    }
    if let Some(l) = crate::measure::load_average() {
        println!("load average now: {l:.2} on {} cores", here.cores);
    }
    Ok(bad)
}

// ---------------------------------------------------------------------------------------
// Chart

/// Draw the ratios ours/wasmtime and oracle/wasmi per kernel (and CoreMark) as an SVG bar
/// chart on a log scale, with issue 17's targets (1.05x and 3x) as lines.
pub fn chart(r: &Results, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let mut labels: Vec<String> = KERNELS.iter().map(|k| k.name.to_string()).collect();
    let mut ids: Vec<String> = KERNELS
        .iter()
        .map(|k| format!("kernel/{}", k.name))
        .collect();
    if r.get("coremark", "ours").is_some() {
        labels.push("CoreMark".into());
        ids.push("coremark".into());
    }
    let jit: Vec<Option<f64>> = ids
        .iter()
        .map(|id| ratio(r, id, "ours", "wasmtime"))
        .collect();
    let interp: Vec<Option<f64>> = ids
        .iter()
        .map(|id| ratio(r, id, "oracle", "wasmi"))
        .collect();
    let all: Vec<f64> = jit.iter().chain(&interp).flatten().copied().collect();
    if all.is_empty() {
        bail!("no peer figures to chart (run with --features peers)");
    }
    let hi = all.iter().copied().fold(4.0, f64::max) * 1.6;
    let lo = all.iter().copied().fold(0.5, f64::min) / 1.8;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let n = labels.len();
    let mut ch = ChartBuilder::on(&root)
        .caption(
            "Our engines against their peers: time ratio per kernel (below 1 = faster than the peer)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(10)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale())
        .map_err(|e| anyhow!("{e:?}"))?;
    ch.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .y_desc("time ratio (log scale)")
        .y_label_formatter(&|y| {
            if *y >= 10.0 {
                format!("{y:.0}x")
            } else {
                format!("{y:.1}x")
            }
        })
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    ch.draw_series(labels.iter().enumerate().map(|(i, l)| {
        Text::new(
            l.clone(),
            (i as f64 + 0.15, hi / 1.3),
            ("sans-serif", 14).into_font().color(&BLACK),
        )
    }))
    .map_err(|e| anyhow!("{e:?}"))?;
    let blue = RGBColor(60, 110, 200);
    let orange = RGBColor(230, 140, 40);
    let bars = |v: &[Option<f64>], off: f64, c: RGBColor| {
        v.iter()
            .enumerate()
            .filter_map(|(i, x)| x.map(|x| (i, x)))
            .map(|(i, x)| {
                let x0 = i as f64 + off;
                Rectangle::new([(x0, 1.0), (x0 + 0.35, x)], c.filled())
            })
            .collect::<Vec<_>>()
    };
    ch.draw_series(bars(&jit, 0.12, blue))
        .map_err(|e| anyhow!("{e:?}"))?
        .label("ours / wasmtime")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], blue.filled()));
    ch.draw_series(bars(&interp, 0.53, orange))
        .map_err(|e| anyhow!("{e:?}"))?
        .label("oracle / wasmi")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], orange.filled()));
    for (y, c, name) in [
        (1.0, BLACK, "parity"),
        (1.05, blue, "target 1.05x (ours, issue 17)"),
        (3.0, orange, "target 3x (oracle, issue 17)"),
    ] {
        ch.draw_series(LineSeries::new(
            vec![(0.0, y), (n as f64, y)],
            c.stroke_width(1),
        ))
        .map_err(|e| anyhow!("{e:?}"))?
        .label(name)
        .legend(move |(x, yy)| PathElement::new(vec![(x, yy), (x + 12, yy)], c));
    }
    ch.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    root.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}
