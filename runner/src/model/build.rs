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
    /// Which layout variant of the build this is: 0 is the linker's own function order; variant
    /// k > 0 has its functions shuffled by the linker with seed `layout_seed` (see
    /// `setup::builds::layout_flags`).
    #[serde(default)]
    pub layout: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_seed: Option<u64>,
    pub seconds: f64,
    #[serde(flatten)]
    pub outcome: BuildOutcome,
    /// For stable-ABI builds: imported symbols checked against the Stable ABI of the floor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<Audit>,
    /// For a failed build: the compiler's own explanation of its error (rustc's `= note:` and
    /// `= help:` lines), e.g. "subclassing native types requires Python >= 3.12 when using the
    /// `abi3` feature".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BuildOutcome {
    /// The artifact, under the file name CPython expects; `cached` when nothing was rebuilt.
    Ok {
        artifact: PathBuf,
        cached: bool,
        /// The artifact's SHA-256 and size: two runs timed the same binary only if these match.
        #[serde(default)]
        sha256: String,
        #[serde(default)]
        size: u64,
    },
    Failed {
        error: String,
    },
}

/// The toolchain that built a run's extension, and the flags the user gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toolchain {
    /// `rustc 1.95.0 (59807616e 2026-04-14)`.
    pub rustc: String,
    pub host: String,
    pub llvm: String,
    pub cargo: String,
    pub sysroot: PathBuf,
    /// `RUSTFLAGS` as set by the user (abibench adds its layout flags, `setup::builds::ALIGN`).
    pub rustflags: String,
}

/// The line that says why a build failed: the first of its record, which `build_one` heads with
/// the most specific `error:` line (e.g. PyO3's refusal, not cargo's "waiting for other jobs").
pub fn failure_headline(error: &str) -> &str {
    error.lines().next().unwrap_or_default()
}

/// The failed builds, one per mode and interpreter ABI (the first of its layouts), in build order.
pub fn failed_builds(builds: &[BuildRecord]) -> Vec<&BuildRecord> {
    let mut seen = Vec::new();
    builds
        .iter()
        .filter(|b| b.failure().is_some())
        .filter(|b| {
            let key = (b.mode, b.abi_tag.as_str());
            let first = !seen.contains(&key);
            seen.push(key);
            first
        })
        .collect()
}

/// When every stable-ABI build failed and some version-specific one built, the first failed
/// stable-ABI build: the limited API lacks something the code uses, which no floor gives back.
pub fn stable_abi_failed_throughout(builds: &[BuildRecord]) -> Option<&BuildRecord> {
    let stable: Vec<&BuildRecord> = builds.iter().filter(|b| b.mode.floor().is_some()).collect();
    let unlimited_built = builds.iter().any(|b| b.mode == Mode::Unlimited && b.artifact().is_some());
    let all_failed = stable.iter().all(|b| b.failure().is_some());
    stable.into_iter().filter(|_| unlimited_built && all_failed).min_by_key(|b| b.mode)
}

impl BuildRecord {
    /// How the build is named to people: `abi3-py38`, `unlimited for 3.8.18`.
    pub fn label(&self) -> String {
        let base = self.interpreter.as_ref().map_or(self.mode.name(), |i| format!("{} for {i}", self.mode));
        if self.layout == 0 {
            base
        } else {
            format!("{base}, layout {}", self.layout)
        }
    }

    /// Why the build failed, if it did.
    pub fn failure(&self) -> Option<&str> {
        match &self.outcome {
            BuildOutcome::Ok { .. } => None,
            BuildOutcome::Failed { error } => Some(error),
        }
    }

    pub fn artifact(&self) -> Option<&Path> {
        match &self.outcome {
            BuildOutcome::Ok { artifact, .. } => Some(artifact),
            BuildOutcome::Failed { .. } => None,
        }
    }
}

/// The build an installer would give `interp` for `mode`, if that mode fits it (its first layout).
pub fn build_for<'a>(builds: &'a [BuildRecord], mode: Mode, interp: &Interpreter) -> Option<&'a BuildRecord> {
    builds_for(builds, mode, interp).into_iter().next()
}

/// Every layout variant of the build an installer would give `interp` for `mode`.
pub fn builds_for<'a>(builds: &'a [BuildRecord], mode: Mode, interp: &Interpreter) -> Vec<&'a BuildRecord> {
    if mode.fits(interp).is_err() {
        return Vec::new();
    }
    let tag = if mode == Mode::Unlimited { interp.soabi.clone() } else { mode.name() };
    builds.iter().filter(|b| b.mode == mode && b.abi_tag == tag).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::version::PyVersion;

    fn build(mode: Mode, tag: &str, layout: u32, error: Option<&str>) -> BuildRecord {
        let outcome = match error {
            Some(e) => BuildOutcome::Failed { error: e.into() },
            None => BuildOutcome::Ok { artifact: "x.so".into(), cached: true, sha256: String::new(), size: 1 },
        };
        BuildRecord {
            mode,
            abi_tag: tag.into(),
            interpreter: None,
            source_hash: "h".into(),
            layout,
            layout_seed: None,
            seconds: 0.0,
            outcome,
            audit: None,
            note: None,
        }
    }

    #[test]
    fn failed_builds_are_one_per_mode_and_abi_and_a_stable_abi_failing_throughout_is_told() {
        let (py310, py312) = (Mode::Abi3(PyVersion(3, 10)), Mode::Abi3(PyVersion(3, 12)));
        let mut builds = vec![
            build(Mode::Unlimited, "cpython-312", 0, None),
            build(Mode::Unlimited, "cpython-315", 0, Some("newer than PyO3's maximum")),
            build(py310, "abi3-py310", 1, Some("E0277")),
            build(py310, "abi3-py310", 2, Some("E0277")),
            build(py312, "abi3-py312", 1, Some("E0432")),
        ];
        let failed: Vec<(String, u32)> = failed_builds(&builds).iter().map(|b| (b.mode.name(), b.layout)).collect();
        assert_eq!(failed, [("unlimited".into(), 0), ("abi3-py310".into(), 1), ("abi3-py312".into(), 1)]);
        assert_eq!(stable_abi_failed_throughout(&builds).map(|b| b.mode), Some(py310));
        // One stable-ABI build that worked, or no version-specific one that did: not said.
        builds[4] = build(py312, "abi3-py312", 1, None);
        assert!(stable_abi_failed_throughout(&builds).is_none());
        let only_failures =
            vec![build(Mode::Unlimited, "cpython-312", 0, Some("x")), build(py310, "abi3-py310", 0, Some("y"))];
        assert!(stable_abi_failed_throughout(&only_failures).is_none());
        assert!(stable_abi_failed_throughout(&builds[..2]).is_none(), "no stable-ABI build at all");
    }
}
