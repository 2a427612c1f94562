//! An engine that panics must not take the run down: the panic is a failure of that directive,
//! the rest of that engine's file is skipped, and other engines and files carry on.

use lockstep_harness::diff::Rules;
use lockstep_harness::engine::{
    CompileError, Engine, InstanceId, InstantiateError, InvokeError, ModuleId, Session, Val,
    WasmFeatures,
};
use lockstep_harness::engines::oracle::OracleEngine;
use lockstep_harness::lockstep::{CaseVerdict, Lockstep, NotInstantiated};
use lockstep_harness::suite::{features_2_0, features_3_0};
use lockstep_harness::wast::run_script;

/// Compiles everything, panics on instantiation.
struct Panicky;
struct PanickySession;

impl Engine for Panicky {
    fn name(&self) -> &'static str {
        "panicky"
    }
    fn supported_features(&self) -> WasmFeatures {
        features_2_0()
    }
    fn new_session(&self, _features: WasmFeatures) -> Box<dyn Session> {
        Box::new(PanickySession)
    }
}

impl Session for PanickySession {
    fn compile(&mut self, _bytes: &[u8]) -> Result<ModuleId, CompileError> {
        Ok(ModuleId(0))
    }
    fn instantiate(&mut self, _module: ModuleId) -> Result<InstanceId, InstantiateError> {
        panic!("boom in instantiate")
    }
    fn register(&mut self, _name: &str, _instance: InstanceId) {}
    fn invoke(&mut self, _: InstanceId, _: &str, _: &[Val]) -> Result<Vec<Val>, InvokeError> {
        unreachable!()
    }
    fn get_global(&mut self, _: InstanceId, _: &str) -> Result<Val, String> {
        unreachable!()
    }
}

#[test]
fn a_panic_is_a_failure_and_the_rest_is_skipped() {
    let text = r#"(assert_invalid (module (func (result i32))) "type mismatch")
(module (func (export "f") (result i32) (i32.const 1)))
(assert_return (invoke "f") (i32.const 1))
(assert_return (invoke "f") (i32.const 1))"#;
    let oracle = OracleEngine::default();
    let panicky = Panicky;
    let engines: [&dyn Engine; 2] = [&panicky, &oracle];
    let r = run_script("p.wast", text, &engines, features_2_0());

    let p = &r.engines[0];
    assert_eq!(p.engine, "panicky");
    // The panicky engine compiles the invalid module: that is a failure of its own.
    assert_eq!((p.passed, p.failed, p.skipped), (0, 2, 2), "{p:#?}");
    assert_eq!(p.failures[1].line, 2);
    assert!(
        p.failures[1].message.contains("boom in instantiate"),
        "{}",
        p.failures[1].message
    );

    let o = &r.engines[1];
    assert_eq!((o.passed, o.failed, o.skipped), (4, 0, 0), "{o:#?}");
}

/// Where the reference runs out of heap instantiating a module, the case is inconclusive and
/// the other engines compile it but are not asked to instantiate it (which cost the campaign
/// hundreds of milliseconds per such case); elsewhere their instantiation still runs, and a
/// panic in it is still the verdict.
#[test]
fn after_the_references_exhaustion_the_others_do_not_instantiate() {
    let verdict = |wat: &str| {
        let wasm = wat::parse_str(wat).unwrap();
        let oracle = OracleEngine::default();
        let engines: [&dyn Engine; 2] = [&oracle, &Panicky];
        match Lockstep::instantiate(&engines, features_3_0(), &wasm, Rules::default()) {
            Err(NotInstantiated::Verdict(v)) => v,
            Err(NotInstantiated::TrappedEverywhere) => panic!("trapped everywhere"),
            Ok(_) => panic!("instantiated"),
        }
    };
    // One element past the oracle's longest array (2^24 elements).
    let exhausted = verdict(
        r#"(module (type $a (array i8))
             (global (ref $a) (array.new_default $a (i32.const 0x1000001))))"#,
    );
    let CaseVerdict::Inconclusive(message) = &exhausted else {
        panic!("{exhausted:?}")
    };
    assert!(message.contains("not instantiated"), "{message}");
    // At the limit the oracle instantiates, and so is the other engine asked to (and panics).
    let at_limit = verdict(
        r#"(module (type $a (array i8))
             (global (ref $a) (array.new_default $a (i32.const 0x1000000))))"#,
    );
    assert!(
        matches!(&at_limit, CaseVerdict::Panicked { engine, message }
            if engine == "panicky" && message.contains("boom in instantiate")),
        "{at_limit:?}"
    );
}
