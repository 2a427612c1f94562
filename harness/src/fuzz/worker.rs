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

use super::case;
use super::findings;
use super::phases::{self, Phases, Timed};
use crate::diff::Rules;
use crate::engine::Engine;
use crate::features::Features;
use crate::lockstep::{CaseVerdict, guarded, nan_twin};
use crate::vote::Vote;

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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseReply {
    pub seed: u64,
    pub verdict: ReplyVerdict,
    pub calls: u64,
    pub state_note: Option<String>,
    /// Steps accepted by the relaxed SIMD rule (results within the permitted set).
    #[serde(default)]
    pub relaxed_permitted: u64,
    /// Each engine's outcome of the diverging call.
    pub outcomes: Vec<(String, String)>,
    /// The shrunk module, in hex (shrink requests).
    pub wasm: Option<String>,
    /// With three engines or more, a divergence's vote ([`crate::vote`]).
    pub vote: Option<Vote>,
    /// Where the worker's time went (case requests).
    #[serde(default)]
    pub phases: Option<Box<Phases>>,
}

/// What a worker made of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "case", rename_all = "kebab-case")]
pub enum ReplyVerdict {
    /// The case ran; how it ended.
    Ran(CaseVerdict),
    /// There was no case to run: the generator or the call planner failed (why).
    Skipped(String),
    /// The worker died or hung on it (how); made by the supervisor, never sent.
    Lost(String),
}

impl CaseReply {
    fn new(seed: u64, verdict: ReplyVerdict) -> CaseReply {
        CaseReply {
            seed,
            verdict,
            calls: 0,
            state_note: None,
            relaxed_permitted: 0,
            outcomes: Vec::new(),
            wasm: None,
            vote: None,
            phases: None,
        }
    }

    /// The reply for a case whose worker never answered.
    pub fn lost(seed: u64, detail: String) -> CaseReply {
        CaseReply::new(seed, ReplyVerdict::Lost(detail))
    }

    /// The divergence, if the case diverged.
    pub fn divergence(&self) -> Option<(Option<usize>, &crate::diff::Divergence)> {
        match &self.verdict {
            ReplyVerdict::Ran(CaseVerdict::Diverged { call, divergence }) => {
                Some((*call, divergence))
            }
            _ => None,
        }
    }

    /// What happened, in one paragraph (finding reports).
    pub fn detail(&self) -> String {
        match &self.verdict {
            ReplyVerdict::Ran(v) => match v {
                CaseVerdict::Pass => "every engine agreed".to_string(),
                CaseVerdict::Diverged { divergence, .. }
                | CaseVerdict::NanBitsOnly { divergence, .. } => divergence.detail.clone(),
                CaseVerdict::Inconclusive(m) | CaseVerdict::Rejected(m) => m.clone(),
                CaseVerdict::Panicked { engine, message } => {
                    format!("{engine} panicked: {message}")
                }
            },
            ReplyVerdict::Skipped(m) | ReplyVerdict::Lost(m) => m.clone(),
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
    /// When each request in flight was sent, oldest first.
    sent: std::collections::VecDeque<std::time::Instant>,
    /// When the last answer came.
    answered: Option<std::time::Instant>,
}

impl Worker {
    /// Start a worker; its engines compile each module on `compile_threads` threads, and
    /// canonicalize NaNs with `canonicalize_nans`.
    pub fn spawn(
        exe: &Path,
        features: Features,
        engines: &[String],
        canonicalize_nans: bool,
        compile_threads: usize,
    ) -> std::io::Result<Worker> {
        let mut child = Command::new(exe)
            .args(["fuzz-worker", "--features", &features.to_list()])
            .args(canonicalize_nans.then_some("--canonicalize-nans"))
            .args(["--compile-threads", &compile_threads.max(1).to_string()])
            .args(["--supervisor", &std::process::id().to_string()])
            .args(engines.iter().flat_map(|e| ["--engine", e.as_str()]))
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
            sent: Default::default(),
            answered: None,
        })
    }

    /// Write a request without waiting for its answer. False if the worker is gone (its
    /// [`Worker::receive`] then says how).
    fn send(&mut self, req: &Request) -> bool {
        let line = serde_json::to_string(req).expect("serialisable request");
        let ok = writeln!(self.stdin, "{line}")
            .and_then(|_| self.stdin.flush())
            .is_ok();
        if ok {
            self.sent.push_back(std::time::Instant::now());
        }
        ok
    }

    /// The answer to the oldest request not answered yet, waiting at most `timeout` for it. The
    /// worker answers in order, so a worker that dies or hangs did so on that request.
    pub fn receive(&mut self, timeout: Duration) -> Reply {
        let Some(sent) = self.sent.pop_front() else {
            return Reply::Died("no request was sent".to_string());
        };
        match self.lines.recv_timeout(timeout) {
            Ok(line) => match serde_json::from_str::<CaseReply>(&line) {
                Ok(mut r) => {
                    let now = std::time::Instant::now();
                    // The worker started on this request when it was sent or when it answered
                    // the one before, whichever came last.
                    let start = self.answered.map_or(sent, |a| a.max(sent));
                    self.answered = Some(now);
                    if let Some(p) = &mut r.phases {
                        p.round_trip = phases::nanos(now - start);
                    }
                    Reply::Case(r)
                }
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

    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.sent.len()
    }

    fn request(&mut self, req: &Request, timeout: Duration) -> Reply {
        if !self.send(req) {
            return Reply::Died(self.status());
        }
        self.receive(timeout)
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

    /// Queue case `seed` behind the requests in flight ([`Worker::receive`] answers it).
    pub fn send_case(&mut self, seed: u64) -> bool {
        self.send(&Request::Case { seed })
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

/// Run one case in this process, with the NaN-twin rule ([`nan_twin`]), counting where the time
/// goes in the reply's `phases` (the engines' phases through `engines`' counters).
pub fn run_one(engines: &[Timed<'_>], seed: u64, features: Features) -> CaseReply {
    let mut p = Phases {
        cases: 1,
        ..Phases::default()
    };
    let t = std::time::Instant::now();
    let generated = guarded(|| case::generate(seed, features));
    p.generate = phases::since(t);
    let generated = match generated {
        Ok(Ok(g)) => g,
        Ok(Err(e)) | Err(e) => {
            let mut reply = CaseReply::new(seed, ReplyVerdict::Skipped(format!("generator: {e}")));
            reply.phases = Some(Box::new(p));
            return reply;
        }
    };
    let dyn_engines: Vec<&dyn Engine> = engines.iter().map(|e| e as &dyn Engine).collect();
    let rules = Rules::for_engines(&dyn_engines, generated.canonical_nans);
    let mut reply = run_module(&dyn_engines, &generated.wasm, seed, rules, Some(&mut p));
    p.engines = phases::take_all(engines);
    p.compare = p.compare.saturating_sub(
        p.engines
            .iter()
            .map(|e| e.session + e.compile + e.instantiate + e.calls + e.snapshot)
            .sum(),
    );
    if let ReplyVerdict::Ran(verdict) = reply.verdict {
        let t = std::time::Instant::now();
        reply.verdict = ReplyVerdict::Ran(nan_twin(verdict, rules.exact_nans, || {
            let twin = guarded(|| case::generate_with(seed, features, Some(true)))
                .ok()?
                .ok()?;
            match run_module(
                &dyn_engines,
                &twin.wasm,
                seed,
                Rules { exact_nans: true },
                None,
            )
            .verdict
            {
                ReplyVerdict::Ran(v) => Some(v),
                _ => None,
            }
        }));
        p.twin = phases::since(t);
        // The twin's engine time is counted in `twin`.
        phases::take_all(engines);
    }
    // Only a divergence that stands (not NaN bits the twin explains) is worth its report.
    let t = std::time::Instant::now();
    report(&mut reply, &dyn_engines, &generated.wasm, seed, rules);
    p.report = phases::since(t);
    phases::take_all(engines);
    reply.phases = Some(Box::new(p));
    reply
}

/// Plan and run `wasm`'s calls. With `phases`, the time planning and running (in `compare`,
/// engines included).
fn run_module(
    engines: &[&dyn Engine],
    wasm: &[u8],
    seed: u64,
    rules: Rules,
    mut phases: Option<&mut Phases>,
) -> CaseReply {
    let t = std::time::Instant::now();
    let calls = case::plan(wasm, seed);
    if let Some(p) = phases.as_deref_mut() {
        p.plan = phases::since(t);
    }
    let calls = match calls {
        Ok(c) => c,
        Err(e) => return CaseReply::new(seed, ReplyVerdict::Skipped(format!("plan: {e}"))),
    };
    let t = std::time::Instant::now();
    let r = case::run_case(engines, wasm, &calls, rules);
    if let Some(p) = phases {
        p.compare = phases::since(t);
    }
    let mut reply = CaseReply::new(seed, ReplyVerdict::Ran(r.verdict));
    reply.calls = r.calls as u64;
    reply.state_note = r.state_note;
    reply.relaxed_permitted = r.relaxed_permitted as u64;
    reply
}

/// For a divergence, each engine's outcome of the diverging call and (three engines or more)
/// the vote, from fresh instances of `wasm`.
fn report(reply: &mut CaseReply, engines: &[&dyn Engine], wasm: &[u8], seed: u64, rules: Rules) {
    let Some((call, _)) = reply.divergence() else {
        return;
    };
    let Ok(calls) = case::plan(wasm, seed) else {
        return;
    };
    if let Some(i) = call {
        reply.outcomes = case::outcomes_of(engines, wasm, &calls, i);
    }
    reply.vote = crate::vote::on_case(engines, wasm, &calls, call, rules);
}

/// The worker's main loop (`lockstep fuzz-worker`) on the engines named as `--engine` values,
/// in a thread pool of `compile_threads` threads, ending when `supervisor` (a process id) stops
/// being its parent. Returns the exit code.
///
/// The pool is what the engines' parallel compilation (rayon) runs on. A campaign runs as many
/// workers as there are cores, so a worker's compile threads only compete with the other
/// workers: with one thread, a module's functions compile on the worker's own thread, without
/// waking (and spinning) a pool per worker.
pub fn serve(
    features: Features,
    engines: &[String],
    canonicalize_nans: bool,
    compile_threads: usize,
    supervisor: Option<u32>,
) -> i32 {
    if let Some(pid) = supervisor {
        exit_without(pid);
    }
    // Big stacks, like the spec runner's: engines that run wasm on the native stack reserve
    // their own limit below this.
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(compile_threads.max(1))
        .stack_size(64 << 20)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lockstep fuzz-worker: cannot start its threads: {e}");
            return 2;
        }
    };
    pool.install(|| serve_here(features, engines, canonicalize_nans))
}

/// End this worker when its supervisor `pid` is gone. A supervisor that is killed (SIGKILL,
/// as the fault-injection test does) closes nothing the worker would notice while it is busy
/// shrinking or running a case, so the worker used to run on for minutes; a thread that sees
/// the worker's parent is no longer the supervisor (it was reparented) ends the process. The
/// supervisor's id comes on the command line, so a supervisor gone before this runs counts too.
fn exit_without(pid: u32) {
    #[cfg(unix)]
    {
        let watch = move || {
            while std::os::unix::process::parent_id() == pid {
                std::thread::sleep(Duration::from_millis(250));
            }
            std::process::exit(0);
        };
        if let Err(e) = std::thread::Builder::new()
            .name("supervisor-watch".into())
            .spawn(watch)
        {
            eprintln!("lockstep fuzz-worker: cannot watch its supervisor: {e}");
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn serve_here(features: Features, engines: &[String], canonicalize_nans: bool) -> i32 {
    let parity = crate::engines::Parity { canonicalize_nans };
    let built = match crate::engines::select_with(engines, &parity) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("lockstep fuzz-worker: {e}");
            return 2;
        }
    };
    let timed: Vec<Timed<'_>> = built.iter().map(|e| Timed::new(e.as_ref())).collect();
    let engines: Vec<&dyn Engine> = built.iter().map(|e| e.as_ref()).collect();
    // The supervisor already narrowed the list; a worker started by hand narrows it too.
    let features = features.intersect(Features::supported_by(&engines));
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    // When the last reply was written: from then to the next request the worker waited.
    let mut replied: Option<std::time::Instant> = None;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return 0 };
        let started = std::time::Instant::now();
        let waited = replied.map_or(0, |r| phases::nanos(started - r));
        let mut reply = match serde_json::from_str::<Request>(&line) {
            Ok(Request::Case { seed }) => run_one(&timed, seed, features),
            Ok(Request::Shrink {
                seed,
                key,
                budget_ms,
            }) => match guarded(|| case::generate(seed, features)) {
                Ok(Ok(g)) => {
                    let rules = Rules::for_engines(&engines, g.canonical_nans);
                    let small = findings::shrink(
                        &engines,
                        &g.wasm,
                        seed,
                        rules,
                        &key,
                        Duration::from_millis(budget_ms),
                    );
                    let mut reply = run_module(&engines, &small, seed, rules, None);
                    report(&mut reply, &engines, &small, seed, rules);
                    reply.wasm = Some(to_hex(&small));
                    reply
                }
                Ok(Err(e)) | Err(e) => {
                    CaseReply::new(seed, ReplyVerdict::Skipped(format!("generator: {e}")))
                }
            },
            Err(e) => {
                return {
                    eprintln!("lockstep fuzz-worker: bad request {line:?}: {e}");
                    2
                };
            }
        };
        if let Some(p) = &mut reply.phases {
            p.worker = phases::since(started);
            p.waited = waited;
        }
        let text = serde_json::to_string(&reply).expect("serialisable reply");
        if writeln!(stdout, "{text}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return 0;
        }
        replied = Some(std::time::Instant::now());
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of reply survives the JSON line the worker writes.
    #[test]
    fn replies_round_trip_through_json() {
        for verdict in [
            ReplyVerdict::Ran(CaseVerdict::Pass),
            ReplyVerdict::Ran(CaseVerdict::Inconclusive(
                "call stack exhausted".to_string(),
            )),
            ReplyVerdict::Ran(CaseVerdict::Rejected("compile: invalid".to_string())),
            ReplyVerdict::Skipped("generator: config".to_string()),
        ] {
            let mut reply = CaseReply::new(7, verdict);
            reply.outcomes = vec![("oracle".to_string(), "returned []".to_string())];
            let text = serde_json::to_string(&reply).expect("serialisable");
            let back: CaseReply = serde_json::from_str(&text).expect("parses");
            assert_eq!(back.verdict, reply.verdict);
            assert_eq!((back.seed, back.outcomes), (7, reply.outcomes));
        }
    }
}
