//! wasm-smith modules and runtime configurations drawn from a fuzzer's bytes.
//!
//! `lockstep fuzz` expands a 64-bit seed through its own generator ([`case::generate_with`]);
//! a coverage-guided fuzzer needs the module to be a function of its *bytes*, so that a mutation
//! of the input is a mutation of the module. The configurations here therefore draw wasm-smith's
//! [`Config`] from the bytes, then restrict it to a feature set (the engines' common features,
//! not a fixed list) and to limits that keep one input cheap and bounded.
//! TODO: once `fuzz/case.rs` exposes its restriction as a function of an `Unstructured`, share it.

use arbitrary::{Arbitrary, Unstructured};
use lockstep_runtime as rt;
use wasm_smith::{Config, Module};

use crate::engine::WasmFeatures;
use crate::fuzz::case::{FUEL, Generated, bound_module, cap_memory_bytes};

/// Switch off every wasm-smith proposal outside `features` (wasm-smith only ever turns a feature
/// off in `sanitize`, so switching off here is all that is needed).
pub fn restrict(c: &mut Config, features: WasmFeatures) {
    use WasmFeatures as F;
    let has = |f: WasmFeatures| features.contains(f);
    c.bulk_memory_enabled &= has(F::BULK_MEMORY);
    c.reference_types_enabled &= has(F::REFERENCE_TYPES);
    c.multi_value_enabled &= has(F::MULTI_VALUE);
    c.sign_extension_ops_enabled &= has(F::SIGN_EXTENSION);
    c.saturating_float_to_int_enabled &= has(F::SATURATING_FLOAT_TO_INT);
    c.allow_floats &= has(F::FLOATS);
    c.simd_enabled &= has(F::SIMD);
    c.relaxed_simd_enabled &= has(F::RELAXED_SIMD) && c.simd_enabled;
    c.exceptions_enabled &= has(F::EXCEPTIONS);
    c.threads_enabled &= has(F::THREADS);
    c.tail_call_enabled &= has(F::TAIL_CALL);
    c.gc_enabled &= has(F::GC | F::FUNCTION_REFERENCES) && c.reference_types_enabled;
    c.memory64_enabled &= has(F::MEMORY64);
    c.extended_const_enabled &= has(F::EXTENDED_CONST);
    c.custom_page_sizes_enabled &= has(F::CUSTOM_PAGE_SIZES);
    c.wide_arithmetic_enabled &= has(F::WIDE_ARITHMETIC);
    c.compact_imports_enabled &= has(F::COMPACT_IMPORTS);
    c.shared_everything_threads_enabled &= has(F::SHARED_EVERYTHING_THREADS);
    if !has(F::MULTI_MEMORY) {
        c.max_memories = c.max_memories.min(1);
    }
    if !c.reference_types_enabled {
        c.max_tables = c.max_tables.min(1);
    }
}

/// The module of the `differential` target, and the seed of its call plan (the bytes' first
/// eight). `canonicalize_nans` forces wasm-smith's NaN canonicalization (every other draw stays
/// the same). `None` when the bytes do not make a module.
pub fn differential(
    data: &[u8],
    features: WasmFeatures,
    canonicalize_nans: Option<bool>,
) -> Option<(u64, Generated)> {
    let mut u = Unstructured::new(data);
    let seed = u64::arbitrary(&mut u).ok()?;
    let mut c = Config::arbitrary(&mut u).ok()?;
    restrict(&mut c, features);
    bound_module(&mut c);
    if let Some(force) = canonicalize_nans {
        c.canonicalize_nans = force;
    } else {
        c.canonicalize_nans = bool::arbitrary(&mut u).ok()?;
    }
    cap_memory_bytes(&mut c, 1 << 20);
    c.max_funcs = c.max_funcs.clamp(1, 40);
    c.min_funcs = 1;
    let summary = format!(
        "wasm-smith from the fuzzer's bytes, canonicalize-nans={} disallow-traps={} \
         max-memory-bytes={}",
        c.canonicalize_nans, c.disallow_traps, c.max_memory32_bytes
    );
    let canonical_nans = c.canonicalize_nans;
    let mut module = Module::new(c, &mut u).ok()?;
    module.ensure_termination(FUEL).ok()?;
    Some((
        seed,
        Generated {
            wasm: module.to_bytes(),
            canonical_nans,
            summary,
        },
    ))
}

/// The module of the `instantiate` target: large limits (up to 16 MiB of memory, 100,000 table
/// elements, many segments at any offset, a start function), every maximum declared so growth
/// in the start function stays bounded, loops bounded by fuel.
pub fn instantiable(u: &mut Unstructured<'_>, features: WasmFeatures) -> Option<Vec<u8>> {
    let mut c = Config::arbitrary(u).ok()?;
    restrict(&mut c, features);
    c.max_imports = 0;
    c.min_imports = 0;
    c.memory_max_size_required = true;
    cap_memory_bytes(&mut c, 16 << 20);
    // A few memories at most: with multi-memory, wasm-smith's default of 100 at 16 MiB each is
    // more than one input should cost.
    c.max_memories = c.max_memories.min(4);
    c.table_max_size_required = true;
    c.max_table_elements = c.max_table_elements.min(100_000);
    c.max_funcs = c.max_funcs.min(20);
    c.max_instructions = c.max_instructions.min(200);
    c.allow_start_export = true;
    let mut module = Module::new(c, u).ok()?;
    module.ensure_termination(FUEL).ok()?;
    Some(module.to_bytes())
}

/// A runtime configuration drawn from the bytes: optimization level, IR verifier, bounds-check
/// strategy, memory reservation (from none to the 4 GiB that enables guard pages), guard size and
/// wasm stack size. Also returns the memory reservation.
pub fn runtime_config(
    u: &mut Unstructured<'_>,
    features: WasmFeatures,
) -> arbitrary::Result<(rt::Config, u64)> {
    let mut c = rt::Config::new();
    c.wasm_features(features);
    c.opt_level(*u.choose(&[
        rt::OptLevel::Speed,
        rt::OptLevel::None,
        rt::OptLevel::SpeedAndSize,
    ])?);
    c.cranelift_verifier(u.arbitrary()?);
    c.bounds_checks(*u.choose(&[rt::BoundsChecks::GuardPages, rt::BoundsChecks::Explicit])?);
    let reservation = *u.choose(&[4 << 30, 0, 1 << 16, 1 << 20, 16 << 20, 1 << 31])?;
    c.memory_reservation(reservation);
    c.memory_guard_size(*u.choose(&[2 << 30, 0, 1 << 16, 1 << 20])?);
    c.max_wasm_stack(*u.choose(&[512 << 10, 16 << 10, 64 << 10, 1 << 20])?);
    Ok((c, reservation))
}

/// Whether a runtime `reservation` holds every memory of `wasm` at its maximum (4 GiB and more
/// hold any 32-bit memory), so `memory.grow` can fail only where the spec's limits say.
pub fn reservation_covers(wasm: &[u8], reservation: u64) -> bool {
    if reservation >= 4 << 30 {
        return true;
    }
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::MemorySection(r)) = payload else {
            continue;
        };
        for m in r {
            let Ok(m) = m else { return false };
            if m.maximum.unwrap_or(1 << 16).saturating_mul(1 << 16) > reservation {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::rng::Rng;

    /// Every memory's index type (whether 64-bit) and declared maximum in bytes, of each module the byte-driven generators make
    /// from `inputs` random inputs.
    fn max_memory_bytes(make: impl Fn(&[u8]) -> Option<Vec<u8>>, inputs: u64) -> Vec<(bool, u64)> {
        let mut found = Vec::new();
        for seed in 0..inputs {
            let mut rng = Rng::new(seed);
            let mut data = vec![0u8; 4096];
            rng.fill(&mut data);
            let Some(wasm) = make(&data) else { continue };
            for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
                if let Ok(wasmparser::Payload::MemorySection(r)) = payload {
                    for m in r {
                        let m = m.unwrap();
                        let page = 1u64 << m.page_size_log2.unwrap_or(16);
                        found.push((m.memory64, m.maximum.unwrap().saturating_mul(page)));
                    }
                }
            }
        }
        found
    }

    /// The targets' memories stay within their caps for 64-bit memories too (an uncapped
    /// memory64 once made the `differential` target allocate gigabytes).
    #[test]
    fn generated_memories_stay_within_their_caps() {
        let features = WasmFeatures::all();
        let diff = max_memory_bytes(
            |d| differential(d, features, None).map(|(_, g)| g.wasm),
            300,
        );
        let inst = max_memory_bytes(|d| instantiable(&mut Unstructured::new(d), features), 300);
        for (name, found, cap) in [
            ("differential", diff, 1 << 20),
            ("instantiate", inst, 16 << 20),
        ] {
            assert!(found.iter().any(|m| m.0), "{name}: no 64-bit memory drawn");
            assert!(found.iter().all(|m| m.1 <= cap), "{name}: {found:?}");
        }
    }
}
