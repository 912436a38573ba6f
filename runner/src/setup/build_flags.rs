//! How each interpreter was compiled, as far as it moves call timings: compiler, -O level, PGO,
//! LTO, and whether the interpreter runs from a shared libpython. When the interpreters being
//! compared differ here, cross-version times mix those flags with the version's own effect.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::model::interpreter::Interpreter;

/// Why a Debian-packaged interpreter's flags are not read from its sysconfig.
pub const DEBIAN_BASIS: &str = "Debian's debian/rules builds the interpreter with PGO (make profile-opt) and \
    LTO at -O3 on amd64, then rewrites sysconfig to say -O2 without them";

/// The flags that matter for timings, with where they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flags {
    pub compiler: String,
    /// The last `-O` level the interpreter was compiled with.
    pub opt: String,
    pub pgo: bool,
    pub lto: bool,
    pub shared_libpython: bool,
    /// Set when the flags come from the packaging rather than the interpreter's sysconfig.
    pub basis: Option<&'static str>,
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = match (self.pgo, self.lto) {
            (true, true) => "PGO+LTO",
            (true, false) => "PGO, no LTO",
            (false, true) => "LTO, no PGO",
            (false, false) => "no PGO/LTO",
        };
        let lib = if self.shared_libpython { "shared libpython" } else { "static libpython" };
        write!(f, "{} {}, {opt}, {lib}", self.compiler, self.opt)
    }
}

/// What `i` was compiled with.
pub fn of(i: &Interpreter) -> Flags {
    let b = &i.build;
    let opt = b.opt.split_whitespace().rfind(|w| w.starts_with("-O")).unwrap_or("-O?").to_string();
    let compiler = b.compiler.trim_matches(|c| c == '[' || c == ']').to_string();
    if b.debian {
        return Flags {
            compiler,
            opt: "-O3".into(),
            pgo: true,
            lto: true,
            shared_libpython: b.shared,
            basis: Some(DEBIAN_BASIS),
        };
    }
    Flags { compiler, opt, pgo: b.pgo, lto: b.lto, shared_libpython: b.shared, basis: None }
}

/// Interpreters built alike, and how.
#[derive(Debug, Clone, Serialize)]
pub struct FlagGroup {
    pub interpreters: Vec<String>,
    /// Where they came from (pyenv, Debian sid packages, ...), each once.
    pub origins: Vec<String>,
    pub flags: Flags,
}

/// The build-flag differences among `interps`, grouped; empty when all were built alike.
pub fn differences(interps: &[Interpreter]) -> Vec<FlagGroup> {
    let mut groups: Vec<FlagGroup> = Vec::new();
    for i in interps {
        let flags = of(i);
        let origin = i.provenance.to_string();
        match groups.iter_mut().find(|g| g.flags == flags) {
            Some(g) => {
                g.interpreters.push(i.name.clone());
                if !g.origins.contains(&origin) {
                    g.origins.push(origin);
                }
            }
            None => groups.push(FlagGroup { interpreters: vec![i.name.clone()], origins: vec![origin], flags }),
        }
    }
    if groups.len() < 2 {
        groups.clear();
    }
    groups
}

/// The warning `compare` prints before its tables (and a report can reuse), or `None`.
pub fn warning(interps: &[Interpreter]) -> Option<String> {
    let groups = differences(interps);
    if groups.is_empty() {
        return None;
    }
    let mut differ: Vec<&str> = Vec::new();
    for g in &groups[1..] {
        let (a, b) = (&groups[0].flags, &g.flags);
        for (name, same) in [
            ("compiler", a.compiler == b.compiler),
            ("-O level", a.opt == b.opt),
            ("PGO", a.pgo == b.pgo),
            ("LTO", a.lto == b.lto),
            ("libpython linkage", a.shared_libpython == b.shared_libpython),
        ] {
            if !same && !differ.contains(&name) {
                differ.push(name);
            }
        }
    }
    let mut text = format!("warning: the interpreters differ in how they were built ({}):\n", differ.join(", "));
    let mut bases = BTreeSet::new();
    for g in &groups {
        text.push_str(&format!("  {} ({}): {}\n", g.interpreters.join(", "), g.origins.join(", "), g.flags));
        bases.extend(g.flags.basis);
    }
    for basis in bases {
        text.push_str(&format!("  (Debian-built: {basis})\n"));
    }
    text.push_str(
        "  cross-version times mix build flags with version effects; ratios within one interpreter are unaffected\n",
    );
    Some(text)
}

/// The same differences as sentences for a report, and a caveat when no interpreter was built the
/// way distributed CPythons usually are.
pub fn caveats(interps: &[Interpreter]) -> Vec<String> {
    let groups = differences(interps);
    let mut caveats = Vec::new();
    if !groups.is_empty() {
        let parts: Vec<String> = groups
            .iter()
            .map(|g| format!("{} ({}): {}", g.interpreters.join(", "), g.origins.join(", "), g.flags))
            .collect();
        caveats.push(format!(
            "The interpreters were built differently: {}. Absolute times across versions mix these with the \
             versions' own changes; the stable-ABI ratios compare builds inside one interpreter.",
            parts.join("; ")
        ));
        let bases: BTreeSet<&str> = groups.iter().filter_map(|g| g.flags.basis).collect();
        caveats.extend(bases.into_iter().map(|b| format!("Debian-built interpreters: {b}.")));
    }
    if !interps.is_empty() && interps.iter().map(of).all(|f| !f.pgo && !f.lto) {
        caveats.push(
            "No interpreter was built with PGO or LTO, as most distributed CPythons are: absolute times are \
             not those of a typical installed Python."
                .into(),
        );
    }
    caveats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::interpreter::{sample, Provenance};

    fn interp(
        name: &str,
        provenance: Provenance,
        compiler: &str,
        opt: &str,
        debian: bool,
        shared: bool,
    ) -> Interpreter {
        let mut i = sample(name, provenance, "/prefix");
        i.build.compiler = compiler.into();
        i.build.opt = opt.into();
        i.build.debian = debian;
        i.build.shared = shared;
        i
    }

    #[test]
    fn alike_builds_raise_nothing_and_debian_builds_are_told_apart() {
        let pyenv = |n: &str| interp(n, Provenance::Pyenv, "GCC 12.2.0", "-DNDEBUG -g -O3 -Wall", false, true);
        assert_eq!(warning(&[pyenv("3.8.18"), pyenv("3.13.0")]), None);

        let sid = Provenance::DebianPackages { suite: "sid".into(), packages: vec![] };
        // Debian's sysconfig says -O2; the packaging's -O3 with PGO+LTO is what counts.
        let debian = interp("3.15.2", sid, "GCC 16.2.0", "-DNDEBUG -g -O2 -Wall", true, false);
        assert_eq!(of(&debian).opt, "-O3");
        assert!(of(&debian).pgo && of(&debian).lto && of(&debian).basis.is_some());
        let w = warning(&[pyenv("3.8.18"), pyenv("3.13.0"), debian]).unwrap();
        assert!(w.contains("(compiler, PGO, LTO, libpython linkage)"), "{w}");
        assert!(w.contains("3.8.18, 3.13.0 (pyenv): GCC 12.2.0 -O3, no PGO/LTO, shared libpython"), "{w}");
        assert!(w.contains("3.15.2 (Debian sid packages): GCC 16.2.0 -O3, PGO+LTO, static libpython"), "{w}");
        assert!(w.contains("rewrites sysconfig") && w.contains("ratios within one interpreter are unaffected"), "{w}");
    }

    #[test]
    fn build_flag_differences_are_named_per_interpreter() {
        let r = crate::analysis::testdata::results();
        let said = caveats(&r.interpreters);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("3.8.18 (pyenv): GCC 12.2.0 -O3, no PGO/LTO"), "{said:?}");
        let same = vec![r.interpreters[0].clone()];
        assert!(caveats(&same)[0].contains("No interpreter was built with PGO"));
    }
}
