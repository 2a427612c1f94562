//! Fuzz targets: one function per target, each taking a fuzzer's raw bytes.
//!
//! The cargo-fuzz crate in `fuzz/` (outside the workspace) is a thin shell: each of its targets
//! calls one function here, and `harness/tests/fuzz_targets.rs` replays [`seeds`] through the
//! same functions on stable Rust, so the targets cannot rot.
//!
//! A target panics only on a real finding: engines that disagree (on accept or reject, on a
//! result, on a trap, on exported state), or an engine that panics. Inputs the generators cannot
//! use, and modules every engine rejects, simply return. Every target is deterministic (the
//! output is a function of the bytes), bounded (wasm-smith's `ensure_termination` fuel, the spec
//! files' own finite scripts, single instructions) and builds fresh engines per input, so nothing
//! accumulates across a long run.
//!
//! - [`differential`]: a wasm-smith module, each export called on every engine;
//! - [`compile`]: arbitrary bytes, every engine accepts or every engine rejects;
//! - [`instantiate`]: a wasm-smith module under random runtime and module limits;
//! - [`single_op`]: one instruction of [`crate::ops`] with random operands (see [`one_op`]);
//! - [`wast`]: an official spec script under a random feature set and engine order;
//! - [`modules`]: wasm-smith configurations drawn from the bytes;
//! - [`seeds`]: the deterministic seed inputs of each target (corpus and replay test).

pub mod modules;
pub mod one_op;
pub mod seeds;

use arbitrary::Unstructured;

use crate::diff::Rules;
use crate::engine::{Engine, InstantiateError, Session, TrapCode, WasmFeatures};
use crate::features::{self, Features};
use crate::fuzz::case::{self, Call};
use crate::fuzz::rng::Rng;
use crate::lockstep::{CaseVerdict, guarded, nan_twin};

/// A target: its name (the fuzz/fuzz_targets file and the corpus folder) and its function.
pub type Target = fn(&[u8]);

/// Every target, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("differential", differential),
    ("compile", compile),
    ("instantiate", instantiate),
    ("single_op", single_op),
    ("wast", wast),
];

/// Report a finding. Panicking is how libFuzzer learns about it; the message says what happened.
fn finding(target: &str, what: std::fmt::Arguments<'_>) -> ! {
    panic!("lockstep {target} finding: {what}")
}

/// Every engine, fresh (engines cache per-signature code; fresh ones keep inputs
/// independent and memory flat over millions of runs).
fn engines() -> Vec<Box<dyn Engine>> {
    crate::engines::all()
}

/// The features `differential` and `single_op` generate: what [`case::run_case`] validates with
/// on these engines (the 2.0 set plus SIMD once every engine executes it), within what every
/// engine executes ([`features::common`]).
pub fn differential_features(engines: &[Box<dyn Engine>]) -> WasmFeatures {
    let refs = as_refs(engines);
    features::common(engines) & Features::supported_by(&refs).session_features()
}

fn as_refs(engines: &[Box<dyn Engine>]) -> Vec<&dyn Engine> {
    engines.iter().map(|e| e.as_ref()).collect()
}

/// `differential`: a wasm-smith module drawn from the bytes, every exported function called with
/// edge-biased arguments ([`case::plan`]) on every engine and compared after each call
/// ([`case::run_case`], the campaign's own comparison).
///
/// As in `lockstep fuzz`, a divergence of a module that does not canonicalize NaNs counts only if
/// the same module with canonicalization does not pass ([`nan_twin`]): NaN bits are the spec's
/// free choice.
pub fn differential(data: &[u8]) {
    let engines = engines();
    let features = differential_features(&engines);
    let Some((seed, generated)) = modules::differential(data, features, None) else {
        return;
    };
    let Ok(calls) = case::plan(&generated.wasm, seed) else {
        return;
    };
    let refs = as_refs(&engines);
    let rules = Rules {
        exact_nans: generated.canonical_nans,
    };
    let verdict = case::run_case(&refs, &generated.wasm, &calls, rules).verdict;
    let verdict = nan_twin(verdict, generated.canonical_nans, || {
        let (_, twin) = modules::differential(data, features, Some(true))?;
        let calls = case::plan(&twin.wasm, seed).ok()?;
        Some(case::run_case(&refs, &twin.wasm, &calls, Rules { exact_nans: true }).verdict)
    });
    match verdict {
        CaseVerdict::Pass
        | CaseVerdict::NanBitsOnly { .. }
        | CaseVerdict::Inconclusive(_)
        | CaseVerdict::Rejected(_) => {}
        CaseVerdict::Panicked { engine, message } => {
            finding("differential", format_args!("{engine} panicked: {message}"))
        }
        CaseVerdict::Diverged { call, divergence } => finding(
            "differential",
            format_args!(
                "divergence at {}: {divergence}\nconfig: {}\nmodule ({} bytes): {}",
                call.map_or("instantiation".to_string(), |i| format!("call {i}")),
                generated.summary,
                generated.wasm.len(),
                crate::fuzz::worker::to_hex(&generated.wasm)
            ),
        ),
    }
}

/// `compile`: the bytes as a module. Every engine must accept it or every engine must reject it,
/// and none may panic. (Malformed versus invalid is not compared: that is the message's job.)
pub fn compile(data: &[u8]) {
    let engines = engines();
    let features = features::common(&engines);
    let mut verdicts: Vec<(&str, Result<(), String>)> = Vec::new();
    for e in &engines {
        let r = guarded(|| {
            let mut s = e.new_session(features);
            s.compile(data).map(|_| ()).map_err(|err| err.to_string())
        });
        match r {
            Ok(v) => verdicts.push((e.name(), v)),
            Err(panic) => finding(
                "compile",
                format_args!(
                    "{} panicked compiling {} bytes: {panic}",
                    e.name(),
                    data.len()
                ),
            ),
        }
    }
    let accepted = verdicts.iter().filter(|(_, v)| v.is_ok()).count();
    if accepted != 0 && accepted != verdicts.len() {
        let sides: Vec<String> = verdicts
            .iter()
            .map(|(n, v)| match v {
                Ok(()) => format!("{n} accepts"),
                Err(m) => format!("{n} rejects ({m})"),
            })
            .collect();
        finding("compile", format_args!("{}", sides.join("; ")));
    }
}

/// How instantiation went, comparably across engines.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Instantiated {
    Ok,
    Trap(TrapCode),
    Rejected(String),
    Failed(String),
}

impl Instantiated {
    fn same_as(&self, other: &Instantiated) -> bool {
        match (self, other) {
            (Instantiated::Ok, Instantiated::Ok) => true,
            (Instantiated::Trap(a), Instantiated::Trap(b)) => a == b,
            (Instantiated::Rejected(_), Instantiated::Rejected(_)) => true,
            _ => false,
        }
    }
}

/// `instantiate`: a wasm-smith module with large, random memory, table and segment limits
/// (segments often out of bounds, a start function), instantiated by the runtime under a random
/// [`lockstep_runtime::Config`] (optimization level, bounds checks, memory reservation and guard,
/// wasm stack) and by every engine as the harness builds it. Nothing may crash or panic, the
/// runtime must agree with the oracle on success versus trap (and the trap's kind), and it must
/// not reject what the oracle accepts.
pub fn instantiate(data: &[u8]) {
    let engines = engines();
    let features = features::common(&engines);
    let mut u = Unstructured::new(data);
    let Ok((config, reservation)) = modules::runtime_config(&mut u, features) else {
        return;
    };
    let Some(wasm) = modules::instantiable(&mut u, features) else {
        return;
    };
    let runtime = guarded(|| instantiate_runtime(&config, &wasm)).unwrap_or_else(|panic| {
        finding(
            "instantiate",
            format_args!("the runtime panicked under {config:?}: {panic}"),
        )
    });
    for e in &engines {
        let outcome = guarded(|| {
            let mut s = e.new_session(features);
            instantiate_session(s.as_mut(), &wasm)
        })
        .unwrap_or_else(|panic| {
            finding(
                "instantiate",
                format_args!("{} panicked: {panic}", e.name()),
            )
        });
        // A resource limit of the configured runtime (a reservation too small for the module)
        // is an honest refusal, and stack or GC-heap exhaustion (the configured wasm stack can be
        // 16 KiB; heap limits differ between engines) is inconclusive as everywhere in lockstep:
        // neither is a disagreement.
        let exhausted =
            |i: &Instantiated| matches!(i, Instantiated::Trap(code) if code.is_exhaustion());
        // A memory that can outgrow the configured reservation may fail `memory.grow` on the
        // runtime only (memories never move, and the spec lets growth fail), so later accesses
        // may trap there alone: outcomes compare only when the reservation covers every maximum.
        let comparable = matches!(runtime, Instantiated::Rejected(_))
            || modules::reservation_covers(&wasm, reservation);
        if !comparable
            || matches!(runtime, Instantiated::Failed(_))
            || exhausted(&runtime)
            || exhausted(&outcome)
            || runtime.same_as(&outcome)
        {
            continue;
        }
        finding(
            "instantiate",
            format_args!(
                "runtime under {config:?}: {runtime:?}; {} (default configuration): {outcome:?}\n\
                 module ({} bytes): {}",
                e.name(),
                wasm.len(),
                crate::fuzz::worker::to_hex(&wasm)
            ),
        );
    }
}

fn instantiate_runtime(config: &lockstep_runtime::Config, wasm: &[u8]) -> Instantiated {
    use lockstep_runtime as rt;
    let engine = match rt::Engine::new(config) {
        Ok(e) => e,
        Err(e) => return Instantiated::Failed(format!("engine: {e}")),
    };
    let module = match rt::Module::from_binary(&engine, wasm) {
        Ok(m) => m,
        Err(e) => return Instantiated::Rejected(e.to_string()),
    };
    let mut store = rt::Store::new(&engine, ());
    match rt::Instance::new(&mut store, &module, &[]) {
        Ok(_) => Instantiated::Ok,
        Err(rt::Error::Trap(t)) => Instantiated::Trap(crate::engines::runtime::trap(&t).code),
        Err(e) => Instantiated::Failed(e.to_string()),
    }
}

fn instantiate_session(s: &mut dyn Session, wasm: &[u8]) -> Instantiated {
    let m = match s.compile(wasm) {
        Ok(m) => m,
        Err(e) => return Instantiated::Rejected(e.to_string()),
    };
    match s.instantiate(m) {
        Ok(_) => Instantiated::Ok,
        Err(InstantiateError::Trap(t)) => Instantiated::Trap(t.code),
        Err(e) => Instantiated::Failed(e.to_string()),
    }
}

/// `single_op`: one instruction ([`crate::ops::all`], only those every engine executes) with operands
/// drawn from the bytes, half raw and half edge-biased ([`crate::edge::edge_value`]), in a module with a
/// small memory and a table, run on every engine and compared with the campaign's rules
/// (result or trap, then exported memory, globals and tables).
pub fn single_op(data: &[u8]) {
    let engines = engines();
    let features = differential_features(&engines);
    let mut u = Unstructured::new(data);
    let Ok(op) = one_op::Instance::arbitrary(&mut u, features) else {
        return;
    };
    let wasm = match op.module(features) {
        Ok(w) => w,
        Err(e) => finding("single_op", format_args!("the op table is wrong: {e}")),
    };
    let mut rng = Rng::new(u.arbitrary().unwrap_or(0));
    let args = op
        .params()
        .iter()
        .map(|&t| one_op::operand(&mut u, &mut rng, t))
        .collect();
    let calls = [Call {
        export: "f".to_string(),
        args,
    }];
    let refs = as_refs(&engines);
    match case::run_case(&refs, &wasm, &calls, Rules::default()).verdict {
        CaseVerdict::Pass | CaseVerdict::Inconclusive(_) | CaseVerdict::NanBitsOnly { .. } => {}
        CaseVerdict::Rejected(m) => finding(
            "single_op",
            format_args!("every engine rejects the module of {op}: {m}"),
        ),
        CaseVerdict::Panicked { engine, message } => finding(
            "single_op",
            format_args!("{engine} panicked on {op}: {message}"),
        ),
        CaseVerdict::Diverged { divergence, .. } => finding(
            "single_op",
            format_args!(
                "{op} with ({}): {divergence}",
                calls[0]
                    .args
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

/// The features a spec run may switch off (at random, per input) to exercise the engines'
/// validation of each feature's absence.
const OPTIONAL_FEATURES: [WasmFeatures; 7] = [
    WasmFeatures::BULK_MEMORY,
    WasmFeatures::REFERENCE_TYPES,
    WasmFeatures::MULTI_VALUE,
    WasmFeatures::SIGN_EXTENSION,
    WasmFeatures::SATURATING_FLOAT_TO_INT,
    WasmFeatures::MUTABLE_GLOBAL,
    WasmFeatures::SIMD,
];

/// `wast`'s input layout: file index (little-endian u16, modulo the file count), then a byte whose
/// low seven bits switch off [`OPTIONAL_FEATURES`] and whose top bit swaps the engines' order
/// (so the runtime is the reference). Missing bytes are zero: the file as `lockstep spec` runs it.
pub fn wast_input(file: u16, config: u8) -> Vec<u8> {
    let [a, b] = file.to_le_bytes();
    vec![a, b, config]
}

/// `wast`: an official spec script ([`seeds::spec_files`]: the default suites every engine
/// executes) on every engine in lockstep ([`crate::wast::run_script`]), under the suite's
/// features minus a random subset. Every engine must fail exactly the same directives (the
/// expected failures are shared), no call may diverge, and no engine may panic.
pub fn wast(data: &[u8]) {
    let mut engines = engines();
    let files = seeds::spec_files(features::common(&engines));
    if files.is_empty() {
        return;
    }
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let index = u16::from_le_bytes([byte(0), byte(1)]) as usize % files.len();
    let config = byte(2);
    let file = &files[index];
    let mut features = file.features;
    for (bit, f) in OPTIONAL_FEATURES.iter().enumerate() {
        if config & (1 << bit) != 0 {
            features.remove(*f);
        }
    }
    if config & 0x80 != 0 {
        engines.reverse();
    }
    let refs = as_refs(&engines);
    let result = crate::wast::run_script(&file.path, file.text, &refs, features);
    let what = || {
        format!(
            "{} with features {features:?}, reference engine {}",
            file.path,
            engines[0].name()
        )
    };
    for r in &result.engines {
        if let Some(f) = r.failures.iter().find(|f| {
            f.message.contains("engine panicked") || f.message.contains("creating a session")
        }) {
            finding(
                "wast",
                format_args!("{}: {} at line {}: {}", what(), r.engine, f.line, f.message),
            );
        }
        if r.divergences > 0 {
            let lines: Vec<String> = r
                .failures
                .iter()
                .filter(|f| f.message.contains("diverges from"))
                .map(|f| format!("line {}: {}", f.line, f.message))
                .collect();
            finding(
                "wast",
                format_args!("{}: {} diverges: {}", what(), r.engine, lines.join("\n")),
            );
        }
    }
    let failed = |k: usize| -> Vec<usize> {
        let mut lines: Vec<usize> = result.engines[k].failures.iter().map(|f| f.line).collect();
        lines.dedup();
        lines
    };
    for k in 1..result.engines.len() {
        let (a, b) = (failed(0), failed(k));
        if a != b {
            // The first few (later ones are mostly "no current module instance").
            let only = |x: &[usize], y: &[usize], k: usize| -> Vec<String> {
                let all: Vec<String> = result.engines[k]
                    .failures
                    .iter()
                    .filter(|f| x.contains(&f.line) && !y.contains(&f.line))
                    .map(|f| format!("line {}: {}", f.line, f.message))
                    .collect();
                let more = all.len().saturating_sub(5);
                let mut v: Vec<String> = all.into_iter().take(5).collect();
                if more > 0 {
                    v.push(format!("and {more} more"));
                }
                v
            };
            finding(
                "wast",
                format_args!(
                    "{}: the engines fail different directives\nonly {} fails: {:?}\nonly {} fails: {:?}",
                    what(),
                    result.engines[0].engine,
                    only(&a, &b, 0),
                    result.engines[k].engine,
                    only(&b, &a, k)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GC heap exhausted during instantiation is the harness's resource exhaustion on the
    /// configured runtime too (it was `Other` there, and the `instantiate` target reported the
    /// oracle's allocation limit beside it as a disagreement).
    #[test]
    fn exhausted_gc_heap_at_instantiation_is_resource_exhaustion() {
        let wasm = wat::parse_str(
            r#"(module
                 (type $a (array i8))
                 (global (ref $a) (array.new_default $a (i32.const 0x7fffffff))))"#,
        )
        .unwrap();
        let mut config = lockstep_runtime::Config::new();
        config.wasm_features(features::common(&engines()));
        assert_eq!(
            instantiate_runtime(&config, &wasm),
            Instantiated::Trap(TrapCode::ResourceExhausted)
        );
    }
}
