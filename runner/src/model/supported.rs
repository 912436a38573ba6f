//! Which Python versions a crate supports: its `requires-python` (pyproject's `[project]`, a
//! PEP 440 specifier set, read with `pep440_rs`) within the CPython range its PyO3 version builds
//! for. abibench builds, times and plans nothing outside it.

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use serde::{Deserialize, Serialize};

use crate::model::version::{PyVersion, NEWEST};

/// The CPython versions one PyO3 version builds for, and where that was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Pyo3Range {
    pub oldest: PyVersion,
    /// `None` for PyO3 lines that check no maximum (before 0.20).
    pub newest: Option<PyVersion>,
    /// The oldest free-threaded CPython it builds for; `None`: it builds for none.
    pub free_threaded_from: Option<PyVersion>,
    /// `PyO3 0.30.1 (SUPPORTED_VERSIONS_CPYTHON in pyo3-ffi 0.30.1's build.rs)`.
    pub source: String,
}

/// The minor versions a crate supports, and where each bound came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supported {
    /// Every minor version both its `requires-python` and its PyO3 allow, oldest first.
    pub minors: Vec<PyVersion>,
    /// Why the oldest is the oldest: `requires-python >=3.11`, or the PyO3 range's source.
    pub oldest_from: String,
    /// Why the newest is the newest.
    pub newest_from: String,
    /// pyproject's `requires-python`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// The oldest free-threaded CPython its PyO3 builds for (`Pyo3Range::free_threaded_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_threaded_from: Option<PyVersion>,
}

impl Supported {
    /// The versions `requires_python` (if any) allows within `pyo3`'s range; an error when the
    /// specifiers do not parse or allow none of them.
    pub fn new(requires_python: Option<&str>, pyo3: &Pyo3Range) -> Result<Supported, String> {
        let spec = requires_python.map(parse).transpose()?;
        let allowed = |v: PyVersion| spec.as_ref().is_none_or(|s| allows(s, v));
        let newest = pyo3.newest.unwrap_or(NEWEST);
        let minors: Vec<PyVersion> =
            (pyo3.oldest.1..=newest.1).map(|m| PyVersion(pyo3.oldest.0, m)).filter(|v| allowed(*v)).collect();
        let (Some(&oldest), Some(&last)) = (minors.first(), minors.last()) else {
            return Err(format!(
                "requires-python {} allows none of the versions {} builds for ({}–{newest})",
                requires_python.unwrap_or_default(),
                pyo3.source,
                pyo3.oldest
            ));
        };
        let from_spec = || format!("requires-python {}", requires_python.unwrap_or_default());
        let pyo3_newest = match pyo3.newest {
            Some(_) => pyo3.source.clone(),
            None => format!("abibench's newest; {} names no maximum", pyo3.source),
        };
        Ok(Supported {
            oldest_from: if oldest == pyo3.oldest { pyo3.source.clone() } else { from_spec() },
            newest_from: if last == newest { pyo3_newest } else { from_spec() },
            minors,
            requires_python: requires_python.map(String::from),
            free_threaded_from: pyo3.free_threaded_from,
        })
    }

    pub fn oldest(&self) -> PyVersion {
        self.minors[0]
    }

    pub fn newest(&self) -> PyVersion {
        self.minors[self.minors.len() - 1]
    }

    /// Whether an interpreter of version `v` is one the crate is for: not below its oldest, and
    /// allowed by its `requires-python`. Versions above PyO3's newest are: their stable-ABI
    /// wheels serve them, and PyO3's refusal of a version-specific build is recorded, not hidden.
    pub fn admits(&self, v: PyVersion) -> bool {
        let spec = self.requires_python.as_deref().and_then(|r| parse(r).ok());
        v >= self.oldest() && spec.is_none_or(|s| allows(&s, v))
    }
}

/// `3.11–3.15`, with the versions missing in between named (`!=3.12.*`).
impl fmt::Display for Supported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.oldest())?;
        if self.newest() != self.oldest() {
            write!(f, "–{}", self.newest())?;
        }
        let gaps: Vec<String> = (self.oldest().1..self.newest().1)
            .map(|m| PyVersion(self.oldest().0, m))
            .filter(|v| !self.minors.contains(v))
            .map(|v| v.to_string())
            .collect();
        if !gaps.is_empty() {
            write!(f, " except {}", gaps.join(", "))?;
        }
        Ok(())
    }
}

fn parse(requires_python: &str) -> Result<VersionSpecifiers, String> {
    VersionSpecifiers::from_str(requires_python)
        .map_err(|e| format!("requires-python '{requires_python}' is not a PEP 440 specifier set: {e}"))
}

/// Whether some release of minor version `v` satisfies `spec`: its first and a late patch release
/// bound every ordered comparison (`>3.9` excludes 3.9.0 but allows 3.9.1).
fn allows(spec: &VersionSpecifiers, v: PyVersion) -> bool {
    [0, 999].into_iter().any(|micro| spec.contains(&Version::new([u64::from(v.0), u64::from(v.1), micro])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pyo3(oldest: u8, newest: Option<u8>) -> Pyo3Range {
        let newest = newest.map(|n| PyVersion(3, n));
        Pyo3Range { oldest: PyVersion(3, oldest), newest, free_threaded_from: None, source: "PyO3 X".into() }
    }

    fn minors(s: &Supported) -> Vec<String> {
        s.minors.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn requires_python_narrows_pyo3s_range_and_each_bound_says_where_it_came_from() {
        let s = Supported::new(Some(">=3.11"), &pyo3(9, Some(15))).unwrap();
        assert_eq!(minors(&s), ["3.11", "3.12", "3.13", "3.14", "3.15"]);
        assert_eq!((s.oldest_from.as_str(), s.newest_from.as_str()), ("requires-python >=3.11", "PyO3 X"));
        assert_eq!(s.to_string(), "3.11–3.15");

        // A floor below PyO3's: PyO3's holds.
        let s = Supported::new(Some(">=3.7"), &pyo3(8, Some(15))).unwrap();
        assert_eq!((s.oldest(), s.oldest_from.as_str()), (PyVersion(3, 8), "PyO3 X"));

        // No requires-python: PyO3's range; no PyO3 maximum: abibench's newest, said so.
        let s = Supported::new(None, &pyo3(7, None)).unwrap();
        assert_eq!((s.oldest(), s.newest()), (PyVersion(3, 7), NEWEST));
        assert!(s.newest_from.contains("abibench's newest") && s.newest_from.contains("PyO3 X"), "{s:?}");
    }

    #[test]
    fn upper_bounds_exclusions_and_wildcards() {
        let s = Supported::new(Some(">=3.9,<3.13"), &pyo3(8, Some(15))).unwrap();
        assert_eq!(minors(&s), ["3.9", "3.10", "3.11", "3.12"]);
        assert_eq!(s.newest_from, "requires-python >=3.9,<3.13");
        // `<=3.12` allows 3.12.0; `>3.9` allows 3.9.1; `!=3.10.*` drops a whole minor.
        assert_eq!(minors(&Supported::new(Some("<=3.12"), &pyo3(11, Some(15))).unwrap()), ["3.11", "3.12"]);
        assert_eq!(minors(&Supported::new(Some(">3.9, <3.11"), &pyo3(8, Some(15))).unwrap()), ["3.9", "3.10"]);
        let s = Supported::new(Some(">=3.9, !=3.10.*, <3.12"), &pyo3(8, Some(15))).unwrap();
        assert_eq!(minors(&s), ["3.9", "3.11"]);
        assert_eq!(s.to_string(), "3.9–3.11 except 3.10");
        assert_eq!(minors(&Supported::new(Some("~=3.10"), &pyo3(8, Some(15))).unwrap()).len(), 6);
    }

    #[test]
    fn nothing_allowed_or_unparsable_is_an_error_naming_the_specifier() {
        let e = Supported::new(Some(">=3.16"), &pyo3(8, Some(15))).unwrap_err();
        assert!(e.contains(">=3.16") && e.contains("PyO3 X") && e.contains("3.8–3.15"), "{e}");
        let e = Supported::new(Some(">= three"), &pyo3(8, Some(15))).unwrap_err();
        assert!(e.contains("'>= three' is not a PEP 440 specifier set"), "{e}");
    }

    #[test]
    fn admits_the_versions_it_is_for_and_those_above_pyo3s_newest() {
        let s = Supported::new(Some(">=3.10,!=3.12.*"), &pyo3(8, Some(14))).unwrap();
        let admitted: Vec<u8> = (8..=16).filter(|m| s.admits(PyVersion(3, *m))).collect();
        assert_eq!(admitted, [10, 11, 13, 14, 15, 16]);
    }
}
