//! One lockstep step, the unit every differential check is made of: the same call on every
//! engine (each guarded against panics), each outcome compared with the reference engine's (the
//! first) by the [`crate::diff`] rules, then each engine's exported state, ending in a typed
//! [`StepVerdict`].
//!
//! The campaign's cases ([`crate::fuzz::case`]), the fuzz targets and the proptest suites compare
//! engines through [`Lockstep`]; the `.wast` runner, which executes each directive itself to
//! judge it against the script, compares the outcomes it holds with [`agreement`]. A rule
//! changes in one place. [`nan_twin`] is the rule for modules that leave NaN bits free.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use serde::{Deserialize, Serialize};

use crate::diff::{
    self, CallResult, Comparison, Divergence, DivergenceKind, Rules, SnapshotResult,
    StateComparison,
};
use crate::engine::{
    Engine, HeapRefId, InstanceId, InstantiateError, InvokeError, Session, Snapshot, Val,
    WasmFeatures,
};

/// The outcome given to an engine that compiled a module but was not asked to instantiate it,
/// because the reference ran out of stack or heap instantiating it ([`Lockstep::instantiate`]).
const NOT_INSTANTIATED: &str = "not instantiated: the reference exhausted its stack or heap";

thread_local! {
    static GUARDED: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Run `f`, turning a panic into `Err(message)`. Panics inside are recorded quietly (with their
/// location) instead of being printed by the default hook; panics elsewhere print as usual.
pub fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let recorded = GUARDED.with(|g| {
                let mut g = g.borrow_mut();
                match g.as_mut() {
                    Some(slot) => {
                        let msg = payload_message(info.payload());
                        *slot = Some(match info.location() {
                            Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                            None => msg,
                        });
                        true
                    }
                    None => false,
                }
            });
            if !recorded {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.with(|g| g.borrow_mut().replace(None));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    let recorded = GUARDED.with(|g| std::mem::replace(&mut *g.borrow_mut(), outer));
    r.map_err(|payload| {
        recorded
            .flatten()
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// How one engine compares with the reference on one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// The same outcome and state. `state_note` says why state was not compared, if it was not
    /// (an engine without snapshots): not a pass of the state, so callers surface it.
    Same {
        state_note: Option<String>,
    },
    Diverged(Divergence),
    /// Call-stack exhaustion on either side: neither a pass nor a failure.
    Inconclusive(String),
}

/// Compare one engine's outcome with the reference's, then (when both outcomes agree and
/// `states` are given) the two exported states. `names` are (reference, other).
pub fn agreement(
    names: (&str, &str),
    outcomes: (&CallResult, &CallResult),
    states: Option<(&SnapshotResult, &SnapshotResult)>,
    rules: Rules,
) -> Agreement {
    match diff::compare_calls(names, outcomes.0, outcomes.1, rules) {
        Comparison::Same => {}
        Comparison::Diverged(d) => return Agreement::Diverged(d),
        Comparison::Inconclusive(m) => return Agreement::Inconclusive(m),
    }
    let Some((a, b)) = states else {
        return Agreement::Same { state_note: None };
    };
    match diff::compare_states(names, a, b, rules) {
        StateComparison::Same => Agreement::Same { state_note: None },
        StateComparison::Diverged(d) => Agreement::Diverged(d),
        StateComparison::Unavailable(note) => Agreement::Same {
            state_note: Some(note),
        },
    }
}

/// What one step found, over every engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepVerdict {
    /// Every engine agreed with the reference (see [`Agreement::Same`] for the note).
    Agreed {
        state_note: Option<String>,
    },
    /// The first engine that disagreed with the reference, and how.
    Diverged(Divergence),
    Inconclusive(String),
    Panicked {
        engine: String,
        message: String,
    },
}

/// How a case (a module and its calls, compared step by step) ended. This is what a campaign
/// worker sends back and what the fuzz targets judge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "of", rename_all = "kebab-case")]
pub enum CaseVerdict {
    /// Every engine agreed on every call and on the state after it.
    Pass,
    /// Engines disagreed; `call` is the index into the plan (None: compiling or instantiating).
    Diverged {
        call: Option<usize>,
        divergence: Divergence,
    },
    /// A divergence of a module that does not canonicalize NaNs which vanished with NaN
    /// canonicalization on ([`nan_twin`]): NaN bits the spec leaves open, not a finding.
    NanBitsOnly {
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

/// The NaN-twin rule. Without NaN canonicalization, NaN bits the spec leaves open can reach
/// integers, memory and globals (reinterpret, store), so a divergence there may be legitimate:
/// it counts only if the module's twin, the same draw with canonicalization on (run by
/// `run_twin`, which returns `None` when the twin cannot be made), does not pass.
pub fn nan_twin(
    verdict: CaseVerdict,
    canonical_nans: bool,
    run_twin: impl FnOnce() -> Option<CaseVerdict>,
) -> CaseVerdict {
    match verdict {
        CaseVerdict::Diverged { call, divergence } if !canonical_nans => match run_twin() {
            Some(CaseVerdict::Pass) => CaseVerdict::NanBitsOnly { call, divergence },
            _ => CaseVerdict::Diverged { call, divergence },
        },
        other => other,
    }
}

/// Every engine of a run with its session and the instance the steps call.
pub struct Lockstep {
    names: Vec<&'static str>,
    sessions: Vec<Box<dyn Session>>,
    instances: Vec<InstanceId>,
    /// Each engine's last snapshot, refilled by the next ([`Session::snapshot_into`]).
    snapshots: Vec<SnapshotResult>,
    /// The relaxed SIMD rule's replays, when the module needs relaxed SIMD and the reference
    /// can be told its choice ([`Session::relaxed_choices`]).
    relaxed: Option<Relaxed>,
    /// Steps where an engine differed from the reference's own relaxed SIMD choice and matched
    /// another permitted one ([`diff::consistent_choices`]): counted apart, not findings.
    pub relaxed_permitted: usize,
}

/// The reference engine under its other relaxed SIMD choices (rule 11 of [`crate::diff`]), each
/// replayed on a fresh instance from the start the first time a step needs it, then run on every
/// later call.
struct Relaxed {
    wasm: Vec<u8>,
    /// `shadows[c]` runs choice `c` (index 0, the reference itself, is unused).
    shadows: Vec<Shadow>,
    /// Every call so far, with each engine's outcome.
    history: Vec<(String, Vec<Val>, Vec<CallResult>)>,
    /// Per engine, the choices every outcome of it so far is consistent with (the choice is
    /// fixed per environment, so it must be one for the whole case).
    candidates: Vec<Vec<usize>>,
}

enum Shadow {
    /// A fresh session of the reference engine, not yet needed.
    Spare(Box<dyn Session>),
    /// Replayed: the session, its instance (None: it did not instantiate), its outcome of every
    /// call so far and its last snapshot.
    Live {
        session: Box<dyn Session>,
        instance: Option<InstanceId>,
        outcomes: Vec<CallResult>,
        snapshot: SnapshotResult,
    },
    /// Taken while in use, or unusable.
    Gone,
}

/// Whether `wasm` uses relaxed SIMD: one of its function bodies has a relaxed SIMD instruction.
/// Only asked of a module every engine instantiated, so it is valid; scanning the operators
/// costs a decode, where the two validations this used to take were ~1.5% of a campaign case.
pub fn needs_relaxed_simd(features: WasmFeatures, wasm: &[u8]) -> bool {
    if !features.contains(WasmFeatures::RELAXED_SIMD) {
        return false;
    }
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            return false;
        };
        while !ops.eof() {
            match ops.read() {
                Ok(op) if is_relaxed_simd(&op) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
    false
}

/// `is_relaxed_simd(op)`: whether wasmparser files `op` under the relaxed SIMD proposal (its own
/// list of the SIMD operators by proposal, so no instruction is named here).
macro_rules! define_is_relaxed_simd {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        fn is_relaxed_simd(op: &wasmparser::Operator<'_>) -> bool {
            #[allow(unreachable_patterns)]
            match op {
                $( wasmparser::Operator::$op { .. } => define_is_relaxed_simd!(@is $proposal), )*
                _ => false,
            }
        }
    };
    (@is relaxed_simd) => { true };
    (@is $other:ident) => { false };
}
wasmparser::for_each_visit_simd_operator!(define_is_relaxed_simd);

fn guarded_invoke(s: &mut dyn Session, i: InstanceId, export: &str, args: &[Val]) -> CallResult {
    guarded(|| s.invoke(i, export, args))
        .unwrap_or_else(|p| Err(InvokeError::Other(format!("panicked: {p}"))))
}

/// The live bytes of memory `export` of a session that lent its memories to a snapshot.
fn lent_memory<'s>(
    s: &'s mut dyn Session,
    i: InstanceId,
    export: &str,
    engine: &str,
) -> Result<&'s [u8], String> {
    match guarded(move || s.memory_in_place(i, export)) {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(format!("{engine} did not lend memory {export:?}")),
        Err(p) => Err(format!("{engine} panicked reading memory {export:?}: {p}")),
    }
}

fn guarded_snapshot(s: &mut dyn Session, i: InstanceId, into: &mut Snapshot) -> SnapshotResult {
    match guarded(|| s.snapshot_into(i, into)) {
        Ok(Ok(())) => Ok(std::mem::take(into)),
        Ok(Err(e)) => Err(e),
        Err(p) => Err(format!("panicked: {p}")),
    }
}

impl Relaxed {
    /// Make shadow `c` live: a fresh instance under choice `c`, every call so far replayed on it,
    /// and each engine's candidates narrowed by those calls.
    fn bring_up(&mut self, c: usize, rules: Rules) {
        if !matches!(self.shadows[c], Shadow::Spare(_)) {
            return;
        }
        let Shadow::Spare(mut session) = std::mem::replace(&mut self.shadows[c], Shadow::Gone)
        else {
            return;
        };
        session.set_relaxed_choice(c);
        let instance = guarded(|| {
            let m = session.compile(&self.wasm).ok()?;
            session.instantiate(m).ok()
        })
        .ok()
        .flatten();
        let mut outcomes = Vec::with_capacity(self.history.len());
        for (export, args, _) in &self.history {
            outcomes.push(match instance {
                Some(i) => guarded_invoke(session.as_mut(), i, export, args),
                None => Err(InvokeError::Other("did not instantiate".to_string())),
            });
        }
        for (j, (_, _, engines)) in self.history.iter().enumerate() {
            for (k, cands) in self.candidates.iter_mut().enumerate().skip(1) {
                if !diff::consistent_choices(&[(c, &outcomes[j])], &engines[k], rules).contains(&c)
                {
                    cands.retain(|&x| x != c);
                }
            }
        }
        self.shadows[c] = Shadow::Live {
            session,
            instance,
            outcomes,
            snapshot: Err("no snapshot yet".to_string()),
        };
    }

    /// Run a new call on every live shadow.
    fn call(&mut self, export: &str, args: &[Val]) {
        for shadow in &mut self.shadows {
            if let Shadow::Live {
                session,
                instance,
                outcomes,
                ..
            } = shadow
            {
                outcomes.push(match *instance {
                    Some(i) => guarded_invoke(session.as_mut(), i, export, args),
                    None => Err(InvokeError::Other("did not instantiate".to_string())),
                });
            }
        }
    }

    /// The last outcome of choice `c` (`reference`: choice 0's), if that choice is live.
    fn outcome<'a>(&'a self, c: usize, reference: &'a CallResult) -> Option<&'a CallResult> {
        if c == 0 {
            return Some(reference);
        }
        match &self.shadows[c] {
            Shadow::Live { outcomes, .. } => outcomes.last(),
            _ => None,
        }
    }

    /// Rule 11 for engine `k`'s `outcome` of the last call, which differs from the reference's
    /// `reference` under choice 0 (or agrees, `agrees_with_0`): whether a choice consistent with
    /// every outcome of `k` so far gives it. Narrows `k`'s candidates.
    fn permits(
        &mut self,
        k: usize,
        reference: &CallResult,
        outcome: &CallResult,
        agrees_with_0: bool,
        rules: Rules,
    ) -> bool {
        if agrees_with_0 && self.candidates[k].contains(&0) {
            // Narrow by the live shadows only; the others are checked when brought up.
            let live: Vec<(usize, &CallResult)> = self.candidates[k]
                .iter()
                .filter_map(|&c| self.outcome(c, reference).map(|o| (c, o)))
                .collect();
            let ok = diff::consistent_choices(&live, outcome, rules);
            let unknown: Vec<usize> = self.candidates[k]
                .iter()
                .copied()
                .filter(|&c| self.outcome(c, reference).is_none())
                .collect();
            self.candidates[k] = ok.into_iter().chain(unknown).collect();
            self.candidates[k].sort_unstable();
            return true;
        }
        for c in self.candidates[k].clone() {
            if c != 0 {
                self.bring_up(c, rules);
            }
        }
        let all: Vec<(usize, &CallResult)> = self.candidates[k]
            .iter()
            .filter_map(|&c| self.outcome(c, reference).map(|o| (c, o)))
            .collect();
        let ok = diff::consistent_choices(&all, outcome, rules);
        if ok.is_empty() {
            return false;
        }
        self.candidates[k] = ok;
        true
    }
}

/// Why [`Lockstep::instantiate`] made no instances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotInstantiated {
    /// Compiling or instantiating went differently somewhere: the verdict to report.
    Verdict(CaseVerdict),
    /// Instantiation trapped the same way on every engine: nothing to call.
    TrappedEverywhere,
}

impl Lockstep {
    /// Open a session on every engine (validating with `features`), then compile and instantiate
    /// `wasm` on each. Compilation and instantiation are compared like calls: a module one engine
    /// rejects or traps on is a [`DivergenceKind::Module`] divergence.
    pub fn instantiate(
        engines: &[&dyn Engine],
        features: WasmFeatures,
        wasm: &[u8],
        rules: Rules,
    ) -> Result<Lockstep, NotInstantiated> {
        let panicked = |engine: &dyn Engine, message: String| {
            NotInstantiated::Verdict(CaseVerdict::Panicked {
                engine: engine.name().to_string(),
                message,
            })
        };
        let names: Vec<&'static str> = engines.iter().map(|e| e.name()).collect();
        let mut sessions = Vec::new();
        let mut instances = Vec::new();
        let mut outcomes: Vec<CallResult> = Vec::new();
        let mut rejected = 0;
        for e in engines {
            let mut s = guarded(|| e.new_session(features)).map_err(|m| panicked(*e, m))?;
            let (instance, outcome) =
                match guarded(|| s.compile(wasm)).map_err(|m| panicked(*e, m))? {
                    Err(err) => {
                        rejected += 1;
                        (None, Err(InvokeError::Other(format!("compile: {err}"))))
                    }
                    // The reference ran out of stack or heap instantiating: the case is
                    // inconclusive whatever the others do (rule 5 of `diff`), so they compile
                    // (still checked for panics) but do not instantiate. In the campaign that
                    // was 3.8% of the workers' time (20,000 cases of seed 1): mostly the
                    // runtime filling arrays of hundreds of MiB from `array.new` in a table or
                    // global initializer, past the oracle's 2^24 elements, in 1.3% of the cases.
                    Ok(_) if outcomes.first().is_some_and(diff::exhausted) => {
                        (None, Err(InvokeError::Other(NOT_INSTANTIATED.to_string())))
                    }
                    Ok(m) => {
                        let r = guarded(|| s.instantiate(m)).map_err(|m| panicked(*e, m))?;
                        let outcome = match &r {
                            Ok(_) => Ok(vec![]),
                            Err(InstantiateError::Trap(t)) => Err(InvokeError::Trap(t.clone())),
                            Err(err) => Err(InvokeError::Other(err.to_string())),
                        };
                        (r.ok(), outcome)
                    }
                };
            sessions.push(s);
            instances.push(instance);
            outcomes.push(outcome);
        }
        if rejected == engines.len() {
            return Err(NotInstantiated::Verdict(CaseVerdict::Rejected(
                diff::describe(&outcomes[0]),
            )));
        }
        for k in 1..engines.len() {
            match diff::compare_calls((names[0], names[k]), &outcomes[0], &outcomes[k], rules) {
                Comparison::Same => {}
                Comparison::Diverged(mut d) => {
                    d.kind = DivergenceKind::Module;
                    return Err(NotInstantiated::Verdict(CaseVerdict::Diverged {
                        call: None,
                        divergence: d,
                    }));
                }
                Comparison::Inconclusive(m) => {
                    return Err(NotInstantiated::Verdict(CaseVerdict::Inconclusive(m)));
                }
            }
        }
        let Some(instances) = instances.into_iter().collect::<Option<Vec<_>>>() else {
            return Err(NotInstantiated::TrappedEverywhere);
        };
        let choices = sessions[0].relaxed_choices();
        let relaxed = (engines.len() > 1 && choices > 1 && needs_relaxed_simd(features, wasm))
            .then(|| {
                let mut shadows = vec![Shadow::Gone];
                for _ in 1..choices {
                    shadows.push(match guarded(|| engines[0].new_session(features)) {
                        Ok(s) => Shadow::Spare(s),
                        Err(_) => Shadow::Gone,
                    });
                }
                Relaxed {
                    wasm: wasm.to_vec(),
                    shadows,
                    history: Vec::new(),
                    candidates: vec![(0..choices).collect(); engines.len()],
                }
            });
        Ok(Lockstep {
            names,
            sessions,
            instances,
            snapshots: Vec::new(),
            relaxed,
            relaxed_permitted: 0,
        })
    }

    /// The engines' names, reference first.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// Call `export` with `args` on every engine (each guarded): the outcomes, in engine order,
    /// or the panic as a verdict.
    pub fn invoke(&mut self, export: &str, args: &[Val]) -> Result<Vec<CallResult>, StepVerdict> {
        let mut outcomes = Vec::with_capacity(self.sessions.len());
        for (k, (s, &i)) in self.sessions.iter_mut().zip(&self.instances).enumerate() {
            match guarded(|| s.invoke(i, export, args)) {
                Ok(r) => outcomes.push(r),
                Err(message) => {
                    return Err(StepVerdict::Panicked {
                        engine: self.names[k].to_string(),
                        message,
                    });
                }
            }
        }
        Ok(outcomes)
    }

    /// One step: call `export` with `args` on every engine, compare each outcome with the
    /// reference's, then the exported states.
    pub fn call(&mut self, export: &str, args: &[Val], rules: Rules) -> StepVerdict {
        let outcomes = match self.invoke(export, args) {
            Ok(o) => o,
            Err(panicked) => return panicked,
        };
        if let Some(r) = &mut self.relaxed {
            r.call(export, args);
            r.history
                .push((export.to_string(), args.to_vec(), outcomes.clone()));
        }
        for k in 1..outcomes.len() {
            let names = (self.names[0], self.names[k]);
            let c = diff::compare_calls(names, &outcomes[0], &outcomes[k], rules);
            if let Comparison::Inconclusive(m) = c {
                return StepVerdict::Inconclusive(m);
            }
            let Some(r) = &mut self.relaxed else {
                match c {
                    Comparison::Diverged(d) => return StepVerdict::Diverged(d),
                    _ => continue,
                }
            };
            let same = c.is_same();
            if r.permits(k, &outcomes[0], &outcomes[k], same, rules) {
                if !same {
                    self.relaxed_permitted += 1;
                }
                continue;
            }
            if let Comparison::Diverged(d) = c {
                return StepVerdict::Diverged(d);
            }
            // Agrees with choice 0, which an earlier step ruled out for this engine.
            return StepVerdict::Diverged(Divergence {
                kind: DivergenceKind::Results,
                signature: "relaxed-choice".to_string(),
                detail: format!(
                    "no relaxed SIMD choice of {} gives every result of {} so far",
                    names.0, names.1
                ),
            });
        }
        // Rule 10: structs and arrays returned, field by field (against choice 0 only).
        if let Ok(vals) = &outcomes[0]
            && diff::has_heap_refs(vals)
        {
            for (k, outcome) in outcomes.iter().enumerate().skip(1) {
                let Ok(other) = outcome else { continue };
                if !self.on_choice_0(k) {
                    continue;
                }
                let what = ("result", DivergenceKind::Results);
                match deep(&mut self.sessions, &self.names, k, what, vals, other, rules) {
                    StateComparison::Diverged(d) => return StepVerdict::Diverged(d),
                    StateComparison::Same | StateComparison::Unavailable(_) => {}
                }
            }
        }
        self.compare_state(rules)
    }

    /// Whether engine `k` may still be on the reference's own relaxed SIMD choice.
    fn on_choice_0(&self, k: usize) -> bool {
        self.relaxed
            .as_ref()
            .is_none_or(|r| r.candidates[k].contains(&0))
    }

    /// Snapshot every engine's instance and compare each state with the reference's.
    ///
    /// Memories are compared in place where the engines lend them: copying every exported
    /// memory (up to 4 of 64 KiB-1 MiB) into a snapshot on each engine after every call was
    /// most of the campaign's memmove, and the comparison reads the same bytes either way. The
    /// relaxed SIMD rule keeps full copies (its shadows' states are compared later).
    pub fn compare_state(&mut self, rules: Rules) -> StepVerdict {
        let n = self.sessions.len();
        self.snapshots.resize_with(n, || Ok(Snapshot::default()));
        let lend = self.relaxed.is_none();
        let mut lent = vec![false; n];
        for (((s, &i), slot), lent) in self
            .sessions
            .iter_mut()
            .zip(&self.instances)
            .zip(&mut self.snapshots)
            .zip(&mut lent)
        {
            let mut snap = std::mem::replace(slot, Ok(Snapshot::default())).unwrap_or_default();
            let taken = guarded(|| s.snapshot_exports(i, &mut snap, !lend));
            *slot = match taken {
                Ok(Ok(l)) => {
                    *lent = l;
                    Ok(snap)
                }
                Ok(Err(e)) => Err(e),
                Err(p) => Err(format!("panicked: {p}")),
            };
        }
        let mut state_note = None;
        for k in 1..self.snapshots.len() {
            let names = (self.names[0], self.names[k]);
            let on_0 = self.on_choice_0(k);
            let (first, rest) = self.sessions.split_at_mut(1);
            let (s0, sk) = (first[0].as_mut(), rest[k - 1].as_mut());
            let (i0, ik) = (self.instances[0], self.instances[k]);
            let (lent0, lentk) = (lent[0], lent[k]);
            let mut in_place = |name: &str, x: &[u8], y: &[u8]| {
                let x = if lent0 {
                    lent_memory(s0, i0, name, names.0)?
                } else {
                    x
                };
                let y = if lentk {
                    lent_memory(sk, ik, name, names.1)?
                } else {
                    y
                };
                Ok(diff::compare_memory(names, name, x, y))
            };
            let (a, b) = (&self.snapshots[0], &self.snapshots[k]);
            match diff::compare_states_with(names, a, b, rules, &mut in_place) {
                StateComparison::Same if on_0 => {}
                StateComparison::Unavailable(n) => {
                    state_note.get_or_insert(n);
                }
                c => {
                    let same = matches!(c, StateComparison::Same);
                    if self.relaxed.is_some() && self.states_permit(k, same, rules) {
                        if !same {
                            self.relaxed_permitted += 1;
                        }
                        continue;
                    }
                    match c {
                        StateComparison::Diverged(d) => return StepVerdict::Diverged(d),
                        _ => {
                            return StepVerdict::Diverged(Divergence {
                                kind: DivergenceKind::Global,
                                signature: "relaxed-choice-state".to_string(),
                                detail: format!(
                                    "no relaxed SIMD choice of {} gives every state of {} so far",
                                    names.0, names.1
                                ),
                            });
                        }
                    }
                }
            }
            // Rule 10: structs and arrays in exported globals and tables, field by field.
            if on_0 && let (Ok(a), Ok(b)) = (&self.snapshots[0], &self.snapshots[k]) {
                for ((name, x), (_, y)) in a.globals.iter().zip(&b.globals) {
                    if !diff::has_heap_refs([x]) {
                        continue;
                    }
                    let label = format!("global:{name}");
                    let what = (label.as_str(), DivergenceKind::Global);
                    let (x, y) = (std::slice::from_ref(x), std::slice::from_ref(y));
                    match deep(&mut self.sessions, &self.names, k, what, x, y, rules) {
                        StateComparison::Diverged(d) => return StepVerdict::Diverged(d),
                        StateComparison::Unavailable(n) => {
                            state_note.get_or_insert(n);
                        }
                        StateComparison::Same => {}
                    }
                }
                for ((name, x), (_, y)) in a.tables.iter().zip(&b.tables) {
                    if !diff::has_heap_refs(x) {
                        continue;
                    }
                    let label = format!("table:{name}");
                    let what = (label.as_str(), DivergenceKind::Table);
                    match deep(&mut self.sessions, &self.names, k, what, x, y, rules) {
                        StateComparison::Diverged(d) => return StepVerdict::Diverged(d),
                        StateComparison::Unavailable(n) => {
                            state_note.get_or_insert(n);
                        }
                        StateComparison::Same => {}
                    }
                }
            }
        }
        StepVerdict::Agreed { state_note }
    }

    /// Rule 11 for engine `k`'s state after the last call (`same`: it agrees with choice 0):
    /// whether a choice still consistent with `k` gives it. Narrows `k`'s candidates.
    fn states_permit(&mut self, k: usize, same: bool, rules: Rules) -> bool {
        let Some(r) = &mut self.relaxed else {
            return false;
        };
        if !same {
            for c in r.candidates[k].clone() {
                if c != 0 {
                    r.bring_up(c, rules);
                }
            }
        }
        let mut states: Vec<(usize, SnapshotResult)> = Vec::new();
        for &c in &r.candidates[k] {
            if c == 0 {
                continue;
            }
            if let Shadow::Live {
                session,
                instance: Some(i),
                snapshot,
                ..
            } = &mut r.shadows[c]
            {
                let mut buf =
                    std::mem::replace(snapshot, Ok(Snapshot::default())).unwrap_or_default();
                *snapshot = guarded_snapshot(session.as_mut(), *i, &mut buf);
                states.push((c, snapshot.clone()));
            }
        }
        // Choice 0 is here only when it disagrees (or was ruled out): the caller checked it.
        let choices: Vec<(usize, &SnapshotResult)> = states.iter().map(|(c, s)| (*c, s)).collect();
        let ok = diff::consistent_states(&choices, &self.snapshots[k], rules);
        if ok.is_empty() {
            return false;
        }
        // Choices not live yet stay candidates only while choice 0 agrees (checked when brought up).
        let r = self.relaxed.as_mut().expect("relaxed");
        let keep: Vec<usize> = r.candidates[k]
            .iter()
            .copied()
            .filter(|&c| {
                ok.contains(&c) || (same && c != 0 && !matches!(r.shadows[c], Shadow::Live { .. }))
            })
            .collect();
        r.candidates[k] = keep;
        true
    }
}

/// Rule 10 between the reference (engine 0) and engine `k`: their objects reachable from `a`
/// and `b`, each read through its own session (guarded).
fn deep(
    sessions: &mut [Box<dyn Session>],
    names: &[&'static str],
    k: usize,
    what: (&str, DivergenceKind),
    a: &[Val],
    b: &[Val],
    rules: Rules,
) -> StateComparison {
    let (first, rest) = sessions.split_at_mut(1);
    let (s0, sk) = (&mut first[0], &mut rest[k - 1]);
    let mut read0 =
        |id: HeapRefId| guarded(|| s0.object(id)).unwrap_or_else(|p| Err(format!("panicked: {p}")));
    let mut readk =
        |id: HeapRefId| guarded(|| sk.object(id)).unwrap_or_else(|p| Err(format!("panicked: {p}")));
    diff::compare_deep(
        (names[0], names[k]),
        what,
        a,
        b,
        (&mut read0, &mut readk),
        rules,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Session` methods a test wrapper passes straight to its `inner` session.
    macro_rules! forward_to_inner {
        () => {
            fn compile(
                &mut self,
                b: &[u8],
            ) -> Result<crate::engine::ModuleId, crate::engine::CompileError> {
                self.inner.compile(b)
            }
            fn instantiate(
                &mut self,
                m: crate::engine::ModuleId,
            ) -> Result<InstanceId, InstantiateError> {
                self.inner.instantiate(m)
            }
            fn register(&mut self, name: &str, i: InstanceId) {
                self.inner.register(name, i)
            }
            fn get_global(&mut self, i: InstanceId, e: &str) -> Result<Val, String> {
                self.inner.get_global(i, e)
            }
        };
    }

    fn diverged() -> CaseVerdict {
        CaseVerdict::Diverged {
            call: Some(2),
            divergence: Divergence {
                kind: DivergenceKind::Memory,
                signature: "memory:mem".to_string(),
                detail: "memory \"mem\" first differs".to_string(),
            },
        }
    }

    #[test]
    fn the_nan_twin_sets_a_divergence_aside_only_when_the_twin_passes() {
        let with_twin = |twin: Option<CaseVerdict>| nan_twin(diverged(), false, || twin);
        assert!(matches!(
            with_twin(Some(CaseVerdict::Pass)),
            CaseVerdict::NanBitsOnly { call: Some(2), .. }
        ));
        for twin in [
            Some(diverged()),
            Some(CaseVerdict::Inconclusive("stack".to_string())),
            None,
        ] {
            assert_eq!(with_twin(twin), diverged());
        }
        // A module that canonicalizes NaNs has no twin to ask.
        let asked = std::cell::Cell::new(false);
        let v = nan_twin(diverged(), true, || {
            asked.set(true);
            Some(CaseVerdict::Pass)
        });
        assert_eq!(v, diverged());
        assert!(!asked.get());
        assert_eq!(
            nan_twin(CaseVerdict::Pass, false, || unreachable!()),
            CaseVerdict::Pass
        );
    }

    /// The oracle, its sessions on relaxed SIMD choice `choice(call number)` and hiding that
    /// they could be told another: an engine with its own fixed (or, wrongly, changing) choice.
    /// `lie` adds one to every i32 result.
    struct Pinned {
        choice: fn(usize) -> usize,
        lie: bool,
    }

    struct PinnedSession {
        inner: Box<dyn Session>,
        choice: fn(usize) -> usize,
        calls: usize,
        lie: bool,
    }

    impl Engine for Pinned {
        fn name(&self) -> &'static str {
            "pinned"
        }
        fn supported_features(&self) -> WasmFeatures {
            crate::engines::oracle::OracleEngine::default().supported_features()
        }
        fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
            Box::new(PinnedSession {
                inner: crate::engines::oracle::OracleEngine::default().new_session(features),
                choice: self.choice,
                calls: 0,
                lie: self.lie,
            })
        }
    }

    impl Session for PinnedSession {
        forward_to_inner!();
        fn invoke(
            &mut self,
            i: InstanceId,
            e: &str,
            args: &[Val],
        ) -> Result<Vec<Val>, InvokeError> {
            self.inner.set_relaxed_choice((self.choice)(self.calls));
            self.calls += 1;
            let r = self.inner.invoke(i, e, args)?;
            Ok(r.into_iter()
                .map(|v| match v {
                    Val::I32(x) if self.lie => Val::I32(x.wrapping_add(1)),
                    v => v,
                })
                .collect())
        }
        fn snapshot(&mut self, i: InstanceId) -> Result<Snapshot, String> {
            self.inner.snapshot(i)
        }
    }

    /// `relaxed_trunc` of a NaN lane: 0 under the oracle's choice 0, `INT_MIN` under the others.
    const RELAXED: &str = r#"(module
        (func (export "t") (param f32) (result i32)
            (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (f32x4.splat (local.get 0)))))
        (func (export "plain") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))"#;

    #[test]
    fn only_a_relaxed_instruction_needs_relaxed_simd() {
        let features =
            crate::suite::required_2_0() | WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD;
        let plain = wat::parse_str(
            r#"(module (func (export "f") (param v128) (result v128)
                (i32x4.add (local.get 0) (local.get 0))))"#,
        )
        .expect("wat");
        assert!(!needs_relaxed_simd(features, &plain));
        let relaxed = wat::parse_str(RELAXED).expect("wat");
        assert!(needs_relaxed_simd(features, &relaxed));
        assert!(!needs_relaxed_simd(
            features - WasmFeatures::RELAXED_SIMD,
            &relaxed
        ));
    }

    fn run_relaxed(other: Pinned) -> (StepVerdict, StepVerdict, usize) {
        let wasm = wat::parse_str(RELAXED).expect("wat");
        let oracle = crate::engines::oracle::OracleEngine::default();
        let engines: [&dyn Engine; 2] = [&oracle, &other];
        let features =
            crate::suite::required_2_0() | WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD;
        assert!(needs_relaxed_simd(features, &wasm));
        let rules = Rules::default();
        let mut l = Lockstep::instantiate(&engines, features, &wasm, rules)
            .unwrap_or_else(|_| panic!("instantiates"));
        let nan = [Val::F32(0x7fc0_0000)];
        let first = l.call("t", &nan, rules);
        let second = l.call("t", &nan, rules);
        (first, second, l.relaxed_permitted)
    }

    #[test]
    fn a_relaxed_result_of_another_permitted_choice_is_accepted_and_counted() {
        let agreed = StepVerdict::Agreed { state_note: None };
        // On the oracle's own choice: nothing to count.
        let (a, b, n) = run_relaxed(Pinned {
            choice: |_| 0,
            lie: false,
        });
        assert_eq!((a, b, n), (agreed.clone(), agreed.clone(), 0));
        // On another choice, every call: accepted, counted apart.
        let (a, b, n) = run_relaxed(Pinned {
            choice: |_| 2,
            lie: false,
        });
        assert_eq!((a, b, n), (agreed.clone(), agreed, 2));
    }

    /// A relaxed result that reaches only a global: the state is checked against the choices.
    #[test]
    fn a_relaxed_state_of_another_choice_is_accepted_on_every_later_call() {
        let wasm = wat::parse_str(
            r#"(module
                (global (export "g") (mut i32) (i32.const 0))
                (func (export "set") (param v128)
                    (global.set 0 (i16x8.extract_lane_u 6 (i32x4.relaxed_trunc_f32x4_s (local.get 0)))))
                (func (export "nop") (param v128)))"#,
        )
        .expect("wat");
        let oracle = crate::engines::oracle::OracleEngine::default();
        let other = Pinned {
            choice: |_| 1,
            lie: false,
        };
        let engines: [&dyn Engine; 2] = [&oracle, &other];
        let features =
            crate::suite::required_2_0() | WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD;
        let rules = Rules::default();
        let mut l = Lockstep::instantiate(&engines, features, &wasm, rules)
            .unwrap_or_else(|_| panic!("instantiates"));
        let agreed = StepVerdict::Agreed { state_note: None };
        assert_eq!(l.compare_state(rules), agreed);
        let big = Val::V128(0x7f7f_ffff_u128 << 96);
        assert_eq!(l.call("set", &[big], rules), agreed);
        assert_eq!(l.call("nop", &[big], rules), agreed);
        assert_eq!(l.call("nop", &[Val::V128(0)], rules), agreed);
        assert!(l.relaxed_permitted >= 3, "{}", l.relaxed_permitted);
    }

    #[test]
    fn a_result_no_permitted_choice_gives_is_a_divergence() {
        // A wrong result.
        let (a, _, _) = run_relaxed(Pinned {
            choice: |_| 1,
            lie: true,
        });
        assert!(
            matches!(a, StepVerdict::Diverged(ref d) if d.signature == "result:0"),
            "{a:?}"
        );
        // Each result permitted alone, but by different choices: the choice is fixed per
        // environment, so the second call diverges.
        let (a, b, _) = run_relaxed(Pinned {
            choice: |n| if n == 0 { 1 } else { 0 },
            lie: false,
        });
        assert_eq!(a, StepVerdict::Agreed { state_note: None });
        assert!(
            matches!(b, StepVerdict::Diverged(ref d) if d.signature == "relaxed-choice"),
            "{b:?}"
        );
    }

    #[test]
    fn case_verdicts_round_trip_through_json() {
        for v in [
            CaseVerdict::Pass,
            diverged(),
            CaseVerdict::Rejected("compile: invalid".to_string()),
            CaseVerdict::Panicked {
                engine: "runtime".to_string(),
                message: "boom".to_string(),
            },
        ] {
            let text = serde_json::to_string(&v).expect("serialisable");
            assert_eq!(
                serde_json::from_str::<CaseVerdict>(&text).expect("parses"),
                v
            );
        }
    }

    #[test]
    fn guarded_turns_a_panic_into_its_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let e = guarded(|| panic!("boom {}", 1)).expect_err("a panic");
        assert!(e.starts_with("boom 1 (at "), "{e}");
    }

    /// The oracle with its memories' first byte flipped (`flip`), lending them in place or not
    /// (`lend`): memories compared in place and copied must give the same verdicts.
    struct Scribbled {
        lend: bool,
        flip: bool,
    }

    struct ScribbledSession {
        inner: Box<dyn Session>,
        lend: bool,
        flip: bool,
        buf: Vec<u8>,
    }

    impl Engine for Scribbled {
        fn name(&self) -> &'static str {
            "scribbled"
        }
        fn supported_features(&self) -> WasmFeatures {
            crate::engines::oracle::OracleEngine::default().supported_features()
        }
        fn new_session(&self, features: WasmFeatures) -> Box<dyn Session> {
            Box::new(ScribbledSession {
                inner: crate::engines::oracle::OracleEngine::default().new_session(features),
                lend: self.lend,
                flip: self.flip,
                buf: Vec::new(),
            })
        }
    }

    impl Session for ScribbledSession {
        forward_to_inner!();
        fn invoke(
            &mut self,
            i: InstanceId,
            e: &str,
            args: &[Val],
        ) -> Result<Vec<Val>, InvokeError> {
            self.inner.invoke(i, e, args)
        }
        fn snapshot_exports(
            &mut self,
            i: InstanceId,
            into: &mut Snapshot,
            copy_memories: bool,
        ) -> Result<bool, String> {
            let lent = self
                .inner
                .snapshot_exports(i, into, copy_memories || !self.lend)?;
            for (_, m) in &mut into.memories {
                if self.flip && !m.is_empty() {
                    m[0] ^= 1;
                }
            }
            Ok(lent)
        }
        fn memory_in_place(&mut self, i: InstanceId, export: &str) -> Option<&[u8]> {
            let m = self.inner.memory_in_place(i, export)?;
            if !self.flip {
                return Some(m);
            }
            self.buf.clear();
            self.buf.extend_from_slice(m);
            if let Some(b) = self.buf.first_mut() {
                *b ^= 1;
            }
            Some(&self.buf)
        }
    }

    const MEMORY: &str = r#"(module
        (memory (export "mem") 1)
        (global (export "g") (mut i32) (i32.const 0))
        (func (export "store") (param i32) (i32.store8 (i32.const 3) (local.get 0))))"#;

    /// The state after instantiation and after a store, `engines[0]` the reference.
    fn memory_states(engines: [&dyn Engine; 2]) -> (StepVerdict, StepVerdict) {
        let wasm = wat::parse_str(MEMORY).expect("wat");
        let rules = Rules::default();
        let mut l = Lockstep::instantiate(&engines, crate::suite::required_2_0(), &wasm, rules)
            .unwrap_or_else(|_| panic!("instantiates"));
        let first = l.compare_state(rules);
        (first, l.call("store", &[Val::I32(9)], rules))
    }

    #[test]
    fn memories_compared_in_place_or_copied_give_the_same_verdicts() {
        let agreed = StepVerdict::Agreed { state_note: None };
        let oracle = crate::engines::oracle::OracleEngine::default();
        let runtime = crate::engines::runtime::engine();
        // Both engines lend their memories.
        let both = memory_states([&oracle, runtime.as_ref()]);
        assert_eq!(both, (agreed.clone(), agreed.clone()));
        // One lends, the other copies.
        for lend in [true, false] {
            let same = Scribbled { lend, flip: false };
            assert_eq!(
                memory_states([&oracle, &same]),
                (agreed.clone(), agreed.clone())
            );
            assert_eq!(
                memory_states([&same, &oracle]),
                (agreed.clone(), agreed.clone())
            );
        }
        // A differing byte is found either way, with the same report.
        let mut reports = Vec::new();
        for lend in [true, false] {
            let flipped = Scribbled { lend, flip: true };
            let (first, second) = memory_states([&oracle, &flipped]);
            for v in [first, second] {
                let StepVerdict::Diverged(d) = v else {
                    panic!("a divergence, not {v:?}");
                };
                assert_eq!(d.signature, "memory:mem");
                assert!(
                    d.detail.contains("first differs at bytes 0x0..0x1"),
                    "{}",
                    d.detail
                );
                reports.push(d);
            }
        }
        assert_eq!(reports[0], reports[2]);
        assert_eq!(reports[1], reports[3]);
    }
}
