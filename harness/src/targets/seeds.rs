//! The seed inputs of each target, generated rather than committed: `fuzz/seed-corpus.sh` writes
//! them to `fuzz/corpus/<target>/`, and `harness/tests/fuzz_targets.rs` replays a sample of them.
//!
//! - `differential`, `instantiate`: pseudo-random byte strings of assorted lengths (wasm-smith
//!   makes a module of any bytes);
//! - `compile`: every module of the official spec scripts, valid, invalid and malformed;
//! - `single_op`: each instruction once;
//! - `wast`: each spec script once, plus a few feature and engine-order variations.

use std::collections::HashSet;

use super::one_op;
use crate::engine::WasmFeatures;
use crate::fuzz::rng::Rng;
use crate::suite::Suite;
use crate::wast::directives::{Command, Exec, ModuleSource, parse_script};

/// A spec script with the features its suite runs under.
#[derive(Clone, Debug)]
pub struct SpecFile {
    pub path: String,
    pub text: &'static str,
    pub features: WasmFeatures,
}

/// The scripts of the default suites whose required features are all in `features`, in a fixed
/// order (suites as [`Suite::defaults`] lists them, files sorted).
pub fn spec_files(features: WasmFeatures) -> Vec<SpecFile> {
    Suite::defaults()
        .into_iter()
        .filter(|s| features.contains(s.required()))
        .flat_map(|s| {
            s.files().into_iter().map(|f| SpecFile {
                path: f.path,
                text: f.text,
                features: f.features,
            })
        })
        .collect()
}

/// How many seeds to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    /// Everything: the corpus.
    Full,
    /// A sample that replays in a few seconds (the stable test).
    Sample,
}

fn random_inputs(salt: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(salt);
    (0..count)
        .map(|i| {
            let mut v = vec![0u8; 16 << (i % 9)];
            rng.fill(&mut v);
            v
        })
        .collect()
}

/// Every binary module of the spec scripts (each once), in script order.
fn spec_modules(files: &[SpecFile]) -> Vec<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in files {
        let Ok(directives) = parse_script(f.text) else {
            continue;
        };
        for d in directives {
            let source = match d.command {
                Command::Module { module, .. }
                | Command::AssertInvalid { module, .. }
                | Command::AssertMalformed { module, .. }
                | Command::AssertUnlinkable { module, .. }
                | Command::AssertTrap {
                    exec: Exec::Instantiate(module),
                    ..
                } => module,
                _ => continue,
            };
            if let ModuleSource::Bytes(b) = source
                && seen.insert(crate::diff::hash_bytes(&b))
            {
                out.push(b);
            }
        }
    }
    out
}

/// The seeds of `target` for engines executing `features` (for `single_op`, pass the features
/// it generates, [`super::differential_features`]).
pub fn seeds(target: &str, features: WasmFeatures, amount: Amount) -> Vec<Vec<u8>> {
    let sample = amount == Amount::Sample;
    match target {
        "differential" => random_inputs(1, if sample { 24 } else { 64 }),
        "instantiate" => random_inputs(2, if sample { 24 } else { 64 }),
        "compile" => {
            let files = spec_files(features);
            let files: Vec<SpecFile> = if sample {
                files.into_iter().step_by(12).collect()
            } else {
                files
            };
            let mut modules = spec_modules(&files);
            if sample {
                modules = modules.into_iter().step_by(8).collect();
            }
            modules
        }
        "single_op" => {
            let mut rng = Rng::new(3);
            (0..crate::ops::supported(features).len())
                .map(|i| {
                    let mut rest = vec![0u8; 40];
                    rng.fill(&mut rest);
                    one_op::Instance::input(i, &rest)
                })
                .collect()
        }
        "wast" => {
            let n = spec_files(features).len();
            let step = if sample { 20 } else { 1 };
            let mut v: Vec<Vec<u8>> = (0..n)
                .step_by(step)
                .map(|i| super::wast_input(i as u16, 0))
                .collect();
            // The runtime as the reference, and everything optional switched off.
            for (i, config) in [(0, 0x80), (n / 2, 0x7f), (n / 3, 0x05)] {
                v.push(super::wast_input(i as u16, config));
            }
            v
        }
        _ => Vec::new(),
    }
}
