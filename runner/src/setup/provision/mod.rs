//! Provisioning the interpreters a comparison needs but the machine lacks, into
//! `<cache>/interpreters/<target>/` (e.g. `3.15`, `3.13t`). Nothing outside the cache changes.
//!
//! Routes, tried in order until one works:
//! 1. pyenv's `python-build` (into the cache, not `~/.pyenv`): the recipe pyenv's own installs use,
//!    so its builds compare most fairly with them. Needs to download from python.org.
//! 2. Debian: sid binary packages for GIL builds (`debian.rs`), a build of Debian's source package
//!    for free-threaded ones (`source.rs`), fetched with apt under a private configuration (`apt.rs`).
//!
//! An install is complete once its stamp (`abibench-provisioned.json`, written last) exists; a
//! directory without one is a half-done install and is redone. One provisioning run at a time
//! holds `<cache>/interpreters/.lock`, so concurrent runs wait rather than build twice.

mod apt;
mod debian;
mod pyenv;
mod source;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub use debian::{root_loader, RootLoader};

use crate::model::interpreter::{Interpreter, Provenance};
use crate::model::version::{PyVersion, Selector, Target, NEWEST, OLDEST};
use crate::setup::interpreters::{self, interpreters_dir, read_stamp, Stamp, STAMP};

/// What `compare` covers when not told otherwise: 3.8 to 3.15, and free-threaded 3.13.
pub fn default_range() -> Vec<Target> {
    let mut range: Vec<Target> =
        (OLDEST.1..=NEWEST.1).map(|m| Target { version: PyVersion(3, m), free_threaded: false }).collect();
    range.push(Target { version: PyVersion(3, 13), free_threaded: true });
    range
}

/// Free-threaded versions `provision` also tries by default, so it can say whether this machine
/// can have them; `compare` does not retry them on every run.
pub fn extras() -> Vec<Target> {
    (14..=NEWEST.1).map(|m| Target { version: PyVersion(3, m), free_threaded: true }).collect()
}

/// The targets a `--python` selection implies: the default range without selectors, the versions
/// named otherwise (paths name no target).
pub fn range_of(selectors: &[Selector]) -> Vec<Target> {
    if selectors.is_empty() {
        return default_range();
    }
    selectors
        .iter()
        .filter_map(|s| match *s {
            // Never below the floor: `Selector` refuses such versions when it is parsed.
            Selector::Version { version, free_threaded, .. } => Some(Target { version, free_threaded }),
            Selector::Path(_) => None,
        })
        .collect()
}

/// What became of one target.
pub enum Outcome {
    /// Already there (discovered, or provisioned earlier).
    Present(Interpreter),
    /// Provisioned by this run.
    Provisioned { interpreter: Interpreter, seconds: f64 },
    /// Every route failed; the reasons, one per route.
    Failed(Vec<String>),
}

/// What one route produced, before it is verified and stamped.
struct Install {
    executable: PathBuf,
    provenance: Provenance,
}

/// Shared by the routes of one run: where things go, apt (opened when first needed), progress.
struct Ctx<'a> {
    root: PathBuf,
    apt: Option<apt::Apt>,
    note: &'a dyn Fn(String),
}

impl Ctx<'_> {
    /// Downloaded packages and sources, kept so a redone install fetches nothing again.
    fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    /// Scratch space (build trees, python-build's temporary files); emptied after each install.
    fn scratch(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn apt(&mut self) -> Result<&mut apt::Apt> {
        if self.apt.is_none() {
            let arch = run(Command::new("dpkg").arg("--print-architecture"), "dpkg --print-architecture")?;
            let ours = apt::arch().map(|a| a.debian);
            if ours != Some(arch.trim()) {
                let known: Vec<&str> = apt::ARCHES.iter().map(|(_, a)| a.debian).collect();
                bail!(
                    "the Debian route supports {} only (dpkg says this machine is {}, abibench was built for {})",
                    known.join(" and "),
                    arch.trim(),
                    std::env::consts::ARCH
                );
            }
            // A non-Debian system (an Ubuntu CI runner) names a Debian mirror itself.
            let archive = match std::env::var_os(apt::MIRROR_ENV) {
                Some(uri) => apt::Archive::named(&uri.to_string_lossy()),
                None => apt::system_archive(&codename()?)?,
            };
            (self.note)(format!("Debian mirror {} (from {})", archive.uri, archive.file.display()));
            self.apt = Some(apt::Apt::open(&self.root.join("apt"), &archive)?);
        }
        let apt = self.apt.as_mut().expect("just opened");
        apt.update(self.note)?;
        Ok(apt)
    }
}

/// This system's release codename, from /etc/os-release.
fn codename() -> Result<String> {
    let text = std::fs::read_to_string("/etc/os-release").context("cannot read /etc/os-release")?;
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME=").map(|v| v.trim_matches('"').to_string()))
        .filter(|c| !c.is_empty())
        .context("/etc/os-release has no VERSION_CODENAME: the Debian route needs a Debian system")
}

/// Ensures every target is present, provisioning the missing ones; never stops at a failure.
/// `note` receives progress lines; nothing is said when everything is present already.
pub fn provision(targets: &[Target], cache: &Path, note: &dyn Fn(String)) -> Result<Vec<(Target, Outcome)>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let present = interpreters::discover_all()?;
    let find = |t: &Target, among: &[Interpreter]| among.iter().find(|i| i.is(t)).cloned();
    let mut outcomes: Vec<(Target, Outcome)> = Vec::new();
    let mut missing: Vec<Target> = Vec::new();
    for &t in targets {
        match find(&t, &present) {
            Some(i) => outcomes.push((t, Outcome::Present(i))),
            None => missing.push(t),
        }
    }
    if missing.is_empty() {
        return Ok(outcomes);
    }
    // GIL builds first: they are quick; a source build takes minutes.
    missing.sort_by_key(|t| (t.free_threaded, t.version));
    let root = interpreters_dir(cache);
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    note(format!(
        "provisioning {} into {}",
        missing.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
        root.display()
    ));
    let _lock = Lock::acquire(&root.join(".lock"), note)?;
    let mut ctx = Ctx { root, apt: None, note };
    for t in missing {
        let start = Instant::now();
        let outcome = match provision_one(t, &mut ctx) {
            Ok((interpreter, fresh)) => {
                let seconds = start.elapsed().as_secs_f64();
                if fresh {
                    note(format!("{t}: ready: {} ({}) in {seconds:.0} s", interpreter.name, interpreter.provenance));
                    Outcome::Provisioned { interpreter, seconds }
                } else {
                    Outcome::Present(interpreter)
                }
            }
            Err(reasons) => {
                note(format!("{t}: FAILED: {}", condensed(&reasons)));
                Outcome::Failed(reasons)
            }
        };
        outcomes.push((t, outcome));
    }
    let _ = std::fs::remove_dir_all(ctx.scratch());
    outcomes.sort_by_key(|(t, _)| (t.free_threaded, t.version));
    Ok(outcomes)
}

/// The step before discovery (`compare`, `matrix`): provisions what of `targets` (`range_of` a
/// `--python` selection) this machine lacks. Failures are reported and the command goes on with
/// what there is.
pub fn for_targets(targets: &[Target], cache: &Path, note: &dyn Fn(String)) {
    if let Err(e) = provision(targets, cache, note) {
        note(format!("{e:#}"));
    }
}

/// Runs the routes for one target until one works. `Ok((_, false))` when another run finished it
/// while this one waited for the lock.
fn provision_one(t: Target, ctx: &mut Ctx) -> Result<(Interpreter, bool), Vec<String>> {
    let dir = ctx.root.join(t.to_string());
    if let Some(stamp) = read_stamp(&dir) {
        let i = interpreters::probe(vec![dir.join(stamp.executable)], stamp.provenance);
        // A complete install that no longer starts is not silently rebuilt: that would hide why.
        return i
            .map(|i| (i, false))
            .map_err(|e| vec![format!("{e:#} (remove {} to provision it again)", dir.display())]);
    }
    type Route = fn(Target, &Path, &mut Ctx) -> Result<Install>;
    let second: (&str, Route) =
        if t.free_threaded { ("Debian source", source::install) } else { ("Debian sid", debian::install) };
    let mut reasons = Vec::new();
    for (name, route) in [("pyenv", pyenv::install as Route), second] {
        // Whatever a failed attempt left is not an install.
        let cleared = [dir.clone(), ctx.scratch()]
            .iter()
            .filter(|d| d.exists())
            .try_for_each(|d| std::fs::remove_dir_all(d).with_context(|| format!("cannot remove {}", d.display())));
        let attempt = cleared.and_then(|()| route(t, &dir, ctx)).and_then(|install| finish(t, &dir, install));
        match attempt {
            Ok(i) => return Ok((i, true)),
            Err(e) => {
                let reason = format!("{name}: {e:#}");
                // One line here; the tool's whole output stays in a log of the cache.
                let log = ctx.root.join(format!("{t}-{}.log", name.replace(' ', "-")));
                let kept =
                    std::fs::write(&log, &reason).map_or(String::new(), |()| format!(" (log: {})", log.display()));
                (ctx.note)(format!("{t}: {}{kept}", condensed(std::slice::from_ref(&reason))));
                reasons.push(reason);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Err(reasons)
}

/// Checks the install is the interpreter asked for, then writes its stamp: the last step.
fn finish(t: Target, dir: &Path, install: Install) -> Result<Interpreter> {
    let i = interpreters::probe(vec![dir.join(&install.executable)], install.provenance.clone())?;
    if !i.is(&t) {
        bail!(
            "the installed interpreter is {} ({}), not {t}",
            i.name,
            if i.gil_disabled { "free-threaded" } else { "GIL" }
        );
    }
    let stamp = Stamp { target: t, executable: install.executable, provenance: install.provenance };
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&tmp, &stamp)?;
    tmp.persist(dir.join(STAMP))?;
    Ok(i)
}

/// The reasons of a failed target on one line each route: a tool's quoted output shortened to
/// its first and last lines (the full text is in the route's log in the cache).
pub fn condensed(reasons: &[String]) -> String {
    let short: Vec<String> = reasons
        .iter()
        .map(|r| {
            let lines: Vec<&str> = r.lines().collect();
            match lines.as_slice() {
                [first, .., last] => format!("{first} … {last}"),
                _ => r.clone(),
            }
        })
        .collect();
    short.join("; ")
}

/// How many trailing lines of a failed tool's output an error quotes.
const TAIL: usize = 12;

/// Runs a tool to completion and returns its stdout; on failure the error names `what` and
/// quotes the tail of its stderr (or stdout, for tools that report there).
fn run(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.stdin(Stdio::null()).output().with_context(|| format!("cannot start {what}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let text = if stderr.trim().is_empty() { stdout.as_str() } else { &stderr };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        bail!("{what} failed ({}): {}", out.status, lines[lines.len().saturating_sub(TAIL)..].join("\n"));
    }
    Ok(stdout)
}

/// Shell-quotes a path for the launcher scripts.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// `<cache>/interpreters/.lock`, holding the owner's pid; a lock whose owner is gone is taken over.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path, note: &dyn Fn(String)) -> Result<Lock> {
        let mut said = false;
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => {
                    std::fs::write(path, std::process::id().to_string())?;
                    return Ok(Lock(path.to_path_buf()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let owner = std::fs::read_to_string(path).unwrap_or_default();
                    let alive = !owner.trim().is_empty() && Path::new("/proc").join(owner.trim()).exists();
                    if !alive {
                        // Either its owner died, or it is just being written: retry after a moment.
                        std::thread::sleep(Duration::from_millis(200));
                        if std::fs::read_to_string(path).unwrap_or_default() == owner {
                            let _ = std::fs::remove_file(path);
                        }
                        continue;
                    }
                    if !said {
                        note(format!(
                            "waiting for abibench pid {} to finish provisioning ({})",
                            owner.trim(),
                            path.display()
                        ));
                        said = true;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_ranges_cover_3_8_to_3_15_plus_3_13t() {
        assert_eq!("3.13t".parse::<Target>(), Ok(Target { version: PyVersion(3, 13), free_threaded: true }));
        assert!("3.7".parse::<Target>().unwrap_err().contains("older than 3.8"));
        assert!("/usr/bin/python3".parse::<Target>().unwrap_err().contains("is a path"));
        let names: Vec<String> = default_range().iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.13t"]);
        assert_eq!(extras().iter().map(|t| t.to_string()).collect::<Vec<_>>(), ["3.14t", "3.15t"]);
        let sel: Vec<Selector> = ["3.15", "/usr/bin/python3", "3.13t"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(range_of(&sel).iter().map(|t| t.to_string()).collect::<Vec<_>>(), ["3.15", "3.13t"]);
        assert_eq!(range_of(&[]), default_range());
    }

    #[test]
    fn launcher_paths_are_quoted_for_sh() {
        assert_eq!(sh_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
