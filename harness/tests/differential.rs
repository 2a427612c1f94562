//! Cross-engine comparison in the wast runner (`--engine all`), with a deliberately skewed
//! engine: a wrapper around the oracle that gets chosen exports wrong, or takes no snapshots.

use lockstep_harness::engine::{
    CompileError, Engine, InstanceId, InstantiateError, InvokeError, ModuleId, Session, Snapshot,
    Trap, TrapCode, Val, WasmFeatures,
};
use lockstep_harness::engines::oracle::OracleEngine;
use lockstep_harness::suite::features_2_0;
use lockstep_harness::wast::{FileResult, run_script};

/// The oracle, except that:
/// - `skew_result` returns its i32 result plus one;
/// - `skew_trap` traps with "integer overflow" instead of whatever it did;
/// - `skew_memory` flips byte 100 of the exported memory `mem` after the call (in snapshots);
/// - `skew_global` reports the exported global `g` plus one after the call (in snapshots);
/// - with `snapshots: false`, it takes no snapshots at all.
struct Skewed {
    snapshots: bool,
}

struct SkewedSession {
    inner: Box<dyn Session>,
    snapshots: bool,
    memory_flipped: bool,
    global_skewed: bool,
}

impl Engine for Skewed {
    fn name(&self) -> &'static str {
        "skewed"
    }
    fn supported_features(&self) -> WasmFeatures {
        OracleEngine::default().supported_features()
    }
    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        Box::new(SkewedSession {
            inner: OracleEngine::default().new_session(features),
            snapshots: self.snapshots,
            memory_flipped: false,
            global_skewed: false,
        })
    }
}

impl Session for SkewedSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        self.inner.compile(bytes)
    }
    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        self.inner.instantiate(module)
    }
    fn register(&mut self, name: &str, instance: InstanceId) {
        self.inner.register(name, instance)
    }
    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError> {
        let r = self.inner.invoke(instance, export, args);
        match export {
            "skew_result" => r.map(|v| {
                v.into_iter()
                    .map(|x| match x {
                        Val::I32(n) => Val::I32(n.wrapping_add(1)),
                        other => other,
                    })
                    .collect()
            }),
            "skew_trap" => Err(InvokeError::Trap(Trap {
                code: TrapCode::IntegerOverflow,
                message: "integer overflow".to_string(),
            })),
            "skew_memory" => {
                self.memory_flipped = true;
                r
            }
            "skew_global" => {
                self.global_skewed = true;
                r
            }
            _ => r,
        }
    }
    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        self.inner.get_global(instance, export)
    }
    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        if !self.snapshots {
            return Err("this engine does not take snapshots".to_string());
        }
        let mut s = self.inner.snapshot(instance)?;
        if self.memory_flipped {
            for (name, bytes) in &mut s.memories {
                if name == "mem" {
                    bytes[100] ^= 0xff;
                }
            }
        }
        if self.global_skewed {
            for (name, v) in &mut s.globals {
                if let (true, Val::I32(n)) = (name == "g", *v) {
                    *v = Val::I32(n + 1);
                }
            }
        }
        Ok(s)
    }
}

const MODULE: &str = r#"(module
  (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "ok") (param i32) (result i32) (local.get 0))
  (func (export "skew_result") (param i32) (result i32) (local.get 0))
  (func (export "skew_trap") (result i32) (i32.const 1))
  (func (export "skew_memory"))
  (func (export "skew_global"))
  (func $rec (export "rec") (result i32) (call $rec))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0))))
"#;

fn run(snapshots: bool, body: &str) -> FileResult {
    let oracle = OracleEngine::default();
    let skewed = Skewed { snapshots };
    let engines: [&dyn Engine; 2] = [&oracle, &skewed];
    run_script(
        "t.wast",
        &format!("{MODULE}{body}"),
        &engines,
        features_2_0(),
    )
}

#[test]
fn agreement_passes() {
    let r = run(
        true,
        r#"(assert_return (invoke "ok" (i32.const 3)) (i32.const 3))
           (invoke "ok" (i32.const 4))
           (assert_return (invoke "nan") (f32.const nan:canonical))"#,
    );
    for e in &r.engines {
        assert_eq!((e.passed, e.failed, e.divergences), (4, 0, 0), "{e:#?}");
    }
}

#[test]
fn a_divergence_fails_even_without_an_assertion() {
    let r = run(true, r#"(invoke "skew_result" (i32.const 1))"#);
    let (o, s) = (&r.engines[0], &r.engines[1]);
    assert_eq!((o.failed, o.divergences), (0, 0), "{o:#?}");
    assert_eq!((s.failed, s.divergences), (1, 1), "{s:#?}");
    assert!(
        s.failures[0].message.contains("diverges from oracle"),
        "{s:#?}"
    );
}

#[test]
fn the_reference_is_blamed_when_only_it_fails_the_script() {
    // The script expects what the skewed engine returns: the oracle fails the assertion.
    let r = run(
        true,
        r#"(assert_return (invoke "skew_result" (i32.const 1)) (i32.const 2))"#,
    );
    assert_eq!(r.engines[0].divergences, 1, "{r:#?}");
    assert_eq!(r.engines[1].failed, 0, "{r:#?}");
}

#[test]
fn trap_codes_are_compared() {
    let r = run(true, r#"(invoke "skew_trap")"#);
    // The skewed engine fails the call itself too (unexpected trap); still one failure.
    assert_eq!((r.engines[1].failed, r.engines[1].divergences), (1, 1));
}

#[test]
fn state_is_compared_after_each_call() {
    let r = run(true, r#"(invoke "skew_memory")"#);
    let s = &r.engines[1];
    assert_eq!((s.failed, s.divergences), (1, 1), "{s:#?}");
    assert!(s.failures[0].message.contains("0x64..0x65"), "{s:#?}");
    let r = run(true, r#"(invoke "skew_global")"#);
    let s = &r.engines[1];
    assert_eq!((s.failed, s.divergences), (1, 1), "{s:#?}");
    assert!(s.failures[0].message.contains("global \"g\""), "{s:#?}");
}

#[test]
fn exhaustion_is_inconclusive() {
    let r = run(
        true,
        r#"(assert_exhaustion (invoke "rec") "call stack exhausted")"#,
    );
    assert_eq!(r.engines[1].inconclusive, 1);
    assert_eq!(r.engines[1].failed, 0);
}

#[test]
fn missing_snapshots_are_noted_not_passed_silently() {
    let r = run(false, r#"(invoke "skew_memory")"#);
    let s = &r.engines[1];
    assert_eq!(s.failed, 0);
    assert_eq!(s.state_unavailable, 1);
    assert!(
        s.state_note
            .as_deref()
            .is_some_and(|n| n.contains("no snapshot from skewed")),
        "{s:#?}"
    );
}

/// `i8x16.relaxed_swizzle` with lane indices 0x10 (out of range, but without the top bit): the
/// oracle's deterministic choice gives 0, x86's `pshufb` (the runtime's native lowering) reads
/// lane 0 modulo 16. Both are permitted.
const RELAXED: &str = r#"
  (module (func (export "swz") (param v128 v128) (result v128)
    (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))
"#;

fn run_relaxed(assertion: &str) -> FileResult {
    let oracle = OracleEngine::default();
    let runtime = lockstep_harness::engines::runtime::engine();
    let engines: [&dyn Engine; 2] = [&oracle, runtime.as_ref()];
    run_script(
        "relaxed.wast",
        &format!("{RELAXED}{assertion}"),
        &engines,
        lockstep_harness::suite::features_3_0(),
    )
}

#[cfg(target_arch = "x86_64")]
#[test]
fn relaxed_simd_differences_within_the_scripts_either_are_permitted() {
    let call = r#"(invoke "swz" (v128.const i8x16 7 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
                               (v128.const i8x16 16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0))"#;
    let either = format!(
        "(assert_return {call} (either (v128.const i8x16 0 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7)
                                       (v128.const i8x16 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7)))"
    );
    let r = run_relaxed(&either);
    let rt = &r.engines[1];
    assert_eq!(
        (rt.failed, rt.divergences, rt.relaxed_permitted),
        (0, 0, 1),
        "{r:#?}"
    );

    // A result the script does not permit is still a divergence.
    let strict =
        format!("(assert_return {call} (v128.const i8x16 0 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7))");
    let r = run_relaxed(&strict);
    let rt = &r.engines[1];
    assert_eq!(
        (rt.failed, rt.divergences, rt.relaxed_permitted),
        (1, 1, 0),
        "{r:#?}"
    );
}
