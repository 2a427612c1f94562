//! Every planted runtime bug (feature `fault-injection`) is found by a bounded `lockstep fuzz`
//! campaign and shrunk to a small reproducer.
//!
//! `cargo test --release -p lockstep-harness --features fault-injection fault_injection`
#![cfg(feature = "fault-injection")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lockstep_runtime::fault::Fault;

/// Campaign bound per fault.
const SECONDS: u64 = 90;
/// A shrunk reproducer must be at most this many bytes.
const MAX_REPRO_BYTES: u64 = 2048;

/// Campaigns use every core; run them one at a time so detection times mean something.
static SERIAL: Mutex<()> = Mutex::new(());

fn finds(fault: Fault) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = std::env::temp_dir().join(format!(
        "lockstep-fault-{}-{}",
        fault.name(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&out);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .env("LOCKSTEP_FAULT", fault.name())
        .args([
            "fuzz",
            "--seed",
            "1",
            "--jobs",
            "2",
            "--shrink-seconds",
            "30",
        ])
        .args(["--seconds", &SECONDS.to_string()])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lockstep fuzz");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut found: Option<(Duration, String)> = None;
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        if line.starts_with("finding (divergence)") {
            found = Some((started.elapsed(), line));
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let Some((elapsed, line)) = found else {
        let _ = std::fs::remove_dir_all(&out);
        panic!("{}: no divergence in {SECONDS} s", fault.name());
    };
    let dir = PathBuf::from(
        line.rsplit(" -> ")
            .next()
            .expect("finding directory")
            .trim(),
    );
    let module = dir.join("module.wasm");
    let size = std::fs::metadata(&module)
        .unwrap_or_else(|e| panic!("{}: {}: {e}", fault.name(), module.display()))
        .len();
    println!(
        "fault {}: first divergence (shrunk) after {:.1} s, reproducer {size} bytes",
        fault.name(),
        elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        size <= MAX_REPRO_BYTES,
        "{}: reproducer of {size} bytes is not small",
        fault.name()
    );
}

#[test]
fn fault_injection_min_nan_rule() {
    finds(Fault::MinNanRule);
}

#[test]
fn fault_injection_swapped_compare() {
    finds(Fault::SwappedCompare);
}

#[test]
fn fault_injection_br_table_default() {
    finds(Fault::BrTableDefault);
}
