//! Each directive kind, run on the oracle: the right expectation passes, a wrong one fails.

use lockstep_harness::engine::{
    AnyRef, CompileError, Engine, ExnRefId, HeapRefId, InstanceId, InstantiateError, InvokeError,
    ModuleId, Session, Val, WasmFeatures,
};
use lockstep_harness::engines::oracle::OracleEngine;
use lockstep_harness::suite::{features_2_0, features_3_0};
use lockstep_harness::wast::{EngineFileResult, run_script};

fn run(text: &str) -> EngineFileResult {
    let engine = OracleEngine::default();
    let engines: [&dyn Engine; 1] = [&engine];
    let mut r = run_script("test.wast", text, &engines, features_2_0());
    assert_eq!(r.engines.len(), 1);
    r.engines.remove(0)
}

/// Every directive passes.
#[track_caller]
fn passes(text: &str, directives: usize) {
    let r = run(text);
    assert!(
        r.failures.is_empty(),
        "unexpected failures: {:#?}",
        r.failures
    );
    assert_eq!(r.passed, directives, "{r:#?}");
    assert_eq!(r.skipped, 0);
}

/// Exactly the directives on `lines` fail; the rest pass.
#[track_caller]
fn fails_at(text: &str, lines: &[usize]) -> EngineFileResult {
    let r = run(text);
    let got: Vec<usize> = r.failures.iter().map(|f| f.line).collect();
    assert_eq!(got, lines, "{:#?}", r.failures);
    assert_eq!(r.failed, lines.len());
    r
}

const ADD: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "nan64") (result f64) (f64.const nan:0xc000000000000))
  (func (export "two") (result i32 i64) (i32.const 1) (i64.const -1))
  (global (export "g") i32 (i32.const 42))
  (func $loop (export "loop") (call $loop)))
"#;

#[test]
fn module_and_assert_return() {
    passes(
        &format!(
            "{ADD}\n(assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i32.const 3))\n\
             (assert_return (invoke \"two\") (i32.const 1) (i64.const -1))"
        ),
        3,
    );
}

#[test]
fn wrong_expectation_is_a_failure() {
    // Line 9 expects 4 from 1 + 2.
    let r = fails_at(
        &format!(
            "{ADD}(assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i32.const 4))\n\
             (assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i32.const 3))"
        ),
        &[9],
    );
    assert_eq!(r.failures[0].directive, "assert_return");
    assert!(
        r.failures[0]
            .message
            .contains("expected [i32:4], got [i32:3]"),
        "{}",
        r.failures[0].message
    );
    // Wrong arity and wrong type are failures too.
    fails_at(
        &format!("{ADD}(assert_return (invoke \"two\") (i32.const 1))"),
        &[9],
    );
    fails_at(
        &format!("{ADD}(assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i64.const 3))"),
        &[9],
    );
}

#[test]
fn nan_patterns() {
    passes(
        &format!(
            "{ADD}(assert_return (invoke \"nan\") (f32.const nan:canonical))\n\
             (assert_return (invoke \"nan\") (f32.const nan:arithmetic))\n\
             (assert_return (invoke \"nan64\") (f64.const nan:arithmetic))\n\
             (assert_return (invoke \"nan64\") (f64.const nan:0xc000000000000))"
        ),
        5,
    );
    // An arithmetic NaN that is not canonical does not match nan:canonical; exact NaN bits differ.
    fails_at(
        &format!(
            "{ADD}(assert_return (invoke \"nan64\") (f64.const nan:canonical))\n\
             (assert_return (invoke \"nan64\") (f64.const nan:0x8000000000000))"
        ),
        &[9, 10],
    );
}

#[test]
fn either() {
    passes(
        &format!(
            "{ADD}(assert_return (invoke \"add\" (i32.const 1) (i32.const 1)) (either (i32.const 1) (i32.const 2)))"
        ),
        2,
    );
    fails_at(
        &format!(
            "{ADD}(assert_return (invoke \"add\" (i32.const 1) (i32.const 1)) (either (i32.const 1) (i32.const 3)))"
        ),
        &[9],
    );
}

#[test]
fn get_and_invoke() {
    passes(
        &format!(
            "{ADD}(assert_return (get \"g\") (i32.const 42))\n(invoke \"add\" (i32.const 1) (i32.const 1))"
        ),
        3,
    );
    fails_at(
        &format!("{ADD}(assert_return (get \"g\") (i32.const 41))"),
        &[9],
    );
    // A bare invoke that traps fails; so does an invoke of a missing export.
    fails_at(
        &format!("{ADD}(invoke \"div\" (i32.const 1) (i32.const 0))\n(invoke \"nope\")"),
        &[9, 10],
    );
}

#[test]
fn assert_trap_on_invoke() {
    passes(
        &format!(
            "{ADD}(assert_trap (invoke \"div\" (i32.const 1) (i32.const 0)) \"integer divide by zero\")"
        ),
        2,
    );
    // Wrong message, and no trap at all.
    fails_at(
        &format!(
            "{ADD}(assert_trap (invoke \"div\" (i32.const 1) (i32.const 0)) \"integer overflow\")\n\
             (assert_trap (invoke \"div\" (i32.const 1) (i32.const 1)) \"integer divide by zero\")"
        ),
        &[9, 10],
    );
}

#[test]
fn assert_trap_on_instantiation_keeps_side_effects() {
    let text = r#"(module $M
  (memory (export "mem") 1)
  (table (export "tab") 2 funcref)
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
(register "M" $M)
(assert_trap
  (module
    (memory (import "M" "mem") 1)
    (data (i32.const 0) "a")
    (data (i32.const 0x10000) "b"))
  "out of bounds memory access")
(assert_return (invoke $M "load" (i32.const 0)) (i32.const 97))
(assert_trap (module (func $f unreachable) (start $f)) "unreachable")
"#;
    passes(text, 5);
    fails_at(
        "(assert_trap (module (func $f) (start $f)) \"unreachable\")",
        &[1],
    );
}

#[test]
fn assert_exhaustion() {
    passes(
        &format!("{ADD}(assert_exhaustion (invoke \"loop\") \"call stack exhausted\")"),
        2,
    );
    fails_at(
        &format!(
            "{ADD}(assert_exhaustion (invoke \"add\" (i32.const 1) (i32.const 2)) \"call stack exhausted\")"
        ),
        &[9],
    );
}

#[test]
fn assert_invalid() {
    passes(
        r#"(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")"#,
        1,
    );
    // The message need not match, but the error must happen.
    let r = run(r#"(assert_invalid (module (func (result i32) (i64.const 0))) "something else")"#);
    assert_eq!((r.passed, r.failed, r.message_mismatches.len()), (1, 0, 1));
    assert_eq!(r.message_mismatches[0].line, 1);
    fails_at(
        r#"(assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")"#,
        &[1],
    );
}

#[test]
fn assert_malformed_binary_and_quote() {
    passes(
        r#"(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module quote "(func (i32.const 0x))") "unknown operator")
(assert_malformed (module quote "(module (func (result i32) i32.const 0) (func $f) (func $f))") "duplicate func")"#,
        3,
    );
    fails_at(
        r#"(assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end")
(assert_malformed (module quote "(func)") "unexpected token")"#,
        &[1, 2],
    );
}

#[test]
fn module_quote_binary_and_named() {
    passes(
        r#"(module quote "(func (export \"f\") (result i32) (i32.const 7))")
(assert_return (invoke "f") (i32.const 7))
(module $B binary "\00asm\01\00\00\00")
(module $A (func (export "f") (result i32) (i32.const 8)))
(assert_return (invoke $A "f") (i32.const 8))
(assert_return (invoke "f") (i32.const 8))"#,
        6,
    );
    // Invoking an unknown module name fails; so does a module that does not validate.
    fails_at(
        r#"(module $A (func (export "f")))
(invoke $Z "f")
(module (func (result i32)))"#,
        &[2, 3],
    );
}

#[test]
fn module_definition_and_instance() {
    passes(
        r#"(module definition $D
  (global $g (mut i32) (i32.const 0))
  (func (export "inc") (result i32) (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g)))
(module instance $I1 $D)
(module instance $I2 $D)
(assert_return (invoke $I1 "inc") (i32.const 1))
(assert_return (invoke $I1 "inc") (i32.const 2))
(assert_return (invoke $I2 "inc") (i32.const 1))"#,
        6,
    );
}

#[test]
fn register_and_spectest_imports() {
    passes(
        r#"(module $M (func (export "f") (result i32) (i32.const 5)) (global (export "g") (mut i32) (i32.const 1)))
(register "m" $M)
(module
  (import "m" "f" (func $f (result i32)))
  (import "spectest" "print_i32" (func $p (param i32)))
  (import "spectest" "global_i32" (global $gi i32))
  (import "spectest" "global_f64" (global $gf f64))
  (import "spectest" "table" (table 10 20 funcref))
  (import "spectest" "memory" (memory 1 2))
  (func (export "call") (result i32) (call $p (i32.const 0)) (call $f))
  (func (export "gi") (result i32) (global.get $gi))
  (func (export "gf") (result f64) (global.get $gf))
  (func (export "size") (result i32) (memory.size)))
(assert_return (invoke "call") (i32.const 5))
(assert_return (invoke "gi") (i32.const 666))
(assert_return (invoke "gf") (f64.const 666.6))
(assert_return (invoke "size") (i32.const 1))"#,
        7,
    );
}

#[test]
fn assert_unlinkable() {
    passes(
        r#"(assert_unlinkable (module (import "nowhere" "f" (func))) "unknown import")
(assert_unlinkable (module (import "spectest" "nothing" (func))) "unknown import")
(assert_unlinkable (module (import "spectest" "global_i32" (global i64))) "incompatible import type")"#,
        3,
    );
    fails_at(
        r#"(assert_unlinkable (module (import "spectest" "print" (func))) "unknown import")"#,
        &[1],
    );
}

#[test]
fn assert_uninstantiable_is_an_instantiation_trap() {
    let r =
        run(r#"(assert_uninstantiable (module (func $f unreachable) (start $f)) "unreachable")"#);
    assert_eq!((r.passed, r.failed), (1, 0));
    let r = run(r#"(assert_uninstantiable (module (func $f) (start $f)) "unreachable")"#);
    assert_eq!(r.failures[0].directive, "assert_uninstantiable");
}

#[test]
fn references() {
    passes(
        r#"(module
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "null") (result funcref) (ref.null func))
  (func (export "fn") (result funcref) (ref.func 0))
  (func (export "is_null") (param funcref) (result i32) (ref.is_null (local.get 0)))
  (elem declare func 0))
(assert_return (invoke "id" (ref.extern 3)) (ref.extern 3))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "null") (ref.null func))
(assert_return (invoke "fn") (ref.func))
(assert_return (invoke "is_null" (ref.null func)) (i32.const 1))"#,
        6,
    );
    fails_at(
        r#"(module
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "fn") (result funcref) (ref.func 0))
  (elem declare func 0))
(assert_return (invoke "id" (ref.extern 3)) (ref.extern 4))
(assert_return (invoke "fn") (ref.null func))
(assert_return (invoke "id" (ref.extern 1)) (ref.null extern))"#,
        &[5, 6, 7],
    );
}

#[test]
fn assert_exception_fails_when_the_call_returns() {
    let r = fails_at(
        r#"(module (func (export "f")))
(assert_exception (invoke "f"))"#,
        &[2],
    );
    assert!(
        r.failures[0]
            .message
            .contains("expected an uncaught exception"),
        "{}",
        r.failures[0].message
    );
}

#[test]
fn directives_the_engines_cannot_run_are_skipped_with_a_reason() {
    let r = run(r#"(module (func (export "f")))
(thread $T (invoke "f"))
(wait $T)
(assert_malformed_custom (module binary "\00asm\01\00\00\00") "x")
(invoke "f")"#);
    assert_eq!((r.passed, r.failed, r.skipped), (2, 0, 3), "{r:#?}");
    let skipped: Vec<(usize, &str)> = r
        .skips
        .iter()
        .map(|k| (k.line, k.directive.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![(2, "thread"), (3, "wait"), (4, "assert_malformed_custom")]
    );
    assert!(r.skips.iter().all(|k| !k.message.is_empty()));
}

/// A stand-in engine whose exports return fixed 3.0 values, so the result patterns and the
/// cross-engine rules can be tested before the real engines produce those values. `ids` offsets
/// every identity it hands out, as two real engines' ids would differ; `i31` is the payload of
/// its `i31` export.
struct Fixed {
    name: &'static str,
    ids: u64,
    i31: u32,
    features: WasmFeatures,
}

struct FixedSession {
    ids: u64,
    i31: u32,
}

impl Engine for Fixed {
    fn name(&self) -> &'static str {
        self.name
    }
    fn supported_features(&self) -> WasmFeatures {
        self.features
    }
    fn new_session(&self, _: WasmFeatures) -> Box<dyn Session> {
        Box::new(FixedSession {
            ids: self.ids,
            i31: self.i31,
        })
    }
}

impl Session for FixedSession {
    fn compile(&mut self, _: &[u8]) -> Result<ModuleId, CompileError> {
        Ok(ModuleId(0))
    }
    fn instantiate(&mut self, _: ModuleId) -> Result<InstanceId, InstantiateError> {
        Ok(InstanceId(0))
    }
    fn register(&mut self, _: &str, _: InstanceId) {}
    fn invoke(
        &mut self,
        _: InstanceId,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError> {
        let id = HeapRefId(self.ids);
        Ok(vec![match export {
            "i31" => Val::AnyRef(Some(AnyRef::I31(self.i31))),
            "struct" => Val::AnyRef(Some(AnyRef::Struct(id))),
            "array" => Val::AnyRef(Some(AnyRef::Array(id))),
            "externalized" => Val::externalize(Some(AnyRef::Struct(id))),
            "exn" => Val::ExnRef(Some(ExnRefId(self.ids))),
            "throw" => {
                return Err(InvokeError::Exception {
                    payload: vec![Val::I32(7)],
                });
            }
            // Echo the argument: nulls of every hierarchy and host values round-trip.
            "id" => args[0],
            "internalize" => match args[0].internalize() {
                Some(any) => Val::AnyRef(any),
                None => return Err(InvokeError::Other("not an externref".to_string())),
            },
            "externalize" => match args[0] {
                Val::AnyRef(any) => Val::externalize(any),
                _ => return Err(InvokeError::Other("not an anyref".to_string())),
            },
            _ => return Err(InvokeError::Other(format!("no export {export:?}"))),
        }])
    }
    fn get_global(&mut self, _: InstanceId, export: &str) -> Result<Val, String> {
        Err(format!("no global {export:?}"))
    }
}

fn fixed(name: &'static str, ids: u64, i31: u32) -> Fixed {
    Fixed {
        name,
        ids,
        i31,
        features: features_3_0(),
    }
}

/// The module the stand-in "runs": its exports only name the calls (the stand-in ignores it).
const GC_EXPORTS: &str = r#"(module
  (type $s (struct))
  (func (export "i31") (result i31ref) (ref.i31 (i32.const 5)))
  (func (export "struct") (result structref) (struct.new $s)))
"#;

fn run_fixed(text: &str, engines: &[&dyn Engine]) -> Vec<EngineFileResult> {
    run_script("gc.wast", text, engines, features_3_0()).engines
}

#[test]
fn gc_result_patterns() {
    let e = fixed("fixed", 1, 5);
    let text = format!(
        r#"{GC_EXPORTS}
(assert_return (invoke "i31") (ref.i31))
(assert_return (invoke "i31") (ref.eq))
(assert_return (invoke "i31") (ref.any))
(assert_return (invoke "struct") (ref.struct))
(assert_return (invoke "struct") (ref.eq))
(assert_return (invoke "array") (ref.array))
(assert_return (invoke "externalized") (ref.extern))
(assert_return (invoke "id" (ref.host 3)) (ref.host 3))
(assert_return (invoke "id" (ref.host 3)) (ref.any))
(assert_return (invoke "internalize" (ref.extern 4)) (ref.host 4))
(assert_return (invoke "externalize" (ref.host 2)) (ref.extern 2))
(assert_return (invoke "id" (ref.null any)) (ref.null none))
(assert_return (invoke "id" (ref.null struct)) (ref.null any))
(assert_return (invoke "id" (ref.null noexn)) (ref.null exn))
(assert_return (invoke "id" (ref.null nofunc)) (ref.null func))
(assert_return (invoke "id" (ref.null none)) (ref.null))
(assert_return (invoke "i31") (either (ref.null) (ref.i31)))
(assert_exception (invoke "throw"))"#
    );
    let r = &run_fixed(&text, &[&e])[0];
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert_eq!(r.passed, 19);

    // Each pattern rejects the kinds it does not name.
    let text = format!(
        r#"{GC_EXPORTS}
(assert_return (invoke "i31") (ref.struct))
(assert_return (invoke "struct") (ref.array))
(assert_return (invoke "struct") (ref.i31))
(assert_return (invoke "id" (ref.host 3)) (ref.eq))
(assert_return (invoke "id" (ref.host 3)) (ref.host 4))
(assert_return (invoke "externalized") (ref.extern 1))
(assert_return (invoke "externalized") (ref.any))
(assert_return (invoke "id" (ref.null any)) (ref.null func))
(assert_return (invoke "id" (ref.null exn)) (ref.null extern))
(assert_return (invoke "id" (ref.null extern)) (ref.null none))
(assert_return (invoke "exn") (ref.null exn))
(assert_exception (invoke "i31"))"#
    );
    let r = &run_fixed(&text, &[&e])[0];
    let lines: Vec<usize> = r.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, (6..=17).collect::<Vec<_>>(), "{:#?}", r.failures);
}

#[test]
fn references_compare_across_engines_by_shape_not_identity() {
    // Different ids for "the same" struct, array and exception: no divergence.
    let (a, b) = (fixed("a", 1, 5), fixed("b", 99, 5));
    let text = format!(
        r#"{GC_EXPORTS}
(invoke "struct")
(invoke "array")
(invoke "externalized")
(invoke "exn")
(invoke "i31")
(assert_exception (invoke "throw"))"#
    );
    let r = run_fixed(&text, &[&a, &b]);
    assert_eq!((r[1].divergences, r[1].failed), (0, 0), "{:#?}", r[1]);
    // A different i31 payload is a divergence even where the script asserts nothing specific.
    let c = fixed("c", 1, 6);
    let r = run_fixed(&text, &[&a, &c]);
    assert_eq!(r[1].divergences, 1, "{:#?}", r[1]);
    assert_eq!(r[1].failures[0].line, 10, "{:#?}", r[1].failures);
}

#[test]
fn an_engine_sits_out_a_file_that_needs_a_feature_it_does_not_execute() {
    let full = fixed("full", 1, 5);
    let partial = Fixed {
        features: features_2_0(),
        ..fixed("partial", 1, 5)
    };
    let text = format!("{GC_EXPORTS}(assert_return (invoke \"i31\") (ref.i31))");
    let r = run_fixed(&text, &[&full, &partial]);
    assert_eq!(
        (r[0].passed, r[0].sat_out.as_deref()),
        (2, None),
        "{:#?}",
        r[0]
    );
    let reason = r[1].sat_out.as_deref().expect("sat out");
    assert!(reason.contains("gc"), "{reason}");
    assert_eq!((r[1].passed, r[1].failed, r[1].skipped), (0, 0, 0));
    // A file of 2.0 modules runs on both.
    let r = run_fixed(
        "(module (func (export \"i31\")))\n(invoke \"i31\")",
        &[&full, &partial],
    );
    assert!(
        r.iter().all(|e| e.sat_out.is_none() && e.passed == 2),
        "{r:#?}"
    );
}

#[test]
fn a_script_that_does_not_parse_fails() {
    let r = run("(module)\n(assert_return (invoke \"f\" (i32.const)))");
    assert_eq!(r.failed, 1);
    assert_eq!(r.failures[0].line, 2);
    assert_eq!(r.failures[0].directive, "script");
}

/// Every directive and value form of the upstream testsuite checkout beside the repository
/// (when present) is understood: each script parses, no result pattern or argument is
/// unsupported, and the only skipped directives are the ones engines cannot run (script
/// threads, custom-section contents).
#[test]
fn the_upstream_testsuite_uses_only_forms_the_harness_knows() {
    use lockstep_harness::wast::directives::{Command, Exec, parse_script};
    use lockstep_harness::wast::values::Expected;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite");
    let Ok(suite) = lockstep_harness::suite::Testsuite::open(&root) else {
        eprintln!("not checked: no testsuite checkout at {}", root.display());
        return;
    };
    fn unsupported(e: &Expected) -> bool {
        match e {
            Expected::Unsupported(_) => true,
            Expected::Either(alts) => alts.iter().any(unsupported),
            _ => false,
        }
    }
    let mut files = 0;
    for (path, file) in suite.groups.iter().flat_map(|g| &g.files) {
        files += 1;
        let text = std::fs::read_to_string(file).unwrap();
        let directives =
            parse_script(&text).unwrap_or_else(|e| panic!("{path}:{}: {}", e.line, e.message));
        for d in directives {
            let at = format!("{path}:{}", d.line);
            let invoke_args = |exec: &Exec| match exec {
                Exec::Invoke(i) => i.args.clone().map(|_| ()),
                _ => Ok(()),
            };
            match &d.command {
                Command::Skip { reason } => assert!(
                    matches!(
                        d.kind,
                        "thread" | "wait" | "assert_malformed_custom" | "assert_invalid_custom"
                    ),
                    "{at}: {} skipped: {reason}",
                    d.kind
                ),
                Command::AssertReturn { exec, results } => {
                    assert!(!results.iter().any(unsupported), "{at}: {results:?}");
                    invoke_args(exec).unwrap_or_else(|e| panic!("{at}: {e}"));
                }
                Command::Action(exec)
                | Command::AssertTrap { exec, .. }
                | Command::AssertException { exec } => {
                    invoke_args(exec).unwrap_or_else(|e| panic!("{at}: {e}"))
                }
                Command::AssertExhaustion { invoke, .. } => {
                    if let Err(e) = &invoke.args {
                        panic!("{at}: {e}");
                    }
                }
                _ => {}
            }
        }
    }
    assert!(files > 250, "{files}");
}
