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

/// Select engines by a `--engine` value: a name or `all`.
pub fn select(names: &[String]) -> Result<Vec<Box<dyn Engine>>, String> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        let engines = built();
        if engines.is_empty() {
            return Err("no engine is built".to_string());
        }
        return Ok(engines);
    }
    let mut out: Vec<Box<dyn Engine>> = Vec::new();
    for name in names {
        let Some((_, make)) = KNOWN.iter().find(|(n, _)| n == name) else {
            let known: Vec<_> = KNOWN.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown engine `{name}`: expected {} or all",
                known.join(", ")
            ));
        };
        if out.iter().any(|e| e.name() == name) {
            continue;
        }
        match make() {
            Some(e) => out.push(e),
            None => return Err(format!("engine `{name}` is not built yet")),
        }
    }
    Ok(out)
}
