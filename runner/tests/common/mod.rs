//! Helpers shared by the integration tests: the abibench binary and the interpreters to use.
// Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use abibench::setup::interpreters;

use abibench::model::results::Results;

/// The interpreters the tests run on: pyenv 3.8 and 3.13, or those in ABIBENCH_TEST_PYTHONS="3.8 3.13".
pub fn pythons() -> Vec<String> {
    std::env::var("ABIBENCH_TEST_PYTHONS")
        .unwrap_or_else(|_| "3.8 3.13".into())
        .split_whitespace()
        .map(String::from)
        .collect()
}

pub fn abibench(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_abibench"));
    cmd.args(args);
    cmd
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The python of a virtual environment with `package` from PyPI, its newest release: see [`pypi_env`].
pub fn pypi_venv(package: &str) -> PathBuf {
    pypi_env(package, &[package])
}

/// The python of a virtual environment with `requirements` from PyPI (`name` or `name==version`),
/// under cargo's test tmpdir (`<name>-venv`), created on first use from pyenv's 3.12 and kept
/// between runs; remade when the requirements change (its `requirements.txt` records them). Run a
/// package as `python -m`: a console script's shebang names the directory it was installed in.
pub fn pypi_env(name: &str, requirements: &[&str]) -> PathBuf {
    static CREATING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = tmp.join(format!("{name}-venv"));
    let wanted = requirements.join("\n") + "\n";
    if std::fs::read_to_string(venv.join("requirements.txt")).ok().as_ref() != Some(&wanted) {
        let python = interpreters::discover(&["3.12".parse().unwrap()]).expect("pyenv 3.12 for the venv");
        // Built aside and renamed, so an interrupted install is never taken for a finished one.
        let partial = tmp.join(format!("{name}-venv.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        run_ok(Command::new(&python[0].argv[0]).args(["-m", "venv"]).arg(&partial));
        std::fs::write(partial.join("requirements.txt"), &wanted).unwrap();
        run_ok(
            Command::new(partial.join("bin/python"))
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(partial.join("requirements.txt")),
        );
        let _ = std::fs::remove_dir_all(&venv);
        std::fs::rename(&partial, &venv).unwrap();
    }
    venv.join("bin/python")
}

pub fn python_flags(pythons: &[String]) -> Vec<&str> {
    pythons.iter().flat_map(|p| ["--python", p.as_str()]).collect()
}

/// Runs `abibench args`, returning (exit code, stdout, stderr).
pub fn run_code(args: &[&str]) -> (i32, String, String) {
    let out = abibench(args).output().expect("abibench starts");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// `compare --quick` without provisioning into `out`, plain tables, then `extra`.
pub fn compare_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["compare", "--quick", "--ascii", "--no-provision", "--out", out];
    args.extend_from_slice(extra);
    args
}

/// A scenario directory holding one file, `faults.toml`, with `body`.
pub fn scenario_dir(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("faults.toml"), body).unwrap();
    dir
}

/// The results files (`*.json`) directly in `dir`; beside them, compare writes report directories.
pub fn results_paths(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

pub fn only_results_path(dir: &Path) -> PathBuf {
    let files = results_paths(dir);
    assert_eq!(files.len(), 1, "one results file in {}: {files:?}", dir.display());
    files[0].clone()
}

pub fn only_results_file(dir: &Path) -> Results {
    Results::read(&only_results_path(dir)).unwrap()
}
