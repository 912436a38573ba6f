//! The worker protocol: the job abibench writes to `worker.py`'s stdin, and the events it reads
//! back, one JSON object per line. Both sides are typed here, so a field renamed on one side is a
//! compile error or a test failure, not a silently ignored key.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::mode::Mode;
use crate::model::results::CellStatus;

/// Everything one worker process does.
#[derive(Debug, Serialize)]
pub struct Job<'a> {
    /// Each build under a label unique in the job (the mode's name, or A/B in an A/A test).
    pub builds: Vec<JobBuild<'a>>,
    pub scenarios: Vec<JobScenario<'a>>,
    /// (scenario, build label) cells already done by an earlier worker of this process.
    pub skip: Vec<(&'a str, &'a str)>,
    pub sampling: JobSampling<'a>,
    /// Measure the empty loop first (once per process: its cost is subtracted from every value).
    pub overhead: bool,
}

#[derive(Debug, Serialize)]
pub struct JobBuild<'a> {
    pub label: &'a str,
    /// Checked against the module's `MODE`, so a wrong file is refused, not timed.
    pub mode: Mode,
    pub path: &'a Path,
}

#[derive(Debug, Serialize)]
pub struct JobScenario<'a> {
    pub name: &'a str,
    pub function: &'a str,
    pub setup: &'a str,
    pub stmt: &'a str,
    pub n: u64,
}

#[derive(Debug, Serialize)]
pub struct JobSampling<'a> {
    pub min_time: f64,
    pub values: usize,
    pub warmups: usize,
    pub seed: u64,
    pub target_instructions: u64,
    /// Instructions only: where callgrind writes its profile parts, which the worker reads back.
    pub callgrind_out: Option<&'a Path>,
}

/// What the worker reports. An `at` precedes every step, so a crash or hang is pinned to a cell.
#[derive(Debug, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
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
