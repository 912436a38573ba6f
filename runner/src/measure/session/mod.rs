//! The run's measurement: every interpreter's plan measured (one at a time for wall time,
//! `--jobs` at once for instruction counts, largest first), the cells assembled into the results
//! in interpreter order, and the results saved after each interpreter (`Store`), a failed save
//! keeping the last good file while measuring goes on. What happens is told to an observer
//! (`Note`): nothing here prints.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use anyhow::Result;

use crate::measure::driver;
use crate::measure::measurement::{Measured, Settle};
use crate::measure::plan::Plan;
use crate::model::build::BuildRecord;
use crate::model::host::load_average;
use crate::model::io::{now_rfc3339, write_atomic};
use crate::model::results::{Cell, CellStatus, Results, RunStatus};
use crate::model::sampling::{Measure, Sampling};
use crate::setup::paths::cache_root;
use crate::setup::recipe::Recipe;
use crate::setup::selection::Selection;

/// What a session tells its observer, as it happens (from the measuring threads too).
pub enum Note<'a> {
    /// A (scenario, build label) of an interpreter has its outcome, in one process.
    Cell { interpreter: &'a str, scenario: &'a str, build: &'a str },
    /// An interpreter is measured: its cells, how many of them failed (n/a cells aside), and
    /// how many of `steps` it did not need (scenarios settled before the last process).
    Interpreter { name: &'a str, cells: usize, failed: usize, unneeded: usize },
    /// Saving the results failed, after the last save had not: measuring goes on with everything
    /// in memory; `measured` cells have values, `kept` of them are in the last good file.
    SaveFailed { error: &'a anyhow::Error, measured: usize, kept: usize },
}

/// The interpreters' plans and how to measure them.
pub struct Session<'a> {
    /// Each interpreter's plan, with the cells of its builds that failed.
    plans: Vec<(Plan<'a>, Vec<Cell>)>,
    sampling: &'a Sampling,
    /// When a scenario is measured enough (with `sampling.until`).
    settle: &'a dyn Settle,
    seed: u64,
    /// How many interpreters are measured at once.
    jobs: usize,
}

impl<'a> Session<'a> {
    pub fn new(
        (sel, recipe, marker): (&'a Selection, &'a Recipe, Option<&'a Path>),
        builds: &[BuildRecord],
        design: (&'a Sampling, &'a dyn Settle),
        (seed, jobs): (u64, usize),
    ) -> Session<'a> {
        Session::of(driver::plans(sel, builds, (recipe, marker)), design, (seed, jobs))
    }

    fn of(
        plans: Vec<(Plan<'a>, Vec<Cell>)>,
        (sampling, settle): (&'a Sampling, &'a dyn Settle),
        (seed, jobs): (u64, usize),
    ) -> Session<'a> {
        // Wall time: one at a time, never in parallel (the cores are the instrument). Instruction
        // counts do not depend on what else runs.
        let jobs = if sampling.measure == Measure::Instructions { jobs.max(1) } else { 1 };
        Session { plans, sampling, settle, seed, jobs }
    }

    /// How many (scenario, build) outcomes the run will count, at most: progress's length (a
    /// scenario settled early counts its outcomes it did not need at its interpreter's end).
    pub fn steps(&self) -> usize {
        self.plans.iter().map(|(p, _)| self.steps_of(p)).sum()
    }

    fn steps_of(&self, plan: &Plan) -> usize {
        plan.builds.len() * plan.scenarios.len() * self.sampling.processes
    }

    /// Measures every interpreter into `res`'s cells and workers, saving it in `store` after each,
    /// then marks the run finished (complete or interrupted) and saves it once more. Returns
    /// whether the run was interrupted.
    pub fn run(
        &self,
        res: &mut Results,
        stop: &AtomicBool,
        store: &mut Store,
        observe: &(dyn Fn(Note) + Sync),
    ) -> Result<bool> {
        self.run_with(res, store, observe, |plan, on_cell| {
            driver::measure(plan, (self.sampling, self.settle), self.seed, stop, on_cell)
        })
    }

    /// `run`, measuring each plan with `measure`.
    fn run_with(
        &self,
        res: &mut Results,
        store: &mut Store,
        observe: &(dyn Fn(Note) + Sync),
        measure: impl Fn(&Plan, &dyn Fn(&str, &str)) -> Result<Measured> + Sync,
    ) -> Result<bool> {
        let start = Instant::now();
        let first_cells = res.cells.len();
        let mut measured: Vec<Option<Measured>> = self.plans.iter().map(|_| None).collect();
        let mut interrupted = false;
        let measure_one = |plan: &Plan| {
            let name = &plan.interpreter.name;
            measure(plan, &|scenario, build| observe(Note::Cell { interpreter: name, scenario, build }))
        };
        schedule(&self.plans, self.jobs, measure_one, |k, m| {
            let failed = m
                .cells
                .iter()
                .filter(|(_, c)| c.status.is_final_failure() && c.status != CellStatus::NotAvailable)
                .count();
            let plan = &self.plans[k].0;
            let unneeded = self.steps_of(plan).saturating_sub(m.outcomes);
            observe(Note::Interpreter { name: &plan.interpreter.name, cells: m.cells.len(), failed, unneeded });
            interrupted |= m.interrupted;
            measured[k] = Some(m);
            // Saved after each interpreter, in interpreter order, whatever order they finish in.
            assemble(res, first_cells, &self.plans, &measured);
            res.run.measure_seconds = start.elapsed().as_secs_f64();
            if store.save(res) {
                let error = store.failure.as_ref().expect("the save failed");
                observe(Note::SaveFailed { error, measured: measured_cells(res), kept: store.kept });
            }
        })?;
        // Interpreters with nothing to measure (every build failed) still have their cells recorded.
        assemble(res, first_cells, &self.plans, &measured);
        res.run.finished_at = Some(now_rfc3339());
        res.run.load_average_at_end = load_average();
        res.run.status = if interrupted { RunStatus::Interrupted } else { RunStatus::Complete };
        store.save(res);
        Ok(interrupted)
    }
}

/// The plans with something to measure, in the order they are started: interpreter order, or,
/// with several jobs, largest first (builds × scenarios), so that the last one counted is a small
/// one and no core idles while another finishes 3.15's nine modes alone.
fn order(plans: &[(Plan, Vec<Cell>)], jobs: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..plans.len()).filter(|&k| !plans[k].0.builds.is_empty()).collect();
    if jobs > 1 {
        order.sort_by_key(|&k| std::cmp::Reverse(plans[k].0.builds.len() * plans[k].0.scenarios.len()));
    }
    order
}

/// Measures the plans (`order`), `jobs` at once, handing each one's result (by its index in
/// `plans`) to `done` on this thread as they finish. A worker thread takes no more plans after
/// an interrupted or failed one; the first failure is returned once every thread is done.
fn schedule(
    plans: &[(Plan, Vec<Cell>)],
    jobs: usize,
    measure: impl Fn(&Plan) -> Result<Measured> + Sync,
    mut done: impl FnMut(usize, Measured),
) -> Result<()> {
    let queue = Mutex::new(order(plans, jobs).into_iter());
    let (done_tx, done_rx) = mpsc::channel::<(usize, Result<Measured>)>();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs {
            let (queue, done_tx, measure) = (&queue, done_tx.clone(), &measure);
            scope.spawn(move || {
                loop {
                    // Taken in a statement of its own: a guard in the `while let` condition would
                    // live through the loop body and hold the queue while measuring, one job at a time.
                    let next = queue.lock().expect("no panics while held").next();
                    let Some(k) = next else { break };
                    let m = measure(&plans[k].0);
                    let stopped = m.as_ref().map_or(true, |m| m.interrupted);
                    if done_tx.send((k, m)).is_err() || stopped {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        for (k, m) in done_rx {
            done(k, m?);
        }
        Ok(())
    })
}

/// The run's cells and workers: each interpreter's unbuilt cells and what was measured of it,
/// in interpreter order, after the `first` cells the run already had.
fn assemble(res: &mut Results, first: usize, plans: &[(Plan, Vec<Cell>)], measured: &[Option<Measured>]) {
    res.cells.truncate(first);
    res.workers.clear();
    for ((_, unbuilt), m) in plans.iter().zip(measured) {
        res.cells.extend(unbuilt.iter().cloned());
        if let Some(m) = m {
            res.cells.extend(m.cells.iter().map(|(_, c)| c.clone()));
            res.workers.extend(m.workers.iter().cloned());
        }
    }
}

/// Cells with values: what a lost write would lose.
fn measured_cells(res: &Results) -> usize {
    res.cells.iter().filter(|c| c.status == CellStatus::Ok && !c.processes.is_empty()).count()
}

/// Where the results go: the file system, or in tests one that fills up.
pub trait Disk {
    /// Writes `bytes` to `path` atomically: a failed write leaves the file there as it was.
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()>;
    /// Where results that cannot be saved where asked are rescued, the first that takes them.
    fn rescue_dirs(&self) -> Vec<PathBuf>;
}

/// The file system; rescues go to the temporary directory, else the cache.
struct Local;

impl Disk for Local {
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        write_atomic(path, bytes)
    }

    fn rescue_dirs(&self) -> Vec<PathBuf> {
        [Some(std::env::temp_dir()), cache_root().ok()].into_iter().flatten().collect()
    }
}

/// The results file and what it holds. A failed save (a full disk) leaves the last good file
/// there, keeps everything in memory, and is tried again at the next save.
pub struct Store {
    path: PathBuf,
    /// Measured cells in the last good file.
    kept: usize,
    failure: Option<anyhow::Error>,
    disk: Box<dyn Disk>,
}

impl Store {
    /// The run's file, already claimed (`model::io::create_run_file`).
    pub fn new(path: PathBuf) -> Store {
        Store::on(Box::new(Local), path)
    }

    pub fn on(disk: Box<dyn Disk>, path: PathBuf) -> Store {
        Store { path, kept: 0, failure: None, disk }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves `res`; whether this save failed after the last one had not (the moment to warn).
    pub fn save(&mut self, res: &Results) -> bool {
        let was_failing = self.failure.is_some();
        let saved = serde_json::to_vec_pretty(res).map_err(anyhow::Error::from);
        match saved.and_then(|bytes| self.disk.write(&self.path, &bytes)) {
            Ok(()) => (self.kept, self.failure) = (measured_cells(res), None),
            Err(e) => self.failure = Some(e),
        }
        self.failure.is_some() && !was_failing
    }

    /// After a final save that failed: the results written where there is room (the temporary
    /// directory, else the cache), and the message saying where the data is and what is lost.
    /// `None` when the results are safe where asked.
    pub fn rescue(&self, res: &Results) -> Option<String> {
        let e = self.failure.as_ref()?;
        let (total, name) = (measured_cells(res), format!("abibench-rescued-{}.json", res.run.id));
        let last_good =
            format!("the last good copy there holds {} of the {total} measured cells (status \"running\")", self.kept);
        let rescued = serde_json::to_vec_pretty(res).ok().and_then(|bytes| {
            self.disk
                .rescue_dirs()
                .into_iter()
                .map(|dir| dir.join(&name))
                .find(|file| self.disk.write(file, &bytes).is_ok())
        });
        if let Some(file) = rescued {
            return Some(format!(
                "error: the results could not be saved: {e:#}; {last_good}. All {total} measured cells are \
                 saved in {} instead: nothing measured is lost (`abibench show` or `report` reads it).",
                file.display()
            ));
        }
        Some(format!(
            "error: the results could not be saved: {e:#}; {last_good}, and nowhere else had room: the tables above \
             are all that is left of the other {} cells.",
            total - self.kept
        ))
    }
}

#[cfg(test)]
mod tests;
