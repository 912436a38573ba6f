//! A probed interpreter, as the results record it: version, ABI tags, how it was built, and where
//! it came from.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{fmt, str};

use serde::{Deserialize, Serialize};

use crate::model::version::{PyVersion, Target};

/// One Debian package at one version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DebPackage {
    pub name: String,
    pub version: String,
}

/// Where an interpreter came from; it decides how far its build flags can be trusted to match others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// Built by pyenv's python-build (in pyenv, or provisioned into abibench's cache).
    Pyenv,
    Path,
    Explicit,
    /// Debian binary packages unpacked by `abibench provision`, run through their own loader.
    DebianPackages {
        suite: String,
        packages: Vec<DebPackage>,
    },
    /// Built by `abibench provision` from a Debian source package's upstream tarball.
    SourceBuild {
        source_package: String,
        source_version: String,
        suite: String,
        configure_args: Vec<String>,
        /// Optional stdlib modules left out for want of headers on the build machine.
        missing_modules: Vec<String>,
    },
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::Pyenv => f.write_str("pyenv"),
            Provenance::Path => f.write_str("PATH"),
            Provenance::Explicit => f.write_str("--python"),
            Provenance::DebianPackages { suite, .. } => write!(f, "Debian {suite} packages"),
            Provenance::SourceBuild { source_package, source_version, .. } => {
                write!(f, "source build of Debian {source_package} {source_version}")
            }
        }
    }
}

/// A probed interpreter: everything later stages need, and what the results must record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interpreter {
    /// Short display name, e.g. `3.11.7` or `3.13.5t`.
    pub name: String,
    /// How to start it: the executable, possibly behind a launcher.
    pub argv: Vec<PathBuf>,
    pub provenance: Provenance,
    pub version: PyVersion,
    pub full_version: String,
    pub implementation: String,
    pub soabi: String,
    pub ext_suffix: String,
    /// Suffixes its import system accepts, in order (decides what loads, e.g. no `.abi3.so` on 3.13t).
    pub extension_suffixes: Vec<String>,
    pub gil_disabled: bool,
    pub build: BuildInfo,
}

/// How the interpreter itself was compiled: differences here mix into cross-version comparisons.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildInfo {
    pub compiler: String,
    pub cc: String,
    pub opt: String,
    pub config_args: String,
    pub pgo: bool,
    pub lto: bool,
    /// Whether the interpreter code runs from a shared libpython (asked of the running process).
    pub shared: bool,
    pub prefix: String,
    /// `LIBDIR`, `INSTSONAME`, `LDLIBRARY`: where its libpython is, for the matrix's link check.
    /// Defaulted so results written before these were probed still read.
    #[serde(default)]
    pub libdir: String,
    #[serde(default)]
    pub instsoname: String,
    #[serde(default)]
    pub ldlibrary: String,
    /// Built by Debian's packaging (its patched sysconfig has the `deb_system` scheme).
    #[serde(default)]
    pub debian: bool,
}

impl Interpreter {
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]);
        cmd
    }

    /// Whether this is the interpreter `t` asks for (version and free-threading).
    pub fn is(&self, t: &Target) -> bool {
        self.version == t.version && self.gil_disabled == t.free_threaded
    }

    /// The release, `3.12.1`: the first word of `full_version` (which is `sys.version`, build date
    /// and compiler included).
    pub fn release(&self) -> &str {
        self.full_version.split_whitespace().next().unwrap_or_default()
    }

    /// The micro version, `1` of `3.12.1` (`None` if the release does not say).
    pub fn micro(&self) -> Option<u32> {
        let micro = self.release().split('.').nth(2)?;
        micro[..micro.find(|c: char| !c.is_ascii_digit()).unwrap_or(micro.len())].parse().ok()
    }

    /// Stable identifier used in results: version, free-threading, and provenance.
    pub fn id(&self) -> String {
        self.name.clone()
    }

    /// The interpreter's shared libpython: `LIBDIR/INSTSONAME` (the versioned file the loader
    /// opens), else `LIBDIR/LDLIBRARY` when that is a shared object. `Err` says what was looked for.
    pub fn libpython(&self) -> Result<PathBuf, String> {
        let b = &self.build;
        // An unpacked Debian root's sysconfig names the paths the packages install to (/usr/lib/…).
        let libdir = match self.sysroot() {
            Some(root) => root.join(b.libdir.trim_start_matches('/')),
            None => PathBuf::from(&b.libdir),
        };
        [&b.instsoname, &b.ldlibrary]
            .into_iter()
            .filter(|n| n.contains(".so"))
            .map(|n| libdir.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!(
                    "{} has no shared libpython (LIBDIR {:?}, INSTSONAME {:?}, LDLIBRARY {:?})",
                    self.name, libdir, b.instsoname, b.ldlibrary
                )
            })
    }

    /// The unpacked root of a Debian-packaged interpreter (its `sys.prefix` is `<root>/usr`, as
    /// its launcher sets `PYTHONHOME`); `None` for an interpreter installed in place.
    pub fn sysroot(&self) -> Option<&Path> {
        match self.provenance {
            Provenance::DebianPackages { .. } => Path::new(&self.build.prefix).parent(),
            _ => None,
        }
    }
}

/// An interpreter as a probe might describe one (a pyenv 3.13.0 built with GCC 12 at -O3), for tests.
#[cfg(test)]
pub(crate) fn sample(name: &str, provenance: Provenance, prefix: &str) -> Interpreter {
    Interpreter {
        name: name.into(),
        argv: vec![PathBuf::from(prefix).join("bin/python3")],
        provenance,
        version: PyVersion(3, 13),
        full_version: String::new(),
        implementation: "cpython".into(),
        soabi: String::new(),
        ext_suffix: String::new(),
        extension_suffixes: vec![],
        gil_disabled: false,
        build: BuildInfo {
            compiler: "GCC 12.2.0".into(),
            cc: "gcc".into(),
            opt: "-DNDEBUG -g -O3 -Wall".into(),
            config_args: String::new(),
            pgo: false,
            lto: false,
            shared: true,
            prefix: prefix.into(),
            libdir: format!("{prefix}/lib"),
            instsoname: "libpython3.13.so.1.0".into(),
            ldlibrary: "libpython3.13.so".into(),
            debian: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_micro_version_comes_from_the_release() {
        let mut i = sample("3.15.0", Provenance::Pyenv, "/p");
        for (full, micro) in [("3.12.1 (main, Jan 1 2026)", Some(1)), ("3.15.0a2+ (heads/main)", Some(0)), ("", None)] {
            i.full_version = full.into();
            assert_eq!(i.micro(), micro, "{full}");
        }
    }
}
