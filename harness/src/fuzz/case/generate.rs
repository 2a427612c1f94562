//! Drawing a case's module: a swarm wasm-smith configuration and a module from a seed.

use arbitrary::{Arbitrary, Unstructured};
use wasm_smith::{Config, Module};

use crate::features::Features;
use crate::fuzz::rng::Rng;

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
/// targets'): one memory (a campaign with multi-memory on raises it again), few tables, no imports (every export is callable without a host) and
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

/// Cap every memory, 32- or 64-bit, at `bytes`. wasm-smith bounds the two index types separately,
/// and its 64-bit default reaches terabytes: an uncapped memory64 minimum or `memory.grow` makes
/// the oracle allocate it for real (the `differential` fuzz target ran out of memory that way).
pub fn cap_memory_bytes(c: &mut Config, bytes: u64) {
    c.max_memory32_bytes = c.max_memory32_bytes.min(bytes);
    c.max_memory64_bytes = c.max_memory64_bytes.min(u128::from(bytes));
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
    // Only what every engine executes (`allowed`): never threads or the other proposals the
    // campaign does not know. A switch that is off leaves every other draw as it was:
    // `Config::arbitrary` consumes the same bytes either way.
    c.simd_enabled &= allowed.simd;
    c.relaxed_simd_enabled &= allowed.relaxed_simd && c.simd_enabled;
    c.exceptions_enabled &= allowed.exceptions;
    c.threads_enabled = false;
    c.tail_call_enabled &= allowed.tail_call;
    c.gc_enabled &= allowed.gc;
    c.memory64_enabled &= allowed.memory64;
    c.extended_const_enabled &= allowed.extended_const;
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
    let drawn_memories = c.max_memories;
    bound_module(&mut c);
    if allowed.multi_memory {
        c.max_memories = drawn_memories.min(4);
    }
    c.canonicalize_nans = rng.below(2) == 0;
    if let Some(force) = canonicalize_nans {
        c.canonicalize_nans = force;
    }
    cap_memory_bytes(&mut c, [1 << 16, 1 << 17, 1 << 20][rng.below(3) as usize]);
    // At least a few functions: a module without exports tests only instantiation.
    c.max_funcs = c.max_funcs.clamp(4, 40);
    c.min_funcs = 1 + rng.below(4) as usize;
    c.min_types = 1;
    let summary = format!(
        "bulk-memory={} reference-types={} multi-value={} sign-ext={} sat-trunc={} floats={} \
         simd={} canonicalize-nans={} disallow-traps={} max-memory-bytes={} tail-call={} \
         max-memories={} memory64={} gc={} exceptions={} extended-const={} relaxed-simd={}",
        c.bulk_memory_enabled,
        c.reference_types_enabled,
        c.multi_value_enabled,
        c.sign_extension_ops_enabled,
        c.saturating_float_to_int_enabled,
        c.allow_floats,
        c.simd_enabled,
        c.canonicalize_nans,
        c.disallow_traps,
        c.max_memory32_bytes,
        c.tail_call_enabled,
        c.max_memories,
        c.memory64_enabled,
        c.gc_enabled,
        c.exceptions_enabled,
        c.extended_const_enabled,
        c.relaxed_simd_enabled
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
