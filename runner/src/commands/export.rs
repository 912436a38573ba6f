//! `abibench export`: a saved run in the formats other tools read (`export::formats`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use crate::analysis::cells::{analyse, Analysis};
use crate::commands::args::export_parser;
use crate::commands::results_file;
use crate::export::formats::{self, ExportFormat};
use crate::export::report;
use crate::model::results::Results;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A results file written by `compare` (default: the newest under results/).
    pub file: Option<PathBuf>,
    /// pyperf: pyperf/<interpreter>-<mode>.json, for `pyperf compare_to` and `stats`; bmf:
    /// bmf.json; github-action-benchmark: github-action-benchmark.json; csv: cells.csv. Repeatable.
    #[arg(long = "format", value_name = "FORMAT", required = true, value_parser = export_parser())]
    pub formats: Vec<ExportFormat>,
    /// Directory to write into (default: the run's report directory, results/<run id>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &ExportArgs) -> Result<()> {
    let file = results_file(args.file.as_deref())?;
    let r = Results::read(&file)?;
    let dir = args.out.clone().unwrap_or_else(|| report::default_dir(&file));
    write_all(&r, &analyse(&r), &args.formats, &dir)
}

/// Writes each format into `dir` and says where; `compare --export` shares it.
pub fn write_all(r: &Results, a: &Analysis, formats: &[ExportFormat], dir: &Path) -> Result<()> {
    for &f in formats {
        match formats::write(f, r, a, dir)?.as_slice() {
            [one] => eprintln!("export {}: {}", f.name(), one.display()),
            many => eprintln!("export {}: {} files in {}", f.name(), many.len(), dir.display()),
        }
    }
    Ok(())
}
