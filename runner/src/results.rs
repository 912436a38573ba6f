//! The results file: versioned, self-describing JSON with raw samples, written atomically.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::builds::BuildRecord;
use crate::interpreters::Interpreter;
use crate::measure::{Level, Sampling};
use crate::merge::MergedRun;
use crate::modes::Mode;
use crate::native::NativeSection;
use crate::scenarios::Group;
use crate::shard::ShardRecord;

pub const SCHEMA: &str = "abibench-results";
/// Bump on any change a reader of an older file could misread.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub schema: String,
    pub schema_version: u32,
    pub tool: String,
    pub run: RunInfo,
    pub host: Host,
    pub source: SourceInfo,
    pub interpreters: Vec<Interpreter>,
    pub builds: Vec<BuildRecord>,
    pub groups: Vec<Group>,
    pub cells: Vec<Cell>,
    pub workers: Vec<WorkerRecord>,
    /// The native floor of each scenario (`compare --native`). No schema bump for it: it is
    /// optional and additive, so this reader defaults it in older files, and older readers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub argv: Vec<String>,
    pub level: Level,
    /// How values were taken, including what a value is (`sampling.measure`).
    pub sampling: Sampling,
    pub seed: u64,
    pub build_seconds: f64,
    pub measure_seconds: f64,
    /// Load is the usual cause of noise on a shared machine; `host` has it at the start.
    #[serde(default)]
    pub load_average_at_end: Option<[f64; 3]>,
    /// Set when this run measured one shard of the matrix (`compare --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Set on a run written by `merge`: the runs it combines, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergedRun>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceInfo {
    pub git_revision: Option<String>,
    pub git_dirty: bool,
    pub ext_source_hash: String,
}

/// The machine, as far as it explains noise: load and frequency policy matter as much as the CPU.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    pub memory_bytes: u64,
    pub load_average_at_start: Option<[f64; 3]>,
    pub cpu_governor: Option<String>,
}

/// One (interpreter, mode, scenario) measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub interpreter: String,
    pub mode: Mode,
    pub scenario: String,
    /// Operations per statement execution.
    pub n: u64,
    pub status: CellStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the GIL was on while this cell ran (a free-threaded interpreter turns it on for
    /// an extension that does not declare free-threading support); unknown if the cell never ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gil_enabled: Option<bool>,
    /// Raw values, per worker process (values within a process are in round order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessSamples>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    Pending,
    Ok,
    /// The build leaves this C API path out in this mode (never substituted).
    NotAvailable,
    /// The build failed, so there is nothing to load.
    BuildFailed,
    /// The interpreter refused (ImportError, SystemError) or died loading the build.
    NotLoadable,
    /// The timed code raised.
    Error,
    Crashed,
    Timeout,
    Interrupted,
}

impl CellStatus {
    /// Outcomes that another worker process would only repeat.
    pub fn is_final_failure(self) -> bool {
        !matches!(self, CellStatus::Pending | CellStatus::Ok)
    }

    pub fn label(self) -> &'static str {
        match self {
            CellStatus::Pending => "pending",
            CellStatus::Ok => "ok",
            CellStatus::NotAvailable => "n/a in mode",
            CellStatus::BuildFailed => "build failed",
            CellStatus::NotLoadable => "not loadable",
            CellStatus::Error => "error",
            CellStatus::Crashed => "CRASHED",
            CellStatus::Timeout => "hung",
            CellStatus::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessSamples {
    pub process: usize,
    pub loops: u64,
    /// Empty-loop cost per iteration in the same process (same unit as values), subtracted by the analysis.
    pub overhead_per_loop_s: f64,
    pub warmups_s: Vec<f64>,
    pub values_s: Vec<f64>,
}

impl Cell {
    pub fn pending(interpreter: &str, mode: Mode, scenario: &str, n: u64) -> Cell {
        Cell {
            interpreter: interpreter.into(),
            mode,
            scenario: scenario.into(),
            n,
            status: CellStatus::Pending,
            reason: None,
            gil_enabled: None,
            processes: Vec::new(),
        }
    }

    pub fn fail(&mut self, status: CellStatus, reason: String) {
        self.status = status;
        self.reason = Some(reason);
    }

    pub fn add_process(&mut self, p: ProcessSamples) {
        if self.status == CellStatus::Pending {
            self.status = CellStatus::Ok;
        }
        self.processes.push(p);
    }

    /// Per-operation values (ns or instructions: `scale` from `Measure::scale`), keyed by
    /// (process, round) so two cells of one interpreter can be paired value by value.
    pub fn per_op(&self, scale: f64) -> Vec<((usize, usize), f64)> {
        self.processes
            .iter()
            .flat_map(|p| {
                p.values_s.iter().enumerate().map(move |(round, v)| {
                    let per_loop = v / p.loops as f64 - p.overhead_per_loop_s;
                    ((p.process, round), per_loop / self.n as f64 * scale)
                })
            })
            .collect()
    }
}

/// One worker child's life, for the record (its overhead values are raw samples too).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerRecord {
    pub interpreter: String,
    pub process: usize,
    pub overhead_loops: u64,
    pub overhead_values: Vec<f64>,
    pub ending: String,
}

impl WorkerRecord {
    pub fn new(interpreter: &str, process: usize) -> WorkerRecord {
        WorkerRecord {
            interpreter: interpreter.into(),
            process,
            overhead_loops: 0,
            overhead_values: Vec::new(),
            ending: String::new(),
        }
    }
}

/// The newest `<prefix><run id>.json` in `dir` (run ids sort by time and start with a digit, so
/// `native-…` files are not taken for results files).
pub fn latest(dir: &Path, prefix: &str) -> Result<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy();
            stem.strip_prefix(prefix).is_some_and(|id| id.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    files.sort();
    files.pop().with_context(|| format!("no {prefix}<run id>.json files in {}", dir.display()))
}

impl Results {
    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        write_json_atomic(self, path)
    }

    pub fn read(path: &Path) -> Result<Results> {
        read_json(path, SCHEMA, SCHEMA_VERSION)
    }

    pub fn cell(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.interpreter == interpreter && c.mode == mode && c.scenario == scenario)
    }

    /// The modes this run has cells for, in table order.
    pub fn modes(&self) -> Vec<Mode> {
        Mode::ALL.into_iter().filter(|m| self.cells.iter().any(|c| c.mode == *m)).collect()
    }
}

/// Writes JSON to a temporary file beside `path`, syncs, then renames: a reader never sees half a
/// file. Every file abibench saves goes through here.
pub fn write_json_atomic<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, value)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads a file written by `write_json_atomic`, refusing another schema or version by name before
/// trying to parse the rest (an old file should say it is old, not that a field is missing).
pub fn read_json<T: DeserializeOwned>(path: &Path, schema: &str, version: u32) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    #[derive(Deserialize)]
    struct Header {
        schema: String,
        schema_version: u32,
    }
    let h: Header =
        serde_json::from_str(&text).with_context(|| format!("{} is not an {schema} file", path.display()))?;
    if h.schema != schema || h.schema_version != version {
        bail!(
            "{}: schema {} v{} (this abibench reads {schema} v{version})",
            path.display(),
            h.schema,
            h.schema_version
        );
    }
    serde_json::from_str(&text).with_context(|| format!("{}: malformed {schema} file", path.display()))
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A run id that sorts by time: `20261120T234847Z`.
pub fn run_id(started_at: &str) -> String {
    started_at.chars().filter(|c| !matches!(c, '-' | ':')).collect()
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

impl Host {
    pub fn current() -> Host {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string())
        };
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string()))
            })
            .unwrap_or_else(|| std::env::consts::OS.into());
        Host {
            hostname: read_trim("/proc/sys/kernel/hostname").unwrap_or_default(),
            os,
            kernel: read_trim("/proc/sys/kernel/osrelease").unwrap_or_default(),
            cpu_model: field(&cpuinfo, "model name").unwrap_or_default(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches(" kB").parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            load_average_at_start: load_average(),
            cpu_governor: read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        }
    }
}

/// The 1, 5 and 15 minute load averages, where the system tells them.
pub fn load_average() -> Option<[f64; 3]> {
    let v: Vec<f64> = read_trim("/proc/loadavg")?.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

/// The workspace's git revision and whether it has uncommitted changes.
pub fn git_state(workspace: &Path) -> (Option<String>, bool) {
    let git = |args: &[&str]| {
        Command::new("git").arg("-C").arg(workspace).args(args).output().ok().filter(|o| o.status.success())
    };
    let rev = git(&["rev-parse", "HEAD"]).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|o| !o.stdout.is_empty());
    (rev, dirty)
}

/// Where a run's results go: `<dir>/<run id>.json`.
pub fn results_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_tells_results_from_native_files() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["20261120T000000Z.json", "20261119T000000Z.json", "native-20261121T000000Z.json", "notes.json"] {
            std::fs::write(dir.path().join(f), "{}").unwrap();
        }
        let name = |p: PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name(latest(dir.path(), "").unwrap()), "20261120T000000Z.json");
        assert_eq!(name(latest(dir.path(), "native-").unwrap()), "native-20261121T000000Z.json");
        let e = latest(dir.path(), "other-").unwrap_err().to_string();
        assert!(e.contains("other-<run id>.json") && e.contains(&dir.path().display().to_string()), "{e}");
    }
}

/// Small in-memory results for unit tests of the stages that read results (gate, merge, history).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::interpreters::{sample, Provenance, PyVersion};
    use crate::measure::Measure;

    pub fn interpreter(name: &str) -> Interpreter {
        let mut v = name.split('.').map(|x| x.trim_end_matches('t').parse::<u8>().unwrap());
        let mut i = sample(name, Provenance::Explicit, &format!("/opt/python{name}"));
        i.version = PyVersion(v.next().unwrap(), v.next().unwrap());
        i.gil_disabled = name.ends_with('t');
        i
    }

    /// A complete run measuring `measure` whose cells hold the given per-operation values (one
    /// process, n = 1, no overhead, so `Cell::per_op(measure.scale())` gives the values back).
    pub fn run(id: &str, measure: Measure, cells: &[(&str, Mode, &str, Vec<f64>)]) -> Results {
        let mut names: Vec<&str> = Vec::new();
        for c in cells {
            if !names.contains(&c.0) {
                names.push(c.0);
            }
        }
        Results {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            tool: "abibench test".into(),
            run: RunInfo {
                id: id.into(),
                started_at: "2026-11-20T00:00:00Z".into(),
                finished_at: Some("2026-11-20T00:01:00Z".into()),
                status: RunStatus::Complete,
                argv: vec!["abibench".into()],
                level: Level::Quick,
                sampling: Level::Quick.sampling(measure),
                seed: 1,
                build_seconds: 0.0,
                measure_seconds: 0.0,
                load_average_at_end: None,
                shard: None,
                merged_from: Vec::new(),
            },
            host: Host::current(),
            source: SourceInfo { git_revision: Some("abc123".into()), git_dirty: false, ext_source_hash: "h".into() },
            interpreters: names.into_iter().map(interpreter).collect(),
            builds: Vec::new(),
            groups: Vec::new(),
            cells: cells
                .iter()
                .map(|(i, m, s, values)| {
                    let mut c = Cell::pending(i, *m, s, 1);
                    c.add_process(ProcessSamples {
                        process: 0,
                        loops: 1,
                        overhead_per_loop_s: 0.0,
                        warmups_s: Vec::new(),
                        values_s: values.iter().map(|v| v / measure.scale()).collect(),
                    });
                    c
                })
                .collect(),
            workers: Vec::new(),
            native: None,
        }
    }
}
