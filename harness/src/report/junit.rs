//! `--junit`: JUnit XML. One testsuite per suite and engine, one testcase per file. A file's
//! unexpected failures are a `<failure>`; a file whose failures are all listed as expected is
//! `<skipped>`, and so is a file the engine sat out (with the reason); a listed failure that
//! passed is a `<failure>` too. Skipped directives are listed in the testcase's `<system-out>`.

use std::fmt::Write as _;

use super::Group;
use crate::expected::ExpectedFailures;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

struct Case {
    name: String,
    time: f64,
    failure: Option<(String, String)>,
    /// `(message, body)`.
    skipped: Option<(String, String)>,
    /// The skipped directives, one per line.
    out: String,
}

/// The JUnit document of a run.
pub fn report(groups: &[Group], expected: &ExpectedFailures) -> String {
    let mut suites = Vec::new();
    for g in groups {
        let mut engines: Vec<String> = Vec::new();
        for f in &g.files {
            for e in &f.engines {
                if !engines.contains(&e.engine) {
                    engines.push(e.engine.clone());
                }
            }
        }
        for engine in engines {
            let mut cases = Vec::new();
            for f in &g.files {
                let Some(e) = f.engines.iter().find(|e| e.engine == engine) else {
                    continue;
                };
                let mut unexpected = Vec::new();
                let mut listed = Vec::new();
                for failure in &e.failures {
                    let line = format!(
                        "line {}: {}: {}",
                        failure.line, failure.directive, failure.message
                    );
                    match expected.entry_for(&engine, f, failure) {
                        Some(entry) => listed.push(format!("{line} (expected: {})", entry.reason)),
                        None => unexpected.push(line),
                    }
                }
                let stale: Vec<String> = expected
                    .entries_for(&engine, f)
                    .filter(|x| match x.line {
                        Some(l) => !e.failures.iter().any(|fl| fl.line == l),
                        None => e.failures.is_empty(),
                    })
                    .map(|x| {
                        format!(
                            "listed as an expected failure{} but passed: {}",
                            x.line.map(|l| format!(" at line {l}")).unwrap_or_default(),
                            x.reason
                        )
                    })
                    .collect();
                let mut body: Vec<String> = unexpected.clone();
                body.extend(stale.iter().cloned());
                let failure = if body.is_empty() {
                    None
                } else {
                    Some((
                        format!(
                            "{} unexpected failures, {} listed failures passed",
                            unexpected.len(),
                            stale.len()
                        ),
                        body.join("\n"),
                    ))
                };
                let skipped = if let Some(reason) = &e.sat_out {
                    Some(("sat out".to_string(), reason.clone()))
                } else if failure.is_none() && !listed.is_empty() {
                    Some(("expected failures".to_string(), listed.join("\n")))
                } else {
                    None
                };
                let out = e
                    .skips
                    .iter()
                    .map(|k| format!("skipped line {}: {}: {}", k.line, k.directive, k.message))
                    .collect::<Vec<_>>()
                    .join("\n");
                cases.push(Case {
                    name: f.path.clone(),
                    time: e.elapsed.as_secs_f64(),
                    failure,
                    skipped,
                    out,
                });
            }
            suites.push((format!("{}.{}", g.name, engine), cases));
        }
    }

    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|c| c.failure.is_some())
        .count();
    let _ = writeln!(
        s,
        "<testsuites name=\"lockstep\" tests=\"{total}\" failures=\"{failures}\">"
    );
    for (name, cases) in &suites {
        let failures = cases.iter().filter(|c| c.failure.is_some()).count();
        let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
        let time: f64 = cases.iter().map(|c| c.time).sum();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">",
            escape(name),
            cases.len()
        );
        for c in cases {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(name),
                escape(&c.name),
                c.time
            );
            let out = if c.out.is_empty() {
                String::new()
            } else {
                format!("\n      <system-out>{}</system-out>", escape(&c.out))
            };
            match (&c.failure, &c.skipped) {
                (Some((msg, body)), _) => {
                    let _ = writeln!(
                        s,
                        ">\n      <failure message=\"{}\">{}</failure>{out}\n    </testcase>",
                        escape(msg),
                        escape(body)
                    );
                }
                (None, Some((msg, body))) => {
                    let _ = writeln!(
                        s,
                        ">\n      <skipped message=\"{}\">{}</skipped>{out}\n    </testcase>",
                        escape(msg),
                        escape(body)
                    );
                }
                (None, None) if !out.is_empty() => {
                    let _ = writeln!(s, ">{out}\n    </testcase>");
                }
                (None, None) => {
                    let _ = writeln!(s, "/>");
                }
            }
        }
        let _ = writeln!(s, "  </testsuite>");
    }
    s.push_str("</testsuites>\n");
    s
}
