//! Expected-failure bookkeeping: an unlisted failure fails the run, and so does a listed failure
//! that passes.

use lockstep_harness::expected::ExpectedFailures;
use lockstep_harness::run::{self, RunOptions, SpecOptions};
use lockstep_harness::wast::{EngineFileResult, Failure, FileResult};

fn file(path: &str, engine: &str, failing_lines: &[usize]) -> FileResult {
    FileResult {
        path: path.to_string(),
        engines: vec![EngineFileResult {
            engine: engine.to_string(),
            passed: 10,
            failed: failing_lines.len(),
            failures: failing_lines
                .iter()
                .map(|&line| Failure {
                    line,
                    directive: "assert_return".to_string(),
                    message: "wrong".to_string(),
                })
                .collect(),
            ..Default::default()
        }],
    }
}

const LIST: &str = r#"
[[failure]]
engine = "oracle"
file = "a.wast"
line = 3
reason = "known"

[[failure]]
engine = "oracle"
file = "b.wast"
reason = "the whole file"
"#;

#[test]
fn listed_failures_are_expected() {
    let list = ExpectedFailures::parse(LIST).unwrap();
    let v = list.check(&[
        file("a.wast", "oracle", &[3]),
        file("b.wast", "oracle", &[1, 2]),
    ]);
    assert!(v.ok(), "{v:#?}");
    assert_eq!(v.expected, 3);
}

#[test]
fn an_unlisted_failure_fails_the_run() {
    let list = ExpectedFailures::parse(LIST).unwrap();
    // Line 4 is not listed; neither is another engine's failure at a listed place.
    let v = list.check(&[
        file("a.wast", "oracle", &[3, 4]),
        file("a.wast", "runtime", &[3]),
        file("b.wast", "oracle", &[1]),
    ]);
    assert!(!v.ok());
    let got: Vec<_> = v
        .unexpected
        .iter()
        .map(|u| (u.engine.as_str(), u.path.as_str(), u.failure.line))
        .collect();
    assert_eq!(got, vec![("oracle", "a.wast", 4), ("runtime", "a.wast", 3)]);
    assert!(v.now_passing.is_empty());
}

#[test]
fn a_listed_failure_that_passes_fails_the_run() {
    let list = ExpectedFailures::parse(LIST).unwrap();
    let v = list.check(&[file("a.wast", "oracle", &[]), file("b.wast", "oracle", &[])]);
    assert!(!v.ok());
    assert!(v.unexpected.is_empty());
    assert_eq!(v.now_passing.len(), 2);
}

#[test]
fn entries_for_files_not_run_are_ignored() {
    let list = ExpectedFailures::parse(LIST).unwrap();
    let v = list.check(&[file("c.wast", "oracle", &[])]);
    assert!(v.ok(), "{v:#?}");
}

#[test]
fn entries_for_a_file_an_engine_sat_out_are_ignored() {
    let list = ExpectedFailures::parse(LIST).unwrap();
    let mut b = file("b.wast", "oracle", &[]);
    b.engines[0].sat_out = Some("needs gc".to_string());
    let v = list.check(&[b]);
    assert!(v.ok(), "{v:#?}");
}

#[test]
fn a_divergence_entry_applies_only_when_its_reference_ran_too() {
    let list = ExpectedFailures::parse(
        r#"
[[failure]]
engine = "runtime"
file = "r.wast"
reason = "relaxed SIMD"
compared_with = "oracle"
"#,
    )
    .unwrap();
    let both = |runtime_failures: &[usize]| {
        let mut f = file("r.wast", "oracle", &[]);
        f.engines
            .extend(file("r.wast", "runtime", runtime_failures).engines);
        f
    };
    // With the oracle: the divergence is expected, and its absence is a stale entry.
    assert!(list.check(&[both(&[5])]).ok());
    assert_eq!(list.check(&[both(&[])]).now_passing.len(), 1);
    // The runtime alone: the entry does not apply, so it neither covers nor goes stale.
    assert!(list.check(&[file("r.wast", "runtime", &[])]).ok());
    assert_eq!(
        list.check(&[file("r.wast", "runtime", &[5])])
            .unexpected
            .len(),
        1
    );
}

#[test]
fn malformed_lists_are_rejected() {
    assert!(ExpectedFailures::parse("[[failure]]\nengine = \"oracle\"").is_err());
    assert!(
        ExpectedFailures::parse(
            "[[failure]]\nengine = \"o\"\nfile = \"f\"\nreason = \"r\"\nbogus = 1"
        )
        .is_err()
    );
}

fn spec_with_list(list: &str) -> i32 {
    let dir = std::env::temp_dir().join(format!(
        "lockstep-expected-{}-{}",
        std::process::id(),
        list.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("expected.toml");
    std::fs::write(&path, list).unwrap();
    let summary = run::spec(&SpecOptions {
        run: RunOptions {
            engines: vec!["oracle".to_string()],
            json: None,
            quiet: true,
            show_messages: false,
            timeout: None,
            ..Default::default()
        },
        suites: vec!["proposal:mutable-global".to_string()],
        testsuite: None,
        junit: None,
        expected_failures: Some(path),
    })
    .unwrap();
    summary.exit_code()
}

/// The real list makes `proposal:mutable-global` pass; dropping an entry or adding one for a
/// passing directive makes it fail.
#[test]
fn bookkeeping_through_the_spec_command() {
    let real = std::fs::read_to_string(lockstep_harness::expected::default_path()).unwrap();
    assert_eq!(spec_with_list(&real), 0);

    // Unlisted failure: the list without its last oracle mutable-global entry.
    let mut entries: Vec<&str> = real.split("[[failure]]").collect();
    let last = entries
        .iter()
        .rposition(|e| e.contains("\"oracle\"") && e.contains("proposals/mutable-global/"))
        .unwrap();
    entries.remove(last);
    let without = entries.join("[[failure]]");
    assert_eq!(spec_with_list(&without), 1);

    // Listed but passing: globals.wast passes entirely.
    let stale = format!(
        "{real}\n[[failure]]\nengine = \"oracle\"\nfile = \"proposals/mutable-global/globals.wast\"\nline = 1\nreason = \"stale\"\n"
    );
    assert_eq!(spec_with_list(&stale), 1);
}
