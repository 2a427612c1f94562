//! Random valid Wasm 2.0 modules (wasm-smith) must compile, instantiate and run without
//! crashing or panicking: every outcome is a value, a trap or an error.

use arbitrary::Unstructured;
use lockstep_runtime::*;

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: false,
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        compact_imports_enabled: false,
        shared_everything_threads_enabled: false,
        custom_descriptors_enabled: false,
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        max_memories: 1,
        max_imports: 0,
        max_memory32_bytes: 1 << 24,
        max_table_elements: 10_000,
        export_everything: true,
        ..Default::default()
    }
}

/// Returns whether the module was accepted.
fn run_one(engine: &Engine, seed: u64) -> bool {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut u = Unstructured::new(&bytes);
    let Ok(mut m) = wasm_smith::Module::new(smith_config(), &mut u) else {
        return false;
    };
    if m.ensure_termination(1_000).is_err() {
        return false;
    }
    let wasm = m.to_bytes();
    let module = match Module::from_binary(engine, &wasm) {
        Ok(m) => m,
        Err(Error::Compile(e)) => panic!("seed {seed}: compilation failed: {e}"),
        Err(e) => {
            eprintln!("seed {seed}: rejected: {e}");
            return false;
        }
    };
    let mut store = Store::new(engine, ());
    let Ok(inst) = Instance::new(&mut store, &module, &[]) else {
        return true;
    };
    for (name, ext) in inst.exports(&mut store) {
        if let Extern::Func(f) = ext {
            let ty = f.ty(&mut store);
            let args: Vec<Val> = ty.params().iter().map(|&t| Val::default_for(t)).collect();
            let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
            let _ = (name, f.call(&mut store, &args, &mut results));
        }
    }
    true
}

#[test]
fn random_modules_never_crash() {
    let guard = Engine::default();
    let mut c = Config::new();
    c.bounds_checks(BoundsChecks::Explicit)
        .opt_level(OptLevel::None);
    let explicit = Engine::new(&c).unwrap();
    let mut c = Config::new();
    c.memory_reservation(1 << 24).memory_guard_size(64 << 10);
    let small = Engine::new(&c).unwrap();
    let engines = [guard, explicit, small];
    let n: u64 = std::env::var("SMITH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let accepted = (0..n)
        .filter(|&seed| run_one(&engines[(seed % 3) as usize], seed))
        .count();
    eprintln!("{accepted} of {n} random modules accepted and run");
}
