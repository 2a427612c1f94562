//! Expected failures: `spec/expected-failures.toml`.
//!
//! ```toml
//! [[failure]]
//! engine = "oracle"
//! file = "proposals/bulk-memory/table_init.wast"
//! line = 123          # optional: without it, the entry covers every failure of the file
//! reason = "needs the function-references proposal"
//! compared_with = "oracle"  # optional: the entry applies only when this engine ran the file too
//! ```
//!
//! `compared_with` is for divergences: failures that exist only because the cross-engine check
//! compared the engine with that reference engine. A run without the reference ignores the
//! entry, as it ignores entries for files it did not run.
//!
//! A run is as expected when every failure is covered by an entry and every entry still fails.
//! An entry whose failure now passes makes the run fail too, so the list stays true. Entries for
//! files or engines that were not run are ignored, and so are entries for a file an engine sat
//! out (it does not execute a feature the file needs).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::wast::{Failure, FileResult};

/// One entry of the list.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub engine: String,
    pub file: String,
    pub line: Option<usize>,
    pub reason: String,
    #[serde(default)]
    pub compared_with: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    failure: Vec<Entry>,
}

/// The expected-failure list.
#[derive(Clone, Debug, Default)]
pub struct ExpectedFailures {
    pub entries: Vec<Entry>,
}

/// A failure that no entry covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unexpected {
    pub engine: String,
    pub path: String,
    pub failure: Failure,
}

/// How a run compares with the list.
#[derive(Clone, Debug, Default)]
pub struct ListVerdict {
    /// Failures no entry covers.
    pub unexpected: Vec<Unexpected>,
    /// Failures covered by an entry.
    pub expected: usize,
    /// Entries whose failure did not happen.
    pub now_passing: Vec<Entry>,
}

impl ListVerdict {
    /// Everything went as expected.
    pub fn ok(&self) -> bool {
        self.unexpected.is_empty() && self.now_passing.is_empty()
    }
}

/// The default list: `spec/expected-failures.toml` of the workspace this binary was built from,
/// or of the current directory.
pub fn default_path() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/expected-failures.toml");
    if built.exists() {
        built
    } else {
        PathBuf::from("spec/expected-failures.toml")
    }
}

impl ExpectedFailures {
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ListFile = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(ExpectedFailures {
            entries: file.failure,
        })
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Does `entry` apply to `engine`'s run of `file`: the same engine and file, the engine took
    /// part, and so did the `compared_with` engine if one is named?
    fn applies(entry: &Entry, engine: &str, file: &FileResult) -> bool {
        let took_part = |name: &str| {
            file.engines
                .iter()
                .any(|e| e.engine == name && e.sat_out.is_none())
        };
        entry.engine == engine
            && entry.file == file.path
            && took_part(engine)
            && entry.compared_with.as_deref().is_none_or(took_part)
    }

    fn covers(entry: &Entry, engine: &str, file: &FileResult, failure: &Failure) -> bool {
        Self::applies(entry, engine, file) && entry.line.is_none_or(|l| l == failure.line)
    }

    /// The entries that apply to `engine`'s run of `file` (see [`Entry::compared_with`]).
    pub fn entries_for<'a>(
        &'a self,
        engine: &'a str,
        file: &'a FileResult,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| Self::applies(e, engine, file))
    }

    /// Compare a run's results with the list.
    pub fn check(&self, results: &[FileResult]) -> ListVerdict {
        let mut verdict = ListVerdict::default();
        let mut used: HashSet<usize> = HashSet::new();
        let mut applied: HashSet<usize> = HashSet::new();
        for file in results {
            for engine in &file.engines {
                // A file the engine sat out did not run on it: no entry applies.
                applied.extend(
                    (0..self.entries.len())
                        .filter(|&i| Self::applies(&self.entries[i], &engine.engine, file)),
                );
                for failure in &engine.failures {
                    let hit = self
                        .entries
                        .iter()
                        .position(|e| Self::covers(e, &engine.engine, file, failure));
                    match hit {
                        Some(i) => {
                            used.insert(i);
                            verdict.expected += 1;
                        }
                        None => verdict.unexpected.push(Unexpected {
                            engine: engine.engine.clone(),
                            path: file.path.clone(),
                            failure: failure.clone(),
                        }),
                    }
                }
            }
        }
        for (i, entry) in self.entries.iter().enumerate() {
            if applied.contains(&i) && !used.contains(&i) {
                verdict.now_passing.push(entry.clone());
            }
        }
        verdict
    }

    /// The entry covering a failure of `engine` in `file`, if any.
    pub fn entry_for(&self, engine: &str, file: &FileResult, failure: &Failure) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| Self::covers(e, engine, file, failure))
    }
}
