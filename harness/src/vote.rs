//! The vote: when three or more engines ran a diverging step, which of them agree, and which one
//! is most likely wrong.
//!
//! A lockstep step compares every engine with the reference (the first). That finds a
//! divergence but does not say who is wrong: the reference may be the odd one out. The vote
//! replays the case on each engine alone up to the diverging step and groups the engines whose
//! outcome and exported state agree by the [`crate::diff`] rules (call-stack exhaustion, which
//! proves nothing, agrees with anything). The largest group, when it is strictly larger than
//! every other and has two engines or more, is the majority; the engines outside it are the odd
//! ones out. Independent implementations rarely share a bug, so the odd one out is the engine
//! most likely wrong; with no majority the vote says so and names every group.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::diff::{CallResult, Rules, SnapshotResult};
use crate::engine::{Engine, InstantiateError, InvokeError, WasmFeatures};
use crate::features::Features;
use crate::fuzz::case::Call;
use crate::lockstep::{self, Agreement, guarded};

/// Engines grouped by agreement, largest group first (ties in engine order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub groups: Vec<Vec<String>>,
}

/// Group `names` by `agree` (each engine joins the first group whose first member it agrees
/// with), largest group first.
pub fn vote<T>(names: &[&str], items: &[T], agree: impl Fn(&T, &T) -> bool) -> Vote {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match groups.iter_mut().find(|g| agree(&items[g[0]], item)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    Vote {
        groups: groups
            .into_iter()
            .map(|g| g.into_iter().map(|i| names[i].to_string()).collect())
            .collect(),
    }
}

impl Vote {
    /// The engines that agree and outnumber every other group, if there are such (two or more).
    pub fn majority(&self) -> Option<&[String]> {
        let first = self.groups.first()?;
        let unique = self.groups.get(1).is_none_or(|g| g.len() < first.len());
        (unique && first.len() >= 2).then_some(first.as_slice())
    }

    /// The engines outside the majority (none without a majority).
    pub fn odd_ones_out(&self) -> Vec<&str> {
        if self.majority().is_none() {
            return Vec::new();
        }
        self.groups[1..]
            .iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.majority() {
            Some(m) => write!(
                f,
                "majority {}; odd one out: {} (most likely wrong)",
                m.join(", "),
                self.odd_ones_out().join(", ")
            ),
            None => {
                let groups: Vec<String> = self.groups.iter().map(|g| g.join(", ")).collect();
                write!(f, "no majority: {}", groups.join(" | "))
            }
        }
    }
}

/// One engine's step, replayed alone: the outcome and the exported state after it.
type Replayed = (CallResult, Option<SnapshotResult>);

/// Replay `wasm` on `engine` alone: instantiate, then the calls up to `upto` (None: stop after
/// instantiating), and return the last step's outcome and the state after it.
fn replay(
    engine: &dyn Engine,
    features: WasmFeatures,
    wasm: &[u8],
    calls: &[Call],
    upto: Option<usize>,
) -> Replayed {
    let run = || -> Replayed {
        let mut s = engine.new_session(features);
        let m = match s.compile(wasm) {
            Ok(m) => m,
            Err(e) => return (Err(InvokeError::Other(format!("compile: {e}"))), None),
        };
        let i = match s.instantiate(m) {
            Ok(i) => i,
            Err(InstantiateError::Trap(t)) => return (Err(InvokeError::Trap(t)), None),
            Err(e) => return (Err(InvokeError::Other(e.to_string())), None),
        };
        let mut last: CallResult = Ok(vec![]);
        for c in calls.iter().take(upto.map_or(0, |u| u + 1)) {
            last = s.invoke(i, &c.export, &c.args);
        }
        (last, Some(s.snapshot(i)))
    };
    guarded(run).unwrap_or_else(|p| (Err(InvokeError::Other(format!("panicked: {p}"))), None))
}

/// The vote on step `upto` of a case (None: instantiation), with three engines or more.
pub fn on_case(
    engines: &[&dyn Engine],
    wasm: &[u8],
    calls: &[Call],
    upto: Option<usize>,
    rules: Rules,
) -> Option<Vote> {
    if engines.len() < 3 {
        return None;
    }
    // The session features of the whole run, so every engine validates the same way.
    let features = Features::supported_by(engines).session_features();
    let replayed: Vec<(&str, Replayed)> = engines
        .iter()
        .map(|e| (e.name(), replay(*e, features, wasm, calls, upto)))
        .collect();
    let names: Vec<&str> = replayed.iter().map(|(n, _)| *n).collect();
    Some(vote(&names, &replayed, |(a, x), (b, y)| {
        let states = match (&x.1, &y.1) {
            (Some(p), Some(q)) => Some((p, q)),
            _ => None,
        };
        !matches!(
            lockstep::agreement((a, b), (&x.0, &y.0), states, rules),
            Agreement::Diverged(_)
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_value(names: &[&str], values: &[i32]) -> Vote {
        vote(names, values, |a, b| a == b)
    }

    #[test]
    fn the_odd_one_out_is_named() {
        let v = by_value(&["oracle", "runtime", "wasmtime"], &[1, 2, 1]);
        assert_eq!(
            v.majority(),
            Some(&["oracle".to_string(), "wasmtime".to_string()][..])
        );
        assert_eq!(v.odd_ones_out(), ["runtime"]);
        assert_eq!(
            v.to_string(),
            "majority oracle, wasmtime; odd one out: runtime (most likely wrong)"
        );
        // The reference can be the odd one out.
        let v = by_value(&["oracle", "runtime", "wasmtime", "wasmi"], &[3, 1, 1, 1]);
        assert_eq!(v.odd_ones_out(), ["oracle"]);
    }

    #[test]
    fn ties_and_lone_engines_have_no_majority() {
        let v = by_value(&["a", "b", "c"], &[1, 2, 3]);
        assert_eq!(v.majority(), None);
        assert!(v.odd_ones_out().is_empty());
        assert_eq!(v.to_string(), "no majority: a | b | c");
        let v = by_value(&["a", "b", "c", "d"], &[1, 1, 2, 2]);
        assert_eq!(v.majority(), None);
        assert_eq!(v.to_string(), "no majority: a, b | c, d");
        // Two against one against one: the pair is a majority.
        let v = by_value(&["a", "b", "c", "d"], &[1, 2, 2, 3]);
        assert_eq!(v.odd_ones_out(), ["a", "d"]);
    }

    /// An engine that runs the oracle but answers one export differently.
    struct Skewed(Box<dyn Engine>);
    struct SkewedSession(Box<dyn crate::engine::Session>);

    impl Engine for Skewed {
        fn name(&self) -> &'static str {
            "skewed"
        }
        fn supported_features(&self) -> crate::engine::WasmFeatures {
            self.0.supported_features()
        }
        fn new_session(
            &self,
            features: crate::engine::WasmFeatures,
        ) -> Box<dyn crate::engine::Session> {
            Box::new(SkewedSession(self.0.new_session(features)))
        }
    }

    impl crate::engine::Session for SkewedSession {
        fn compile(
            &mut self,
            bytes: &[u8],
        ) -> Result<crate::engine::ModuleId, crate::engine::CompileError> {
            self.0.compile(bytes)
        }
        fn instantiate(
            &mut self,
            m: crate::engine::ModuleId,
        ) -> Result<crate::engine::InstanceId, InstantiateError> {
            self.0.instantiate(m)
        }
        fn register(&mut self, name: &str, i: crate::engine::InstanceId) {
            self.0.register(name, i)
        }
        fn invoke(
            &mut self,
            i: crate::engine::InstanceId,
            export: &str,
            args: &[crate::engine::Val],
        ) -> CallResult {
            let r = self.0.invoke(i, export, args);
            match r {
                Ok(mut v) if export == "add" => {
                    if let Some(crate::engine::Val::I32(x)) = v.first_mut() {
                        *x ^= 1;
                    }
                    Ok(v)
                }
                other => other,
            }
        }
        fn get_global(
            &mut self,
            i: crate::engine::InstanceId,
            export: &str,
        ) -> Result<crate::engine::Val, String> {
            self.0.get_global(i, export)
        }
        fn snapshot(
            &mut self,
            i: crate::engine::InstanceId,
        ) -> Result<crate::engine::Snapshot, String> {
            self.0.snapshot(i)
        }
    }

    #[test]
    fn a_replayed_case_names_the_engine_that_differs() {
        use crate::engine::Val;
        let wasm = wat::parse_str(
            r#"(module (func (export "add") (param i32 i32) (result i32)
                 (i32.add (local.get 0) (local.get 1))))"#,
        )
        .unwrap();
        let calls = [Call {
            export: "add".to_string(),
            args: vec![Val::I32(2), Val::I32(3)],
        }];
        let (a, b) = (
            crate::engines::oracle::engine(),
            crate::engines::runtime::engine(),
        );
        let skewed = Skewed(crate::engines::oracle::engine());
        let engines: Vec<&dyn Engine> = vec![a.as_ref(), &skewed, b.as_ref()];
        let v = on_case(&engines, &wasm, &calls, Some(0), Rules::default()).unwrap();
        assert_eq!(v.odd_ones_out(), ["skewed"], "{v}");
        // Instantiation agrees everywhere: one group.
        let v = on_case(&engines, &wasm, &calls, None, Rules::default()).unwrap();
        assert_eq!(v.groups.len(), 1, "{v}");
        assert!(on_case(&engines[..2], &wasm, &calls, Some(0), Rules::default()).is_none());
    }
}
