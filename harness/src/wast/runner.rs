//! Running a script on several engines in lockstep.
//!
//! Every directive is executed on each engine's session in turn ([`super::expectations`]);
//! each engine's outcome is judged against the script's expectation on its own. All engines'
//! outcomes for one directive are gathered in a [`Step`] before the next directive runs, and
//! [`super::cross_check`] compares them. Engines that do not execute a feature the file needs
//! sit it out ([`super::needs`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::cross_check::cross_check;
use super::directives::{self, Directive};
use super::expectations::{EngineStep, execute, step};
use super::results::{EngineFileResult, Failure, FileResult, Outcome};
use super::session_state::EngineState;
use crate::engine::{Engine, WasmFeatures};
use crate::lockstep::guarded;

/// One directive, executed on every engine.
#[derive(Clone, Debug)]
pub struct Step {
    pub line: usize,
    pub kind: &'static str,
    /// In the order of the engines given to [`run_script`].
    pub engines: Vec<EngineStep>,
}

/// Where a running script is: the line of the directive being executed and the index of the
/// engine executing it. A watchdog reads it to say where a hung engine is stuck.
#[derive(Debug, Default)]
pub struct Position(AtomicU64);

impl Position {
    fn set(&self, line: usize, engine: usize) {
        self.0.store(
            ((line as u64) << 16) | (engine as u64 & 0xffff),
            Ordering::Relaxed,
        );
    }
    /// `(line, engine index)`; line 0 means "not started yet".
    pub fn get(&self) -> (usize, usize) {
        let v = self.0.load(Ordering::Relaxed);
        ((v >> 16) as usize, (v & 0xffff) as usize)
    }
}

/// Run a script's text on `engines`, each in a fresh session validating with `features`. An
/// engine takes part only when it executes every feature the script needs
/// ([`super::needs::required_features`]); otherwise its result says why it sat out.
pub fn run_script(
    path: &str,
    text: &str,
    engines: &[&dyn Engine],
    features: WasmFeatures,
) -> FileResult {
    run_script_at(path, text, engines, features, &Position::default())
}

/// [`run_script`], publishing its progress in `position`.
pub fn run_script_at(
    path: &str,
    text: &str,
    engines: &[&dyn Engine],
    features: WasmFeatures,
    position: &Position,
) -> FileResult {
    let mut results = empty_results(engines);

    let parsed = guarded(|| directives::parse_script(text)).unwrap_or_else(|panic| {
        Err(directives::ScriptError {
            line: 0,
            message: format!("the parser panicked: {panic}"),
        })
    });
    let directives = match parsed {
        Ok(d) => d,
        Err(e) => {
            for r in &mut results {
                r.failed += 1;
                r.failures.push(Failure {
                    line: e.line,
                    directive: "script".to_string(),
                    message: format!("the script does not parse: {}", e.message),
                });
            }
            return FileResult {
                path: path.to_string(),
                engines: results,
            };
        }
    };

    let needs = super::needs::required_features(&directives, features);
    let mut taking_part = Vec::new();
    for (i, e) in engines.iter().enumerate() {
        let missing = needs.difference(e.supported_features());
        if missing.is_empty() {
            taking_part.push(i);
        } else {
            results[i].sat_out = Some(format!(
                "needs {}, which {} does not execute",
                super::needs::names(missing),
                e.name()
            ));
        }
    }
    if taking_part.len() < engines.len() {
        let engines: Vec<&dyn Engine> = taking_part.iter().map(|&i| engines[i]).collect();
        let mut ran = run_directives(&directives, &engines, features, needs, position).into_iter();
        for &i in &taking_part {
            results[i] = ran.next().expect("one result per engine that took part");
        }
    } else {
        results = run_directives(&directives, engines, features, needs, position);
    }
    FileResult {
        path: path.to_string(),
        engines: results,
    }
}

/// Run parsed directives on every one of `engines` (`needs`: the features the script needs).
fn run_directives(
    directives: &[Directive],
    engines: &[&dyn Engine],
    features: WasmFeatures,
    needs: WasmFeatures,
    position: &Position,
) -> Vec<EngineFileResult> {
    let mut results = empty_results(engines);

    let mut states: Vec<EngineState> = engines
        .iter()
        .map(|e| {
            let (session, dead) = match guarded(|| e.new_session(features)) {
                Ok(s) => (Some(s), None),
                Err(msg) => (None, Some(format!("creating a session panicked: {msg}"))),
            };
            EngineState {
                session,
                dead,
                current: None,
                instances: HashMap::new(),
                modules: HashMap::new(),
                last_module: None,
            }
        })
        .collect();
    // A session that could not be created is one failure, then every directive is skipped.
    for (r, s) in results.iter_mut().zip(&states) {
        if let Some(d) = &s.dead {
            r.failed += 1;
            r.failures.push(Failure {
                line: 0,
                directive: "session".to_string(),
                message: d.clone(),
            });
        }
    }

    for directive in directives {
        let mut step = run_directive(directive, &mut states, position);
        if engines.len() > 1 {
            cross_check(
                directive,
                needs,
                &mut step,
                &mut states,
                engines,
                &mut results,
            );
        }
        for (r, e) in results.iter_mut().zip(step.engines) {
            r.elapsed += e.elapsed;
            match e.outcome {
                Outcome::Pass { note } => {
                    r.passed += 1;
                    if let Some(message) = note {
                        r.message_mismatches.push(Failure {
                            line: step.line,
                            directive: step.kind.to_string(),
                            message,
                        });
                    }
                }
                Outcome::Fail(message) => {
                    r.failed += 1;
                    r.failures.push(Failure {
                        line: step.line,
                        directive: step.kind.to_string(),
                        message,
                    });
                }
                Outcome::Skip(message) => {
                    r.skipped += 1;
                    r.skips.push(Failure {
                        line: step.line,
                        directive: step.kind.to_string(),
                        message,
                    });
                }
            }
        }
    }

    // Dropping a session may run engine code too.
    for s in &mut states {
        if let Some(session) = s.session.take() {
            let _ = guarded(move || drop(session));
        }
    }
    results
}

/// Execute one directive on every engine.
fn run_directive(directive: &Directive, states: &mut [EngineState], position: &Position) -> Step {
    let engines = states
        .iter_mut()
        .enumerate()
        .map(|(index, state)| {
            if let Some(dead) = &state.dead {
                return step(Outcome::Skip(dead.clone()));
            }
            position.set(directive.line, index);
            let start = Instant::now();
            match guarded(|| execute(state, &directive.command)) {
                Ok(mut step) => {
                    step.elapsed = start.elapsed();
                    step
                }
                Err(msg) => {
                    let session = state.session.take();
                    let _ = guarded(move || drop(session));
                    state.dead = Some(format!(
                        "the engine panicked at line {} and its session was dropped",
                        directive.line
                    ));
                    EngineStep {
                        outcome: Outcome::Fail(format!("engine panicked: {msg}")),
                        elapsed: start.elapsed(),
                        result: None,
                    }
                }
            }
        })
        .collect();
    Step {
        line: directive.line,
        kind: directive.kind,
        engines,
    }
}

/// One result per engine, with nothing counted yet.
fn empty_results(engines: &[&dyn Engine]) -> Vec<EngineFileResult> {
    engines
        .iter()
        .map(|e| EngineFileResult {
            engine: e.name().to_string(),
            ..Default::default()
        })
        .collect()
}
