//! A run in the formats other tools read: pyperf's JSON (`pyperf compare_to`, `stats`), Bencher's
//! BMF, github-action-benchmark's `customSmallerIsBetter`, and CSV. Each is a [`Format`]: the
//! files it makes of a run, by path inside the export directory; [`write`] puts them there.

pub mod bmf;
pub mod csv;
pub mod gab;
pub mod pyperf;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Result;

use crate::analysis::cells::Analysis;
use crate::model::io::write_atomic;
use crate::model::results::Results;

/// One export format.
pub trait Format {
    /// Each file: its path relative to the export directory, and its contents.
    fn files(&self, r: &Results, a: &Analysis) -> Result<Vec<(PathBuf, Vec<u8>)>>;
}

/// The formats by name, as `--format` and `--export` take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Pyperf,
    Bmf,
    GithubActionBenchmark,
    Csv,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 4] =
        [ExportFormat::Pyperf, ExportFormat::Bmf, ExportFormat::GithubActionBenchmark, ExportFormat::Csv];

    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Pyperf => "pyperf",
            ExportFormat::Bmf => "bmf",
            ExportFormat::GithubActionBenchmark => "github-action-benchmark",
            ExportFormat::Csv => "csv",
        }
    }

    fn format(self) -> &'static dyn Format {
        match self {
            ExportFormat::Pyperf => &pyperf::Pyperf,
            ExportFormat::Bmf => &bmf::Bmf,
            ExportFormat::GithubActionBenchmark => &gab::Gab,
            ExportFormat::Csv => &self::csv::Csv,
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExportFormat::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            format!("unknown format '{s}' (known: {})", ExportFormat::ALL.map(ExportFormat::name).join(", "))
        })
    }
}

/// Writes `format`'s files of the run into `dir` (each atomically); returns their paths.
pub fn write(format: ExportFormat, r: &Results, a: &Analysis, dir: &Path) -> Result<Vec<PathBuf>> {
    let files = format.format().files(r, a)?;
    files
        .into_iter()
        .map(|(rel, bytes)| {
            let path = dir.join(rel);
            write_atomic(&path, &bytes)?;
            Ok(path)
        })
        .collect()
}
