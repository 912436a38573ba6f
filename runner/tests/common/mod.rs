//! Helpers shared by the integration tests: the abibench binary and the interpreters to use.
// Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

use std::process::{Command, Output};

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
