//! Running a case: the module instantiated on every engine, then its planned calls, each one
//! lockstep step ([`crate::lockstep`]).

use super::plan::Call;
use crate::diff::{self, Rules};
use crate::engine::Engine;
use crate::features::Features;
use crate::lockstep::{CaseVerdict, Lockstep, NotInstantiated, StepVerdict, guarded};

/// A case's result.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub verdict: CaseVerdict,
    /// Calls made (on each engine).
    pub calls: usize,
    /// Why exported state could not be compared, if it could not.
    pub state_note: Option<String>,
    /// Steps whose results differed from the oracle's own relaxed SIMD choice but matched
    /// another permitted one (rule 11 of [`crate::diff`]).
    pub relaxed_permitted: usize,
}

impl CaseResult {
    /// Take in a step's verdict (`call`: None for the state after instantiation). Returns whether
    /// the case goes on.
    fn record(&mut self, call: Option<usize>, step: StepVerdict) -> bool {
        self.verdict = match step {
            StepVerdict::Agreed { state_note } => {
                if self.state_note.is_none() {
                    self.state_note = state_note;
                }
                return true;
            }
            StepVerdict::Diverged(divergence) => CaseVerdict::Diverged { call, divergence },
            StepVerdict::Inconclusive(m) => CaseVerdict::Inconclusive(m),
            StepVerdict::Panicked { engine, message } => CaseVerdict::Panicked { engine, message },
        };
        false
    }
}

/// Run `calls` on `wasm` on every engine, comparing each with the first after instantiation and
/// after every call.
pub fn run_case(engines: &[&dyn Engine], wasm: &[u8], calls: &[Call], rules: Rules) -> CaseResult {
    let mut result = CaseResult {
        verdict: CaseVerdict::Pass,
        calls: 0,
        state_note: None,
        relaxed_permitted: 0,
    };
    // Modules are validated with what every engine executes (SIMD included once they all do).
    let features = Features::supported_by(engines).session_features();
    let mut lockstep = match Lockstep::instantiate(engines, features, wasm, rules) {
        Ok(l) => l,
        Err(NotInstantiated::TrappedEverywhere) => return result,
        Err(NotInstantiated::Verdict(v)) => {
            result.verdict = v;
            return result;
        }
    };
    if result.record(None, lockstep.compare_state(rules)) {
        for (i, call) in calls.iter().enumerate() {
            let step = lockstep.call(&call.export, &call.args, rules);
            if !matches!(step, StepVerdict::Panicked { .. }) {
                result.calls += 1;
            }
            if !result.record(Some(i), step) {
                break;
            }
        }
    }
    result.relaxed_permitted = lockstep.relaxed_permitted;
    result
}

/// Each engine's outcome of call `upto` of `calls` (for reports), as text, from a fresh instance.
pub fn outcomes_of(
    engines: &[&dyn Engine],
    wasm: &[u8],
    calls: &[Call],
    upto: usize,
) -> Vec<(String, String)> {
    let features = Features::supported_by(engines).session_features();
    engines
        .iter()
        .map(|e| {
            let text = guarded(|| {
                let mut s = e.new_session(features);
                let m = match s.compile(wasm) {
                    Ok(m) => m,
                    Err(err) => return format!("compile error: {err}"),
                };
                let i = match s.instantiate(m) {
                    Ok(i) => i,
                    Err(err) => return format!("instantiation: {err}"),
                };
                let mut last = String::from("(no call)");
                for c in calls.iter().take(upto + 1) {
                    last = diff::describe(&s.invoke(i, &c.export, &c.args));
                }
                last
            })
            .unwrap_or_else(|p| format!("panicked: {p}"));
            (e.name().to_string(), text)
        })
        .collect()
}
