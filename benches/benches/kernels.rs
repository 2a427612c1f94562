//! Execution kernels (benches/kernels/*.wat) on our runtime, the oracle and, with
//! `--features peers`, wasmtime and wasmi. Every run's result is checked against the
//! kernel's Rust reference.
//!
//! Compiling engines run the large size, interpreters the smaller one (see
//! `lockstep_benches::kernels`); in test mode (`-- --test`) everything runs the tiny size.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lockstep_benches::engines::{EngineKind, load_checked};
use lockstep_benches::kernels::KERNELS;
use lockstep_benches::report::kernel_n;
use std::time::Duration;

fn kernels(c: &mut Criterion) {
    let test_mode = std::env::args().any(|a| a == "--test");
    for k in KERNELS {
        let mut g = c.benchmark_group(format!("kernel/{}", k.name));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(3));
        for kind in EngineKind::available()
            .into_iter()
            .filter(|e| e.executes(k.needs))
        {
            let n = if test_mode {
                k.tiny_n
            } else {
                kernel_n(kind, k)
            };
            let expected = k.expected(n);
            let mut inst = load_checked(kind, k, n).unwrap();
            g.bench_with_input(
                BenchmarkId::new(kind.name(), format!("n={n}")),
                &n,
                |b, &n| {
                    b.iter(|| {
                        let got = inst.run(n).unwrap();
                        assert_eq!(got, expected, "{} on {}", k.name, kind.name());
                    })
                },
            );
        }
        g.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
