//! What a run builds and times: abibench's own `bench-ext`, or a user's PyO3 crate (`--crate`),
//! named well enough that a report speaks of *their* extension and wheels.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::mode::Mode;
use crate::model::version::PyVersion;

/// The extension under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The cargo package.
    pub name: String,
    pub version: String,
    /// The Python distribution (pyproject's `[project] name`, else the package), as wheels name it.
    pub distribution: String,
    /// The import name of the extension module: `bench_ext`, `nh3`, `pkg._core`.
    pub module: String,
    /// The PyO3 version the crate resolves to.
    pub pyo3_version: String,
    /// Cargo features every build enables besides its mode's (maturin's `features`, say).
    #[serde(default)]
    pub features: Vec<String>,
    /// The crate's directory.
    pub path: PathBuf,
    pub git_revision: Option<String>,
    #[serde(default)]
    pub git_dirty: bool,
    /// The stable-ABI modes this PyO3 version offers (and abibench knows).
    pub floors: Vec<Mode>,
    /// A floor the crate's own manifest turns on in PyO3: every build of it is abi3 from there up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_floor: Option<PyVersion>,
    /// What abibench took out of the crate's manifests (in a copy) so that every mode can be
    /// built: the stable-ABI features that force that floor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unforced: Vec<String>,
}

impl Subject {
    /// The module's own name, the last part of its import name (what `PyInit_<name>` carries).
    pub fn module_leaf(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }

    /// `name 1.2.3 (PyO3 0.23.5)`: how tables and reports name it.
    pub fn title(&self) -> String {
        format!("{} {} (PyO3 {})", self.name, self.version, self.pyo3_version)
    }

    /// The start of its wheels' file names: the distribution with `-` and `.` made `_` (PEP 427).
    pub fn wheel_stem(&self) -> String {
        format!("{}-{}", self.distribution.replace(['-', '.'], "_"), self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_module_and_the_distribution() {
        let s = Subject {
            name: "core-rs".into(),
            version: "1.2.3".into(),
            distribution: "my.pkg-name".into(),
            module: "my_pkg._core".into(),
            pyo3_version: "0.23.5".into(),
            features: Vec::new(),
            path: PathBuf::from("/src/x"),
            git_revision: None,
            git_dirty: false,
            floors: Vec::new(),
            forced_floor: None,
            unforced: Vec::new(),
        };
        assert_eq!(s.module_leaf(), "_core");
        assert_eq!(s.wheel_stem(), "my_pkg_name-1.2.3");
        assert_eq!(s.title(), "core-rs 1.2.3 (PyO3 0.23.5)");
    }
}
