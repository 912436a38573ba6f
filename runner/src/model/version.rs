//! Python versions and how a user names them: `3.11`, `3.13t`, or a path to an interpreter.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `major.minor`, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PyVersion(pub u8, pub u8);

impl fmt::Display for PyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl FromStr for PyVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('.').ok_or_else(|| format!("'{s}' is not a version like 3.11"))?;
        let num = |x: &str| x.parse::<u8>().map_err(|_| format!("'{s}' is not a version like 3.11"));
        Ok(PyVersion(num(a)?, num(b)?))
    }
}

/// Oldest interpreter the project supports (PyO3 0.29's floor).
pub const OLDEST: PyVersion = PyVersion(3, 8);

/// The one floor check, for a version named (`--python 3.7`, `--only 3.7`) and for the version
/// an interpreter given by path turns out to be, before anything is built for it.
pub fn check_supported(v: PyVersion) -> Result<(), String> {
    if v < OLDEST {
        return Err(format!("Python {v} is older than {OLDEST}, the oldest abibench supports (PyO3's floor)"));
    }
    Ok(())
}

/// The newest minor version a comparison covers by default.
pub const NEWEST: PyVersion = PyVersion(3, 15);

/// What the user asked for with `--python`: a path to an interpreter, or a version selector.
#[derive(Debug, Clone)]
pub enum Selector {
    Path(PathBuf),
    /// `3.11` or `3.13t`: matches discovered interpreters of that version; `3.11.2` only that
    /// release (`micro`).
    Version {
        version: PyVersion,
        free_threaded: bool,
        micro: Option<u32>,
    },
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains('/') {
            return Ok(Selector::Path(PathBuf::from(s)));
        }
        let bad = || format!("'{s}' is neither a path to an interpreter nor a version like 3.11, 3.11.2 or 3.13t");
        let (v, ft) = match s.strip_suffix('t') {
            Some(v) => (v, true),
            None => (s, false),
        };
        let (minor, micro) = match v.splitn(3, '.').collect::<Vec<_>>()[..] {
            [major, minor, micro] => (format!("{major}.{minor}"), Some(micro.parse::<u32>().map_err(|_| bad())?)),
            _ => (v.to_string(), None),
        };
        let version: PyVersion = minor.parse().map_err(|_| bad())?;
        check_supported(version)?;
        Ok(Selector::Version { version, free_threaded: ft, micro })
    }
}

/// `3.11`, `3.11.2`, `3.13t`: a version selector as the user wrote it.
pub fn version_name(version: PyVersion, free_threaded: bool, micro: Option<u32>) -> String {
    let micro = micro.map_or(String::new(), |m| format!(".{m}"));
    format!("{version}{micro}{}", if free_threaded { "t" } else { "" })
}

/// An interpreter to have: a minor version, with or without the GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub version: PyVersion,
    pub free_threaded: bool,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.version, if self.free_threaded { "t" } else { "" })
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<Selector>()? {
            Selector::Version { version, free_threaded, micro: None } => Ok(Target { version, free_threaded }),
            Selector::Version { .. } => {
                Err(format!("'{s}' names a release; provisioning takes versions like 3.15 or 3.13t"))
            }
            Selector::Path(_) => Err(format!("'{s}' is a path; provisioning takes versions like 3.15 or 3.13t")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        assert!(matches!(
            "3.11".parse::<Selector>(),
            Ok(Selector::Version { version: PyVersion(3, 11), free_threaded: false, micro: None })
        ));
        assert!(matches!(
            "3.13t".parse::<Selector>(),
            Ok(Selector::Version { version: PyVersion(3, 13), free_threaded: true, micro: None })
        ));
        assert!(matches!(
            "3.11.2".parse::<Selector>(),
            Ok(Selector::Version { version: PyVersion(3, 11), free_threaded: false, micro: Some(2) })
        ));
        assert!(matches!(
            "3.13.5t".parse::<Selector>(),
            Ok(Selector::Version { version: PyVersion(3, 13), free_threaded: true, micro: Some(5) })
        ));
        assert!(matches!("/usr/bin/python3".parse::<Selector>(), Ok(Selector::Path(_))));
        for bad in ["python", "3.11.x", "3.11.2.1", "3..2", "3.11.-1"] {
            assert!(bad.parse::<Selector>().unwrap_err().contains("neither a path"), "{bad}");
        }
        assert!("3.7.17".parse::<Selector>().unwrap_err().contains("older than 3.8"));
        assert!("3.11.2".parse::<Target>().unwrap_err().contains("names a release"));
        assert_eq!(version_name(PyVersion(3, 13), true, Some(5)), "3.13.5t");
        // One floor for versions named anywhere.
        for bad in ["2.7", "3.7t"] {
            assert!(bad.parse::<Selector>().unwrap_err().contains("older than 3.8"), "{bad}");
            assert!(bad.parse::<Target>().unwrap_err().contains("older than 3.8"), "{bad}");
        }
        assert!(PyVersion(3, 8) < PyVersion(3, 10));
    }
}
