//! `abibench report`: the report of a saved run — report.html, report.md and plots/.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;

use crate::analysis::cells::analyse;
use crate::analysis::compat;
use crate::commands::args::GoalArgs;
use crate::commands::{latest, read_results, results_file};
use crate::export::format::printable;
use crate::export::page::Report;
use crate::export::{report, sections, text};
use crate::setup::krate::Project;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Results files written by `compare` (default: the newest under results/, or with --crate
    /// under results/crates/<name>/). Several: runs of other machines, for one plan that holds on
    /// all of them (the first is the one the page lists operations from).
    pub files: Vec<PathBuf>,
    /// Report the newest run of this crate (see `compare --crate`).
    #[arg(long = "crate", value_name = "PATH", conflicts_with = "files")]
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
    let files = match (&args.krate, args.files.as_slice()) {
        (Some(path), _) => vec![newest_of_crate(path)?],
        (None, []) => vec![results_file(None)?],
        (None, given) => given.iter().map(|f| results_file(Some(f))).collect::<Result<_>>()?,
    };
    let file = &files[0];
    let results_dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let matrix_file = args.matrix.clone().or_else(|| compat::newest(results_dir));
    let matrix = matrix_file.as_deref().map(compat::read).transpose()?;
    let runs: Vec<_> = files.iter().map(|f| read_results(f)).collect::<Result<_>>()?;
    let analyses: Vec<_> = runs.iter().map(analyse).collect();
    let goal = args.goal.checked_goal(&runs[0])?;
    let pairs: Vec<_> = runs.iter().zip(&analyses).collect();
    let rep = Report::of_runs(&pairs, &goal).map_err(|e| anyhow::anyhow!("cannot combine these runs: {e}"))?;
    let out = args.out.clone().unwrap_or_else(|| match files.len() {
        1 => report::default_dir(file),
        n => report::default_dir(file).with_extension(format!("{n}-machines")),
    });
    let other = args.other_pass.as_deref().map(read_results).transpose()?;
    let rep = Report { matrix: matrix.as_ref(), ..rep };
    print_answer(&rep, false);
    let html = report::write(rep, file, &out, other.as_ref())?;
    eprintln!("report: {} (and report.md, plots/) in {:.1} s", html.display(), start.elapsed().as_secs_f64());
    Ok(())
}

/// The newest run of the crate at `path`, in results/crates/<distribution>/ or, for runs from
/// before results were named by distribution, the cargo package's folder. Only pyproject.toml
/// and the manifest are read: nothing is resolved, copied or built to find it.
fn newest_of_crate(path: &Path) -> Result<PathBuf> {
    let dirs = Project::locate(path)?.results_dirs()?;
    if let Some(file) = dirs.iter().find_map(|d| latest(d, "").ok()) {
        return Ok(file);
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    bail!(
        "--crate {}: no results in {}; `abibench compare --crate {}` writes them",
        path.display(),
        looked.join(" or "),
        path.display()
    )
}

/// The answer and the wheel plan, at the end of `compare` and `report`: the report's answer
/// section, from the run's one decision and plan; `ascii`: in ASCII (`--ascii`).
pub fn print_answer(rep: &Report, ascii: bool) {
    println!();
    for l in text::lines(&sections::answer(rep), ascii) {
        println!("{}", printable(&l));
    }
}
