//! Argument groups and value parsers that several subcommands share (the subcommands' own
//! arguments live with them, in their modules).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;

use crate::analysis::costs::operations;
use crate::analysis::plan::Goal;
use crate::analysis::shapes::{Workload, STATEMENTS};
use crate::export::formats::ExportFormat;
use crate::model::io::check_writable;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::{Isolation, Level, Measure, Sampling};
use crate::model::scenario::Group;
use crate::model::shard::Shard;
use crate::model::system::{allowed_cpus, isolated_cpus, CpuList};
use crate::model::version::{Selector, Target};
use crate::setup::krate::resolve_crate;
use crate::setup::paths::{cache_root, workspace_root};
use crate::setup::recipe::Recipe;
use crate::setup::selection::Choice;

/// Which interpreters and ABI modes.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// Interpreter to use: a path, or a version among those discovered (3.11: every 3.11; 3.11.2:
    /// that release; 3.13t: free-threaded). Repeatable.
    /// Default: every CPython >= 3.8 found in pyenv and on PATH.
    #[arg(long = "python", value_name = "PATH|VERSION", value_parser = parse_selector)]
    pub python: Vec<Selector>,
    /// ABI mode to build. Repeatable. Default: all of them (with --crate: unlimited and every
    /// stable-ABI floor the crate's PyO3 version offers).
    #[arg(long = "mode", value_name = "MODE", value_parser = mode_parser())]
    pub mode: Vec<Mode>,
    /// Benchmark your own extension instead of abibench's: a Cargo crate with a PyO3 cdylib, or a
    /// maturin project (pyproject.toml with [tool.maturin]). Built by cargo in every mode, with
    /// the mode as a feature of the crate's own PyO3 dependency; its scenarios are read from
    /// PATH/benches/abibench/ unless --scenarios-dir says otherwise (`abibench init` writes one),
    /// or its own benchmark tests are the scenarios (compare --pytest).
    #[arg(long = "crate", value_name = "PATH")]
    pub krate: Option<PathBuf>,
}

/// What to run: interpreters, modes, scenarios.
#[derive(Args, Debug, Clone)]
pub struct SelectArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Scenario (or whole group) names to run, as globs: `list_*`, `containers`. Repeatable.
    #[arg(long = "scenario", value_name = "GLOB")]
    pub scenario: Vec<String>,
    /// Directory of scenario files. Default: abibench's scenarios/, or with --crate
    /// PATH/benches/abibench/.
    #[arg(long, value_name = "DIR")]
    pub scenarios_dir: Option<PathBuf>,
}

/// A crate's own benchmark tests as the scenarios (`compare --pytest`).
#[derive(Args, Debug, Clone)]
pub struct PytestArgs {
    /// Time your crate's own pytest-benchmark / pytest-codspeed tests instead of scenario files:
    /// files, directories or node ids (inside the --crate directory). abibench runs them with
    /// pytest in each build with its own `benchmark` fixture and marker (neither plugin is
    /// needed, nor used if installed): each call a test hands to `benchmark` (or
    /// `benchmark.pedantic`), and each test marked `@pytest.mark.benchmark` without the fixture,
    /// is a scenario, timed in every build interleaved as statements are. Tests that do neither
    /// are left out and listed. pytest is the interpreter's own, else installed by abibench into
    /// its cache with the interpreter's pip.
    #[arg(long = "pytest", value_name = "TESTS", num_args = 1.., requires = "krate", conflicts_with = "scenarios_dir")]
    pub tests: Vec<String>,
    /// A package the tests import besides pytest (a pip requirement: `dirty-equals`), installed
    /// beside pytest by abibench. Repeatable.
    #[arg(long = "pytest-with", value_name = "REQUIREMENT", requires = "tests")]
    pub with: Vec<String>,
}

/// How long a build may take.
#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    /// Kill a build (cargo with its compilers and build scripts) that has not finished after this
    /// long, recording it as failed; the rest goes on.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800.0, value_parser = parse_seconds)]
    pub build_timeout: f64,
}

impl BuildArgs {
    pub fn limit(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.build_timeout)
    }
}

/// How much to measure per cell.
#[derive(Args, Debug, Clone)]
pub struct LevelArgs {
    /// Smoke test: 2 to 3 processes per scenario, until its ratios are within ±3 % (or clear of
    /// the thresholds). Ratios are indicative only.
    #[arg(long, conflicts_with = "thorough")]
    pub quick: bool,
    /// Nightly depth: 2 layouts, 8 to 24 processes x 8 values of >= 2 ms per scenario, until its
    /// ratios are within ±0.5 %. The default: 6 to 16 processes x 5 values of >= 1 ms, until
    /// within ±1 % or clear of the 5/10/15/25 % thresholds and the run's --threshold.
    #[arg(long)]
    pub thorough: bool,
    /// A fixed design instead of measuring until settled: worker processes per interpreter, each
    /// measuring every cell (wall time).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub processes: Option<u32>,
    /// A fixed design instead of measuring until settled: values per cell per process (wall
    /// time), or (L, 2L) region pairs per cell (instructions).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub values: Option<u32>,
    /// Override the level: the shortest a value may last, in milliseconds (wall time).
    #[arg(long, value_name = "MS", value_parser = parse_positive_ms)]
    pub min_time: Option<f64>,
    /// Override the level: layout variants of every build, timed interleaved (wall time). 1 is
    /// the linker's own layout; K > 1 builds K variants with their functions shuffled by fixed
    /// seeds 1..K, and ratio intervals then include what code placement moves.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=8))]
    pub layouts: Option<u32>,
    /// Pin each worker to these CPUs (1, or 0-3,6). Default: the CPUs the kernel isolates
    /// (isolcpus=), as pyperf does, if any; else unpinned. See `abibench system`.
    #[arg(long, value_name = "CPUS", value_parser = parse_affinity)]
    pub affinity: Option<CpuList>,
    /// How the builds of one interpreter are kept apart while timed interleaved: `in-process`
    /// (one worker loads them all; a crate's module is swapped in under its import name before
    /// each step) or `process` (one process per build, driven round by round: each build imports
    /// alone, as in real use, and pairs cross processes). Default: `process` for a module that
    /// lives in a Python package, else `in-process`.
    #[arg(long, value_name = "HOW", value_parser = isolation_parser())]
    pub isolation: Option<Isolation>,
}

#[derive(Args, Debug)]
pub struct StyleArgs {
    /// Plain ASCII tables (default when stdout is not a terminal).
    #[arg(long)]
    pub ascii: bool,
}

impl TargetArgs {
    /// The selected modes; when none is given, every mode `recipe` can be asked for.
    pub fn modes(&self, recipe: &Recipe) -> Vec<Mode> {
        if self.mode.is_empty() {
            recipe.subject.modes()
        } else {
            self.mode.clone()
        }
    }

    /// What to build: the crate of `--crate`, else abibench's own extension.
    pub fn recipe(&self) -> anyhow::Result<Recipe> {
        match &self.krate {
            Some(path) => resolve_crate(path),
            None => Recipe::bench_ext(&workspace_root()),
        }
    }
}

impl SelectArgs {
    /// The choice these arguments make for building `recipe` and timing the crate's tests
    /// (`--pytest`): no scenario files, the scenarios come from the tests.
    pub fn pytest_choice<'a>(&'a self, recipe: &'a Recipe) -> Choice<'a> {
        Choice {
            scenarios_dir: None,
            scenarios: &self.scenario,
            python: &self.targets.python,
            modes: self.targets.modes(recipe),
            subject: &recipe.subject,
        }
    }

    /// The choice these arguments make for building `recipe`.
    pub fn choice<'a>(&'a self, recipe: &'a Recipe) -> anyhow::Result<Choice<'a>> {
        let scenarios_dir = match (&self.scenarios_dir, recipe.subject.krate()) {
            (Some(dir), _) => dir.clone(),
            (None, Some(s)) => s.path.join(CRATE_SCENARIOS),
            (None, None) => default_scenarios_dir(),
        };
        if let (None, Some(s)) = (&self.scenarios_dir, recipe.subject.krate()) {
            anyhow::ensure!(
                scenarios_dir.is_dir(),
                "{} has no scenarios ({} does not exist): `abibench init --crate {}` writes a starter file \
                 there, or pass --scenarios-dir",
                s.distribution,
                scenarios_dir.display(),
                s.path.display()
            );
        }
        Ok(Choice {
            scenarios_dir: Some(scenarios_dir),
            scenarios: &self.scenario,
            python: &self.targets.python,
            modes: self.targets.modes(recipe),
            subject: &recipe.subject,
        })
    }
}

/// `--out DIR`, checked before anything is built: writable (`check_writable` says what is in the
/// way), and not inside abibench's cache, whose builds and interpreters abibench replaces and
/// whose owner may clear it whole: results there would be lost with it.
pub fn check_out(dir: &Path) -> anyhow::Result<()> {
    // Where `dir` is, or would be, once symbolic links on the way are followed.
    let resolved = |p: &Path| {
        let existing = p.ancestors().find(|a| a.canonicalize().is_ok())?;
        Some(existing.canonicalize().ok()?.join(p.strip_prefix(existing).ok()?))
    };
    let cache = cache_root()?;
    if let (Some(out), Some(cache)) = (resolved(dir), resolved(&cache)) {
        anyhow::ensure!(
            !out.starts_with(&cache),
            "--out {}: that is inside abibench's cache {}, which holds builds and interpreters and may be \
             cleared whole; keep results elsewhere (the default is results/)",
            dir.display(),
            cache.display()
        );
    }
    check_writable(dir).context("--out")
}

/// Where results go: `out` if given, else where the subject's runs go (`Subject::results_dir`).
pub fn results_dir(out: Option<&std::path::Path>, recipe: &Recipe) -> PathBuf {
    out.map_or_else(|| recipe.subject.results_dir(), std::path::Path::to_path_buf)
}

/// Where a crate keeps its scenario files, relative to its directory.
pub const CRATE_SCENARIOS: &str = "benches/abibench";

impl LevelArgs {
    pub fn level(&self) -> Level {
        match (self.quick, self.thorough) {
            (true, _) => Level::Quick,
            (_, true) => Level::Thorough,
            _ => Level::Default,
        }
    }

    /// The level's sampling for `measure`, with any explicit overrides; `--processes` or
    /// `--values` ask for a fixed design (every cell gets all processes).
    pub fn sampling(&self, measure: Measure) -> Sampling {
        let mut s = self.level().sampling(measure);
        if let Some(n) = self.values {
            s.values = n as usize;
            s.until = None;
        }
        if measure == Measure::WallTime {
            if let Some(n) = self.processes {
                s.processes = n as usize;
                s.until = None;
            }
            if let Some(ms) = self.min_time {
                s.min_time = ms / 1e3;
            }
            if let Some(k) = self.layouts {
                s.layouts = k;
            }
        }
        s.affinity = self.affinity.clone().unwrap_or_else(isolated_cpus).0;
        s
    }
}

pub(super) fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(super) fn default_scenarios_dir() -> PathBuf {
    workspace_root().join("scenarios")
}

pub(super) fn parse_selector(s: &str) -> Result<Selector, String> {
    s.parse()
}

pub(super) fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

/// Modes by name, listed in `--help` from the one list of modes (`Mode::ALL`).
pub(super) fn mode_parser() -> impl TypedValueParser<Value = Mode> {
    PossibleValuesParser::new(Mode::ALL.map(Mode::name)).map(|s| s.parse::<Mode>().expect("a listed mode"))
}

pub(super) fn isolation_parser() -> impl TypedValueParser<Value = Isolation> {
    PossibleValuesParser::new(Isolation::ALL.map(Isolation::name))
        .map(|s| s.parse::<Isolation>().expect("a listed isolation"))
}

pub(super) fn measure_parser() -> impl TypedValueParser<Value = Measure> {
    PossibleValuesParser::new(Measure::ALL.map(Measure::name)).map(|s| s.parse::<Measure>().expect("a listed measure"))
}

pub(super) fn export_parser() -> impl TypedValueParser<Value = ExportFormat> {
    PossibleValuesParser::new(ExportFormat::ALL.map(ExportFormat::name))
        .map(|s| s.parse::<ExportFormat>().expect("a listed format"))
}

pub(super) fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// A timeout: a finite, positive number of seconds, at most a day.
pub(super) fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Ok(t),
        _ => Err(format!("'{s}' is not a number of seconds between 0 and 86400")),
    }
}

/// A CPU list this process may run on (so a typo fails here, not in every worker).
pub(super) fn parse_affinity(s: &str) -> Result<CpuList, String> {
    let cpus: CpuList = s.parse()?;
    let allowed = allowed_cpus();
    match cpus.0.iter().find(|c| !allowed.0.contains(c)) {
        _ if cpus.0.is_empty() => Err("--affinity needs at least one CPU".into()),
        Some(c) => Err(format!("CPU {c} is not one this process may use ({allowed})")),
        None => Ok(cpus),
    }
}

pub(super) fn parse_positive_ms(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms > 0.0 => Ok(ms),
        _ => Err(format!("'{s}' is not a positive number of milliseconds")),
    }
}

/// `5`, `5%` or `0.5` (percent) as a fraction.
pub(super) fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p / 100.0),
        _ => Err(format!("'{s}' is not a percentage (a number >= 0, e.g. 5 or 0.5%)")),
    }
}

/// What the wheel plan decides against, set before looking at the numbers.
#[derive(Args, Debug, Clone)]
pub struct GoalArgs {
    /// What your calls are made of: a named workload (see --help), a call written out as counts of
    /// operations and its own work (`args=3,str-args=1,items-read=100,work=500ns`), a TOML file of
    /// call shapes, or `statements` (each scenario called once; the default with --crate).
    #[arg(long, value_name = "NAME|CALL|FILE", value_parser = Workload::parse, long_help = workload_help())]
    pub workload: Option<Workload>,
    /// The cost you accept for one wheel that serves many Pythons, in percent of a call's time: a
    /// stable-ABI floor serves a Python only where the upper bound of its cost stays within it on
    /// every interpreter (and machine) measured.
    #[arg(long, value_name = "PERCENT", default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
}

impl GoalArgs {
    /// The goal for run `r`: the given workload, else its subject's default.
    pub fn goal(&self, r: &Results) -> Goal {
        let default = r.subject.default_workload();
        let workload = self.workload.clone().unwrap_or_else(|| Workload::parse(default).expect("a built-in workload"));
        Goal { workload, threshold: self.threshold }
    }

    /// The goal for run `r`. A workload given that counts an operation the run's scenarios do not
    /// time is refused; the default one, in a run of part of the scenarios (or one made before
    /// scenario files declared operations), gives way to `statements`, said in one line.
    pub fn checked_goal(&self, r: &Results) -> anyhow::Result<Goal> {
        let goal = self.goal(r);
        let Err(e) = goal.workload.check(&operations(&r.groups)) else { return Ok(goal) };
        if self.workload.is_some() {
            let declared = r.groups.iter().any(|g| !g.operations.is_empty());
            let hint = if declared {
                String::new()
            } else {
                format!(" (run {} was made before scenario files declared operations: compare again)", r.run.id)
            };
            anyhow::bail!("--workload: {e}{hint}");
        }
        // What `statements` can price: operations whose scenarios all ran.
        let timed = |s: &String| r.cells.iter().any(|c| &c.scenario == s);
        let whole =
            operations(&r.groups).iter().filter(|o| timed(&o.path) && o.minus.as_ref().is_none_or(timed)).count();
        let instead = if whole == 0 {
            "this run timed no operation whole, so nothing is priced and every Python gets a version-specific wheel; \
             time the operations' scenarios (abibench list) or give --workload"
                .to_string()
        } else {
            format!("the plan prices each of its {whole} operations called once (--workload {STATEMENTS}); give --workload to choose another")
        };
        eprintln!(
            "note: the default workload, {}, counts operations this run did not time; {instead}",
            goal.workload.name
        );
        Ok(Goal { workload: Workload::parse(STATEMENTS).map_err(anyhow::Error::msg)?, ..goal })
    }

    /// Refuses a given workload that counts an operation `groups` do not declare.
    pub fn check(&self, groups: &[Group]) -> anyhow::Result<()> {
        match &self.workload {
            Some(w) => w.check(&operations(groups)).map_err(|e| anyhow::anyhow!("--workload: {e}")),
            None => Ok(()),
        }
    }
}

fn workload_help() -> String {
    let named: Vec<String> =
        Workload::builtin().iter().map(|w| format!("  {}: {} ({})", w.name, w.description, shapes_of(w))).collect();
    format!(
        "What your calls are made of. A call is counted in the operations the scenario files declare \
         ([[operation]]; `abibench list` shows them) plus its own work, which no ABI touches: \
         `--workload 'args=3,str-args=1,items-read=100,work=500ns'`. A call with no way in (call, method, getter) is \
         a call of a function. A TOML file of [[shape]] tables (each the same keys, a `name` and a `share` of the \
         calls) describes several kinds of call. `{STATEMENTS}`: each of the run's scenarios called once (the \
         default with --crate, whose scenarios are your users' calls; else `balanced`). Named workloads:\n{}",
        named.join("\n")
    )
}

fn shapes_of(w: &Workload) -> String {
    w.shapes
        .iter()
        .map(|s| format!("{}{s}", if w.shapes.len() > 1 { format!("{} × ", s.share) } else { String::new() }))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::subject::Subject;

    /// The model names the default workloads by name (it cannot see `analysis`): each must be
    /// one the planner knows, and a crate's the planner's `statements`.
    #[test]
    fn each_subjects_default_workload_is_a_known_one() {
        let krate = Subject::Crate(
            serde_json::from_str(
                r#"{"name": "n", "version": "1", "distribution": "d", "module": "m", "pyo3_version": "0.29.3",
                "path": "/p", "git_revision": null, "floors": []}"#,
            )
            .unwrap(),
        );
        assert_eq!(krate.default_workload(), STATEMENTS);
        for s in [Subject::BenchExt, krate] {
            assert!(Workload::parse(s.default_workload()).is_ok(), "{}", s.default_workload());
        }
    }
}
