//! The native floor: each scenario's work done in pure Rust (`bench-ext/native`, timed by
//! criterion), so what a cell costs above it is the price of the crossing.
//!
//! `abibench native` runs `cargo bench -p bench-native` and records criterion's estimates in
//! `native-<run id>.json`; `compare --native` maps them onto the scenarios that name a floor
//! (`native = "<bench id>"`) and keeps that in the results file; `above_floor` is a cell's cost
//! above its floor.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::builds;
use crate::cli::NativeArgs;
use crate::export::table;
use crate::progress::Progress;
use crate::results::{self, Host};
use crate::scenarios::{self, Group, Scenario};
use crate::stats::Estimate;

/// The crate, bench target and criterion group of the floors.
pub const PACKAGE: &str = "bench-native";
const BENCH: &str = "native";
pub const GROUP: &str = "native";
pub const SCHEMA: &str = "abibench-native";
pub const SCHEMA_VERSION: u32 = 1;
/// Native files are `native-<run id>.json`, beside the results files.
pub const FILE_PREFIX: &str = "native-";

/// One criterion bench's estimate, as criterion recorded it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchEstimate {
    /// criterion's median time per iteration, in ns, with its 95 % bootstrap interval.
    pub per_iteration_ns: Estimate,
    /// Operations in one iteration (the bench's `Throughput::Elements`).
    pub elements: u64,
    /// When criterion wrote the estimate (its file's modification time): a stale one shows.
    pub measured_at: String,
}

impl BenchEstimate {
    /// Per operation: the per-iteration estimate over the operations of one iteration.
    pub fn per_op_ns(&self) -> Estimate {
        let n = self.elements as f64;
        let e = &self.per_iteration_ns;
        Estimate { point: e.point / n, low: e.low / n, high: e.high / n }
    }
}

/// A native run: what `abibench native` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NativeRun {
    pub schema: String,
    pub schema_version: u32,
    pub tool: String,
    pub id: String,
    pub created_at: String,
    /// The `cargo bench` command run; `None` when criterion's existing estimates were recorded.
    pub command: Option<Vec<String>>,
    pub criterion_home: PathBuf,
    pub git_revision: Option<String>,
    pub git_dirty: bool,
    pub host: Host,
    /// Bench id → its estimate.
    pub benches: BTreeMap<String, BenchEstimate>,
}

/// One scenario's floor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Floor {
    /// The criterion bench id.
    pub bench: String,
    pub per_op_ns: Estimate,
}

/// The native part of a results file: scenario → floor, and where the floors came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NativeSection {
    pub file: PathBuf,
    pub run_id: String,
    pub created_at: String,
    pub floors: BTreeMap<String, Floor>,
}

/// What a cell costs above its floor, per operation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AboveFloor {
    /// time − floor, in ns.
    pub excess_ns: Estimate,
    /// time ÷ floor.
    pub ratio: Estimate,
}

/// A cell's median time per operation against its floor's. The two come from different
/// processes (abibench's worker, criterion's bench), so they cannot be paired: each interval
/// combines the worst cases of both, which is conservative.
pub fn above_floor(time: &Estimate, floor: &Estimate) -> AboveFloor {
    AboveFloor {
        excess_ns: Estimate {
            point: time.point - floor.point,
            low: time.low - floor.high,
            high: time.high - floor.low,
        },
        ratio: Estimate { point: time.point / floor.point, low: time.low / floor.high, high: time.high / floor.low },
    }
}

/// Where criterion keeps its estimates, found as criterion finds it: `$CRITERION_HOME`, else
/// `criterion/` in cargo's target directory for this workspace.
pub fn criterion_home(workspace: &Path) -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Ok(home.into());
    }
    let manifest = workspace.join("Cargo.toml");
    let out = Command::new(builds::cargo())
        .args(["metadata", "--format-version", "1", "--no-deps", "--manifest-path"])
        .arg(&manifest)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata --manifest-path {} {}", manifest.display(), out.status);
    }
    #[derive(Deserialize)]
    struct Metadata {
        target_directory: PathBuf,
    }
    let m: Metadata = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("cargo metadata for {}: unexpected output", manifest.display()))?;
    Ok(m.target_directory.join("criterion"))
}

fn read_criterion_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not what criterion writes", path.display()))
}

/// Reads criterion's latest estimate of bench `native/<id>` under `home`.
pub fn read_bench(home: &Path, id: &str) -> Result<BenchEstimate> {
    let dir = home.join(GROUP).join(id).join("new");
    let estimates_file = dir.join("estimates.json");
    if !estimates_file.is_file() {
        bail!(
            "no criterion estimates found under {}: run `cargo bench -p {PACKAGE}` (or `abibench native`)",
            dir.display()
        );
    }
    #[derive(Deserialize)]
    struct Estimates {
        median: Statistic,
    }
    #[derive(Deserialize)]
    struct Statistic {
        point_estimate: f64,
        confidence_interval: Interval,
    }
    #[derive(Deserialize)]
    struct Interval {
        lower_bound: f64,
        upper_bound: f64,
    }
    #[derive(Deserialize)]
    struct Benchmark {
        // criterion writes e.g. {"Elements": 1000}, or null when the bench sets none.
        throughput: Option<BTreeMap<String, u64>>,
    }
    let m = read_criterion_json::<Estimates>(&estimates_file)?.median;
    let benchmark_file = dir.join("benchmark.json");
    let throughput = read_criterion_json::<Benchmark>(&benchmark_file)?.throughput.unwrap_or_default();
    let Some(&elements) = throughput.get("Elements").filter(|&&n| n > 0) else {
        bail!(
            "{}: native/{id} records no Throughput::Elements, so its operations per iteration are unknown \
             (every floor in bench-ext/native/benches/native.rs sets one)",
            benchmark_file.display()
        );
    };
    let modified = std::fs::metadata(&estimates_file).and_then(|m| m.modified())?;
    Ok(BenchEstimate {
        per_iteration_ns: Estimate {
            point: m.point_estimate,
            low: m.confidence_interval.lower_bound,
            high: m.confidence_interval.upper_bound,
        },
        elements,
        measured_at: humantime::format_rfc3339_seconds(modified).to_string(),
    })
}

/// The scenarios that name a floor, with their group, by floor.
fn by_floor(groups: &[Group]) -> BTreeMap<&str, Vec<(&Group, &Scenario)>> {
    let mut m: BTreeMap<&str, Vec<(&Group, &Scenario)>> = BTreeMap::new();
    for g in groups {
        for s in &g.scenarios {
            if let Some(id) = &s.native {
                m.entry(id.as_str()).or_default().push((g, s));
            }
        }
    }
    m
}

/// Maps each scenario that names a floor onto its bench's estimate, per operation. `source` says
/// where `benches` came from, for the errors: a floor missing from it, or one whose operations per
/// iteration are not its scenario's `n` (the two would time different sizes).
pub fn floors(
    benches: &BTreeMap<String, BenchEstimate>,
    source: &Path,
    groups: &[Group],
) -> Result<BTreeMap<String, Floor>> {
    let mut floors = BTreeMap::new();
    for (id, users) in by_floor(groups) {
        for (g, s) in users {
            let Some(b) = benches.get(id) else {
                bail!(
                    "{}: scenario '{}' names native floor '{id}', which {} has no estimate for (it has: {}); \
                     run `abibench native`",
                    g.file.display(),
                    s.name,
                    source.display(),
                    benches.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            if b.elements != s.n {
                bail!(
                    "{}: scenario '{}' has n = {}, but its native floor '{id}' in {} does {} operations per \
                     iteration; make the bench in bench-ext/native/benches/native.rs match, and run it again",
                    g.file.display(),
                    s.name,
                    s.n,
                    source.display(),
                    b.elements
                );
            }
            floors.insert(s.name.clone(), Floor { bench: id.to_string(), per_op_ns: b.per_op_ns() });
        }
    }
    Ok(floors)
}

/// The floors of `groups` from a native file: `file`, or the newest in `dir`.
pub fn section(file: Option<&Path>, dir: &Path, groups: &[Group]) -> Result<NativeSection> {
    let file = match file {
        Some(f) => f.to_path_buf(),
        None => results::latest(dir, FILE_PREFIX).context("--native: run `abibench native` first")?,
    };
    let run: NativeRun = results::read_json(&file, SCHEMA, SCHEMA_VERSION)?;
    Ok(NativeSection { floors: floors(&run.benches, &file, groups)?, file, run_id: run.id, created_at: run.created_at })
}

fn cargo_bench(workspace: &Path, home: &Path, criterion_args: &[String]) -> Command {
    let mut cmd = Command::new(builds::cargo());
    cmd.arg("bench")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .args(["--package", PACKAGE, "--bench", BENCH, "--"])
        .args(criterion_args)
        // Said explicitly, so criterion writes where we read even if it would resolve it otherwise.
        .env("CRITERION_HOME", home)
        .stdin(Stdio::null());
    cmd
}

/// The bench ids `benches/native.rs` defines (`--list` prints `native/<id>: benchmark`).
fn list_benches(workspace: &Path, home: &Path) -> Result<Vec<String>> {
    let out = cargo_bench(workspace, home, &["--list".into()])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start cargo bench")?;
    if !out.status.success() {
        bail!("cargo bench -p {PACKAGE} -- --list {}", out.status);
    }
    let prefix = format!("{GROUP}/");
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix)?.strip_suffix(": benchmark").map(String::from))
        .collect())
}

/// Runs the benches under a progress bar: criterion's status lines (stderr) become its message,
/// each result (stdout) a line above it. Returns the command.
fn run_benches(workspace: &Path, home: &Path, criterion_args: &[String], count: usize) -> Result<Vec<String>> {
    let mut cmd = cargo_bench(workspace, home, criterion_args);
    let argv: Vec<String> =
        std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy().into_owned()).collect();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().context("cannot start cargo bench")?;
    let (stdout, stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let progress = Progress::new(count as u64, "benching");
    let stderr_tail = std::thread::scope(|scope| {
        let errors = scope.spawn(|| {
            let mut tail = Vec::new();
            // On a terminal criterion rewrites its status line with '\r'.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                for part in line.split('\r').map(str::trim).filter(|p| !p.is_empty()) {
                    if let Some(what) = part.strip_prefix("Benchmarking ") {
                        progress.set_message(what.to_string());
                    } else if part.starts_with("Warning") {
                        progress.note(format!("  {part}"));
                    } else {
                        tail.push(part.to_string());
                    }
                }
            }
            tail
        });
        // A result is `<id> time: [low point high]`, or for a long id the id on a line of its own.
        let mut current = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with(&format!("{GROUP}/")) {
                current = line.split_whitespace().next().unwrap_or_default().to_string();
            }
            if let Some((_, time)) = line.split_once("time:") {
                progress.inc();
                progress.note(format!("  {current:<32} time: {}", time.trim()));
            }
        }
        errors.join().unwrap_or_default()
    });
    let status = child.wait()?;
    progress.finish();
    if !status.success() {
        let tail = &stderr_tail[stderr_tail.len().saturating_sub(builds::STDERR_TAIL)..];
        bail!("{} {status}:\n{}", argv.join(" "), tail.join("\n"));
    }
    Ok(argv)
}

/// `abibench native`: run (or with `--existing`, only read) the benches, record the estimates of
/// every floor a scenario names, and print them.
pub fn run(args: &NativeArgs) -> Result<PathBuf> {
    let groups = scenarios::load_dir(&args.scenarios_dir)?;
    let wanted = by_floor(&groups);
    if wanted.is_empty() {
        bail!("no scenario in {} names a native floor (`native = \"<bench id>\"`)", args.scenarios_dir.display());
    }
    let workspace = builds::workspace_root();
    let home = criterion_home(&workspace)?;
    let command = if args.existing {
        None
    } else {
        // Checked before minutes of benching: a floor no bench defines is a typo or a missing bench.
        let defined = list_benches(&workspace, &home)?;
        for (id, users) in &wanted {
            if !defined.iter().any(|d| d == id) {
                let (g, s) = users[0];
                bail!(
                    "{}: scenario '{}' names native floor '{id}', which bench-ext/native/benches/native.rs does \
                     not define (it has: {})",
                    g.file.display(),
                    s.name,
                    defined.join(", ")
                );
            }
        }
        let quick: &[&str] = if args.quick { &QUICK } else { &[] };
        let criterion_args: Vec<String> =
            quick.iter().map(|a| a.to_string()).chain(args.criterion_args.iter().cloned()).collect();
        Some(run_benches(&workspace, &home, &criterion_args, defined.len())?)
    };
    let mut benches = BTreeMap::new();
    for (id, users) in &wanted {
        let (g, s) = users[0];
        let b = read_bench(&home, id)
            .with_context(|| format!("{}: native floor of scenario '{}'", g.file.display(), s.name))?;
        benches.insert(id.to_string(), b);
    }
    floors(&benches, &home, &groups)?;

    let created_at = results::now_rfc3339();
    let id = results::run_id(&created_at);
    let (git_revision, git_dirty) = results::git_state(&workspace);
    let run = NativeRun {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        tool: format!("abibench {}", env!("CARGO_PKG_VERSION")),
        id: id.clone(),
        created_at,
        command,
        criterion_home: home,
        git_revision,
        git_dirty,
        host: Host::current(),
        benches,
    };
    let path = args.out.join(format!("{FILE_PREFIX}{id}.json"));
    results::write_json_atomic(&run, &path)?;
    print!("{}", table::render_native(&run, &groups, args.style.ascii || !std::io::stdout().is_terminal()));
    eprintln!("native floors: {}", path.display());
    Ok(path)
}

/// `--quick`: criterion's warm-up and measurement shortened from its 3 s and 5 s.
const QUICK: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by a real criterion run of `benches/native.rs` (see tests/fixtures/README.md).
    fn fixture_home() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion")
    }

    const FIXTURE_BENCH: &str = "slice_sum_iter";

    fn fixture_json(file: &str) -> serde_json::Value {
        let path = fixture_home().join(GROUP).join(FIXTURE_BENCH).join("new").join(file);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn reads_criterions_median_interval_and_elements() {
        let b = read_bench(&fixture_home(), FIXTURE_BENCH).unwrap();
        let median = &fixture_json("estimates.json")["median"];
        assert_eq!(b.per_iteration_ns.point, median["point_estimate"].as_f64().unwrap());
        assert_eq!(b.per_iteration_ns.low, median["confidence_interval"]["lower_bound"].as_f64().unwrap());
        assert_eq!(b.per_iteration_ns.high, median["confidence_interval"]["upper_bound"].as_f64().unwrap());
        assert_eq!(b.elements, fixture_json("benchmark.json")["throughput"]["Elements"].as_u64().unwrap());
        assert!(
            b.per_iteration_ns.low <= b.per_iteration_ns.point && b.per_iteration_ns.point <= b.per_iteration_ns.high
        );
    }

    #[test]
    fn per_op_divides_by_the_operations_of_one_iteration() {
        let b = read_bench(&fixture_home(), FIXTURE_BENCH).unwrap();
        let (op, per_iter) = (b.per_op_ns(), b.per_iteration_ns);
        let n = b.elements as f64;
        assert!(n > 1.0, "the fixture should be a multi-operation floor");
        for (o, i) in [(op.point, per_iter.point), (op.low, per_iter.low), (op.high, per_iter.high)] {
            assert!((o * n - i).abs() <= 1e-12 * i, "{o} ns/op x {n} != {i} ns/iteration");
        }
    }

    #[test]
    fn a_missing_or_unsized_estimate_says_what_to_run_or_fix() {
        let e = read_bench(&fixture_home(), "no_such_floor").unwrap_err().to_string();
        let dir = fixture_home().join(GROUP).join("no_such_floor").join("new");
        assert!(e.contains(&dir.display().to_string()) && e.contains("cargo bench -p bench-native"), "{e}");

        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(GROUP).join("x").join("new");
        std::fs::create_dir_all(&dir).unwrap();
        let src = fixture_home().join(GROUP).join(FIXTURE_BENCH).join("new");
        std::fs::copy(src.join("estimates.json"), dir.join("estimates.json")).unwrap();
        let mut benchmark = fixture_json("benchmark.json");
        benchmark["throughput"] = serde_json::Value::Null;
        std::fs::write(dir.join("benchmark.json"), benchmark.to_string()).unwrap();
        let e = read_bench(home.path(), "x").unwrap_err().to_string();
        assert!(e.contains("benchmark.json") && e.contains("Throughput::Elements"), "{e}");
    }

    fn groups(n: u64) -> Vec<Group> {
        let text = format!(
            r#"
[group]
name = "containers"
title = "Containers"
kind = "chatty"

[[scenario]]
name = "list_macro"
function = "f1"
stmt = "f(x)"
n = {n}
native = "{FIXTURE_BENCH}"

[[scenario]]
name = "tuple_fn"
function = "f2"
stmt = "f(x)"
n = {n}
native = "{FIXTURE_BENCH}"

[[scenario]]
name = "no_floor"
function = "f3"
stmt = "f()"
"#
        );
        vec![scenarios::parse_file(Path::new("c.toml"), &text).unwrap()]
    }

    #[test]
    fn scenarios_sharing_a_floor_get_its_per_op_estimate() {
        let b = read_bench(&fixture_home(), FIXTURE_BENCH).unwrap();
        let benches = BTreeMap::from([(FIXTURE_BENCH.to_string(), b.clone())]);
        let f = floors(&benches, Path::new("n.json"), &groups(b.elements)).unwrap();
        assert_eq!(f.keys().collect::<Vec<_>>(), ["list_macro", "tuple_fn"], "a scenario without `native` has none");
        for floor in f.values() {
            assert_eq!(floor.bench, FIXTURE_BENCH);
            assert_eq!(floor.per_op_ns, b.per_op_ns());
        }
    }

    #[test]
    fn a_floor_of_another_size_or_none_at_all_is_refused() {
        let b = read_bench(&fixture_home(), FIXTURE_BENCH).unwrap();
        let benches = BTreeMap::from([(FIXTURE_BENCH.to_string(), b.clone())]);
        let e = floors(&benches, Path::new("n.json"), &groups(b.elements + 1)).unwrap_err().to_string();
        assert!(e.starts_with("c.toml:") && e.contains("list_macro") && e.contains("n.json"), "{e}");
        assert!(e.contains(&format!("n = {}", b.elements + 1)) && e.contains(&b.elements.to_string()), "{e}");

        let e = floors(&BTreeMap::new(), Path::new("n.json"), &groups(b.elements)).unwrap_err().to_string();
        assert!(e.starts_with("c.toml:") && e.contains(FIXTURE_BENCH) && e.contains("abibench native"), "{e}");
    }

    #[test]
    fn cost_above_the_floor_widens_to_both_intervals() {
        let time = Estimate { point: 10.0, low: 9.0, high: 12.0 };
        let floor = Estimate { point: 2.0, low: 1.0, high: 4.0 };
        let a = above_floor(&time, &floor);
        assert_eq!(a.excess_ns, Estimate { point: 8.0, low: 5.0, high: 11.0 });
        assert_eq!(a.ratio, Estimate { point: 5.0, low: 2.25, high: 12.0 });
        // At the floor itself, "no cost" stays inside both intervals.
        let at = above_floor(&floor, &floor);
        assert!(at.excess_ns.contains(0.0) && at.ratio.contains(1.0), "{at:?}");
    }
}
