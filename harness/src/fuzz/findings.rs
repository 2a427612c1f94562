//! Findings: shrinking a divergence with wasm-shrink, and writing `DIR/<hash>/` with the module
//! (`.wasm`, `.wat`), a `.wast` reproducer for `lockstep wast --features wasm3 --engine all`, and a text report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::case::{self, Call};
use crate::diff::{Rules, hash_bytes};
use crate::engine::{Engine, Val};
use crate::lockstep::CaseVerdict;
use crate::vote::Vote;

/// Shrink `wasm` while its plan (drawn from `plan_seed`) still diverges with the same key
/// ([`crate::diff::Divergence::key`]). Gives up improving after `budget`. Returns the smallest
/// module found (the input when nothing smaller diverges the same way).
pub fn shrink(
    engines: &[&dyn Engine],
    wasm: &[u8],
    plan_seed: u64,
    rules: Rules,
    key: &str,
    budget: Duration,
) -> Vec<u8> {
    let deadline = Instant::now() + budget;
    let predicate = |candidate: &[u8]| -> anyhow::Result<bool> {
        if Instant::now() > deadline {
            return Ok(false);
        }
        let Ok(calls) = case::plan(candidate, plan_seed) else {
            return Ok(false);
        };
        let r = case::run_case(engines, candidate, &calls, rules);
        Ok(
            matches!(&r.verdict, CaseVerdict::Diverged { divergence, .. } if divergence.key() == key),
        )
    };
    match wasm_shrink::WasmShrink::default()
        .attempts(400)
        .seed(plan_seed)
        .run(wasm.to_vec(), predicate)
    {
        Ok(info) if info.output.len() < wasm.len() => info.output,
        _ => wasm.to_vec(),
    }
}

/// Everything a finding's files say.
#[derive(Clone, Debug)]
pub struct Finding {
    /// "divergence", "crash", "hang" or "panic".
    pub kind: String,
    /// The case seed (modules and arguments are drawn from it).
    pub seed: Option<u64>,
    pub plan_seed: u64,
    pub wasm: Vec<u8>,
    pub original_size: usize,
    pub config: String,
    pub exact_nans: bool,
    /// The engines canonicalized NaNs (`--canonicalize-nans`).
    pub canonicalize_nans: bool,
    /// The diverging call's index in `calls` (None: compile/instantiate, or every call).
    pub call: Option<usize>,
    pub calls: Vec<Call>,
    pub detail: String,
    /// Each engine's outcome of that call.
    pub outcomes: Vec<(String, String)>,
    /// The engines of the campaign, the reference first.
    pub engines: Vec<String>,
    /// What the finding keeps: a divergence's `kind/signature`, or the crash or hang.
    pub key: String,
    /// With three engines or more: who agrees, and who is most likely wrong.
    pub vote: Option<Vote>,
}

/// The summary of a finding that `lockstep report` reads (`finding.json` beside `report.txt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub kind: String,
    pub seed: Option<u64>,
    pub engines: Vec<String>,
    /// The engines most likely wrong, by the vote (empty without one, or without a majority).
    pub odd_ones_out: Vec<String>,
    pub vote: Option<String>,
    /// The divergence's kind and signature, or the crash/hang message.
    pub key: String,
    pub module_bytes: usize,
    pub original_bytes: usize,
    pub detail: String,
}

fn wast_val(v: &Val) -> String {
    match *v {
        Val::I32(x) => format!("(i32.const {})", x as i32),
        Val::I64(x) => format!("(i64.const {})", x as i64),
        Val::F32(b) => {
            let x = f32::from_bits(b);
            if x.is_nan() {
                let sign = if b >> 31 == 1 { "-" } else { "" };
                format!("(f32.const {sign}nan:0x{:x})", b & 0x7f_ffff)
            } else {
                format!("(f32.const {x:?})")
            }
        }
        Val::F64(b) => {
            let x = f64::from_bits(b);
            if x.is_nan() {
                let sign = if b >> 63 == 1 { "-" } else { "" };
                format!("(f64.const {sign}nan:0x{:x})", b & 0xf_ffff_ffff_ffff)
            } else {
                format!("(f64.const {x:?})")
            }
        }
        Val::V128(x) => format!(
            "(v128.const i32x4 0x{:08x} 0x{:08x} 0x{:08x} 0x{:08x})",
            x as u32,
            (x >> 32) as u32,
            (x >> 64) as u32,
            (x >> 96) as u32
        ),
        Val::FuncRef(_) => "(ref.null func)".to_string(),
        Val::ExternRef(None) => "(ref.null extern)".to_string(),
        Val::ExternRef(Some(n)) => format!("(ref.extern {n})"),
        // A script passes only nulls and host numbers (campaign arguments are nothing else);
        // engine-made references have no text form, so they print as their hierarchy's null,
        // like function references above.
        Val::AnyRef(Some(crate::engine::AnyRef::Host(n))) => format!("(ref.host {n})"),
        Val::AnyRef(_) => "(ref.null any)".to_string(),
        Val::Externalized(_) => "(ref.null extern)".to_string(),
        Val::ExnRef(_) => "(ref.null exn)".to_string(),
    }
}

fn wast_string(name: &str) -> String {
    let mut s = String::from("\"");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"_-.:$ ".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:02x}");
        }
    }
    s.push('"');
    s
}

/// A `.wast` script that instantiates the module and repeats the calls up to `upto` (inclusive;
/// all of them when `None`). `lockstep wast --engine all` compares the engines on every call.
pub fn reproducer(wasm: &[u8], calls: &[Call], upto: Option<usize>, header: &str) -> String {
    let mut s = String::new();
    for line in header.lines() {
        let _ = writeln!(s, ";; {line}");
    }
    s.push_str("(module binary\n");
    for chunk in wasm.chunks(32) {
        s.push_str("  \"");
        for b in chunk {
            let _ = write!(s, "\\{b:02x}");
        }
        s.push_str("\"\n");
    }
    s.push_str(")\n");
    let n = upto.map_or(calls.len(), |u| (u + 1).min(calls.len()));
    for c in &calls[..n] {
        let args: Vec<String> = c.args.iter().map(wast_val).collect();
        let _ = writeln!(s, "(invoke {} {})", wast_string(&c.export), args.join(" "));
    }
    s
}

/// Write `dir/<hash>/` for `f` and return that directory.
pub fn write(dir: &Path, f: &Finding) -> std::io::Result<PathBuf> {
    let out = dir.join(format!("{:016x}", hash_bytes(&f.wasm)));
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("module.wasm"), &f.wasm)?;
    let wat = wasmprinter::print_bytes(&f.wasm).unwrap_or_else(|e| format!(";; wasmprinter: {e}"));
    std::fs::write(out.join("module.wat"), wat)?;
    let seed = f.seed.map_or("-".to_string(), |s| s.to_string());
    let header = format!(
        // The campaign draws 3.0 features (tail calls, memory64, ...) whenever every engine
        // executes them, so the replay validates with the 3.0 set.
        "lockstep fuzz finding ({}), case seed {seed}\nreplay: lockstep wast --features wasm3 {}{} repro.wast",
        f.kind,
        f.engines
            .iter()
            .map(|e| format!("--engine {e}"))
            .collect::<Vec<_>>()
            .join(" "),
        if f.canonicalize_nans {
            " --canonicalize-nans"
        } else {
            ""
        }
    );
    std::fs::write(
        out.join("repro.wast"),
        reproducer(&f.wasm, &f.calls, f.call, &header),
    )?;
    let mut r = String::new();
    let _ = writeln!(r, "kind: {}", f.kind);
    let _ = writeln!(r, "case seed: {seed}");
    let _ = writeln!(
        r,
        "module: {} bytes (shrunk from {} bytes)",
        f.wasm.len(),
        f.original_size
    );
    let _ = writeln!(r, "config: {}", f.config);
    let _ = writeln!(
        r,
        "NaN comparison: {}",
        if f.canonicalize_nans {
            "exact (every engine canonicalizes NaNs: --canonicalize-nans)"
        } else if f.exact_nans {
            "exact (the module canonicalizes NaNs)"
        } else {
            "both NaN"
        }
    );
    match f.call.and_then(|i| f.calls.get(i).map(|c| (i, c))) {
        Some((i, c)) => {
            let args: Vec<String> = c.args.iter().map(|a| a.to_string()).collect();
            let _ = writeln!(
                r,
                "call: #{i} {:?}({}) (after {i} earlier calls, all in repro.wast)",
                c.export,
                args.join(", ")
            );
        }
        None if f.kind == "divergence" => {
            let _ = writeln!(
                r,
                "call: none (compiling, instantiating or the start function)"
            );
        }
        None => {
            let _ = writeln!(r, "calls: {} planned (all in repro.wast)", f.calls.len());
        }
    }
    let _ = writeln!(
        r,
        "engines: {} (the first is the reference)",
        f.engines.join(", ")
    );
    let _ = writeln!(r, "difference: {}", f.detail);
    for (engine, o) in &f.outcomes {
        let _ = writeln!(r, "  {engine}: {o}");
    }
    if let Some(v) = &f.vote {
        let _ = writeln!(r, "vote: {v}");
    }
    std::fs::write(out.join("report.txt"), r)?;
    let summary = Summary {
        kind: f.kind.clone(),
        seed: f.seed,
        engines: f.engines.clone(),
        odd_ones_out: f.vote.as_ref().map_or(Vec::new(), |v| {
            v.odd_ones_out().into_iter().map(str::to_string).collect()
        }),
        vote: f.vote.as_ref().map(|v| v.to_string()),
        key: f.key.clone(),
        module_bytes: f.wasm.len(),
        original_bytes: f.original_size,
        detail: f.detail.clone(),
    };
    let json = serde_json::to_string_pretty(&summary).expect("serialisable summary");
    std::fs::write(out.join("finding.json"), json)?;
    Ok(out)
}

/// `lockstep report DIR`: a table of the findings in `dir` (one row per `finding.json`, oldest
/// format first skipped with a note), with a count per engine most likely wrong.
pub fn table(dir: &Path) -> Result<String, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut rows: Vec<(String, Summary)> = Vec::new();
    let mut unreadable = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path().join("finding.json");
        if !entry.path().is_dir() {
            continue;
        }
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Summary>(&t).map_err(|e| e.to_string()))
        {
            Ok(s) => rows.push((entry.file_name().to_string_lossy().into_owned(), s)),
            Err(e) => unreadable.push(format!("{}: {e}", path.display())),
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<16}  {:<10}  {:>20}  {:<26}  {:>7}  {:<40}  key",
        "finding", "kind", "case seed", "engines", "bytes", "vote"
    );
    let mut blamed: std::collections::BTreeMap<&str, usize> = Default::default();
    for (name, s) in &rows {
        for e in &s.odd_ones_out {
            *blamed.entry(e.as_str()).or_default() += 1;
        }
        let vote = match (&s.vote, s.odd_ones_out.is_empty()) {
            (None, _) => "-".to_string(),
            (Some(_), false) => format!("odd one out: {}", s.odd_ones_out.join(", ")),
            (Some(v), true) => v.clone(),
        };
        let _ = writeln!(
            t,
            "{:<16}  {:<10}  {:>20}  {:<26}  {:>7}  {:<40}  {}",
            name,
            s.kind,
            s.seed.map_or("-".to_string(), |x| x.to_string()),
            s.engines.join(","),
            s.module_bytes,
            vote,
            crate::report::one_line(&s.key, 80)
        );
    }
    let _ = writeln!(t, "{} findings", rows.len());
    for (engine, n) in &blamed {
        let _ = writeln!(t, "  {engine}: most likely wrong in {n}");
    }
    for u in &unreadable {
        let _ = writeln!(t, "note: no readable summary: {u}");
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducer_prints_v128_lanes() {
        let v = 0x7fc0_0001_ffff_ffff_8000_0000_0000_0001u128;
        assert_eq!(
            wast_val(&Val::V128(v)),
            "(v128.const i32x4 0x00000001 0x80000000 0xffffffff 0x7fc00001)"
        );
        let wasm = wat::parse_str(r#"(module (func (export "f") (param v128 f32)))"#).unwrap();
        let calls = [Call {
            export: "f".to_string(),
            args: vec![Val::V128(v), Val::F32(0xffc0_0001)],
        }];
        let text = reproducer(&wasm, &calls, None, "header");
        // The script parses, and the argument reads back bit for bit.
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let script: wast::Wast = wast::parser::parse(&buf).unwrap();
        let mut seen = false;
        for d in script.directives {
            if let wast::WastDirective::Invoke(i) = d {
                let wast::WastArg::Core(wast::core::WastArgCore::V128(c)) = &i.args[0] else {
                    panic!("{:?}", i.args[0]);
                };
                assert_eq!(u128::from_le_bytes(c.to_le_bytes()), v);
                seen = true;
            }
        }
        assert!(seen, "{text}");
    }
}
