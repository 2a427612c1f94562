//! Timing loops for the `lockstep-bench` command (criterion does its own).

use std::time::{Duration, Instant};

/// How long to measure one figure.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub min_samples: usize,
    pub max_samples: usize,
    pub min_time: Duration,
}

impl Budget {
    pub const FULL: Budget = Budget {
        min_samples: 7,
        max_samples: 60,
        min_time: Duration::from_millis(1500),
    };
    pub const QUICK: Budget = Budget {
        min_samples: 5,
        max_samples: 25,
        min_time: Duration::from_millis(300),
    };
    pub const SLOW: Budget = Budget {
        min_samples: 3,
        max_samples: 10,
        min_time: Duration::from_millis(1000),
    };
}

/// Median and spread of the samples of one figure, in nanoseconds per unit of work.
///
/// `median`, `min` and `max` are **process CPU time** (all threads of this process), which
/// other processes on a shared machine inflate far less than wall-clock time; `wall` is the
/// median wall-clock time, for reference. For single-threaded work on a quiet machine the
/// two agree; for our and wasmtime's parallel compilation, CPU time is the total work.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub wall: f64,
    pub samples: usize,
}

/// CPU time consumed by this process so far, in nanoseconds.
pub fn process_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass and nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Time `f` (one warm-up call, then samples until both the sample count and the time budget
/// are met). `f` returns the number of units it did; the figure is nanoseconds per unit.
pub fn time(budget: Budget, mut f: impl FnMut() -> u64) -> Stats {
    time_interleaved(budget, &[()], |_| f()).remove(0)
}

/// [`time`] for several items (engines) doing the same work `f`, sampled in turns (one
/// sample of each per round) so that whatever else the machine does during the run falls on
/// every item alike; one stats per item, in order. Timed one engine after the other, compile
/// figures of the same module moved by up to ±10% between runs on a shared machine
/// (shootout-keccak read 0.92x-1.14x of Wasmtime in runs of the same binaries whose
/// instruction counts say 0.93x).
pub fn time_interleaved<T>(
    budget: Budget,
    items: &[T],
    mut f: impl FnMut(&T) -> u64,
) -> Vec<Stats> {
    for item in items {
        f(item);
    }
    let start = Instant::now();
    let min_time = budget.min_time * items.len() as u32;
    let mut cpu = vec![Vec::new(); items.len()];
    let mut wall = vec![Vec::new(); items.len()];
    while cpu.first().is_some_and(|c: &Vec<f64>| {
        c.len() < budget.max_samples && (c.len() < budget.min_samples || start.elapsed() < min_time)
    }) {
        for (i, item) in items.iter().enumerate() {
            let t = Instant::now();
            let c = process_cpu_ns();
            let units = f(item).max(1) as f64;
            cpu[i].push((process_cpu_ns() - c) / units);
            wall[i].push(t.elapsed().as_nanos() as f64 / units);
        }
    }
    cpu.iter_mut()
        .zip(wall.iter_mut())
        .map(|(c, w)| {
            let mut s = stats(c);
            s.wall = stats(w).median;
            s
        })
        .collect()
}

pub fn stats(v: &mut [f64]) -> Stats {
    v.sort_by(|a, b| a.total_cmp(b));
    Stats {
        median: median_sorted(v),
        min: v[0],
        max: v[v.len() - 1],
        wall: f64::NAN,
        samples: v.len(),
    }
}

pub fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Human-readable duration from nanoseconds.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// The machine a figure was measured on.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub rustc: String,
    pub os: String,
}

impl Machine {
    pub fn current() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores,
            rustc,
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }

    /// The same CPU model and core count: figures measured on the two are comparable (the
    /// regression gate keeps one baseline per such machine).
    pub fn same_hardware(&self, other: &Machine) -> bool {
        self.cpu == other.cpu && self.cores == other.cores
    }
}

/// The 1-minute load average, from /proc/loadavg.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
