//! Performance tooling for lockstep's engines.
//!
//! - [`kernels`]: execution kernels written in WAT (`benches/kernels/`), each with a Rust
//!   reference so that a wrong engine can never look fast.
//! - [`engines`]: one small interface over our runtime, the oracle and (feature `peers`)
//!   wasmtime and wasmi, so every engine runs the same modules the same way.
//! - [`workloads`]: generated modules for compile-time and instantiation benches.
//! - [`corpus`]: the third-party modules under `../shared/corpus`, when present.
//! - [`sightglass`]: the corpus's Sightglass programs (WASI commands) end to end, output
//!   checked, on ours and (feature `peers`) Wasmtime.
//! - [`measure`], [`report`]: timing loops, the peer comparison, the regression gate, the chart.
//!
//! The criterion benches live in `benches/benches/`, the `lockstep-bench` command in
//! `src/main.rs`.

pub mod calls;
pub mod corpus;
pub mod engines;
pub mod kernels;
pub mod measure;
pub mod report;
pub mod sightglass;
pub mod workloads;

/// Compile a WAT text to a binary module (every engine gets the same bytes).
pub fn wat_to_wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("bench WAT must parse")
}

#[cfg(test)]
mod tests {
    use crate::engines::{EngineKind, load_checked};
    use crate::kernels::KERNELS;

    #[test]
    fn every_kernel_gives_the_reference_result_on_every_engine() {
        for k in KERNELS {
            for e in EngineKind::available() {
                if e.executes(k.needs) {
                    load_checked(e, k, k.tiny_n).unwrap();
                } else {
                    let err = load_checked(e, k, k.tiny_n).err().unwrap().to_string();
                    assert!(err.contains("does not execute"), "{err}");
                }
            }
        }
    }

    #[test]
    fn every_call_path_gives_the_expected_result() {
        for e in EngineKind::available() {
            crate::calls::call_bench(e).unwrap();
            (crate::calls::instantiate_bench(e).unwrap())();
        }
    }

    /// The engines the Sightglass programs run on: ours, and Wasmtime with `peers`.
    fn sightglass_engines() -> Vec<EngineKind> {
        EngineKind::available()
            .into_iter()
            .filter(|e| matches!(e, EngineKind::Ours | EngineKind::Wasmtime))
            .collect()
    }

    #[test]
    fn the_gates_sightglass_programs_print_their_expected_output() {
        if crate::corpus::dir().is_none() {
            eprintln!("{}", crate::corpus::absent_message());
            return;
        }
        for p in crate::sightglass::find(crate::report::GATE_PROGRAMS).unwrap() {
            for e in sightglass_engines() {
                crate::sightglass::runner(e, &p).unwrap().run().unwrap();
            }
        }
    }

    #[test]
    fn a_sightglass_run_with_other_output_than_expected_fails() {
        if crate::corpus::dir().is_none() {
            eprintln!("{}", crate::corpus::absent_message());
            return;
        }
        let mut p = crate::sightglass::find(&["quicksort"]).unwrap().remove(0);
        p.stdout.push(b'!');
        for e in sightglass_engines() {
            let err = crate::sightglass::runner(e, &p)
                .unwrap()
                .run()
                .unwrap_err()
                .to_string();
            assert!(err.contains("stdout differs"), "{}: {err}", e.name());
        }
    }

    #[test]
    fn generated_modules_compile_on_ours_and_the_oracle() {
        for (name, n) in crate::workloads::SIZES.iter().take(2) {
            let wasm = crate::wat_to_wasm(&crate::workloads::compile_module(*n));
            assert_eq!(crate::corpus::defined_funcs(&wasm), u64::from(*n), "{name}");
            for e in [EngineKind::Ours, EngineKind::Oracle] {
                crate::engines::Compiler::new(e)
                    .unwrap()
                    .compile(&wasm)
                    .unwrap();
            }
        }
    }

    /// The gate picks the baseline recorded on this CPU and core count, whichever file holds
    /// it, and names a new one after the machine when there is none.
    #[test]
    fn the_gate_uses_this_machines_baseline() {
        use crate::measure::Machine;
        use crate::report::{Baseline, BaselineFor, baseline_for, machine_slug, save_json};
        let machine = |cpu: &str, cores| Machine {
            cpu: cpu.into(),
            cores,
            rustc: "rustc".into(),
            os: "linux-x86_64".into(),
        };
        let baseline = |m: Machine| Baseline {
            machine: m,
            rounds: 1,
            load_before: None,
            load_after: None,
            date_unix: 0,
            figures: Default::default(),
            partial_updates: Vec::new(),
        };
        let dir = std::env::temp_dir().join(format!("lockstep-gate-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("baselines")).unwrap();
        let xeon = machine("Intel(R) Xeon(R) Processor", 2);
        let epyc = machine("AMD EPYC", 2);
        save_json(&dir.join("baseline.json"), &baseline(xeon.clone())).unwrap();
        std::fs::write(dir.join("baselines/broken.json"), "not a baseline").unwrap();

        assert_eq!(machine_slug(&epyc), "amd-epyc-2c");
        assert_eq!(machine_slug(&xeon), "intel-r-xeon-r-processor-2c");
        assert_eq!(
            baseline_for(&dir, &xeon),
            BaselineFor::Recorded(dir.join("baseline.json"))
        );
        let missing = BaselineFor::Missing {
            fallback: dir.join("baseline.json"),
            new: dir.join("baselines/amd-epyc-2c.json"),
        };
        assert_eq!(baseline_for(&dir, &epyc), missing);
        // Same CPU, other core count: another machine.
        assert_ne!(
            baseline_for(&dir, &machine("AMD EPYC", 4)),
            BaselineFor::Recorded(dir.join("baseline.json"))
        );
        save_json(
            &dir.join("baselines/amd-epyc-2c.json"),
            &baseline(epyc.clone()),
        )
        .unwrap();
        assert_eq!(
            baseline_for(&dir, &epyc),
            BaselineFor::Recorded(dir.join("baselines/amd-epyc-2c.json"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A check fails a figure on the median of all its rounds: a burst of load in the first
    /// rounds is outvoted by the rounds added to confirm it, a lasting slowdown is not.
    #[test]
    fn a_slowdown_must_last_through_the_added_rounds() {
        use crate::report::{
            Baseline, BaselineFigure, CONFIRM_ROUNDS, gate_summary, over_threshold,
        };
        let figure = |median_ns| BaselineFigure {
            median_ns,
            noise: 0.01,
            threshold: 0.10,
        };
        let base = Baseline {
            machine: crate::measure::Machine::current(),
            rounds: 5,
            load_before: None,
            load_after: None,
            date_unix: 0,
            figures: [
                ("a@ours".to_string(), figure(100.0)),
                ("b@ours".to_string(), figure(100.0)),
            ]
            .into_iter()
            .collect(),
            partial_updates: Vec::new(),
        };
        // Three rounds: a is 30% slow in two of them (load), b 20% slow in all.
        let mut per = std::collections::BTreeMap::new();
        per.insert("a@ours".to_string(), vec![130.0, 130.0, 101.0]);
        per.insert("b@ours".to_string(), vec![120.0, 121.0, 119.0]);
        assert_eq!(
            over_threshold(&base, &gate_summary(&per)),
            ["a@ours", "b@ours"]
        );
        // The added rounds: the load is gone, b's slowdown is not.
        for _ in 0..CONFIRM_ROUNDS {
            per.get_mut("a@ours").unwrap().push(100.0);
            per.get_mut("b@ours").unwrap().push(120.0);
        }
        assert_eq!(over_threshold(&base, &gate_summary(&per)), ["b@ours"]);
    }
}
