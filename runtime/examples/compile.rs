//! Compile one module N times and nothing else, for instruction counts of the compiler:
//!
//! ```sh
//! cargo build --release -p lockstep-runtime --example compile
//! RAYON_NUM_THREADS=1 valgrind --tool=callgrind target/release/examples/compile \
//!     ../shared/corpus/sightglass/shootout/shootout-keccak.wasm
//! ```
//!
//! The engine has the features `lockstep-bench`'s compile figures enable (memory64,
//! exceptions, function references, GC), so the counts match what those figures time.

use lockstep_runtime::{Config, Engine, Module};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: compile FILE.wasm [N]")?;
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let wasm = std::fs::read(&path)?;
    let mut config = Config::new();
    config.wasm_memory64(true);
    config.wasm_exceptions(true);
    config.wasm_function_references(true);
    config.wasm_gc(true);
    let engine = Engine::new(&config)?;
    for _ in 0..n {
        Module::from_binary(&engine, &wasm)?;
    }
    Ok(())
}
