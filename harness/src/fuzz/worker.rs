//! Supervised worker processes: `lockstep fuzz-worker --features LIST` (hidden) reads one JSON
//! request per line on stdin and answers one JSON line on stdout. The supervisor reads with a
//! wall-clock limit; a worker that dies (segfault, abort) or does not answer in time is killed,
//! recorded as a finding and replaced, and the campaign goes on.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::case::{self, Features, Verdict};
use super::findings;
use crate::diff::Rules;
use crate::engine::Engine;
use crate::wast::runner::guarded;

/// A request to a worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request {
    /// Generate case `seed` and run it.
    Case { seed: u64 },
    /// Generate case `seed`, shrink it while it diverges with `key`, and run the result.
    Shrink {
        seed: u64,
        key: String,
        budget_ms: u64,
    },
}

/// A worker's answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CaseReply {
    pub seed: u64,
    /// pass, diverged, inconclusive, rejected, skipped (the generator failed) or panic.
    pub verdict: String,
    pub calls: u64,
    /// The divergence's key (what a shrunk module must keep).
    pub key: Option<String>,
    pub call: Option<usize>,
    pub detail: String,
    pub state_note: Option<String>,
    /// Each engine's outcome of the diverging call.
    pub outcomes: Vec<(String, String)>,
    /// The shrunk module, in hex (shrink requests).
    pub wasm: Option<String>,
}

impl CaseReply {
    /// The reply for a case whose worker never answered.
    pub fn lost(seed: u64, detail: String) -> CaseReply {
        CaseReply {
            seed,
            verdict: "lost".to_string(),
            detail,
            ..Default::default()
        }
    }
}

/// What became of a request.
#[derive(Debug)]
pub enum Reply {
    Case(CaseReply),
    /// The worker exited; how.
    Died(String),
    TimedOut,
}

/// A running worker.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Worker {
    pub fn spawn(exe: &Path, features: Features) -> std::io::Result<Worker> {
        let mut child = Command::new(exe)
            .args(["fuzz-worker", "--features", &features.to_list()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker {
            child,
            stdin,
            lines,
        })
    }

    fn request(&mut self, req: &Request, timeout: Duration) -> Reply {
        let line = serde_json::to_string(req).expect("serialisable request");
        if writeln!(self.stdin, "{line}")
            .and_then(|_| self.stdin.flush())
            .is_err()
        {
            return Reply::Died(self.status());
        }
        match self.lines.recv_timeout(timeout) {
            Ok(line) => match serde_json::from_str(&line) {
                Ok(r) => Reply::Case(r),
                Err(e) => Reply::Died(format!("unreadable answer {line:?}: {e}")),
            },
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Reply::TimedOut
            }
            Err(RecvTimeoutError::Disconnected) => Reply::Died(self.status()),
        }
    }

    fn status(&mut self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match self.child.wait() {
            Ok(s) => match s.signal() {
                Some(sig) => format!("killed by signal {sig}"),
                None => format!("exited with {s}"),
            },
            Err(e) => format!("cannot wait for it: {e}"),
        }
    }

    pub fn case(&mut self, seed: u64, timeout: Duration) -> Reply {
        self.request(&Request::Case { seed }, timeout)
    }

    pub fn shrink(&mut self, seed: u64, key: &str, budget: Duration) -> Reply {
        self.request(
            &Request::Shrink {
                seed,
                key: key.to_string(),
                budget_ms: budget.as_millis() as u64,
            },
            budget + Duration::from_secs(30),
        )
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// Run one case in this process and describe it.
pub fn run_one(engines: &[&dyn Engine], seed: u64, features: Features) -> CaseReply {
    let mut reply = CaseReply {
        seed,
        ..Default::default()
    };
    let generated = match guarded(|| case::generate(seed, features)) {
        Ok(Ok(g)) => g,
        Ok(Err(e)) | Err(e) => {
            reply.verdict = "skipped".to_string();
            reply.detail = format!("generator: {e}");
            return reply;
        }
    };
    let rules = Rules {
        exact_nans: generated.canonical_nans,
    };
    describe(engines, &generated.wasm, seed, rules, &mut reply);
    // Without NaN canonicalization, NaN bits the spec leaves open can reach integers, memory and
    // globals (reinterpret, store), so a divergence there may be legitimate. Such a divergence
    // counts only if the same case with canonicalization on still diverges.
    if reply.verdict == "diverged" && !generated.canonical_nans {
        let twin = guarded(|| case::generate_with(seed, features, Some(true)));
        if let Ok(Ok(twin)) = twin {
            let mut other = CaseReply {
                seed,
                ..Default::default()
            };
            describe(
                engines,
                &twin.wasm,
                seed,
                Rules { exact_nans: true },
                &mut other,
            );
            if other.verdict == "pass" {
                reply.verdict = "nan-nondeterminism".to_string();
            }
        }
    }
    reply
}

fn describe(engines: &[&dyn Engine], wasm: &[u8], seed: u64, rules: Rules, reply: &mut CaseReply) {
    let calls = match case::plan(wasm, seed) {
        Ok(c) => c,
        Err(e) => {
            reply.verdict = "skipped".to_string();
            reply.detail = format!("plan: {e}");
            return;
        }
    };
    let r = case::run_case(engines, wasm, &calls, rules);
    reply.calls = r.calls as u64;
    reply.state_note = r.state_note;
    match r.verdict {
        Verdict::Pass => reply.verdict = "pass".to_string(),
        Verdict::Inconclusive(m) => {
            reply.verdict = "inconclusive".to_string();
            reply.detail = m;
        }
        Verdict::Rejected(m) => {
            reply.verdict = "rejected".to_string();
            reply.detail = m;
        }
        Verdict::Panicked { engine, message } => {
            reply.verdict = "panic".to_string();
            reply.detail = format!("{engine} panicked: {message}");
        }
        Verdict::Diverged { call, divergence } => {
            reply.verdict = "diverged".to_string();
            reply.key = Some(divergence.key());
            reply.call = call;
            reply.detail = divergence.detail;
            if let Some(i) = call {
                reply.outcomes = case::outcomes_of(engines, wasm, &calls, i);
            }
        }
    }
}

/// The worker's main loop (`lockstep fuzz-worker`). Returns the exit code.
pub fn serve(features: Features) -> i32 {
    let built = crate::engines::built();
    let engines: Vec<&dyn Engine> = built.iter().map(|e| e.as_ref()).collect();
    // The supervisor already narrowed the list; a worker started by hand narrows it too.
    let features = features.intersect(Features::supported_by(&engines));
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return 0 };
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(Request::Case { seed }) => run_one(&engines, seed, features),
            Ok(Request::Shrink {
                seed,
                key,
                budget_ms,
            }) => {
                let mut reply = CaseReply {
                    seed,
                    ..Default::default()
                };
                if let Ok(Ok(g)) = guarded(|| case::generate(seed, features)) {
                    let rules = Rules {
                        exact_nans: g.canonical_nans,
                    };
                    let small = findings::shrink(
                        &engines,
                        &g.wasm,
                        seed,
                        rules,
                        &key,
                        Duration::from_millis(budget_ms),
                    );
                    describe(&engines, &small, seed, rules, &mut reply);
                    reply.wasm = Some(to_hex(&small));
                }
                reply
            }
            Err(e) => {
                return {
                    eprintln!("lockstep fuzz-worker: bad request {line:?}: {e}");
                    2
                };
            }
        };
        let text = serde_json::to_string(&reply).expect("serialisable reply");
        if writeln!(stdout, "{text}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return 0;
        }
    }
    0
}
