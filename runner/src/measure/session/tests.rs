//! The scheduler, the assembly of the results and the store, with a fake measuring function and
//! a disk that fills up: no interpreter, no child process.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Condvar};
use std::time::Duration;

use anyhow::bail;

use super::*;
use crate::measure::plan::fixture::{plan, scenario};
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::fixture::{self, interpreter};
use crate::model::results::{ProcessSamples, WorkerRecord};
use crate::model::scenario::Scenario;
use crate::model::version::PyVersion;

/// Interpreters 3.8 … with scenarios s1 … and the builds of each: the number of modes each has
/// built (0: every build failed, its cells recorded as such).
struct World {
    interpreters: Vec<Interpreter>,
    scenarios: Vec<Scenario>,
    modes: Vec<usize>,
}

const MODES: [(&str, Mode, u32); 3] = [
    ("unlimited", Mode::Unlimited, 0),
    ("abi3-py38", Mode::Abi3(PyVersion(3, 8)), 0),
    ("abi3-py39", Mode::Abi3(PyVersion(3, 9)), 0),
];

impl World {
    fn new(modes: &[usize], scenarios: usize) -> World {
        World {
            interpreters: (0..modes.len()).map(|k| interpreter(&format!("3.{}", 8 + k))).collect(),
            scenarios: (1..=scenarios).map(|k| scenario(&format!("s{k}"))).collect(),
            modes: modes.to_vec(),
        }
    }

    fn plans(&self) -> Vec<(Plan<'_>, Vec<Cell>)> {
        self.interpreters
            .iter()
            .zip(&self.modes)
            .map(|(i, &n)| {
                let unbuilt = if n == 0 {
                    let mut c = Cell::pending(&i.name, Mode::Unlimited, "s1", 1);
                    c.fail(CellStatus::BuildFailed, "error[E0425]".into());
                    vec![c]
                } else {
                    vec![]
                };
                (plan(i, &self.scenarios, &MODES[..n]), unbuilt)
            })
            .collect()
    }
}

/// A rule that never finds a scenario settled: every process measures every cell.
struct Never;

impl crate::measure::measurement::Settle for Never {
    fn settled(&self, _: &[&Cell]) -> Option<crate::model::sampling::Stop> {
        None
    }
}

fn sampling(measure: Measure) -> Sampling {
    crate::model::sampling::Level::Quick.sampling(measure)
}

/// What a worker that measured every cell of `plan` once would have produced.
fn measured(plan: &Plan) -> Measured {
    let cells = plan.builds.iter().flat_map(|b| {
        plan.scenarios.iter().map(move |s| {
            let mut c = Cell::pending(&plan.interpreter.name, b.mode, &s.name, 1);
            let values_s = vec![1e-6; 3];
            c.add_process(ProcessSamples {
                process: 0,
                layout: 0,
                loops: 1,
                overhead_per_loop_s: 0.0,
                warmups_s: vec![],
                values_s,
            });
            (b.cell.clone(), c)
        })
    });
    Measured {
        cells: cells.collect(),
        workers: vec![WorkerRecord::new(&plan.interpreter.name, 0)],
        interrupted: false,
        outcomes: 0,
    }
}

fn results() -> Results {
    let mut res = fixture::run("20261130T035818.360Z", Measure::WallTime, &[]);
    res.run.status = RunStatus::Running;
    res
}

/// A disk whose `out` directory has room for `room` more writes; rescues go to `rescue_dirs`.
/// Every write that succeeded is kept as the `Results` it wrote.
struct FillingDisk {
    out: PathBuf,
    room: Arc<AtomicUsize>,
    rescue_dirs: Vec<PathBuf>,
    written: Arc<Mutex<Vec<Results>>>,
}

impl Disk for FillingDisk {
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        if path.starts_with(&self.out) && self.room.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_err() {
            bail!("cannot write {}: No space left on device (os error 28)", path.display());
        }
        write_atomic(path, bytes)?;
        self.written.lock().unwrap().push(serde_json::from_slice(bytes)?);
        Ok(())
    }

    fn rescue_dirs(&self) -> Vec<PathBuf> {
        self.rescue_dirs.clone()
    }
}

const ROOMY: usize = usize::MAX;

/// A store in `dir` with room for `room` writes, rescuing to `rescue`.
fn filling_store(dir: &Path, room: usize, rescue: Vec<PathBuf>) -> (Store, Arc<AtomicUsize>, Arc<Mutex<Vec<Results>>>) {
    let (room, written) = (Arc::new(AtomicUsize::new(room)), Arc::new(Mutex::new(Vec::new())));
    let disk =
        FillingDisk { out: dir.to_path_buf(), room: room.clone(), rescue_dirs: rescue, written: written.clone() };
    (Store::on(Box::new(disk), dir.join("run.json")), room, written)
}

fn interpreters_of(res: &Results) -> Vec<String> {
    let mut names: Vec<String> = res.cells.iter().map(|c| c.interpreter.clone()).collect();
    names.dedup();
    names
}

#[test]
fn interpreters_start_in_order_or_with_several_jobs_largest_first() {
    let w = World::new(&[1, 0, 3, 2], 2);
    let plans = w.plans();
    assert_eq!(order(&plans, 1), [0, 2, 3], "the one with nothing built is not measured");
    assert_eq!(order(&plans, 2), [2, 3, 0]);
    // Only instruction counts run at once: wall time's instrument is the cores.
    let jobs = |measure, jobs| Session::of(w.plans(), (&sampling(measure), &Never), (0, jobs)).jobs;
    assert_eq!((jobs(Measure::WallTime, 4), jobs(Measure::Instructions, 4), jobs(Measure::Instructions, 0)), (1, 4, 1));
}

/// Runs `schedule` on plans of interpreters that each wait up to `patience` for another to be
/// measured at the same time; returns the most measured at once and the order they started in.
fn overlap(jobs: usize, patience: Duration) -> (usize, Vec<String>) {
    let w = World::new(&[1, 1], 1);
    let plans = w.plans();
    let (running, changed) = (Mutex::new((0usize, 0usize)), Condvar::new());
    let started = Mutex::new(Vec::new());
    let measure = |plan: &Plan| {
        started.lock().unwrap().push(plan.interpreter.name.clone());
        let mut r = running.lock().unwrap();
        r.0 += 1;
        r.1 = r.1.max(r.0);
        changed.notify_all();
        let mut r = changed.wait_timeout_while(r, patience, |r| r.1 < 2).unwrap().0;
        r.0 -= 1;
        Ok(measured(plan))
    };
    schedule(&plans, jobs, measure, |_, _| {}).unwrap();
    let most = running.lock().unwrap().1;
    (most, started.into_inner().unwrap())
}

#[test]
fn several_jobs_measure_at_once_and_one_job_one_at_a_time() {
    // Each waits 10 s for company: with two jobs it comes at once, a serialised queue never.
    assert_eq!(overlap(2, Duration::from_secs(10)).0, 2);
    assert_eq!(overlap(1, Duration::from_millis(50)), (1, vec!["3.8".into(), "3.9".into()]));
}

#[test]
fn cells_are_saved_after_each_interpreter_in_interpreter_order_whatever_finishes_first() {
    let w = World::new(&[1, 0, 3], 2);
    let sampling = sampling(Measure::Instructions);
    let session = Session::of(w.plans(), (&sampling, &Never), (0, 2));
    assert_eq!(session.steps(), 8);
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, written) = filling_store(dir.path(), ROOMY, vec![]);
    // 3.10 (largest) starts first and finishes last: it waits until 3.8's result is taken in.
    let small_done = (Mutex::new(false), Condvar::new());
    let notes = Mutex::new(Vec::new());
    let measure = |plan: &Plan, on_cell: &dyn Fn(&str, &str)| {
        let m = measured(plan);
        for (_, c) in &m.cells {
            on_cell(&c.scenario, &c.mode.name());
        }
        if plan.builds.len() > 1 {
            let done = small_done.0.lock().unwrap();
            drop(small_done.1.wait_timeout_while(done, Duration::from_secs(10), |d| !*d).unwrap());
        }
        Ok(m)
    };
    let observe = |note: Note| match note {
        Note::Interpreter { name, cells, failed, .. } => {
            notes.lock().unwrap().push(format!("{name}: {cells}, {failed}"));
            *small_done.0.lock().unwrap() = true;
            small_done.1.notify_all();
        }
        Note::Cell { .. } => notes.lock().unwrap().push("cell".into()),
        Note::SaveFailed { .. } => panic!("nothing failed"),
    };
    let mut res = results();
    assert!(!session.run_with(&mut res, &mut store, &observe, measure).unwrap());

    let notes = notes.into_inner().unwrap();
    assert_eq!(notes.iter().filter(|n| *n == "cell").count(), 8);
    let finished: Vec<&String> = notes.iter().filter(|n| *n != "cell").collect();
    assert_eq!(finished, ["3.8: 2, 0", "3.10: 6, 0"]);
    // One save per interpreter, then the final one; each lists the cells in interpreter order.
    let saves = written.lock().unwrap();
    let progression: Vec<Vec<String>> = saves.iter().map(interpreters_of).collect();
    let order = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert_eq!(progression, [order(&["3.8", "3.9"]), order(&["3.8", "3.9", "3.10"]), order(&["3.8", "3.9", "3.10"])]);
    assert_eq!(saves[1].run.status, RunStatus::Running);
    let last = saves.last().unwrap();
    assert_eq!((last.run.status, last.cells.len(), last.workers.len()), (RunStatus::Complete, 9, 2));
    assert!(last.run.finished_at.is_some());
    assert_eq!(last.cells[2].status, CellStatus::BuildFailed, "3.9's unbuilt cell, in its place");
}

#[test]
fn a_full_disk_keeps_the_last_good_file_warns_once_and_measuring_goes_on() {
    let w = World::new(&[1, 1, 1], 1);
    let sampling = sampling(Measure::WallTime);
    let session = Session::of(w.plans(), (&sampling, &Never), (0, 1));
    let (dir, rescue) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The disk fills once the first interpreter is saved.
    let (mut store, _, _) = filling_store(dir.path(), 1, vec![rescue.path().to_path_buf()]);
    let measure = |plan: &Plan, _: &dyn Fn(&str, &str)| Ok(measured(plan));
    let warnings = Mutex::new(Vec::new());
    let observe = |note: Note| {
        if let Note::SaveFailed { error, measured, kept } = note {
            warnings.lock().unwrap().push(format!("{error:#} ({measured} cells measured, {kept} in that file)"));
        }
    };
    let mut res = results();
    session.run_with(&mut res, &mut store, &observe, measure).unwrap();

    let path = dir.path().join("run.json");
    let warned = format!(
        "cannot write {}: No space left on device (os error 28) (2 cells measured, 1 in that file)",
        path.display()
    );
    assert_eq!(warnings.into_inner().unwrap(), [warned]);
    assert_eq!(res.cells.len(), 3, "every interpreter measured, in memory");
    let kept = Results::read(&path).unwrap();
    assert_eq!((kept.run.status, interpreters_of(&kept)), (RunStatus::Running, vec!["3.8".into()]));

    let said = store.rescue(&res).unwrap();
    let file = rescue.path().join("abibench-rescued-20261130T035818.360Z.json");
    assert!(said.starts_with("error: the results could not be saved: cannot write"), "{said}");
    assert!(said.contains("the last good copy there holds 1 of the 3 measured cells (status \"running\")"), "{said}");
    assert!(said.contains(&format!("All 3 measured cells are saved in {} instead", file.display())), "{said}");
    let rescued = Results::read(&file).unwrap();
    assert_eq!((rescued.run.status, rescued.cells.len()), (RunStatus::Complete, 3));
}

#[test]
fn a_rescue_tries_each_place_and_says_what_is_lost_when_none_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    // A directory under a regular file cannot be written, even by root.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "").unwrap();
    let second = tempfile::tempdir().unwrap();
    let mut res = fixture::run("r1", Measure::WallTime, &[("3.12", Mode::Unlimited, "s1", vec![1.0])]);

    let (mut store, room, _) = filling_store(dir.path(), ROOMY, vec![blocked.join("tmp"), second.path().to_path_buf()]);
    assert!(!store.save(&res));
    assert_eq!(store.rescue(&res), None, "saved where asked: nothing to rescue");
    room.store(0, SeqCst);
    res.cells.push(res.cells[0].clone());
    assert!(store.save(&res), "the first failure is the one to warn about");
    assert!(!store.save(&res), "and only the first");
    assert!(store
        .rescue(&res)
        .unwrap()
        .contains(&second.path().join("abibench-rescued-r1.json").display().to_string()));

    let (mut store, room, _) = filling_store(dir.path(), 0, vec![blocked.join("tmp")]);
    store.save(&res);
    let said = store.rescue(&res).unwrap();
    assert!(
        said.ends_with(
            "the last good copy there holds 0 of the 2 measured cells (status \"running\"), and nowhere else had \
             room: the tables above are all that is left of the other 2 cells."
        ),
        "{said}"
    );
    // Room again: the next save succeeds and there is nothing to rescue.
    room.store(1, SeqCst);
    assert!(!store.save(&res));
    assert_eq!(store.rescue(&res), None);
    assert_eq!(Results::read(&dir.path().join("run.json")).unwrap().cells.len(), 2);
}

#[test]
fn an_interrupted_interpreter_starts_no_other_and_a_failure_is_returned() {
    let w = World::new(&[1, 1], 1);
    let sampling = sampling(Measure::WallTime);
    let session = Session::of(w.plans(), (&sampling, &Never), (0, 1));
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = filling_store(dir.path(), ROOMY, vec![]);
    let calls = Mutex::new(0);
    let interrupted = |plan: &Plan, _: &dyn Fn(&str, &str)| {
        *calls.lock().unwrap() += 1;
        Ok(Measured { interrupted: true, ..measured(plan) })
    };
    let mut res = results();
    assert!(session.run_with(&mut res, &mut store, &|_| {}, interrupted).unwrap());
    assert_eq!(*calls.lock().unwrap(), 1);
    assert_eq!((res.run.status, interpreters_of(&res)), (RunStatus::Interrupted, vec!["3.8".into()]));

    let failing = |plan: &Plan, _: &dyn Fn(&str, &str)| -> Result<Measured> {
        *calls.lock().unwrap() += 1;
        bail!("cannot start {}", plan.interpreter.name)
    };
    let e = session.run_with(&mut results(), &mut store, &|_| {}, failing).unwrap_err();
    assert_eq!((e.to_string(), *calls.lock().unwrap()), ("cannot start 3.8".into(), 2));
}
