//! The cargo-fuzz targets on stable Rust: a sample of each target's seed corpus, plus a few fixed
//! byte strings, replayed through the very functions `fuzz/fuzz_targets/*.rs` call, so the targets
//! cannot rot between nightly fuzz runs. A panic here is a finding (or a broken target).
//!
//! - Reproduce a libFuzzer artifact on stable: `LOCKSTEP_FUZZ_REPLAY=TARGET:PATH cargo test
//!   --release -p lockstep-harness --test fuzz_targets replay_artifact -- --nocapture`.
//! - Write the whole seed corpus (what `fuzz/seed-corpus.sh` does): `LOCKSTEP_SEED_CORPUS=DIR
//!   cargo test --release -p lockstep-harness --test fuzz_targets write_seed_corpus -- --ignored`.

use std::path::PathBuf;
use std::time::Instant;

use lockstep_harness::engines;
use lockstep_harness::targets::{self, TARGETS, seeds};

/// Inputs every target must take without a finding: empty, tiny, all-ones, a module header.
const FIXED: &[&[u8]] = &[
    b"",
    b"\0",
    &[0xff; 64],
    b"\0asm\x01\0\0\0",
    b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0",
    b"\0asm\x02\0\0\0",
];

fn features() -> lockstep_harness::engine::WasmFeatures {
    lockstep_harness::features::common(&engines::all())
}

/// The features a target generates (what its seeds are made for).
fn features_of(target: &str) -> lockstep_harness::engine::WasmFeatures {
    match target {
        "single_op" => targets::differential_features(&engines::all()),
        _ => features(),
    }
}

fn replay(name: &str) {
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a known target");
    let inputs = seeds::seeds(name, features_of(name), seeds::Amount::Sample);
    assert!(!inputs.is_empty(), "{name} has seeds");
    let start = Instant::now();
    // Inputs that once were findings (fuzz/regressions/<target>/, see fuzz/README.md).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(name);
    let mut regressions: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    regressions.sort();
    for input in FIXED
        .iter()
        .copied()
        .chain(inputs.iter().map(Vec::as_slice))
        .chain(regressions.iter().map(Vec::as_slice))
    {
        target(input);
    }
    eprintln!(
        "{name}: {} inputs in {:.2}s",
        inputs.len() + FIXED.len() + regressions.len(),
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn differential() {
    replay("differential");
}

#[test]
fn compile() {
    replay("compile");
}

#[test]
fn instantiate() {
    replay("instantiate");
}

#[test]
fn single_op() {
    replay("single_op");
}

#[test]
fn wast() {
    replay("wast");
}

#[test]
fn every_target_is_tested_and_has_a_fuzz_crate_entry() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let this = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_targets.rs"),
    )
    .expect("this file");
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
        let source = std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{name}.rs")))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{name}.rs: {e}"));
        assert!(
            source.contains(&format!("lockstep_harness::targets::{name}(data)")),
            "fuzz/fuzz_targets/{name}.rs calls lockstep_harness::targets::{name}"
        );
        assert!(
            this.contains(&format!("fn {name}()")),
            "no replay test for {name}"
        );
    }
}

/// `LOCKSTEP_FUZZ_REPLAY=TARGET:PATH` runs one input (a libFuzzer crash artifact) through its
/// target; without it, nothing.
#[test]
fn replay_artifact() {
    let Ok(spec) = std::env::var("LOCKSTEP_FUZZ_REPLAY") else {
        return;
    };
    let (name, path) = spec
        .split_once(':')
        .expect("LOCKSTEP_FUZZ_REPLAY=TARGET:PATH");
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown target {name}"));
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    target(&data);
    eprintln!("{name}: {path} ({} bytes): no finding", data.len());
}

/// Write every target's full seed corpus under `$LOCKSTEP_SEED_CORPUS/<target>/` (used by
/// `fuzz/seed-corpus.sh`).
#[test]
#[ignore = "writes files; run by fuzz/seed-corpus.sh"]
fn write_seed_corpus() {
    let dir = PathBuf::from(std::env::var("LOCKSTEP_SEED_CORPUS").expect("LOCKSTEP_SEED_CORPUS"));
    for (name, _) in TARGETS {
        let out = dir.join(name);
        std::fs::create_dir_all(&out).expect("a corpus folder");
        let inputs = seeds::seeds(name, features_of(name), seeds::Amount::Full);
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(out.join(format!("seed-{i:05}")), input).expect("a seed file");
        }
        eprintln!("{name}: {} seeds in {}", inputs.len(), out.display());
    }
}
