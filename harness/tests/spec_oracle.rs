//! The oracle over wasm-v1, wasm-v2, the 2.0-era proposal folders and simd: zero unexpected results.
//! This is what `cargo test --workspace --release` checks of the spec run.

use lockstep_harness::run::{self, RunOptions, SpecOptions};

#[test]
fn oracle_passes_the_2_0_suites() {
    let summary = run::spec(&SpecOptions {
        run: RunOptions {
            engines: vec!["oracle".to_string()],
            json: None,
            quiet: true,
            show_messages: false,
            timeout: None,
            ..Default::default()
        },
        suites: Vec::new(),
        testsuite: None,
        junit: None,
        expected_failures: None,
    })
    .expect("the spec command runs");
    let names: Vec<&str> = summary.groups.iter().map(|g| g.name.as_str()).collect();
    for suite in [
        "wasm-v1",
        "wasm-v2",
        "proposal:reference-types",
        "proposal:bulk-memory",
        "proposal:multi-value",
        "proposal:sign-extension-ops",
        "proposal:nontrapping-float-to-int-conversions",
        "proposal:mutable-global",
        // The oracle executes SIMD, so the simd folder is one of its default suites.
        "proposal:simd",
    ] {
        assert!(names.contains(&suite), "{suite} did not run: {names:?}");
    }
    let unexpected: Vec<String> = summary
        .verdict
        .unexpected
        .iter()
        .take(50)
        .map(|u| {
            format!(
                "[{}] {}:{} {}: {}",
                u.engine, u.path, u.failure.line, u.failure.directive, u.failure.message
            )
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected failures:\n{}",
        summary.verdict.unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        summary.verdict.now_passing.is_empty(),
        "listed failures that passed: {:#?}",
        summary.verdict.now_passing
    );
    // wasm-v1 and wasm-v2 all pass, directive for directive.
    for g in &summary.groups[..2] {
        let c = lockstep_harness::report::counts(&g.files);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].1.failed, c[0].1.skipped), (0, 0), "{}", g.name);
    }
    let v1: usize = lockstep_harness::report::counts(&summary.groups[0].files)[0]
        .1
        .passed;
    let v2: usize = lockstep_harness::report::counts(&summary.groups[1].files)[0]
        .1
        .passed;
    assert!(v1 > 19_000 && v2 > 28_000, "{v1} {v2}");
}
