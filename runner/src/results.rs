//! The results file: versioned, self-describing JSON with raw samples, written atomically.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::builds::BuildRecord;
use crate::interpreters::Interpreter;
use crate::measure::{Level, Sampling};
use crate::merge::MergedRun;
use crate::modes::Mode;
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub argv: Vec<String>,
    pub level: Level,
    /// What a value is: wall-clock seconds of `loops` executions, from `time.perf_counter`.
    pub measure: String,
    pub sampling: Sampling,
    pub seed: u64,
    pub build_seconds: f64,
    pub measure_seconds: f64,
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
    /// Empty-loop cost per iteration in the same process, subtracted by the analysis.
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

    /// Nanoseconds per operation for every value, keyed by (process, round) so two cells of one
    /// interpreter can be paired value by value.
    pub fn per_op_ns(&self) -> Vec<((usize, usize), f64)> {
        self.processes
            .iter()
            .flat_map(|p| {
                p.values_s.iter().enumerate().map(move |(round, v)| {
                    let per_loop = v / p.loops as f64 - p.overhead_per_loop_s;
                    ((p.process, round), per_loop / self.n as f64 * 1e9)
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

impl Results {
    /// Writes atomically (see `write_json_atomic`): a reader never sees half a file.
    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        write_json_atomic(self, path)
    }

    pub fn read(path: &Path) -> Result<Results> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        #[derive(Deserialize)]
        struct Header {
            schema: String,
            schema_version: u32,
        }
        let h: Header = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an abibench results file", path.display()))?;
        if h.schema != SCHEMA || h.schema_version != SCHEMA_VERSION {
            bail!(
                "{}: schema {} v{} (this abibench reads {SCHEMA} v{SCHEMA_VERSION})",
                path.display(),
                h.schema,
                h.schema_version
            );
        }
        serde_json::from_str(&text).with_context(|| format!("{}: malformed results", path.display()))
    }

    pub fn cell(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.interpreter == interpreter && c.mode == mode && c.scenario == scenario)
    }
}

/// Writes `value` as JSON to a temporary file beside `path`, syncs, then renames over `path`.
pub fn write_json_atomic<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, value)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
        let load = read_trim("/proc/loadavg").and_then(|l| {
            let v: Vec<f64> = l.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
            (v.len() == 3).then(|| [v[0], v[1], v[2]])
        });
        Host {
            hostname: read_trim("/proc/sys/kernel/hostname").unwrap_or_default(),
            os,
            kernel: read_trim("/proc/sys/kernel/osrelease").unwrap_or_default(),
            cpu_model: field(&cpuinfo, "model name").unwrap_or_default(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches(" kB").parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            load_average_at_start: load,
            cpu_governor: read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        }
    }
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

/// Small in-memory results for unit tests of the stages that read results (gate, merge, history).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::interpreters::{BuildInfo, Provenance, PyVersion};

    pub fn interpreter(name: &str) -> Interpreter {
        let mut v = name.split('.').map(|x| x.trim_end_matches('t').parse::<u8>().unwrap());
        Interpreter {
            name: name.into(),
            argv: vec![format!("/opt/python{name}/bin/python3").into()],
            provenance: Provenance::Explicit,
            version: PyVersion(v.next().unwrap(), v.next().unwrap()),
            full_version: name.into(),
            implementation: "cpython".into(),
            soabi: String::new(),
            ext_suffix: ".so".into(),
            extension_suffixes: vec![".so".into()],
            gil_disabled: name.ends_with('t'),
            build: BuildInfo {
                compiler: String::new(),
                cc: String::new(),
                opt: String::new(),
                config_args: String::new(),
                pgo: false,
                lto: false,
                shared: false,
                prefix: format!("/opt/python{name}"),
            },
        }
    }

    /// A complete run measuring `measure` whose cells hold the given per-operation values (one
    /// process, n = 1, no overhead, so `Cell::per_op_ns` gives the values back).
    pub fn run(id: &str, measure: &str, cells: &[(&str, Mode, &str, Vec<f64>)]) -> Results {
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
                measure: measure.into(),
                sampling: Level::Quick.sampling(),
                seed: 1,
                build_seconds: 0.0,
                measure_seconds: 0.0,
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
                        values_s: values.iter().map(|v| v * 1e-9).collect(),
                    });
                    c
                })
                .collect(),
            workers: Vec::new(),
        }
    }
}
