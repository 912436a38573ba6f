//! Command-line interface. Kept thin: each subcommand's work lives in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::interpreters::Selector;
use crate::measure::Level;
use crate::modes::Mode;

#[derive(Parser, Debug)]
#[command(
    name = "abibench",
    version,
    about = "What does the stable ABI cost your kind of calls, on each CPython from 3.8 up?",
    long_about = "abibench builds one PyO3 extension in several ABI modes (version-specific `unlimited`, \
                  `abi3` at several floors, `abi3t`), loads each build into every interpreter it fits, and \
                  times chatty calls (vectorcall vs tp_call, PyList_GET_ITEM vs PyList_GetItem, ...) against \
                  compute-heavy ones. Modes are timed interleaved inside one interpreter process, so each \
                  stable-ABI mode's ratio to `unlimited` is measured pair by pair, not across runs."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build every mode, run every scenario on every interpreter, print tables, save results JSON.
    Compare(CompareArgs),
    /// Show what `compare` would use: interpreters found, modes and where they fit, scenarios.
    List(SelectArgs),
    /// Write the report of a saved run: report.html (self-contained), report.md, plots/ (SVG, PNG).
    Report(ReportArgs),
    /// Print the tables of a saved results file again.
    Show {
        /// A results file written by `compare` (default: the newest under results/).
        file: Option<PathBuf>,
        #[command(flatten)]
        style: StyleArgs,
    },
}

/// What to run: interpreters, modes, scenarios.
#[derive(Args, Debug, Clone)]
pub struct SelectArgs {
    /// Interpreter to use: a path, or a version among those discovered (3.11, 3.13t). Repeatable.
    /// Default: every CPython >= 3.8 found in pyenv and on PATH.
    #[arg(long = "python", value_name = "PATH|VERSION", value_parser = parse_selector)]
    pub python: Vec<Selector>,
    /// ABI mode to build and run. Repeatable. Default: all
    /// (unlimited, abi3-py38, abi3-py310, abi3-py311, abi3-py312, abi3t-py315).
    #[arg(long = "mode", value_name = "MODE", value_parser = parse_mode)]
    pub mode: Vec<Mode>,
    /// Scenario (or whole group) names to run, as globs: `list_*`, `containers`. Repeatable.
    #[arg(long = "scenario", value_name = "GLOB")]
    pub scenario: Vec<String>,
    /// Directory of scenario files.
    #[arg(long, value_name = "DIR", default_value_os_t = crate::builds::workspace_root().join("scenarios"))]
    pub scenarios_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Smoke test: 5 short values per cell in one process. Ratios are indicative only.
    #[arg(long, conflicts_with = "thorough")]
    pub quick: bool,
    /// Nightly depth: 4 processes x 15 values of >= 50 ms per cell.
    #[arg(long)]
    pub thorough: bool,
    /// Directory for results JSON.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Kill a worker that prints nothing for this long, recording its current cell as hung.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Seed for the interleaving order and the bootstrap (default: from the clock, recorded).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Do not write the report (report.html, report.md, plots/) beside the results file.
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub style: StyleArgs,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results file written by `compare` (default: the newest under results/).
    pub file: Option<PathBuf>,
    /// Directory for report.html, report.md and plots/ (default: beside the results file, named
    /// after it: results/<run id>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// An ABI compatibility matrix (from `abibench matrix`) to draw as a figure.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StyleArgs {
    /// Plain ASCII tables (default when stdout is not a terminal).
    #[arg(long)]
    pub ascii: bool,
}

impl CompareArgs {
    pub fn level(&self) -> Level {
        match (self.quick, self.thorough) {
            (true, _) => Level::Quick,
            (_, true) => Level::Thorough,
            _ => Level::Default,
        }
    }
}

fn parse_selector(s: &str) -> Result<Selector, String> {
    s.parse()
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse()
}
