//! The campaign's supervisor with requests in flight: a worker that dies or hangs is charged
//! with the case it was running (the oldest request), the case queued behind it is re-run on
//! the next worker, and every case is counted exactly once.

use std::os::unix::fs::PermissionsExt;
use std::sync::Mutex;
use std::time::Duration;

use lockstep_harness::fuzz::{self, FuzzOptions, rng::case_seed};

/// A stand-in worker speaking the JSON-lines protocol: every case passes, except that it exits
/// on the case seeded `CRASH` and sleeps on the one seeded `HANG` (set in the script).
const WORKER: &str = r#"while read -r line; do
  seed=$(printf '%s' "$line" | sed 's/.*"seed":\([0-9]*\).*/\1/')
  if [ "$seed" = "$CRASH" ]; then exit 3; fi
  if [ "$seed" = "$HANG" ]; then exec sleep 30; fi
  printf '{"seed":%s,"verdict":{"kind":"ran","case":{"verdict":"pass"}},"calls":1,"state_note":null,"outcomes":[],"wasm":null,"vote":null}\n' "$seed"
done
"#;

/// Held while this file's tests write an executable or fork: a child forked while the script
/// is still open for writing inherits that descriptor until it execs, and executing the
/// script then fails with ETXTBSY ("Text file busy"). Tests run as threads of one process.
static FORK_OR_WRITE: Mutex<()> = Mutex::new(());

#[test]
fn a_lost_worker_costs_its_own_case_and_the_queued_one_is_rerun() {
    let dir = std::env::temp_dir().join(format!("lockstep-campaign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let worker = dir.join("worker.sh");
    let script = format!(
        "#!/usr/bin/env bash\nCRASH={}\nHANG={}\n{WORKER}",
        case_seed(5, 3),
        case_seed(5, 7)
    );
    {
        let _guard = FORK_OR_WRITE.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::write(&worker, script).unwrap();
        std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let opts = FuzzOptions {
        iterations: Some(12),
        jobs: 1,
        seed: 5,
        out: dir.join("findings"),
        worker: Some(worker),
        case_timeout: Duration::from_secs(2),
        quiet: true,
        ..FuzzOptions::default()
    };
    let s = fuzz::run(&opts).expect("the campaign runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        (s.cases, s.passed, s.crashes, s.hangs, s.failed),
        (12, 10, 1, 1, 2),
        "{s:?}"
    );
    assert_eq!(s.calls, 10);
    assert_eq!(s.findings.len(), 2, "{s:?}");
}

/// A worker whose supervisor dies ends too, even while its stdin stays open (as it does when
/// the supervisor is SIGKILLed while the worker is busy): here a shell starts the real worker
/// in the background with the test's pipe as its stdin and exits at once.
#[test]
fn a_worker_ends_when_its_supervisor_is_gone() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let guard = FORK_OR_WRITE.lock().unwrap_or_else(|e| e.into_inner());
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg("exec 3<&0; \"$0\" fuzz-worker --supervisor $$ <&3 >/dev/null 2>&1 & echo $!")
        .arg(env!("CARGO_BIN_EXE_lockstep"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(guard);
    // Keep the worker's stdin open for the whole test: no EOF tells it anything.
    let _stdin = shell.stdin.take().unwrap();
    let mut pid = String::new();
    shell
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut pid)
        .unwrap();
    shell.wait().unwrap();
    // Running unless gone or a zombie (whoever adopted it may not reap it at once).
    let stat = format!("/proc/{}/stat", pid.trim());
    let running = || {
        std::fs::read_to_string(&stat).is_ok_and(|s| {
            let state = s.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !running(),
        "the worker (pid {}) outlived its supervisor by 10 s",
        pid.trim()
    );
}
