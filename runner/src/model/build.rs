//! What became of each build: its artifact or its failure, and its stable-ABI audit.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;

/// What became of one build; recorded in the results whatever happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildRecord {
    pub mode: Mode,
    pub abi_tag: String,
    /// The interpreter PyO3 configured the build for (unlimited builds only).
    pub interpreter: Option<String>,
    pub source_hash: String,
    pub seconds: f64,
    #[serde(flatten)]
    pub outcome: BuildOutcome,
    /// For stable-ABI builds: imported symbols checked against the Stable ABI of the floor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<Audit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BuildOutcome {
    /// The artifact, under the file name CPython expects; `cached` when nothing was rebuilt.
    Ok {
        artifact: PathBuf,
        cached: bool,
    },
    Failed {
        error: String,
    },
}

/// The line that says why a build failed: the first of its record, which `build_one` heads with
/// the most specific `error:` line (e.g. PyO3's refusal, not cargo's "waiting for other jobs").
pub fn failure_headline(error: &str) -> &str {
    error.lines().next().unwrap_or_default()
}

impl BuildRecord {
    /// How the build is named to people: `abi3-py38`, `unlimited for 3.8.18`.
    pub fn label(&self) -> String {
        self.interpreter.as_ref().map_or(self.mode.name(), |i| format!("{} for {i}", self.mode))
    }

    pub fn artifact(&self) -> Option<&Path> {
        match &self.outcome {
            BuildOutcome::Ok { artifact, .. } => Some(artifact),
            BuildOutcome::Failed { .. } => None,
        }
    }
}

/// The build an installer would give `interp` for `mode`, if that mode fits it.
pub fn build_for<'a>(builds: &'a [BuildRecord], mode: Mode, interp: &Interpreter) -> Option<&'a BuildRecord> {
    mode.fits(interp).ok()?;
    let tag = if mode == Mode::Unlimited { interp.soabi.clone() } else { mode.name() };
    builds.iter().find(|b| b.mode == mode && b.abi_tag == tag)
}

/// The result of auditing one build against a limited-API floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The limited-API version the build targets, e.g. (3, 8).
    pub floor: (u8, u8),
    /// How many distinct Python symbols were checked.
    pub checked: usize,
    /// Imported symbols that are not in the Stable ABI at all.
    pub not_stable: Vec<String>,
    /// Imported Stable ABI symbols added after `floor`, with the version
    /// that added them.
    pub too_new: Vec<(String, (u8, u8))>,
}

impl Audit {
    /// True if every checked symbol is in the Stable ABI at `floor`.
    pub fn passed(&self) -> bool {
        self.not_stable.is_empty() && self.too_new.is_empty()
    }
}
