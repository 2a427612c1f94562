//! The engines lockstep can drive, one adapter per file.
//!
//! lockstep's own engines are always built. The third-party peers, Wasmtime and wasmi, are built
//! with the harness's `peers` feature (`cargo build --release -p lockstep-harness --features
//! peers`), configured for parity with lockstep's engines ([`parity`]).

mod instances;
pub mod oracle;
pub mod parity;
pub mod runtime;
#[cfg(feature = "peers")]
pub mod wasmi;
#[cfg(feature = "peers")]
pub mod wasmtime;

use crate::engine::{Engine, InstantiateError};
pub use parity::Parity;

/// An adapter's import resolution: each `(module, name)` of a module's imports, in order, looked
/// up with `resolve`; the first one missing is the link error "unknown import".
pub fn resolve_imports<'a, E>(
    imports: impl IntoIterator<Item = (&'a str, &'a str)>,
    mut resolve: impl FnMut(&str, &str) -> Option<E>,
) -> Result<Vec<E>, InstantiateError> {
    imports
        .into_iter()
        .map(|(module, name)| {
            resolve(module, name).ok_or_else(|| {
                InstantiateError::Link(format!("unknown import: {module:?} {name:?}"))
            })
        })
        .collect()
}

/// The module a session compiled as `id`, for instantiating it.
pub(crate) fn compiled<M: Clone>(
    modules: impl IntoIterator<Item = M>,
    id: crate::engine::ModuleId,
) -> Result<M, InstantiateError> {
    modules
        .into_iter()
        .nth(id.0 as usize)
        .ok_or_else(|| InstantiateError::Other(format!("no module {}", id.0)))
}

/// An engine's constructor: the engine, or why it cannot take part in a run with these
/// [`Parity`] settings (not built, or lacking a switch the run asks for).
pub type Constructor = fn(&Parity) -> Result<Box<dyn Engine>, String>;

#[cfg(not(feature = "peers"))]
fn not_built(_: &Parity) -> Result<Box<dyn Engine>, String> {
    Err("is built only with the harness's `peers` feature \
         (cargo build --release -p lockstep-harness --features peers)"
        .to_string())
}

/// Every engine lockstep knows, by name and constructor. The first is the default reference.
pub const KNOWN: &[(&str, Constructor)] = &[
    ("oracle", |p| Ok(oracle::engine_with(p))),
    ("runtime", |p| Ok(runtime::engine_with(p))),
    #[cfg(feature = "peers")]
    ("wasmtime", wasmtime::engine),
    #[cfg(feature = "peers")]
    ("wasmi", wasmi::engine),
    #[cfg(not(feature = "peers"))]
    ("wasmtime", not_built),
    #[cfg(not(feature = "peers"))]
    ("wasmi", not_built),
];

/// A fresh instance of every built engine, in [`KNOWN`] order.
pub fn all() -> Vec<Box<dyn Engine>> {
    all_with(&Parity::default())
}

/// A fresh instance of every built engine that can run with `parity`, in [`KNOWN`] order.
pub fn all_with(parity: &Parity) -> Vec<Box<dyn Engine>> {
    KNOWN
        .iter()
        .filter_map(|(_, make)| make(parity).ok())
        .collect()
}

/// Select engines by `--engine` values: names or `all` (a value may list several, comma-separated).
pub fn select(names: &[String]) -> Result<Vec<Box<dyn Engine>>, String> {
    select_with(names, &Parity::default())
}

/// [`select`] for a run with `parity`: `all` is every built engine that can run with it, and a
/// named engine that cannot is an error that says why.
pub fn select_with(names: &[String], parity: &Parity) -> Result<Vec<Box<dyn Engine>>, String> {
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
        let engines = all_with(parity);
        if engines.is_empty() {
            return Err("no engine is built that can run with these settings".to_string());
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
        out.push(make(parity).map_err(|why| format!("engine `{name}` {why}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_selected_by_name_and_repeatable() {
        let names = |v: &[&str]| -> Result<Vec<&'static str>, String> {
            let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            select(&v).map(|e| e.iter().map(|e| e.name()).collect())
        };
        assert_eq!(
            names(&["oracle", "runtime"]).unwrap(),
            ["oracle", "runtime"]
        );
        assert_eq!(
            names(&["runtime,oracle", "runtime"]).unwrap(),
            ["runtime", "oracle"]
        );
        assert!(
            names(&["nope"])
                .unwrap_err()
                .contains("unknown engine `nope`")
        );
        let all = names(&["all"]).unwrap();
        assert_eq!(all, names(&[]).unwrap());
        assert_eq!(all.len(), if cfg!(feature = "peers") { 4 } else { 2 });
        let peer = names(&["wasmtime"]);
        if cfg!(feature = "peers") {
            assert_eq!(peer.unwrap(), ["wasmtime"]);
            assert_eq!(names(&["wasmi"]).unwrap(), ["wasmi"]);
        } else {
            assert!(peer.unwrap_err().contains("--features peers"));
        }
    }

    #[test]
    fn canonical_nans_leave_out_engines_without_the_switch() {
        let parity = Parity {
            canonicalize_nans: true,
        };
        let all = all_with(&parity);
        let names: Vec<_> = all.iter().map(|e| e.name()).collect();
        assert_eq!(
            names,
            if cfg!(feature = "peers") {
                vec!["oracle", "runtime", "wasmtime"]
            } else {
                vec!["oracle", "runtime"]
            }
        );
        assert!(all.iter().all(|e| e.canonicalizes_nans()));
        assert!(
            all_with(&Parity::default())
                .iter()
                .all(|e| !e.canonicalizes_nans())
        );
        if cfg!(feature = "peers") {
            let err = select_with(&["wasmi".to_string()], &parity)
                .err()
                .expect("wasmi has no switch");
            assert!(err.contains("NaN canonicalization"), "{err}");
        }
    }
}
