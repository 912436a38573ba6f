//! `abibench check`: gate a run on a baseline, cell by cell (also `compare --baseline`).

use anyhow::{Context, Result};

use crate::analysis::gate::judge;
use crate::commands::cli::{CheckArgs, GateArgs};
use crate::commands::results_file;
use crate::export::verdict;
use crate::model::baseline;
use crate::model::history;
use crate::model::results::Results;

pub fn run(args: &CheckArgs) -> Result<i32> {
    let path = results_file(args.run.as_deref())?;
    let run = Results::read(&path)?;
    let base = baseline::load(&args.baseline, &args.gate.baselines_dir)?;
    gate_and_record(&run, &base, &args.gate)
        .with_context(|| format!("check {} --baseline {}", path.display(), args.baseline))
}

/// Gates `run` on `base`: prints the verdict table, records the run (with the verdict) in the
/// history if asked, and returns the exit code.
pub fn gate_and_record(run: &Results, base: &Results, g: &GateArgs) -> Result<i32> {
    let report = judge(base, run, g.thresholds())?;
    print!("{}", verdict::render(&report, g.all));
    if let Some(dir) = &g.history {
        history::add(dir, run, Some(report.record()))?;
        eprintln!("history: run {} recorded in {}", run.run.id, dir.display());
    }
    Ok(report.exit_code(g.fail_on_missing))
}
