//! Criterion benchmarks live here (see the performance issue); this crate is a placeholder until then.
