//! `lockstep fuzz`: differential campaigns of wasm-smith modules, and `lockstep shrink`.
//!
//! - [`case`]: a swarm configuration and module from a seed (`generate`), the plan of
//!   edge-biased calls (`plan`), and running a case on every engine step by step (`run`, with
//!   [`crate::lockstep`]);
//! - [`worker`]: the supervised worker processes (the same binary, hidden `fuzz-worker`
//!   subcommand, JSON lines over stdin/stdout, answering with a typed verdict); a worker that
//!   dies or hangs is a finding and is restarted;
//! - [`findings`]: shrinking and the files written for each finding;
//! - [`rng`]: the deterministic generator. Case `i` of a campaign seeded with `S` uses the seed
//!   `rng::case_seed(S, i)`, printed with every finding.

pub mod case;
pub mod findings;
pub mod phases;
pub mod rng;
pub mod worker;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::features::Features;
use crate::lockstep::{CaseVerdict, guarded};
use worker::{Reply, ReplyVerdict, Worker};

/// Case requests queued in each worker: the next case is waiting when the worker answers one, so
/// a worker never sits idle while the supervisor reads its answer and sends the next request.
const IN_FLIGHT: usize = 2;

/// `lockstep fuzz` options.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    pub seconds: Option<u64>,
    pub iterations: Option<u64>,
    pub jobs: usize,
    pub seed: u64,
    pub features: Features,
    pub out: PathBuf,
    /// `--engine` values (empty: every built engine); the first engine is the reference.
    pub engines: Vec<String>,
    /// The `lockstep` binary that runs workers (default: this executable).
    pub worker: Option<PathBuf>,
    /// Wall-clock limit of one case in a worker.
    pub case_timeout: Duration,
    /// Wall-clock limit of shrinking one finding.
    pub shrink_budget: Duration,
    pub quiet: bool,
    /// Print where the time went, by phase ([`phases`]).
    pub phase_times: bool,
    /// Every engine canonicalizes NaNs (`--canonicalize-nans`), so every case compares NaN
    /// bits exactly; engines without the switch cannot take part.
    pub canonicalize_nans: bool,
}

impl FuzzOptions {
    fn parity(&self) -> crate::engines::Parity {
        crate::engines::Parity {
            canonicalize_nans: self.canonicalize_nans,
        }
    }
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seconds: None,
            iterations: None,
            jobs: 1,
            seed: 0,
            features: Features::default(),
            out: PathBuf::from("lockstep-findings"),
            engines: Vec::new(),
            worker: None,
            case_timeout: Duration::from_secs(20),
            shrink_budget: Duration::from_secs(60),
            quiet: false,
            phase_times: false,
            canonicalize_nans: false,
        }
    }
}

/// A campaign's totals.
#[derive(Clone, Debug, Default)]
pub struct FuzzSummary {
    pub cases: u64,
    pub passed: u64,
    /// Divergences, crashes, hangs and panics.
    pub failed: u64,
    pub divergences: u64,
    pub crashes: u64,
    pub hangs: u64,
    pub panics: u64,
    pub inconclusive: u64,
    /// Divergences of modules without NaN canonicalization that vanish with it: NaN bits the
    /// spec leaves open (not findings).
    pub nan_nondeterminism: u64,
    /// Cases with results that differed from the oracle's own relaxed SIMD choice but within
    /// the permitted set (rule 11 of [`crate::diff`]; not findings).
    pub relaxed_permitted: u64,
    /// Modules every engine rejected (not findings).
    pub rejected: u64,
    /// Calls made on each engine.
    pub calls: u64,
    pub elapsed: Duration,
    /// Where findings were written.
    pub findings: Vec<PathBuf>,
    /// The first reason state could not be compared, if it could not.
    pub state_note: Option<String>,
    /// Where the workers' time went, summed over the cases that reported it.
    pub phases: phases::Phases,
}

impl FuzzSummary {
    pub fn exit_code(&self) -> i32 {
        if self.failed == 0 { 0 } else { 1 }
    }
}

/// Run a campaign.
pub fn run(opts: &FuzzOptions) -> Result<FuzzSummary, String> {
    let exe = match &opts.worker {
        Some(p) => p.clone(),
        None => {
            std::env::current_exe().map_err(|e| format!("cannot find the lockstep binary: {e}"))?
        }
    };
    let all = crate::engines::select_with(&opts.engines, &opts.parity())?;
    let engines: Vec<&dyn crate::engine::Engine> = all.iter().map(|e| e.as_ref()).collect();
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    if names.len() < 2 {
        return Err(format!(
            "a campaign compares engines: {} alone has nothing to agree with",
            names.join(", ")
        ));
    }
    // The campaign runs what was asked for and every engine executes (SIMD only once all do).
    let features = opts.features.intersect(Features::supported_by(&engines));
    let dropped = opts.features.without(features);
    let opts = &FuzzOptions {
        features,
        ..opts.clone()
    };
    let started = Instant::now();
    let limit = opts.seconds.map(|s| started + Duration::from_secs(s));
    let iterations = match (opts.seconds, opts.iterations) {
        (_, Some(n)) => n,
        (Some(_), None) => u64::MAX,
        (None, None) => 1_000,
    };
    if !opts.quiet {
        println!(
            "lockstep fuzz: seed {} ({} vs {}), {} jobs, features {}, {}findings in {}",
            opts.seed,
            names[0],
            names[1..].join(", "),
            opts.jobs,
            opts.features.to_list(),
            if opts.canonicalize_nans {
                "canonical NaNs, "
            } else {
                ""
            },
            opts.out.display()
        );
        if dropped != Features::none() {
            let missing: Vec<String> = engines
                .iter()
                .filter(|e| {
                    Features::executed(e.supported_features()).intersect(dropped) != dropped
                })
                .map(|e| e.name().to_string())
                .collect();
            println!(
                "note: features {} are off: not executed by {}",
                dropped.to_list(),
                missing.join(", ")
            );
        }
    }
    let compile_threads = compile_threads(opts.jobs);
    let next = AtomicU64::new(0);
    let summary = Mutex::new(FuzzSummary::default());
    let stop = AtomicBool::new(false);
    let lock = || summary.lock().unwrap_or_else(|e| e.into_inner());

    // Each case thread holds a sender; the progress thread stops as soon as all are dropped.
    // (It used to poll until a second past the time limit, and `--seconds 60` took 61 s, the
    // last second with no case running: 1.6% off the modules/s the run reports.)
    let (alive, ended) = std::sync::mpsc::channel::<()>();
    let (next, stop, exe) = (&next, &stop, &exe);
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            let alive = alive.clone();
            scope.spawn(move || {
                let _alive = alive;
                let mut w: Option<Worker> = None;
                // Seeds sent to `w` and not answered yet, oldest first. A worker lost with some
                // in flight never started the later ones: they go to `retry`.
                let mut pending: VecDeque<u64> = VecDeque::new();
                let mut retry: VecDeque<u64> = VecDeque::new();
                loop {
                    let open =
                        !stop.load(Ordering::Relaxed) && limit.is_none_or(|l| Instant::now() < l);
                    while open && pending.len() < IN_FLIGHT {
                        let seed = match retry.pop_front() {
                            Some(seed) => seed,
                            None => {
                                let index = next.fetch_add(1, Ordering::Relaxed);
                                if index >= iterations {
                                    break;
                                }
                                rng::case_seed(opts.seed, index)
                            }
                        };
                        let worker = match &mut w {
                            Some(w) => w,
                            None => match Worker::spawn(
                                exe,
                                opts.features,
                                &opts.engines,
                                opts.canonicalize_nans,
                                compile_threads,
                            ) {
                                Ok(n) => w.insert(n),
                                Err(e) => {
                                    eprintln!("lockstep: cannot start a worker: {e}");
                                    stop.store(true, Ordering::Relaxed);
                                    break;
                                }
                            },
                        };
                        pending.push_back(seed);
                        if !worker.send_case(seed) {
                            // Gone: receiving says how.
                            break;
                        }
                    }
                    let Some(seed) = pending.pop_front() else {
                        break;
                    };
                    let Some(worker) = w.as_mut() else {
                        break;
                    };
                    let reply = worker.receive(opts.case_timeout);
                    let finding = match reply {
                        Reply::Case(r) => {
                            let mut s = lock();
                            s.cases += 1;
                            s.calls += r.calls;
                            if r.relaxed_permitted > 0 {
                                s.relaxed_permitted += 1;
                            }
                            if let Some(p) = &r.phases {
                                s.phases.add(p);
                            }
                            if s.state_note.is_none() {
                                s.state_note = r.state_note.clone();
                            }
                            match &r.verdict {
                                ReplyVerdict::Ran(CaseVerdict::Pass) => {
                                    s.passed += 1;
                                    None
                                }
                                ReplyVerdict::Ran(CaseVerdict::Inconclusive(_)) => {
                                    s.inconclusive += 1;
                                    None
                                }
                                ReplyVerdict::Ran(CaseVerdict::NanBitsOnly { .. }) => {
                                    s.nan_nondeterminism += 1;
                                    None
                                }
                                ReplyVerdict::Ran(CaseVerdict::Rejected(_))
                                | ReplyVerdict::Skipped(_) => {
                                    s.rejected += 1;
                                    None
                                }
                                ReplyVerdict::Ran(CaseVerdict::Panicked { .. }) => {
                                    s.panics += 1;
                                    s.failed += 1;
                                    Some(("panic", r))
                                }
                                ReplyVerdict::Ran(CaseVerdict::Diverged { .. }) => {
                                    s.divergences += 1;
                                    s.failed += 1;
                                    Some(("divergence", r))
                                }
                                // Only the supervisor makes these; a worker that sends one is
                                // broken, which is a crash of its own.
                                ReplyVerdict::Lost(_) => {
                                    s.crashes += 1;
                                    s.failed += 1;
                                    Some(("crash", r))
                                }
                            }
                        }
                        Reply::Died(status) => {
                            w = None;
                            let mut s = lock();
                            s.cases += 1;
                            s.crashes += 1;
                            s.failed += 1;
                            drop(s);
                            Some((
                                "crash",
                                worker::CaseReply::lost(seed, format!("the worker died: {status}")),
                            ))
                        }
                        Reply::TimedOut => {
                            w = None;
                            let mut s = lock();
                            s.cases += 1;
                            s.hangs += 1;
                            s.failed += 1;
                            drop(s);
                            Some((
                                "hang",
                                worker::CaseReply::lost(
                                    seed,
                                    format!(
                                        "no result after {}s (infinite loop or hang)",
                                        opts.case_timeout.as_secs()
                                    ),
                                ),
                            ))
                        }
                    };
                    if w.is_none() {
                        retry.extend(pending.drain(..));
                    }
                    if let Some((kind, r)) = finding {
                        // Shrinking has a worker of its own: `w` has cases in flight.
                        let path = record(exe, opts, kind, &r, &mut None);
                        let mut s = lock();
                        match path {
                            Ok(p) => {
                                if !opts.quiet {
                                    let vote = r
                                        .vote
                                        .as_ref()
                                        .map(|v| format!(" [{v}]"))
                                        .unwrap_or_default();
                                    println!(
                                        "finding ({kind}): case seed {seed}: {}{vote} -> {}",
                                        crate::report::one_line(&r.detail(), 200),
                                        p.display()
                                    );
                                }
                                s.findings.push(p);
                            }
                            Err(e) => {
                                eprintln!("lockstep: cannot write finding of case {seed}: {e}")
                            }
                        }
                    }
                }
            });
        }
        drop(alive);
        if !opts.quiet {
            scope.spawn(move || {
                let mut last = Instant::now();
                loop {
                    let due =
                        (last + Duration::from_secs(10)).saturating_duration_since(Instant::now());
                    match ended.recv_timeout(due) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        // Every case thread has ended (nothing is ever sent).
                        _ => break,
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    last = Instant::now();
                    let s = lock();
                    let t = started.elapsed().as_secs_f64();
                    println!(
                        "[{t:.0}s] {} cases ({:.0}/s), {} calls, {} findings",
                        s.cases,
                        s.cases as f64 / t,
                        s.calls,
                        s.failed
                    );
                }
            });
        }
    });
    stop.store(true, Ordering::Relaxed);
    let mut s = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    s.elapsed = started.elapsed();
    if !opts.quiet {
        let t = s.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{} cases in {:.1}s: {:.0} execs/s (modules), {:.0} calls/s on each engine",
            s.cases,
            t,
            s.cases as f64 / t,
            s.calls as f64 / t
        );
        println!(
            "passed {}, divergences {}, crashes {}, hangs {}, engine panics {}, inconclusive {} (call stack or heap exhausted), \
             NaN-bit differences without canonicalization {}, rejected by every engine {}",
            s.passed,
            s.divergences,
            s.crashes,
            s.hangs,
            s.panics,
            s.inconclusive,
            s.nan_nondeterminism,
            s.rejected
        );
        if s.relaxed_permitted > 0 {
            println!(
                "relaxed SIMD: {} cases gave results within the permitted set, other than the oracle's own choice (not findings)",
                s.relaxed_permitted
            );
        }
        if let Some(n) = &s.state_note {
            println!("note: exported state was NOT compared on some calls: {n}");
        }
        if opts.phase_times {
            println!(
                "where the time went ({} cases, wall clock in the workers, summed over {} jobs):",
                s.phases.cases,
                opts.jobs.max(1)
            );
            print!("{}", s.phases.table(&names));
        }
        println!("{} passed, {} failed", s.passed, s.failed);
    }
    Ok(s)
}

/// Threads each of `jobs` workers compiles a module on: the cores left to it. A campaign runs a
/// worker per core, and then more compile threads only take turns with the other workers.
fn compile_threads(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

/// The names of the engines `--engine` values select for a campaign with `opts`.
fn names_of(opts: &FuzzOptions) -> Result<Vec<String>, String> {
    Ok(crate::engines::select_with(&opts.engines, &opts.parity())?
        .iter()
        .map(|e| e.name().to_string())
        .collect())
}

/// Shrink (in the worker `w`, started if `None`, for divergences) and write a finding.
fn record(
    exe: &std::path::Path,
    opts: &FuzzOptions,
    kind: &str,
    r: &worker::CaseReply,
    w: &mut Option<Worker>,
) -> Result<PathBuf, String> {
    let seed = r.seed;
    let generated = guarded(|| case::generate(seed, opts.features))
        .map_err(|p| format!("the generator panicked: {p}"))??;
    let mut finding = findings::Finding {
        kind: kind.to_string(),
        seed: Some(seed),
        plan_seed: seed,
        original_size: generated.wasm.len(),
        wasm: generated.wasm.clone(),
        config: generated.summary.clone(),
        exact_nans: generated.canonical_nans || opts.canonicalize_nans,
        canonicalize_nans: opts.canonicalize_nans,
        call: r.divergence().and_then(|(call, _)| call),
        calls: case::plan(&generated.wasm, seed).unwrap_or_default(),
        detail: r.detail(),
        outcomes: r.outcomes.clone(),
        engines: names_of(opts)?,
        key: r.divergence().map_or_else(|| r.detail(), |(_, d)| d.key()),
        vote: r.vote.clone(),
    };
    if kind == "divergence"
        && let Some((_, divergence)) = r.divergence()
    {
        let key = divergence.key();
        // Shrinking runs engine code too: it happens in a worker.
        if w.is_none() {
            *w = Worker::spawn(
                exe,
                opts.features,
                &opts.engines,
                opts.canonicalize_nans,
                compile_threads(opts.jobs),
            )
            .ok();
        }
        if let Some(worker) = w.as_mut() {
            match worker.shrink(seed, &key, opts.shrink_budget) {
                Reply::Case(s) if s.wasm.is_some() => {
                    let wasm = worker::from_hex(s.wasm.as_deref().unwrap_or_default());
                    finding.calls = case::plan(&wasm, seed).unwrap_or_default();
                    finding.wasm = wasm;
                    finding.call = s.divergence().and_then(|(call, _)| call);
                    finding.detail = s.detail();
                    if let Some((_, d)) = s.divergence() {
                        finding.key = d.key();
                    }
                    finding.outcomes = s.outcomes;
                    if s.vote.is_some() {
                        finding.vote = s.vote;
                    }
                }
                Reply::Case(_) => {}
                _ => *w = None,
            }
        }
    }
    findings::write(&opts.out, &finding).map_err(|e| e.to_string())
}

/// `lockstep shrink IN -o OUT`: shrink a module that diverges (its calls are planned from
/// `plan_seed`) while it diverges the same way. Returns a description of the divergence.
pub fn shrink_file(
    input: &std::path::Path,
    output: &std::path::Path,
    plan_seed: u64,
    exact_nans: bool,
    engines: &[String],
    canonicalize_nans: bool,
) -> Result<Result<String, String>, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let wasm = if wasm.starts_with(b"\0asm") {
        wasm
    } else {
        wat::parse_bytes(&wasm)
            .map_err(|e| format!("{} is neither wasm nor wat: {e}", input.display()))?
            .into_owned()
    };
    let parity = crate::engines::Parity { canonicalize_nans };
    let engines = crate::engines::select_with(engines, &parity)?;
    let engines: Vec<&dyn crate::engine::Engine> = engines.iter().map(|e| e.as_ref()).collect();
    if engines.len() < 2 {
        return Err("shrinking keeps a divergence: it needs two engines or more".to_string());
    }
    let rules = crate::diff::Rules::for_engines(&engines, exact_nans);
    let calls = case::plan(&wasm, plan_seed)?;
    let r = case::run_case(&engines, &wasm, &calls, rules);
    let CaseVerdict::Diverged { divergence, .. } = r.verdict else {
        return Ok(Err(format!(
            "the module does not diverge with the calls of seed {plan_seed} ({:?}); nothing to shrink",
            r.verdict
        )));
    };
    let small = findings::shrink(
        &engines,
        &wasm,
        plan_seed,
        rules,
        &divergence.key(),
        Duration::from_secs(120),
    );
    std::fs::write(output, &small)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(Ok(format!(
        "{} -> {} bytes, still diverging: {}",
        wasm.len(),
        small.len(),
        divergence
    )))
}
