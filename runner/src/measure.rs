//! Running scenarios: one worker child per (interpreter, process index) loads every build that
//! interpreter can take and times them interleaved (see `worker.py`).
//!
//! A crash, hang or Python error is pinned to the cell the worker announced last ("at" events);
//! that cell is recorded as such and a fresh worker resumes with the cells still to do.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ExitStatus, Stdio};
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

/// How much to measure per cell. Chosen by level; see `Level::sampling`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sampling {
    /// Calibrate loops so one value lasts at least this long (seconds).
    pub min_time: f64,
    /// Values per cell per worker process (one per interleaved round).
    pub values: usize,
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
    pub fn sampling(self) -> Sampling {
        let (min_time, values, warmups, processes) = match self {
            Level::Quick => (0.002, 5, 1, 1),
            Level::Default => (0.010, 10, 1, 2),
            Level::Thorough => (0.050, 15, 2, 4),
        };
        Sampling { min_time, values, warmups, processes, timeout_s: 120.0 }
    }
}

/// Everything one interpreter's measurement needs.
pub struct Plan<'a> {
    pub interpreter: &'a Interpreter,
    /// (mode, artifact) for each build this interpreter should load.
    pub builds: Vec<(Mode, std::path::PathBuf)>,
    pub scenarios: Vec<&'a Scenario>,
}

/// What one interpreter's measurement produced.
pub struct Measured {
    pub cells: Vec<Cell>,
    pub workers: Vec<WorkerRecord>,
    pub interrupted: bool,
}

type CellKey = (String, Mode);

#[derive(Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
enum Event {
    At {
        scenario: Option<String>,
        mode: Option<Mode>,
        phase: String,
    },
    Loaded {},
    LoadFailed {
        mode: Mode,
        error: String,
    },
    Overhead {
        loops: u64,
        values: Vec<f64>,
    },
    Cell {
        scenario: String,
        mode: Mode,
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
/// an outcome. `on_cell` sees each finished (scenario, mode) of each process, for progress.
pub fn measure(
    plan: &Plan,
    sampling: &Sampling,
    seed: u64,
    stop: &AtomicBool,
    on_cell: &dyn Fn(&str, Mode),
) -> Result<Measured> {
    let mut cells: BTreeMap<CellKey, Cell> = BTreeMap::new();
    for s in &plan.scenarios {
        for (mode, _) in &plan.builds {
            cells.insert((s.name.clone(), *mode), Cell::pending(&plan.interpreter.id(), *mode, &s.name, s.n));
        }
    }
    let mut workers = Vec::new();
    let mut broken_builds: BTreeSet<Mode> = BTreeSet::new();
    for process in 0..sampling.processes {
        // Cells that failed for good in an earlier process are not retried.
        let mut done: BTreeSet<CellKey> =
            cells.iter().filter(|(_, c)| c.status.is_final_failure()).map(|(k, _)| k.clone()).collect();
        let mut overhead_per_loop = f64::NAN;
        let mut restarts = 0usize;
        loop {
            let todo: Vec<&Scenario> = plan
                .scenarios
                .iter()
                .copied()
                .filter(|s| {
                    plan.builds.iter().any(|(m, _)| !broken_builds.contains(m) && !done.contains(&(s.name.clone(), *m)))
                })
                .collect();
            if todo.is_empty() {
                break;
            }
            let builds: Vec<_> = plan.builds.iter().filter(|(m, _)| !broken_builds.contains(m)).collect();
            let job = serde_json::json!({
                "builds": builds.iter().map(|(m, p)| serde_json::json!({"mode": m, "path": p})).collect::<Vec<_>>(),
                "scenarios": todo.iter().map(|s| serde_json::json!({
                    "name": s.name, "function": s.function, "setup": s.setup, "stmt": s.stmt, "n": s.n,
                })).collect::<Vec<_>>(),
                "skip": done.iter().collect::<Vec<_>>(),
                "sampling": {
                    "min_time": sampling.min_time, "values": sampling.values, "warmups": sampling.warmups,
                    "seed": seed.wrapping_add(process as u64 * 1000 + restarts as u64),
                },
                "overhead": overhead_per_loop.is_nan(),
            });
            let mut last_at: Option<(Option<String>, Option<Mode>, String)> = None;
            let mut worker = WorkerRecord::new(&plan.interpreter.id(), process);
            let ending = run_worker(plan.interpreter, &job, sampling.timeout_s, stop, |ev| match ev {
                Event::At { scenario, mode, phase } => last_at = Some((scenario, mode, phase)),
                Event::Loaded {} | Event::Done => {}
                Event::LoadFailed { mode, error } => {
                    broken_builds.insert(mode);
                    for ((_, m), c) in cells.iter_mut() {
                        if *m == mode && c.status == CellStatus::Pending {
                            c.fail(CellStatus::NotLoadable, error.clone());
                        }
                    }
                }
                Event::Overhead { loops, values } => {
                    overhead_per_loop = crate::stats::median(&values) / loops as f64;
                    worker.overhead_loops = loops;
                    worker.overhead_values = values;
                }
                Event::Cell { scenario, mode, status, reason, loops, warmups, values, gil } => {
                    let key = (scenario.clone(), mode);
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
                        on_cell(&scenario, mode);
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
                    return Ok(Measured { cells: cells.into_values().collect(), workers, interrupted: true });
                }
                Ending::Died { status, stderr } => (CellStatus::Crashed, describe(&status), stderr),
                Ending::Hung { stderr } => {
                    (CellStatus::Timeout, format!("no output for {} s", sampling.timeout_s), stderr)
                }
            };
            let reason = format!("worker {why}; stderr tail:\n{}", tail(&stderr, 20));
            match last_at {
                Some((Some(scenario), Some(mode), _)) => {
                    let key = (scenario, mode);
                    if let Some(c) = cells.get_mut(&key) {
                        c.fail(status, reason);
                        on_cell(&key.0, mode);
                    }
                    done.insert(key);
                }
                Some((None, Some(mode), _)) => {
                    // Died while loading a build: that build is unusable in this interpreter.
                    broken_builds.insert(mode);
                    for ((_, m), c) in cells.iter_mut() {
                        if *m == mode && c.status == CellStatus::Pending {
                            c.fail(CellStatus::NotLoadable, reason.clone());
                        }
                    }
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
    Ok(Measured { cells: cells.into_values().collect(), workers, interrupted: false })
}

fn describe(status: &ExitStatus) -> String {
    match status.signal() {
        Some(sig) => format!("killed by signal {sig}{}", if sig == 11 { " (SIGSEGV)" } else { "" }),
        None => format!("exited with {status}"),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts one worker, feeds it the job and hands each event to `on_event` until it ends.
fn run_worker(
    interp: &Interpreter,
    job: &serde_json::Value,
    timeout_s: f64,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event),
) -> Result<Ending> {
    let mut cmd = interp.command();
    cmd.args(["-s", "-B", "-c", WORKER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: Ctrl-C reaches the runner only, which then ends the child.
        .process_group(0);
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", interp.name))?;
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
    let timeout = Duration::from_secs_f64(timeout_s);
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
