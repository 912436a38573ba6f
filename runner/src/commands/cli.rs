//! The command line, and the only module that knows clap: flags become the domain's own types
//! here (`Selector`, `Mode`, `Sampling`, `Thresholds`), so nothing below ever sees a clap struct.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use crate::analysis::gate::Thresholds;
use crate::export::formats::ExportFormat;
use crate::model::baseline;
use crate::model::history;
use crate::model::sampling::Measure;
use crate::model::shard::Shard;

use super::args::{
    default_jobs, export_parser, measure_parser, parse_percent, parse_seconds, parse_shard, BuildArgs, GoalArgs,
    LevelArgs, PytestArgs, SelectArgs, StyleArgs,
};
use super::calibrate::CalibrateArgs;
use super::export::ExportArgs;
use super::init::InitArgs;
use super::list::ListArgs;
use super::matrix::MatrixArgs;
use super::native::NativeArgs;
use super::provision::ProvisionArgs;
use super::report::ReportArgs;
use super::reproduce::ReproduceArgs;

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

// Parsed once per process, so the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build every mode, run every scenario on every interpreter, print tables, save results JSON.
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Show what `compare` would use: interpreters found, modes and where they fit, scenarios.
    List(ListArgs),
    /// Start scenarios for a crate of your own: build it once, list its module's public functions
    /// and classes, and write PATH/benches/abibench/<module>.toml with a scenario (and a TODO
    /// statement) for each.
    Init(InitArgs),
    /// A/A test of this machine: one build loaded twice and compared with itself, to show the
    /// harness's false-difference rate and resolution here (default: every chatty scenario).
    Calibrate(CalibrateArgs),
    /// Get the interpreters a comparison needs but this machine lacks, into abibench's cache.
    #[command(long_about = "Get the interpreters a comparison needs but this machine lacks, into \
                  abibench's cache (<cache>/interpreters; ~/.cache/abibench or $ABIBENCH_CACHE_DIR). \
                  Nothing outside the cache is changed.\n\n\
                  Routes, in order: pyenv's python-build (needs python.org); then Debian: sid binary \
                  packages for 3.14 and 3.15 (apt under a private configuration, the system's mirror), and \
                  for free-threaded versions a --disable-gil build of Debian's python3.X source package \
                  (3.13t from trixie's python3.13 takes a few minutes on 2 cores).\n\n\
                  Idempotent: a finished install is reused, a half-done one redone. `compare` runs this \
                  for what its selection lacks unless given --no-provision. Exit code 1 when a version \
                  asked for could not be had.")]
    Provision(ProvisionArgs),
    /// Time each scenario's native floor (the same work in pure Rust) with criterion, and record the
    /// estimates for `compare --native` in <out>/native-<run id>.json.
    Native(NativeArgs),
    /// Write the report of a saved run: report.html (self-contained), report.md, plots/ (SVG, PNG).
    Report(ReportArgs),
    /// Do two runs agree? Pairs their stable-ABI ratios cell by cell: how many intervals overlap,
    /// whether each run claims the same differences, the worst cells, and whether the runs timed
    /// the same binaries (SHA-256), toolchain, layouts and kind of processor.
    Reproduce(ReproduceArgs),
    /// Write a saved run in the formats other tools read: pyperf, bmf (Bencher),
    /// github-action-benchmark (customSmallerIsBetter), csv.
    Export(ExportArgs),
    /// What on this machine skews timings (CPU governor, turbo, ASLR, load, isolated CPUs, perf
    /// counters), with the fix for each.
    System(StyleArgs),
    /// Print the tables of a saved results file again.
    Show {
        /// A results file written by `compare` (default: the newest under results/).
        file: Option<PathBuf>,
        #[command(flatten)]
        style: StyleArgs,
    },
    /// Which build can each interpreter load? Every build x every interpreter: canonical import,
    /// forced load and call, link check against its libpython, stable-ABI audit.
    Matrix(MatrixArgs),
    /// Internal (the matrix's link check): load LIBPYTHON with RTLD_GLOBAL, then BUILD with
    /// RTLD_NOW, and print what did not resolve as JSON. Its own process, so a crash stays here.
    #[command(hide = true)]
    LinkCheck {
        #[arg(long, value_name = "LIBPYTHON")]
        libpython: PathBuf,
        build: PathBuf,
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
        #[arg(long, value_name = "DIR", default_value = history::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Record a results file in the history without gating it (e.g. the run that became the baseline).
    Add {
        file: PathBuf,
        #[arg(long, value_name = "DIR", default_value = history::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Write one SVG trend plot per scenario (and measure) across the recorded runs.
    Plot {
        #[arg(long, value_name = "DIR", default_value = history::DEFAULT_DIR)]
        dir: PathBuf,
        /// Directory for the plots: `<DIR>/<measure>/<scenario>.svg`.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The run to gate (default: the newest results file under results/).
    pub run: Option<PathBuf>,
    /// The baseline: a name under --baselines-dir, or a results file.
    #[arg(long, value_name = "NAME|FILE")]
    pub baseline: String,
    /// The nightly policy's first night: when baseline NAME does not exist yet, save this run as
    /// it (and record it in --history) instead of failing; nothing is gated, exit 0.
    #[arg(long)]
    pub save_if_missing: bool,
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
    #[arg(long, value_name = "DIR", default_value = baseline::DEFAULT_DIR)]
    pub baselines_dir: PathBuf,
    /// Record the run (and the gate's verdict, if gated) in the run history at DIR.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
}

impl GateArgs {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds { min_effect: self.min_effect, instr_threshold: self.instr_threshold }
    }
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub pytest: PytestArgs,
    /// Do not provision what the selection lacks (by default `compare` first gets the versions
    /// of its range, 3.8 to 3.15 and the free-threaded ones its PyO3 builds for, or those given
    /// with --python, like `abibench provision`).
    #[arg(long)]
    pub no_provision: bool,
    #[command(flatten)]
    pub level: LevelArgs,
    #[command(flatten)]
    pub build: BuildArgs,
    /// What to measure: wall time, or instructions counted by callgrind (deterministic: identical
    /// counts run to run, immune to a noisy machine; needs valgrind; ~50x slower per value).
    #[arg(long, default_value = "wall-time", value_parser = measure_parser())]
    pub measure: Measure,
    /// Directory for results JSON (default: results/, or results/crates/<distribution>/ with --crate).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --measure instructions: interpreters counted at once (counts do not depend on what
    /// else runs). Default: one per core. Wall time always measures one interpreter at a time.
    #[arg(long, value_name = "N", default_value_t = default_jobs(), value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub jobs: usize,
    /// Kill a worker that makes no progress for this long (what the timed code prints does not
    /// count), recording its current cell as hung. A timed value is a hang sooner: at 50x what
    /// loop sizing measured, and at least 10 s; never before twice a step's planned length, so a
    /// value longer than this is not a hang. Default: 120 (wall time), 900 (instructions).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,
    /// Seed for the interleaving order and the bootstrap (default: from the clock, recorded).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Add each scenario's native floor, from FILE or else the newest native-<run id>.json in --out
    /// (written by `abibench native`). Floors are times, so not with `--measure instructions`.
    #[arg(long, value_name = "FILE")]
    pub native: Option<Option<PathBuf>>,
    /// Do not write the report (report.html, report.md, plots/) beside the results file.
    #[arg(long)]
    pub no_report: bool,
    /// Also write the run in this format into its report directory (as `abibench export`). Repeatable.
    #[arg(long = "export", value_name = "FORMAT", value_parser = export_parser())]
    pub exports: Vec<ExportFormat>,
    /// Run only shard i of N of the (interpreter, mode) matrix: whole interpreters while N is at
    /// most the number of interpreters, an interpreter's modes split only beyond. Combine the
    /// shards' results with `merge` (and gate, record or save the merged run, not a shard).
    #[arg(long, value_name = "i/N", value_parser = parse_shard,
          conflicts_with_all = ["baseline", "save_baseline", "history"])]
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
    pub goal: GoalArgs,
    #[command(flatten)]
    pub style: StyleArgs,
}
