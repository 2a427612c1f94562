//! `--json`: `{"totals": {"<engine>": {"passed", "failed", "skipped", "sat_out"}}, "files": [...]}`.
//!
//! Totals and file entries also carry the cross-engine counts `divergences`, `inconclusive` and
//! `state_unavailable` (zero when one engine ran). A file entry lists its `failures` and its
//! `skips` (line, directive, reason); `sat_out` is the reason the engine did not take part in
//! the file, or null. In totals, `sat_out` counts files.

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
    sat_out: Option<&'a str>,
    divergences: usize,
    inconclusive: usize,
    relaxed_permitted: usize,
    state_unavailable: usize,
    failures: &'a [Failure],
    skips: &'a [Failure],
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
                "sat_out": c.sat_out,
                "divergences": c.divergences,
                "inconclusive": c.inconclusive,
                "relaxed_permitted": c.relaxed_permitted,
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
                    sat_out: e.sat_out.as_deref(),
                    divergences: e.divergences,
                    inconclusive: e.inconclusive,
                    relaxed_permitted: e.relaxed_permitted,
                    state_unavailable: e.state_unavailable,
                    failures: &e.failures,
                    skips: &e.skips,
                })
                .expect("serialisable"),
            );
        }
    }
    json!({"totals": totals, "files": files})
}
