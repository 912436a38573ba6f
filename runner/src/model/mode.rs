//! ABI modes: the ways one extension source is compiled, and which interpreters each fits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::interpreter::Interpreter;
use crate::model::version::PyVersion;

/// One way of compiling `bench-ext`. The name doubles as its cargo feature (none for `unlimited`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Version-specific build against the full C API: one build per interpreter ABI.
    Unlimited,
    /// Limited API / stable ABI (`abi3`) with a minimum Python version.
    Abi3(PyVersion),
    /// PEP 803 stable ABI for free-threaded and GIL builds (`abi3t`).
    Abi3t(PyVersion),
}

impl Mode {
    /// Every mode the extension knows, in the order tables show them.
    pub const ALL: [Mode; 9] = [
        Mode::Unlimited,
        Mode::Abi3(PyVersion(3, 8)),
        Mode::Abi3(PyVersion(3, 9)),
        Mode::Abi3(PyVersion(3, 10)),
        Mode::Abi3(PyVersion(3, 11)),
        Mode::Abi3(PyVersion(3, 12)),
        Mode::Abi3(PyVersion(3, 13)),
        Mode::Abi3(PyVersion(3, 14)),
        Mode::Abi3t(PyVersion(3, 15)),
    ];

    pub fn name(self) -> String {
        match self {
            Mode::Unlimited => "unlimited".into(),
            Mode::Abi3(v) => format!("abi3-py{}{}", v.0, v.1),
            Mode::Abi3t(v) => format!("abi3t-py{}{}", v.0, v.1),
        }
    }

    pub fn cargo_feature(self) -> Option<String> {
        (self != Mode::Unlimited).then(|| self.name())
    }

    /// The limited-API floor, if this is a stable-ABI mode.
    pub fn floor(self) -> Option<PyVersion> {
        match self {
            Mode::Unlimited => None,
            Mode::Abi3(v) | Mode::Abi3t(v) => Some(v),
        }
    }

    /// Whether a correct installer would put this mode's build on `interp`; if not, why not.
    pub fn fits(self, interp: &Interpreter) -> Result<(), String> {
        let v = interp.version;
        match self {
            Mode::Unlimited => Ok(()),
            // The same words for every floor, so that a report can name these modes together.
            Mode::Abi3(_) if interp.gil_disabled => {
                Err(format!("abi3 is not loadable by free-threaded {}", interp.name))
            }
            Mode::Abi3(floor) | Mode::Abi3t(floor) if v < floor => {
                Err(format!("{} is below the floor {floor}", interp.name))
            }
            Mode::Abi3(_) | Mode::Abi3t(_) => Ok(()),
        }
    }

    /// The file name CPython's import system looks for (PEP 3149 / PEP 384 / PEP 803 tags) for
    /// the module `leaf` (the last part of its import name).
    pub fn artifact_name(self, leaf: &str, interp_ext_suffix: &str) -> String {
        match self {
            Mode::Unlimited => format!("{leaf}{interp_ext_suffix}"),
            Mode::Abi3(_) => format!("{leaf}.abi3.so"),
            Mode::Abi3t(_) => format!("{leaf}.abi3t.so"),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let known: Vec<String> = Mode::ALL.iter().map(|m| m.name()).collect();
            format!("unknown mode '{s}' (known modes: {})", known.join(", "))
        })
    }
}

impl Serialize for Mode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_cargo_features() {
        for m in Mode::ALL {
            assert_eq!(m.name().parse::<Mode>().unwrap(), m);
        }
        assert_eq!(Mode::Unlimited.cargo_feature(), None);
        assert_eq!(Mode::Abi3(PyVersion(3, 10)).cargo_feature().as_deref(), Some("abi3-py310"));
        let err = "abi3-py37".parse::<Mode>().unwrap_err();
        assert!(err.contains("abi3-py37") && err.contains("abi3-py38"), "{err}");
    }

    fn workspace_file(path: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        std::fs::read_to_string(root.join(path)).unwrap()
    }

    /// `Mode::ALL` is the one list: the extension's features, the `MODE` it reports in each build
    /// and the README's list of modes must all be that list.
    #[test]
    fn the_extension_and_the_readme_know_exactly_these_modes() {
        let names: Vec<String> = Mode::ALL.iter().map(|m| m.name()).collect();
        let stable: Vec<&String> = names.iter().filter(|n| *n != "unlimited").collect();

        let manifest: toml::Table = workspace_file("bench-ext/Cargo.toml").parse().unwrap();
        let mut features: Vec<&String> = manifest["features"].as_table().unwrap().keys().collect();
        features.sort();
        let mut expected = stable.clone();
        expected.sort();
        assert_eq!(features, expected, "bench-ext/Cargo.toml [features] against Mode::ALL");

        // Each feature's build reports its own name as MODE; the build without one, `unlimited`.
        let lib = workspace_file("bench-ext/src/lib.rs");
        for name in &stable {
            let branch = format!("cfg!(feature = \"{name}\") {{\n    \"{name}\"");
            assert!(lib.contains(&branch), "bench-ext/src/lib.rs: MODE has no branch `{branch}`");
        }
        assert!(
            lib.contains("} else {\n    \"unlimited\"\n};"),
            "bench-ext/src/lib.rs: MODE's default is not unlimited"
        );

        let readme = workspace_file("README.md");
        for name in &names {
            assert!(readme.contains(&format!("`{name}`")), "README.md does not name mode `{name}`");
        }
        let mentioned: std::collections::BTreeSet<&str> = readme
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| (w.starts_with("abi3-py") || w.starts_with("abi3t-py")) && w.len() > 8)
            .collect();
        for m in mentioned {
            assert!(names.iter().any(|n| n == m), "README.md names mode `{m}`, which Mode::ALL lacks");
        }
    }

    #[test]
    fn artifact_names_follow_cpython_tags() {
        assert_eq!(
            Mode::Unlimited.artifact_name("bench_ext", ".cpython-311-x86_64-linux-gnu.so"),
            "bench_ext.cpython-311-x86_64-linux-gnu.so"
        );
        assert_eq!(
            Mode::Abi3(PyVersion(3, 8)).artifact_name("bench_ext", ".cpython-311-x86_64-linux-gnu.so"),
            "bench_ext.abi3.so"
        );
        assert_eq!(
            Mode::Abi3t(PyVersion(3, 15)).artifact_name("bench_ext", ".cpython-315t-x86_64-linux-gnu.so"),
            "bench_ext.abi3t.so"
        );
    }
}
