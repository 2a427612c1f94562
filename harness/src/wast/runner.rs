//! Running a script on several engines in lockstep.
//!
//! Every directive is executed on each engine's session in turn; each engine's outcome is judged
//! against the script's expectation on its own. All engines' outcomes for one directive are
//! gathered in a [`Step`] before the next directive runs, which is where cross-engine comparison
//! plugs in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::directives::{self, Command, Directive, Exec, Invoke, ModuleSource};
use super::values;
use crate::engine::{
    CompileError, Engine, InstanceId, InstantiateError, InvokeError, ModuleId, Session, Val,
    WasmFeatures,
};

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
    fn pass() -> Self {
        Outcome::Pass { note: None }
    }
}

/// What one engine did for one directive: the judged outcome and, for calls, the raw result
/// (kept for cross-engine comparison).
#[derive(Clone, Debug)]
pub struct EngineStep {
    pub outcome: Outcome,
    pub elapsed: Duration,
    pub result: Option<Result<Vec<Val>, InvokeError>>,
}

/// One directive, executed on every engine.
#[derive(Clone, Debug)]
pub struct Step {
    pub line: usize,
    pub kind: &'static str,
    /// In the order of the engines given to [`run_script`].
    pub engines: Vec<EngineStep>,
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

/// Per-engine state while a file runs.
struct EngineState {
    session: Option<Box<dyn Session>>,
    /// Why the session is gone.
    dead: Option<String>,
    current: Option<InstanceId>,
    instances: HashMap<String, InstanceId>,
    modules: HashMap<String, ModuleId>,
    last_module: Option<ModuleId>,
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
    let mut results: Vec<EngineFileResult> = engines
        .iter()
        .map(|e| EngineFileResult {
            engine: e.name().to_string(),
            ..Default::default()
        })
        .collect();

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
        let mut ran = run_directives(&directives, &engines, features, position).into_iter();
        for &i in &taking_part {
            results[i] = ran.next().expect("one result per engine that took part");
        }
    } else {
        results = run_directives(&directives, engines, features, position);
    }
    FileResult {
        path: path.to_string(),
        engines: results,
    }
}

/// Run parsed directives on every one of `engines`.
fn run_directives(
    directives: &[Directive],
    engines: &[&dyn Engine],
    features: WasmFeatures,
    position: &Position,
) -> Vec<EngineFileResult> {
    let mut results: Vec<EngineFileResult> = engines
        .iter()
        .map(|e| EngineFileResult {
            engine: e.name().to_string(),
            ..Default::default()
        })
        .collect();

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
            cross_check(directive, &mut step, &mut states, engines, &mut results);
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
/// A divergence is a failure even where the script asserted nothing. It is charged to the other
/// engine, unless only the reference engine failed the script's expectation (then the reference
/// is the one that is wrong, and its directive already fails).
fn cross_check(
    directive: &Directive,
    step: &mut Step,
    states: &mut [EngineState],
    engines: &[&dyn Engine],
    results: &mut [EngineFileResult],
) {
    use crate::diff::{self, Comparison, Rules, StateComparison};
    let Some((module, snapshot)) = call_target(&directive.command) else {
        return;
    };
    let rules = Rules::default();
    let snaps: Vec<Option<Result<crate::engine::Snapshot, String>>> = if snapshot {
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
        let mut divergence = match diff::compare_calls(names, a, b, rules) {
            Comparison::Same => None,
            Comparison::Diverged(d) => Some(d),
            Comparison::Inconclusive(_) => {
                results[i].inconclusive += 1;
                continue;
            }
        };
        if divergence.is_none()
            && let (Some(x), Some(y)) = (&snaps[0], &snaps[i])
        {
            match diff::compare_states(names, x, y, rules) {
                StateComparison::Same => {}
                StateComparison::Diverged(d) => divergence = Some(d),
                StateComparison::Unavailable(note) => {
                    results[i].state_unavailable += 1;
                    results[i].state_note.get_or_insert(note);
                }
            }
        }
        let Some(d) = divergence else { continue };
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

pub use crate::lockstep::guarded;

fn contains(actual: &str, expected: &str) -> bool {
    actual.contains(expected)
}

fn note_unless_contains(actual: &str, expected: &str) -> Option<String> {
    if contains(actual, expected) {
        None
    } else {
        Some(format!("message {actual:?} does not contain {expected:?}"))
    }
}

/// The rule shared by assert_trap and assert_exhaustion (`what` names the expectation in
/// messages): the call must trap with a message containing the script's text.
fn expect_trap(
    result: Result<Vec<Val>, ExecError>,
    message: &str,
    what: &str,
    returned: impl FnOnce(&[Val]) -> String,
) -> EngineStep {
    match result {
        Ok(vals) => EngineStep {
            elapsed: Duration::ZERO,
            outcome: Outcome::Fail(format!("expected {what} {message:?}, {}", returned(&vals))),
            result: Some(Ok(vals)),
        },
        Err(ExecError::Invoke(InvokeError::Trap(t))) => EngineStep {
            elapsed: Duration::ZERO,
            outcome: if contains(&t.message, message) {
                Outcome::pass()
            } else {
                Outcome::Fail(format!(
                    "expected {what} {message:?}, got trap {:?}",
                    t.message
                ))
            },
            result: Some(Err(InvokeError::Trap(t))),
        },
        Err(ExecError::Invoke(e)) => EngineStep {
            elapsed: Duration::ZERO,
            outcome: Outcome::Fail(format!("expected {what} {message:?}, got {e}")),
            result: Some(Err(e)),
        },
        Err(ExecError::Other(e)) => step(Outcome::Fail(format!(
            "expected {what} {message:?}, got {e}"
        ))),
    }
}

fn step(outcome: Outcome) -> EngineStep {
    EngineStep {
        outcome,
        elapsed: Duration::ZERO,
        result: None,
    }
}

fn execute(state: &mut EngineState, command: &Command) -> EngineStep {
    match command {
        Command::Module {
            name,
            module,
            instantiate,
        } => step(define_module(state, name.as_deref(), module, *instantiate)),
        Command::ModuleInstance { instance, module } => {
            let mid = match module {
                Some(m) => state.modules.get(m).copied(),
                None => state.last_module,
            };
            let Some(mid) = mid else {
                return step(Outcome::Fail(format!(
                    "no module definition {}",
                    module
                        .as_deref()
                        .map_or("(last)".to_string(), |m| format!("${m}"))
                )));
            };
            state.current = None;
            match session(state).instantiate(mid) {
                Ok(iid) => {
                    state.current = Some(iid);
                    if let Some(i) = instance {
                        state.instances.insert(i.clone(), iid);
                    }
                    step(Outcome::pass())
                }
                Err(e) => step(Outcome::Fail(format!("instantiation failed: {e}"))),
            }
        }
        Command::Register { name, module } => match instance(state, module.as_deref()) {
            Ok(iid) => {
                session(state).register(name, iid);
                step(Outcome::pass())
            }
            Err(e) => step(Outcome::Fail(e)),
        },
        Command::Action(exec) => match run_exec(state, exec) {
            Ok(vals) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: Outcome::pass(),
                result: Some(Ok(vals)),
            },
            Err(ExecError::Invoke(e)) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: Outcome::Fail(format!("unexpected {e}")),
                result: Some(Err(e)),
            },
            Err(ExecError::Other(e)) => step(Outcome::Fail(e)),
        },
        Command::AssertReturn { exec, results } => match run_exec(state, exec) {
            Ok(vals) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: match values::match_results(results, &vals) {
                    Ok(()) => Outcome::pass(),
                    Err(e) => Outcome::Fail(e),
                },
                result: Some(Ok(vals)),
            },
            Err(ExecError::Invoke(e)) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: Outcome::Fail(format!(
                    "expected [{}], got {e}",
                    results
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
                result: Some(Err(e)),
            },
            Err(ExecError::Other(e)) => step(Outcome::Fail(e)),
        },
        Command::AssertTrap { exec, message } => {
            expect_trap(run_exec(state, exec), message, "trap", |vals| {
                format!(
                    "got [{}]",
                    vals.iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            })
        }
        Command::AssertExhaustion { invoke, message } => expect_trap(
            run_exec(state, &Exec::Invoke(invoke.clone())),
            message,
            "exhaustion",
            |_| "the call returned".to_string(),
        ),
        Command::AssertInvalid { module, message } => {
            step(expect_rejection(state, module, message, "invalid"))
        }
        Command::AssertMalformed { module, message } => {
            step(expect_rejection(state, module, message, "malformed"))
        }
        Command::AssertUnlinkable { module, message } => {
            let bytes = match module {
                ModuleSource::Bytes(b) => b,
                ModuleSource::TextError(e) => {
                    return step(Outcome::Fail(format!("the module does not encode: {e}")));
                }
            };
            let s = session(state);
            let mid = match s.compile(bytes) {
                Ok(m) => m,
                Err(e) => {
                    return step(Outcome::Fail(format!(
                        "expected a link error {message:?}, but compilation failed: {e}"
                    )));
                }
            };
            match s.instantiate(mid) {
                Ok(_) => step(Outcome::Fail(format!(
                    "expected a link error {message:?}, but instantiation succeeded"
                ))),
                Err(InstantiateError::Link(m)) => step(Outcome::Pass {
                    note: note_unless_contains(&m, message),
                }),
                Err(e) => step(Outcome::Fail(format!(
                    "expected a link error {message:?}, got {e}"
                ))),
            }
        }
        Command::AssertException { exec } => match run_exec(state, exec) {
            Err(ExecError::Invoke(e @ InvokeError::Exception { .. })) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: Outcome::pass(),
                result: Some(Err(e)),
            },
            Ok(vals) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: Outcome::Fail(format!(
                    "expected an uncaught exception, got [{}]",
                    vals.iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
                result: Some(Ok(vals)),
            },
            Err(ExecError::Invoke(e)) => EngineStep {
                elapsed: Duration::ZERO,
                outcome: Outcome::Fail(format!("expected an uncaught exception, got {e}")),
                result: Some(Err(e)),
            },
            Err(ExecError::Other(e)) => step(Outcome::Fail(format!(
                "expected an uncaught exception, got {e}"
            ))),
        },
        Command::Skip { reason } => step(Outcome::Skip(reason.clone())),
    }
}

/// assert_invalid / assert_malformed: the module must be rejected, by the text parser or by the
/// engine. The message is compared but not required to match.
fn expect_rejection(
    state: &mut EngineState,
    module: &ModuleSource,
    message: &str,
    what: &str,
) -> Outcome {
    match module {
        ModuleSource::TextError(e) => Outcome::Pass {
            note: note_unless_contains(e, message),
        },
        ModuleSource::Bytes(bytes) => match session(state).compile(bytes) {
            Ok(_) => Outcome::Fail(format!(
                "expected a {what} module ({message:?}), but it compiled"
            )),
            Err(e) => {
                let kind_note = match (&e, what) {
                    (CompileError::Malformed(_), "invalid") => {
                        Some("rejected as malformed, expected invalid".to_string())
                    }
                    (CompileError::Invalid(_), "malformed") => {
                        Some("rejected as invalid, expected malformed".to_string())
                    }
                    _ => None,
                };
                Outcome::Pass {
                    note: note_unless_contains(e.message(), message).or(kind_note),
                }
            }
        },
    }
}

fn define_module(
    state: &mut EngineState,
    name: Option<&str>,
    module: &ModuleSource,
    instantiate: bool,
) -> Outcome {
    if instantiate {
        state.current = None;
    }
    if let Some(n) = name {
        state.instances.remove(n);
        state.modules.remove(n);
    }
    let bytes = match module {
        ModuleSource::Bytes(b) => b,
        ModuleSource::TextError(e) => {
            return Outcome::Fail(format!("the module does not encode: {e}"));
        }
    };
    let mid = match session(state).compile(bytes) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(format!("compilation failed: {e}")),
    };
    state.last_module = Some(mid);
    if let Some(n) = name {
        state.modules.insert(n.to_string(), mid);
    }
    if !instantiate {
        return Outcome::pass();
    }
    match session(state).instantiate(mid) {
        Ok(iid) => {
            state.current = Some(iid);
            if let Some(n) = name {
                state.instances.insert(n.to_string(), iid);
            }
            Outcome::pass()
        }
        Err(e) => Outcome::Fail(format!("instantiation failed: {e}")),
    }
}

enum ExecError {
    /// The engine ran the call and it did not return normally.
    Invoke(InvokeError),
    /// The call could not be made (no such module, compile or link failure, ...).
    Other(String),
}

fn session(state: &mut EngineState) -> &mut dyn Session {
    state
        .session
        .as_deref_mut()
        .expect("a live engine state has a session")
}

fn instance(state: &EngineState, module: Option<&str>) -> Result<InstanceId, String> {
    match module {
        Some(m) => state
            .instances
            .get(m)
            .copied()
            .ok_or_else(|| format!("no instance named ${m}")),
        None => state
            .current
            .ok_or_else(|| "no current module instance".to_string()),
    }
}

fn run_exec(state: &mut EngineState, exec: &Exec) -> Result<Vec<Val>, ExecError> {
    match exec {
        Exec::Invoke(Invoke { module, name, args }) => {
            let iid = instance(state, module.as_deref()).map_err(ExecError::Other)?;
            let args = args.as_ref().map_err(|e| ExecError::Other(e.clone()))?;
            session(state)
                .invoke(iid, name, args)
                .map_err(ExecError::Invoke)
        }
        Exec::Get { module, global } => {
            let iid = instance(state, module.as_deref()).map_err(ExecError::Other)?;
            session(state)
                .get_global(iid, global)
                .map(|v| vec![v])
                .map_err(ExecError::Other)
        }
        Exec::Instantiate(module) => {
            let bytes = match module {
                ModuleSource::Bytes(b) => b,
                ModuleSource::TextError(e) => {
                    return Err(ExecError::Other(format!("the module does not encode: {e}")));
                }
            };
            let s = session(state);
            let mid = s
                .compile(bytes)
                .map_err(|e| ExecError::Other(format!("compilation failed: {e}")))?;
            match s.instantiate(mid) {
                Ok(_) => Ok(vec![]),
                Err(InstantiateError::Trap(t)) => Err(ExecError::Invoke(InvokeError::Trap(t))),
                Err(e) => Err(ExecError::Other(format!("instantiation failed: {e}"))),
            }
        }
    }
}
