//! One `cargo rustc` of an extension, watched: its process group killed past a time limit, the
//! cdylib it made found in cargo's JSON messages, and a failure reported by the compiler's own
//! error and notes.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::model::child::{self, Group, Line, Next, STDERR_TAIL};

/// What PyO3's way around its version check would build, said where it offers it. abibench does
/// not take it: the result is a stable-ABI build under a version-specific name, and timing it as
/// `unlimited` would report a ratio of two stable-ABI builds as the stable ABI's cost.
const FORWARD_COMPATIBILITY: &str = "PyO3 offers PYO3_USE_ABI3_FORWARD_COMPATIBILITY=1 for this: it would build the \
    limited API for this interpreter under a version-specific name, not an unlimited build, so abibench does not \
    use it; the stable-ABI modes run on this interpreter, and a PyO3 version that supports it gives the real \
    unlimited build.\n";

/// A build cargo did not finish: its record's text, and the compiler's own note on its error.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub struct CompileError {
    text: String,
    pub note: Option<String>,
}

/// The `= note:` and `= help:` lines rustc puts under the last report of `headline` in `stderr`
/// (`subclassing native types requires Python >= 3.12 when using the `abi3` feature`): what the
/// compiler says the error means, joined by `; `.
fn compiler_note(stderr: &str, headline: &str) -> Option<String> {
    let after = &stderr[stderr.rfind(headline)? + headline.len()..];
    let mut notes: Vec<&str> = Vec::new();
    // The diagnostic's own lines are indented or numbered; the next one starts with a word.
    for line in after.lines().skip(1).take_while(|l| !l.starts_with(char::is_alphabetic)) {
        let text = line.trim_start();
        if let Some(note) = ["= note: ", "= help: "].iter().find_map(|p| text.strip_prefix(p)) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Runs `cmd` (a `cargo rustc` with JSON messages) in a process group of its own, killing the
/// whole group (cargo, rustc, build scripts) past `limit`; the cdylib of target `lib_target` it
/// built, or the failure with the compiler's own error at its head.
pub fn run_cargo(cmd: Command, lib_target: &str, limit: Duration) -> Result<PathBuf> {
    // Cargo's JSON messages (stdout) name the cdylib; its diagnostics (stderr) explain a failure.
    let mut child = child::spawn(cmd, None, Group::Own).context("cannot start cargo")?;
    let mut cdylib = None;
    let deadline = Instant::now() + limit;
    loop {
        if Instant::now() > deadline {
            child.kill();
            bail!(
                "cargo build did not finish within --build-timeout {} s (killed with its build scripts); \
                 its last output:\n{}",
                limit.as_secs_f64(),
                child.stderr_tail(STDERR_TAIL)
            );
        }
        match child.next(Duration::from_secs(1)) {
            Next::Line(Line::Out(line)) => {
                if let Ok(msg) = serde_json::from_str::<CargoMessage>(&line) {
                    if msg.reason == "compiler-artifact" && msg.target.as_ref().is_some_and(|t| t.name == lib_target) {
                        cdylib = msg.filenames.into_iter().find(|f| f.extension().is_some_and(|x| x == "so"));
                    }
                }
            }
            Next::Line(Line::Err(_)) | Next::Quiet => {}
            Next::Closed => break,
        }
    }
    let status = child.wait()?;
    if !status.success() {
        // The last `error:` line is the most specific one (a build script's own message comes
        // after cargo's "failed to run custom build command"), cargo's closing "could not compile"
        // aside (the compiler's own error comes before it); it heads the record, which the
        // table quotes by its first line.
        let kept = child.stderr_tail(usize::MAX);
        let specific = |l: &&str| l.starts_with("error") && !l.starts_with("error: could not compile");
        let headline = kept.lines().rev().map(str::trim).find(specific).unwrap_or_default();
        let offer = if kept.contains("PYO3_USE_ABI3_FORWARD_COMPATIBILITY") { FORWARD_COMPATIBILITY } else { "" };
        let text = format!("cargo build {status}: {headline}\n{offer}{}", child.stderr_tail(STDERR_TAIL));
        return Err(CompileError { text, note: compiler_note(&kept, headline) }.into());
    }
    cdylib.with_context(|| format!("cargo reported no {lib_target} cdylib"))
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    target: Option<CargoTarget>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

#[derive(Deserialize)]
struct CargoTarget {
    name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rtoml 0.14.0 in abi3-py310 (PyO3 0.29.3), as cargo rendered it: the error twice, the
    /// second time with rustc's notes.
    const RTOML_ABI3: &str = "error[E0277]: pyclass `PyTzInfo` cannot be subclassed
help: the trait `pyo3::impl_::pyclass::PyClassBaseType` is implemented for `pyo3::PyAny`
    = note: this error originates in the attribute macro `pyclass`

error[E0277]: pyclass `PyTzInfo` cannot be subclassed
   --> src/datetime.rs:134:46
    |
134 | #[pyclass(module = \"rtoml._rtoml\", extends = PyTzInfo, frozen)]
    |                                              ^^^^^^^^ required for `#[pyclass(extends=PyTzInfo)]`
    |
    = help: the trait `pyo3::impl_::pyclass::PyClassBaseType` is not implemented for `PyTzInfo`
    = note: `PyTzInfo` must have `#[pyclass(subclass)]` to be eligible for subclassing
    = note: subclassing native types requires Python >= 3.12 when using the `abi3` feature
help: the trait `pyo3::impl_::pyclass::PyClassBaseType` is implemented for `pyo3::PyAny`
    = note: not this one
error: could not compile `rtoml` (lib) due to 3 previous errors";

    #[test]
    fn the_compilers_note_is_the_one_under_the_headline() {
        let headline = "error[E0277]: pyclass `PyTzInfo` cannot be subclassed";
        let note = compiler_note(RTOML_ABI3, headline).unwrap();
        assert_eq!(
            note,
            "the trait `pyo3::impl_::pyclass::PyClassBaseType` is not implemented for `PyTzInfo`; `PyTzInfo` must \
             have `#[pyclass(subclass)]` to be eligible for subclassing; subclassing native types requires Python \
             >= 3.12 when using the `abi3` feature"
        );
        // An error without notes (or a headline not found) has none.
        assert_eq!(
            compiler_note(
                "error[E0432]: unresolved import\n  --> src/lib.rs:1:5\nnote: elsewhere\n",
                "error[E0432]: unresolved import"
            ),
            None
        );
        assert_eq!(compiler_note(RTOML_ABI3, "error: something else"), None);
    }
}
