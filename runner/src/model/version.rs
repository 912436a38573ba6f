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
    /// `3.11` or `3.13t`: matches discovered interpreters of that version.
    Version {
        version: PyVersion,
        free_threaded: bool,
    },
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains('/') {
            return Ok(Selector::Path(PathBuf::from(s)));
        }
        let (v, ft) = match s.strip_suffix('t') {
            Some(v) => (v, true),
            None => (s, false),
        };
        let version: PyVersion = v
            .parse()
            .map_err(|_| format!("'{s}' is neither a path to an interpreter nor a version like 3.11 or 3.13t"))?;
        check_supported(version)?;
        Ok(Selector::Version { version, free_threaded: ft })
    }
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
            Selector::Version { version, free_threaded } => Ok(Target { version, free_threaded }),
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
            Ok(Selector::Version { version: PyVersion(3, 11), free_threaded: false })
        ));
        assert!(matches!(
            "3.13t".parse::<Selector>(),
            Ok(Selector::Version { version: PyVersion(3, 13), free_threaded: true })
        ));
        assert!(matches!("/usr/bin/python3".parse::<Selector>(), Ok(Selector::Path(_))));
        assert!("python".parse::<Selector>().unwrap_err().contains("neither a path"));
        // One floor for versions named anywhere.
        for bad in ["2.7", "3.7t"] {
            assert!(bad.parse::<Selector>().unwrap_err().contains("older than 3.8"), "{bad}");
            assert!(bad.parse::<Target>().unwrap_err().contains("older than 3.8"), "{bad}");
        }
        assert!(PyVersion(3, 8) < PyVersion(3, 10));
    }
}
