//! Running scenarios: one worker child per (interpreter, process index) loads every build that
//! interpreter can take and times them interleaved (see `worker.py`).
//!
//! A crash, hang or Python error is pinned to the cell the worker announced last ("at" events);
//! that cell is recorded as such and a fresh worker resumes with the cells still to do.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::interpreters::Interpreter;
use crate::modes::Mode;
use crate::results::{Cell, CellStatus, ProcessSamples, WorkerRecord};
use crate::scenarios::Scenario;

const WORKER: &str = include_str!("worker.py");

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Seconds of `loops` executions by `time.perf_counter` (reported in ns per operation).
    WallTime,
    /// Instructions of `loops` executions, counted by callgrind: identical from run to run.
    Instructions,
}

impl Measure {
    /// Factor from a raw value per operation to the unit shown.
    pub fn scale(self) -> f64 {
        match self {
            Measure::WallTime => 1e9,
            Measure::Instructions => 1.0,
        }
    }

    /// As on the command line and in files: "wall-time", "instructions".
    pub fn name(self) -> &'static str {
        match self {
            Measure::WallTime => "wall-time",
            Measure::Instructions => "instructions",
        }
    }

    /// What a value is, for titles: "time", "instructions".
    pub fn quantity(self) -> &'static str {
        match self {
            Measure::WallTime => "time",
            Measure::Instructions => "instructions",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Measure::WallTime => "ns",
            Measure::Instructions => "instr",
        }
    }
}

/// How much to measure per cell. Chosen by level and measure; see `Level::sampling`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sampling {
    pub measure: Measure,
    /// Calibrate loops so one value lasts at least this long (seconds).
    pub min_time: f64,
    /// Values per cell per worker process: one per interleaved round (wall time), or one per
    /// (L, 2L) pair of counted regions (instructions).
    pub values: usize,
    /// Instructions: aim for regions of about this many instructions per L loops.
    pub target_instructions: u64,
    pub warmups: usize,
    /// Worker processes per interpreter, run one after another (never in parallel).
    pub processes: usize,
    /// A worker silent for this long is killed and its current cell recorded as hung.
    pub timeout_s: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Smoke test: a few short values per cell; ratios are indicative only.
    Quick,
    /// The everyday comparison.
    Default,
    /// Nightly: more processes and longer values for tight intervals.
    Thorough,
}

impl Level {
    pub fn sampling(self, measure: Measure) -> Sampling {
        // Ratios are taken pair by pair, so what narrows their intervals is the number of pairs,
        // not the length of a value: a 2.5 ms value is still thousands of loops, and on a noisy
        // 2-core machine 40 values of 2.5 ms put 90 % of the stable-ABI ratios within +-2 % where
        // 10 values of 10 ms (the same time) put 68 % there. Processes are the independent units
        // (each has its own memory layout), so the time is spread over 4 of them: with 2, an A/A
        // test found 13-17 % false differences at a nominal 5 %; with 4, 5 %.
        let (min_time, values, warmups, processes) = match self {
            Level::Quick => (0.002, 5, 1, 1),
            Level::Default => (0.0025, 20, 1, 4),
            Level::Thorough => (0.005, 50, 2, 8),
        };
        let (pairs, target_instructions) = match self {
            Level::Quick => (1, 1_000_000),
            Level::Default => (3, 4_000_000),
            Level::Thorough => (5, 10_000_000),
        };
        match measure {
            Measure::WallTime => {
                Sampling { measure, min_time, values, warmups, processes, target_instructions: 0, timeout_s: 120.0 }
            }
            // Counts do not drift, so one process suffices; callgrind runs ~50x slower.
            Measure::Instructions => Sampling {
                measure,
                min_time: 0.0,
                values: pairs,
                warmups: 0,
                processes: 1,
                target_instructions,
                timeout_s: 900.0,
            },
        }
    }
}

/// Everything one interpreter's measurement needs.
pub struct Plan<'a> {
    pub interpreter: &'a Interpreter,
    /// Each build this interpreter should load, under a label unique in this plan.
    pub builds: Vec<PlannedBuild>,
    pub scenarios: Vec<&'a Scenario>,
}

/// One build in a plan. The label is normally the mode's name; an A/A self-check loads one
/// build twice, as "A" and "B".
#[derive(Debug, Clone)]
pub struct PlannedBuild {
    pub label: String,
    pub mode: Mode,
    pub path: std::path::PathBuf,
}

impl PlannedBuild {
    pub fn of_mode(mode: Mode, path: std::path::PathBuf) -> PlannedBuild {
        PlannedBuild { label: mode.name(), mode, path }
    }
}

/// What one interpreter's measurement produced: each cell with its build's label.
pub struct Measured {
    pub cells: Vec<(String, Cell)>,
    pub workers: Vec<WorkerRecord>,
    pub interrupted: bool,
}

/// (scenario, build label).
type CellKey = (String, String);

#[derive(Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
enum Event {
    At {
        scenario: Option<String>,
        build: Option<String>,
        phase: String,
    },
    Loaded {},
    LoadFailed {
        build: String,
        error: String,
    },
    Overhead {
        loops: u64,
        values: Vec<f64>,
    },
    Cell {
        scenario: String,
        build: String,
        status: CellStatus,
        reason: Option<String>,
        loops: Option<u64>,
        #[serde(default)]
        warmups: Vec<f64>,
        #[serde(default)]
        values: Vec<f64>,
        gil: Option<bool>,
    },
    Done,
}

/// How a worker child ended.
enum Ending {
    Done,
    Died { status: ExitStatus, stderr: String },
    Hung { stderr: String },
    Interrupted,
}

/// Runs the plan: `processes` workers in turn, each resumed after a crash until every cell has
/// an outcome. `on_cell` sees each finished (scenario, build label) of each process, for progress.
pub fn measure(
    plan: &Plan,
    sampling: &Sampling,
    seed: u64,
    stop: &AtomicBool,
    on_cell: &dyn Fn(&str, &str),
) -> Result<Measured> {
    let mut cells: BTreeMap<CellKey, Cell> = BTreeMap::new();
    for s in &plan.scenarios {
        for b in &plan.builds {
            cells
                .insert((s.name.clone(), b.label.clone()), Cell::pending(&plan.interpreter.id(), b.mode, &s.name, s.n));
        }
    }
    let mut workers = Vec::new();
    let mut broken_builds: BTreeSet<String> = BTreeSet::new();
    // A build that cannot be loaded fails all its cells still to do.
    let fail_build = |cells: &mut BTreeMap<CellKey, Cell>, label: &str, why: &str| {
        for ((_, b), c) in cells.iter_mut() {
            if b == label && c.status == CellStatus::Pending {
                c.fail(CellStatus::NotLoadable, why.to_string());
            }
        }
    };
    for process in 0..sampling.processes {
        // Cells that failed for good in an earlier process are not retried.
        let mut done: BTreeSet<CellKey> =
            cells.iter().filter(|(_, c)| c.status.is_final_failure()).map(|(k, _)| k.clone()).collect();
        let mut overhead_per_loop = f64::NAN;
        let mut restarts = 0usize;
        loop {
            let builds: Vec<&PlannedBuild> = plan.builds.iter().filter(|b| !broken_builds.contains(&b.label)).collect();
            let todo: Vec<&Scenario> = plan
                .scenarios
                .iter()
                .copied()
                .filter(|s| builds.iter().any(|b| !done.contains(&(s.name.clone(), b.label.clone()))))
                .collect();
            if todo.is_empty() {
                break;
            }
            // Callgrind's profile parts go to a scratch directory the worker reads back.
            let callgrind_out = (sampling.measure == Measure::Instructions).then(tempfile::tempdir).transpose()?;
            let job = serde_json::json!({
                "builds": builds.iter().map(|b| serde_json::json!({"label": b.label, "mode": b.mode, "path": b.path})).collect::<Vec<_>>(),
                "scenarios": todo.iter().map(|s| serde_json::json!({
                    "name": s.name, "function": s.function, "setup": s.setup, "stmt": s.stmt, "n": s.n,
                })).collect::<Vec<_>>(),
                "skip": done.iter().collect::<Vec<_>>(),
                "sampling": {
                    "min_time": sampling.min_time, "values": sampling.values, "warmups": sampling.warmups,
                    "seed": seed.wrapping_add(process as u64 * 1000 + restarts as u64),
                    "target_instructions": sampling.target_instructions,
                    "callgrind_out": callgrind_out.as_ref().map(|d| d.path()),
                },
                "overhead": overhead_per_loop.is_nan(),
            });
            let mut last_at: Option<(Option<String>, Option<String>, String)> = None;
            let mut worker = WorkerRecord::new(&plan.interpreter.id(), process);
            let ending = run_worker(plan.interpreter, sampling, &job, stop, |ev| match ev {
                Event::At { scenario, build, phase } => last_at = Some((scenario, build, phase)),
                Event::Loaded {} | Event::Done => {}
                Event::LoadFailed { build, error } => {
                    fail_build(&mut cells, &build, &error);
                    broken_builds.insert(build);
                }
                Event::Overhead { loops, values } => {
                    overhead_per_loop = crate::stats::median(&values) / loops as f64;
                    worker.overhead_loops = loops;
                    worker.overhead_values = values;
                }
                Event::Cell { scenario, build, status, reason, loops, warmups, values, gil } => {
                    let key = (scenario, build);
                    if let Some(c) = cells.get_mut(&key) {
                        c.gil_enabled = gil;
                        match (status, loops) {
                            (CellStatus::Ok, Some(loops)) => c.add_process(ProcessSamples {
                                process,
                                loops,
                                overhead_per_loop_s: overhead_per_loop,
                                warmups_s: warmups,
                                values_s: values,
                            }),
                            (status, _) => c.fail(status, reason.unwrap_or_default()),
                        }
                        on_cell(&key.0, &key.1);
                    }
                    done.insert(key);
                }
            })?;
            worker.ending = match &ending {
                Ending::Done => "done".into(),
                Ending::Died { status, .. } => describe(status),
                Ending::Hung { .. } => format!("no output for {} s, killed", sampling.timeout_s),
                Ending::Interrupted => "interrupted".into(),
            };
            workers.push(worker);
            let (status, why, stderr) = match ending {
                Ending::Done => break,
                Ending::Interrupted => {
                    for c in cells.values_mut().filter(|c| c.status == CellStatus::Pending) {
                        c.fail(CellStatus::Interrupted, "the run was interrupted before this cell finished".into());
                    }
                    return Ok(Measured {
                        cells: cells.into_iter().map(|((_, b), c)| (b, c)).collect(),
                        workers,
                        interrupted: true,
                    });
                }
                Ending::Died { status, stderr } => (CellStatus::Crashed, describe(&status), stderr),
                Ending::Hung { stderr } => {
                    (CellStatus::Timeout, format!("no output for {} s", sampling.timeout_s), stderr)
                }
            };
            let during = last_at.as_ref().map_or("start-up", |(_, _, phase)| phase.as_str());
            let reason = format!("worker {why} during {during}; stderr tail:\n{}", tail(&stderr, 20));
            match last_at {
                Some((Some(scenario), Some(build), _)) => {
                    let key = (scenario, build);
                    if let Some(c) = cells.get_mut(&key) {
                        c.fail(status, reason);
                        on_cell(&key.0, &key.1);
                    }
                    done.insert(key);
                }
                Some((None, Some(build), _)) => {
                    // Died while loading a build: that build is unusable in this interpreter.
                    fail_build(&mut cells, &build, &reason);
                    broken_builds.insert(build);
                }
                _ => {
                    // Died outside any cell (start-up, overhead): nothing to resume safely.
                    for c in cells.values_mut().filter(|c| c.status == CellStatus::Pending) {
                        c.fail(status, reason.clone());
                    }
                    break;
                }
            }
            restarts += 1;
        }
    }
    Ok(Measured { cells: cells.into_iter().map(|((_, b), c)| (b, c)).collect(), workers, interrupted: false })
}

fn describe(status: &ExitStatus) -> String {
    match status.signal() {
        Some(sig) => format!("killed by signal {sig} ({})", signal_name(sig)),
        None => format!("exited with {status}"),
    }
}

/// The usual name of a signal that ends a crashing or killed child (`SIG<n>` for the rest).
pub(crate) fn signal_name(sig: i32) -> String {
    match sig {
        4 => "SIGILL".into(),
        5 => "SIGTRAP".into(),
        6 => "SIGABRT".into(),
        7 => "SIGBUS".into(),
        8 => "SIGFPE".into(),
        9 => "SIGKILL".into(),
        11 => "SIGSEGV".into(),
        15 => "SIGTERM".into(),
        _ => format!("SIG{sig}"),
    }
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts one worker, feeds it the job and hands each event to `on_event` until it ends.
fn run_worker(
    interp: &Interpreter,
    sampling: &Sampling,
    job: &serde_json::Value,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event),
) -> Result<Ending> {
    let mut cmd = match sampling.measure {
        Measure::WallTime => interp.command(),
        Measure::Instructions => {
            let mut cmd = Command::new("valgrind");
            // Collect only inside bench_ext's region function; one profile part per region.
            cmd.args([
                "--tool=callgrind",
                "--collect-atstart=no",
                "--toggle-collect=abibench_callgrind_region",
                "--dump-after=abibench_callgrind_region",
                // Interpreters behind a launcher script exec the real binary.
                "--trace-children=yes",
            ])
            .arg(format!(
                "--callgrind-out-file={}/cg.%p",
                job["sampling"]["callgrind_out"].as_str().expect("instructions need an output dir")
            ))
            .args(&interp.argv)
            // Same hashes, same dict layouts, same instruction counts.
            .env("PYTHONHASHSEED", "0");
            cmd
        }
    };
    cmd.args(["-s", "-B", "-c", WORKER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: Ctrl-C reaches the runner only, which then ends the child.
        .process_group(0);
    let mut child = cmd.spawn().with_context(|| match sampling.measure {
        Measure::Instructions => format!("cannot start valgrind for {} (is valgrind installed?)", interp.name),
        Measure::WallTime => format!("cannot start {}", interp.name),
    })?;
    child.stdin.take().expect("piped").write_all(job.to_string().as_bytes())?;
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let timeout = Duration::from_secs_f64(sampling.timeout_s);
    let mut last = Instant::now();
    let ending = loop {
        if stop.load(Ordering::SeqCst) {
            break Ending::Interrupted;
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(line)) => {
                last = Instant::now();
                match serde_json::from_str::<Event>(&line) {
                    Ok(Event::Done) => break Ending::Done,
                    Ok(ev) => on_event(ev),
                    // Stray prints from the timed code are not events; they are ignored.
                    Err(_) => {}
                }
            }
            Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait()?;
                return Ok(Ending::Died { status, stderr: err_reader.join().unwrap_or_default() });
            }
            Err(mpsc::RecvTimeoutError::Timeout) if last.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(Ending::Hung { stderr: err_reader.join().unwrap_or_default() });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    Ok(ending)
}
