//! The cross-engine check of a call directive: every engine's outcome and exported state
//! against the reference engine's (the first), by [`crate::lockstep::agreement`], the rule the
//! campaign, the fuzz targets and the proptest suites use too.

use super::directives::{Command, Directive, Exec};
use super::results::{EngineFileResult, Outcome};
use super::runner::Step;
use super::session_state::{EngineState, instance, session};
use crate::diff::{Rules, SnapshotResult};
use crate::engine::{Engine, WasmFeatures};
use crate::lockstep::{Agreement, agreement, guarded};

/// The instance a call directive invokes, or `None` for directives that call nothing. `Some(None)`
/// is the current instance. Instantiation via assert_trap is a call without a snapshot.
fn call_target(command: &Command) -> Option<(Option<&str>, bool)> {
    let exec = match command {
        Command::Action(e)
        | Command::AssertReturn { exec: e, .. }
        | Command::AssertTrap { exec: e, .. }
        | Command::AssertException { exec: e } => e,
        Command::AssertExhaustion { invoke, .. } => return Some((invoke.module.as_deref(), true)),
        _ => return None,
    };
    match exec {
        Exec::Invoke(i) => Some((i.module.as_deref(), true)),
        Exec::Get { module, .. } => Some((module.as_deref(), false)),
        Exec::Instantiate(_) => Some((None, false)),
    }
}

/// Compare every engine with the reference engine (the first) on a call directive: the call's
/// outcome by the [`crate::diff`] rules, then the invoked instance's exported state.
///
/// Relaxed SIMD: where the file needs relaxed SIMD and every engine's result of an
/// `assert_return` satisfied the script (whose `(either ...)` results list what the spec
/// permits), a difference in results is permitted nondeterminism, counted apart
/// (`relaxed_permitted`), not a divergence.
///
/// A divergence is a failure even where the script asserted nothing. It is charged to the other
/// engine, unless only the reference engine failed the script's expectation (then the reference
/// is the one that is wrong, and its directive already fails).
pub(super) fn cross_check(
    directive: &Directive,
    needs: WasmFeatures,
    step: &mut Step,
    states: &mut [EngineState],
    engines: &[&dyn Engine],
    results: &mut [EngineFileResult],
) {
    let Some((module, snapshot)) = call_target(&directive.command) else {
        return;
    };
    // Scripts write NaN results as patterns; across engines NaN bits count only when every
    // engine canonicalizes them.
    let rules = Rules::for_engines(engines, false);
    let snaps: Vec<Option<SnapshotResult>> = if snapshot {
        states
            .iter_mut()
            .map(|state| {
                if state.dead.is_some() {
                    return None;
                }
                let iid = instance(state, module).ok()?;
                let s = session(state);
                Some(
                    guarded(|| s.snapshot(iid))
                        .unwrap_or_else(|p| Err(format!("snapshot panicked: {p}"))),
                )
            })
            .collect()
    } else {
        vec![None; states.len()]
    };
    let reference = engines[0].name();
    for i in 1..step.engines.len() {
        let names = (reference, engines[i].name());
        let (Some(a), Some(b)) = (&step.engines[0].result, &step.engines[i].result) else {
            continue;
        };
        let states = snaps[0].as_ref().zip(snaps[i].as_ref());
        let d = match agreement(names, (a, b), states, rules) {
            Agreement::Same { state_note: None } => continue,
            Agreement::Same {
                state_note: Some(note),
            } => {
                results[i].state_unavailable += 1;
                results[i].state_note.get_or_insert(note);
                continue;
            }
            Agreement::Inconclusive(_) => {
                results[i].inconclusive += 1;
                continue;
            }
            Agreement::Diverged(d) => d,
        };
        let passed = |o: &Outcome| matches!(o, Outcome::Pass { .. });
        if needs.contains(WasmFeatures::RELAXED_SIMD)
            && matches!(directive.command, Command::AssertReturn { .. })
            && passed(&step.engines[0].outcome)
            && passed(&step.engines[i].outcome)
        {
            results[i].relaxed_permitted += 1;
            continue;
        }
        let message = format!("diverges from {reference}: {d}");
        let ref_failed = matches!(step.engines[0].outcome, Outcome::Fail(_));
        let other_failed = matches!(step.engines[i].outcome, Outcome::Fail(_));
        if ref_failed && !other_failed {
            results[0].divergences += 1;
            if let Outcome::Fail(m) = &mut step.engines[0].outcome {
                m.push_str(&format!(" ({} {message})", engines[i].name()));
            }
        } else {
            results[i].divergences += 1;
            match &mut step.engines[i].outcome {
                Outcome::Fail(m) => m.push_str(&format!(" ({message})")),
                other => *other = Outcome::Fail(message),
            }
        }
    }
}
