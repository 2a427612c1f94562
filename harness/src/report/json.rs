//! `--json`: `{"totals": {"<engine>": {"passed", "failed", "skipped"}}, "files": [...]}`.
//!
//! Totals and file entries also carry the cross-engine counts `divergences`, `inconclusive` and
//! `state_unavailable` (zero when one engine ran).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Group, counts};
use crate::wast::Failure;

#[derive(Serialize)]
struct FileEntry<'a> {
    path: &'a str,
    engine: &'a str,
    passed: usize,
    failed: usize,
    skipped: usize,
    divergences: usize,
    inconclusive: usize,
    state_unavailable: usize,
    failures: &'a [Failure],
}

/// The JSON report of a run.
pub fn report(groups: &[Group]) -> Value {
    let all: Vec<_> = groups
        .iter()
        .flat_map(|g| g.files.iter().cloned())
        .collect();
    let mut totals = Map::new();
    for (engine, c) in counts(&all) {
        totals.insert(
            engine,
            json!({
                "passed": c.passed,
                "failed": c.failed,
                "skipped": c.skipped,
                "divergences": c.divergences,
                "inconclusive": c.inconclusive,
                "state_unavailable": c.state_unavailable,
            }),
        );
    }
    let mut files = Vec::new();
    for f in &all {
        for e in &f.engines {
            files.push(
                serde_json::to_value(FileEntry {
                    path: &f.path,
                    engine: &e.engine,
                    passed: e.passed,
                    failed: e.failed,
                    skipped: e.skipped,
                    divergences: e.divergences,
                    inconclusive: e.inconclusive,
                    state_unavailable: e.state_unavailable,
                    failures: &e.failures,
                })
                .expect("serialisable"),
            );
        }
    }
    json!({"totals": totals, "files": files})
}
