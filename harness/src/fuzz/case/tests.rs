use super::*;
use crate::diff::Rules;
use crate::engine::{Engine, Val, WasmFeatures};
use crate::features::Features;
use crate::lockstep::CaseVerdict;

/// The campaign's features without SIMD: what it runs while an engine lacks SIMD.
fn no_simd() -> Features {
    Features {
        simd: false,
        ..Features::v2_0()
    }
}

#[test]
fn generation_is_deterministic_and_valid_2_0() {
    let mut exports = 0;
    let mut calls = 0;
    for seed in 0..100 {
        let a = generate(seed, no_simd()).expect("generates");
        let b = generate(seed, no_simd()).expect("generates");
        assert_eq!(a.wasm, b.wasm, "seed {seed}");
        let mut v = wasmparser::Validator::new_with_features(crate::suite::required_2_0());
        v.validate_all(&a.wasm)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        exports += exported_funcs(&a.wasm).unwrap().len();
        let p = plan(&a.wasm, seed).unwrap();
        assert_eq!(p, plan(&a.wasm, seed).unwrap());
        calls += p.len();
    }
    eprintln!("100 modules: {exports} exported functions, {calls} calls");
    assert!(exports > 100, "modules export functions: {exports}");
}

#[test]
fn simd_cases_use_simd_and_get_v128_arguments() {
    let simd = crate::suite::required_2_0() | WasmFeatures::SIMD;
    let (mut uses_simd, mut v128_args, mut configs) = (0, 0, 0);
    for seed in 0..100 {
        let g = generate(seed, Features::v2_0()).expect("generates");
        assert_eq!(
            g.wasm,
            generate(seed, Features::v2_0()).unwrap().wasm,
            "deterministic"
        );
        configs += g.summary.contains("simd=true") as usize;
        wasmparser::Validator::new_with_features(simd)
            .validate_all(&g.wasm)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let relaxed = simd | WasmFeatures::RELAXED_SIMD;
        assert!(
            wasmparser::Validator::new_with_features(relaxed)
                .validate_all(&g.wasm)
                .is_ok()
        );
        if wasmparser::Validator::new_with_features(crate::suite::required_2_0())
            .validate_all(&g.wasm)
            .is_err()
        {
            uses_simd += 1;
        }
        v128_args += plan(&g.wasm, seed)
            .unwrap()
            .iter()
            .flat_map(|c| &c.args)
            .filter(|a| matches!(a, Val::V128(_)))
            .count();
        // Without SIMD the same seed draws a module that needs no SIMD.
        let plain = generate(seed, no_simd()).unwrap();
        assert!(!plain.summary.contains("simd=true"));
    }
    eprintln!(
        "100 modules: {configs} SIMD configurations, {uses_simd} use SIMD, {v128_args} v128 arguments"
    );
    assert!(configs > 10 && uses_simd > 5, "{configs} {uses_simd}");
    assert!(v128_args > 0);
}

/// The SIMD path end to end on the engines that execute SIMD today (the oracle, twice):
/// sessions validate SIMD, v128 arguments go in, v128 results, globals and memories come
/// back and compare equal.
#[test]
fn simd_cases_run_on_simd_engines() {
    let a = crate::engines::oracle::engine();
    let b = crate::engines::oracle::engine();
    let engines: Vec<&dyn Engine> = vec![a.as_ref(), b.as_ref()];
    assert!(Features::supported_by(&engines).simd);
    let (mut simd_modules, mut v128_calls) = (0, 0);
    for seed in 0..60 {
        let g = generate(seed, Features::v2_0()).unwrap();
        if !g.summary.contains("simd=true") {
            continue;
        }
        simd_modules += 1;
        let calls = plan(&g.wasm, seed).unwrap();
        v128_calls += calls
            .iter()
            .filter(|c| c.args.iter().any(|a| matches!(a, Val::V128(_))))
            .count();
        let rules = Rules {
            exact_nans: g.canonical_nans,
        };
        let r = run_case(&engines, &g.wasm, &calls, rules);
        assert!(
            matches!(r.verdict, CaseVerdict::Pass | CaseVerdict::Inconclusive(_)),
            "seed {seed}: {:?}",
            r.verdict
        );
        assert_eq!(r.state_note, None);
    }
    assert!(
        simd_modules > 5 && v128_calls > 0,
        "{simd_modules} {v128_calls}"
    );
}

/// With every switch on (engines that execute Wasm 3.0), the campaign draws modules that use the
/// 3.0 features, each valid under the features its sessions validate with, and planned calls.
#[test]
fn wasm_3_cases_use_3_0_features() {
    let all = Features::default();
    let v2 = Features::v2_0().session_features();
    let (mut uses_3_0, mut planned) = (0, 0);
    for seed in 0..100 {
        let Ok(g) = generate(seed, all) else { continue };
        wasmparser::Validator::new_with_features(all.session_features())
            .validate_all(&g.wasm)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", g.summary));
        if wasmparser::Validator::new_with_features(v2)
            .validate_all(&g.wasm)
            .is_err()
        {
            uses_3_0 += 1;
        }
        planned += plan(&g.wasm, seed).is_ok() as usize;
    }
    eprintln!("100 seeds: {uses_3_0} modules use a 3.0 feature, {planned} planned");
    assert!(uses_3_0 > 10, "{uses_3_0} modules use a 3.0 feature");
    assert!(planned > 50, "{planned} modules have a plan");
}

/// The 3.0 path end to end on an engine pair that executes some of it (the oracle, twice): the
/// campaign turns on exactly the 3.0 switches the oracle declares, its modules use them, and
/// every case runs and compares equal.
#[test]
fn wasm_3_cases_run_on_engines_that_execute_them() {
    let a = crate::engines::oracle::engine();
    let b = crate::engines::oracle::engine();
    let engines: Vec<&dyn Engine> = vec![a.as_ref(), b.as_ref()];
    let f = Features::default().intersect(Features::supported_by(&engines));
    let declared = a.supported_features();
    assert_eq!(f.tail_call, declared.contains(WasmFeatures::TAIL_CALL));
    assert_eq!(f.memory64, declared.contains(WasmFeatures::MEMORY64));
    let v2 = Features::v2_0().session_features();
    let (mut uses_3_0, mut calls) = (0, 0);
    for seed in 0..60 {
        let Ok(g) = generate(seed, f) else { continue };
        if wasmparser::Validator::new_with_features(v2)
            .validate_all(&g.wasm)
            .is_err()
        {
            uses_3_0 += 1;
        }
        let plan = plan(&g.wasm, seed).unwrap();
        let rules = Rules {
            exact_nans: g.canonical_nans,
        };
        let r = run_case(&engines, &g.wasm, &plan, rules);
        assert!(
            matches!(r.verdict, CaseVerdict::Pass | CaseVerdict::Inconclusive(_)),
            "seed {seed} ({}): {:?}",
            g.summary,
            r.verdict
        );
        calls += r.calls;
    }
    eprintln!(
        "60 seeds on {}: {uses_3_0} modules use a 3.0 feature, {calls} calls",
        f.to_list()
    );
    if f.tail_call || f.memory64 || f.multi_memory {
        assert!(uses_3_0 > 5, "{uses_3_0}");
    }
}

/// GC and exception parameters get arguments of their own hierarchy: nulls of the right kind,
/// i31s where the type allows, host references for anyref; a function whose parameter the host
/// cannot make (a non-null struct) is not called.
#[test]
fn gc_and_exception_parameters_get_arguments_of_their_type() {
    use crate::engine::AnyRef;
    let wasm = wat::parse_str(
        r#"(module
            (type $s (struct (field i32)))
            (func (export "nullable") (param (ref null $s) eqref (ref i31) anyref exnref (ref null func) (ref extern)))
            (func (export "nonnull") (param (ref $s))))"#,
    )
    .expect("wat");
    let calls = plan(&wasm, 3).expect("plans");
    assert!(calls.iter().all(|c| c.export == "nullable"), "{calls:?}");
    assert_eq!(calls.len(), CALLS_PER_EXPORT);
    let mut seen_i31 = false;
    for seed in 0..40 {
        for c in plan(&wasm, seed).unwrap() {
            let a = &c.args;
            assert_eq!(a[0], Val::AnyRef(None));
            assert!(
                matches!(a[1], Val::AnyRef(None | Some(AnyRef::I31(_)))),
                "{a:?}"
            );
            assert!(
                matches!(a[2], Val::AnyRef(Some(AnyRef::I31(v))) if v < 1 << 31),
                "{a:?}"
            );
            seen_i31 |= matches!(a[1], Val::AnyRef(Some(AnyRef::I31(_))));
            assert!(matches!(
                a[3],
                Val::AnyRef(None | Some(AnyRef::I31(_) | AnyRef::Host(_)))
            ));
            assert_eq!(a[4], Val::ExnRef(None));
            assert_eq!(a[5], Val::FuncRef(None));
            assert!(matches!(a[6], Val::ExternRef(Some(_))));
        }
    }
    assert!(seen_i31);
    // And the oracle takes them (it type-checks arguments).
    let oracle = crate::engines::oracle::OracleEngine::default();
    let features = Features::supported_by(&[&oracle]).session_features();
    let mut s = oracle.new_session(features);
    let m = s.compile(&wasm).unwrap();
    let i = s.instantiate(m).unwrap();
    for seed in 0..40 {
        for c in plan(&wasm, seed).unwrap() {
            assert_eq!(s.invoke(i, &c.export, &c.args), Ok(vec![]), "{c:?}");
        }
    }
}
