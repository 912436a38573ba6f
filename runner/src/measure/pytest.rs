//! A crate's benchmark tests (`compare --pytest`): collecting them (which tests hand a call to
//! `benchmark`, in one build of each interpreter), and what a worker needs to run them in every
//! build (`pytest_plugin.py`, which the worker loads from the job).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Result};

use crate::measure::protocol::{Event, Job, JobBuild, JobPytest, JobSampling};
use crate::measure::worker::{self, Ending};
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::pytest::{PytestEnv, PytestRecord, TestOutcome};
use crate::model::sampling::{Isolation, Sampling};

/// abibench's pytest plugin: the `benchmark` fixture and marker, recording what tests time.
pub const PLUGIN: &str = include_str!("pytest_plugin.py");

/// The crate's tests as one interpreter runs them.
#[derive(Debug, Clone, Copy)]
pub struct PlanPytest<'a> {
    pub record: &'a PytestRecord,
    pub env: &'a PytestEnv,
}

impl<'a> PlanPytest<'a> {
    /// `interp`'s part of `record`, if it has an environment there.
    pub fn of(record: &'a PytestRecord, interp: &Interpreter) -> Option<PlanPytest<'a>> {
        record.environment(&interp.name).map(|env| PlanPytest { record, env })
    }

    pub fn job(&self, collect: bool) -> JobPytest<'a> {
        JobPytest {
            plugin: PLUGIN,
            path: self.env.installed.iter().map(|p| p.as_path()).collect(),
            root: &self.record.root,
            tests: &self.record.tests,
            collect,
        }
    }
}

/// Each test's outcome in `interp` with the build at `path` (of `mode`) as the module `module`:
/// its tests run once with abibench's plugin, by a worker that times nothing.
pub fn collect(
    interp: &Interpreter,
    (module, mode, path): (&str, Mode, &Path),
    pytest: PlanPytest,
    sampling: &Sampling,
) -> Result<Vec<TestOutcome>> {
    let token = format!("{:016x}", fastrand::u64(..));
    let job = Job {
        token: &token,
        module,
        builtin: false,
        isolation: Isolation::InProcess,
        worker_source: None,
        python: &interp.argv,
        builds: vec![JobBuild { label: "collect", mode, path }],
        scenarios: Vec::new(),
        skip: Vec::new(),
        sampling: JobSampling {
            min_time: sampling.min_time,
            values: 0,
            warmups: 0,
            seed: 0,
            target_instructions: 0,
            callgrind_out: None,
            callgrind_marker: None,
        },
        overhead: false,
        pytest: Some(pytest.job(true)),
    };
    let (mut outcomes, mut load_error) = (Vec::new(), None);
    let stop = AtomicBool::new(false);
    let (ending, _) = worker::run(interp, sampling, &job, &stop, |ev| match ev {
        Event::Test { node, status, reason } => outcomes.push(TestOutcome { node, status, reason }),
        Event::LoadFailed { error, .. } => load_error = Some(error),
        _ => {}
    })?;
    let what = format!("running the tests in {} with {}", interp.name, path.display());
    match ending {
        Ending::Done if load_error.is_some() => {
            bail!("{what}: the build did not load: {}", load_error.unwrap_or_default())
        }
        Ending::Done => Ok(outcomes),
        Ending::Died { status, stderr } => bail!("{what}: the worker died ({status}):\n{stderr}"),
        Ending::Hung { waited, stderr, .. } => {
            bail!("{what}: no progress for {:.0} s (--timeout):\n{stderr}", waited.as_secs_f64())
        }
        Ending::Interrupted => bail!("{what}: interrupted"),
    }
}
