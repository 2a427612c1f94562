//! Performance tooling for lockstep's engines.
//!
//! - [`kernels`]: execution kernels written in WAT (`benches/kernels/`), each with a Rust
//!   reference so that a wrong engine can never look fast.
//! - [`engines`]: one small interface over our runtime, the oracle and (feature `peers`)
//!   wasmtime and wasmi, so every engine runs the same modules the same way.
//! - [`workloads`]: generated modules for compile-time and instantiation benches.
//! - [`corpus`]: the third-party modules under `../shared/corpus`, when present.
//! - [`measure`], [`report`]: timing loops, the peer comparison, the regression gate, the chart.
//!
//! The criterion benches live in `benches/benches/`, the `lockstep-bench` command in
//! `src/main.rs`.

pub mod calls;
pub mod corpus;
pub mod engines;
pub mod kernels;
pub mod measure;
pub mod report;
pub mod workloads;

/// Compile a WAT text to a binary module (every engine gets the same bytes).
pub fn wat_to_wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("bench WAT must parse")
}
