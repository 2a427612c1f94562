//! `.wast` scripts: parsing into engine-neutral directives, value matching, the `spectest` host
//! module, and running scripts on engines in lockstep.

pub mod directives;
pub mod needs;
pub mod runner;
pub mod spectest;
pub mod values;

pub use runner::{
    EngineFileResult, Failure, FileResult, Outcome, Position, run_script, run_script_at,
};
