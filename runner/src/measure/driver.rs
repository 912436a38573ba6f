//! Running scenarios: one worker child per (interpreter, process index) loads every build that
//! interpreter can take and times them interleaved (see `worker.py`). This starts the workers,
//! feeds them their jobs and hands what they do to `Measurement`, which decides what it means.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::Result;

use crate::measure::measurement::{Measured, Measurement, Settle, Verdict};
use crate::measure::plan::{Plan, PlannedBuild};
use crate::measure::protocol::{Event, Job, JobBuild, JobSampling, JobScenario};
use crate::measure::pytest::PlanPytest;
use crate::measure::worker;
use crate::model::build::{builds_for, BuildRecord};
use crate::model::callgrind::Calls;
use crate::model::results::{Cell, CellStatus};
use crate::model::sampling::{Isolation, Measure, Sampling};
use crate::model::scenario::Scenario;
use crate::setup::builds::check_unchanged;
use crate::setup::recipe::Recipe;
use crate::setup::selection::Selection;

/// Each selected interpreter's plan: every build of its modes that built, and the cells of the
/// builds that failed, recorded as such (there is nothing to load for them); `marker` marks
/// callgrind's region when counting a crate's module.
pub fn plans<'a>(
    sel: &'a Selection,
    builds: &[BuildRecord],
    (recipe, marker): (&'a Recipe, Option<&'a Path>),
) -> Vec<(Plan<'a>, Vec<Cell>)> {
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
                marker,
                pytest: sel.pytest.as_ref().and_then(|r| PlanPytest::of(r, interp)),
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
                        let verified = (b.artifact()?.to_path_buf(), b.sha256().map(String::from));
                        Some(PlannedBuild::new(mode.name(), mode, b.layout, verified))
                    })),
                }
            }
            (plan, unbuilt)
        })
        .collect()
}

/// The calls `build` made into the interpreter, from the profile parts the worker names (file
/// names in the scratch directory `dir`, nothing else is read); `None` if there are none to read.
fn read_calls(dir: &Path, parts: &[String], loops: u64, build: Option<&PlannedBuild>) -> Option<Calls> {
    let [short, long] = parts else { return None };
    let part = |name: &str| {
        let plain = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
        plain.then(|| std::fs::read_to_string(dir.join(name)).ok()).flatten()
    };
    // Callgrind names an object by the path it was mapped from, links resolved.
    let caller = std::fs::canonicalize(&build?.path).ok()?;
    Some(Calls::of_pair(loops, &part(short)?, &part(long)?, caller.to_str()?))
}

/// Runs the plan: `processes` workers in turn, each resumed after a crash until every cell has
/// an outcome (`Measurement` decides; this starts the workers and hands it what they do).
/// With `sampling.until`, a scenario `settle` finds settled is left out of later processes.
/// `on_cell` sees each finished (scenario, build label) of each process, for progress.
pub fn measure(
    plan: &Plan,
    (sampling, settle): (&Sampling, &dyn Settle),
    seed: u64,
    stop: &AtomicBool,
    on_cell: &dyn Fn(&str, &str),
) -> Result<Measured> {
    let mut m = Measurement::new(plan, sampling.processes, sampling.timeout_s);
    if let Some(u) = &sampling.until {
        m = m.until(u.min_processes, settle);
    }
    // Each build is still the file that was built and verified, or it is not timed as that build.
    for b in &plan.builds {
        if let Some(Err(why)) = b.sha256.as_deref().filter(|s| !s.is_empty()).map(|s| check_unchanged(&b.path, s)) {
            m.refuse(&b.label, &why);
        }
    }
    while let Some(next) = m.next_worker() {
        // Callgrind's profile parts go to a scratch directory the worker reads back.
        let callgrind_out = (sampling.measure == Measure::Instructions).then(tempfile::tempdir).transpose()?;
        let token = format!("{:016x}", fastrand::u64(..));
        let job = Job {
            token: &token,
            module: plan.module,
            builtin: plan.builtin,
            isolation: sampling.isolation,
            // The worker starts copies of itself for each build, or for a scenario that isolates.
            worker_source: (sampling.isolation == Isolation::Process || next.scenarios.iter().any(|s| s.isolate))
                .then_some(worker::SOURCE),
            python: &plan.interpreter.argv,
            builds: next.builds.iter().map(|b| JobBuild { label: &b.label, mode: b.mode, path: &b.path }).collect(),
            scenarios: next
                .scenarios
                .iter()
                .map(|s| JobScenario {
                    name: &s.name,
                    group: &s.group,
                    function: s.function.as_deref(),
                    setup: &s.setup,
                    stmt: &s.stmt,
                    n: s.n,
                    isolate: s.isolate,
                    pytest: s.pytest.as_deref(),
                })
                .collect(),
            skip: next.skip.iter().map(|t| (t.scenario.as_str(), t.build.as_str())).collect(),
            sampling: JobSampling {
                min_time: sampling.min_time,
                values: sampling.values,
                warmups: sampling.warmups,
                seed: seed.wrapping_add(next.seed_offset),
                target_instructions: sampling.target_instructions,
                callgrind_out: callgrind_out.as_ref().map(|d| d.path()),
                callgrind_marker: plan.marker,
            },
            overhead: next.overhead,
            pytest: plan.pytest.as_ref().map(|p| p.job(false)),
        };
        let (ending, ignored) = worker::run(plan.interpreter, sampling, &job, stop, |mut ev| {
            if let (Event::Cell { build, loops: Some(loops), parts, calls, .. }, Some(dir)) = (&mut ev, &callgrind_out)
            {
                *calls = read_calls(dir.path(), parts, *loops, plan.builds.iter().find(|b| &b.label == build));
            }
            if let Some(t) = m.on_event(ev) {
                on_cell(&t.scenario, &t.build);
            }
        })?;
        if let Verdict::Blamed(t) = m.on_end(ending, ignored) {
            on_cell(&t.scenario, &t.build);
        }
    }
    Ok(m.finish())
}
