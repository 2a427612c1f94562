//! The small Sightglass programs end to end through `lockstep run`'s engine runs: each must
//! print its `.expected` stdout and stderr on the runtime. The oracle runs the ones that touch
//! no memory through WASI (see lockstep_wasi::oracle) and must agree with the runtime.

use std::path::Path;

use lockstep_harness::run_program::{ProgramOptions, RunEngine, differences, run_on};

const SMALL: &[&str] = &[
    "gimli",
    "keccak",
    "ackermann",
    "xchacha20",
    "nestedloop",
    "memmove",
];
/// They import only proc_exit, so they run on the oracle too.
const ORACLE: &[&str] = &["gimli"];

#[test]
fn small_sightglass_programs_match_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sightglass/shootout");
    if !dir.is_dir() {
        eprintln!("skipped: {} is absent (the shared corpus)", dir.display());
        return;
    }
    for name in SMALL {
        let program = dir.join(format!("shootout-{name}.wasm"));
        let opts = ProgramOptions {
            program: program.clone(),
            dirs: vec![(dir.clone(), ".".into())],
            ..ProgramOptions::default()
        };
        let bytes = std::fs::read(&program).unwrap();
        let rt = run_on(RunEngine::Runtime, &bytes, &opts, true, false).unwrap();
        let expected =
            |ext| std::fs::read(dir.join(format!("shootout-{name}.{ext}.expected"))).unwrap();
        assert_eq!(rt.stdout, expected("stdout"), "{name} stdout");
        assert_eq!(rt.stderr, expected("stderr"), "{name} stderr");
        if ORACLE.contains(name) {
            let or = run_on(RunEngine::Oracle, &bytes, &opts, true, false).unwrap();
            assert_eq!(differences(&rt, &or), Vec::<String>::new(), "{name}");
        }
    }
}
