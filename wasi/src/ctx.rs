//! What a WASI program sees of the world, owned by the host.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, File};

/// An open descriptor.
pub(crate) enum Entry {
    Stdin,
    Stdout,
    Stderr,
    /// A directory; `preopen` is the guest name it was preopened under.
    Dir {
        dir: Dir,
        preopen: Option<String>,
    },
    File {
        file: File,
    },
}

/// A captured output stream, echoed to the host's own stream when `echo` is set.
#[derive(Default)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub(crate) echo: bool,
}

impl Output {
    pub(crate) fn write(&mut self, data: &[u8], stderr: bool) {
        self.bytes.extend_from_slice(data);
        if self.echo {
            // Echoing is best effort, like a closed pipe under `wasmtime run`.
            let _ = if stderr {
                std::io::stderr().write_all(data)
            } else {
                std::io::stdout().write_all(data)
            };
        }
    }
}

/// Fixed inputs for runs that must see the same clocks and random bytes on every engine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deterministic {
    /// Nanoseconds a clock read returns; each read advances it by 1 ms so loops that wait
    /// for time to pass still end.
    pub clock: u64,
    /// SplitMix64 state for `random_get`.
    pub random: u64,
}

/// The state of one WASI program run.
#[derive(Default)]
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: BTreeMap<u32, Entry>,
    pub(crate) deterministic: Option<Deterministic>,
    pub(crate) start: Option<Instant>,
    pub stdout: Output,
    pub stderr: Output,
    /// The code passed to `proc_exit`, once called.
    pub exit_code: Option<u32>,
    /// What `bench.start` and `bench.end` read (see [`WasiCtxBuilder::bench_clock`]).
    pub(crate) bench_clock: Option<fn() -> Duration>,
    pub(crate) bench_start: Option<Duration>,
    /// Time between `bench.start` and `bench.end`.
    pub bench_elapsed: Option<Duration>,
}

impl WasiCtx {
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::default()
    }
    /// The bench clock's reading: the embedder's clock, or wall-clock time since the build.
    pub(crate) fn bench_now(&self) -> Duration {
        match self.bench_clock {
            Some(clock) => clock(),
            None => self.start.map_or(Duration::ZERO, |s| s.elapsed()),
        }
    }
}

/// Builds a [`WasiCtx`]: nothing is preopened unless asked for.
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    preopens: Vec<(Dir, String)>,
    deterministic: bool,
    echo: bool,
    bench_clock: Option<fn() -> Duration>,
}

impl WasiCtxBuilder {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn args(mut self, a: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
    /// Preopen host directory `host` as `guest`.
    pub fn preopen_dir(mut self, host: &Path, guest: impl Into<String>) -> std::io::Result<Self> {
        let dir = Dir::open_ambient_dir(host, ambient_authority())?;
        self.preopens.push((dir, guest.into()));
        Ok(self)
    }
    /// Fixed clocks and random bytes.
    pub fn deterministic(mut self, on: bool) -> Self {
        self.deterministic = on;
        self
    }
    /// The clock `bench.start`/`bench.end` read (wall-clock time by default): a benchmark
    /// that wants process CPU time, which other load on the machine moves less, passes it.
    pub fn bench_clock(mut self, clock: fn() -> Duration) -> Self {
        self.bench_clock = Some(clock);
        self
    }
    /// Also write the program's stdout/stderr to the host's as it runs.
    pub fn echo_output(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }
    pub fn build(self) -> WasiCtx {
        let mut fds = BTreeMap::new();
        fds.insert(0, Entry::Stdin);
        fds.insert(1, Entry::Stdout);
        fds.insert(2, Entry::Stderr);
        for (i, (dir, guest)) in self.preopens.into_iter().enumerate() {
            let preopen = Some(guest);
            fds.insert(3 + i as u32, Entry::Dir { dir, preopen });
        }
        let nul = |s: String| {
            let mut v = s.into_bytes();
            v.push(0);
            v
        };
        WasiCtx {
            args: self.args.into_iter().map(nul).collect(),
            env: self
                .env
                .into_iter()
                .map(|(k, v)| nul(format!("{k}={v}")))
                .collect(),
            fds,
            deterministic: self.deterministic.then_some(Deterministic {
                clock: 1_000_000_000,
                random: 0x6c6f_636b_7374_6570,
            }),
            start: Some(Instant::now()),
            stdout: Output {
                bytes: Vec::new(),
                echo: self.echo,
            },
            stderr: Output {
                bytes: Vec::new(),
                echo: self.echo,
            },
            exit_code: None,
            bench_clock: self.bench_clock,
            bench_start: None,
            bench_elapsed: None,
        }
    }
}
