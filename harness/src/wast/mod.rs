//! `.wast` scripts: parsing into engine-neutral directives, value matching, the `spectest` host
//! module, and running scripts on engines in lockstep.

mod cross_check;
pub mod directives;
mod expectations;
mod legacy_try;
pub mod needs;
pub mod results;
pub mod runner;
mod session_state;
pub mod spectest;
pub mod values;

pub use results::{EngineFileResult, Failure, FileResult, Outcome};
pub use runner::{Position, run_script, run_script_at};
