//! `--canonicalize-nans` on lockstep's own engines: with every engine canonicalizing, runs
//! compare NaN bits exactly and NaN-heavy modules still agree bit for bit.
//!
//! `cargo test --release -p lockstep-harness --test canonical_nans`

use std::time::Duration;

use lockstep_harness::engine::{Engine, Session, WasmFeatures};
use lockstep_harness::engines::{self, Parity, oracle::OracleEngine};
use lockstep_harness::features::Features;
use lockstep_harness::fuzz::{self, FuzzOptions};
use lockstep_harness::wast::run_script;

const CANONICAL: Parity = Parity {
    canonicalize_nans: true,
};

/// Float arithmetic on NaNs with payloads, scalar and vector, results left as floats (where
/// NaNs are compared by the NaN rule, not as bits).
const SCRIPT: &str = r#"(module
  (func (export "f32.add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "f64.mul") (param f64 f64) (result f64) (f64.mul (local.get 0) (local.get 1)))
  (func (export "f32.sqrt") (param f32) (result f32) (f32.sqrt (local.get 0)))
  (func (export "f64.floor") (param f64) (result f64) (f64.floor (local.get 0)))
  (func (export "f32.max") (param f32 f32) (result f32) (f32.max (local.get 0) (local.get 1)))
  (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
  (func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
  (func (export "f32.neg") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "f32x4.div") (param v128 v128) (result v128) (f32x4.div (local.get 0) (local.get 1)))
  (func (export "f64x2.nearest") (param v128) (result v128) (f64x2.nearest (local.get 0))))
(invoke "f32.add" (f32.const -nan:0x1234) (f32.const 1))
(invoke "f32.add" (f32.const 1) (f32.const nan:0x200001))
(invoke "f64.mul" (f64.const -nan:0x8000000000123) (f64.const 2))
(invoke "f32.sqrt" (f32.const nan:0x1))
(invoke "f32.sqrt" (f32.const -1))
(invoke "f64.floor" (f64.const -nan:0xf0000000000ff))
(invoke "f32.max" (f32.const 0) (f32.const -nan:0x7fffff))
(invoke "demote" (f64.const nan:0x123456789))
(invoke "promote" (f32.const -nan:0x54321))
(invoke "f32.neg" (f32.const nan:0x1234))
(invoke "f32x4.div" (v128.const f32x4 -nan:0x1234 0 1 nan:0x3) (v128.const f32x4 1 0 1 1))
(invoke "f64x2.nearest" (v128.const f64x2 -nan:0x1 2.5))
"#;

/// The oracle, claiming to canonicalize NaNs while its stores do not: NaN bits that differ
/// from a canonicalizing engine's must then be found.
struct Claims;

impl Engine for Claims {
    fn name(&self) -> &'static str {
        "claims"
    }
    fn supported_features(&self) -> WasmFeatures {
        OracleEngine::default().supported_features()
    }
    fn canonicalizes_nans(&self) -> bool {
        true
    }
    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        OracleEngine::default().new_session(features)
    }
}

/// Each engine's divergences and failures on [`SCRIPT`] against the first engine.
fn run(engines: &[&dyn Engine]) -> Vec<(usize, usize, usize)> {
    let r = run_script("nans.wast", SCRIPT, engines, WasmFeatures::WASM2);
    r.engines
        .iter()
        .map(|e| (e.passed, e.failed, e.divergences))
        .collect()
}

#[test]
fn a_wast_run_with_the_switch_compares_nan_bits_exactly() {
    let oracle = engines::oracle::engine_with(&CANONICAL);
    let runtime = engines::runtime::engine_with(&CANONICAL);
    // Both canonicalize: exact comparison, and they agree on every NaN.
    let r = run(&[oracle.as_ref(), runtime.as_ref()]);
    assert_eq!(
        r,
        [(13, 0, 0), (13, 0, 0)],
        "module + 12 calls, no divergence"
    );
    // An engine that claims the switch but propagates payloads is caught on every call whose
    // operand NaN reaches an arithmetic result: all but `sqrt(-1)` (a fresh NaN, canonical
    // anyway) and `neg` (a sign operation, never canonicalized).
    let r = run(&[oracle.as_ref(), &Claims]);
    assert_eq!(r[1].2, 10, "{r:?}");
    // Without the switch on both, the same differences are NaN bits the spec leaves open.
    let plain = engines::oracle::engine();
    let r = run(&[oracle.as_ref(), plain.as_ref()]);
    assert_eq!(r, [(13, 0, 0), (13, 0, 0)]);
}

fn campaign(canonicalize_nans: bool) -> fuzz::FuzzSummary {
    let out = std::env::temp_dir().join(format!(
        "lockstep-canonical-nans-{}-{canonicalize_nans}",
        std::process::id()
    ));
    let opts = FuzzOptions {
        iterations: Some(600),
        jobs: 2,
        seed: 3,
        features: Features::parse("floats,simd").expect("features"),
        out: out.clone(),
        engines: vec!["oracle".into(), "runtime".into()],
        worker: Some(env!("CARGO_BIN_EXE_lockstep").into()),
        case_timeout: Duration::from_secs(20),
        quiet: true,
        canonicalize_nans,
        ..FuzzOptions::default()
    };
    let s = fuzz::run(&opts).expect("the campaign runs");
    let _ = std::fs::remove_dir_all(&out);
    s
}

#[test]
fn a_campaign_with_the_switch_finds_no_nan_differences() {
    // The cases are NaN-heavy: without the switch, some differ only in NaN bits.
    let plain = campaign(false);
    assert_eq!(plain.failed, 0, "{plain:?}");
    assert!(plain.nan_nondeterminism > 0, "{plain:?}");
    // With it, every case compares NaN bits exactly, and the engines agree on all of them.
    let canonical = campaign(true);
    assert_eq!(
        (
            canonical.cases,
            canonical.failed,
            canonical.nan_nondeterminism
        ),
        (600, 0, 0),
        "{canonical:?}"
    );
    assert_eq!(canonical.passed + canonical.rejected, 600, "{canonical:?}");
    assert!(canonical.calls > 1000, "{canonical:?}");
}
