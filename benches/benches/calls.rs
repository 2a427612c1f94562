//! Call overhead (host→wasm typed and untyped with 0 and 4 params; wasm→host with 0 and 4
//! params) and instantiation, on every engine built in. Each call path's result is checked
//! once before timing.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lockstep_benches::calls::{CALL_KINDS, call_bench, instantiate_bench, run_kind};
use lockstep_benches::engines::EngineKind;
use std::time::{Duration, Instant};

fn calls(c: &mut Criterion) {
    let mut benches: Vec<_> = EngineKind::available()
        .into_iter()
        .map(|k| (k, call_bench(k).unwrap()))
        .collect();
    for (kind, _) in CALL_KINDS {
        let mut g = c.benchmark_group(format!("call/{kind}"));
        g.throughput(Throughput::Elements(1));
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(2));
        for (engine, cb) in benches.iter_mut() {
            g.bench_function(BenchmarkId::from_parameter(engine.name()), |b| {
                b.iter_custom(|iters| {
                    let t = Instant::now();
                    // host0/host4 take the count as an i32: split very long batches.
                    let mut left = iters;
                    while left > 0 {
                        let step = left.min(1 << 30);
                        std::hint::black_box(run_kind(cb.as_mut(), kind, step));
                        left -= step;
                    }
                    t.elapsed()
                })
            });
        }
        g.finish();
    }
}

fn instantiate(c: &mut Criterion) {
    let mut g = c.benchmark_group("instantiate");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(2));
    for kind in EngineKind::available() {
        let mut f = instantiate_bench(kind).unwrap();
        g.bench_function(BenchmarkId::from_parameter(kind.name()), |b| b.iter(&mut f));
    }
    g.finish();
}

criterion_group!(benches, calls, instantiate);
criterion_main!(benches);
