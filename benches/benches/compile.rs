//! Compile time in functions/s and bytes/s: generated small, medium and large modules, and
//! the CoreMark and Sightglass modules from ../shared/corpus when present.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lockstep_benches::engines::{Compiler, EngineKind};
use lockstep_benches::report::compile_workloads;
use std::time::Duration;

fn compile(c: &mut Criterion) {
    // Test mode (`-- --test`, as CI runs it) compiles each module once: keep it to the
    // generated modules and CoreMark so it stays quick.
    let test_mode = std::env::args().any(|a| a == "--test");
    for (name, wasm) in compile_workloads(true) {
        if test_mode && !["small", "medium", "large", "coremark"].contains(&name.as_str()) {
            continue;
        }
        let funcs = lockstep_benches::corpus::defined_funcs(&wasm);
        let mut g = c.benchmark_group(format!("compile/{name}"));
        g.throughput(Throughput::ElementsAndBytes {
            elements: funcs,
            bytes: wasm.len() as u64,
        });
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(3));
        for kind in EngineKind::available() {
            let compiler = Compiler::new(kind).unwrap();
            if test_mode {
                // criterion's test run compiles once and fails on an error.
            } else if let Err(e) = compiler.compile(&wasm) {
                eprintln!(
                    "compile/{name} on {}: skipped, it fails: {e:#}",
                    kind.name()
                );
                continue;
            }
            g.bench_with_input(BenchmarkId::from_parameter(kind.name()), &wasm, |b, w| {
                b.iter(|| compiler.compile(w).unwrap())
            });
        }
        g.finish();
    }
}

criterion_group!(benches, compile);
criterion_main!(benches);
