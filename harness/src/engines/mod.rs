//! The engines lockstep can drive, one adapter per file.

pub mod oracle;
pub mod runtime;

use crate::engine::Engine;

/// Every engine lockstep knows, by name and constructor. A constructor returns `None` when the
/// engine is not built yet.
pub type Constructor = fn() -> Option<Box<dyn Engine>>;

/// Every engine lockstep knows, by name and constructor.
pub const KNOWN: &[(&str, Constructor)] =
    &[("oracle", oracle::engine), ("runtime", runtime::engine)];

/// All engines that are built.
pub fn built() -> Vec<Box<dyn Engine>> {
    KNOWN.iter().filter_map(|(_, make)| make()).collect()
}

/// Select engines by `--engine` values: names or `all` (a value may list several, comma-separated).
pub fn select(names: &[String]) -> Result<Vec<Box<dyn Engine>>, String> {
    let names: Vec<String> = names
        .iter()
        .flat_map(|n| n.split(','))
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(bad) = names
        .iter()
        .find(|n| *n != "all" && !KNOWN.iter().any(|(k, _)| k == n))
    {
        let known: Vec<_> = KNOWN.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown engine `{bad}`: expected {} or all",
            known.join(", ")
        ));
    }
    if names.is_empty() || names.iter().any(|n| n == "all") {
        let engines = built();
        if engines.is_empty() {
            return Err("no engine is built".to_string());
        }
        return Ok(engines);
    }
    let mut out: Vec<Box<dyn Engine>> = Vec::new();
    for name in &names {
        let Some((_, make)) = KNOWN.iter().find(|(n, _)| *n == name.as_str()) else {
            unreachable!("names were checked above");
        };
        if out.iter().any(|e| e.name() == name.as_str()) {
            continue;
        }
        match make() {
            Some(e) => out.push(e),
            None => return Err(format!("engine `{name}` is not built yet")),
        }
    }
    Ok(out)
}
