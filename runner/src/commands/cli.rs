//! The command line, and the only module that knows clap: flags become the domain's own types
//! here (`Selector`, `Mode`, `Sampling`, `Thresholds`), so nothing below ever sees a clap struct.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::analysis::gate::Thresholds;
use crate::export::formats::ExportFormat;
use crate::model::baseline;
use crate::model::history;
use crate::model::mode::Mode;
use crate::model::sampling::{Level, Measure, Sampling};
use crate::model::shard::Shard;
use crate::model::system::{allowed_cpus, isolated_cpus, CpuList};
use crate::model::version::{Selector, Target};
use crate::setup::paths::workspace_root;
use crate::setup::selection::Choice;

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
    List(SelectArgs),
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

/// Which interpreters and ABI modes.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// Interpreter to use: a path, or a version among those discovered (3.11, 3.13t). Repeatable.
    /// Default: every CPython >= 3.8 found in pyenv and on PATH.
    #[arg(long = "python", value_name = "PATH|VERSION", value_parser = parse_selector)]
    pub python: Vec<Selector>,
    /// ABI mode to build. Repeatable. Default: all of them.
    #[arg(long = "mode", value_name = "MODE", value_parser = mode_parser())]
    pub mode: Vec<Mode>,
}

impl TargetArgs {
    /// The selected modes; all of them when none is given.
    pub fn modes(&self) -> Vec<Mode> {
        if self.mode.is_empty() {
            Mode::ALL.to_vec()
        } else {
            self.mode.clone()
        }
    }
}

impl SelectArgs {
    pub fn choice(&self) -> Choice<'_> {
        Choice {
            scenarios_dir: &self.scenarios_dir,
            scenarios: &self.scenario,
            python: &self.targets.python,
            modes: &self.targets.mode,
        }
    }
}

/// What to run: interpreters, modes, scenarios.
#[derive(Args, Debug, Clone)]
pub struct SelectArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Scenario (or whole group) names to run, as globs: `list_*`, `containers`. Repeatable.
    #[arg(long = "scenario", value_name = "GLOB")]
    pub scenario: Vec<String>,
    /// Directory of scenario files.
    #[arg(long, value_name = "DIR", default_value_os_t = default_scenarios_dir())]
    pub scenarios_dir: PathBuf,
}

fn default_scenarios_dir() -> PathBuf {
    workspace_root().join("scenarios")
}

#[derive(Args, Debug)]
pub struct ProvisionArgs {
    /// Only these versions, comma-separated or repeated: 3.15, or 3.13t for free-threaded.
    /// Default: 3.8 to 3.15 and 3.13t, plus 3.14t and 3.15t where this machine can get them.
    #[arg(long, value_name = "VERSIONS", value_delimiter = ',', value_parser = parse_target)]
    pub only: Vec<Target>,
    /// Show which versions are present and which missing; change nothing.
    #[arg(long)]
    pub list: bool,
}

/// How much to measure per cell.
#[derive(Args, Debug, Clone)]
pub struct LevelArgs {
    /// Smoke test: 5 short values per cell in one process. Ratios are indicative only.
    #[arg(long, conflicts_with = "thorough")]
    pub quick: bool,
    /// Nightly depth: 8 processes x 50 values of >= 5 ms per cell (default: 4 x 20 of >= 2.5 ms).
    #[arg(long)]
    pub thorough: bool,
    /// Override the level: worker processes per interpreter (wall time).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub processes: Option<u32>,
    /// Override the level: values per cell per process (wall time), or (L, 2L) region pairs per
    /// cell (instructions).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub values: Option<u32>,
    /// Override the level: the shortest a value may last, in milliseconds (wall time).
    #[arg(long, value_name = "MS", value_parser = parse_positive_ms)]
    pub min_time: Option<f64>,
    /// Pin each worker to these CPUs (1, or 0-3,6). Default: the CPUs the kernel isolates
    /// (isolcpus=), as pyperf does, if any; else unpinned. See `abibench system`.
    #[arg(long, value_name = "CPUS", value_parser = parse_affinity)]
    pub affinity: Option<CpuList>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results file written by `compare` (default: the newest under results/).
    pub file: Option<PathBuf>,
    /// Directory for report.html, report.md and plots/ (default: beside the results file, named
    /// after it: results/<run id>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// An ABI compatibility matrix (from `abibench matrix`) to draw as a figure (default: the newest
    /// matrix-<run id>.json beside the results file, if any).
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
}

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

impl LevelArgs {
    pub fn level(&self) -> Level {
        match (self.quick, self.thorough) {
            (true, _) => Level::Quick,
            (_, true) => Level::Thorough,
            _ => Level::Default,
        }
    }

    /// The level's sampling for `measure`, with any explicit overrides.
    pub fn sampling(&self, measure: Measure) -> Sampling {
        let mut s = self.level().sampling(measure);
        if let Some(n) = self.values {
            s.values = n as usize;
        }
        if measure == Measure::WallTime {
            if let Some(n) = self.processes {
                s.processes = n as usize;
            }
            if let Some(ms) = self.min_time {
                s.min_time = ms / 1e3;
            }
        }
        s.affinity = self.affinity.clone().unwrap_or_else(isolated_cpus).0;
        s
    }
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub level: LevelArgs,
    /// Seed for the interleaving order.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Do not provision what the selection lacks (by default `compare` first gets the versions
    /// of its range, 3.8 to 3.15 and 3.13t or those given with --python, like `abibench provision`).
    #[arg(long)]
    pub no_provision: bool,
    #[command(flatten)]
    pub level: LevelArgs,
    /// What to measure: wall time, or instructions counted by callgrind (deterministic: identical
    /// counts run to run, immune to a noisy machine; needs valgrind; ~50x slower per value).
    #[arg(long, default_value = "wall-time", value_parser = measure_parser())]
    pub measure: Measure,
    /// Directory for results JSON.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Kill a worker that prints nothing for this long, recording its current cell as hung.
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
    pub style: StyleArgs,
}

#[derive(Args, Debug)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Directory for the matrix JSON (`matrix-<run id>.json`, beside compare's results).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Kill a cell's child (import or link check) after this long, recording a timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    pub timeout: f64,
    #[command(flatten)]
    pub style: StyleArgs,
}

#[derive(Args, Debug)]
pub struct NativeArgs {
    /// Shorter criterion runs (1 s warm-up, 2 s of samples per bench instead of 3 s and 5 s).
    #[arg(long)]
    pub quick: bool,
    /// Do not run the benches: record the estimates criterion already has (from your own
    /// `cargo bench -p bench-native`).
    #[arg(long, conflicts_with = "quick")]
    pub existing: bool,
    /// Directory for the native JSON.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Directory of scenario files: which floors to record, and the `n` each must match.
    #[arg(long, value_name = "DIR", default_value_os_t = default_scenarios_dir())]
    pub scenarios_dir: PathBuf,
    #[command(flatten)]
    pub style: StyleArgs,
    /// Further arguments for criterion, after `--` (e.g. `-- --sample-size 20`).
    #[arg(last = true, value_name = "CRITERION_ARGS", conflicts_with = "existing")]
    pub criterion_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StyleArgs {
    /// Plain ASCII tables (default when stdout is not a terminal).
    #[arg(long)]
    pub ascii: bool,
}

fn parse_selector(s: &str) -> Result<Selector, String> {
    s.parse()
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

/// Modes by name, listed in `--help` from the one list of modes (`Mode::ALL`).
fn mode_parser() -> impl TypedValueParser<Value = Mode> {
    PossibleValuesParser::new(Mode::ALL.map(Mode::name)).map(|s| s.parse::<Mode>().expect("a listed mode"))
}

fn measure_parser() -> impl TypedValueParser<Value = Measure> {
    PossibleValuesParser::new(Measure::ALL.map(Measure::name)).map(|s| s.parse::<Measure>().expect("a listed measure"))
}

fn export_parser() -> impl TypedValueParser<Value = ExportFormat> {
    PossibleValuesParser::new(ExportFormat::ALL.map(ExportFormat::name))
        .map(|s| s.parse::<ExportFormat>().expect("a listed format"))
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// A timeout: a finite, positive number of seconds, at most a day.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Ok(t),
        _ => Err(format!("'{s}' is not a number of seconds between 0 and 86400")),
    }
}

/// A CPU list this process may run on (so a typo fails here, not in every worker).
fn parse_affinity(s: &str) -> Result<CpuList, String> {
    let cpus: CpuList = s.parse()?;
    let allowed = allowed_cpus();
    match cpus.0.iter().find(|c| !allowed.0.contains(c)) {
        _ if cpus.0.is_empty() => Err("--affinity needs at least one CPU".into()),
        Some(c) => Err(format!("CPU {c} is not one this process may use ({allowed})")),
        None => Ok(cpus),
    }
}

fn parse_positive_ms(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms > 0.0 => Ok(ms),
        _ => Err(format!("'{s}' is not a positive number of milliseconds")),
    }
}

/// `5`, `5%` or `0.5` (percent) as a fraction.
fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p / 100.0),
        _ => Err(format!("'{s}' is not a percentage (a number >= 0, e.g. 5 or 0.5%)")),
    }
}
