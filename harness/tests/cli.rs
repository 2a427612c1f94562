//! The `lockstep` binary: exit codes and the last line.

use std::process::Command;

fn lockstep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstep-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = lockstep(&["spec", "--bogus"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = lockstep(&["spec", "--suite", "wasm-v9"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown suite"), "{err}");
    let (code, _, err) = lockstep(&["spec", "--engine", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown engine"), "{err}");
    let (code, _, err) = lockstep(&["wast", "/definitely/not/here.wast"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, err) = lockstep(&[
        "spec",
        "--suite",
        "wasm-v1",
        "--expected-failures",
        "/definitely/not/here.toml",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn wast_command_reports_and_exits() {
    let good = temp(
        "good.wast",
        "(module (func (export \"f\") (result i32) (i32.const 1)))\n(assert_return (invoke \"f\") (i32.const 1))\n",
    );
    let (code, out, err) = lockstep(&["wast", "--engine", "oracle", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().last(), Some("2 passed, 0 failed"), "{out}");

    let bad = temp(
        "bad.wast",
        "(module (func (export \"f\") (result i32) (i32.const 1)))\n(assert_return (invoke \"f\") (i32.const 2))\n",
    );
    let json = bad.with_extension("json");
    let (code, out, _) = lockstep(&[
        "wast",
        "--engine",
        "oracle",
        "--json",
        json.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["totals"]["oracle"]["failed"], 1);
    assert_eq!(report["files"][0]["failures"][0]["line"], 2);
    assert_eq!(
        report["files"][0]["failures"][0]["directive"],
        "assert_return"
    );
}

#[test]
fn spec_command_writes_reports() {
    let json = temp("spec.json", "");
    let junit = temp("spec.xml", "");
    let (code, out, err) = lockstep(&[
        "spec",
        "--engine",
        "oracle",
        "--suite",
        "proposal:sign-extension-ops",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let last = out.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["files"].as_array().unwrap().len(), 2);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"proposal:sign-extension-ops.oracle\""),
        "{xml}"
    );
}

#[test]
fn spec_runs_a_testsuite_checkout() {
    let root = std::env::temp_dir().join(format!("lockstep-cli-ts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("proposals/threads")).unwrap();
    let f = "(module (func (export \"f\") (result i32) (i32.const 1)))\n";
    // A 2.0 file with a thread block (skipped) and one wrong expectation (listed below).
    std::fs::write(
        root.join("plain.wast"),
        format!("{f}(thread $T (invoke \"f\"))\n(wait $T)\n(assert_return (invoke \"f\") (i32.const 2))\n"),
    )
    .unwrap();
    // Post-3.0 proposals the oracle does not execute: it sits these files out.
    std::fs::create_dir_all(root.join("proposals/wide-arithmetic")).unwrap();
    std::fs::write(
        root.join("proposals/wide-arithmetic/wide.wast"),
        "(module (func (param i64 i64 i64 i64) (result i64 i64)\n\
         local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))\n",
    )
    .unwrap();
    std::fs::write(
        root.join("proposals/threads/atomic.wast"),
        "(module (memory 1 1 shared))\n",
    )
    .unwrap();
    let list = root.join("expected.toml");
    std::fs::write(
        &list,
        "[[failure]]\nengine = \"oracle\"\nfile = \"testsuite/plain.wast\"\nline = 4\nreason = \"test\"\n",
    )
    .unwrap();
    let json = root.join("r.json");
    let junit = root.join("r.xml");
    let (code, out, err) = lockstep(&[
        "spec",
        "--engine",
        "oracle",
        "--testsuite",
        root.to_str().unwrap(),
        "--expected-failures",
        list.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.lines().last(),
        Some("1 passed, 1 failed, 2 skipped"),
        "{out}"
    );
    assert!(
        out.contains("sat out: [oracle] 1 file needs threads, which oracle does not execute"),
        "{out}"
    );
    assert!(
        out.contains("skipped: [oracle] 1 directive: thread: "),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["totals"]["oracle"]["sat_out"], 2);
    let files = report["files"].as_array().unwrap();
    let file = |p: &str| files.iter().find(|f| f["path"] == p).unwrap();
    assert!(
        file("testsuite/proposals/wide-arithmetic/wide.wast")["sat_out"]
            .as_str()
            .unwrap()
            .contains("wide-arithmetic")
    );
    assert!(
        file("testsuite/proposals/threads/atomic.wast")["sat_out"]
            .as_str()
            .unwrap()
            .contains("threads")
    );
    assert_eq!(
        file("testsuite/plain.wast")["skips"][0]["directive"],
        "thread"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<skipped message=\"sat out\">"), "{xml}");
    assert!(xml.contains("testsuite/proposals/threads.oracle"), "{xml}");

    // Without the list, the wrong expectation fails the run.
    let (code, _, _) = lockstep(&[
        "spec",
        "--engine",
        "oracle",
        "--testsuite",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    // A proposal folder lockstep does not know is a usage error.
    std::fs::create_dir_all(root.join("proposals/not-a-proposal")).unwrap();
    let (code, _, err) = lockstep(&["spec", "--testsuite", root.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown proposal folder"), "{err}");
    let (code, _, err) = lockstep(&["spec", "--testsuite", "/definitely/not/here"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn wast_features_pick_the_base_set() {
    // Multi-memory is 3.0: invalid under the 2.0 set, valid under 3.0.
    let two = temp("two-memories.wast", "(module (memory 1) (memory 1))\n");
    let path = two.to_str().unwrap();
    let (code, _, _) = lockstep(&["wast", "--engine", "oracle", path]);
    assert_eq!(code, 1);
    let (code, out, err) = lockstep(&["wast", "--engine", "oracle", "--features", "wasm3", path]);
    // Valid under 3.0: the oracle runs it, or sits it out while it does not execute
    // multi-memory; either way nothing fails.
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = lockstep(&["wast", "--features", "wasm9", path]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown feature set"), "{err}");
}
