//! The engines lockstep can drive, one adapter per file.

pub mod oracle;
pub mod runtime;

use crate::engine::Engine;

/// Makes a fresh engine.
pub type Constructor = fn() -> Box<dyn Engine>;

/// Every engine lockstep knows, by name and constructor. The first is the default reference.
pub const KNOWN: &[(&str, Constructor)] =
    &[("oracle", oracle::engine), ("runtime", runtime::engine)];

/// A fresh instance of every engine, in [`KNOWN`] order.
pub fn all() -> Vec<Box<dyn Engine>> {
    KNOWN.iter().map(|(_, make)| make()).collect()
}

/// Select engines by `--engine` values: names or `all` (a value may list several, comma-separated).
pub fn select(names: &[String]) -> Result<Vec<Box<dyn Engine>>, String> {
    let names: Vec<&str> = names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() || names.contains(&"all") {
        if let Some(bad) = names.iter().find(|n| **n != "all" && by_name(n).is_none()) {
            return Err(unknown(bad));
        }
        return Ok(all());
    }
    let mut out: Vec<Box<dyn Engine>> = Vec::new();
    for name in names {
        let make = by_name(name).ok_or_else(|| unknown(name))?;
        if !out.iter().any(|e| e.name() == name) {
            out.push(make());
        }
    }
    Ok(out)
}

fn by_name(name: &str) -> Option<Constructor> {
    KNOWN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, make)| *make)
}

fn unknown(name: &str) -> String {
    let known: Vec<_> = KNOWN.iter().map(|(n, _)| *n).collect();
    format!(
        "unknown engine `{name}`: expected {} or all",
        known.join(", ")
    )
}
