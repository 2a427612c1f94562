//! The `wast` and `spec` commands: choosing files and engines, running files in parallel, and
//! reporting.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::{Engine, WasmFeatures};
use crate::engines;
use crate::expected::{self, ExpectedFailures, ListVerdict};
use crate::report::{self, Group, progress::Progress};
use crate::suite::{BaseFeatures, Suite, Testsuite};
use crate::wast::{EngineFileResult, Failure, FileResult, Position, run_script_at};

/// A usage or I/O error: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The options of every script run, `wast` and `spec` alike: which engines, which reports,
/// and the time limit.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `--engine` values (empty: every built engine).
    pub engines: Vec<String>,
    pub json: Option<PathBuf>,
    /// Suppress progress and the report (used by tests).
    pub quiet: bool,
    /// List every rejection whose message differed from the script's.
    pub show_messages: bool,
    /// Give up on the run when one file takes longer than this (an engine hangs).
    pub timeout: Option<Duration>,
    /// Every engine canonicalizes NaN results (`--canonicalize-nans`); engines without the
    /// switch cannot be selected.
    pub canonicalize_nans: bool,
}

impl RunOptions {
    /// The `--engine` selection under these options' parity settings.
    fn engines(&self) -> Result<Vec<Box<dyn Engine>>, UsageError> {
        let parity = engines::Parity {
            canonicalize_nans: self.canonicalize_nans,
        };
        engines::select_with(&self.engines, &parity).map_err(UsageError)
    }
}

/// `lockstep spec` options.
#[derive(Clone, Debug, Default)]
pub struct SpecOptions {
    pub run: RunOptions,
    /// `--suite` values (empty: the default suites, unless `testsuite` is given).
    pub suites: Vec<String>,
    /// `--testsuite DIR`: a checkout of WebAssembly/testsuite (see [`Testsuite`]).
    pub testsuite: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub expected_failures: Option<PathBuf>,
}

/// `lockstep wast` options.
#[derive(Clone, Debug, Default)]
pub struct WastOptions {
    pub run: RunOptions,
    pub paths: Vec<PathBuf>,
    /// `--features`: the base feature set (by default decided by each file's path).
    pub features: BaseFeatures,
}

/// The outcome of a command.
#[derive(Debug)]
pub struct RunSummary {
    pub groups: Vec<Group>,
    pub verdict: ListVerdict,
    pub elapsed: Duration,
}

impl RunSummary {
    /// Exit code 0 (as expected) or 1 (unexpected results).
    pub fn exit_code(&self) -> i32 {
        if self.verdict.ok() { 0 } else { 1 }
    }
}

/// One file to run.
struct Job {
    group: usize,
    path: String,
    text: Cow<'static, str>,
    features: WasmFeatures,
    /// Indices into the engine list.
    engines: Vec<usize>,
}

/// A file that ran past the time limit.
struct Hung {
    job: usize,
    elapsed: Duration,
    line: usize,
    /// Index into the job's engines.
    engine: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn hung_result(job: &Job, engines: &[Box<dyn Engine>], hung: &Hung) -> FileResult {
    FileResult {
        path: job.path.clone(),
        engines: job
            .engines
            .iter()
            .enumerate()
            .map(|(k, &e)| {
                let mut r = EngineFileResult {
                    engine: engines[e].name().to_string(),
                    ..Default::default()
                };
                if k == hung.engine {
                    r.failed = 1;
                    r.elapsed = hung.elapsed;
                    r.failures.push(Failure {
                        line: hung.line,
                        directive: "timeout".to_string(),
                        message: format!(
                            "no result after {:.0}s: the engine hangs here, so the run stopped",
                            hung.elapsed.as_secs_f64()
                        ),
                    });
                }
                r
            })
            .collect(),
    }
}

/// Run every job, in parallel, and return `(job index, result)` in job order.
///
/// With a `timeout`, a watchdog checks the files in flight. When one runs longer (an engine
/// hangs), the watchdog hands the finished results plus a failure for each hung file to
/// `on_hang` and ends the process with exit code 1: a hung thread cannot be stopped, but the
/// run must not hang with it.
fn run_jobs(
    jobs: &[Job],
    engines: &[Box<dyn Engine>],
    progress: &Progress,
    timeout: Option<Duration>,
    on_hang: &(dyn Fn(Vec<(usize, FileResult)>) + Sync),
) -> Vec<(usize, FileResult)> {
    // Big stacks: engines that run wasm on the native stack reserve their own limit below this.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build()
        .expect("a thread pool");
    let in_flight: Mutex<HashMap<usize, (Instant, Arc<Position>)>> = Mutex::new(HashMap::new());
    let done: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::new());
    let (finished, finished_rx) = mpsc::channel::<()>();

    std::thread::scope(|scope| {
        if let Some(limit) = timeout {
            let (in_flight, done) = (&in_flight, &done);
            scope.spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    finished_rx.recv_timeout(Duration::from_millis(250))
                {
                    let hung: Vec<Hung> = lock(in_flight)
                        .iter()
                        .filter(|(_, (start, _))| start.elapsed() > limit)
                        .map(|(&job, (start, pos))| {
                            let (line, engine) = pos.get();
                            Hung {
                                job,
                                elapsed: start.elapsed(),
                                line,
                                engine,
                            }
                        })
                        .collect();
                    if hung.is_empty() {
                        continue;
                    }
                    progress.finish();
                    let mut results = lock(done).clone();
                    for h in &hung {
                        let engine = jobs[h.job]
                            .engines
                            .get(h.engine)
                            .map_or("?", |&e| engines[e].name());
                        eprintln!(
                            "lockstep: {}: engine {engine} has not finished line {} after {:.0}s; \
                             stopping the run (the report covers the files that finished)",
                            jobs[h.job].path,
                            h.line,
                            h.elapsed.as_secs_f64()
                        );
                        results.push((h.job, hung_result(&jobs[h.job], engines, h)));
                    }
                    results.sort_by_key(|(i, _)| *i);
                    on_hang(results);
                    std::process::exit(1);
                }
            });
        }
        pool.install(|| {
            jobs.par_iter().enumerate().for_each(|(i, job)| {
                let position = Arc::new(Position::default());
                lock(&in_flight).insert(i, (Instant::now(), position.clone()));
                let selected: Vec<&dyn Engine> =
                    job.engines.iter().map(|&e| engines[e].as_ref()).collect();
                let result =
                    run_script_at(&job.path, &job.text, &selected, job.features, &position);
                lock(&in_flight).remove(&i);
                progress.file_done(&result);
                lock(&done).push((i, result));
            })
        });
        let _ = finished.send(());
    });
    let mut results = done.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results
}

fn group_results(
    names: Vec<String>,
    jobs: &[Job],
    results: Vec<(usize, FileResult)>,
) -> Vec<Group> {
    let mut groups: Vec<Group> = names
        .into_iter()
        .map(|name| Group {
            name,
            files: Vec::new(),
        })
        .collect();
    for (i, result) in results {
        groups[jobs[i].group].files.push(result);
    }
    groups
}

fn write_file(path: &Path, contents: &str) -> Result<(), UsageError> {
    std::fs::write(path, contents)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}

fn finish(
    run: &RunOptions,
    groups: Vec<Group>,
    expected: &ExpectedFailures,
    junit: Option<&Path>,
    started: Instant,
) -> Result<RunSummary, UsageError> {
    let verdict = expected.check(
        &groups
            .iter()
            .flat_map(|g| g.files.iter().cloned())
            .collect::<Vec<_>>(),
    );
    let elapsed = started.elapsed();
    if let Some(path) = &run.json {
        let json = serde_json::to_string_pretty(&report::json::report(&groups))
            .expect("serialisable report");
        write_file(path, &json)?;
    }
    if let Some(path) = junit {
        write_file(path, &report::junit::report(&groups, expected))?;
    }
    if !run.quiet {
        println!();
        if run.show_messages {
            println!("rejections with a message other than the script's:");
            print!("{}", report::message_mismatches(&groups));
        }
        print!("{}", report::table(&groups));
        print!("{}", report::not_run(&groups, 8));
        print!("{}", report::verdict(&groups, &verdict, 100));
        print!("{}", report::cross_engine(&groups));
        let files: usize = groups.iter().map(|g| g.files.len()).sum();
        println!("ran {files} files in {:.2}s", elapsed.as_secs_f64());
        println!("{}", report::last_line(&groups));
    }
    Ok(RunSummary {
        groups,
        verdict,
        elapsed,
    })
}

/// `lockstep spec`.
pub fn spec(opts: &SpecOptions) -> Result<RunSummary, UsageError> {
    let started = Instant::now();
    let engines = opts.run.engines()?;
    let explicit = !opts.suites.is_empty();
    let testsuite = match &opts.testsuite {
        Some(dir) => Some(Testsuite::open(dir).map_err(UsageError)?),
        None => None,
    };
    let suites: Vec<Suite> = if explicit {
        let mut v: Vec<Suite> = Vec::new();
        for s in opts.suites.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if s.is_empty() {
                continue;
            }
            let suite: Suite = s.parse().map_err(UsageError)?;
            if !v.contains(&suite) {
                v.push(suite);
            }
        }
        v
    } else if testsuite.is_some() {
        Vec::new()
    } else {
        Suite::defaults()
    };
    let expected = match &opts.expected_failures {
        Some(p) => ExpectedFailures::load(p).map_err(UsageError)?,
        None => {
            let p = expected::default_path();
            if p.exists() {
                ExpectedFailures::load(&p).map_err(UsageError)?
            } else {
                ExpectedFailures::default()
            }
        }
    };

    let mut names = Vec::new();
    let mut jobs = Vec::new();
    for suite in suites {
        // A suite named with --suite runs on every selected engine; a default suite runs on
        // the engines that can execute its features, and not at all if none can.
        let selected: Vec<usize> = (0..engines.len())
            .filter(|&i| explicit || engines[i].supported_features().contains(suite.required()))
            .collect();
        if selected.is_empty() {
            continue;
        }
        let group = names.len();
        names.push(suite.to_string());
        for file in suite.files() {
            jobs.push(Job {
                group,
                path: file.path,
                text: Cow::Borrowed(file.text),
                features: file.features,
                engines: selected.clone(),
            });
        }
    }
    // The testsuite runs on every selected engine; each file decides who takes part.
    for g in testsuite.into_iter().flat_map(|t| t.groups) {
        let group = names.len();
        names.push(g.name);
        for (path, file) in g.files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
            jobs.push(Job {
                group,
                path,
                text: Cow::Owned(text),
                features: g.features,
                engines: (0..engines.len()).collect(),
            });
        }
    }

    let progress = Progress::new(jobs.len(), opts.run.quiet);
    let on_hang = |results| {
        let groups = group_results(names.clone(), &jobs, results);
        if let Err(e) = finish(&opts.run, groups, &expected, opts.junit.as_deref(), started) {
            eprintln!("lockstep: {e}");
        }
    };
    let results = run_jobs(&jobs, &engines, &progress, opts.run.timeout, &on_hang);
    progress.finish();
    let groups = group_results(names, &jobs, results);
    finish(&opts.run, groups, &expected, opts.junit.as_deref(), started)
}

fn collect_wast(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), UsageError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "wast") {
                collect_wast(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// `lockstep wast`.
pub fn wast(opts: &WastOptions) -> Result<RunSummary, UsageError> {
    let engines = opts.run.engines()?;
    wast_with(opts, engines)
}

/// `lockstep wast` on the given engines (`opts.run.engines` is ignored).
pub fn wast_with(
    opts: &WastOptions,
    engines: Vec<Box<dyn Engine>>,
) -> Result<RunSummary, UsageError> {
    let started = Instant::now();
    if opts.paths.is_empty() {
        return Err(UsageError("no .wast file or directory given".to_string()));
    }
    let mut files = Vec::new();
    for p in &opts.paths {
        collect_wast(p, &mut files)?;
    }
    let mut jobs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", f.display())))?;
        jobs.push(Job {
            group: 0,
            path: f.display().to_string(),
            text: Cow::Owned(text),
            features: crate::suite::features_for_path(&f, opts.features),
            engines: (0..engines.len()).collect(),
        });
    }
    let progress = Progress::new(jobs.len(), opts.run.quiet);
    let on_hang = |results| {
        let groups = group_results(vec!["wast".to_string()], &jobs, results);
        if let Err(e) = finish(
            &opts.run,
            groups,
            &ExpectedFailures::default(),
            None,
            started,
        ) {
            eprintln!("lockstep: {e}");
        }
    };
    let results = run_jobs(&jobs, &engines, &progress, opts.run.timeout, &on_hang);
    progress.finish();
    let groups = group_results(vec!["wast".to_string()], &jobs, results);
    finish(
        &opts.run,
        groups,
        &ExpectedFailures::default(),
        None,
        started,
    )
}
