//! An engine that hangs must not hang the run: past `--timeout` the run stops with exit code 1,
//! says where the engine is stuck, and reports the files that finished plus one failure per
//! hung file.

use std::time::Duration;

use lockstep_harness::engine::{
    CompileError, Engine, InstanceId, InstantiateError, InvokeError, ModuleId, Session, Val,
    WasmFeatures,
};
use lockstep_harness::run::{self, RunOptions, WastOptions};
use lockstep_harness::suite::features_2_0;

/// Instantiates anything; every call spins forever.
struct Hangs;
struct HangsSession;

impl Engine for Hangs {
    fn name(&self) -> &'static str {
        "hangs"
    }
    fn supported_features(&self) -> WasmFeatures {
        features_2_0()
    }
    fn new_session(&self, _features: WasmFeatures) -> Box<dyn Session> {
        Box::new(HangsSession)
    }
}

impl Session for HangsSession {
    fn compile(&mut self, _bytes: &[u8]) -> Result<ModuleId, CompileError> {
        Ok(ModuleId(0))
    }
    fn instantiate(&mut self, _module: ModuleId) -> Result<InstanceId, InstantiateError> {
        Ok(InstanceId(0))
    }
    fn register(&mut self, _name: &str, _instance: InstanceId) {}
    fn invoke(&mut self, _: InstanceId, _: &str, _: &[Val]) -> Result<Vec<Val>, InvokeError> {
        loop {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn get_global(&mut self, _: InstanceId, _: &str) -> Result<Val, String> {
        Err("no globals".to_string())
    }
}

const CHILD: &str = "LOCKSTEP_HANG_TEST_CHILD";

/// Runs only inside the child process started by `a_hung_engine_stops_the_run`.
#[test]
fn hang_child() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let path = std::path::Path::new(&dir).join("hang.wast");
    std::fs::write(
        &path,
        "(module (func (export \"f\")))\n(invoke \"f\")\n(invoke \"f\")\n",
    )
    .unwrap();
    let opts = WastOptions {
        run: RunOptions {
            timeout: Some(Duration::from_secs(1)),
            ..Default::default()
        },
        paths: vec![path],
        ..Default::default()
    };
    let _ = run::wast_with(&opts, vec![Box::new(Hangs)]);
    // Not reached: the watchdog ends the process.
    std::process::exit(42);
}

#[test]
fn a_hung_engine_stops_the_run() {
    let dir = std::env::temp_dir().join(format!("lockstep-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hang_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("engine hangs has not finished line 2"),
        "{stderr}"
    );
    // The hung file counts as one failure; nothing else ran.
    assert_eq!(
        stdout.lines().last(),
        Some("0 passed, 1 failed"),
        "{stdout}"
    );
}
