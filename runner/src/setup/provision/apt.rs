//! A private apt configuration under the cache: Debian's own tools fetch binary packages (sid)
//! and source packages without reading or writing the system's apt state. Only the system's
//! mirror URI and keyring are borrowed, from its sources files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};

use super::run;
use crate::model::interpreter::DebPackage;

/// The suite binary packages come from: the only one with 3.14 and 3.15 today.
pub const BINARY_SUITE: &str = "sid";
/// Suites searched for source packages, stable first: a released source, maintained for security.
pub const SOURCE_SUITES: [&str; 2] = ["trixie", "sid"];
/// Used when the system's archive entry names no keyring file (e.g. an inline key).
const DEFAULT_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Indexes younger than this are reused: a provisioning run rarely needs a fresher archive, and a
/// second run must not fetch ~35 MB of indexes again.
const FRESH_FOR: Duration = Duration::from_secs(6 * 3600);
/// This machine as Debian names it, with its dynamic loader and multiarch directory: the binary
/// route's packages and how their interpreter is started (`None`: no route for this machine).
pub struct Arch {
    pub debian: &'static str,
    pub loader: &'static str,
    pub multiarch: &'static str,
}

pub const ARCHES: [(&str, Arch); 2] = [
    ("x86_64", Arch { debian: "amd64", loader: "ld-linux-x86-64.so.2", multiarch: "x86_64-linux-gnu" }),
    ("aarch64", Arch { debian: "arm64", loader: "ld-linux-aarch64.so.1", multiarch: "aarch64-linux-gnu" }),
];

/// The `Arch` of the machine abibench was built for.
pub fn arch() -> Option<&'static Arch> {
    ARCHES.iter().find(|(rust, _)| *rust == std::env::consts::ARCH).map(|(_, a)| a)
}

/// The system's Debian archive, as its apt configuration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub uri: String,
    pub keyring: String,
    /// The file it was read from, for error messages.
    pub file: PathBuf,
}

/// Overrides the mirror taken from the system's sources (with Debian's keyring package's key).
pub const MIRROR_ENV: &str = "ABIBENCH_DEBIAN_MIRROR";

impl Archive {
    /// A mirror named by `$ABIBENCH_DEBIAN_MIRROR`, checked with the debian-archive-keyring key.
    pub fn named(uri: &str) -> Archive {
        Archive { uri: uri.into(), keyring: DEFAULT_KEYRING.into(), file: PathBuf::from(format!("${MIRROR_ENV}")) }
    }
}

/// Finds the archive entry serving the system's own release (`codename`, e.g. bookworm), whose
/// URI therefore carries every Debian suite. Security and updates suites (`bookworm-security`)
/// and third-party repositories never serve `codename` itself, so they are not picked.
pub fn system_archive(codename: &str) -> Result<Archive> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut parts: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        parts.sort();
        files.extend(parts);
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let found = match file.extension().and_then(|x| x.to_str()) {
            Some("sources") => parse_deb822(&text, codename),
            Some("list") => parse_one_line(&text, codename),
            _ => None,
        };
        if let Some((uri, keyring)) = found {
            return Ok(Archive { uri, keyring: keyring.unwrap_or_else(|| DEFAULT_KEYRING.into()), file });
        }
    }
    bail!(
        "no Debian archive for this system's release '{codename}' in /etc/apt/sources.list or \
         /etc/apt/sources.list.d/*.sources|*.list: the Debian route borrows that mirror (on another \
         system, name one: {MIRROR_ENV}=http://deb.debian.org/debian, with debian-archive-keyring installed)"
    )
}

/// `(uri, keyring)` of the first `deb` line serving `codename` with component `main`.
fn parse_one_line(text: &str, codename: &str) -> Option<(String, Option<String>)> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let Some(rest) = line.trim().strip_prefix("deb ") else { continue };
        let mut rest = rest.trim_start().to_string();
        let mut keyring = None;
        if let Some(opts) = rest.strip_prefix('[') {
            let Some((opts, after)) = opts.split_once(']') else { continue };
            keyring = opts.split_whitespace().find_map(|o| o.strip_prefix("signed-by=")).map(String::from);
            rest = after.trim().to_string();
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        if words.len() >= 3 && words[1] == codename && words[2..].contains(&"main") {
            return Some((words[0].to_string(), keyring.filter(|k| k.starts_with('/'))));
        }
    }
    None
}

/// The same for deb822 `.sources` files (stanzas of `Field: value`, blank-line separated).
fn parse_deb822(text: &str, codename: &str) -> Option<(String, Option<String>)> {
    let uncommented: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    for stanza in uncommented.join("\n").split("\n\n") {
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut last: Option<String> = None;
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                // A continuation line (e.g. an inline key): belongs to the previous field.
                if let Some(k) = &last {
                    fields.entry(k.clone()).or_default().push_str(&format!("\n{}", line.trim()));
                }
            } else if let Some((k, v)) = line.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                fields.insert(k.clone(), v.trim().to_string());
                last = Some(k);
            }
        }
        let has = |field: &str, word: &str| fields.get(field).is_some_and(|v| v.split_whitespace().any(|w| w == word));
        if fields.get("enabled").is_some_and(|v| v == "no") || !has("types", "deb") {
            continue;
        }
        if has("suites", codename) && has("components", "main") {
            let uri = fields.get("uris")?.split_whitespace().next()?.to_string();
            let keyring = fields.get("signed-by").filter(|k| k.starts_with('/')).cloned();
            return Some((uri, keyring));
        }
    }
    None
}

/// A version constraint: (operator, version), e.g. `(">=", "2.38")`.
type Constraint = (String, String);
/// One clause of a `Depends` field: its alternatives, `a (>= 1) | b`.
type Clause = Vec<(String, Option<Constraint>)>;

/// A package's candidate in the private configuration, with what it depends on.
#[derive(Debug, Clone)]
struct Candidate {
    package: DebPackage,
    arch: String,
    /// `Pre-Depends` and `Depends`.
    depends: Vec<Clause>,
}

/// Parses a `Depends` value: `a (>= 1), b | c, d:any`.
fn parse_depends(value: &str) -> Vec<Clause> {
    value
        .split(',')
        .map(|clause| {
            clause
                .split('|')
                .filter_map(|alt| {
                    let alt = alt.trim();
                    let (name, constraint) = match alt.split_once('(') {
                        Some((n, c)) => {
                            let c = c.trim_end_matches(')').trim();
                            let split = c.find(|ch: char| !"<>=".contains(ch)).unwrap_or(c.len());
                            (n.trim(), Some((c[..split].to_string(), c[split..].trim().to_string())))
                        }
                        None => (alt, None),
                    };
                    // `python3:any` names the package `python3`.
                    let name = name.split(':').next().unwrap_or_default();
                    (!name.is_empty()).then(|| (name.to_string(), constraint))
                })
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .collect()
}

/// Whether this system has `name` installed at a version meeting `constraint` (read-only dpkg query).
fn system_satisfies(name: &str, constraint: &Option<Constraint>) -> bool {
    let Ok(out) = Command::new("dpkg-query").args(["-W", "-f", "${db:Status-Abbrev}\t${Version}", name]).output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(("ii ", installed)) = text.split_once('\t') else { return false };
    match constraint {
        None => true,
        Some((op, wanted)) => {
            let op = match op.as_str() {
                ">=" => "ge",
                "<=" => "le",
                ">>" => "gt",
                "<<" => "lt",
                _ => "eq",
            };
            Command::new("dpkg").args(["--compare-versions", installed, op, wanted]).status().is_ok_and(|s| s.success())
        }
    }
}

/// The private configuration: `<dir>/apt.conf` (handed to apt in `APT_CONFIG`), its own
/// sources list, state, lists and archive cache, all under `dir`.
pub struct Apt {
    dir: PathBuf,
    /// Extra `-o` options decided while running (see `update`).
    options: Vec<String>,
    updated: bool,
}

impl Apt {
    /// Writes the configuration (every time: it is cheap and follows the system's mirror).
    pub fn open(dir: &Path, archive: &Archive) -> Result<Apt> {
        for sub in [
            "etc/apt.conf.d",
            "etc/sources.list.d",
            "etc/preferences.d",
            "etc/trusted.gpg.d",
            "state/lists/partial",
            "cache/archives/partial",
        ] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
        }
        let signed = format!("[signed-by={}]", archive.keyring);
        let mut sources = format!("deb {signed} {} {BINARY_SUITE} main\n", archive.uri);
        for suite in SOURCE_SUITES {
            sources.push_str(&format!("deb-src {signed} {} {suite} main\n", archive.uri));
        }
        std::fs::write(dir.join("etc/sources.list"), sources)?;
        // No packages count as installed here: which ones this system already has is asked of
        // dpkg directly (`system_satisfies`), read-only.
        let status = dir.join("state/status");
        if !status.exists() {
            std::fs::write(&status, "")?;
        }
        let d = dir.display();
        let arch = arch().map_or("amd64", |a| a.debian);
        let conf = format!(
            "// Written by `abibench provision`: apt reads only this, never /etc/apt.\n\
             Dir::Etc \"{d}/etc/\";\n\
             Dir::State \"{d}/state/\";\n\
             Dir::State::status \"{d}/state/status\";\n\
             Dir::Cache \"{d}/cache/\";\n\
             APT::Architecture \"{arch}\";\n\
             APT::Architectures {{ \"{arch}\"; }};\n\
             Acquire::Languages \"none\";\n\
             // Downloads go to the user's cache, which apt's _apt sandbox user may not reach.\n\
             APT::Sandbox::User \"root\";\n"
        );
        std::fs::write(dir.join("apt.conf"), conf)?;
        Ok(Apt { dir: dir.to_path_buf(), options: Vec::new(), updated: false })
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool);
        cmd.env("APT_CONFIG", self.dir.join("apt.conf")).env("LC_ALL", "C").args(&self.options);
        cmd
    }

    /// `apt-get update` in the private configuration, at most once per run and not at all when
    /// the indexes are fresh. A mirror serving a frozen snapshot has an expired sid Release;
    /// that is then accepted (signatures are still checked) and said so.
    pub fn update(&mut self, note: &dyn Fn(String)) -> Result<()> {
        let marker = self.dir.join("state/updated");
        let fresh = std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|age| age < FRESH_FOR));
        let expired = self.dir.join("state/valid-until-expired");
        if expired.exists() {
            self.options = vec!["-o".into(), "Acquire::Check-Valid-Until=false".into()];
        }
        if self.updated || fresh {
            self.updated = true;
            return Ok(());
        }
        note("apt-get update (private configuration)".into());
        if let Err(e) = run(self.command("apt-get").arg("update"), "apt-get update") {
            if !format!("{e:#}").contains("is expired") || expired.exists() {
                return Err(e);
            }
            note(
                "the mirror's sid Release is past its Valid-Until date (a frozen snapshot?): \
                  accepting it with Acquire::Check-Valid-Until=false; signatures are still verified"
                    .into(),
            );
            std::fs::write(&expired, "")?;
            self.options = vec!["-o".into(), "Acquire::Check-Valid-Until=false".into()];
            run(self.command("apt-get").arg("update"), "apt-get update")?;
        }
        std::fs::write(&marker, "")?;
        self.updated = true;
        Ok(())
    }

    /// The candidates of `names` (one `apt-cache` call); names the suites lack, or purely virtual
    /// ones, are simply absent from the answer.
    fn candidates(&self, names: &[String]) -> Result<BTreeMap<String, Candidate>> {
        let mut found = BTreeMap::new();
        if names.is_empty() {
            return Ok(found);
        }
        let out = run(self.command("apt-cache").args(["show", "--no-all-versions"]).args(names), "apt-cache show")?;
        for record in out.split("\n\n") {
            let field = |key: &str| {
                record
                    .lines()
                    .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(':')).map(|v| v.trim().to_string()))
            };
            let (Some(name), Some(version), Some(arch)) = (field("Package"), field("Version"), field("Architecture"))
            else {
                continue;
            };
            let mut depends = Vec::new();
            for key in ["Pre-Depends", "Depends"] {
                depends.extend(field(key).map(|v| parse_depends(&v)).unwrap_or_default());
            }
            found.insert(name.clone(), Candidate { package: DebPackage { name, version }, arch, depends });
        }
        Ok(found)
    }

    /// `roots` from the binary suite, plus every package they need (transitively) that this
    /// system lacks or has too old: what apt would add on top of it. A library the system has
    /// recently enough is left out; the loader then finds the system's copy.
    pub fn closure(&self, roots: &[String]) -> Result<Vec<(DebPackage, String)>> {
        let mut chosen: BTreeMap<String, Candidate> = BTreeMap::new();
        let mut level: Vec<String> = roots.to_vec();
        // Breadth first, one level per round, so each round costs two apt-cache calls.
        while !level.is_empty() {
            let mut found = self.candidates(&level)?;
            let mut unmet: Vec<(String, Vec<String>)> = Vec::new();
            for name in &level {
                let c = found.remove(name).with_context(|| format!("{BINARY_SUITE} has no package {name}"))?;
                for clause in &c.depends {
                    let met = clause
                        .iter()
                        .any(|(n, v)| chosen.contains_key(n) || level.contains(n) || system_satisfies(n, v));
                    if !met {
                        unmet.push((name.clone(), clause.iter().map(|(n, _)| n.clone()).collect()));
                    }
                }
                chosen.insert(name.clone(), c);
            }
            let alternatives: Vec<String> = unmet.iter().flat_map(|(_, alts)| alts.clone()).collect();
            let available = self.candidates(&alternatives)?;
            let mut next: Vec<String> = Vec::new();
            for (needed_by, alts) in unmet {
                let pick = alts.iter().find(|a| available.contains_key(*a)).with_context(|| {
                    format!(
                        "{needed_by} needs {}, which neither this system nor {BINARY_SUITE} provides",
                        alts.join(" | ")
                    )
                })?;
                if !chosen.contains_key(pick) && !next.contains(pick) {
                    next.push(pick.clone());
                }
            }
            level = next;
        }
        Ok(chosen.into_values().map(|c| (c.package, c.arch)).collect())
    }

    /// Downloads `packages` into `into` (apt skips files already there) and returns their paths.
    pub fn download(&self, packages: &[(DebPackage, String)], into: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(into)?;
        let specs: Vec<String> = packages.iter().map(|(p, _)| format!("{}={}", p.name, p.version)).collect();
        let shown: Vec<&str> = packages.iter().map(|(p, _)| p.name.as_str()).collect();
        run(
            self.command("apt-get").arg("download").args(&specs).current_dir(into),
            &format!("apt-get download {}", shown.join(" ")),
        )?;
        packages
            .iter()
            .map(|(p, arch)| {
                // apt's file name: the epoch's colon is URL-encoded.
                let file = into.join(format!("{}_{}_{arch}.deb", p.name, p.version.replace(':', "%3a")));
                if file.is_file() {
                    Ok(file)
                } else {
                    bail!("apt-get download reported success but {} is missing", file.display())
                }
            })
            .collect()
    }

    /// Downloads source package `name` from the first of `SOURCE_SUITES` that has it. Returns
    /// its exact version, the suite, and the upstream tarball.
    pub fn source(&self, name: &str, into: &Path) -> Result<(DebPackage, &'static str, PathBuf)> {
        std::fs::create_dir_all(into)?;
        let mut tried = Vec::new();
        for suite in SOURCE_SUITES {
            let spec = format!("{name}/{suite}");
            // `--print-uris` names the files (and so the version) without fetching anything.
            let listed = match run(
                self.command("apt-get").args(["source", "--print-uris", &spec]).current_dir(into),
                &format!("apt-get source {spec}"),
            ) {
                Ok(out) => out,
                Err(e) => {
                    tried.push(format!("{e:#}"));
                    continue;
                }
            };
            let files: Vec<String> = listed
                .lines()
                .filter_map(|l| l.starts_with('\'').then(|| l.split_whitespace().nth(1).map(String::from)).flatten())
                .collect();
            let dsc = files.iter().find(|f| f.ends_with(".dsc"));
            let orig = files.iter().find(|f| f.contains(".orig.tar.") && !f.ends_with(".asc"));
            let (Some(dsc), Some(orig)) = (dsc, orig) else {
                bail!("apt-get source {spec}: no .dsc or upstream tarball among {files:?}");
            };
            let version = dsc.trim_end_matches(".dsc").rsplit_once('_').map(|(_, v)| v.to_string()).unwrap_or_default();
            run(
                self.command("apt-get").args(["source", "--download-only", &spec]).current_dir(into),
                &format!("apt-get source --download-only {spec}"),
            )?;
            return Ok((DebPackage { name: name.into(), version }, suite, into.join(orig)));
        }
        bail!("no source package {name} in {}: {}", SOURCE_SUITES.join(" or "), tried.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_release_entry_is_found_in_either_format() {
        let deb822 = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n\
                      Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                      Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\
                      Components: main\n";
        assert_eq!(
            parse_deb822(deb822, "bookworm"),
            Some((
                "http://mirror.example/debian".into(),
                Some("/usr/share/keyrings/debian-archive-keyring.gpg".into())
            ))
        );
        // A security-only or disabled stanza is not the archive; an inline key is not a file.
        assert_eq!(parse_deb822(&deb822.replace("Suites: bookworm bookworm-updates", "Suites: x"), "bookworm"), None);
        let inline = "Types: deb\nURIs: http://m.example/debian\nSuites: trixie\nComponents: main contrib\n\
                      Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n";
        assert_eq!(parse_deb822(inline, "trixie"), Some(("http://m.example/debian".into(), None)));
        assert_eq!(parse_deb822(&format!("Enabled: no\n{inline}"), "trixie"), None);

        let list = "# deb http://old.example/debian bookworm main\n\
                    deb http://security.example/debian-security bookworm-security main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main contrib\n";
        assert_eq!(parse_one_line(list, "bookworm"), Some(("http://m.example/debian".into(), Some("/k.gpg".into()))));
        assert_eq!(parse_one_line(list, "trixie"), None);
    }

    #[test]
    fn depends_fields_parse_into_alternatives_with_constraints() {
        let d = parse_depends("libc6 (>= 2.38), media-types | mime-support, python3:any, libx (<< 2~)");
        assert_eq!(d.len(), 4);
        assert_eq!(d[0], vec![("libc6".to_string(), Some((">=".to_string(), "2.38".to_string())))]);
        assert_eq!(d[1].iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["media-types", "mime-support"]);
        assert_eq!(d[2], vec![("python3".to_string(), None)]);
        assert_eq!(d[3][0].1, Some(("<<".to_string(), "2~".to_string())));
    }
}
