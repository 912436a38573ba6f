//! The native floor: each scenario's work done in pure Rust (`bench-ext/native`, timed by
//! criterion), so what a cell costs above it is the price of the crossing. This runs
//! `cargo bench -p bench-native` and reads criterion's estimates back; `analysis::floors` maps
//! them onto the scenarios that name a floor (`native = "<bench id>"`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::model::child::{self, Group, Line, Next, STDERR_TAIL};
use crate::model::estimate::Estimate;
use crate::model::native::{BenchEstimate, BENCH, GROUP, PACKAGE};
use crate::setup::paths::cargo;

/// Where criterion keeps its estimates, found as criterion finds it: `$CRITERION_HOME`, else
/// `criterion/` in cargo's target directory for this workspace.
pub fn criterion_home(workspace: &Path) -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Ok(home.into());
    }
    let manifest = workspace.join("Cargo.toml");
    let out = Command::new(cargo())
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

fn cargo_bench(workspace: &Path, home: &Path, criterion_args: &[String]) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.arg("bench")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .args(["--package", PACKAGE, "--bench", BENCH, "--"])
        .args(criterion_args)
        // Said explicitly, so criterion writes where we read even if it would resolve it otherwise.
        .env("CRITERION_HOME", home);
    cmd
}

/// The bench ids `benches/native.rs` defines (`--list` prints `native/<id>: benchmark`).
pub fn list_benches(workspace: &Path, home: &Path) -> Result<Vec<String>> {
    let out = cargo_bench(workspace, home, &["--list".into()])
        .stdin(Stdio::null())
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

/// What `cargo bench` is doing, from its output.
pub enum BenchEvent<'a> {
    /// criterion started a bench (its status line).
    Benchmarking(&'a str),
    /// criterion warns (e.g. too few samples in the time).
    Warning(&'a str),
    /// A bench finished: its id and criterion's `[low point high]`.
    Done { id: &'a str, time: &'a str },
}

/// Runs the benches, telling `on` what they do. Returns the command run.
pub fn run_benches(
    workspace: &Path,
    home: &Path,
    criterion_args: &[String],
    on: &dyn Fn(BenchEvent),
) -> Result<Vec<String>> {
    let cmd = cargo_bench(workspace, home, criterion_args);
    let argv: Vec<String> =
        std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy().into_owned()).collect();
    let mut child = child::spawn(cmd, None, Group::Terminal).context("cannot start cargo bench")?;
    // A result is `<id> time: [low point high]`, or for a long id the id on a line of its own.
    let mut current = String::new();
    loop {
        match child.next(Duration::from_secs(1)) {
            Next::Line(Line::Out(line)) => {
                if line.starts_with(&format!("{GROUP}/")) {
                    current = line.split_whitespace().next().unwrap_or_default().to_string();
                }
                if let Some((_, time)) = line.split_once("time:") {
                    on(BenchEvent::Done { id: &current, time: time.trim() });
                }
            }
            // On a terminal criterion rewrites its status line with '\r'.
            Next::Line(Line::Err(line)) => {
                for part in line.split('\r').map(str::trim).filter(|p| !p.is_empty()) {
                    if let Some(what) = part.strip_prefix("Benchmarking ") {
                        on(BenchEvent::Benchmarking(what));
                    } else if part.starts_with("Warning") {
                        on(BenchEvent::Warning(part));
                    }
                }
            }
            Next::Quiet => {}
            Next::Closed => break,
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{} {status}:\n{}", argv.join(" "), child.stderr_tail(STDERR_TAIL));
    }
    Ok(argv)
}

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
}
