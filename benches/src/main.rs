//! `lockstep-bench`: the timed comparison with peers, CoreMark, the chart and the
//! regression gate. See docs/PERFORMANCE.md.

use anyhow::{Result, bail};
use lockstep_benches::engines::EngineKind;
use lockstep_benches::report;
use std::path::PathBuf;

const USAGE: &str = "\
usage: lockstep-bench <command> [options]

commands:
  compare   run the figures on every engine and print them with ratios ours/wasmtime and
            oracle/wasmi (build with --features peers for the peers)
              --groups kernels,calls,compile,sightglass,coremark
                                (default: kernels,calls,compile; sightglass runs the
                                corpus's WASI programs on ours and wasmtime)
              --engines ours,oracle,wasmtime,wasmi      (default: every engine built in)
              --quick                                   shorter timing budget
              --json PATH       write the figures as JSON
              --markdown PATH   write the tables as Markdown
              --chart PATH      write the ratio chart as SVG
  coremark  run the CoreMark-minimal score (about 18 s per engine)
              --engines ...     (default: every engine built in)
              --clock cpu|wall  what env.clock_ms reads (default cpu: process CPU time,
                                so other load on the machine barely moves the score)
  chart     redraw the chart from a JSON written by compare: --from PATH --chart PATH
  table     print the Markdown tables from a JSON written by compare: --from PATH
  check     the regression gate: run a quick subset and compare with the baseline
              --baseline PATH   (default: this machine's, the one of benches/baseline.json
                                and benches/baselines/*.json recorded on this CPU and
                                core count; --update without one writes
                                benches/baselines/<cpu>-<cores>c.json)
              --rounds N        rounds whose medians are combined (default 3; 5 for --update)
              --update          measure and rewrite the baseline instead
              --only PREFIX     with --update: keep the baseline, (re)place only the
                                figures whose key starts with PREFIX (e.g. sightglass/)
";

/// This machine's baseline for `check` (or `check --update`), see [`report::baseline_for`].
fn default_baseline(update: bool) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match report::baseline_for(&dir, &lockstep_benches::measure::Machine::current()) {
        report::BaselineFor::Recorded(path) => path,
        report::BaselineFor::Missing { new, .. } if update => new,
        report::BaselineFor::Missing { fallback, .. } => fallback,
    }
}

struct Args {
    rest: Vec<String>,
}

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        if let Some(i) = self.rest.iter().position(|a| a == name) {
            self.rest.remove(i);
            true
        } else {
            false
        }
    }
    fn value(&mut self, name: &str) -> Result<Option<String>> {
        if let Some(i) = self.rest.iter().position(|a| a == name) {
            if i + 1 >= self.rest.len() {
                bail!("{name} needs a value");
            }
            let v = self.rest.remove(i + 1);
            self.rest.remove(i);
            Ok(Some(v))
        } else {
            Ok(None)
        }
    }
    fn engines(&mut self) -> Result<Vec<EngineKind>> {
        match self.value("--engines")? {
            None => Ok(EngineKind::available()),
            Some(s) => s
                .split(',')
                .map(|e| {
                    let k = EngineKind::parse(e)
                        .ok_or_else(|| anyhow::anyhow!("unknown engine `{e}`"))?;
                    if !k.is_available() {
                        bail!("{e} needs `--features peers`");
                    }
                    Ok(k)
                })
                .collect(),
        }
    }
    fn done(&self) -> Result<()> {
        if !self.rest.is_empty() {
            bail!("unexpected arguments {:?}\n\n{USAGE}", self.rest);
        }
        Ok(())
    }
}

fn main() -> Result<()> {
    let mut all: Vec<String> = std::env::args().skip(1).collect();
    if all.is_empty() || all[0] == "-h" || all[0] == "--help" {
        print!("{USAGE}");
        return Ok(());
    }
    let cmd = all.remove(0);
    let mut a = Args { rest: all };
    match cmd.as_str() {
        "compare" => {
            let groups = a
                .value("--groups")?
                .unwrap_or_else(|| "kernels,calls,compile".into());
            let opts = report::CompareOpts {
                groups: groups.split(',').map(str::to_string).collect(),
                engines: a.engines()?,
                quick: a.flag("--quick"),
            };
            let json = a.value("--json")?;
            let md = a.value("--markdown")?;
            let chart = a.value("--chart")?;
            a.done()?;
            let r = report::run_compare(&opts)?;
            print_results(&r);
            if let Some(p) = json {
                report::save_json(&PathBuf::from(p), &r)?;
            }
            if let Some(p) = md {
                std::fs::write(
                    p,
                    format!("{}\n{}", report::table(&r), report::compile_throughput(&r)),
                )?;
            }
            if let Some(p) = chart {
                report::chart(&r, &PathBuf::from(p))?;
            }
        }
        "coremark" => {
            let engines = a.engines()?;
            let clock = match a.value("--clock")?.as_deref() {
                None | Some("cpu") => report::CoremarkClock::Cpu,
                Some("wall") => report::CoremarkClock::Wall,
                Some(o) => bail!("--clock cpu|wall, not {o}"),
            };
            a.done()?;
            for e in engines {
                eprintln!("running CoreMark on {} (about 18 s)...", e.name());
                let score = report::coremark_with(e, clock)?;
                println!("coremark {:<9} {score:.1}", e.name());
            }
        }
        "chart" => {
            let from = a.value("--from")?.unwrap_or_default();
            let out = a.value("--chart")?.unwrap_or_default();
            a.done()?;
            if from.is_empty() || out.is_empty() {
                bail!("chart needs --from and --chart");
            }
            let r: report::Results = report::load_json(&PathBuf::from(from))?;
            report::chart(&r, &PathBuf::from(out))?;
        }
        "table" => {
            let from = a.value("--from")?.unwrap_or_default();
            a.done()?;
            let r: report::Results = report::load_json(&PathBuf::from(from))?;
            print_results(&r);
        }
        "check" => {
            let path = a.value("--baseline")?.map(PathBuf::from);
            let update = a.flag("--update");
            let path = path.unwrap_or_else(|| default_baseline(update));
            let only = a.value("--only")?;
            if only.is_some() && !update {
                bail!("--only goes with --update");
            }
            let rounds: usize = match a.value("--rounds")? {
                Some(r) => r.parse()?,
                None if update => 5,
                None => 3,
            };
            a.done()?;
            if update {
                report::gate_update(&path, rounds, only.as_deref())?;
            } else {
                let bad = report::gate_check(&path, rounds)?;
                if bad > 0 {
                    println!("{bad} figure(s) slower than the baseline allows");
                    std::process::exit(1);
                }
                println!("no regression beyond the thresholds");
            }
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
    Ok(())
}

fn print_results(r: &report::Results) {
    println!(
        "machine: {} ({} cores), {}; load average {} -> {}",
        r.machine.cpu,
        r.machine.cores,
        r.machine.rustc,
        r.load_before
            .map(|l| format!("{l:.2}"))
            .unwrap_or("?".into()),
        r.load_after
            .map(|l| format!("{l:.2}"))
            .unwrap_or("?".into()),
    );
    println!(
        "times are process CPU time (median); CoreMark is its score, with env.clock_ms on CPU time"
    );
    println!("{}", report::table(r));
    if r.figures.iter().any(|f| f.id.starts_with("compile/")) {
        println!("{}", report::compile_throughput(r));
    }
}
