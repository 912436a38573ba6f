//! Discovering CPython interpreters and asking each what it is (version, ABI tag, build flags).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::provision::{self, DebPackage};

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

const PROBE: &str = include_str!("probe.py");

/// Runs the probe script in `argv` and parses what it reports.
pub fn probe(argv: Vec<PathBuf>, provenance: Provenance) -> Result<Interpreter> {
    let shown = argv[0].display().to_string();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .args(["-I", "-c", PROBE])
        .output()
        .with_context(|| format!("cannot start interpreter {shown}"))?;
    if !out.status.success() {
        bail!("interpreter {shown} failed its probe ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    #[derive(Deserialize)]
    struct Probe {
        version: (u8, u8, u8),
        full_version: String,
        implementation: String,
        soabi: Option<String>,
        ext_suffix: String,
        extension_suffixes: Vec<String>,
        gil_disabled: bool,
        build: BuildInfo,
    }
    let p: Probe = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("interpreter {shown} gave an unreadable probe answer"))?;
    if p.implementation != "cpython" {
        bail!("interpreter {shown} is {}, not CPython", p.implementation);
    }
    let version = PyVersion(p.version.0, p.version.1);
    let name = format!("{}.{}.{}{}", p.version.0, p.version.1, p.version.2, if p.gil_disabled { "t" } else { "" });
    Ok(Interpreter {
        name,
        argv,
        provenance,
        version,
        full_version: p.full_version,
        implementation: p.implementation,
        soabi: p.soabi.unwrap_or_default(),
        ext_suffix: p.ext_suffix,
        extension_suffixes: p.extension_suffixes,
        gil_disabled: p.gil_disabled,
        build: p.build,
    })
}

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
        v.parse()
            .map(|version| Selector::Version { version, free_threaded: ft })
            .map_err(|_| format!("'{s}' is neither a path to an interpreter nor a version like 3.11 or 3.13t"))
    }
}

/// Candidate interpreters (how to start each) from abibench's cache, pyenv and `PATH`, each with
/// where it was found.
fn candidates() -> Vec<(Vec<PathBuf>, Provenance)> {
    let mut found: Vec<(Vec<PathBuf>, Provenance)> =
        provision::installed(&crate::builds::cache_root()).into_iter().map(|i| (i.argv, i.provenance)).collect();
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    if let Some(Ok(entries)) = pyenv_root.map(|r| std::fs::read_dir(r.join("versions"))) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // pyenv names CPython versions by number; skip pypy-*, miniconda*, etc.
            if name.starts_with("3.") {
                let exe = e.path().join("bin/python3");
                if exe.is_file() {
                    found.push((vec![exe], Provenance::Pyenv));
                }
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            for minor in OLDEST.1..=20 {
                for suffix in ["", "t"] {
                    let exe = dir.join(format!("python3.{minor}{suffix}"));
                    if exe.is_file() {
                        found.push((vec![exe], Provenance::Path));
                    }
                }
            }
        }
    }
    found
}

/// Every CPython >= 3.8 in abibench's cache, pyenv and `PATH`, one per installation. A stray broken
/// python on PATH must not stop a run; it is simply not discovered.
pub fn discover_all() -> Vec<Interpreter> {
    let probed: Vec<Interpreter> = candidates()
        .into_par_iter()
        .filter_map(|(argv, prov)| probe(argv, prov).ok())
        .filter(|i| i.version >= OLDEST)
        .collect();
    unique(probed)
}

/// One interpreter per installation (the same one is often reachable twice, via pyenv and PATH:
/// the first is kept), each with a name no other has.
fn unique(probed: Vec<Interpreter>) -> Vec<Interpreter> {
    let mut by_install: BTreeMap<(PyVersion, bool, String), Interpreter> = BTreeMap::new();
    for i in probed {
        by_install.entry((i.version, i.gil_disabled, i.build.prefix.clone())).or_insert(i);
    }
    let mut found: Vec<Interpreter> = by_install.into_values().collect();
    // Two installs of one version (say pyenv's and the system's 3.11.2) are told apart by origin,
    // then by number: results key cells by name.
    let original: Vec<String> = found.iter().map(|i| i.name.clone()).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (idx, i) in found.iter_mut().enumerate() {
        if original.iter().enumerate().any(|(j, name)| j != idx && *name == original[idx]) {
            let base = format!("{} ({})", i.name, i.provenance);
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{base} #{n}");
                n += 1;
            }
            i.name = name;
        }
        taken.insert(i.name.clone());
    }
    found
}

/// Finds interpreters: discovered ones filtered by version selectors, plus explicit paths.
/// With no selectors, every discovered CPython >= 3.8 is used.
pub fn discover(selectors: &[Selector]) -> Result<Vec<Interpreter>> {
    let explicit: Vec<PathBuf> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Path(p) => Some(p.clone()),
            Selector::Version { .. } => None,
        })
        .collect();
    for p in &explicit {
        if !p.is_file() {
            bail!("--python {}: no such file", p.display());
        }
    }
    let versions: Vec<(PyVersion, bool)> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Version { version, free_threaded } => Some((*version, *free_threaded)),
            Selector::Path(_) => None,
        })
        .collect();

    let mut probed: Vec<Interpreter> =
        explicit.into_par_iter().map(|p| probe(vec![p], Provenance::Explicit)).collect::<Result<_>>()?;
    // Paths alone mean exactly those interpreters; otherwise discovery fills in (filtered by versions).
    if selectors.is_empty() || !versions.is_empty() {
        probed.extend(discover_all().into_iter().filter(|i| {
            versions.is_empty() || versions.iter().any(|(v, ft)| *v == i.version && *ft == i.gil_disabled)
        }));
    }
    let found = unique(probed);
    for (v, ft) in &versions {
        if !found.iter().any(|i| i.version == *v && i.gil_disabled == *ft) {
            bail!(
                "--python {v}{}: no such interpreter found (looked in abibench's cache, pyenv and PATH; \
                 `abibench provision --only {v}{0}` may get it; pass a path to use another)",
                if *ft { "t" } else { "" }
            );
        }
    }
    if found.is_empty() {
        bail!("no CPython >= {OLDEST} found in abibench's cache, pyenv or PATH; pass one with --python PATH");
    }
    Ok(found)
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
    fn one_interpreter_per_install_each_with_its_own_name() {
        let found = unique(vec![
            sample("3.11.2", Provenance::Path, "/usr"),
            sample("3.11.2", Provenance::Pyenv, "/p/3.11.2"),
            sample("3.11.2", Provenance::Pyenv, "/p/3.11.2"), // the same install again, via a shim
            sample("3.11.2", Provenance::Explicit, "/opt/a"),
            sample("3.11.2", Provenance::Explicit, "/opt/b"),
            sample("3.13.0", Provenance::Pyenv, "/p/3.13.0"),
        ]);
        let mut names: Vec<&str> = found.iter().map(|i| i.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["3.11.2 (--python)", "3.11.2 (--python) #2", "3.11.2 (PATH)", "3.11.2 (pyenv)", "3.13.0"]);
    }

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
        assert!(PyVersion(3, 8) < PyVersion(3, 10));
    }
}
