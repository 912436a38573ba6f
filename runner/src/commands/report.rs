//! `abibench report`: the report of a saved run — report.html, report.md and plots/.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::analysis::cells::analyse;
use crate::analysis::compat;
use crate::commands::cli::ReportArgs;
use crate::commands::{read_results, results_file};
use crate::export::report;

pub fn run(args: &ReportArgs) -> Result<()> {
    let start = Instant::now();
    let file = results_file(args.file.as_deref())?;
    let results_dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let matrix_file = args.matrix.clone().or_else(|| compat::newest(results_dir));
    let matrix = matrix_file.as_deref().map(compat::read).transpose()?;
    let r = read_results(&file)?;
    let a = analyse(&r);
    let out = args.out.clone().unwrap_or_else(|| report::default_dir(&file));
    let html = report::write(&r, &a, &file, &out, matrix.as_ref())?;
    eprintln!("report: {} (and report.md, plots/) in {:.1} s", html.display(), start.elapsed().as_secs_f64());
    Ok(())
}
