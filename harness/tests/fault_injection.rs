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

/// The campaign's features: those of the 2.0 campaign the detection times in the README were
/// measured on. The 3.0 features the runtime executes (tail calls, memory64, ...) make modules
/// larger and slower to shrink, which would measure something else; they have their own tests.
const FEATURES: &str =
    "bulk-memory,reference-types,multi-value,sign-extension,saturating-float-to-int,floats,simd";

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
            "--features",
            FEATURES,
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
    // The finding must be the planted bug, not some other divergence: its reproducer diverges
    // with the fault and agrees without it.
    let repro = dir.join("repro.wast");
    let with = divergences(&repro, Some(fault));
    let without = divergences(&repro, None);
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        size <= MAX_REPRO_BYTES,
        "{}: reproducer of {size} bytes is not small",
        fault.name()
    );
    assert!(
        with > 0,
        "{}: the shrunk reproducer does not diverge with the fault planted",
        fault.name()
    );
    assert_eq!(
        without,
        0,
        "{}: the shrunk reproducer diverges without the fault: the campaign found another bug",
        fault.name()
    );
}

/// The divergences `lockstep wast --features wasm3 --engine all` reports on `script`, with `fault` planted or
/// with none.
fn divergences(script: &std::path::Path, fault: Option<Fault>) -> usize {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    // The campaign draws 3.0 features the engines execute (tail calls since the runtime has
    // them), so the reproducer is replayed, as its header says, with the 3.0 set.
    cmd.args(["wast", "--features", "wasm3", "--engine", "all"])
        .arg(script)
        .env_remove("LOCKSTEP_FAULT");
    if let Some(f) = fault {
        cmd.env("LOCKSTEP_FAULT", f.name());
    }
    let out = cmd.output().expect("run lockstep wast");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("cross-engine comparison"))
        .unwrap_or_else(|| panic!("no comparison line from lockstep wast:\n{text}"));
    line.split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected comparison line: {line}"))
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
