//! One lockstep step, the unit every differential check is made of: the same call on every
//! engine (each guarded against panics), each outcome compared with the reference engine's (the
//! first) by the [`crate::diff`] rules, then each engine's exported state, ending in a typed
//! [`StepVerdict`].
//!
//! The campaign's cases ([`crate::fuzz::case`]), the fuzz targets and the proptest suites compare
//! engines through [`Lockstep`]; the `.wast` runner, which executes each directive itself to
//! judge it against the script, compares the outcomes it holds with [`agreement`]. A rule
//! changes in one place. [`nan_twin`] is the rule for modules that leave NaN bits free.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use serde::{Deserialize, Serialize};

use crate::diff::{
    self, CallResult, Comparison, Divergence, DivergenceKind, Rules, SnapshotResult,
    StateComparison,
};
use crate::engine::{
    Engine, InstanceId, InstantiateError, InvokeError, Session, Snapshot, Val, WasmFeatures,
};

thread_local! {
    static GUARDED: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Run `f`, turning a panic into `Err(message)`. Panics inside are recorded quietly (with their
/// location) instead of being printed by the default hook; panics elsewhere print as usual.
pub fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let recorded = GUARDED.with(|g| {
                let mut g = g.borrow_mut();
                match g.as_mut() {
                    Some(slot) => {
                        let msg = payload_message(info.payload());
                        *slot = Some(match info.location() {
                            Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                            None => msg,
                        });
                        true
                    }
                    None => false,
                }
            });
            if !recorded {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.with(|g| g.borrow_mut().replace(None));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    let recorded = GUARDED.with(|g| std::mem::replace(&mut *g.borrow_mut(), outer));
    r.map_err(|payload| {
        recorded
            .flatten()
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// How one engine compares with the reference on one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// The same outcome and state. `state_note` says why state was not compared, if it was not
    /// (an engine without snapshots): not a pass of the state, so callers surface it.
    Same {
        state_note: Option<String>,
    },
    Diverged(Divergence),
    /// Call-stack exhaustion on either side: neither a pass nor a failure.
    Inconclusive(String),
}

/// Compare one engine's outcome with the reference's, then (when both outcomes agree and
/// `states` are given) the two exported states. `names` are (reference, other).
pub fn agreement(
    names: (&str, &str),
    outcomes: (&CallResult, &CallResult),
    states: Option<(&SnapshotResult, &SnapshotResult)>,
    rules: Rules,
) -> Agreement {
    match diff::compare_calls(names, outcomes.0, outcomes.1, rules) {
        Comparison::Same => {}
        Comparison::Diverged(d) => return Agreement::Diverged(d),
        Comparison::Inconclusive(m) => return Agreement::Inconclusive(m),
    }
    let Some((a, b)) = states else {
        return Agreement::Same { state_note: None };
    };
    match diff::compare_states(names, a, b, rules) {
        StateComparison::Same => Agreement::Same { state_note: None },
        StateComparison::Diverged(d) => Agreement::Diverged(d),
        StateComparison::Unavailable(note) => Agreement::Same {
            state_note: Some(note),
        },
    }
}

/// What one step found, over every engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepVerdict {
    /// Every engine agreed with the reference (see [`Agreement::Same`] for the note).
    Agreed {
        state_note: Option<String>,
    },
    /// The first engine that disagreed with the reference, and how.
    Diverged(Divergence),
    Inconclusive(String),
    Panicked {
        engine: String,
        message: String,
    },
}

/// How a case (a module and its calls, compared step by step) ended. This is what a campaign
/// worker sends back and what the fuzz targets judge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "of", rename_all = "kebab-case")]
pub enum CaseVerdict {
    /// Every engine agreed on every call and on the state after it.
    Pass,
    /// Engines disagreed; `call` is the index into the plan (None: compiling or instantiating).
    Diverged {
        call: Option<usize>,
        divergence: Divergence,
    },
    /// A divergence of a module that does not canonicalize NaNs which vanished with NaN
    /// canonicalization on ([`nan_twin`]): NaN bits the spec leaves open, not a finding.
    NanBitsOnly {
        call: Option<usize>,
        divergence: Divergence,
    },
    /// Call-stack exhaustion stopped the comparison.
    Inconclusive(String),
    /// Every engine rejected the module (a generator or shrinker artefact, not a finding).
    Rejected(String),
    /// An engine panicked.
    Panicked { engine: String, message: String },
}

/// The NaN-twin rule. Without NaN canonicalization, NaN bits the spec leaves open can reach
/// integers, memory and globals (reinterpret, store), so a divergence there may be legitimate:
/// it counts only if the module's twin, the same draw with canonicalization on (run by
/// `run_twin`, which returns `None` when the twin cannot be made), does not pass.
pub fn nan_twin(
    verdict: CaseVerdict,
    canonical_nans: bool,
    run_twin: impl FnOnce() -> Option<CaseVerdict>,
) -> CaseVerdict {
    match verdict {
        CaseVerdict::Diverged { call, divergence } if !canonical_nans => match run_twin() {
            Some(CaseVerdict::Pass) => CaseVerdict::NanBitsOnly { call, divergence },
            _ => CaseVerdict::Diverged { call, divergence },
        },
        other => other,
    }
}

/// Every engine of a run with its session and the instance the steps call.
pub struct Lockstep {
    names: Vec<&'static str>,
    sessions: Vec<Box<dyn Session>>,
    instances: Vec<InstanceId>,
    /// Each engine's last snapshot, refilled by the next ([`Session::snapshot_into`]).
    snapshots: Vec<SnapshotResult>,
}

/// Why [`Lockstep::instantiate`] made no instances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotInstantiated {
    /// Compiling or instantiating went differently somewhere: the verdict to report.
    Verdict(CaseVerdict),
    /// Instantiation trapped the same way on every engine: nothing to call.
    TrappedEverywhere,
}

impl Lockstep {
    /// Open a session on every engine (validating with `features`), then compile and instantiate
    /// `wasm` on each. Compilation and instantiation are compared like calls: a module one engine
    /// rejects or traps on is a [`DivergenceKind::Module`] divergence.
    pub fn instantiate(
        engines: &[&dyn Engine],
        features: WasmFeatures,
        wasm: &[u8],
        rules: Rules,
    ) -> Result<Lockstep, NotInstantiated> {
        let panicked = |engine: &dyn Engine, message: String| {
            NotInstantiated::Verdict(CaseVerdict::Panicked {
                engine: engine.name().to_string(),
                message,
            })
        };
        let names: Vec<&'static str> = engines.iter().map(|e| e.name()).collect();
        let mut sessions = Vec::new();
        let mut instances = Vec::new();
        let mut outcomes: Vec<CallResult> = Vec::new();
        let mut rejected = 0;
        for e in engines {
            let mut s = guarded(|| e.new_session(features)).map_err(|m| panicked(*e, m))?;
            let (instance, outcome) =
                match guarded(|| s.compile(wasm)).map_err(|m| panicked(*e, m))? {
                    Err(err) => {
                        rejected += 1;
                        (None, Err(InvokeError::Other(format!("compile: {err}"))))
                    }
                    Ok(m) => {
                        let r = guarded(|| s.instantiate(m)).map_err(|m| panicked(*e, m))?;
                        let outcome = match &r {
                            Ok(_) => Ok(vec![]),
                            Err(InstantiateError::Trap(t)) => Err(InvokeError::Trap(t.clone())),
                            Err(err) => Err(InvokeError::Other(err.to_string())),
                        };
                        (r.ok(), outcome)
                    }
                };
            sessions.push(s);
            instances.push(instance);
            outcomes.push(outcome);
        }
        if rejected == engines.len() {
            return Err(NotInstantiated::Verdict(CaseVerdict::Rejected(
                diff::describe(&outcomes[0]),
            )));
        }
        for k in 1..engines.len() {
            match diff::compare_calls((names[0], names[k]), &outcomes[0], &outcomes[k], rules) {
                Comparison::Same => {}
                Comparison::Diverged(mut d) => {
                    d.kind = DivergenceKind::Module;
                    return Err(NotInstantiated::Verdict(CaseVerdict::Diverged {
                        call: None,
                        divergence: d,
                    }));
                }
                Comparison::Inconclusive(m) => {
                    return Err(NotInstantiated::Verdict(CaseVerdict::Inconclusive(m)));
                }
            }
        }
        let Some(instances) = instances.into_iter().collect::<Option<Vec<_>>>() else {
            return Err(NotInstantiated::TrappedEverywhere);
        };
        Ok(Lockstep {
            names,
            sessions,
            instances,
            snapshots: Vec::new(),
        })
    }

    /// The engines' names, reference first.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// Call `export` with `args` on every engine (each guarded): the outcomes, in engine order,
    /// or the panic as a verdict.
    pub fn invoke(&mut self, export: &str, args: &[Val]) -> Result<Vec<CallResult>, StepVerdict> {
        let mut outcomes = Vec::with_capacity(self.sessions.len());
        for (k, (s, &i)) in self.sessions.iter_mut().zip(&self.instances).enumerate() {
            match guarded(|| s.invoke(i, export, args)) {
                Ok(r) => outcomes.push(r),
                Err(message) => {
                    return Err(StepVerdict::Panicked {
                        engine: self.names[k].to_string(),
                        message,
                    });
                }
            }
        }
        Ok(outcomes)
    }

    /// One step: call `export` with `args` on every engine, compare each outcome with the
    /// reference's, then the exported states.
    pub fn call(&mut self, export: &str, args: &[Val], rules: Rules) -> StepVerdict {
        let outcomes = match self.invoke(export, args) {
            Ok(o) => o,
            Err(panicked) => return panicked,
        };
        for k in 1..outcomes.len() {
            let names = (self.names[0], self.names[k]);
            match diff::compare_calls(names, &outcomes[0], &outcomes[k], rules) {
                Comparison::Same => {}
                Comparison::Diverged(d) => return StepVerdict::Diverged(d),
                Comparison::Inconclusive(m) => return StepVerdict::Inconclusive(m),
            }
        }
        self.compare_state(rules)
    }

    /// Snapshot every engine's instance and compare each state with the reference's.
    pub fn compare_state(&mut self, rules: Rules) -> StepVerdict {
        self.snapshots
            .resize_with(self.sessions.len(), || Ok(Snapshot::default()));
        for ((s, &i), slot) in self
            .sessions
            .iter_mut()
            .zip(&self.instances)
            .zip(&mut self.snapshots)
        {
            let mut snap = std::mem::replace(slot, Ok(Snapshot::default())).unwrap_or_default();
            *slot = match guarded(|| s.snapshot_into(i, &mut snap)) {
                Ok(Ok(())) => Ok(snap),
                Ok(Err(e)) => Err(e),
                Err(p) => Err(format!("panicked: {p}")),
            };
        }
        let snapshots = &self.snapshots;
        let mut state_note = None;
        for k in 1..snapshots.len() {
            let names = (self.names[0], self.names[k]);
            match diff::compare_states(names, &snapshots[0], &snapshots[k], rules) {
                StateComparison::Same => {}
                StateComparison::Diverged(d) => return StepVerdict::Diverged(d),
                StateComparison::Unavailable(n) => {
                    state_note.get_or_insert(n);
                }
            }
        }
        StepVerdict::Agreed { state_note }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diverged() -> CaseVerdict {
        CaseVerdict::Diverged {
            call: Some(2),
            divergence: Divergence {
                kind: DivergenceKind::Memory,
                signature: "memory:mem".to_string(),
                detail: "memory \"mem\" first differs".to_string(),
            },
        }
    }

    #[test]
    fn the_nan_twin_sets_a_divergence_aside_only_when_the_twin_passes() {
        let with_twin = |twin: Option<CaseVerdict>| nan_twin(diverged(), false, || twin);
        assert!(matches!(
            with_twin(Some(CaseVerdict::Pass)),
            CaseVerdict::NanBitsOnly { call: Some(2), .. }
        ));
        for twin in [
            Some(diverged()),
            Some(CaseVerdict::Inconclusive("stack".to_string())),
            None,
        ] {
            assert_eq!(with_twin(twin), diverged());
        }
        // A module that canonicalizes NaNs has no twin to ask.
        let asked = std::cell::Cell::new(false);
        let v = nan_twin(diverged(), true, || {
            asked.set(true);
            Some(CaseVerdict::Pass)
        });
        assert_eq!(v, diverged());
        assert!(!asked.get());
        assert_eq!(
            nan_twin(CaseVerdict::Pass, false, || unreachable!()),
            CaseVerdict::Pass
        );
    }

    #[test]
    fn case_verdicts_round_trip_through_json() {
        for v in [
            CaseVerdict::Pass,
            diverged(),
            CaseVerdict::Rejected("compile: invalid".to_string()),
            CaseVerdict::Panicked {
                engine: "runtime".to_string(),
                message: "boom".to_string(),
            },
        ] {
            let text = serde_json::to_string(&v).expect("serialisable");
            assert_eq!(
                serde_json::from_str::<CaseVerdict>(&text).expect("parses"),
                v
            );
        }
    }

    #[test]
    fn guarded_turns_a_panic_into_its_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let e = guarded(|| panic!("boom {}", 1)).expect_err("a panic");
        assert!(e.starts_with("boom 1 (at "), "{e}");
    }
}
