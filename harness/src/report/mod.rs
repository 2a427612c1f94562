//! Reporting: progress, the per-suite summary table, JSON and JUnit.

pub mod json;
pub mod junit;
pub mod progress;

use std::fmt::Write as _;

use crate::expected::ListVerdict;
use crate::wast::FileResult;

/// The results of one suite (or of the files given to `lockstep wast`).
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub files: Vec<FileResult>,
}

/// Directive counts of one engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    /// Directives not run, each with a reason (`thread`, `wait`, a dead session, ...).
    pub skipped: usize,
    /// Files the engine did not take part in (it does not execute a feature they need).
    pub sat_out: usize,
    pub message_mismatches: usize,
    /// Cross-engine comparison (`--engine all`): divergences from the reference engine.
    pub divergences: usize,
    /// Cross-engine comparison: calls that could not be compared (call-stack exhaustion).
    pub inconclusive: usize,
    /// Cross-engine comparison: relaxed SIMD results that differ within the permitted set.
    pub relaxed_permitted: usize,
    /// Cross-engine comparison: calls after which state could not be compared.
    pub state_unavailable: usize,
}

/// Per-engine counts over a set of files, in first-seen engine order.
pub fn counts(files: &[FileResult]) -> Vec<(String, Counts)> {
    let mut out: Vec<(String, Counts)> = Vec::new();
    for f in files {
        for e in &f.engines {
            let i = match out.iter().position(|(n, _)| *n == e.engine) {
                Some(i) => i,
                None => {
                    out.push((e.engine.clone(), Counts::default()));
                    out.len() - 1
                }
            };
            let c = &mut out[i].1;
            c.passed += e.passed;
            c.failed += e.failed;
            c.skipped += e.skipped;
            c.sat_out += usize::from(e.sat_out.is_some());
            c.message_mismatches += e.message_mismatches.len();
            c.divergences += e.divergences;
            c.inconclusive += e.inconclusive;
            c.relaxed_permitted += e.relaxed_permitted;
            c.state_unavailable += e.state_unavailable;
        }
    }
    out
}

/// The summary table: one row per suite and engine.
pub fn table(groups: &[Group]) -> String {
    let width = groups
        .iter()
        .map(|g| g.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<width$}  {:>5}  {:<8}  {:>8}  {:>8}  {:>8}  {:>7}",
        "suite", "files", "engine", "passed", "failed", "skipped", "sat out"
    );
    for g in groups {
        for (engine, c) in counts(&g.files) {
            let _ = writeln!(
                s,
                "{:<width$}  {:>5}  {:<8}  {:>8}  {:>8}  {:>8}  {:>7}",
                g.name,
                g.files.len(),
                engine,
                c.passed,
                c.failed,
                c.skipped,
                c.sat_out
            );
        }
    }
    s
}

/// Why directives were skipped and files sat out: one line per engine and distinct reason, with
/// how often it happened (at most `limit` files named per sat-out reason).
pub fn not_run(groups: &[Group], limit: usize) -> String {
    // (engine, reason) -> (count, example files), in first-seen order.
    let mut skips: Vec<((String, String), usize)> = Vec::new();
    let mut sat: Vec<((String, String), Vec<String>)> = Vec::new();
    for f in groups.iter().flat_map(|g| &g.files) {
        for e in &f.engines {
            for k in &e.skips {
                let key = (e.engine.clone(), format!("{}: {}", k.directive, k.message));
                match skips.iter_mut().find(|(x, _)| *x == key) {
                    Some((_, n)) => *n += 1,
                    None => skips.push((key, 1)),
                }
            }
            if let Some(reason) = &e.sat_out {
                let key = (e.engine.clone(), reason.clone());
                match sat.iter_mut().find(|(x, _)| *x == key) {
                    Some((_, files)) => files.push(f.path.clone()),
                    None => sat.push((key, vec![f.path.clone()])),
                }
            }
        }
    }
    let mut s = String::new();
    for ((engine, reason), n) in &skips {
        let what = if *n == 1 { "directive" } else { "directives" };
        let _ = writeln!(s, "skipped: [{engine}] {n} {what}: {reason}");
    }
    for ((engine, reason), files) in &sat {
        let shown: Vec<&str> = files.iter().take(limit).map(String::as_str).collect();
        let more = if files.len() > limit {
            format!(" and {} more", files.len() - limit)
        } else {
            String::new()
        };
        let what = if files.len() == 1 { "file" } else { "files" };
        let _ = writeln!(
            s,
            "sat out: [{engine}] {} {what} {reason}: {}{more}",
            files.len(),
            shown.join(" ")
        );
    }
    s
}

/// The cross-engine comparison in words, when more than one engine ran: divergences,
/// inconclusive calls and calls after which state could not be compared (with the first reason).
pub fn cross_engine(groups: &[Group]) -> String {
    let mut s = String::new();
    let all: Vec<FileResult> = groups
        .iter()
        .flat_map(|g| g.files.iter().cloned())
        .collect();
    if !all.iter().any(|f| f.engines.len() > 1) {
        return s;
    }
    let c = counts(&all);
    let div: usize = c.iter().map(|(_, c)| c.divergences).sum();
    let inc: usize = c.iter().map(|(_, c)| c.inconclusive).sum();
    let _ = writeln!(
        s,
        "cross-engine comparison against {}: {div} divergences, {inc} inconclusive (call stack exhausted)",
        c[0].0
    );
    let relaxed: usize = c.iter().map(|(_, c)| c.relaxed_permitted).sum();
    if relaxed > 0 {
        let _ = writeln!(
            s,
            "note: {relaxed} relaxed SIMD results differed from {} within the results the script permits",
            c[0].0
        );
    }
    for (engine, c) in &c {
        if c.state_unavailable > 0 {
            let note = all
                .iter()
                .flat_map(|f| f.engines.iter())
                .filter(|e| &e.engine == engine)
                .find_map(|e| e.state_note.clone())
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "note: exported state NOT compared after {} calls on {engine}: {note}",
                c.state_unavailable
            );
        }
    }
    s
}

/// Every rejection that passed with a message other than the script's, one per line.
pub fn message_mismatches(groups: &[Group]) -> String {
    let mut s = String::new();
    for g in groups {
        for f in &g.files {
            for e in &f.engines {
                for m in &e.message_mismatches {
                    let _ = writeln!(
                        s,
                        "  [{}] {}:{}: {}: {}",
                        e.engine,
                        f.path,
                        m.line,
                        m.directive,
                        one_line(&m.message, 300)
                    );
                }
            }
        }
    }
    s
}

/// The verdict in words: unexpected failures and listed failures that passed (at most `limit`
/// of each), and the count of error messages that differed where a match is not required.
pub fn verdict(groups: &[Group], verdict: &ListVerdict, limit: usize) -> String {
    let mut s = String::new();
    if !verdict.unexpected.is_empty() {
        let _ = writeln!(s, "unexpected failures: {}", verdict.unexpected.len());
        for u in verdict.unexpected.iter().take(limit) {
            let _ = writeln!(
                s,
                "  [{}] {}:{}: {}: {}",
                u.engine,
                u.path,
                u.failure.line,
                u.failure.directive,
                one_line(&u.failure.message, 300)
            );
        }
        if verdict.unexpected.len() > limit {
            let _ = writeln!(
                s,
                "  ... and {} more (see --json)",
                verdict.unexpected.len() - limit
            );
        }
    }
    if !verdict.now_passing.is_empty() {
        let _ = writeln!(
            s,
            "listed as expected failures but passed (remove them from the list): {}",
            verdict.now_passing.len()
        );
        for e in verdict.now_passing.iter().take(limit) {
            let line = e.line.map(|l| format!(":{l}")).unwrap_or_default();
            let _ = writeln!(s, "  [{}] {}{}: {}", e.engine, e.file, line, e.reason);
        }
    }
    if verdict.expected > 0 {
        let _ = writeln!(s, "expected failures (listed): {}", verdict.expected);
    }
    let mismatches: usize = groups
        .iter()
        .flat_map(|g| counts(&g.files))
        .map(|(_, c)| c.message_mismatches)
        .sum();
    if mismatches > 0 {
        let _ = writeln!(
            s,
            "note: {mismatches} rejections (invalid/malformed/unlinkable) passed with a message other than the script's (--show-messages lists them)"
        );
    }
    s
}

/// The last line: directive totals over every engine, `N passed, N failed`, followed by
/// `, N skipped` when directives were skipped. Files sat out are not directives: [`table`] and
/// [`not_run`] count them.
pub fn last_line(groups: &[Group]) -> String {
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for g in groups {
        for (_, c) in counts(&g.files) {
            passed += c.passed;
            failed += c.failed;
            skipped += c.skipped;
        }
    }
    if skipped > 0 {
        format!("{passed} passed, {failed} failed, {skipped} skipped")
    } else {
        format!("{passed} passed, {failed} failed")
    }
}

/// Shorten a message to one line of at most `max` characters.
pub fn one_line(msg: &str, max: usize) -> String {
    let flat: String = msg
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}...")
    } else {
        flat
    }
}
