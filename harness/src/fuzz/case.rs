//! One fuzz case: a wasm-smith module drawn from a seed, a plan of calls, and running both on
//! every engine in lockstep with the [`crate::diff`] rules.

use arbitrary::{Arbitrary, Unstructured};
use wasm_smith::{Config, Module};

use super::rng::Rng;
use crate::diff::{self, CallResult, Comparison, Divergence, Rules, StateComparison};
use crate::engine::{Engine, InstantiateError, InvokeError, Session, Val, WasmFeatures};
use crate::wast::runner::guarded;

/// The features a campaign may switch on (each case draws a subset: swarm testing).
///
/// A campaign asks for a set (by default all of them, [`Features::default`]) and runs with the
/// part of it that *every* engine executes ([`Features::intersect`] with
/// [`Features::supported_by`]): SIMD, for instance, is on only once every engine lists
/// [`WasmFeatures::SIMD`] in its [`Engine::supported_features`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    pub bulk_memory: bool,
    pub reference_types: bool,
    pub multi_value: bool,
    pub sign_extension: bool,
    pub saturating_float_to_int: bool,
    pub floats: bool,
    /// Fixed-width 128-bit SIMD (never relaxed SIMD).
    pub simd: bool,
}

impl Default for Features {
    /// Everything the campaign knows: WebAssembly 2.0, SIMD included. A campaign narrows it to
    /// what its engines execute.
    fn default() -> Self {
        Features {
            bulk_memory: true,
            reference_types: true,
            multi_value: true,
            sign_extension: true,
            saturating_float_to_int: true,
            floats: true,
            simd: true,
        }
    }
}

impl Features {
    pub const NAMES: &'static [&'static str] = &[
        "bulk-memory",
        "reference-types",
        "multi-value",
        "sign-extension",
        "saturating-float-to-int",
        "floats",
        "simd",
    ];

    /// No feature at all (the MVP without floats).
    pub fn none() -> Features {
        Features {
            bulk_memory: false,
            reference_types: false,
            multi_value: false,
            sign_extension: false,
            saturating_float_to_int: false,
            floats: false,
            simd: false,
        }
    }

    /// Parse a comma-separated list of [`Features::NAMES`] (or `all`).
    pub fn parse(list: &str) -> Result<Features, String> {
        let mut f = Features::none();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" => f = Features::default(),
                "bulk-memory" => f.bulk_memory = true,
                "reference-types" => f.reference_types = true,
                "multi-value" => f.multi_value = true,
                "sign-extension" => f.sign_extension = true,
                "saturating-float-to-int" => f.saturating_float_to_int = true,
                "floats" => f.floats = true,
                "simd" => f.simd = true,
                other => {
                    return Err(format!(
                        "unknown feature `{other}`: expected {} or all",
                        Features::NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(f)
    }

    fn flags(self) -> [bool; 7] {
        [
            self.bulk_memory,
            self.reference_types,
            self.multi_value,
            self.sign_extension,
            self.saturating_float_to_int,
            self.floats,
            self.simd,
        ]
    }

    fn from_flags(f: [bool; 7]) -> Features {
        Features {
            bulk_memory: f[0],
            reference_types: f[1],
            multi_value: f[2],
            sign_extension: f[3],
            saturating_float_to_int: f[4],
            floats: f[5],
            simd: f[6],
        }
    }

    /// The [`WasmFeatures`] flag of each of [`Features::NAMES`], in order.
    const WASM: [WasmFeatures; 7] = [
        WasmFeatures::BULK_MEMORY,
        WasmFeatures::REFERENCE_TYPES,
        WasmFeatures::MULTI_VALUE,
        WasmFeatures::SIGN_EXTENSION,
        WasmFeatures::SATURATING_FLOAT_TO_INT,
        WasmFeatures::FLOATS,
        WasmFeatures::SIMD,
    ];

    pub fn to_list(self) -> String {
        Features::NAMES
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The features on in both sets.
    pub fn intersect(self, other: Features) -> Features {
        let (a, b) = (self.flags(), other.flags());
        Features::from_flags(std::array::from_fn(|i| a[i] && b[i]))
    }

    /// The features on in `self` and off in `other` (for messages: what a campaign drops).
    pub fn without(self, other: Features) -> Features {
        let (a, b) = (self.flags(), other.flags());
        Features::from_flags(std::array::from_fn(|i| a[i] && !b[i]))
    }

    /// The campaign features an engine that executes `supported` can run.
    pub fn executed(supported: WasmFeatures) -> Features {
        Features::from_flags(Features::WASM.map(|w| supported.contains(w)))
    }

    /// The campaign features every one of `engines` executes.
    pub fn supported_by(engines: &[&dyn Engine]) -> Features {
        engines
            .iter()
            .map(|e| Features::executed(e.supported_features()))
            .fold(Features::default(), Features::intersect)
    }

    /// The features a session validates the campaign's modules with: the 2.0 features the
    /// campaign always assumes, plus SIMD when it is on.
    pub fn session_features(self) -> WasmFeatures {
        let mut f = crate::suite::required_2_0();
        if self.simd {
            f |= WasmFeatures::SIMD;
        }
        f
    }
}

/// A generated module.
#[derive(Clone, Debug)]
pub struct Generated {
    pub wasm: Vec<u8>,
    /// The module canonicalizes its NaNs, so NaNs are compared exactly.
    pub canonical_nans: bool,
    /// The configuration drawn, in brief (for reports).
    pub summary: String,
}

/// Fuel for `ensure_termination`: loop iterations plus calls, over the instance's lifetime.
pub const FUEL: u32 = 1_000;

/// The bounds every generator of differential modules applies (the campaign's and the fuzz
/// targets'): one memory, few tables, no imports (every export is callable without a host) and
/// small, bounded memories, tables, bodies and segments, which keep snapshots cheap and growth
/// finite. Memory size and function counts are left to the caller.
pub fn bound_module(c: &mut Config) {
    c.max_memories = c.max_memories.min(1);
    c.max_tables = c.max_tables.min(4);
    c.max_imports = 0;
    c.min_imports = 0;
    c.export_everything = true;
    c.memory_max_size_required = true;
    c.table_max_size_required = true;
    c.max_table_elements = c.max_table_elements.min(1_000);
    c.max_instructions = c.max_instructions.min(400);
    c.max_types = c.max_types.clamp(1, 40);
    c.max_globals = c.max_globals.min(40);
    c.max_exports = c.max_exports.min(100);
    c.max_data_segments = c.max_data_segments.min(20);
    c.max_element_segments = c.max_element_segments.min(20);
    c.max_elements = c.max_elements.min(100);
}

/// Draw a swarm configuration and a module from `seed`.
pub fn generate(seed: u64, allowed: Features) -> Result<Generated, String> {
    generate_with(seed, allowed, None)
}

/// [`generate`], optionally forcing `canonicalize_nans` (every other draw stays the same).
pub fn generate_with(
    seed: u64,
    allowed: Features,
    canonicalize_nans: Option<bool>,
) -> Result<Generated, String> {
    let mut rng = Rng::new(seed);
    let mut data = vec![0u8; 1024 + rng.below(16 * 1024) as usize];
    rng.fill(&mut data);
    let mut u = Unstructured::new(&data);
    let mut c = Config::arbitrary(&mut u).map_err(|e| format!("config: {e}"))?;
    // Only what both engines execute: WebAssembly 2.0 (SIMD when `allowed` says so, never relaxed
    // SIMD), one memory. Without SIMD the draws are exactly those of a campaign that never knew
    // SIMD: `Config::arbitrary` consumes the same bytes either way.
    c.simd_enabled &= allowed.simd;
    c.relaxed_simd_enabled = false;
    c.exceptions_enabled = false;
    c.threads_enabled = false;
    c.tail_call_enabled = false;
    c.gc_enabled = false;
    c.memory64_enabled = false;
    c.extended_const_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.compact_imports_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.bulk_memory_enabled &= allowed.bulk_memory;
    c.reference_types_enabled &= allowed.reference_types;
    c.multi_value_enabled &= allowed.multi_value;
    c.sign_extension_ops_enabled &= allowed.sign_extension;
    c.saturating_float_to_int_enabled &= allowed.saturating_float_to_int;
    c.allow_floats &= allowed.floats;
    if !c.reference_types_enabled {
        c.max_tables = c.max_tables.min(1);
    }
    bound_module(&mut c);
    c.canonicalize_nans = rng.below(2) == 0;
    if let Some(force) = canonicalize_nans {
        c.canonicalize_nans = force;
    }
    c.max_memory32_bytes = c
        .max_memory32_bytes
        .min([1 << 16, 1 << 17, 1 << 20][rng.below(3) as usize]);
    // At least a few functions: a module without exports tests only instantiation.
    c.max_funcs = c.max_funcs.clamp(4, 40);
    c.min_funcs = 1 + rng.below(4) as usize;
    c.min_types = 1;
    let summary = format!(
        "bulk-memory={} reference-types={} multi-value={} sign-ext={} sat-trunc={} floats={} \
         simd={} canonicalize-nans={} disallow-traps={} max-memory-bytes={}",
        c.bulk_memory_enabled,
        c.reference_types_enabled,
        c.multi_value_enabled,
        c.sign_extension_ops_enabled,
        c.saturating_float_to_int_enabled,
        c.allow_floats,
        c.simd_enabled,
        c.canonicalize_nans,
        c.disallow_traps,
        c.max_memory32_bytes
    );
    let canonical_nans = c.canonicalize_nans;
    let mut module = Module::new(c, &mut u).map_err(|e| format!("module: {e}"))?;
    module
        .ensure_termination(FUEL)
        .map_err(|e| format!("ensure_termination: {e}"))?;
    Ok(Generated {
        wasm: module.to_bytes(),
        canonical_nans,
        summary,
    })
}

/// One planned call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub export: String,
    pub args: Vec<Val>,
}

/// Calls per exported function.
pub const CALLS_PER_EXPORT: usize = 3;
/// At most this many calls per case.
pub const MAX_CALLS: usize = 60;

/// The exported functions of `wasm` with their parameter types, in export order.
pub fn exported_funcs(wasm: &[u8]) -> Result<Vec<(String, Vec<wasmparser::ValType>)>, String> {
    use wasmparser::{Payload, TypeRef};
    let mut types: Vec<Option<Vec<wasmparser::ValType>>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(r) => {
                for group in r {
                    for ty in group.map_err(|e| e.to_string())?.into_types() {
                        types.push(match &ty.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f.params().to_vec()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let TypeRef::Func(t) = imp.map_err(|e| e.to_string())?.ty {
                        funcs.push(t);
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    funcs.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.to_string())?;
                    if e.kind == wasmparser::ExternalKind::Func {
                        exports.push((e.name.to_string(), e.index));
                    }
                }
            }
            _ => {}
        }
    }
    exports
        .into_iter()
        .map(|(name, f)| {
            let params = funcs
                .get(f as usize)
                .and_then(|&t| types.get(t as usize).cloned().flatten())
                .ok_or_else(|| format!("export {name:?}: no function type"))?;
            Ok((name, params))
        })
        .collect()
}

/// An argument biased towards the edges of its type.
pub fn edge_value(rng: &mut Rng, ty: wasmparser::ValType) -> Val {
    use wasmparser::ValType as T;
    match ty {
        T::I32 => Val::I32(edge_int(rng, 32) as u32),
        T::I64 => Val::I64(edge_int(rng, 64)),
        T::F32 => Val::F32(match rng.below(14) {
            0 => 0,
            1 => 0x8000_0000,
            2 => f32::INFINITY.to_bits(),
            3 => f32::NEG_INFINITY.to_bits(),
            4 => 0x7fc0_0000,
            5 => 0xffc0_0000,
            // NaN with a payload, quiet or signalling, either sign.
            6 => 0x7f80_0000 | (rng.next_u64() as u32 & 0x807f_ffff) | 1,
            7 => f32::MAX.to_bits() | (rng.below(2) as u32) << 31,
            8 => rng.below(3) as u32 | (rng.below(2) as u32) << 31, // subnormals
            9 => (2f32.powi(rng.below(70) as i32 - 10)).to_bits() | (rng.below(2) as u32) << 31,
            10 => ((rng.next_u64() as i32 >> rng.below(31)) as f32).to_bits(),
            11 => [
                0.5f32,
                -0.5,
                1.5,
                2.5,
                -1.0,
                4294967296.0,
                2147483648.0,
                -2147483904.0,
            ][rng.below(8) as usize]
                .to_bits(),
            _ => rng.next_u64() as u32,
        }),
        T::F64 => Val::F64(match rng.below(14) {
            0 => 0,
            1 => 1 << 63,
            2 => f64::INFINITY.to_bits(),
            3 => f64::NEG_INFINITY.to_bits(),
            4 => 0x7ff8_0000_0000_0000,
            5 => 0xfff8_0000_0000_0000,
            6 => 0x7ff0_0000_0000_0000 | (rng.next_u64() & 0x800f_ffff_ffff_ffff) | 1,
            7 => f64::MAX.to_bits() | rng.below(2) << 63,
            8 => rng.below(3) | rng.below(2) << 63,
            9 => (2f64.powi(rng.below(140) as i32 - 20)).to_bits() | rng.below(2) << 63,
            10 => ((rng.next_u64() as i64 >> rng.below(63)) as f64).to_bits(),
            11 => [
                0.5f64,
                -0.5,
                1.5,
                2.5,
                -1.0,
                18446744073709551616.0,
                9223372036854775808.0,
                -9223372036854777856.0,
                4294967296.0,
                -2147483649.0,
            ][rng.below(10) as usize]
                .to_bits(),
            _ => rng.next_u64(),
        }),
        T::V128 => Val::V128(edge_v128(rng)),
        T::Ref(r) => {
            if r.is_func_ref() || rng.below(2) == 0 {
                if r.is_func_ref() {
                    Val::FuncRef(None)
                } else {
                    Val::ExternRef(None)
                }
            } else {
                Val::ExternRef(Some(rng.below(4) as u32))
            }
        }
    }
}

/// A v128 argument with edge-biased lanes: a lane shape is drawn (i8x16 to i64x2, f32x4, f64x2)
/// and each lane is an edge of its type ([`edge_value`]: NaNs with payloads, ±0, ±inf, lane
/// minimum and maximum, small integers...), sometimes one value splatted; or all zeros, all ones
/// or random bits.
pub fn edge_v128(rng: &mut Rng) -> u128 {
    use wasmparser::ValType as T;
    match rng.below(10) {
        0 => [0, u128::MAX, 1, 1 << 127][rng.below(4) as usize],
        1 => (rng.next_u64() as u128) << 64 | rng.next_u64() as u128,
        _ => {
            let bits = [8u32, 16, 32, 64, 32, 64][rng.below(6) as usize];
            let float = bits >= 32 && rng.below(2) == 0;
            let lanes = 128 / bits;
            let splat = rng.below(4) == 0;
            let lane = |rng: &mut Rng| -> u128 {
                let v = match (float, bits) {
                    (true, 32) => match edge_value(rng, T::F32) {
                        Val::F32(b) => b as u64,
                        _ => unreachable!(),
                    },
                    (true, _) => match edge_value(rng, T::F64) {
                        Val::F64(b) => b,
                        _ => unreachable!(),
                    },
                    (false, _) => edge_int(rng, bits),
                };
                v as u128
            };
            let first = lane(rng);
            (0..lanes).fold(0u128, |acc, i| {
                let v = if splat || i == 0 { first } else { lane(rng) };
                acc | v << (bits * i)
            })
        }
    }
}

fn edge_int(rng: &mut Rng, bits: u32) -> u64 {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let v = match rng.below(10) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,              // -1
        3 => 1 << (bits - 1),       // min
        4 => (1 << (bits - 1)) - 1, // max
        5 => 1 << rng.below(bits as u64),
        6 => (1u64 << rng.below(bits as u64)).wrapping_neg(),
        7 => (rng.below(33) as i64 - 16) as u64,
        8 => (1u64 << rng.below(bits as u64))
            .wrapping_add(rng.below(3))
            .wrapping_sub(1),
        _ => rng.next_u64(),
    };
    v & mask
}

/// The calls of a case: [`CALLS_PER_EXPORT`] per exported function, arguments drawn from a seed
/// derived from `seed` and the export's name, so removing other exports (shrinking) keeps them.
pub fn plan(wasm: &[u8], seed: u64) -> Result<Vec<Call>, String> {
    let funcs = exported_funcs(wasm)?;
    let mut calls = Vec::new();
    for round in 0..CALLS_PER_EXPORT {
        for (name, params) in &funcs {
            let mut rng = Rng::new(seed ^ super::rng::hash_str(name) ^ round as u64);
            calls.push(Call {
                export: name.clone(),
                args: params.iter().map(|t| edge_value(&mut rng, *t)).collect(),
            });
        }
    }
    calls.truncate(MAX_CALLS);
    Ok(calls)
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every engine agreed on every call and on the state after it.
    Pass,
    /// Engines disagreed; `call` is the index into the plan (None: compiling or instantiating).
    Diverged {
        call: Option<usize>,
        divergence: Divergence,
    },
    /// Call-stack exhaustion stopped the comparison.
    Inconclusive(String),
    /// Every engine rejected the module (a generator or shrinker artefact, not a finding).
    Rejected(String),
    /// An engine panicked.
    Panicked { engine: String, message: String },
}

/// A case's result.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub verdict: Verdict,
    /// Calls made (on each engine).
    pub calls: usize,
    /// Why exported state could not be compared, if it could not.
    pub state_note: Option<String>,
}

fn instantiate_result(r: &Result<crate::engine::InstanceId, InstantiateError>) -> CallResult {
    match r {
        Ok(_) => Ok(vec![]),
        Err(InstantiateError::Trap(t)) => Err(InvokeError::Trap(t.clone())),
        Err(e) => Err(InvokeError::Other(e.to_string())),
    }
}

/// Run `plan` on `wasm` on every engine, comparing each with the first.
pub fn run_case(engines: &[&dyn Engine], wasm: &[u8], calls: &[Call], rules: Rules) -> CaseResult {
    let mut result = CaseResult {
        verdict: Verdict::Pass,
        calls: 0,
        state_note: None,
    };
    let panicked = |engine: &dyn Engine, message: String| Verdict::Panicked {
        engine: engine.name().to_string(),
        message,
    };
    // Modules are validated with what every engine executes (SIMD included once they all do).
    let features = Features::supported_by(engines).session_features();
    let mut sessions: Vec<Box<dyn Session>> = Vec::new();
    for e in engines {
        match guarded(|| e.new_session(features)) {
            Ok(s) => sessions.push(s),
            Err(m) => {
                result.verdict = panicked(*e, m);
                return result;
            }
        }
    }
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();

    // Compile and instantiate, compared like calls.
    let mut instances = Vec::new();
    let mut outcomes: Vec<CallResult> = Vec::new();
    let mut rejected = 0;
    for (k, s) in sessions.iter_mut().enumerate() {
        let r = match guarded(|| s.compile(wasm)) {
            Err(m) => {
                result.verdict = panicked(engines[k], m);
                return result;
            }
            Ok(Err(e)) => {
                rejected += 1;
                Err(InvokeError::Other(format!("compile: {e}")))
            }
            Ok(Ok(m)) => match guarded(|| s.instantiate(m)) {
                Err(msg) => {
                    result.verdict = panicked(engines[k], msg);
                    return result;
                }
                Ok(r) => {
                    let o = instantiate_result(&r);
                    instances.push(r.ok());
                    outcomes.push(o);
                    continue;
                }
            },
        };
        instances.push(None);
        outcomes.push(r);
    }
    if rejected == engines.len() {
        result.verdict = Verdict::Rejected(diff::describe(&outcomes[0]));
        return result;
    }
    for k in 1..engines.len() {
        match diff::compare_calls((names[0], names[k]), &outcomes[0], &outcomes[k], rules) {
            Comparison::Same => {}
            Comparison::Diverged(mut d) => {
                d.kind = diff::DivergenceKind::Module;
                result.verdict = Verdict::Diverged {
                    call: None,
                    divergence: d,
                };
                return result;
            }
            Comparison::Inconclusive(m) => {
                result.verdict = Verdict::Inconclusive(m);
                return result;
            }
        }
    }
    if instances.iter().any(Option::is_none) {
        // Instantiation trapped the same way everywhere.
        return result;
    }
    let instances: Vec<_> = instances.into_iter().map(Option::unwrap).collect();
    if let Some(v) = compare_state(&mut sessions, &instances, &names, rules, &mut result) {
        result.verdict = Verdict::Diverged {
            call: None,
            divergence: v,
        };
        return result;
    }

    for (i, call) in calls.iter().enumerate() {
        let mut outs = Vec::new();
        for (k, s) in sessions.iter_mut().enumerate() {
            match guarded(|| s.invoke(instances[k], &call.export, &call.args)) {
                Ok(r) => outs.push(r),
                Err(m) => {
                    result.verdict = panicked(engines[k], m);
                    return result;
                }
            }
        }
        result.calls += 1;
        for k in 1..engines.len() {
            match diff::compare_calls((names[0], names[k]), &outs[0], &outs[k], rules) {
                Comparison::Same => {}
                Comparison::Diverged(d) => {
                    result.verdict = Verdict::Diverged {
                        call: Some(i),
                        divergence: d,
                    };
                    return result;
                }
                Comparison::Inconclusive(m) => {
                    result.verdict = Verdict::Inconclusive(m);
                    return result;
                }
            }
        }
        if let Some(d) = compare_state(&mut sessions, &instances, &names, rules, &mut result) {
            result.verdict = Verdict::Diverged {
                call: Some(i),
                divergence: d,
            };
            return result;
        }
    }
    result
}

fn compare_state(
    sessions: &mut [Box<dyn Session>],
    instances: &[crate::engine::InstanceId],
    names: &[&str],
    rules: Rules,
    result: &mut CaseResult,
) -> Option<Divergence> {
    let snaps: Vec<_> = sessions
        .iter_mut()
        .zip(instances)
        .map(|(s, &i)| guarded(|| s.snapshot(i)).unwrap_or_else(|p| Err(format!("panicked: {p}"))))
        .collect();
    for k in 1..snaps.len() {
        match diff::compare_states((names[0], names[k]), &snaps[0], &snaps[k], rules) {
            StateComparison::Same => {}
            StateComparison::Diverged(d) => return Some(d),
            StateComparison::Unavailable(n) => {
                result.state_note.get_or_insert(n);
            }
        }
    }
    None
}

/// Both sides of one call (for reports): each engine's result, as text.
pub fn outcomes_of(
    engines: &[&dyn Engine],
    wasm: &[u8],
    calls: &[Call],
    upto: usize,
) -> Vec<(String, String)> {
    let features = Features::supported_by(engines).session_features();
    engines
        .iter()
        .map(|e| {
            let text = guarded(|| {
                let mut s = e.new_session(features);
                let m = match s.compile(wasm) {
                    Ok(m) => m,
                    Err(err) => return format!("compile error: {err}"),
                };
                let i = match s.instantiate(m) {
                    Ok(i) => i,
                    Err(err) => return format!("instantiation: {err}"),
                };
                let mut last = String::from("(no call)");
                for c in calls.iter().take(upto + 1) {
                    last = diff::describe(&s.invoke(i, &c.export, &c.args));
                }
                last
            })
            .unwrap_or_else(|p| format!("panicked: {p}"));
            (e.name().to_string(), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The campaign's features without SIMD: what it runs while an engine lacks SIMD.
    fn no_simd() -> Features {
        Features {
            simd: false,
            ..Features::default()
        }
    }

    #[test]
    fn generation_is_deterministic_and_valid_2_0() {
        let mut exports = 0;
        let mut calls = 0;
        for seed in 0..100 {
            let a = generate(seed, no_simd()).expect("generates");
            let b = generate(seed, no_simd()).expect("generates");
            assert_eq!(a.wasm, b.wasm, "seed {seed}");
            let mut v = wasmparser::Validator::new_with_features(crate::suite::required_2_0());
            v.validate_all(&a.wasm)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            exports += exported_funcs(&a.wasm).unwrap().len();
            let p = plan(&a.wasm, seed).unwrap();
            assert_eq!(p, plan(&a.wasm, seed).unwrap());
            calls += p.len();
        }
        eprintln!("100 modules: {exports} exported functions, {calls} calls");
        assert!(exports > 100, "modules export functions: {exports}");
    }

    /// An engine that only declares features (never runs anything).
    struct Declares(&'static str, WasmFeatures);

    impl Engine for Declares {
        fn name(&self) -> &'static str {
            self.0
        }
        fn supported_features(&self) -> WasmFeatures {
            self.1
        }
        fn new_session(&self, _: WasmFeatures) -> Box<dyn Session> {
            unimplemented!("a feature declaration only")
        }
    }

    #[test]
    fn simd_is_on_only_when_every_engine_executes_it() {
        let with = Declares("with", crate::suite::required_2_0() | WasmFeatures::SIMD);
        let without = Declares("without", crate::suite::required_2_0());
        let relaxed = Declares(
            "relaxed",
            crate::suite::required_2_0() | WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD,
        );
        // Today: the runtime lacks SIMD, so the default campaign runs without it, exactly as
        // before SIMD was a campaign feature.
        let f = Features::default().intersect(Features::supported_by(&[&with, &without]));
        assert_eq!(f, no_simd());
        assert_eq!(
            f.to_list(),
            "bulk-memory,reference-types,multi-value,sign-extension,saturating-float-to-int,floats"
        );
        assert_eq!(f.session_features(), crate::suite::required_2_0());
        assert_eq!(
            Features::default().without(f),
            Features {
                simd: true,
                ..Features::none()
            }
        );
        // Once every engine executes SIMD it is on by default, and sessions validate it.
        let f = Features::default().intersect(Features::supported_by(&[&with, &relaxed]));
        assert_eq!(f, Features::default());
        assert!(f.session_features().contains(WasmFeatures::SIMD));
        assert!(!f.session_features().contains(WasmFeatures::RELAXED_SIMD));
        // Asked-for features stay off when not asked for, whatever the engines do.
        let asked = Features::parse("floats,simd").unwrap();
        assert_eq!(
            asked.intersect(Features::supported_by(&[&with, &relaxed])),
            asked
        );
        assert!(
            !asked
                .intersect(Features::supported_by(&[&with, &without]))
                .simd
        );
        assert_eq!(Features::parse("all").unwrap(), Features::default());
        assert_eq!(
            Features::parse(&Features::default().to_list()).unwrap(),
            Features::default()
        );
        assert!(Features::parse("relaxed-simd").is_err());
        // The engines built into this binary: SIMD is on exactly when all of them execute it.
        let built = crate::engines::built();
        let engines: Vec<&dyn Engine> = built.iter().map(|e| e.as_ref()).collect();
        assert_eq!(
            Features::supported_by(&engines).simd,
            engines
                .iter()
                .all(|e| e.supported_features().contains(WasmFeatures::SIMD))
        );
    }

    #[test]
    fn simd_cases_use_simd_and_get_v128_arguments() {
        let simd = crate::suite::required_2_0() | WasmFeatures::SIMD;
        let (mut uses_simd, mut v128_args, mut configs) = (0, 0, 0);
        for seed in 0..100 {
            let g = generate(seed, Features::default()).expect("generates");
            assert_eq!(
                g.wasm,
                generate(seed, Features::default()).unwrap().wasm,
                "deterministic"
            );
            configs += g.summary.contains("simd=true") as usize;
            wasmparser::Validator::new_with_features(simd)
                .validate_all(&g.wasm)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let relaxed = simd | WasmFeatures::RELAXED_SIMD;
            assert!(
                wasmparser::Validator::new_with_features(relaxed)
                    .validate_all(&g.wasm)
                    .is_ok()
            );
            if wasmparser::Validator::new_with_features(crate::suite::required_2_0())
                .validate_all(&g.wasm)
                .is_err()
            {
                uses_simd += 1;
            }
            v128_args += plan(&g.wasm, seed)
                .unwrap()
                .iter()
                .flat_map(|c| &c.args)
                .filter(|a| matches!(a, Val::V128(_)))
                .count();
            // Without SIMD the same seed draws a module that needs no SIMD.
            let plain = generate(seed, no_simd()).unwrap();
            assert!(!plain.summary.contains("simd=true"));
        }
        eprintln!(
            "100 modules: {configs} SIMD configurations, {uses_simd} use SIMD, {v128_args} v128 arguments"
        );
        assert!(configs > 10 && uses_simd > 5, "{configs} {uses_simd}");
        assert!(v128_args > 0);
    }

    #[test]
    fn v128_arguments_are_edge_biased() {
        let mut rng = Rng::new(7);
        let vals: Vec<u128> = (0..4000).map(|_| edge_v128(&mut rng)).collect();
        let f32_lanes = |v: u128| (0..4).map(move |i| (v >> (32 * i)) as u32);
        let f64_lanes = |v: u128| (0..2).map(move |i| (v >> (64 * i)) as u64);
        let any32 = |p: &dyn Fn(u32) -> bool| vals.iter().any(|&v| f32_lanes(v).any(p));
        let any64 = |p: &dyn Fn(u64) -> bool| vals.iter().any(|&v| f64_lanes(v).any(p));
        // NaNs with payloads (not just the canonical one), infinities, negative zero.
        assert!(any32(&|x| f32::from_bits(x).is_nan() && x & 0x3f_ffff != 0));
        assert!(any64(
            &|x| f64::from_bits(x).is_nan() && x & 0x7_ffff_ffff_ffff != 0
        ));
        assert!(any32(&|x| x == 0xff80_0000) && any64(&|x| x == 0x8000_0000_0000_0000));
        // Lane minimum and maximum of every integer shape.
        for bits in [8u32, 16, 32, 64] {
            let lanes = |v: u128| (0..128 / bits).map(move |i| (v >> (bits * i)) as u64);
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            let min = 1u64 << (bits - 1);
            for want in [min, min - 1, mask] {
                assert!(
                    vals.iter().any(|&v| lanes(v).all(|l| l & mask == want)),
                    "an i{bits} splat of {want:#x}"
                );
            }
        }
        assert!(vals.contains(&0) && vals.contains(&u128::MAX));
        let distinct: std::collections::HashSet<_> = vals.iter().collect();
        assert!(distinct.len() > 2000, "{}", distinct.len());
    }

    /// The SIMD path end to end on the engines that execute SIMD today (the oracle, twice):
    /// sessions validate SIMD, v128 arguments go in, v128 results, globals and memories come
    /// back and compare equal.
    #[test]
    fn simd_cases_run_on_simd_engines() {
        let a = crate::engines::oracle::engine().expect("the oracle is built");
        let b = crate::engines::oracle::engine().expect("the oracle is built");
        let engines: Vec<&dyn Engine> = vec![a.as_ref(), b.as_ref()];
        assert!(Features::supported_by(&engines).simd);
        let (mut simd_modules, mut v128_calls) = (0, 0);
        for seed in 0..60 {
            let g = generate(seed, Features::default()).unwrap();
            if !g.summary.contains("simd=true") {
                continue;
            }
            simd_modules += 1;
            let calls = plan(&g.wasm, seed).unwrap();
            v128_calls += calls
                .iter()
                .filter(|c| c.args.iter().any(|a| matches!(a, Val::V128(_))))
                .count();
            let rules = Rules {
                exact_nans: g.canonical_nans,
            };
            let r = run_case(&engines, &g.wasm, &calls, rules);
            assert!(
                matches!(r.verdict, Verdict::Pass | Verdict::Inconclusive(_)),
                "seed {seed}: {:?}",
                r.verdict
            );
            assert_eq!(r.state_note, None);
        }
        assert!(
            simd_modules > 5 && v128_calls > 0,
            "{simd_modules} {v128_calls}"
        );
    }
}
