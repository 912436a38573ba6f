//! Running scenarios: one worker child per (interpreter, process index) loads every build that
//! interpreter can take and times them interleaved (see `worker.py`).
//!
//! A crash, hang or Python error is pinned to the cell the worker announced last ("at" events);
//! that cell is recorded as such and a fresh worker resumes with the cells still to do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Result;

use crate::measure::protocol::{Event, Job, JobBuild, JobSampling, JobScenario};
use crate::measure::worker::{self, Ending};
use crate::model::build::{builds_for, BuildRecord};
use crate::model::child::describe;
use crate::model::estimate::median;
use crate::model::interpreter::Interpreter;
use crate::model::io::now_rfc3339_millis;
use crate::model::mode::Mode;
use crate::model::results::{Cell, CellStatus, ProcessSamples, WorkerRecord};
use crate::model::sampling::{Isolation, Measure, Sampling};
use crate::model::scenario::Scenario;
use crate::setup::recipe::Recipe;
use crate::setup::selection::Selection;

/// Everything one interpreter's measurement needs.
pub struct Plan<'a> {
    pub interpreter: &'a Interpreter,
    /// The module's import name, and whether it is bench-ext (see `protocol::Job`).
    pub module: &'a str,
    pub builtin: bool,
    /// Each build this interpreter should load, under a label unique in this plan.
    pub builds: Vec<PlannedBuild>,
    pub scenarios: Vec<&'a Scenario>,
}

/// One build in a plan, and the cell its values go to. The cell is normally the mode's name (an
/// A/A test loads one mode twice, as cells "A" and "B"); each layout variant of a build is a build
/// of its own, under its own label, whose values join the same cell.
#[derive(Debug, Clone)]
pub struct PlannedBuild {
    /// Unique in the plan: what the worker calls this build.
    pub label: String,
    pub cell: String,
    pub mode: Mode,
    pub layout: u32,
    pub path: PathBuf,
}

impl PlannedBuild {
    pub fn new(cell: String, mode: Mode, layout: u32, path: PathBuf) -> PlannedBuild {
        let label = if layout == 0 { cell.clone() } else { format!("{cell}@L{layout}") };
        PlannedBuild { label, cell, mode, layout, path }
    }
}

/// Each selected interpreter's plan: every build of its modes that built, and the cells of the
/// builds that failed, recorded as such (there is nothing to load for them).
pub fn plans<'a>(sel: &'a Selection, builds: &[BuildRecord], recipe: &'a Recipe) -> Vec<(Plan<'a>, Vec<Cell>)> {
    let scenarios: Vec<&Scenario> = sel.groups.iter().flat_map(|g| &g.scenarios).collect();
    sel.interpreters
        .iter()
        .map(|interp| {
            let mut plan = Plan {
                interpreter: interp,
                module: &recipe.module,
                builtin: recipe.subject.is_bench_ext(),
                builds: Vec::new(),
                scenarios: scenarios.clone(),
            };
            let mut unbuilt = Vec::new();
            for mode in sel.modes.iter().copied().filter(|&m| sel.runs(interp, m)) {
                let layouts = builds_for(builds, mode, interp);
                // A mode is timed only if every layout of it built: a cell is all its layouts.
                match layouts.iter().find_map(|b| b.failure()) {
                    Some(error) => unbuilt.extend(scenarios.iter().map(|s| {
                        let mut c = Cell::pending(&interp.id(), mode, &s.name, s.n);
                        c.fail(CellStatus::BuildFailed, error.to_string());
                        c
                    })),
                    None => plan.builds.extend(layouts.iter().filter_map(|b| {
                        Some(PlannedBuild::new(mode.name(), mode, b.layout, b.artifact()?.to_path_buf()))
                    })),
                }
            }
            (plan, unbuilt)
        })
        .collect()
}

/// What one interpreter's measurement produced: each cell with its label (`PlannedBuild::cell`).
pub struct Measured {
    pub cells: Vec<(String, Cell)>,
    pub workers: Vec<WorkerRecord>,
    pub interrupted: bool,
}

/// (scenario, cell label) for cells, (scenario, build label) for what a worker did.
type CellKey = (String, String);

/// Runs the plan: `processes` workers in turn, each resumed after a crash until every cell has
/// an outcome. `on_cell` sees each finished (scenario, build label) of each process, for progress.
pub fn measure(
    plan: &Plan,
    sampling: &Sampling,
    seed: u64,
    stop: &AtomicBool,
    on_cell: &dyn Fn(&str, &str),
) -> Result<Measured> {
    let by_label: BTreeMap<&str, &PlannedBuild> = plan.builds.iter().map(|b| (b.label.as_str(), b)).collect();
    let cell_of = |build: &str| by_label.get(build).map_or_else(|| build.to_string(), |b| b.cell.clone());
    let mut cells: BTreeMap<CellKey, Cell> = BTreeMap::new();
    for s in &plan.scenarios {
        for b in &plan.builds {
            cells
                .entry((s.name.clone(), b.cell.clone()))
                .or_insert_with(|| Cell::pending(&plan.interpreter.id(), b.mode, &s.name, s.n));
        }
    }
    let mut workers = Vec::new();
    let mut broken_builds: BTreeSet<String> = BTreeSet::new();
    // A build that cannot be loaded fails all its cell's cells still to do.
    let fail_build = |cells: &mut BTreeMap<CellKey, Cell>, label: &str, why: &str| {
        let cell = cell_of(label);
        for ((_, b), c) in cells.iter_mut() {
            if *b == cell && c.status == CellStatus::Pending {
                c.fail(CellStatus::NotLoadable, why.to_string());
            }
        }
    };
    for process in 0..sampling.processes {
        // Cells that failed for good in an earlier process are not retried, in any layout.
        let mut done: BTreeSet<CellKey> = plan
            .builds
            .iter()
            .flat_map(|b| plan.scenarios.iter().map(move |s| (s.name.clone(), b)))
            .filter(|(s, b)| cells.get(&(s.clone(), b.cell.clone())).is_some_and(|c| c.status.is_final_failure()))
            .map(|(s, b)| (s, b.label.clone()))
            .collect();
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
            let skip: Vec<CellKey> = done.iter().cloned().collect();
            let token = format!("{:016x}", fastrand::u64(..));
            let job = Job {
                token: &token,
                module: plan.module,
                builtin: plan.builtin,
                isolation: sampling.isolation,
                worker_source: (sampling.isolation == Isolation::Process).then_some(worker::SOURCE),
                python: &plan.interpreter.argv,
                builds: builds.iter().map(|b| JobBuild { label: &b.label, mode: b.mode, path: &b.path }).collect(),
                scenarios: todo
                    .iter()
                    .map(|s| JobScenario {
                        name: &s.name,
                        group: &s.group,
                        function: s.function.as_deref(),
                        setup: &s.setup,
                        stmt: &s.stmt,
                        n: s.n,
                    })
                    .collect(),
                skip: skip.iter().map(|(s, b)| (s.as_str(), b.as_str())).collect(),
                sampling: JobSampling {
                    min_time: sampling.min_time,
                    values: sampling.values,
                    warmups: sampling.warmups,
                    seed: seed.wrapping_add(process as u64 * 1000 + restarts as u64),
                    target_instructions: sampling.target_instructions,
                    callgrind_out: callgrind_out.as_ref().map(|d| d.path()),
                },
                overhead: overhead_per_loop.is_nan(),
            };
            let mut last_at: Option<(Option<String>, Option<String>, String)> = None;
            let mut worker = WorkerRecord::new(&plan.interpreter.id(), process);
            let (ending, ignored) = worker::run(plan.interpreter, sampling, &job, stop, |ev| match ev {
                Event::At { scenario, build, phase, .. } => last_at = Some((scenario, build, phase)),
                Event::Loaded {} | Event::Done => {}
                Event::LoadFailed { build, error } => {
                    fail_build(&mut cells, &build, &error);
                    broken_builds.insert(build);
                }
                Event::Overhead { loops, values } => {
                    overhead_per_loop = median(&values) / loops as f64;
                    worker.overhead_loops = loops;
                    worker.overhead_values = values;
                }
                Event::Cell { scenario, build, status, reason, loops, warmups, values, gil } => {
                    let layout = by_label.get(build.as_str()).map_or(0, |b| b.layout);
                    // One outcome per build and process: a repeated one is not counted twice.
                    if done.contains(&(scenario.clone(), build.clone())) {
                        return;
                    }
                    if let Some(c) = cells.get_mut(&(scenario.clone(), cell_of(&build))) {
                        c.gil_enabled = gil;
                        match (status, loops) {
                            (CellStatus::Ok, Some(loops)) => c.add_process(ProcessSamples {
                                process,
                                layout,
                                loops,
                                overhead_per_loop_s: overhead_per_loop,
                                warmups_s: warmups,
                                values_s: values,
                            }),
                            (status, _) => c.fail(status, reason.unwrap_or_default()),
                        }
                        on_cell(&scenario, &build);
                    }
                    done.insert((scenario, build));
                }
            })?;
            let hung = |waited: &Duration, expected_s: &Option<f64>| {
                let expected =
                    expected_s.map_or(String::new(), |e| format!("the step should take {:.1} ms; ", e * 1e3));
                format!(
                    "made no progress for {:.1} s ({expected}--timeout {} s)",
                    waited.as_secs_f64(),
                    sampling.timeout_s
                )
            };
            worker.ending = match &ending {
                Ending::Done => "done".into(),
                Ending::Died { status, .. } => describe(status),
                Ending::Hung { waited, expected_s, .. } => format!("{}, killed", hung(waited, expected_s)),
                Ending::Interrupted => "interrupted".into(),
            };
            if ignored > 0 {
                worker.ending +=
                    &format!("; {ignored} line(s) on its event stream were not events of this job, ignored");
            }
            worker.ended_at = Some(now_rfc3339_millis());
            workers.push(worker);
            let (status, why, stderr) = match ending {
                Ending::Done => {
                    // Every cell of the job has an outcome, or is said to have none, and why.
                    let missing: Vec<CellKey> = todo
                        .iter()
                        .flat_map(|s| builds.iter().map(|b| (s.name.clone(), b.label.clone())))
                        .filter(|k| !done.contains(k) && !broken_builds.contains(&k.1))
                        .collect();
                    for key in missing {
                        if let Some(c) = cells.get_mut(&(key.0.clone(), cell_of(&key.1))) {
                            c.fail(
                                CellStatus::Error,
                                format!("worker {process} finished without a result for this cell"),
                            );
                        }
                        done.insert(key);
                    }
                    break;
                }
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
                Ending::Hung { waited, expected_s, stderr } => {
                    (CellStatus::Timeout, hung(&waited, &expected_s), stderr)
                }
            };
            let during = last_at.as_ref().map_or("start-up", |(_, _, phase)| phase.as_str());
            let reason = format!("worker {why} during {during}; stderr tail:\n{stderr}");
            match last_at {
                Some((Some(scenario), Some(build), _)) => {
                    if let Some(c) = cells.get_mut(&(scenario.clone(), cell_of(&build))) {
                        c.fail(status, reason);
                        on_cell(&scenario, &build);
                    }
                    // The cell failed, so its other layouts are not timed either.
                    let cell = cell_of(&build);
                    done.extend(
                        plan.builds.iter().filter(|b| b.cell == cell).map(|b| (scenario.clone(), b.label.clone())),
                    );
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
