//! What running a script produced: each directive's [`Outcome`] on one engine, and the
//! per-engine, per-file counts and lists the reports read.

use std::time::Duration;

/// How one directive went on one engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// As the script expected. `note` records a non-required detail that did not match (the
    /// error message of assert_invalid / assert_malformed / assert_unlinkable).
    Pass {
        note: Option<String>,
    },
    Fail(String),
    /// Not executed, for the reason given: a directive the engines cannot run (`thread`,
    /// `wait`, ...), or the engine's session died earlier in this file.
    Skip(String),
}

impl Outcome {
    pub(super) fn pass() -> Self {
        Outcome::Pass { note: None }
    }
}

/// A failed directive.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    pub line: usize,
    pub directive: String,
    pub message: String,
}

/// One engine's results for one file.
#[derive(Clone, Debug, Default)]
pub struct EngineFileResult {
    pub engine: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Passed directives whose (non-required) error message did not match the script's: the
    /// `message` says how.
    pub message_mismatches: Vec<Failure>,
    pub failures: Vec<Failure>,
    /// Skipped directives, each with its reason in `message`.
    pub skips: Vec<Failure>,
    /// The engine did not take part in this file, for this reason (it does not execute a
    /// feature the file needs; see [`super::needs`]). Its counts are all zero.
    pub sat_out: Option<String>,
    /// Time spent in this engine (and in judging its results).
    pub elapsed: Duration,
    /// Calls (and the state after them) on which this engine disagreed with the reference engine
    /// (the first one given). Each is also a failure of its directive.
    pub divergences: usize,
    /// Calls that could not be compared with the reference engine (call-stack exhaustion on
    /// either side): neither passes nor failures of the comparison.
    pub inconclusive: usize,
    /// Calls of a file that needs relaxed SIMD whose results differed from the reference
    /// engine's while every engine's result satisfied the script's assertion: the spec
    /// permits each (see [`super::cross_check`]). Not divergences.
    pub relaxed_permitted: usize,
    /// Calls after which exported state could not be compared (no snapshot from an engine).
    pub state_unavailable: usize,
    /// Why state could not be compared, the first time it happened in this file.
    pub state_note: Option<String>,
}

/// A file's results on every engine.
#[derive(Clone, Debug)]
pub struct FileResult {
    pub path: String,
    pub engines: Vec<EngineFileResult>,
}
