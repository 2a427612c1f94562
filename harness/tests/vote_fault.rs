//! The vote names the engine that is wrong: with a miscompile planted in lockstep's runtime
//! (feature `fault-injection`), a three-engine campaign (oracle, runtime, Wasmtime) finds a
//! divergence whose finding names the runtime as the odd one out, and `lockstep report` counts
//! it against the runtime.
//!
//! `cargo test --release -p lockstep-harness --features peers,fault-injection --test vote_fault`
#![cfg(all(feature = "peers", feature = "fault-injection"))]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use lockstep_harness::fuzz::findings::Summary;
use lockstep_runtime::fault::Fault;

/// Campaign bound.
const SECONDS: &str = "90";

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

#[test]
fn a_three_engine_campaign_names_the_runtime() {
    let fault = Fault::SwappedCompare;
    let out = std::env::temp_dir().join(format!("lockstep-vote-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut child = lockstep()
        .env("LOCKSTEP_FAULT", fault.name())
        .args([
            "fuzz",
            "--seed",
            "1",
            "--jobs",
            "2",
            "--shrink-seconds",
            "20",
        ])
        .args(["--seconds", SECONDS])
        .args([
            "--engine", "oracle", "--engine", "runtime", "--engine", "wasmtime",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lockstep fuzz");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let line = stdout
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("finding (divergence)"));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.unwrap_or_else(|| panic!("{}: no divergence in {SECONDS} s", fault.name()));
    assert!(line.contains("odd one out: runtime"), "{line}");
    let dir = PathBuf::from(line.rsplit(" -> ").next().expect("a directory").trim());
    let summary: Summary = serde_json::from_str(
        &std::fs::read_to_string(dir.join("finding.json")).expect("finding.json"),
    )
    .expect("a summary");
    assert_eq!(summary.odd_ones_out, ["runtime"], "{summary:?}");
    assert_eq!(summary.engines, ["oracle", "runtime", "wasmtime"]);
    let report = std::fs::read_to_string(dir.join("report.txt")).expect("report.txt");
    assert!(
        report.contains("vote: majority oracle, wasmtime; odd one out: runtime"),
        "{report}"
    );
    let table = lockstep()
        .arg("report")
        .arg(&out)
        .output()
        .expect("lockstep report");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("runtime: most likely wrong in 1"), "{table}");
    println!("{line}\n{table}");
    let _ = std::fs::remove_dir_all(&out);
}
