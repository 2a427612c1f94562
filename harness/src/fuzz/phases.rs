//! Where a campaign's time goes: per-phase wall-clock counters, kept by every worker for each
//! case and summed by the supervisor (`lockstep fuzz --phase-times` prints them).
//!
//! The engine phases are measured by [`Timed`], a wrapper around each engine the worker drives,
//! so the adapters and [`crate::lockstep`] stay as they are. Phases are exclusive: a case's
//! worker time is their sum, with `compare` the part of running the case that no engine spent
//! (the differential rules, the lockstep bookkeeping) and `other` what is left (reply encoding,
//! panic guards).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::engine::{
    CompileError, Engine, HeapObject, HeapRefId, InstanceId, InstantiateError, InvokeError,
    ModuleId, Session, Snapshot, Val, WasmFeatures,
};

/// One engine's share of a case, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnginePhases {
    /// Opening sessions (stores, host items).
    pub session: u64,
    pub compile: u64,
    pub instantiate: u64,
    /// Calls, including the adapter's argument and result conversion.
    pub calls: u64,
    /// Copying exported state out for comparison.
    pub snapshot: u64,
}

impl EnginePhases {
    fn total(&self) -> u64 {
        self.session + self.compile + self.instantiate + self.calls + self.snapshot
    }

    fn add(&mut self, o: &EnginePhases) {
        self.session += o.session;
        self.compile += o.compile;
        self.instantiate += o.instantiate;
        self.calls += o.calls;
        self.snapshot += o.snapshot;
    }
}

/// A case's (or, summed, a campaign's) time by phase, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    /// Cases these figures sum.
    pub cases: u64,
    /// Drawing the configuration and the module (wasm-smith).
    pub generate: u64,
    /// Planning the calls.
    pub plan: u64,
    /// Each engine's phases, in engine order.
    pub engines: Vec<EnginePhases>,
    /// Running the case outside the engines: comparisons and bookkeeping.
    pub compare: u64,
    /// Reports of a divergence: outcomes and the vote.
    pub report: u64,
    /// The NaN twin's whole rerun (generation included).
    pub twin: u64,
    /// The whole request in the worker, from reading it to writing the reply.
    pub worker: u64,
    /// The whole request seen from the supervisor, from when the worker could start on it (sent,
    /// or the previous answer received) to its answer: `round_trip - worker` is process traffic,
    /// the supervisor's own latency included.
    pub round_trip: u64,
    /// What the worker waited for this request after answering the one before: the traffic
    /// that actually held the worker up.
    #[serde(default)]
    pub waited: u64,
}

impl Phases {
    pub fn add(&mut self, o: &Phases) {
        self.cases += o.cases;
        self.generate += o.generate;
        self.plan += o.plan;
        if self.engines.len() < o.engines.len() {
            self.engines
                .resize(o.engines.len(), EnginePhases::default());
        }
        for (a, b) in self.engines.iter_mut().zip(&o.engines) {
            a.add(b);
        }
        self.compare += o.compare;
        self.report += o.report;
        self.twin += o.twin;
        self.worker += o.worker;
        self.round_trip += o.round_trip;
        self.waited += o.waited;
    }

    fn accounted(&self) -> u64 {
        self.generate
            + self.plan
            + self.engines.iter().map(EnginePhases::total).sum::<u64>()
            + self.compare
            + self.report
            + self.twin
    }

    /// A table of the phases: time per case and share of the supervisor's round trips.
    pub fn table(&self, names: &[&str]) -> String {
        use std::fmt::Write;
        let cases = self.cases.max(1) as f64;
        let whole = self.round_trip.max(1) as f64;
        let mut out = String::new();
        let mut row = |what: &str, ns: u64| {
            let _ = writeln!(
                out,
                "  {what:<28} {:>9.1} µs/case {:>5.1}%",
                ns as f64 / cases / 1e3,
                100.0 * ns as f64 / whole
            );
        };
        row("generate (wasm-smith)", self.generate);
        row("plan", self.plan);
        for (k, e) in self.engines.iter().enumerate() {
            let name = names.get(k).copied().unwrap_or("engine");
            row(&format!("{name}: session"), e.session);
            row(&format!("{name}: compile"), e.compile);
            row(&format!("{name}: instantiate"), e.instantiate);
            row(&format!("{name}: calls"), e.calls);
            row(&format!("{name}: snapshot"), e.snapshot);
        }
        row("compare and bookkeeping", self.compare);
        row("divergence reports", self.report);
        row("NaN twin reruns", self.twin);
        row(
            "other worker time",
            self.worker.saturating_sub(self.accounted()),
        );
        row(
            "process traffic",
            self.round_trip.saturating_sub(self.worker),
        );
        row("  of which the worker waited", self.waited);
        row("round trip (100%)", self.round_trip);
        out
    }
}

/// Nanoseconds since `t`.
pub fn since(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

/// One engine's counters, shared by its sessions.
#[derive(Default)]
struct Counters {
    session: AtomicU64,
    compile: AtomicU64,
    instantiate: AtomicU64,
    calls: AtomicU64,
    snapshot: AtomicU64,
}

impl Counters {
    fn take(&self) -> EnginePhases {
        let t = |c: &AtomicU64| c.swap(0, Ordering::Relaxed);
        EnginePhases {
            session: t(&self.session),
            compile: t(&self.compile),
            instantiate: t(&self.instantiate),
            calls: t(&self.calls),
            snapshot: t(&self.snapshot),
        }
    }
}

fn timed<R>(counter: &AtomicU64, f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    counter.fetch_add(since(t), Ordering::Relaxed);
    r
}

/// An engine whose sessions count the time spent in each of its phases.
pub struct Timed<'a> {
    inner: &'a dyn Engine,
    counters: std::sync::Arc<Counters>,
}

impl<'a> Timed<'a> {
    pub fn new(inner: &'a dyn Engine) -> Timed<'a> {
        Timed {
            inner,
            counters: Default::default(),
        }
    }

    /// The time counted since the last `take`, and a fresh start.
    pub fn take(&self) -> EnginePhases {
        self.counters.take()
    }
}

/// Take every engine's counters (in order).
pub fn take_all(engines: &[Timed<'_>]) -> Vec<EnginePhases> {
    engines.iter().map(Timed::take).collect()
}

impl Engine for Timed<'_> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn supported_features(&self) -> WasmFeatures {
        self.inner.supported_features()
    }

    fn canonicalizes_nans(&self) -> bool {
        self.inner.canonicalizes_nans()
    }

    fn enumerates_relaxed_simd(&self) -> bool {
        self.inner.enumerates_relaxed_simd()
    }

    fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
        let inner = timed(&self.counters.session, || self.inner.new_session(features));
        Box::new(TimedSession {
            inner,
            counters: self.counters.clone(),
        })
    }
}

struct TimedSession {
    inner: Box<dyn Session>,
    counters: std::sync::Arc<Counters>,
}

impl Session for TimedSession {
    fn compile(&mut self, bytes: &[u8]) -> Result<ModuleId, CompileError> {
        timed(&self.counters.compile, || self.inner.compile(bytes))
    }

    fn instantiate(&mut self, module: ModuleId) -> Result<InstanceId, InstantiateError> {
        timed(&self.counters.instantiate, || {
            self.inner.instantiate(module)
        })
    }

    fn register(&mut self, name: &str, instance: InstanceId) {
        self.inner.register(name, instance)
    }

    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, InvokeError> {
        timed(&self.counters.calls, || {
            self.inner.invoke(instance, export, args)
        })
    }

    fn get_global(&mut self, instance: InstanceId, export: &str) -> Result<Val, String> {
        timed(&self.counters.calls, || {
            self.inner.get_global(instance, export)
        })
    }

    fn snapshot(&mut self, instance: InstanceId) -> Result<Snapshot, String> {
        timed(&self.counters.snapshot, || self.inner.snapshot(instance))
    }

    fn object(&mut self, id: HeapRefId) -> Result<HeapObject, String> {
        timed(&self.counters.snapshot, || self.inner.object(id))
    }

    fn relaxed_choices(&self) -> usize {
        self.inner.relaxed_choices()
    }

    fn set_relaxed_choice(&mut self, choice: usize) {
        self.inner.set_relaxed_choice(choice)
    }

    fn snapshot_exports(
        &mut self,
        instance: InstanceId,
        into: &mut Snapshot,
        copy_memories: bool,
    ) -> Result<bool, String> {
        timed(&self.counters.snapshot, || {
            self.inner.snapshot_exports(instance, into, copy_memories)
        })
    }

    /// Not timed: a lookup; the comparison that reads the bytes counts as comparison.
    fn memory_in_place(&mut self, instance: InstanceId, export: &str) -> Option<&[u8]> {
        self.inner.memory_in_place(instance, export)
    }
}

/// `d` in nanoseconds.
pub fn nanos(d: Duration) -> u64 {
    d.as_nanos() as u64
}
