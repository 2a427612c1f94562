//! One fuzz case: a wasm-smith module drawn from a seed ([`generate`]), a plan of calls
//! ([`plan`]), and running both on every engine in lockstep ([`run`]).

pub mod generate;
pub mod plan;
pub mod run;

pub use generate::{FUEL, Generated, bound_module, cap_memory_bytes, generate, generate_with};
pub use plan::{CALLS_PER_EXPORT, Call, MAX_CALLS, exported_funcs, plan};
pub use run::{CaseResult, outcomes_of, run_case};

#[cfg(test)]
mod tests;
