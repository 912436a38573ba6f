//! Helpers shared by the integration tests: the abibench binary and the interpreters to use.
// Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let out = cmd.output().expect("abibench starts");
    assert!(out.status.success(), "{:?} failed:\n{}", cmd, String::from_utf8_lossy(&out.stderr));
    out
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
