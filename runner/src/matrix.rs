//! The `matrix` stage: which build can each interpreter load, and what happens when the wrong one
//! gets there. For every build × every interpreter:
//!
//! a. **canonical import**: does the interpreter's import system find the artifact under the file
//!    name an installer gives it (`bench_ext.abi3.so` is not found by 3.13t, whose
//!    `EXTENSION_SUFFIXES` lack `.abi3.so`)?
//! b. **forced load**: the same file under a name the interpreter accepts (its `EXT_SUFFIX`),
//!    imported and smoke-called (`call_no_args()`, `MODE` checked) in a child interpreter;
//! c. **link check**: in a child of this very binary (`abibench link-check`), the interpreter's
//!    libpython is loaded with `RTLD_GLOBAL`, then the build with `RTLD_NOW`; every imported
//!    `Py*`/`_Py*` symbol is also looked up in libpython, because dlopen names only the first one
//!    missing;
//! d. **stable-ABI audit**: a stable-ABI build's imports against the Stable ABI of its floor (done
//!    once per build by `builds`); an unlimited build's imports against the Stable ABI of each
//!    interpreter's version, as information only.
//!
//! Steps a+b and c each run in their own child with a timeout: a crash is recorded against its
//! cell with its signal, and the matrix goes on.

use std::ffi::c_void;
use std::io::{IsTerminal, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Audit, StableAbi};
use crate::builds::{self, BuildRecord};
use crate::cli::MatrixArgs;
use crate::export::matrix_table;
use crate::interpreters::{self, Interpreter};
use crate::measure::{signal_name, tail};
use crate::modes::Mode;
use crate::progress::Progress;
use crate::provision;
use crate::results::{self, Host, SourceInfo};

pub const SCHEMA: &str = "abibench-matrix";
/// Bump on any change a reader of an older file could misread.
pub const SCHEMA_VERSION: u32 = 1;

const LOAD_CHECK: &str = include_str!("load_check.py");

/// How many trailing lines of a failed child's stderr a cell keeps.
const STDERR_TAIL: usize = 20;

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
    fn label_with(&self, done: impl FnOnce(&T) -> String) -> String {
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
        results::read_json(path, SCHEMA, SCHEMA_VERSION)
    }

    pub fn cell(&self, build: &BuildRecord, interpreter: &str) -> Option<&MatrixCell> {
        self.cells.iter().find(|c| c.mode == build.mode && c.abi_tag == build.abi_tag && c.interpreter == interpreter)
    }
}

/// Where a matrix run is saved: beside compare's results, told apart by its prefix.
pub fn matrix_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("matrix-{id}.json"))
}

/// A build prepared for checking: its canonical copy in a directory of its own, and its imports.
struct Row<'a> {
    build: &'a BuildRecord,
    file_name: String,
    /// A directory holding only the artifact under `file_name` (absent for a failed build).
    canonical_dir: Option<PathBuf>,
    /// Scratch space for this row's forced copies.
    dir: PathBuf,
    imports: Vec<String>,
}

impl<'a> Row<'a> {
    fn prepare(build: &'a BuildRecord, interpreters: &[Interpreter], dir: PathBuf) -> Result<Row<'a>> {
        let Some(artifact) = build.artifact() else {
            // Named as it would have been, so the cell still says what was meant.
            let suffix = interpreters
                .iter()
                .find(|i| build.interpreter.as_ref() == Some(&i.name))
                .map_or("", |i| i.ext_suffix.as_str());
            return Ok(Row {
                build,
                file_name: build.mode.artifact_name(suffix),
                canonical_dir: None,
                dir,
                imports: Vec::new(),
            });
        };
        let file_name = artifact.file_name().context("artifact has a file name")?.to_string_lossy().into_owned();
        let canonical_dir = dir.join("canonical");
        place(artifact, &canonical_dir.join(&file_name))?;
        let imports = audit::imported_python_symbols(artifact)?;
        Ok(Row { build, file_name, canonical_dir: Some(canonical_dir), dir, imports })
    }
}

/// Puts `artifact` at `at`, as an installer would. A symlink: the import system and the loader go
/// by the link's name, and ~80 copies of a 5 MB build would be waste.
fn place(artifact: &Path, at: &Path) -> Result<()> {
    let dir = at.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::os::unix::fs::symlink(artifact, at)
        .with_context(|| format!("cannot link {} to {}", at.display(), artifact.display()))
}

/// Runs the matrix: builds (cached), every cell's checks, the table, and the JSON file.
/// Must run in the `abibench` binary: the link check re-executes it.
pub fn run(args: &MatrixArgs) -> Result<i32> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!("--timeout {}: must be a positive number of seconds", args.timeout);
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let started_at = results::now_rfc3339();
    let interpreters = interpreters::discover(&args.targets.python)?;
    let modes = args.targets.modes();
    let workspace = builds::workspace_root();
    eprintln!(
        "abibench matrix: {} interpreter(s) [{}], {} mode(s)",
        interpreters.len(),
        interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
        modes.len()
    );

    // Every mode is built, fitting an interpreter or not: loading where it does not fit is the point.
    let build_start = Instant::now();
    let mut builds =
        builds::build_all_reporting(&builds::requests(&modes, &interpreters), &workspace, &builds::cache_root())?;
    // Unlimited rows in interpreter order: by tag text, cpython-310 would come before cpython-38.
    builds
        .sort_by_key(|b| (b.mode, b.interpreter.as_ref().and_then(|n| interpreters.iter().position(|i| &i.name == n))));
    let build_seconds = build_start.elapsed().as_secs_f64();

    let check_start = Instant::now();
    let exe = std::env::current_exe().context("cannot locate the abibench executable for the link check")?;
    let scratch =
        tempfile::Builder::new().prefix("abibench-matrix-").tempdir().context("cannot create a scratch directory")?;
    let rows: Vec<Row> = builds
        .iter()
        .enumerate()
        .map(|(n, b)| Row::prepare(b, &interpreters, scratch.path().join(format!("build-{n}"))))
        .collect::<Result<_>>()?;
    let jobs: Vec<(&Row, usize, &Interpreter)> =
        rows.iter().flat_map(|r| interpreters.iter().enumerate().map(move |(k, i)| (r, k, i))).collect();
    let progress = Progress::new(jobs.len() as u64, "checking");
    // Two children at a time at most (rayon's pool is one thread per core): short, and never timed.
    let cells: Vec<MatrixCell> = jobs
        .par_iter()
        .map(|&(row, k, interp)| {
            progress.set_message(format!("{} on {}", row.build.label(), interp.name));
            let installable = builds::build_for(&builds, row.build.mode, interp)
                .is_some_and(|b| b.mode == row.build.mode && b.abi_tag == row.build.abi_tag);
            let cell = check_cell(row, k, interp, installable, &exe, timeout);
            progress.inc();
            cell
        })
        .collect();
    progress.finish();

    let matrix = Matrix {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        tool: format!("abibench {}", env!("CARGO_PKG_VERSION")),
        run: MatrixRun {
            id: results::run_id(&started_at),
            started_at,
            finished_at: results::now_rfc3339(),
            argv: std::env::args().collect(),
            timeout_s: args.timeout,
            build_seconds,
            check_seconds: check_start.elapsed().as_secs_f64(),
        },
        host: Host::current(),
        source: {
            let (git_revision, git_dirty) = results::git_state(&workspace);
            SourceInfo { git_revision, git_dirty, ext_source_hash: builds::source_hash(&workspace)? }
        },
        stable_abi: StableAbi::embedded().source().to_string(),
        interpreters,
        builds,
        cells,
    };
    let path = matrix_path(&args.out, &matrix.run.id);
    results::write_json_atomic(&matrix, &path)?;
    print!("{}", matrix_table::render(&matrix, args.style.ascii || !std::io::stdout().is_terminal()));
    eprintln!(
        "matrix: builds {:.1} s, checks {:.1} s; saved {}",
        matrix.run.build_seconds,
        matrix.run.check_seconds,
        path.display()
    );
    Ok(0)
}

/// All four steps for one cell. Never fails: whatever goes wrong is the cell's finding.
fn check_cell(
    row: &Row,
    column: usize,
    interp: &Interpreter,
    installable: bool,
    exe: &Path,
    timeout: Duration,
) -> MatrixCell {
    let b = row.build;
    let mut cell = MatrixCell {
        mode: b.mode,
        abi_tag: b.abi_tag.clone(),
        interpreter: interp.name.clone(),
        installable,
        canonical: Canonical { file_name: row.file_name.clone(), found: None },
        forced: Step::NotRun { reason: "the build failed".into() },
        link: Step::NotRun { reason: "the build failed".into() },
        outside_stable_abi: None,
    };
    let (Some(artifact), Some(canonical_dir)) = (b.artifact(), &row.canonical_dir) else {
        return cell;
    };
    if b.mode == Mode::Unlimited {
        cell.outside_stable_abi = Some(audit::audit_symbols(&row.imports, (interp.version.0, interp.version.1)));
    }
    let forced_dir = row.dir.join(format!("forced-{column}"));
    match place(artifact, &forced_dir.join(format!("bench_ext{}", interp.ext_suffix))) {
        Ok(()) => (cell.canonical.found, cell.forced) = load_check(interp, canonical_dir, &forced_dir, b.mode, timeout),
        Err(e) => cell.forced = Step::NotRun { reason: format!("{e:#}") },
    }
    cell.link = match interp.libpython() {
        Ok(libpython) => link_check(interp, exe, &libpython, artifact, timeout),
        Err(reason) => Step::NotRun { reason },
    };
    cell
}

#[derive(Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum LoadEvent {
    Canonical { found: bool },
    Forced { exception: Option<String>, message: Option<String> },
}

/// Steps a and b in one child interpreter (see `load_check.py`).
fn load_check(
    interp: &Interpreter,
    canonical_dir: &Path,
    forced_dir: &Path,
    mode: Mode,
    timeout: Duration,
) -> (Option<bool>, Step<Load>) {
    let mut cmd = interp.command();
    cmd.args(["-I", "-B", "-c", LOAD_CHECK]).arg(canonical_dir).arg(forced_dir).arg(mode.name());
    let end = match run_child(cmd, timeout) {
        Ok(end) => end,
        Err(e) => return (None, Step::NotRun { reason: format!("{e:#}") }),
    };
    let (mut found, mut forced) = (None, None);
    for line in end.stdout.lines() {
        // Anything else on stdout is the extension's own printing, not an event.
        match serde_json::from_str::<LoadEvent>(line) {
            Ok(LoadEvent::Canonical { found: f }) => found = Some(f),
            Ok(LoadEvent::Forced { exception: None, .. }) => forced = Some(Load::Ok),
            Ok(LoadEvent::Forced { exception: Some(exception), message }) => {
                forced = Some(Load::Raised { exception, message: message.unwrap_or_default() })
            }
            Err(_) => {}
        }
    }
    (found, end.into_step(forced))
}

/// Step c: `abibench link-check` in a child, so a crash in dlopen or an initialiser stays there.
fn link_check(interp: &Interpreter, exe: &Path, libpython: &Path, artifact: &Path, timeout: Duration) -> Step<Link> {
    // A libpython from an unpacked root needs that root's libc, so the child starts as the
    // interpreter does: through the root's own loader.
    let mut cmd = match interp.sysroot().map(provision::root_loader) {
        None => Command::new(exe),
        Some(Ok(loader)) => loader.command(exe),
        Some(Err(e)) => return Step::NotRun { reason: format!("{e:#}") },
    };
    cmd.arg("link-check").arg("--libpython").arg(libpython).arg(artifact);
    match run_child(cmd, timeout) {
        Ok(end) => {
            let report = serde_json::from_str::<Link>(end.stdout.trim()).ok();
            end.into_step(report)
        }
        Err(e) => Step::NotRun { reason: format!("{e:#}") },
    }
}

/// The `link-check` child's work: prints one `Link` as JSON. Loading runs the libraries'
/// initialisers (arbitrary foreign code), which is why this is a process of its own.
pub fn link_check_main(libpython: &Path, build: &Path) -> Result<()> {
    let imports = audit::imported_python_symbols(build)?;
    // SAFETY: dlopen runs initialisers we cannot vouch for; a crash ends only this child process.
    let python = unsafe { Library::open(Some(libpython), RTLD_NOW | RTLD_GLOBAL) }
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot load libpython {}", libpython.display()))?;
    // SAFETY: as above.
    let dlopen_error =
        unsafe { Library::open(Some(build), RTLD_NOW) }.err().map(|e| format!("{:#}", anyhow::Error::from(e)));
    // dlopen stops at the first unresolved symbol; looking each import up in libpython (and what it
    // links) names them all.
    let missing = imports
        .iter()
        // SAFETY: only the address is asked for; nothing is called or read through it.
        .filter(|name| unsafe { python.get::<*mut c_void>(name.as_str()) }.is_err())
        .cloned()
        .collect();
    let link = Link { libpython: libpython.to_path_buf(), checked: imports.len(), missing, dlopen_error };
    println!("{}", serde_json::to_string(&link)?);
    Ok(())
}

/// A finished (or killed) child: its exit status (`None`: killed at the timeout) and output.
struct ChildEnd {
    status: Option<ExitStatus>,
    timeout: Duration,
    stdout: String,
    stderr: String,
}

impl ChildEnd {
    /// The step's outcome: the child's report if it ended normally with one, else how it ended.
    fn into_step<T>(self, report: Option<T>) -> Step<T> {
        let stderr = tail(&self.stderr, STDERR_TAIL);
        match (self.status, report) {
            (None, _) => Step::Timeout { seconds: self.timeout.as_secs_f64() },
            (Some(status), report) if status.signal().is_some() => {
                let signal = status.signal().expect("checked");
                let when =
                    if report.is_some() { "the check had reported; the crash came after, at exit\n" } else { "" };
                Step::Crashed { signal, signal_name: signal_name(signal), stderr: format!("{when}{stderr}") }
            }
            (Some(status), Some(result)) if status.success() => Step::Done { result },
            (Some(status), _) => Step::Exited { code: status.code(), stderr },
        }
    }
}

/// Runs `cmd` to its end or until `timeout`, collecting its output.
fn run_child(mut cmd: Command, timeout: Duration) -> Result<ChildEnd> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", cmd.get_program().to_string_lossy()))?;
    // Output is gathered as it comes, not at end of file: a grandchild that outlives the child
    // keeps the pipes open, and must not hold the matrix up.
    let (eof_tx, eof_rx) = mpsc::channel::<()>();
    let collect = |mut pipe: Box<dyn Read + Send>| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (sink, eof) = (buf.clone(), eof_tx.clone());
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock().expect("no panics while held").extend_from_slice(&chunk[..n]);
            }
            let _ = eof.send(());
        });
        buf
    };
    let stdout = collect(Box::new(child.stdout.take().expect("piped")));
    let stderr = collect(Box::new(child.stderr.take().expect("piped")));
    drop(eof_tx);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Both pipes normally reach end of file as the child exits; give them a moment, no more.
    let grace = Instant::now() + Duration::from_secs(1);
    for _ in 0..2 {
        if eof_rx.recv_timeout(grace.saturating_duration_since(Instant::now())).is_err() {
            break;
        }
    }
    let text = |buf: &Mutex<Vec<u8>>| String::from_utf8_lossy(&buf.lock().expect("no panics while held")).into_owned();
    Ok(ChildEnd { status, timeout, stdout: text(&stdout), stderr: text(&stderr) })
}

/// An abi3-py38 cell on 3.12.1 for tests: `found` by the import system, then `forced`.
#[cfg(test)]
pub(crate) fn sample_cell(found: Option<bool>, forced: Step<Load>) -> MatrixCell {
    MatrixCell {
        mode: Mode::Abi3(crate::interpreters::PyVersion(3, 8)),
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

    fn sh(script: &str, timeout_s: f64) -> ChildEnd {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        run_child(cmd, Duration::from_secs_f64(timeout_s)).unwrap()
    }

    #[test]
    fn a_child_ends_as_reported_crashed_exited_or_timed_out() {
        let ok = sh("echo report; echo noise >&2", 10.0);
        assert_eq!(ok.stdout, "report\n");
        assert_eq!(ok.into_step(Some(1)), Step::Done { result: 1 });

        let segv = sh("echo oops >&2; kill -SEGV $$", 10.0).into_step::<u8>(None);
        assert!(
            matches!(&segv, Step::Crashed { signal: 11, signal_name, stderr } if signal_name == "SIGSEGV" && stderr == "oops"),
            "{segv:?}"
        );
        assert_eq!(segv.label_with(|_| unreachable!()), "SIGSEGV");

        // A crash after the report still counts as a crash, and says when it came.
        let late = sh("echo report; kill -ABRT $$", 10.0).into_step(Some(1));
        assert!(
            matches!(&late, Step::Crashed { signal_name, stderr, .. }
            if signal_name == "SIGABRT" && stderr.contains("after")),
            "{late:?}"
        );

        // A clean exit without a report, or a report with a failing exit, is not a result.
        assert!(matches!(sh("exit 0", 10.0).into_step::<u8>(None), Step::Exited { code: Some(0), .. }));
        assert!(
            matches!(sh("echo x >&2; exit 3", 10.0).into_step(Some(1)), Step::Exited { code: Some(3), stderr } if stderr == "x")
        );

        let start = Instant::now();
        let hung = sh("sleep 30", 0.3).into_step::<u8>(None);
        assert_eq!(hung, Step::Timeout { seconds: 0.3 });
        assert!(start.elapsed() < Duration::from_secs(10), "the hung child was not killed in time");
        assert!(run_child(Command::new("/no/such/program"), Duration::from_secs(1))
            .err()
            .is_some_and(|e| e.to_string().contains("/no/such/program")));
    }

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
