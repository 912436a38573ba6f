//! The report's reading of an `abibench matrix` file: for each build and interpreter, what an
//! installer's choice meets (the file keeps every step's detail).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::model::io::latest;
use crate::model::matrix::{Load, Matrix, MatrixCell, Step, MATRIX_PREFIX};

/// What one interpreter does with one build placed where an installer would put it: the
/// figure's reading of an `abibench matrix` cell (the file keeps every step's detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compat {
    /// Found under its canonical name, imported and smoke-called.
    Ok,
    /// Found, and the import or the call raised (ImportError, SystemError, ...).
    Refused,
    /// Found, and the child died (signal, timeout, no report).
    Crash,
    /// The interpreter does not look for this file name at all.
    NotFound,
    /// Not checked: the build does not exist (its build failed).
    NotRun,
}

impl Compat {
    pub fn label(self) -> &'static str {
        match self {
            Compat::Ok => "ok",
            Compat::Refused => "refused",
            Compat::Crash => "crash",
            Compat::NotFound => "not found",
            Compat::NotRun => "no build",
        }
    }

    pub fn of(c: &MatrixCell) -> Compat {
        match (c.canonical.found, &c.forced) {
            (_, Step::NotRun { .. }) => Compat::NotRun,
            (Some(false), _) => Compat::NotFound,
            (_, Step::Done { result: Load::Ok }) => Compat::Ok,
            (_, Step::Done { result: Load::Raised { .. } }) => Compat::Refused,
            (_, Step::Crashed { .. } | Step::Exited { .. } | Step::Timeout { .. }) => Compat::Crash,
        }
    }
}

/// One cell of the compatibility figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatCell {
    pub build: String,
    pub interpreter: String,
    pub compat: Compat,
}

/// The ABI compatibility matrix (which build each interpreter loads), as the report draws it.
#[derive(Debug, Clone)]
pub struct CompatMatrix {
    pub source: PathBuf,
    pub cells: Vec<CompatCell>,
}

/// Reads a file written by `abibench matrix` (`--matrix FILE`) into the figure's cells.
pub fn read(path: &Path) -> Result<CompatMatrix> {
    let m = Matrix::read(path).with_context(|| format!("--matrix {}", path.display()))?;
    if m.cells.is_empty() {
        bail!("--matrix {}: the matrix has no cells", path.display());
    }
    let label = |c: &MatrixCell| {
        m.builds
            .iter()
            .find(|b| b.mode == c.mode && b.abi_tag == c.abi_tag)
            .map_or_else(|| format!("{} ({})", c.mode, c.abi_tag), |b| b.label())
    };
    let cells = m
        .cells
        .iter()
        .map(|c| CompatCell { build: label(c), interpreter: c.interpreter.clone(), compat: Compat::of(c) })
        .collect();
    Ok(CompatMatrix { source: path.to_path_buf(), cells })
}

/// The matrix a report of results in `dir` shows when none is named: the newest `matrix-*.json`
/// there, if any.
pub fn newest(dir: &Path) -> Option<PathBuf> {
    latest(dir, MATRIX_PREFIX).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_cells_read_as_an_installer_would_meet_them() {
        use crate::model::matrix::sample_cell;
        let ok = || Step::Done { result: Load::Ok };
        let raised = Step::Done { result: Load::Raised { exception: "ImportError".into(), message: "x".into() } };
        let crashed = Step::Crashed { signal: 11, signal_name: "SIGSEGV".into(), stderr: String::new() };
        assert_eq!(Compat::of(&sample_cell(Some(true), ok())), Compat::Ok);
        // Loads when renamed, but no installer would put it where this interpreter looks.
        assert_eq!(Compat::of(&sample_cell(Some(false), ok())), Compat::NotFound);
        assert_eq!(Compat::of(&sample_cell(Some(true), raised)), Compat::Refused);
        assert_eq!(Compat::of(&sample_cell(None, crashed)), Compat::Crash);
        assert_eq!(Compat::of(&sample_cell(None, Step::NotRun { reason: "no build".into() })), Compat::NotRun);
    }

    #[test]
    fn a_bad_matrix_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "[]").unwrap();
        let err = format!("{:#}", read(&bad).unwrap_err());
        assert!(err.contains("--matrix") && err.contains("bad.json"), "{err}");
    }
}
