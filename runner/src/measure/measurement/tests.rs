//! The worker loop's rules, fed scripted event sequences: no interpreter, no child process.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use super::*;
use crate::measure::plan::fixture;
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::fixture::interpreter;
use crate::model::sampling::Stop;
use crate::model::version::PyVersion;

const STDERR: &str = "Fatal Python error: Segmentation fault\nCurrent thread 0x1 (most recent call first):";

/// An interpreter, scenarios s1 and s2, and builds: `(cell, mode, layout)`.
struct World {
    interpreter: Interpreter,
    scenarios: Vec<Scenario>,
    builds: Vec<(&'static str, Mode, u32)>,
}

impl World {
    fn new(builds: &[(&'static str, Mode, u32)]) -> World {
        let scenarios = vec![fixture::scenario("s1"), fixture::scenario("s2")];
        World { interpreter: interpreter("3.12"), scenarios, builds: builds.to_vec() }
    }

    /// unlimited and abi3-py38, one layout each.
    fn two_modes() -> World {
        World::new(&[("unlimited", Mode::Unlimited, 0), ("abi3-py38", Mode::Abi3(PyVersion(3, 8)), 0)])
    }

    fn plan(&self) -> Plan<'_> {
        fixture::plan(&self.interpreter, &self.scenarios, &self.builds)
    }
}

fn at(scenario: &str, build: &str, phase: &str) -> Event {
    Event::At { scenario: Some(scenario.into()), build: Some(build.into()), phase: phase.into(), expect_s: None }
}

fn cell(scenario: &str, build: &str, status: CellStatus, reason: Option<&str>) -> Event {
    let ok = status == CellStatus::Ok;
    Event::Cell {
        scenario: scenario.into(),
        build: build.into(),
        status,
        reason: reason.map(String::from),
        loops: ok.then_some(10),
        warmups: vec![],
        values: if ok { vec![1e-6; 3] } else { vec![] },
        gil: Some(true),
        parts: vec![],
        calls: None,
    }
}

fn ok(scenario: &str, build: &str) -> Event {
    cell(scenario, build, CellStatus::Ok, None)
}

fn died(signal: i32) -> Ending {
    // A wait status whose low 7 bits are a signal's number: killed by it.
    Ending::Died { status: ExitStatus::from_raw(signal), stderr: STDERR.into() }
}

fn task(scenario: &str, build: &str) -> Task {
    Task::new(scenario, build)
}

/// Feeds a worker's events, returning the tasks they gave outcomes (what progress counts).
fn feed(m: &mut Measurement, events: Vec<Event>) -> Vec<Task> {
    events.into_iter().filter_map(|ev| m.on_event(ev)).collect()
}

fn status_of(measured: &Measured, scenario: &str, cell: &str) -> (CellStatus, String, usize) {
    let (_, c) = measured.cells.iter().find(|(l, c)| l == cell && c.scenario == scenario).unwrap();
    (c.status, c.reason.clone().unwrap_or_default(), c.processes.len())
}

fn names(job: &WorkerJob) -> Vec<String> {
    job.scenarios.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn a_crash_mid_cell_fails_the_announced_cell_and_a_fresh_worker_resumes_with_the_rest() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    let first = m.next_worker().unwrap();
    assert_eq!(
        (names(&first), first.skip.len(), first.overhead, first.seed_offset),
        (vec!["s1".into(), "s2".into()], 0, true, 0)
    );
    let counted = feed(
        &mut m,
        vec![
            Event::Overhead { loops: 100, values: vec![2e-6, 2e-6, 2e-6] },
            at("s1", "unlimited", "value"),
            ok("s1", "unlimited"),
            at("s1", "abi3-py38", "value"),
        ],
    );
    assert_eq!(counted, [task("s1", "unlimited")]);
    assert_eq!(m.on_end(died(11), 0), Verdict::Blamed(task("s1", "abi3-py38")));

    // The rest: s2 only, s1's outcomes skipped, the overhead kept from the first worker.
    let second = m.next_worker().unwrap();
    assert_eq!(names(&second), ["s2"]);
    assert_eq!(second.skip, [task("s1", "abi3-py38"), task("s1", "unlimited")]);
    assert_eq!((second.overhead, second.seed_offset), (false, 1));
    feed(&mut m, vec![ok("s2", "unlimited"), ok("s2", "abi3-py38")]);
    assert_eq!(m.on_end(Ending::Done, 0), Verdict::Finished);
    assert!(m.next_worker().is_none());

    let measured = m.finish();
    let (status, reason, _) = status_of(&measured, "s1", "abi3-py38");
    assert_eq!(status, CellStatus::Crashed);
    assert_eq!(
        reason,
        format!("worker killed by signal 11 (SIGSEGV) during value of s1 [abi3-py38]; stderr tail:\n{STDERR}")
    );
    for (s, c) in [("s1", "unlimited"), ("s2", "unlimited"), ("s2", "abi3-py38")] {
        assert_eq!(status_of(&measured, s, c).0, CellStatus::Ok, "{s} {c}");
    }
    let endings: Vec<&str> = measured.workers.iter().map(|w| w.ending.as_str()).collect();
    assert_eq!(endings, ["killed by signal 11 (SIGSEGV)", "done"]);
    let (_, s2) = measured.cells.iter().find(|(l, c)| l == "unlimited" && c.scenario == "s2").unwrap();
    assert_eq!(s2.processes[0].overhead_per_loop_s, 2e-8, "the first worker's overhead, per loop");
    assert!(!measured.interrupted);
}

#[test]
fn a_hang_fails_the_announced_cell_as_a_timeout_and_the_rest_resumes() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 5.0);
    m.next_worker().unwrap();
    feed(
        &mut m,
        vec![
            at("s1", "unlimited", "loop sizing"),
            Event::At {
                scenario: Some("s1".into()),
                build: Some("unlimited".into()),
                phase: "warmup".into(),
                expect_s: Some(0.002),
            },
        ],
    );
    let hung = Ending::Hung {
        waited: Duration::from_millis(5100),
        allowed: Duration::from_secs(5),
        expected_s: Some(0.002),
        stderr: "tail".into(),
    };
    assert_eq!(m.on_end(hung, 0), Verdict::Blamed(task("s1", "unlimited")));
    let next = m.next_worker().unwrap();
    assert_eq!(names(&next), ["s1", "s2"], "s1 still has abi3-py38 to do");
    assert_eq!(next.skip, [task("s1", "unlimited")]);
    feed(&mut m, vec![ok("s1", "abi3-py38"), ok("s2", "unlimited"), ok("s2", "abi3-py38")]);
    m.on_end(Ending::Done, 0);
    assert!(m.next_worker().is_none());

    let measured = m.finish();
    let said = "made no progress for 5.1 s (the step should take 2.0 ms, a hang past 5.0 s; --timeout 5 s)";
    assert_eq!(status_of(&measured, "s1", "unlimited").0, CellStatus::Timeout);
    assert_eq!(
        status_of(&measured, "s1", "unlimited").1,
        format!("worker {said} during warmup of s1 [unlimited]; stderr tail:\ntail")
    );
    assert_eq!(measured.workers[0].ending, format!("{said}, killed"));
    assert_eq!(status_of(&measured, "s1", "abi3-py38").0, CellStatus::Ok);
}

#[test]
fn a_value_after_a_crash_or_a_second_outcome_is_not_counted() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    // Two outcomes of one task from one worker: the first stands.
    let counted = feed(
        &mut m,
        vec![
            ok("s2", "unlimited"),
            cell("s2", "unlimited", CellStatus::Error, Some("late")),
            at("s1", "unlimited", "value"),
        ],
    );
    assert_eq!(counted, [task("s2", "unlimited")]);
    m.on_end(died(9), 0);
    // The resumed worker is told to skip the crashed cell; a value for it anyway is not taken.
    let next = m.next_worker().unwrap();
    assert!(next.skip.contains(&task("s1", "unlimited")));
    let counted = feed(&mut m, vec![ok("s1", "unlimited"), ok("s1", "abi3-py38"), ok("s2", "abi3-py38")]);
    assert_eq!(counted, [task("s1", "abi3-py38"), task("s2", "abi3-py38")]);
    m.on_end(Ending::Done, 0);

    let measured = m.finish();
    let (status, reason, values) = status_of(&measured, "s1", "unlimited");
    assert_eq!((status, values), (CellStatus::Crashed, 0));
    assert!(reason.starts_with("worker killed by signal 9 (SIGKILL) during value of s1 [unlimited];"), "{reason}");
    assert_eq!(status_of(&measured, "s2", "unlimited"), (CellStatus::Ok, String::new(), 1));
}

#[test]
fn lines_that_were_not_events_are_counted_and_foreign_cells_change_nothing() {
    // The token itself is checked where lines are parsed (`protocol::parse`, tested there): a
    // line with a wrong one never reaches the state machine, only its count does.
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    let counted = feed(&mut m, vec![ok("s1", "nonesuch"), ok("nonesuch", "unlimited"), ok("s1", "unlimited")]);
    assert_eq!(counted, [task("s1", "unlimited")]);
    m.on_end(Ending::Done, 2);
    let measured = m.finish();
    assert_eq!(measured.cells.len(), 4, "no cell for a build or scenario the plan lacks");
    assert_eq!(measured.workers[0].ending, "done; 2 line(s) on its event stream were not events of this job, ignored");
    // A crash announced in a cell the plan lacks records nothing and resumes the same work.
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    feed(&mut m, vec![at("s1", "nonesuch", "value")]);
    assert_eq!(m.on_end(died(11), 0), Verdict::Stray(task("s1", "nonesuch")));
    let next = m.next_worker().unwrap();
    assert_eq!((names(&next), next.skip.len()), (vec!["s1".into(), "s2".into()], 0));
}

#[test]
fn an_exception_is_its_cell_error_and_the_worker_goes_on() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    let raised = "ZeroDivisionError: division by zero\nTraceback (most recent call last): ...";
    let counted = feed(
        &mut m,
        vec![
            at("s1", "unlimited", "value"),
            cell("s1", "unlimited", CellStatus::Error, Some(raised)),
            ok("s1", "abi3-py38"),
            ok("s2", "unlimited"),
            ok("s2", "abi3-py38"),
        ],
    );
    assert_eq!(counted.len(), 4);
    assert_eq!(m.on_end(Ending::Done, 0), Verdict::Finished);
    assert!(m.next_worker().is_none(), "no worker restarted for an exception");
    let measured = m.finish();
    assert_eq!(status_of(&measured, "s1", "unlimited"), (CellStatus::Error, raised.into(), 0));
    assert_eq!(measured.workers.len(), 1);
}

#[test]
fn resumes_never_measure_a_finished_cell_again_in_any_layout() {
    let w = World::new(&[("unlimited", Mode::Unlimited, 1), ("unlimited", Mode::Unlimited, 2)]);
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 2, 60.0);
    m.next_worker().unwrap();
    feed(&mut m, vec![ok("s1", "unlimited@L1"), ok("s1", "unlimited@L2"), at("s2", "unlimited@L1", "value")]);
    // The cell failed: its other layout is not timed either, and nothing is left in process 0.
    assert_eq!(m.on_end(died(11), 0), Verdict::Blamed(task("s2", "unlimited@L1")));

    // Process 1: s1 again (each process measures every cell), the crashed s2 in no layout.
    let next = m.next_worker().unwrap();
    assert_eq!((names(&next), next.seed_offset, next.overhead), (vec!["s1".into()], 1000, true));
    assert_eq!(next.skip, [task("s2", "unlimited@L1"), task("s2", "unlimited@L2")]);
    feed(&mut m, vec![ok("s1", "unlimited@L2"), at("s1", "unlimited@L1", "value")]);
    m.on_end(died(11), 0);
    // A second crash in process 1: both layouts of s1 are done, nothing to resume.
    assert!(m.next_worker().is_none());

    let measured = m.finish();
    assert_eq!(measured.workers.iter().map(|w| w.process).collect::<Vec<_>>(), [0, 1]);
    let (_, s1) = measured.cells.iter().find(|(_, c)| c.scenario == "s1").unwrap();
    assert_eq!(s1.status, CellStatus::Crashed, "crashed in process 1");
    let runs: Vec<(usize, u32)> = s1.processes.iter().map(|p| (p.process, p.layout)).collect();
    assert_eq!(runs, [(0, 1), (0, 2), (1, 2)]);
}

#[test]
fn a_worker_that_ends_without_every_outcome_leaves_those_cells_errors() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    feed(
        &mut m,
        vec![
            Event::LoadFailed { build: "abi3-py38".into(), error: "ImportError: undefined symbol".into() },
            ok("s1", "unlimited"),
        ],
    );
    assert_eq!(m.on_end(Ending::Done, 0), Verdict::Finished);
    assert!(m.next_worker().is_none());
    let measured = m.finish();
    let missing = "worker 0 finished without a result for this cell";
    assert_eq!(status_of(&measured, "s2", "unlimited"), (CellStatus::Error, missing.into(), 0));
    for s in ["s1", "s2"] {
        let unloadable = (CellStatus::NotLoadable, "ImportError: undefined symbol".into(), 0);
        assert_eq!(status_of(&measured, s, "abi3-py38"), unloadable, "{s}");
    }
}

#[test]
fn a_crash_while_loading_makes_the_build_unusable_and_the_rest_resumes_without_it() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    let load = Event::At { scenario: None, build: Some("abi3-py38".into()), phase: "load".into(), expect_s: None };
    feed(
        &mut m,
        vec![
            Event::At { scenario: None, build: Some("unlimited".into()), phase: "load".into(), expect_s: None },
            Event::Loaded {},
            load,
        ],
    );
    assert_eq!(m.on_end(died(6), 0), Verdict::Unloadable("abi3-py38".into()));
    let next = m.next_worker().unwrap();
    assert_eq!(next.builds.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["unlimited"]);
    feed(&mut m, vec![ok("s1", "unlimited"), ok("s2", "unlimited")]);
    m.on_end(Ending::Done, 0);
    let measured = m.finish();
    let (status, reason, _) = status_of(&measured, "s2", "abi3-py38");
    assert_eq!(status, CellStatus::NotLoadable);
    assert!(reason.starts_with("worker killed by signal 6 (SIGABRT) during load of build "), "{reason}");
}

#[test]
fn a_crash_outside_any_cell_fails_what_is_pending_and_resumes_nothing() {
    for last in [None, Some(Event::At { scenario: None, build: None, phase: "overhead".into(), expect_s: None })] {
        let w = World::two_modes();
        let plan = w.plan();
        let mut m = Measurement::new(&plan, 2, 60.0);
        m.next_worker().unwrap();
        let during = if last.is_some() { "overhead" } else { "start-up" };
        feed(&mut m, last.into_iter().collect());
        assert_eq!(m.on_end(died(11), 0), Verdict::GaveUp);
        // Every cell failed for good: the second process has nothing to do either.
        assert!(m.next_worker().is_none());
        let measured = m.finish();
        for (_, c) in &measured.cells {
            assert_eq!(c.status, CellStatus::Crashed);
            assert!(c
                .reason
                .as_deref()
                .unwrap()
                .starts_with(&format!("worker killed by signal 11 (SIGSEGV) during {during};")));
        }
    }
}

#[test]
fn an_interrupt_keeps_what_is_done_and_starts_nothing_more() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 3, 60.0);
    m.next_worker().unwrap();
    feed(&mut m, vec![ok("s1", "unlimited"), at("s1", "abi3-py38", "value")]);
    assert_eq!(m.on_end(Ending::Interrupted, 0), Verdict::Interrupted);
    assert!(m.next_worker().is_none());
    let measured = m.finish();
    assert!(measured.interrupted);
    assert_eq!(status_of(&measured, "s1", "unlimited").0, CellStatus::Ok);
    let interrupted = (CellStatus::Interrupted, "the run was interrupted before this cell finished".into(), 0);
    assert_eq!(status_of(&measured, "s1", "abi3-py38"), interrupted);
    assert_eq!(measured.workers[0].ending, "interrupted");
}

#[test]
fn each_process_measures_again_but_never_retries_a_failed_cell() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 2, 60.0);
    m.next_worker().unwrap();
    feed(
        &mut m,
        vec![
            cell("s1", "unlimited", CellStatus::Error, Some("ValueError")),
            ok("s1", "abi3-py38"),
            ok("s2", "unlimited"),
            ok("s2", "abi3-py38"),
        ],
    );
    m.on_end(Ending::Done, 0);
    let next = m.next_worker().unwrap();
    assert_eq!((next.seed_offset, next.overhead), (1000, true));
    assert_eq!(next.skip, [task("s1", "unlimited")]);
    feed(&mut m, vec![ok("s1", "abi3-py38"), ok("s2", "unlimited"), ok("s2", "abi3-py38")]);
    m.on_end(Ending::Done, 0);
    assert!(m.next_worker().is_none());
    let measured = m.finish();
    assert_eq!(status_of(&measured, "s1", "unlimited"), (CellStatus::Error, "ValueError".into(), 0));
    assert_eq!(status_of(&measured, "s2", "abi3-py38").2, 2, "one set of values per process");
}

#[test]
fn an_ok_cell_without_values_is_an_error_and_a_long_reason_is_bounded() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 1, 60.0);
    m.next_worker().unwrap();
    let empty = Event::Cell {
        scenario: "s1".into(),
        build: "unlimited".into(),
        status: CellStatus::Ok,
        reason: None,
        loops: Some(10),
        warmups: vec![],
        values: vec![],
        gil: Some(true),
        parts: vec![],
        calls: None,
    };
    let huge = format!("Exception: {}\nTraceback tail", "x".repeat(3 << 20));
    feed(&mut m, vec![empty, cell("s2", "unlimited", CellStatus::Error, Some(&huge))]);
    m.refuse("abi3-py38", "its file changed after it was built");
    m.on_end(Ending::Done, 0);
    let measured = m.finish();
    let (status, reason, _) = status_of(&measured, "s1", "unlimited");
    assert_eq!(status, CellStatus::Error);
    assert!(reason.contains("measured, but with no values"), "{reason}");
    let (status, reason, _) = status_of(&measured, "s2", "unlimited");
    assert_eq!(status, CellStatus::Error);
    assert!(reason.len() < 2048 && reason.starts_with("Exception: xxx"), "{}", reason.len());
    assert!(reason.contains("more bytes cut)\nTraceback tail"), "{}", &reason[reason.len() - 60..]);
    for s in ["s1", "s2"] {
        let refused = (CellStatus::NotLoadable, "its file changed after it was built".into(), 0);
        assert_eq!(status_of(&measured, s, "abi3-py38"), refused, "{s}");
    }
}

/// Settles s1 once it has `after` processes, never s2; records what it was shown.
struct SettlesS1 {
    after: usize,
    seen: std::sync::Mutex<Vec<Vec<String>>>,
}

impl Settle for SettlesS1 {
    fn settled(&self, cells: &[&Cell]) -> Option<Stop> {
        self.seen.lock().unwrap().push(cells.iter().map(|c| format!("{} {}", c.scenario, c.mode.name())).collect());
        (cells[0].scenario == "s1" && cells[0].processes.len() >= self.after).then_some(Stop::Precise)
    }
}

/// Runs workers that measure every cell they are given, until the measurement has no more.
fn run_all(m: &mut Measurement) -> Vec<Vec<String>> {
    let mut jobs = Vec::new();
    while let Some(job) = m.next_worker() {
        jobs.push(names(&job));
        let (builds, scenarios) = (job.builds.clone(), job.scenarios.clone());
        feed(m, scenarios.iter().flat_map(|s| builds.iter().map(|b| ok(&s.name, &b.label))).collect());
        assert_eq!(m.on_end(Ending::Done, 0), Verdict::Finished);
    }
    jobs
}

#[test]
fn in_stages_a_settled_scenario_is_measured_no_further_and_says_why() {
    let w = World::two_modes();
    let plan = w.plan();
    let rule = SettlesS1 { after: 3, seen: Default::default() };
    let mut m = Measurement::new(&plan, 5, 60.0).until(2, &rule);
    let jobs = run_all(&mut m);
    // Judged from the second process on: s1 settles after its third, s2 runs to the cap.
    assert_eq!(jobs, [vec!["s1", "s2"], vec!["s1", "s2"], vec!["s1", "s2"], vec!["s2"], vec!["s2"]]);
    let seen = rule.seen.lock().unwrap();
    assert_eq!(seen[0], ["s1 unlimited", "s1 abi3-py38"], "the first build's cell first");
    assert_eq!(seen.len(), 2 + 2 + 1 + 1, "s1 and s2 after processes 2 and 3, s2 after 4 and 5");
    let measured = m.finish();
    assert_eq!(measured.outcomes, 3 * 4 + 2 * 2);
    for (scenario, processes, stop) in [("s1", 3, Stop::Precise), ("s2", 5, Stop::Cap)] {
        for (_, c) in measured.cells.iter().filter(|(_, c)| c.scenario == scenario) {
            assert_eq!((c.processes.len(), c.stop), (processes, Some(stop)), "{scenario}");
        }
    }
}

#[test]
fn a_fixed_design_measures_every_cell_in_every_process_and_records_no_stop() {
    let w = World::two_modes();
    let plan = w.plan();
    let mut m = Measurement::new(&plan, 3, 60.0);
    assert_eq!(run_all(&mut m).len(), 3);
    let measured = m.finish();
    assert!(measured.cells.iter().all(|(_, c)| c.processes.len() == 3 && c.stop.is_none()));
}

#[test]
fn an_interrupted_run_in_stages_stops_no_cell_at_the_cap() {
    let w = World::two_modes();
    let plan = w.plan();
    let rule = SettlesS1 { after: 9, seen: Default::default() };
    let mut m = Measurement::new(&plan, 3, 60.0).until(1, &rule);
    m.next_worker().unwrap();
    feed(&mut m, vec![ok("s1", "unlimited")]);
    assert_eq!(m.on_end(Ending::Interrupted, 0), Verdict::Interrupted);
    let measured = m.finish();
    assert!(measured.cells.iter().all(|(_, c)| c.stop.is_none()));
}
