//! Progress: an indicatif bar on a terminal, one plain line per file otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use crate::wast::FileResult;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines on stdout otherwise. `quiet` shows nothing.
    pub fn new(total: usize, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} files  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            total: if quiet { 0 } else { total },
            done: AtomicUsize::new(0),
        }
    }

    /// Record one finished file.
    pub fn file_done(&self, result: &FileResult) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failed: usize = result.engines.iter().map(|e| e.failed).sum();
        if let Some(bar) = &self.bar {
            bar.set_message(result.path.clone());
            bar.inc(1);
        } else if self.total > 0 {
            let status = if failed > 0 {
                "FAIL"
            } else if result.engines.iter().all(|e| e.sat_out.is_some()) {
                "out "
            } else {
                "ok  "
            };
            let per_engine: Vec<String> = result
                .engines
                .iter()
                .map(|e| match &e.sat_out {
                    Some(_) => format!("{} sat out", e.engine),
                    None => format!(
                        "{} {}/{}",
                        e.engine,
                        e.passed,
                        e.passed + e.failed + e.skipped
                    ),
                })
                .collect();
            println!(
                "[{done:>4}/{:>4}] {status} {}  ({})",
                self.total,
                result.path,
                per_engine.join(", ")
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
