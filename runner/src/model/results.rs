//! The results file: versioned, self-describing JSON with raw samples, written atomically.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::build::{BuildRecord, Toolchain};
use crate::model::callgrind::Calls;
use crate::model::host::{Host, SourceInfo};
use crate::model::interpreter::Interpreter;
use crate::model::io::{now_rfc3339_millis, read_json, write_json_atomic};
use crate::model::mode::Mode;
use crate::model::native::NativeSection;
use crate::model::pytest::PytestRecord;
use crate::model::sampling::{Level, Sampling, Stop};
use crate::model::scenario::Group;
use crate::model::shard::{Shard, ShardRecord};
use crate::model::subject::Subject;

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
    /// The toolchain the builds were made with (absent in files older than this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<Toolchain>,
    pub builds: Vec<BuildRecord>,
    pub groups: Vec<Group>,
    pub cells: Vec<Cell>,
    pub workers: Vec<WorkerRecord>,
    /// The native floor of each scenario (`compare --native`). No schema bump for it: it is
    /// optional and additive, so this reader defaults it in older files, and older readers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeSection>,
    /// The user's crate this run built and timed (`--crate`); absent: abibench's own bench-ext.
    #[serde(default, skip_serializing_if = "Subject::is_bench_ext")]
    pub subject: Subject,
    /// The crate's benchmark tests, when they were the scenarios (`compare --pytest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytest: Option<PytestRecord>,
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
    /// The abibench process that wrote the run, so that a later run can tell a run still going
    /// from one whose abibench was killed (`mark_abandoned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Writer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
    /// Left "running" by an abibench that was killed (SIGKILL, or a signal it cannot handle),
    /// as a later run in the same directory found.
    Abandoned,
}

/// Where a value was taken: two cells' values with the same `At` were timed side by side (the
/// same layout variant of each build, the same worker process, the same interleaved round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At {
    pub layout: u32,
    pub process: usize,
    pub round: usize,
}

impl RunStatus {
    /// As in the file: "running", "complete", "interrupted".
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Abandoned => "abandoned",
        }
    }
}

/// A process, named so that it cannot be mistaken for a later one with the same pid: the host,
/// its boot, the pid and the process's start time (clock ticks after boot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writer {
    pub hostname: String,
    pub boot_id: String,
    pub pid: u32,
    pub start_ticks: u64,
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), if it runs.
fn start_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses) start at field 3.
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

impl Writer {
    /// This process, where /proc says who it is.
    pub fn current() -> Option<Writer> {
        Some(Writer {
            hostname: read_trim("/proc/sys/kernel/hostname")?,
            boot_id: read_trim("/proc/sys/kernel/random/boot_id")?,
            pid: std::process::id(),
            start_ticks: start_ticks("self")?,
        })
    }

    /// Whether this writer has certainly ended: it ran on this host since its last boot, and no
    /// process with its pid and start time runs now. A writer on another host (a shared
    /// directory) cannot be told from here, and is not gone.
    pub fn is_gone(&self) -> bool {
        let here = (read_trim("/proc/sys/kernel/hostname"), read_trim("/proc/sys/kernel/random/boot_id"));
        here == (Some(self.hostname.clone()), Some(self.boot_id.clone()))
            && start_ticks(&self.pid.to_string()) != Some(self.start_ticks)
    }
}

/// One input of a merged run, for the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedRun {
    pub id: String,
    pub file: PathBuf,
    pub hostname: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    pub seed: u64,
    pub argv: Vec<String>,
}

/// `interpreter/mode/scenario`, the key of a cell.
pub fn key_string(interpreter: &str, mode: Mode, scenario: &str) -> String {
    format!("{interpreter}/{mode}/{scenario}")
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
    /// Why its scenario was measured no further (sequential sampling, `Sampling::until`); none
    /// in a fixed design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Instruction counts only: the calls this build made into the interpreter (absent in files
    /// older than this field, and under wall time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<Calls>,
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
    /// The build's layout variant (see `BuildRecord::layout`); 0 in a run with one layout.
    #[serde(default)]
    pub layout: u32,
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
            stop: None,
            calls: None,
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

    /// `interpreter/mode/scenario`: how a cell is named in keys, notes and verdicts.
    pub fn key(&self) -> String {
        key_string(&self.interpreter, self.mode, &self.scenario)
    }

    /// Per-operation values (as `per_op`) if the cell was measured.
    pub fn values(&self, scale: f64) -> Option<Vec<(At, f64)>> {
        (self.status == CellStatus::Ok && !self.processes.is_empty()).then(|| self.per_op(scale))
    }

    /// Per-operation values (ns or instructions: `scale` from `Measure::scale`), keyed by
    /// (process, round) so two cells of one interpreter can be paired value by value.
    pub fn per_op(&self, scale: f64) -> Vec<(At, f64)> {
        self.processes
            .iter()
            .flat_map(|p| {
                p.values_s.iter().enumerate().map(move |(round, v)| {
                    let per_loop = v / p.loops as f64 - p.overhead_per_loop_s;
                    (At { layout: p.layout, process: p.process, round }, per_loop / self.n as f64 * scale)
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
    /// When the worker started and ended (RFC 3339, milliseconds): which workers ran at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
}

impl WorkerRecord {
    pub fn new(interpreter: &str, process: usize) -> WorkerRecord {
        WorkerRecord {
            interpreter: interpreter.into(),
            process,
            overhead_loops: 0,
            overhead_values: Vec::new(),
            ending: String::new(),
            started_at: Some(now_rfc3339_millis()),
            ended_at: None,
        }
    }
}

impl Results {
    /// A run about to be measured: everything but its cells and workers.
    pub fn new(
        run: RunInfo,
        host: Host,
        source: SourceInfo,
        interpreters: Vec<Interpreter>,
        groups: Vec<Group>,
        (toolchain, builds): (Toolchain, Vec<BuildRecord>),
        native: Option<NativeSection>,
    ) -> Results {
        Results {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            tool: format!("abibench {}", env!("CARGO_PKG_VERSION")),
            run,
            host,
            source,
            interpreters,
            toolchain: Some(toolchain),
            builds,
            groups,
            cells: Vec::new(),
            workers: Vec::new(),
            subject: Subject::BenchExt,
            pytest: None,
            native,
        }
    }

    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        write_json_atomic(self, path)
    }

    /// Reads a results file, refusing one whose values no analysis could use (`check_values`).
    pub fn read(path: &Path) -> Result<Results> {
        let r: Results = read_json(path, SCHEMA, SCHEMA_VERSION)?;
        r.check_values().with_context(|| format!("{}: malformed results", path.display()))?;
        Ok(r)
    }

    /// Every measured cell has what its figures are computed from: an `n`, and in each process
    /// values, a loop count and finite numbers. A hand-edited file, or one a bug wrote, is
    /// refused here, naming the cell, rather than failing somewhere in the analysis.
    pub fn check_values(&self) -> Result<()> {
        for c in self.cells.iter().filter(|c| c.status == CellStatus::Ok) {
            if c.n == 0 {
                bail!("cell {}: status \"ok\" with n = 0 operations per statement", c.key());
            }
            for p in &c.processes {
                let at = || format!("cell {}, process {} (layout {})", c.key(), p.process, p.layout);
                if p.values_s.is_empty() {
                    bail!("{}: status \"ok\" but no values", at());
                }
                if p.loops == 0 {
                    bail!("{}: status \"ok\" but 0 loops per value", at());
                }
                let numbers = p.values_s.iter().chain(&p.warmups_s).chain([&p.overhead_per_loop_s]);
                if let Some(x) = numbers.into_iter().find(|x| !x.is_finite()) {
                    bail!("{}: a value is not a finite number ({x})", at());
                }
            }
        }
        Ok(())
    }

    pub fn cell(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.interpreter == interpreter && c.mode == mode && c.scenario == scenario)
    }

    /// The modes this run has cells for, in table order.
    pub fn modes(&self) -> Vec<Mode> {
        Mode::ALL.into_iter().filter(|m| self.cells.iter().any(|c| c.mode == *m)).collect()
    }
}

/// Small in-memory results for unit tests of the stages that read results (gate, merge, history).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::model::interpreter::{sample, Provenance};
    use crate::model::sampling::Measure;
    use crate::model::version::PyVersion;

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
                writer: None,
            },
            host: Host::current(),
            source: SourceInfo { git_revision: Some("abc123".into()), git_dirty: false, ext_source_hash: "h".into() },
            interpreters: names.into_iter().map(interpreter).collect(),
            toolchain: None,
            builds: Vec::new(),
            groups: Vec::new(),
            cells: cells
                .iter()
                .map(|(i, m, s, values)| {
                    let mut c = Cell::pending(i, *m, s, 1);
                    c.add_process(ProcessSamples {
                        process: 0,
                        layout: 0,
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
            subject: Subject::BenchExt,
            pytest: None,
        }
    }
}
