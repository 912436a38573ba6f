//! The worker protocol: the job abibench writes to `worker.py`'s stdin, and the events it reads
//! back, one JSON object per line. Both sides are typed here, so a field renamed on one side is a
//! compile error or a test failure, not a silently ignored key.
//!
//! The events come on the worker's original stdout, which the timed code's prints do not reach
//! (the worker points its fd 1 at stderr), and each carries the job's random token: a line that
//! is not a well-formed event with that token is not an event (`parse`). That stops accidents,
//! not intent: code in the same process that goes looking for the descriptor and the token can
//! still forge an event.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::callgrind::Calls;
use crate::model::mode::Mode;
use crate::model::results::CellStatus;
use crate::model::sampling::Isolation;

/// Everything one worker process does.
#[derive(Debug, Serialize)]
pub struct Job<'a> {
    /// Random per job, echoed in every event.
    pub token: &'a str,
    /// The import name of the module under test; `builtin` for bench-ext, whose copies are loaded
    /// side by side under one name and checked by their `MODE`.
    pub module: &'a str,
    pub builtin: bool,
    pub isolation: Isolation,
    /// The worker's own source, with which it starts one copy of itself per build under
    /// `Isolation::Process`, and the command of this interpreter (`sys.executable` may need a
    /// launcher's environment).
    pub worker_source: Option<&'a str>,
    pub python: &'a [PathBuf],
    /// Each build under a label unique in the job (the mode's name, or A/B in an A/A test).
    pub builds: Vec<JobBuild<'a>>,
    pub scenarios: Vec<JobScenario<'a>>,
    /// (scenario, build label) cells already done by an earlier worker of this process.
    pub skip: Vec<(&'a str, &'a str)>,
    pub sampling: JobSampling<'a>,
    /// Measure the empty loop first (once per process: its cost is subtracted from every value).
    pub overhead: bool,
    /// The crate's benchmark tests, when the scenarios are those (`compare --pytest`).
    pub pytest: Option<JobPytest<'a>>,
}

/// The crate's tests as the worker runs them: in each build, with abibench's pytest plugin.
#[derive(Debug, Serialize)]
pub struct JobPytest<'a> {
    /// `pytest_plugin.py`'s text.
    pub plugin: &'a str,
    /// Directories put first on `sys.path`: where abibench installed pytest, if it did.
    pub path: Vec<&'a Path>,
    /// The crate's directory: pytest's rootdir and working directory.
    pub root: &'a Path,
    /// What pytest is given: files, directories, node ids.
    pub tests: &'a [String],
    /// Only run the tests in the first build and report each one's outcome (a `Test` event).
    pub collect: bool,
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
    /// Consecutive scenarios of one group are timed interleaved with each other.
    pub group: &'a str,
    pub function: Option<&'a str>,
    pub setup: &'a str,
    pub stmt: &'a str,
    pub n: u64,
    /// Timed in worker processes of its own, each with the module fresh (see `Scenario::isolate`).
    pub isolate: bool,
    /// A benchmark test's node id: the call it records in each build is what is timed.
    pub pytest: Option<&'a str>,
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
    /// Instructions, for a module that is not bench-ext: a bench-ext build whose region function
    /// (`callgrind_region`, the symbol callgrind toggles on) runs the timed loop.
    pub callgrind_marker: Option<&'a Path>,
}

/// What the worker reports. An `at` precedes every step, so a crash or hang is pinned to a cell.
#[derive(Debug, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    At {
        scenario: Option<String>,
        build: Option<String>,
        phase: String,
        /// How long this step should take, once loop sizing has timed the cell.
        #[serde(default)]
        expect_s: Option<f64>,
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
        /// Instruction counts: the file names of the first (L, 2L) pair's profile parts.
        #[serde(default)]
        parts: Vec<String>,
        /// What the runner read from those parts (`driver`), never sent by the worker.
        #[serde(skip)]
        calls: Option<Calls>,
    },
    /// What a test came to, when collecting (`JobPytest::collect`).
    Test {
        node: String,
        status: String,
        reason: String,
    },
    Done,
}

/// One line of the event stream: an event and the token of the job it belongs to.
#[derive(Deserialize)]
struct Envelope {
    token: String,
    #[serde(flatten)]
    event: Event,
}

/// The event on `line`, if it is one of the job with `token`; anything else (a malformed or
/// foreign line, a wrong token) is `None`, to be counted and ignored.
pub fn parse(line: &str, token: &str) -> Option<Event> {
    serde_json::from_str::<Envelope>(line).ok().filter(|e| e.token == token).map(|e| e.event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_events_with_the_job_token_count() {
        let at = r#"{"ev": "at", "scenario": "s", "build": "unlimited", "phase": "value", "expect_s": 0.002, "token": "k1"}"#;
        assert!(matches!(parse(at, "k1"), Some(Event::At { expect_s: Some(e), .. }) if e == 0.002));
        assert!(matches!(parse(r#"{"ev": "done", "token": "k1"}"#, "k1"), Some(Event::Done)));
        for forged in [
            r#"{"ev": "done"}"#,
            r#"{"ev": "done", "token": "guess"}"#,
            r#"{"ev": "cell", "scenario": "s", "build": "b", "status": "ok", "token": "k1"}x"#,
            r#"{"ev": "cell", "scenario": "s", "build": "b", "status": "ok", "values": [NaN], "token": "k1"}"#,
            "x{\"ev\": \"done\", \"token\": \"k1\"}",
            "\u{fffd}",
        ] {
            assert!(parse(forged, "k1").is_none(), "{forged}");
        }
    }

    /// The job as worker.py's tests read it (`runner/tests/python/job.json`): a field added,
    /// renamed or retyped here fails this test until the file changes, and then the worker's
    /// parser, which refuses unknown and missing fields, fails its tests until it follows.
    #[test]
    fn jobs_serialize_as_the_workers_tests_read_them() {
        let python = [PathBuf::from("/opt/python3.12/bin/python3"), "-X".into(), "utf8".into()];
        let tests = ["tests/test_bench.py".to_string()];
        let job = Job {
            token: "0123456789abcdef",
            module: "bench_ext",
            builtin: true,
            isolation: Isolation::Process,
            worker_source: Some("# worker.py's text"),
            python: &python,
            builds: vec![
                JobBuild {
                    label: "unlimited",
                    mode: "unlimited".parse().unwrap(),
                    path: Path::new("/cache/unlimited/bench_ext.cpython-312-x86_64-linux-gnu.so"),
                },
                JobBuild {
                    label: "abi3-py38@L1",
                    mode: "abi3-py38".parse().unwrap(),
                    path: Path::new("/cache/abi3-py38/bench_ext.abi3.so"),
                },
            ],
            scenarios: vec![
                JobScenario {
                    name: "list_sum_get_item_fn",
                    group: "containers",
                    function: Some("list_sum_get_item_fn"),
                    setup: "x = list(range(n))",
                    stmt: "f(x)",
                    n: 1000,
                    isolate: false,
                    pytest: None,
                },
                JobScenario {
                    name: "mycrate_parse",
                    group: "mycrate",
                    function: None,
                    setup: "",
                    stmt: "pass",
                    n: 1,
                    isolate: true,
                    pytest: Some("tests/test_bench.py::test_parse[small]"),
                },
            ],
            skip: vec![("list_sum_get_item_fn", "unlimited")],
            sampling: JobSampling {
                min_time: 0.0025,
                values: 20,
                warmups: 1,
                seed: 42,
                target_instructions: 0,
                callgrind_out: None,
                callgrind_marker: None,
            },
            overhead: true,
            pytest: Some(JobPytest {
                plugin: "# pytest_plugin.py's text",
                path: vec![Path::new("/cache/pytest/cpython-312")],
                root: Path::new("/home/me/mycrate"),
                tests: &tests,
                collect: false,
            }),
        };
        let expected: serde_json::Value = serde_json::from_str(include_str!("../../tests/python/job.json")).unwrap();
        assert_eq!(serde_json::to_value(&job).unwrap(), expected);
    }
}
