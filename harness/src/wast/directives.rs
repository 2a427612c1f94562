//! Parsing a `.wast` script into engine-neutral commands.
//!
//! The script is parsed once; every module is encoded to binary once. The resulting
//! [`Directive`]s own all their data, so the same directive is handed to every engine.

use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke};

use super::values::{self, Expected};
use crate::engine::Val;

/// A module as the engines receive it.
#[derive(Clone, Debug)]
pub enum ModuleSource {
    /// The binary encoding.
    Bytes(Vec<u8>),
    /// The text could not be parsed or encoded (for `module quote`, that is the text format's
    /// way of being malformed).
    TextError(String),
}

/// A call of an exported function.
#[derive(Clone, Debug)]
pub struct Invoke {
    pub module: Option<String>,
    pub name: String,
    /// `Err` when an argument has a form lockstep cannot represent.
    pub args: Result<Vec<Val>, String>,
}

/// What an assertion executes.
#[derive(Clone, Debug)]
pub enum Exec {
    Invoke(Invoke),
    Get {
        module: Option<String>,
        global: String,
    },
    /// Instantiate an anonymous module (`assert_trap (module ...)`, `assert_return (module ...)`).
    Instantiate(ModuleSource),
}

/// One engine-neutral command.
#[derive(Clone, Debug)]
pub enum Command {
    /// `module` (instantiate = true) or `module definition` (instantiate = false).
    Module {
        name: Option<String>,
        module: ModuleSource,
        instantiate: bool,
    },
    /// `module instance $I $M`.
    ModuleInstance {
        instance: Option<String>,
        module: Option<String>,
    },
    Register {
        name: String,
        module: Option<String>,
    },
    /// A bare `invoke` or `get`: it must not trap.
    Action(Exec),
    AssertReturn {
        exec: Exec,
        results: Vec<Expected>,
    },
    /// `assert_trap` on an invoke or on instantiation (also `assert_uninstantiable`).
    AssertTrap {
        exec: Exec,
        message: String,
    },
    AssertExhaustion {
        invoke: Invoke,
        message: String,
    },
    /// `assert_exception`: the call must end in an exception that nothing caught.
    AssertException {
        exec: Exec,
    },
    AssertInvalid {
        module: ModuleSource,
        message: String,
    },
    AssertMalformed {
        module: ModuleSource,
        message: String,
    },
    AssertUnlinkable {
        module: ModuleSource,
        message: String,
    },
    /// A directive lockstep's engines cannot run (threads, custom-section checks, components):
    /// reported as skipped with the reason, never passed.
    Skip {
        reason: String,
    },
}

/// A top-level directive of a script.
#[derive(Clone, Debug)]
pub struct Directive {
    /// 1-based line of the directive in the script.
    pub line: usize,
    /// The directive's keyword, e.g. `assert_return`.
    pub kind: &'static str,
    pub command: Command,
}

/// A script that could not be parsed at all.
#[derive(Clone, Debug)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

/// The legacy `assert_uninstantiable` has the shape of `assert_trap (module ...)`, which is what
/// it means in 2.0. The `wast` parser no longer knows it, so it is rewritten in place, padded to
/// the same length so every span and line stays where it was.
const UNINSTANTIABLE: &str = "(assert_uninstantiable";
const UNINSTANTIABLE_AS_TRAP: &str = "(assert_trap          ";

/// Parse and encode a whole script.
pub fn parse_script(text: &str) -> Result<Vec<Directive>, ScriptError> {
    let unfolded = super::legacy_try::unfold(text);
    let text = unfolded.as_deref().unwrap_or(text);
    let mut uninstantiable_offsets = Vec::new();
    let rewritten;
    let text = if text.contains(UNINSTANTIABLE) {
        uninstantiable_offsets = text.match_indices(UNINSTANTIABLE).map(|(i, _)| i).collect();
        rewritten = text.replace(UNINSTANTIABLE, UNINSTANTIABLE_AS_TRAP);
        rewritten.as_str()
    } else {
        text
    };

    let line_of = |span: Span| span.linecol_in(text).0 + 1;
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let to_err = |e: wast::Error| ScriptError {
        line: line_of(e.span()),
        message: e.message(),
    };
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(to_err)?;
    let script = parser::parse::<Wast<'_>>(&buf).map_err(to_err)?;

    Ok(script
        .directives
        .into_iter()
        .map(|d| {
            let span = d.span();
            let line = line_of(span);
            // The directive's span points at its keyword, just after the opening paren.
            let legacy = span.offset() > 0 && uninstantiable_offsets.contains(&(span.offset() - 1));
            let (mut kind, command) = convert(d);
            if legacy {
                kind = "assert_uninstantiable";
            }
            Directive {
                line,
                kind,
                command,
            }
        })
        .collect())
}

fn name(id: Option<Id<'_>>) -> Option<String> {
    id.map(|i| i.name().to_string())
}

fn encode(module: &mut QuoteWat<'_>) -> ModuleSource {
    if let QuoteWat::QuoteComponent(..) = module {
        return ModuleSource::TextError("components are not supported".to_string());
    }
    if let QuoteWat::Wat(wast::Wat::Component(_)) = module {
        return ModuleSource::TextError("components are not supported".to_string());
    }
    match module.encode() {
        Ok(bytes) => ModuleSource::Bytes(bytes),
        Err(e) => ModuleSource::TextError(e.message()),
    }
}

fn is_component(module: &QuoteWat<'_>) -> bool {
    matches!(
        module,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(wast::Wat::Component(_))
    )
}

fn invoke(i: WastInvoke<'_>) -> Invoke {
    Invoke {
        module: name(i.module),
        name: i.name.to_string(),
        args: i.args.iter().map(values::arg).collect(),
    }
}

fn exec(e: WastExecute<'_>) -> Exec {
    match e {
        WastExecute::Invoke(i) => Exec::Invoke(invoke(i)),
        WastExecute::Get { module, global, .. } => Exec::Get {
            module: name(module),
            global: global.to_string(),
        },
        WastExecute::Wat(w) => Exec::Instantiate(encode(&mut QuoteWat::Wat(w))),
    }
}

fn skip(kind: &'static str, reason: &str) -> (&'static str, Command) {
    (
        kind,
        Command::Skip {
            reason: reason.to_string(),
        },
    )
}

fn convert(d: WastDirective<'_>) -> (&'static str, Command) {
    match d {
        WastDirective::Module(mut m) => {
            if is_component(&m) {
                return skip("module", "components are not supported");
            }
            let kind = if matches!(m, QuoteWat::QuoteModule(..)) {
                "module quote"
            } else {
                "module"
            };
            (
                kind,
                Command::Module {
                    name: name(m.name()),
                    module: encode(&mut m),
                    instantiate: true,
                },
            )
        }
        WastDirective::ModuleDefinition(mut m) => {
            if is_component(&m) {
                return skip("module definition", "components are not supported");
            }
            (
                "module definition",
                Command::Module {
                    name: name(m.name()),
                    module: encode(&mut m),
                    instantiate: false,
                },
            )
        }
        WastDirective::ModuleInstance {
            instance, module, ..
        } => (
            "module instance",
            Command::ModuleInstance {
                instance: name(instance),
                module: name(module),
            },
        ),
        WastDirective::Register {
            name: n, module, ..
        } => (
            "register",
            Command::Register {
                name: n.to_string(),
                module: name(module),
            },
        ),
        WastDirective::Invoke(i) => ("invoke", Command::Action(Exec::Invoke(invoke(i)))),
        WastDirective::AssertReturn {
            exec: e, results, ..
        } => {
            if let WastExecute::Wat(wast::Wat::Component(_)) = e {
                return skip("assert_return", "components are not supported");
            }
            (
                "assert_return",
                Command::AssertReturn {
                    exec: exec(e),
                    results: results.iter().map(values::expected).collect(),
                },
            )
        }
        WastDirective::AssertTrap {
            exec: e, message, ..
        } => {
            if let WastExecute::Wat(wast::Wat::Component(_)) = e {
                return skip("assert_trap", "components are not supported");
            }
            (
                "assert_trap",
                Command::AssertTrap {
                    exec: exec(e),
                    message: message.to_string(),
                },
            )
        }
        WastDirective::AssertExhaustion { call, message, .. } => (
            "assert_exhaustion",
            Command::AssertExhaustion {
                invoke: invoke(call),
                message: message.to_string(),
            },
        ),
        WastDirective::AssertInvalid {
            mut module,
            message,
            ..
        } => {
            if is_component(&module) {
                return skip("assert_invalid", "components are not supported");
            }
            (
                "assert_invalid",
                Command::AssertInvalid {
                    module: encode(&mut module),
                    message: message.to_string(),
                },
            )
        }
        WastDirective::AssertMalformed {
            mut module,
            message,
            ..
        } => {
            if is_component(&module) {
                return skip("assert_malformed", "components are not supported");
            }
            (
                "assert_malformed",
                Command::AssertMalformed {
                    module: encode(&mut module),
                    message: message.to_string(),
                },
            )
        }
        WastDirective::AssertUnlinkable {
            module, message, ..
        } => {
            let mut module = QuoteWat::Wat(module);
            if is_component(&module) {
                return skip("assert_unlinkable", "components are not supported");
            }
            (
                "assert_unlinkable",
                Command::AssertUnlinkable {
                    module: encode(&mut module),
                    message: message.to_string(),
                },
            )
        }
        // Custom sections (name, branch hints, ...) are outside core validation: the engines
        // do not decode their contents, so nothing here could judge them.
        WastDirective::AssertInvalidCustom { .. } => skip(
            "assert_invalid_custom",
            "custom-section contents are not checked by lockstep's engines",
        ),
        WastDirective::AssertMalformedCustom { .. } => skip(
            "assert_malformed_custom",
            "custom-section contents are not checked by lockstep's engines",
        ),
        WastDirective::AssertException { exec: e, .. } => {
            if let WastExecute::Wat(wast::Wat::Component(_)) = e {
                return skip("assert_exception", "components are not supported");
            }
            (
                "assert_exception",
                Command::AssertException { exec: exec(e) },
            )
        }
        WastDirective::AssertSuspension { .. } => skip(
            "assert_suspension",
            "stack switching is not executed by lockstep's engines",
        ),
        WastDirective::Thread(_) => skip(
            "thread",
            "script threads (shared-memory concurrency) are not run by the harness",
        ),
        WastDirective::Wait { .. } => skip(
            "wait",
            "script threads (shared-memory concurrency) are not run by the harness",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_directive_kind_is_recognised() {
        let text = r#"
(module $M (func (export "f") (result i32) (i32.const 1)))
(module definition $D (func))
(module instance $I $D)
(register "m" $M)
(invoke "f")
(assert_return (get $M "g") (i32.const 1))
(assert_return (invoke "f") (i32.const 1))
(assert_trap (invoke "f") "unreachable")
(assert_exhaustion (invoke "f") "call stack exhausted")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
(assert_uninstantiable (module (func $f unreachable) (start $f)) "unreachable")
(assert_trap (module (func $f unreachable) (start $f)) "unreachable")
(module quote "(func)")
(module binary "\00asm\01\00\00\00")
"#;
        let ds = parse_script(text).unwrap();
        let kinds: Vec<_> = ds.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            vec![
                "module",
                "module definition",
                "module instance",
                "register",
                "invoke",
                "assert_return",
                "assert_return",
                "assert_trap",
                "assert_exhaustion",
                "assert_invalid",
                "assert_malformed",
                "assert_malformed",
                "assert_unlinkable",
                "assert_uninstantiable",
                "assert_trap",
                "module quote",
                "module",
            ]
        );
        let lines: Vec<_> = ds.iter().map(|d| d.line).collect();
        assert_eq!(lines, (2..=18).collect::<Vec<_>>());
        // The quoted module that does not parse stays a text error; the binary one encodes.
        match &ds[10].command {
            Command::AssertMalformed {
                module: ModuleSource::TextError(_),
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        match &ds[11].command {
            Command::AssertMalformed {
                module: ModuleSource::Bytes(b),
                ..
            } => assert_eq!(b, b"\0asm"),
            other => panic!("{other:?}"),
        }
        match &ds[0].command {
            Command::Module {
                name: Some(n),
                instantiate: true,
                module: ModuleSource::Bytes(_),
            } => assert_eq!(n, "M"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn directives_the_engines_cannot_run_are_kept_as_skips() {
        let text = r#"(module) (assert_exception (invoke "f")) (thread $T (invoke "f")) (wait $T)"#;
        let ds = parse_script(text).unwrap();
        assert!(matches!(ds[1].command, Command::AssertException { .. }));
        assert!(matches!(ds[2].command, Command::Skip { .. }));
        assert!(matches!(ds[3].command, Command::Skip { .. }));
    }

    #[test]
    fn syntax_errors_report_a_line() {
        let err = parse_script("(module)\n(assert_bogus)").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
