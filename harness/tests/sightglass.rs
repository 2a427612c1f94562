//! Small Sightglass programs end to end through `lockstep run`'s engine runs (`run_on`, the
//! code path of `lockstep run --engine all`): on the runtime and on the oracle, each must print
//! its `.expected` stdout and stderr, exit 0, and the two must agree (final memory included).
//!
//! The small ones only: each takes at most about 1.5 s on the oracle in a release build. The
//! whole corpus, larger programs included, is checked by `lockstep run --engine all` (README,
//! "lockstep run").

use std::path::{Path, PathBuf};

use lockstep_harness::run_program::{ProgramOptions, RunEngine, Status, differences, run_on};

/// (folder, module stem): the C and Rust programs that exercise most of the WASI host (args,
/// preopens, `path_open`, `fd_read`, `fd_filestat_get`, `fd_write`, random, clocks).
const SMALL: &[(&str, &str)] = &[
    ("noop", "benchmark"),
    ("quicksort", "benchmark"),
    ("bz2", "benchmark"),
    ("shootout", "shootout-ackermann"),
    ("shootout", "shootout-gimli"),
    ("shootout", "shootout-keccak"),
];

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sightglass");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent (the shared corpus)", dir.display());
        None
    }
}

#[test]
fn small_sightglass_programs_match_expected_on_both_engines() {
    let Some(root) = corpus() else {
        return;
    };
    for (folder, stem) in SMALL {
        let dir = root.join(folder);
        let program = dir.join(format!("{stem}.wasm"));
        let opts = ProgramOptions {
            program: program.clone(),
            dirs: vec![(dir.clone(), ".".into())],
            ..ProgramOptions::default()
        };
        let bytes = std::fs::read(&program).unwrap();
        let expected = |ext| std::fs::read(dir.join(format!("{stem}.{ext}.expected"))).unwrap();
        let mut outcomes = Vec::new();
        for engine in [RunEngine::Runtime, RunEngine::Oracle] {
            let o = run_on(engine, &bytes, &opts, true, false).unwrap();
            let who = format!("{stem} on {}", engine.name());
            assert_eq!(o.status, Status::Exit(0), "{who}");
            assert_eq!(o.stdout, expected("stdout"), "{who}: stdout");
            assert_eq!(o.stderr, expected("stderr"), "{who}: stderr");
            assert!(o.bench.is_some(), "{who}: bench.start/bench.end");
            outcomes.push(o);
        }
        assert_eq!(
            differences(&outcomes[0], &outcomes[1]),
            Vec::<String>::new(),
            "{stem}"
        );
    }
}
