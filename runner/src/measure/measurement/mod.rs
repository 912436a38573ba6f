//! One interpreter's measurement as a state machine, without I/O: which cells have an outcome,
//! what the running worker last announced, and what each event and each worker's end means for
//! the cells and for the next worker. `driver::measure` starts the workers, reads their events
//! and keeps the clock; this decides, so the rules that lose nothing are tested without Python.
//!
//! The rules: a crash or hang is pinned to the cell the worker announced last (its "at" event)
//! and a fresh worker resumes with the cells still to do; a crash while loading a build makes
//! that build unusable here; one outside any cell (start-up, the overhead loop) fails every cell
//! still pending; a cell has one outcome per build and process, the first.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::measure::plan::{Plan, PlannedBuild};
use crate::measure::protocol::Event;
use crate::measure::worker::Ending;
use crate::model::child::{describe, shorten};
use crate::model::estimate::median;
use crate::model::io::now_rfc3339_millis;
use crate::model::results::{Cell, CellStatus, ProcessSamples, WorkerRecord};
use crate::model::sampling::Stop;
use crate::model::scenario::Scenario;

/// How much of one line of a reason a cell keeps, and of the whole reason: a 3 MiB exception
/// message is recorded by its start, with a note of what was cut, not as 3 MiB in every output.
const REASON_LINE: usize = 1024;
const REASON: usize = 16 * 1024;

/// `reason`, each line and the whole bounded (`REASON_LINE`, `REASON`).
fn bounded(reason: &str) -> String {
    let lines: Vec<String> = reason.lines().map(|l| shorten(l, REASON_LINE)).collect();
    shorten(&lines.join("\n"), REASON)
}

/// What one interpreter's measurement produced: each cell with its label (`PlannedBuild::cell`).
pub struct Measured {
    pub cells: Vec<(String, Cell)>,
    pub workers: Vec<WorkerRecord>,
    pub interrupted: bool,
    /// How many (scenario, build label) outcomes of a process it counted: what progress saw.
    pub outcomes: usize,
}

/// A cell of the results: a scenario in a cell label (`PlannedBuild::cell`), all its layouts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CellKey {
    pub scenario: String,
    pub cell: String,
}

/// What a worker times: a scenario in one build label (`PlannedBuild::label`), one layout.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Task {
    pub scenario: String,
    pub build: String,
}

impl Task {
    fn new(scenario: &str, build: &str) -> Task {
        Task { scenario: scenario.into(), build: build.into() }
    }
}

/// What the next worker does.
pub struct WorkerJob<'a> {
    pub builds: Vec<&'a PlannedBuild>,
    pub scenarios: Vec<&'a Scenario>,
    /// Tasks done in this process: by an earlier worker, or failed for good in an earlier process.
    pub skip: Vec<Task>,
    /// Added to the run's seed: each worker of each process interleaves in an order of its own.
    pub seed_offset: u64,
    /// Measure the empty loop first (once per process).
    pub overhead: bool,
}

/// What a worker's end meant, and so what comes next.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// It did its job; cells it left without an outcome are errors. Next: the next process.
    Finished,
    /// It crashed or hung in this task, whose cell is recorded so (its other layouts are not
    /// timed either). Next: a fresh worker for the rest.
    Blamed(Task),
    /// It crashed or hung in a cell the plan does not have (only a forged event names one):
    /// nothing to record. Next: a fresh worker for the same work.
    Stray(Task),
    /// It crashed or hung loading this build, which fails every pending cell of it. Next: a
    /// fresh worker without it.
    Unloadable(String),
    /// It crashed or hung outside any cell (start-up, overhead): nothing can be resumed safely,
    /// every cell still pending fails. Next: the next process.
    GaveUp,
    /// The run was stopped: every cell still pending is interrupted. Next: nothing.
    Interrupted,
}

/// Judges whether a scenario has been measured enough (sequential sampling, `Sampling::until`).
/// The analysis implements it (`analysis::settle`); this layer only asks.
pub trait Settle: Sync {
    /// Why one scenario's cells need no more values, if they do not: `cells` in the plan's
    /// order of builds, so the first is the one the others are compared with.
    fn settled(&self, cells: &[&Cell]) -> Option<Stop>;
}

/// Where the running worker was, from its last "at" event.
struct At {
    scenario: Option<String>,
    build: Option<String>,
    phase: String,
}

/// The worker running now.
struct Running {
    record: WorkerRecord,
    /// Every task of its job (including those it was told to skip).
    tasks: Vec<Task>,
    last_at: Option<At>,
}

/// One interpreter's cells and workers, from the plan to the last outcome.
pub struct Measurement<'a> {
    plan: &'a Plan<'a>,
    processes: usize,
    /// `--timeout`, for the message of a hang.
    timeout_s: f64,
    cells: BTreeMap<CellKey, Cell>,
    workers: Vec<WorkerRecord>,
    /// Build labels that cannot be loaded in this interpreter: no later worker gets them.
    broken: BTreeSet<String>,
    interrupted: bool,
    /// The process being measured, the tasks with an outcome in it, its empty loop's cost per
    /// iteration and how many times its worker has been restarted.
    process: usize,
    done: BTreeSet<Task>,
    overhead_per_loop: f64,
    restarts: usize,
    running: Option<Running>,
    /// Sequential sampling: from this many processes on, scenarios the rule finds settled are
    /// measured no further; `None`: every process measures every cell.
    stages: Option<(usize, &'a dyn Settle)>,
    settled: BTreeSet<String>,
    outcomes: usize,
}

impl<'a> Measurement<'a> {
    /// Every cell of the plan pending, `processes` processes to measure them in.
    pub fn new(plan: &'a Plan<'a>, processes: usize, timeout_s: f64) -> Measurement<'a> {
        let mut cells = BTreeMap::new();
        for s in &plan.scenarios {
            for b in &plan.builds {
                cells
                    .entry(CellKey { scenario: s.name.clone(), cell: b.cell.clone() })
                    .or_insert_with(|| Cell::pending(&plan.interpreter.id(), b.mode, &s.name, s.n));
            }
        }
        Measurement {
            plan,
            processes,
            timeout_s,
            cells,
            workers: Vec::new(),
            broken: BTreeSet::new(),
            interrupted: false,
            process: 0,
            done: BTreeSet::new(),
            overhead_per_loop: f64::NAN,
            restarts: 0,
            running: None,
            stages: None,
            settled: BTreeSet::new(),
            outcomes: 0,
        }
    }

    /// Measures in stages: after `min_processes` processes and each one more, the scenarios
    /// `rule` finds settled are left out of later processes (and what settled them recorded).
    pub fn until(mut self, min_processes: usize, rule: &'a dyn Settle) -> Measurement<'a> {
        self.stages = Some((min_processes, rule));
        self
    }

    /// The job of the next worker to start, or `None` once every process is done (or the run
    /// was stopped). The worker counts as running until `on_end`.
    pub fn next_worker(&mut self) -> Option<WorkerJob<'a>> {
        debug_assert!(self.running.is_none(), "a worker is still running");
        while !self.interrupted && self.process < self.processes {
            let plan = self.plan;
            let builds: Vec<&PlannedBuild> = plan.builds.iter().filter(|b| !self.broken.contains(&b.label)).collect();
            let scenarios: Vec<&Scenario> = plan
                .scenarios
                .iter()
                .copied()
                .filter(|s| builds.iter().any(|b| !self.done.contains(&Task::new(&s.name, &b.label))))
                .collect();
            if scenarios.is_empty() {
                self.next_process();
                continue;
            }
            let tasks = scenarios.iter().flat_map(|s| builds.iter().map(|b| Task::new(&s.name, &b.label))).collect();
            self.running =
                Some(Running { record: WorkerRecord::new(&plan.interpreter.id(), self.process), tasks, last_at: None });
            return Some(WorkerJob {
                builds,
                scenarios,
                skip: self.done.iter().cloned().collect(),
                seed_offset: self.process as u64 * 1000 + self.restarts as u64,
                overhead: self.overhead_per_loop.is_nan(),
            });
        }
        None
    }

    /// Takes one event of the running worker; returns the task it gave an outcome, if any.
    pub fn on_event(&mut self, ev: Event) -> Option<Task> {
        let running = self.running.as_mut().expect("events come from a running worker");
        match ev {
            Event::At { scenario, build, phase, .. } => running.last_at = Some(At { scenario, build, phase }),
            Event::Loaded {} | Event::Test { .. } | Event::Done => {}
            Event::LoadFailed { build, error } => self.refuse(&build, &error),
            Event::Overhead { loops, values } => {
                self.overhead_per_loop = median(&values) / loops as f64;
                running.record.overhead_loops = loops;
                running.record.overhead_values = values;
            }
            Event::Cell { scenario, build, status, reason, loops, warmups, values, gil, calls, .. } => {
                let task = Task { scenario, build };
                // One outcome per build and process: a repeated one is not counted twice.
                if self.done.contains(&task) {
                    return None;
                }
                let layout = self.planned(&task.build).map_or(0, |b| b.layout);
                let (process, overhead_per_loop_s) = (self.process, self.overhead_per_loop);
                let recorded = self.cell_mut(&task).map(|c| {
                    c.gil_enabled = gil;
                    // Layouts and processes call alike: the first reading stands.
                    if c.calls.is_none() {
                        c.calls = calls;
                    }
                    match (status, loops) {
                        (CellStatus::Ok, Some(loops)) if loops > 0 && !values.is_empty() => {
                            c.add_process(ProcessSamples {
                                process,
                                layout,
                                loops,
                                overhead_per_loop_s,
                                warmups_s: warmups,
                                values_s: values,
                            })
                        }
                        // Nothing a table, a ratio or a gate could be computed from.
                        (CellStatus::Ok, _) => c.fail(
                            CellStatus::Error,
                            format!(
                                "worker {process} reported this cell measured, but with no values (loops {loops:?})"
                            ),
                        ),
                        (status, _) => c.fail(status, bounded(reason.as_deref().unwrap_or_default())),
                    }
                });
                self.done.insert(task.clone());
                self.outcomes += usize::from(recorded.is_some());
                return recorded.map(|_| task);
            }
        }
        None
    }

    /// Takes how the running worker ended (and how many lines of its event stream were not
    /// events of its job): records it, decides what it means for the cells.
    pub fn on_end(&mut self, ending: Ending, ignored: usize) -> Verdict {
        let Running { mut record, tasks, last_at } = self.running.take().expect("a worker was running");
        record.ending = match &ending {
            Ending::Done => "done".into(),
            Ending::Died { status, .. } => describe(status),
            Ending::Hung { waited, allowed, expected_s, .. } => {
                format!("{}, killed", self.hung(waited, allowed, expected_s))
            }
            Ending::Interrupted => "interrupted".into(),
        };
        if ignored > 0 {
            record.ending += &format!("; {ignored} line(s) on its event stream were not events of this job, ignored");
        }
        record.ended_at = Some(now_rfc3339_millis());
        self.workers.push(record);
        let (status, why, stderr) = match ending {
            Ending::Done => return self.on_done(tasks),
            Ending::Interrupted => {
                self.fail_pending(CellStatus::Interrupted, "the run was interrupted before this cell finished");
                self.interrupted = true;
                return Verdict::Interrupted;
            }
            Ending::Died { status, stderr } => (CellStatus::Crashed, describe(&status), stderr),
            Ending::Hung { waited, allowed, expected_s, stderr } => {
                (CellStatus::Timeout, self.hung(&waited, &allowed, &expected_s), stderr)
            }
        };
        let during = match &last_at {
            None => "start-up".to_string(),
            Some(At { phase, scenario: Some(s), build: Some(b) }) => format!("{phase} of {s} [{b}]"),
            Some(At { phase, scenario: None, build: Some(b) }) => format!("{phase} of build {b}"),
            Some(At { phase, .. }) => phase.clone(),
        };
        let reason = format!("worker {why} during {during}; stderr tail:\n{stderr}");
        self.restarts += 1;
        match last_at {
            Some(At { scenario: Some(scenario), build: Some(build), .. }) => {
                self.blame(Task { scenario, build }, status, reason)
            }
            Some(At { scenario: None, build: Some(build), .. }) => {
                self.refuse(&build, &reason);
                Verdict::Unloadable(build)
            }
            _ => {
                self.fail_pending(status, &reason);
                self.next_process();
                Verdict::GaveUp
            }
        }
    }

    /// A build this interpreter cannot use (it failed to load, or is not the file that was
    /// built): its cells still to do fail as not loadable, and no later worker gets it.
    pub fn refuse(&mut self, label: &str, why: &str) {
        self.fail_build(label, &bounded(why));
        self.broken.insert(label.to_string());
    }

    /// Every cell under its label (`PlannedBuild::cell`), and every worker's record. With
    /// stages, the cells of a scenario that all processes measured without settling it are
    /// recorded as stopped at the cap.
    pub fn finish(mut self) -> Measured {
        if self.stages.is_some() && !self.interrupted {
            for c in self.cells.values_mut().filter(|c| c.status == CellStatus::Ok && c.stop.is_none()) {
                c.stop = Some(Stop::Cap);
            }
        }
        Measured {
            cells: self.cells.into_iter().map(|(k, c)| (k.cell, c)).collect(),
            workers: self.workers,
            interrupted: self.interrupted,
            outcomes: self.outcomes,
        }
    }

    /// A worker that said it was done: every task of its job has an outcome, or is said to
    /// have none, and why.
    fn on_done(&mut self, tasks: Vec<Task>) -> Verdict {
        let missing: Vec<Task> =
            tasks.into_iter().filter(|t| !self.done.contains(t) && !self.broken.contains(&t.build)).collect();
        for task in missing {
            let process = self.process;
            if let Some(c) = self.cell_mut(&task) {
                c.fail(CellStatus::Error, format!("worker {process} finished without a result for this cell"));
            }
            self.done.insert(task);
        }
        self.next_process();
        Verdict::Finished
    }

    /// The task the worker died in fails its cell, whose other layouts are not timed either.
    fn blame(&mut self, task: Task, status: CellStatus, reason: String) -> Verdict {
        let recorded = self.cell_mut(&task).map(|c| c.fail(status, reason)).is_some();
        let cell = self.cell_of(&task.build);
        let layouts = self.plan.builds.iter().filter(|b| b.cell == cell);
        self.done.extend(layouts.map(|b| Task::new(&task.scenario, &b.label)));
        if recorded {
            self.outcomes += 1;
            Verdict::Blamed(task)
        } else {
            Verdict::Stray(task)
        }
    }

    /// The next process starts afresh, but cells that failed for good are not retried, in any
    /// layout, nor are settled scenarios measured again.
    fn next_process(&mut self) {
        self.process += 1;
        self.overhead_per_loop = f64::NAN;
        self.restarts = 0;
        self.settle();
        let (cells, settled) = (&self.cells, &self.settled);
        self.done = self
            .plan
            .builds
            .iter()
            .flat_map(|b| self.plan.scenarios.iter().map(move |s| (s, b)))
            .filter(|(s, b)| {
                let key = CellKey { scenario: s.name.clone(), cell: b.cell.clone() };
                settled.contains(&s.name) || cells.get(&key).is_some_and(|c| c.status.is_final_failure())
            })
            .map(|(s, b)| Task::new(&s.name, &b.label))
            .collect();
    }

    /// After a process, from the stages' minimum on: asks the rule about each scenario not yet
    /// settled, and records why those that are stopped.
    fn settle(&mut self) {
        let Some((_, rule)) = self.stages.filter(|(min, _)| self.process >= *min) else { return };
        let mut labels: Vec<&str> = Vec::new();
        for b in &self.plan.builds {
            if !labels.contains(&b.cell.as_str()) {
                labels.push(&b.cell);
            }
        }
        for s in &self.plan.scenarios {
            if self.settled.contains(&s.name) {
                continue;
            }
            let key = |cell: &str| CellKey { scenario: s.name.clone(), cell: cell.to_string() };
            let cells: Vec<&Cell> = labels.iter().filter_map(|l| self.cells.get(&key(l))).collect();
            let Some(stop) = rule.settled(&cells) else { continue };
            for l in &labels {
                if let Some(c) = self.cells.get_mut(&key(l)).filter(|c| c.status == CellStatus::Ok) {
                    c.stop = Some(stop);
                }
            }
            self.settled.insert(s.name.clone());
        }
    }

    /// A build that cannot be loaded fails its cell label's cells still to do.
    fn fail_build(&mut self, label: &str, why: &str) {
        let cell = self.cell_of(label);
        for (key, c) in self.cells.iter_mut() {
            if key.cell == cell && c.status == CellStatus::Pending {
                c.fail(CellStatus::NotLoadable, why.to_string());
            }
        }
    }

    fn fail_pending(&mut self, status: CellStatus, why: &str) {
        for c in self.cells.values_mut().filter(|c| c.status == CellStatus::Pending) {
            c.fail(status, why.to_string());
        }
    }

    fn planned(&self, label: &str) -> Option<&'a PlannedBuild> {
        self.plan.builds.iter().find(|b| b.label == label)
    }

    /// The cell label of a build label (a label the plan lacks stands for itself).
    fn cell_of(&self, label: &str) -> String {
        self.planned(label).map_or_else(|| label.to_string(), |b| b.cell.clone())
    }

    fn cell_mut(&mut self, task: &Task) -> Option<&mut Cell> {
        let key = CellKey { scenario: task.scenario.clone(), cell: self.cell_of(&task.build) };
        self.cells.get_mut(&key)
    }

    fn hung(&self, waited: &Duration, allowed: &Duration, expected_s: &Option<f64>) -> String {
        let expected = expected_s.map_or(String::new(), |e| format!("the step should take {:.1} ms, ", e * 1e3));
        format!(
            "made no progress for {:.1} s ({expected}a hang past {:.1} s; --timeout {} s)",
            waited.as_secs_f64(),
            allowed.as_secs_f64(),
            self.timeout_s
        )
    }
}

#[cfg(test)]
mod tests;
