//! Command-line interface. Kept thin: each subcommand's work lives in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::interpreters::Selector;
use crate::measure::Level;
use crate::modes::Mode;
use crate::shard::Shard;

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
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Show what `compare` would use: interpreters found, modes and where they fit, scenarios.
    List(SelectArgs),
    /// Print the tables of a saved results file again.
    Show {
        /// A results file written by `compare` (default: the newest under results/).
        file: Option<PathBuf>,
        #[command(flatten)]
        style: StyleArgs,
    },
    /// Gate a run on a baseline, cell by cell: print a Markdown verdict table, exit 1 on a regression.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Combine the results of `compare --shard` runs (one per machine) into one results file.
    #[command(after_help = "Refuses (exit 2) inputs of different source revisions, extension sources, schema \
                            versions, measures or levels, shards of different matrices, and any cell measured twice.")]
    Merge {
        /// Results files to combine, e.g. one per shard.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Directory for the merged results JSON.
        #[arg(long, value_name = "DIR", default_value = "results")]
        out: PathBuf,
    },
    /// The run history that `--history DIR` records: list it, add a run, draw trend plots.
    #[command(subcommand)]
    History(HistoryCommand),
}

/// Exit codes shared by `compare --baseline` and `check`.
pub const EXIT_CODES: &str = "Exit codes: 0 no regression (improved, new and missing cells are reported, not fatal); \
                              1 at least one cell regressed (or is missing, with --fail-on-missing); 2 usage or \
                              data error (bad flag, unreadable file, baseline of another measure, no cell in \
                              common); 130 interrupted.";

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// One line per recorded run: date, revision, measure, what the gate said.
    List {
        #[arg(long, value_name = "DIR", default_value = crate::history::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Record a results file in the history without gating it (e.g. the run that became the baseline).
    Add {
        file: PathBuf,
        #[arg(long, value_name = "DIR", default_value = crate::history::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Write one SVG trend plot per scenario (and measure) across the recorded runs.
    Plot {
        #[arg(long, value_name = "DIR", default_value = crate::history::DEFAULT_DIR)]
        dir: PathBuf,
        /// Directory for the plots: `<DIR>/<measure>/<scenario>.svg`.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
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
    /// Run only shard i of N of the (interpreter, mode) matrix: whole interpreters while N is at
    /// most the number of interpreters, an interpreter's modes split only beyond. Combine the
    /// shards' results with `merge`.
    #[arg(long, value_name = "i/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// After the run, gate it on this baseline (a name under --baselines-dir, or a results file)
    /// as `check` does, and exit accordingly.
    #[arg(long, value_name = "NAME|FILE")]
    pub baseline: Option<String>,
    /// Save this run as baseline NAME (after gating it, if --baseline is given too).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub style: StyleArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The run to gate (default: the newest results file under results/).
    pub run: Option<PathBuf>,
    /// The baseline: a name under --baselines-dir, or a results file.
    #[arg(long, value_name = "NAME|FILE")]
    pub baseline: String,
    #[command(flatten)]
    pub gate: GateArgs,
}

/// How the gate judges a run against its baseline, and where it keeps what it saw.
#[derive(Args, Debug, Clone)]
pub struct GateArgs {
    /// Wall-time cells: smallest change that counts, in percent. A cell regressed only when the
    /// 95 % interval of run/baseline (bootstrap over both runs' values) lies entirely above
    /// 1 + this; improved when entirely below 1 / (1 + this).
    #[arg(long, value_name = "PERCENT", default_value = "5", value_parser = parse_percent, requires = "baseline")]
    pub min_effect: f64,
    /// Instruction-count cells: run/baseline above 1 + this percent regressed, below 1 / (1 + this) improved.
    #[arg(long, value_name = "PERCENT", default_value = "0.5", value_parser = parse_percent, requires = "baseline")]
    pub instr_threshold: f64,
    /// Count cells of the baseline that the run lacks as failures (exit 1), not only report them.
    #[arg(long, requires = "baseline")]
    pub fail_on_missing: bool,
    /// List unchanged cells in the verdict table too.
    #[arg(long, requires = "baseline")]
    pub all: bool,
    /// Where baselines named by --baseline NAME and --save-baseline NAME live.
    #[arg(long, value_name = "DIR", default_value = crate::baseline::DEFAULT_DIR)]
    pub baselines_dir: PathBuf,
    /// Record the run (and the gate's verdict, if gated) in the run history at DIR.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
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

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// `5`, `5%` or `0.5` (percent) as a fraction.
fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p / 100.0),
        _ => Err(format!("'{s}' is not a percentage (a number >= 0, e.g. 5 or 0.5%)")),
    }
}
