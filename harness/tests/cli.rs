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
