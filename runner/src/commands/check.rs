//! `abibench check`: gate a run on a baseline, cell by cell (also `compare --baseline`).

use anyhow::{Context, Result};

use crate::analysis::gate::judge;
use crate::commands::cli::{CheckArgs, GateArgs};
use crate::commands::{read_results, results_file};
use crate::export::format::printable;
use crate::export::verdict;
use crate::model::baseline;
use crate::model::history;
use crate::model::results::Results;

pub fn run(args: &CheckArgs) -> Result<i32> {
    let path = results_file(args.run.as_deref())?;
    let run = read_results(&path)?;
    if args.save_if_missing && baseline::is_missing_name(&args.baseline, &args.gate.baselines_dir) {
        return first_night(&run, &args.baseline, &args.gate);
    }
    let base = baseline::load(&args.baseline, &args.gate.baselines_dir)?;
    gate_and_record(&run, &base, &args.gate)
        .with_context(|| format!("check {} --baseline {}", path.display(), args.baseline))
}

/// The first night of baseline `name`: the run becomes the baseline (a complete run only) and
/// enters the history; there is nothing to gate it on.
fn first_night(run: &Results, name: &str, g: &GateArgs) -> Result<i32> {
    let saved = baseline::save(run, &g.baselines_dir, name)?;
    if let Some(dir) = &g.history {
        history::add(dir, run, None)?;
    }
    println!("First night for baseline `{name}`: run `{}` saved as {}; nothing to gate.", run.run.id, saved.display());
    Ok(0)
}

/// Gates `run` on `base`: prints the verdict table, records the run (with the verdict) in the
/// history if asked, and returns the exit code.
pub fn gate_and_record(run: &Results, base: &Results, g: &GateArgs) -> Result<i32> {
    let report = judge(base, run, g.thresholds())?;
    print!("{}", printable(&verdict::render(&report, g.all)));
    if let Some(dir) = &g.history {
        history::add(dir, run, Some(report.record()))?;
        eprintln!("history: run {} recorded in {}", run.run.id, dir.display());
    }
    Ok(report.exit_code(g.fail_on_missing))
}
