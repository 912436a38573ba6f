//! Which pytest runs a crate's benchmark tests in each interpreter (`compare --pytest`): the
//! interpreter's own, if it has one and nothing else is asked for; else one abibench installs
//! with the interpreter's pip into a directory of its cache (with the packages of
//! `--pytest-with`), kept for later runs and put first on the worker's `sys.path`.
//! pytest-benchmark and pytest-codspeed are not needed: abibench's plugin is the `benchmark`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::model::child::{self, describe, tail};
use crate::model::interpreter::Interpreter;
use crate::model::pytest::PytestEnv;

/// What the worker sees (`-s`: no user site), with `sys.argv[1:]` put first on the path.
const PROBE: &str =
    "import sys; sys.path[:0] = sys.argv[1:]; import pytest; print(pytest.__version__); print(pytest.__file__)";

const PROBE_TIME: Duration = Duration::from_secs(60);
const INSTALL_TIME: Duration = Duration::from_secs(600);

/// The pytest of `interp`, with the packages `with` beside it; `note` hears of an install.
pub fn environment(interp: &Interpreter, with: &[String], cache: &Path, note: &dyn Fn(String)) -> Result<PytestEnv> {
    if with.is_empty() {
        if let Ok((version, file)) = probe(interp, None) {
            return Ok(PytestEnv {
                interpreter: interp.name.clone(),
                pytest_version: version,
                pytest_file: file,
                installed: None,
            });
        }
    }
    let dir = cache.join("pytest").join(key(interp, with));
    if probe(interp, Some(&dir)).is_err() {
        note(format!(
            "{}: installing pytest{} into {}",
            interp.name,
            with.iter().map(|w| format!(", {w}")).collect::<String>(),
            dir.display()
        ));
        install(interp, with, &dir)?;
    }
    let (version, file) = probe(interp, Some(&dir))?;
    Ok(PytestEnv { interpreter: interp.name.clone(), pytest_version: version, pytest_file: file, installed: Some(dir) })
}

/// The cache directory's name: the interpreter (its command and ABI) and what is installed.
fn key(interp: &Interpreter, with: &[String]) -> String {
    let mut h = Sha256::new();
    for part in interp
        .argv
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .chain([interp.soabi.clone()])
        .chain(with.iter().cloned())
    {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest: String = h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{}-{digest}", interp.name)
}

/// (pytest's version, its `__init__.py`) as the worker would import it, with `dir` first on the path.
fn probe(interp: &Interpreter, dir: Option<&Path>) -> Result<(String, PathBuf)> {
    let mut cmd = interp.command();
    cmd.args(["-s", "-B", "-c", PROBE]).args(dir);
    let out = child::run(cmd, PROBE_TIME)?;
    let mut lines = out.stdout.lines();
    match (out.status.filter(|s| s.success()), lines.next(), lines.next()) {
        (Some(_), Some(version), Some(file)) => Ok((version.to_string(), PathBuf::from(file))),
        _ => bail!("{}: no pytest: {}", interp.name, tail(&out.stderr, 3)),
    }
}

/// `pip install --target` into a directory beside `dir`, renamed into place once complete, so an
/// interrupted install is never taken for one.
fn install(interp: &Interpreter, with: &[String], dir: &Path) -> Result<()> {
    let partial = dir.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut cmd = interp.command();
    cmd.args(["-s", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--target"])
        .arg(&partial)
        .arg("pytest")
        .args(with);
    let out = child::run(cmd, INSTALL_TIME)?;
    if !out.status.is_some_and(|s| s.success()) {
        let _ = std::fs::remove_dir_all(&partial);
        let how = out.status.as_ref().map_or("killed at the deadline".to_string(), describe);
        bail!(
            "{}: `pip install --target {} pytest {}` {how} (pytest comes from the interpreter's own environment, or its pip):\n{}",
            interp.name,
            partial.display(),
            with.join(" "),
            tail(&out.stderr, 10)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&partial, dir).with_context(|| format!("cannot move {} to {}", partial.display(), dir.display()))
}

/// `tests` (files, directories or node ids, relative to the working directory or absolute) as
/// pytest is given them from the crate's directory `root`: relative to it, each path checked to
/// exist there.
pub fn resolve_tests(root: &Path, tests: &[String]) -> Result<Vec<String>> {
    let root = root.canonicalize().with_context(|| format!("--crate {}", root.display()))?;
    let here = std::env::current_dir()?;
    tests
        .iter()
        .map(|t| {
            let (path, rest) = t.split_once("::").map_or((t.as_str(), None), |(p, r)| (p, Some(r)));
            let full =
                here.join(path).canonicalize().with_context(|| format!("--pytest {t}: {path} does not exist"))?;
            let Ok(inside) = full.strip_prefix(&root) else {
                bail!("--pytest {t}: {} is not inside the crate's directory {}", full.display(), root.display());
            };
            let inside = match inside.to_string_lossy() {
                s if s.is_empty() => ".".to_string(),
                s => s.into_owned(),
            };
            Ok(rest.map_or_else(|| inside.clone(), |r| format!("{inside}::{r}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_are_given_to_pytest_relative_to_the_crate() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("tests")).unwrap();
        std::fs::write(root.path().join("tests/test_b.py"), "").unwrap();
        let abs = |p: &str| root.path().join(p).to_string_lossy().into_owned();
        let given = [abs("tests"), format!("{}::test_x[1]", abs("tests/test_b.py")), abs("")];
        assert_eq!(resolve_tests(root.path(), &given).unwrap(), ["tests", "tests/test_b.py::test_x[1]", "."]);
        let missing = resolve_tests(root.path(), &[abs("tests/nope.py")]).unwrap_err();
        assert!(format!("{missing:#}").contains("tests/nope.py does not exist"), "{missing:#}");
        let outside = resolve_tests(&root.path().join("tests"), &[abs("")]).unwrap_err();
        assert!(outside.to_string().contains("is not inside the crate's directory"), "{outside}");
    }
}
