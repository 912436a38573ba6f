//! `abibench report`: the report of a saved run — report.html, report.md and plots/.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use crate::analysis::cells::analyse;
use crate::analysis::cells::Analysis;
use crate::analysis::compat;
use crate::analysis::decision::Decision;
use crate::analysis::plan::{plan, Goal};
use crate::commands::args::{results_dir, GoalArgs};
use crate::commands::{latest, read_results, results_file};
use crate::export::answer;
use crate::export::format::printable;
use crate::export::report;
use crate::model::results::Results;
use crate::setup::recipe::resolve_crate;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results file written by `compare` (default: the newest under results/, or with --crate
    /// under results/crates/<name>/).
    pub file: Option<PathBuf>,
    /// Report the newest run of this crate (see `compare --crate`).
    #[arg(long = "crate", value_name = "PATH", conflicts_with = "file")]
    pub krate: Option<PathBuf>,
    /// Directory for report.html, report.md and plots/ (default: beside the results file, named
    /// after it: results/<run id>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// An ABI compatibility matrix (from `abibench matrix`) to draw as a figure (default: the newest
    /// matrix-<run id>.json beside the results file, if any).
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// The other pass of the same selection — instruction counts for a wall-time run, or wall time
    /// for a count run (the nightly writes both) — to show, per cell and cost channel, where counts
    /// and time disagree and why.
    #[arg(long, value_name = "FILE")]
    pub other_pass: Option<PathBuf>,
    #[command(flatten)]
    pub goal: GoalArgs,
}

pub fn run(args: &ReportArgs) -> Result<()> {
    let start = Instant::now();
    let file = match &args.krate {
        Some(path) => latest(&results_dir(None, &resolve_crate(path)?), "")?,
        None => results_file(args.file.as_deref())?,
    };
    let results_dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let matrix_file = args.matrix.clone().or_else(|| compat::newest(results_dir));
    let matrix = matrix_file.as_deref().map(compat::read).transpose()?;
    let r = read_results(&file)?;
    let a = analyse(&r);
    let out = args.out.clone().unwrap_or_else(|| report::default_dir(&file));
    let other = args.other_pass.as_deref().map(read_results).transpose()?;
    let html = report::write(&r, &a, &file, &out, matrix.as_ref(), &args.goal.goal(&r), other.as_ref())?;
    print_answer(&r, &a, &args.goal.goal(&r));
    eprintln!("report: {} (and report.md, plots/) in {:.1} s", html.display(), start.elapsed().as_secs_f64());
    Ok(())
}

/// The answer and the wheel plan, at the end of `compare` and `report`.
pub fn print_answer(r: &Results, a: &Analysis, goal: &Goal) {
    let d = Decision::compute(r, a);
    println!();
    for l in answer::terminal_lines(r, &d, &plan(r, &d, goal)) {
        println!("{}", printable(&l));
    }
}
