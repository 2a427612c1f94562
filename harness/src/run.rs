//! The `wast` and `spec` commands: choosing files and engines, running files in parallel, and
//! reporting.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::{Engine, WasmFeatures};
use crate::engines;
use crate::expected::{self, ExpectedFailures, Verdict};
use crate::report::{self, Group, progress::Progress};
use crate::suite::Suite;
use crate::wast::{FileResult, run_script};

/// A usage or I/O error: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Options shared by both commands.
#[derive(Clone, Debug, Default)]
pub struct Common {
    /// `--engine` values (empty: every built engine).
    pub engines: Vec<String>,
    pub json: Option<PathBuf>,
    /// Suppress progress and the report (used by tests).
    pub quiet: bool,
    /// List every rejection whose message differed from the script's.
    pub show_messages: bool,
}

/// `lockstep spec` options.
#[derive(Clone, Debug, Default)]
pub struct SpecOptions {
    pub common: Common,
    /// `--suite` values (empty: the default suites).
    pub suites: Vec<String>,
    pub junit: Option<PathBuf>,
    pub expected_failures: Option<PathBuf>,
}

/// `lockstep wast` options.
#[derive(Clone, Debug, Default)]
pub struct WastOptions {
    pub common: Common,
    pub paths: Vec<PathBuf>,
}

/// The outcome of a command.
#[derive(Debug)]
pub struct RunSummary {
    pub groups: Vec<Group>,
    pub verdict: Verdict,
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

fn run_jobs(jobs: &[Job], engines: &[Box<dyn Engine>], progress: &Progress) -> Vec<FileResult> {
    // Big stacks: engines that run wasm on the native stack reserve their own limit below this.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let selected: Vec<&dyn Engine> =
                    job.engines.iter().map(|&i| engines[i].as_ref()).collect();
                let result = run_script(&job.path, &job.text, &selected, job.features);
                progress.file_done(&result);
                result
            })
            .collect()
    })
}

fn group_results(names: Vec<String>, jobs: &[Job], results: Vec<FileResult>) -> Vec<Group> {
    let mut groups: Vec<Group> = names
        .into_iter()
        .map(|name| Group {
            name,
            files: Vec::new(),
        })
        .collect();
    for (job, result) in jobs.iter().zip(results) {
        groups[job.group].files.push(result);
    }
    groups
}

fn write_file(path: &Path, contents: &str) -> Result<(), UsageError> {
    std::fs::write(path, contents)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}

fn finish(
    common: &Common,
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
    if let Some(path) = &common.json {
        let json = serde_json::to_string_pretty(&report::json::report(&groups))
            .expect("serialisable report");
        write_file(path, &json)?;
    }
    if let Some(path) = junit {
        write_file(path, &report::junit::report(&groups, expected))?;
    }
    if !common.quiet {
        println!();
        if common.show_messages {
            println!("rejections with a message other than the script's:");
            print!("{}", report::message_mismatches(&groups));
        }
        print!("{}", report::table(&groups));
        print!("{}", report::verdict(&groups, &verdict, 100));
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
    let engines = engines::select(&opts.common.engines).map_err(UsageError)?;
    let explicit = !opts.suites.is_empty();
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
                features: suite.features(),
                engines: selected.clone(),
            });
        }
    }

    let progress = Progress::new(jobs.len(), opts.common.quiet);
    let results = run_jobs(&jobs, &engines, &progress);
    progress.finish();
    let groups = group_results(names, &jobs, results);
    finish(
        &opts.common,
        groups,
        &expected,
        opts.junit.as_deref(),
        started,
    )
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
    let started = Instant::now();
    let engines = engines::select(&opts.common.engines).map_err(UsageError)?;
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
            features: crate::suite::features_for_path(&f),
            engines: (0..engines.len()).collect(),
        });
    }
    let progress = Progress::new(jobs.len(), opts.common.quiet);
    let results = run_jobs(&jobs, &engines, &progress);
    progress.finish();
    let groups = group_results(vec!["wast".to_string()], &jobs, results);
    finish(
        &opts.common,
        groups,
        &ExpectedFailures::default(),
        None,
        started,
    )
}
