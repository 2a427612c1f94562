//! Executing one directive on one engine and judging the outcome against the script's
//! expectation: the rule of each assertion (results, traps, exhaustion, exceptions,
//! rejections, link errors).

use std::time::Duration;

use super::directives::{Command, Exec, ModuleSource};
use super::results::Outcome;
use super::session_state::{
    EngineState, ExecError, define_module, instance, instantiate_definition, run_exec, session,
};
use super::values;
use crate::engine::{CompileError, InstantiateError, InvokeError, Val, space_separated};

/// What one engine did for one directive: the judged outcome and, for calls, the raw result
/// (kept for cross-engine comparison).
#[derive(Clone, Debug)]
pub struct EngineStep {
    pub outcome: Outcome,
    pub elapsed: Duration,
    pub result: Option<Result<Vec<Val>, InvokeError>>,
}

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

/// The raw result of a call, kept for the cross-engine check.
type CallResult = Result<Vec<Val>, InvokeError>;

/// Judge a call directive: `judge` rules on the call's result, which the step keeps for the
/// cross-engine check. A call that could not be made at all (no such instance, the module did
/// not compile, ...) fails, `unmade` saying what was expected.
fn judge_call(
    result: Result<Vec<Val>, ExecError>,
    unmade: impl FnOnce(String) -> String,
    judge: impl FnOnce(&CallResult) -> Outcome,
) -> EngineStep {
    let result = match result {
        Ok(vals) => Ok(vals),
        Err(ExecError::Invoke(e)) => Err(e),
        Err(ExecError::Other(e)) => return step(Outcome::Fail(unmade(e))),
    };
    EngineStep {
        outcome: judge(&result),
        elapsed: Duration::ZERO,
        result: Some(result),
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
    let expected = format!("expected {what} {message:?}");
    judge_call(
        result,
        |e| format!("{expected}, got {e}"),
        |r| match r {
            Ok(vals) => Outcome::Fail(format!("{expected}, {}", returned(vals))),
            Err(InvokeError::Trap(t)) if contains(&t.message, message) => Outcome::pass(),
            Err(InvokeError::Trap(t)) => {
                Outcome::Fail(format!("{expected}, got trap {:?}", t.message))
            }
            Err(e) => Outcome::Fail(format!("{expected}, got {e}")),
        },
    )
}

pub(super) fn step(outcome: Outcome) -> EngineStep {
    EngineStep {
        outcome,
        elapsed: Duration::ZERO,
        result: None,
    }
}

pub(super) fn execute(state: &mut EngineState, command: &Command) -> EngineStep {
    match command {
        Command::Module {
            name,
            module,
            instantiate,
        } => step(define_module(state, name.as_deref(), module, *instantiate)),
        Command::ModuleInstance { instance, module } => step(instantiate_definition(
            state,
            instance.as_deref(),
            module.as_deref(),
        )),
        Command::Register { name, module } => match instance(state, module.as_deref()) {
            Ok(iid) => {
                session(state).register(name, iid);
                step(Outcome::pass())
            }
            Err(e) => step(Outcome::Fail(e)),
        },
        Command::Action(exec) => judge_call(
            run_exec(state, exec),
            |e| e,
            |r| match r {
                Ok(_) => Outcome::pass(),
                Err(e) => Outcome::Fail(format!("unexpected {e}")),
            },
        ),
        Command::AssertReturn { exec, results } => judge_call(
            run_exec(state, exec),
            |e| e,
            |r| match r {
                Ok(vals) => match values::match_results(results, vals) {
                    Ok(()) => Outcome::pass(),
                    Err(e) => Outcome::Fail(e),
                },
                Err(e) => {
                    Outcome::Fail(format!("expected [{}], got {e}", space_separated(results)))
                }
            },
        ),
        Command::AssertTrap { exec, message } => {
            expect_trap(run_exec(state, exec), message, "trap", |vals| {
                format!("got [{}]", space_separated(vals))
            })
        }
        Command::AssertExhaustion { invoke, message } => expect_trap(
            run_exec(state, &Exec::Invoke(invoke.clone())),
            message,
            "exhaustion",
            |_| "the call returned".to_string(),
        ),
        Command::AssertException { exec } => {
            let expected = "expected an uncaught exception";
            judge_call(
                run_exec(state, exec),
                |e| format!("{expected}, got {e}"),
                |r| match r {
                    Err(InvokeError::Exception { .. }) => Outcome::pass(),
                    Ok(vals) => {
                        Outcome::Fail(format!("{expected}, got [{}]", space_separated(vals)))
                    }
                    Err(e) => Outcome::Fail(format!("{expected}, got {e}")),
                },
            )
        }
        Command::AssertInvalid { module, message } => {
            step(expect_rejection(state, module, message, "invalid"))
        }
        Command::AssertMalformed { module, message } => {
            step(expect_rejection(state, module, message, "malformed"))
        }
        Command::AssertUnlinkable { module, message } => {
            step(expect_link_error(state, module, message))
        }
        Command::Skip { reason } => step(Outcome::Skip(reason.clone())),
    }
}

/// assert_unlinkable: the module compiles and its instantiation fails to link. The message is
/// compared but not required to match.
fn expect_link_error(state: &mut EngineState, module: &ModuleSource, message: &str) -> Outcome {
    let bytes = match module {
        ModuleSource::Bytes(b) => b,
        ModuleSource::TextError(e) => {
            return Outcome::Fail(format!("the module does not encode: {e}"));
        }
    };
    let s = session(state);
    let mid = match s.compile(bytes) {
        Ok(m) => m,
        Err(e) => {
            return Outcome::Fail(format!(
                "expected a link error {message:?}, but compilation failed: {e}"
            ));
        }
    };
    match s.instantiate(mid) {
        Ok(_) => Outcome::Fail(format!(
            "expected a link error {message:?}, but instantiation succeeded"
        )),
        Err(InstantiateError::Link(m)) => Outcome::Pass {
            note: note_unless_contains(&m, message),
        },
        Err(e) => Outcome::Fail(format!("expected a link error {message:?}, got {e}")),
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
