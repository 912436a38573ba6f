//! The `matrix` stage: which build can each interpreter load, and what happens when the wrong one
//! gets there. For every build × every interpreter:
//!
//! a. **canonical import**: does the interpreter's import system find the artifact under the file
//!    name an installer gives it (`bench_ext.abi3.so` is not found by 3.13t, whose
//!    `EXTENSION_SUFFIXES` lack `.abi3.so`)?
//! b. **forced load**: the same file under a name the interpreter accepts (its `EXT_SUFFIX`),
//!    imported in a child interpreter, beside its package's Python if it has one, and for
//!    bench-ext smoke-called (`call_no_args()`, `MODE` checked);
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
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
use rayon::prelude::*;
use serde::Deserialize;

use crate::model::build::{build_for, BuildRecord};
use crate::model::child::{self, signal_name, tail, Finished, STDERR_TAIL};
use crate::model::interpreter::Interpreter;
use crate::model::matrix::{Canonical, Link, Load, MatrixCell, Step};
use crate::model::mode::Mode;
use crate::setup::audit;
use crate::setup::provision;
use crate::setup::recipe::Recipe;

const LOAD_CHECK: &str = include_str!("load_check.py");

/// A build prepared for checking: where its module lies as built, and its imports.
struct Row<'a> {
    build: &'a BuildRecord,
    file_name: String,
    /// The directory holding the module under `file_name`, as an installer lays it out (absent
    /// for a failed build).
    canonical_dir: Option<PathBuf>,
    /// Scratch space for this row's forced copies.
    dir: PathBuf,
    imports: Vec<String>,
}

impl<'a> Row<'a> {
    fn prepare(build: &'a BuildRecord, interpreters: &[Interpreter], leaf: &str, dir: PathBuf) -> Result<Row<'a>> {
        let Some(artifact) = build.artifact() else {
            // Named as it would have been, so the cell still says what was meant.
            let suffix = interpreters
                .iter()
                .find(|i| build.interpreter.as_ref() == Some(&i.name))
                .map_or("", |i| i.ext_suffix.as_str());
            return Ok(Row {
                build,
                file_name: build.mode.artifact_name(leaf, suffix),
                canonical_dir: None,
                dir,
                imports: Vec::new(),
            });
        };
        let file_name = artifact.file_name().context("artifact has a file name")?.to_string_lossy().into_owned();
        let canonical_dir = artifact.parent().context("artifact has a directory")?.to_path_buf();
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

/// The build's whole tree (`root`: the module and its package's Python, if any) mirrored under
/// `to`, with the module renamed `name`.
fn place_tree(root: &Path, artifact: &Path, to: &Path, name: &str) -> Result<()> {
    for e in std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))? {
        let p = e?.path();
        let file = p.file_name().expect("an entry has a name");
        if p.is_dir() {
            place_tree(&p, artifact, &to.join(file), name)?;
        } else if p == artifact {
            place(&p, &to.join(name))?;
        } else {
            place(&p, &to.join(file))?;
        }
    }
    Ok(())
}

/// All four steps for one cell. Never fails: whatever goes wrong is the cell's finding.
fn check_cell(
    row: &Row,
    column: usize,
    interp: &Interpreter,
    installable: bool,
    (recipe, exe): (&Recipe, &Path),
    timeout: Duration,
) -> MatrixCell {
    let (module, builtin) = (recipe.module.as_str(), recipe.subject.is_bench_ext());
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
    let forced_root = row.dir.join(format!("forced-{column}"));
    let root = artifact.ancestors().nth(module.split('.').count()).expect("the artifact lies under its build's root");
    let leaf = module.rsplit('.').next().unwrap_or(module);
    match place_tree(root, artifact, &forced_root, &format!("{leaf}{}", interp.ext_suffix)) {
        Ok(()) => {
            (cell.canonical.found, cell.forced) =
                load_check(interp, canonical_dir, &forced_root, (module, builtin.then_some(b.mode)), timeout)
        }
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
/// `mode` is the `MODE` bench-ext must report (`None` for a user's crate, which has no such attribute).
fn load_check(
    interp: &Interpreter,
    canonical_dir: &Path,
    forced_root: &Path,
    (module, mode): (&str, Option<Mode>),
    timeout: Duration,
) -> (Option<bool>, Step<Load>) {
    let mut cmd = interp.command();
    cmd.args(["-I", "-B", "-c", LOAD_CHECK])
        .arg(canonical_dir)
        .arg(forced_root)
        .arg(module)
        .arg(mode.map_or(String::new(), Mode::name));
    let end = match child::run(cmd, timeout) {
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
    (found, into_step(end, timeout, forced))
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
    match child::run(cmd, timeout) {
        Ok(end) => {
            let report = serde_json::from_str::<Link>(end.stdout.trim()).ok();
            into_step(end, timeout, report)
        }
        Err(e) => Step::NotRun { reason: format!("{e:#}") },
    }
}

/// Checks every build on every interpreter, two children at a time at most (rayon's pool is one
/// thread per core): short, and never timed. `exe` is this abibench, for the link check; `on_cell`
/// hears each cell as it starts (build label, interpreter) and `done` as it finishes.
pub fn check_all(
    builds: &[BuildRecord],
    interpreters: &[Interpreter],
    recipe: &Recipe,
    exe: &Path,
    timeout: Duration,
    on_cell: &(dyn Fn(&str, &str) + Sync),
    done: &(dyn Fn() + Sync),
) -> Result<Vec<MatrixCell>> {
    let scratch =
        tempfile::Builder::new().prefix("abibench-matrix-").tempdir().context("cannot create a scratch directory")?;
    let rows: Vec<Row> = builds
        .iter()
        .enumerate()
        .map(|(n, b)| Row::prepare(b, interpreters, recipe.module_leaf(), scratch.path().join(format!("build-{n}"))))
        .collect::<Result<_>>()?;
    let jobs: Vec<(&Row, usize, &Interpreter)> =
        rows.iter().flat_map(|r| interpreters.iter().enumerate().map(move |(k, i)| (r, k, i))).collect();
    Ok(jobs
        .par_iter()
        .map(|&(row, k, interp)| {
            on_cell(&row.build.label(), &interp.name);
            let installable = build_for(builds, row.build.mode, interp)
                .is_some_and(|b| b.mode == row.build.mode && b.abi_tag == row.build.abi_tag);
            let cell = check_cell(row, k, interp, installable, (recipe, exe), timeout);
            done();
            cell
        })
        .collect())
}

/// The `link-check` child's work: what the loader makes of `build` next to `libpython`. Loading runs the libraries'
/// initialisers (arbitrary foreign code), which is why this is a process of its own.
pub fn link_check_main(libpython: &Path, build: &Path) -> Result<Link> {
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
    Ok(Link { libpython: libpython.to_path_buf(), checked: imports.len(), missing, dlopen_error })
}

/// The step's outcome: the child's report if it ended normally with one, else how it ended.
fn into_step<T>(end: Finished, timeout: Duration, report: Option<T>) -> Step<T> {
    let stderr = tail(&end.stderr, STDERR_TAIL);
    match (end.status, report) {
        (None, _) => Step::Timeout { seconds: timeout.as_secs_f64() },
        (Some(status), report) if status.signal().is_some() => {
            let signal = status.signal().expect("checked");
            let when = if report.is_some() { "the check had reported; the crash came after, at exit\n" } else { "" };
            Step::Crashed { signal, signal_name: signal_name(signal), stderr: format!("{when}{stderr}") }
        }
        (Some(status), Some(result)) if status.success() => Step::Done { result },
        (Some(status), _) => Step::Exited { code: status.code(), stderr },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// How `script` ends, as a step of a check with this timeout that reports `report`.
    fn sh<T>(script: &str, timeout_s: f64, report: Option<T>) -> (Finished, Step<T>) {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        let timeout = Duration::from_secs_f64(timeout_s);
        let end = child::run(cmd, timeout).unwrap();
        let copy = Finished { status: end.status, stdout: end.stdout.clone(), stderr: end.stderr.clone() };
        (copy, into_step(end, timeout, report))
    }

    #[test]
    fn a_child_ends_as_reported_crashed_exited_or_timed_out() {
        let (ok, step) = sh("echo report; echo noise >&2", 10.0, Some(1));
        assert_eq!(ok.stdout, "report\n");
        assert_eq!(step, Step::Done { result: 1 });

        let segv = sh::<u8>("echo oops >&2; kill -SEGV $$", 10.0, None).1;
        assert!(
            matches!(&segv, Step::Crashed { signal: 11, signal_name, stderr } if signal_name == "SIGSEGV" && stderr == "oops"),
            "{segv:?}"
        );
        assert_eq!(segv.label_with(|_| unreachable!()), "SIGSEGV");

        // A crash after the report still counts as a crash, and says when it came.
        let late = sh("echo report; kill -ABRT $$", 10.0, Some(1)).1;
        assert!(
            matches!(&late, Step::Crashed { signal_name, stderr, .. }
            if signal_name == "SIGABRT" && stderr.contains("after")),
            "{late:?}"
        );

        // A clean exit without a report, or a report with a failing exit, is not a result.
        assert!(matches!(sh::<u8>("exit 0", 10.0, None).1, Step::Exited { code: Some(0), .. }));
        assert!(
            matches!(sh("echo x >&2; exit 3", 10.0, Some(1)).1, Step::Exited { code: Some(3), stderr } if stderr == "x")
        );

        let start = Instant::now();
        let hung = sh::<u8>("sleep 30", 0.3, None).1;
        assert_eq!(hung, Step::Timeout { seconds: 0.3 });
        assert!(start.elapsed() < Duration::from_secs(10), "the hung child was not killed in time");
        assert!(child::run(Command::new("/no/such/program"), Duration::from_secs(1))
            .err()
            .is_some_and(|e| e.to_string().contains("/no/such/program")));
    }
}
