//! Discovering CPython interpreters and asking each what it is (version, ABI tag, build flags).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::child::{self, describe};
use crate::model::interpreter::{BuildInfo, Interpreter, Provenance};
use crate::model::version::{check_supported, version_name, PyVersion, Selector, Target, OLDEST};
use crate::setup::paths::cache_root;

const PROBE: &str = include_str!("probe.py");

/// A probe takes well under a second; an interpreter that hangs must not hang discovery.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The stamp marking a complete install in the cache.
pub const STAMP: &str = "abibench-provisioned.json";

/// A complete install found in the cache.
pub struct Installed {
    pub argv: Vec<PathBuf>,
    pub provenance: Provenance,
}

/// What `provision` writes last into an install directory: marks it complete and says how to
/// start the interpreter.
#[derive(Serialize, Deserialize)]
pub struct Stamp {
    pub target: Target,
    /// Relative to the install directory.
    pub executable: PathBuf,
    pub provenance: Provenance,
}

/// Where `provision` installs interpreters: `<cache>/interpreters/<target>/`.
pub fn interpreters_dir(cache: &Path) -> PathBuf {
    cache.join("interpreters")
}

pub fn read_stamp(dir: &Path) -> Option<Stamp> {
    serde_json::from_str(&std::fs::read_to_string(dir.join(STAMP)).ok()?).ok()
}

/// Every complete install under `cache` (for discovery).
pub fn installed(cache: &Path) -> Vec<Installed> {
    let Ok(entries) = std::fs::read_dir(interpreters_dir(cache)) else { return Vec::new() };
    let mut found: Vec<Installed> = entries
        .flatten()
        .filter_map(|e| {
            let stamp = read_stamp(&e.path())?;
            Some(Installed { argv: vec![e.path().join(stamp.executable)], provenance: stamp.provenance })
        })
        .collect();
    found.sort_by(|a, b| a.argv.cmp(&b.argv));
    found
}

/// Runs the probe script in `argv` and parses what it reports.
pub fn probe(argv: Vec<PathBuf>, provenance: Provenance) -> Result<Interpreter> {
    let shown = argv[0].display().to_string();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).args(["-I", "-c", PROBE]);
    let out = child::run(cmd, PROBE_TIMEOUT).with_context(|| format!("cannot start interpreter {shown}"))?;
    match out.status {
        Some(s) if s.success() => {}
        Some(s) => bail!("interpreter {shown} failed its probe ({}): {}", describe(&s), out.stderr.trim()),
        None => bail!("interpreter {shown} did not answer its probe within {} s", PROBE_TIMEOUT.as_secs()),
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
    let p: Probe = serde_json::from_str(&out.stdout)
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

/// Candidate interpreters (how to start each) from abibench's cache, pyenv and `PATH`, each with
/// where it was found.
fn candidates() -> Result<Vec<(Vec<PathBuf>, Provenance)>> {
    let mut found: Vec<(Vec<PathBuf>, Provenance)> =
        installed(&cache_root()?).into_iter().map(|i| (i.argv, i.provenance)).collect();
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
    Ok(found)
}

/// Every CPython >= 3.8 in abibench's cache, pyenv and `PATH`, one per installation. A stray broken
/// python on PATH must not stop a run; it is simply not discovered.
pub fn discover_all() -> Result<Vec<Interpreter>> {
    let probed: Vec<Interpreter> = candidates()?
        .into_par_iter()
        .filter_map(|(argv, prov)| probe(argv, prov).ok())
        .filter(|i| i.version >= OLDEST)
        .collect();
    Ok(unique(probed))
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

/// A version selector: minor version, free-threaded, and the micro version when one was named.
type Wanted = (PyVersion, bool, Option<u32>);

/// The discovered interpreters the version selectors name (all of them without selectors); an
/// error names a selector that matches none, with what was found of that minor version.
fn select(discovered: Vec<Interpreter>, versions: &[Wanted]) -> Result<Vec<Interpreter>> {
    let matches = |i: &Interpreter, (v, ft, micro): &Wanted| {
        i.version == *v && i.gil_disabled == *ft && micro.is_none_or(|m| i.micro() == Some(m))
    };
    for w @ (v, ft, micro) in versions {
        if !discovered.iter().any(|i| matches(i, w)) {
            let same_minor: Vec<&str> =
                discovered.iter().filter(|i| i.version == *v && i.gil_disabled == *ft).map(|i| i.release()).collect();
            let found = match same_minor.is_empty() {
                true => String::new(),
                false => format!(" (found {}: {})", version_name(*v, *ft, None), same_minor.join(", ")),
            };
            bail!(
                "--python {}: no such interpreter found{found}; looked in abibench's cache, pyenv and PATH \
                 (`abibench provision --only {}` may get that version; pass a path to use another)",
                version_name(*v, *ft, *micro),
                version_name(*v, *ft, None)
            );
        }
    }
    Ok(discovered.into_iter().filter(|i| versions.is_empty() || versions.iter().any(|w| matches(i, w))).collect())
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
    let versions: Vec<Wanted> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Version { version, free_threaded, micro } => Some((*version, *free_threaded, *micro)),
            Selector::Path(_) => None,
        })
        .collect();

    let mut probed: Vec<Interpreter> =
        explicit.into_par_iter().map(|p| probe(vec![p], Provenance::Explicit)).collect::<Result<_>>()?;
    for i in &probed {
        check_supported(i.version).map_err(|e| anyhow::anyhow!("--python {}: {e}", i.argv[0].display()))?;
    }
    // Paths alone mean exactly those interpreters; otherwise discovery fills in (filtered by versions).
    if selectors.is_empty() || !versions.is_empty() {
        probed.extend(select(discover_all()?, &versions)?);
    }
    let found = unique(probed);
    if found.is_empty() {
        bail!("no CPython >= {OLDEST} found in abibench's cache, pyenv or PATH; pass one with --python PATH");
    }
    Ok(found)
}

/// A line for each version selector (`--python 3.11`) that picked several interpreters: all of
/// them are used, as documented, and the line names them and how to pick one.
pub fn several_per_version(selectors: &[Selector], found: &[Interpreter]) -> Vec<String> {
    let mut lines = Vec::new();
    for s in selectors {
        let Selector::Version { version, free_threaded, micro: None } = s else { continue };
        let picked: Vec<&Interpreter> =
            found.iter().filter(|i| i.version == *version && i.gil_disabled == *free_threaded).collect();
        if picked.len() < 2 {
            continue;
        }
        let releases: Vec<&str> = picked.iter().map(|i| i.release()).collect();
        let how: Vec<String> = picked
            .iter()
            .map(|i| match releases.iter().filter(|r| **r == i.release()).count() {
                1 => format!("--python {}", i.release()),
                _ => format!("--python {}", i.argv[0].display()),
            })
            .collect();
        let each: Vec<String> =
            picked.iter().map(|i| format!("{} ({}: {})", i.name, i.provenance, i.argv[0].display())).collect();
        lines.push(format!(
            "--python {}: {} interpreters of that version, all used: {}; to pick one, say {}",
            version_name(*version, *free_threaded, None),
            picked.len(),
            each.join(", "),
            how.join(" or ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::interpreter::sample;

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
    fn a_minor_version_selects_every_release_of_it_and_a_full_version_exactly_one() {
        let found = || {
            ["3.11.7", "3.11.2", "3.12.1", "3.13.5t"]
                .map(|name| {
                    let mut i = sample(name, Provenance::Pyenv, &format!("/p/{name}"));
                    i.full_version = format!("{} (main, Jan 1 2026) [GCC 12.2.0]", name.trim_end_matches('t'));
                    i.version = PyVersion(3, name[2..4].parse().unwrap());
                    i.gil_disabled = name.ends_with('t');
                    i
                })
                .to_vec()
        };
        let names = |sel: &[&str]| -> Result<Vec<String>> {
            let wanted: Vec<Wanted> = sel
                .iter()
                .map(|s| match s.parse().unwrap() {
                    Selector::Version { version, free_threaded, micro } => (version, free_threaded, micro),
                    Selector::Path(_) => unreachable!(),
                })
                .collect();
            Ok(select(found(), &wanted)?.into_iter().map(|i| i.name).collect())
        };
        assert_eq!(names(&["3.11"]).unwrap(), ["3.11.7", "3.11.2"]);
        assert_eq!(names(&["3.11.2"]).unwrap(), ["3.11.2"]);
        assert_eq!(names(&["3.11.2", "3.13.5t"]).unwrap(), ["3.11.2", "3.13.5t"]);
        assert_eq!(names(&["3.13t"]).unwrap(), ["3.13.5t"]);
        assert_eq!(names(&[]).unwrap().len(), 4);
        let err = names(&["3.11.5"]).unwrap_err().to_string();
        assert!(err.starts_with("--python 3.11.5: no such interpreter found (found 3.11: 3.11.7, 3.11.2)"), "{err}");
        let err = names(&["3.13.5"]).unwrap_err().to_string();
        assert!(err.starts_with("--python 3.13.5: no such interpreter found;"), "{err}");
    }

    #[test]
    fn a_minor_version_that_picks_several_says_which_and_how_to_pick_one() {
        let interp = |release: &str, p: Provenance, prefix: &str| {
            let mut i = sample(release, p, prefix);
            i.full_version = format!("{release} (main, Jan 1 2026) [GCC 12.2.0]");
            i.version = PyVersion(3, release[2..4].parse().unwrap());
            i
        };
        let found = vec![
            interp("3.11.7", Provenance::Pyenv, "/p/3.11.7"),
            interp("3.11.2", Provenance::Path, "/usr"),
            interp("3.12.1", Provenance::Pyenv, "/p/3.12.1"),
        ];
        let selectors: Vec<Selector> = ["3.11", "3.12", "3.11.2"].iter().map(|s| s.parse().unwrap()).collect();
        let lines = several_per_version(&selectors, &found);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert!(line.starts_with("--python 3.11: 2 interpreters of that version, all used: 3.11.7 (pyenv: "), "{line}");
        assert!(line.contains("3.11.2 (PATH: ") && line.ends_with("say --python 3.11.7 or --python 3.11.2"), "{line}");
        // Two installs of one release: only a path tells them apart.
        let twins =
            unique(vec![interp("3.11.2", Provenance::Pyenv, "/p/3.11.2"), interp("3.11.2", Provenance::Path, "/usr")]);
        let line = &several_per_version(&selectors[..1], &twins)[0];
        assert!(line.contains(&format!("--python {}", twins[0].argv[0].display())), "{line}");
        assert!(several_per_version(&[], &found).is_empty());
    }
}
