//! The matrix file (`matrix-<run id>.json`, written by `abibench matrix`): every build on every
//! interpreter, each step's outcome.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::model::build::{Audit, BuildRecord};
use crate::model::host::{Host, SourceInfo};
use crate::model::interpreter::Interpreter;
use crate::model::io::read_json;
use crate::model::mode::Mode;
use crate::model::subject::Subject;

pub const SCHEMA: &str = "abibench-matrix";
/// Bump on any change a reader of an older file could misread.
pub const SCHEMA_VERSION: u32 = 1;
/// Matrix files are `matrix-<run id>.json`, beside the results files.
pub const MATRIX_PREFIX: &str = "matrix-";

/// The matrix file: self-describing like the results file, so a report can be made from it later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Matrix {
    pub schema: String,
    pub schema_version: u32,
    pub tool: String,
    pub run: MatrixRun,
    pub host: Host,
    pub source: SourceInfo,
    /// Where the Stable ABI symbol list used by the audits comes from.
    pub stable_abi: String,
    /// The columns, in discovery order (by version).
    pub interpreters: Vec<Interpreter>,
    /// The rows: by mode, unlimited builds in the order of their interpreters.
    pub builds: Vec<BuildRecord>,
    /// Row by row, each row in column order.
    pub cells: Vec<MatrixCell>,
    /// The user's crate whose builds these are (`matrix --crate`); absent: abibench's bench-ext.
    #[serde(default, skip_serializing_if = "Subject::is_bench_ext")]
    pub subject: Subject,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixRun {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub argv: Vec<String>,
    /// Each cell's children were killed after this long.
    pub timeout_s: f64,
    pub build_seconds: f64,
    pub check_seconds: f64,
}

/// One build on one interpreter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixCell {
    pub mode: Mode,
    pub abi_tag: String,
    pub interpreter: String,
    /// Whether an installer may put this build on this interpreter: the mode fits it and, for an
    /// unlimited build, the build is for the interpreter's own ABI.
    pub installable: bool,
    pub canonical: Canonical,
    pub forced: Step<Load>,
    pub link: Step<Link>,
    /// Unlimited builds only (information, not a verdict: they do not claim the stable ABI): the
    /// imports checked against the Stable ABI as of this interpreter's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_stable_abi: Option<Audit>,
}

/// Step a: the artifact under its canonical name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Canonical {
    /// The name a wheel installs it under, e.g. `bench_ext.abi3.so`.
    pub file_name: String,
    /// Whether the import system found it; `None` if the check never answered (no build, or the
    /// child died first).
    pub found: Option<bool>,
}

/// How a step that runs in a child ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Step<T> {
    /// The child reported its result and exited normally.
    Done { result: T },
    /// Killed by a signal: a crash (or a crash at exit, after reporting: then `stderr` says so).
    Crashed { signal: i32, signal_name: String, stderr: String },
    /// Exited without a usable report, e.g. an error before the check could run.
    Exited { code: Option<i32>, stderr: String },
    /// Still running after the timeout; killed.
    Timeout { seconds: f64 },
    /// Not attempted, and why (no build, no libpython, could not start the child).
    NotRun { reason: String },
}

/// Step b's result when the child got to report one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Load {
    /// Imported, `call_no_args()` returned, `MODE` is the build's mode.
    Ok,
    /// The import or the smoke call raised: the exception's type (ImportError, SystemError,
    /// WrongBuild, ...) and text.
    Raised { exception: String, message: String },
}

/// Step c's result: what the dynamic linker makes of the build next to this libpython.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub libpython: PathBuf,
    /// Imported `Py*`/`_Py*` symbols looked up in libpython.
    pub checked: usize,
    /// Every imported Python symbol libpython does not define.
    pub missing: Vec<String>,
    /// `dlopen(build, RTLD_NOW)`'s error, if it failed (it names only the first unresolved symbol).
    pub dlopen_error: Option<String>,
}

impl<T> Step<T> {
    /// A short label: `done` for a reported result, else how the child ended.
    pub fn label_with(&self, done: impl FnOnce(&T) -> String) -> String {
        match self {
            Step::Done { result } => done(result),
            Step::Crashed { signal_name, .. } => signal_name.clone(),
            Step::Exited { code: Some(code), .. } => format!("exit {code}"),
            Step::Exited { code: None, .. } => "died".into(),
            Step::Timeout { .. } => "timeout".into(),
            Step::NotRun { .. } => "not run".into(),
        }
    }

    /// The text behind a failed step (stderr tail, reason), if there is one to show.
    pub fn failure_text(&self) -> Option<String> {
        match self {
            Step::Done { .. } => None,
            Step::Crashed { stderr, .. } | Step::Exited { stderr, .. } => Some(stderr.trim().to_string()),
            Step::Timeout { seconds } => Some(format!("no result after {seconds} s; killed")),
            Step::NotRun { reason } => Some(reason.clone()),
        }
    }
}

impl Step<Load> {
    /// `ok`, the exception type (`ImportError`), or how the child ended (`SIGSEGV`).
    pub fn label(&self) -> String {
        self.label_with(|r| match r {
            Load::Ok => "ok".into(),
            Load::Raised { exception, .. } => exception.clone(),
        })
    }
}

impl Step<Link> {
    /// `links`, `3 unresolved`, `dlopen failed` (for a reason other than a Python symbol), or how
    /// the child ended.
    pub fn label(&self) -> String {
        self.label_with(|l| match (&l.dlopen_error, l.missing.len()) {
            (_, n) if n > 0 => format!("{n} unresolved"),
            (Some(_), _) => "dlopen failed".into(),
            (None, _) => "links".into(),
        })
    }
}

impl MatrixCell {
    /// The import verdict: `ok` (found and loads), `ok (forced)` (loads, but only under another
    /// name), the forced load's failure if the file is found (`ImportError`: an installer's choice
    /// that breaks), or `not found; forced: …`.
    pub fn verdict(&self) -> String {
        let forced = self.forced.label();
        match (self.canonical.found, &self.forced) {
            (_, Step::NotRun { .. }) => "not run".into(),
            (Some(false), Step::Done { result: Load::Ok }) => "ok (forced)".into(),
            (Some(false), _) => format!("not found; forced: {forced}"),
            (Some(true), _) => forced,
            (None, _) => format!("forced: {forced}"),
        }
    }
}

impl Matrix {
    pub fn read(path: &Path) -> Result<Matrix> {
        read_json(path, SCHEMA, SCHEMA_VERSION)
    }

    pub fn cell(&self, build: &BuildRecord, interpreter: &str) -> Option<&MatrixCell> {
        self.cells.iter().find(|c| c.mode == build.mode && c.abi_tag == build.abi_tag && c.interpreter == interpreter)
    }
}

/// An abi3-py38 cell on 3.12.1 for tests: `found` by the import system, then `forced`.
#[cfg(test)]
pub(crate) fn sample_cell(found: Option<bool>, forced: Step<Load>) -> MatrixCell {
    MatrixCell {
        mode: Mode::Abi3(crate::model::version::PyVersion(3, 8)),
        abi_tag: "abi3-py38".into(),
        interpreter: "3.12.1".into(),
        installable: true,
        canonical: Canonical { file_name: "bench_ext.abi3.so".into(), found },
        forced,
        link: Step::NotRun { reason: "test".into() },
        outside_stable_abi: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let ok = || Step::Done { result: Load::Ok };
        let raised = || Step::Done {
            result: Load::Raised { exception: "ImportError".into(), message: "undefined symbol: X".into() },
        };
        let crashed = || Step::Crashed { signal: 11, signal_name: "SIGSEGV".into(), stderr: String::new() };
        assert_eq!(sample_cell(Some(true), ok()).verdict(), "ok");
        assert_eq!(sample_cell(Some(false), ok()).verdict(), "ok (forced)");
        assert_eq!(sample_cell(Some(true), raised()).verdict(), "ImportError");
        assert_eq!(sample_cell(Some(false), raised()).verdict(), "not found; forced: ImportError");
        assert_eq!(sample_cell(Some(false), crashed()).verdict(), "not found; forced: SIGSEGV");
        assert_eq!(sample_cell(None, crashed()).verdict(), "forced: SIGSEGV");
        assert_eq!(sample_cell(None, Step::NotRun { reason: "the build failed".into() }).verdict(), "not run");
    }

    #[test]
    fn link_labels() {
        let link = |missing: &[&str], dlopen_error: Option<&str>| Step::Done {
            result: Link {
                libpython: "/lib/libpython3.8.so.1.0".into(),
                checked: 50,
                missing: missing.iter().map(|s| s.to_string()).collect(),
                dlopen_error: dlopen_error.map(String::from),
            },
        };
        assert_eq!(link(&[], None).label(), "links");
        assert_eq!(link(&["Py_A", "Py_B"], Some("undefined symbol: Py_A")).label(), "2 unresolved");
        assert_eq!(link(&[], Some("wrong ELF class")).label(), "dlopen failed");
        assert_eq!(Step::<Link>::Timeout { seconds: 1.0 }.label(), "timeout");
    }

    #[test]
    fn cells_serialize_with_tagged_steps() {
        let mut c = sample_cell(Some(false), Step::Done { result: Load::Ok });
        c.link = Step::Crashed { signal: 11, signal_name: "SIGSEGV".into(), stderr: "tail".into() };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["mode"], "abi3-py38");
        assert_eq!(v["forced"], serde_json::json!({"status": "done", "result": {"outcome": "ok"}}));
        assert_eq!(v["link"]["status"], "crashed");
        assert_eq!(v["link"]["signal_name"], "SIGSEGV");
        assert!(v.get("outside_stable_abi").is_none());
        let back: MatrixCell = serde_json::from_value(v).unwrap();
        assert_eq!(back.forced, c.forced);
        assert_eq!(back.link, c.link);
    }
}
