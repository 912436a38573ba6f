//! The selection: which scenarios, interpreters and modes a run covers (and, with `--shard`, which
//! part of that matrix this machine runs), resolved before anything is built.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::pytest::PytestRecord;
use crate::model::scenario::{self, Group};
use crate::model::shard::{self, Shard, ShardRecord};
use crate::model::subject::Subject;
use crate::model::version::{Selector, Target};
use crate::setup::builds::{self, BuildRequest};
use crate::setup::interpreters;
use crate::setup::paths::cache_root;
use crate::setup::provision;

/// What a selection resolves to, before anything is built.
pub struct Selection {
    pub groups: Vec<Group>,
    pub interpreters: Vec<Interpreter>,
    pub modes: Vec<Mode>,
    /// With `--shard`: the modes each interpreter of this shard runs.
    pub shard: Option<BTreeMap<String, Vec<Mode>>>,
    /// What the user should know about how the choice was resolved, one line each.
    pub notes: Vec<String>,
    /// The crate's benchmark tests, once collected (`compare --pytest`): then the groups are theirs.
    pub pytest: Option<PytestRecord>,
}

impl Selection {
    /// Whether `interp` runs `mode` in this selection: the mode fits it, and the shard has it.
    pub fn runs(&self, interp: &Interpreter, mode: Mode) -> bool {
        mode.fits(interp).is_ok()
            && self.shard.as_ref().is_none_or(|s| s.get(&interp.name).is_some_and(|m| m.contains(&mode)))
    }

    /// Narrows the selection to shard `s` of its (interpreter, mode) matrix (see `shard::assign`).
    pub fn restrict_to(&mut self, s: Shard) -> Result<ShardRecord> {
        let matrix: Vec<Vec<Mode>> = self
            .interpreters
            .iter()
            .map(|i| self.modes.iter().copied().filter(|m| m.fits(i).is_ok()).collect())
            .collect();
        let record = ShardRecord {
            shard: s,
            interpreters: self.interpreters.iter().map(|i| i.name.clone()).collect(),
            modes: self.modes.clone(),
        };
        let mine: BTreeMap<String, Vec<Mode>> = self
            .interpreters
            .iter()
            .zip(shard::assign(&matrix, s))
            .filter(|(_, modes)| !modes.is_empty())
            .map(|(i, modes)| (i.name.clone(), modes))
            .collect();
        if mine.is_empty() {
            let cells: usize = matrix.iter().map(Vec::len).sum();
            bail!("--shard {s}: nothing to run; the matrix has {cells} (interpreter, mode) cell(s), so use at most {cells} shard(s)");
        }
        self.interpreters.retain(|i| mine.contains_key(&i.name));
        self.shard = Some(mine);
        Ok(record)
    }
}

/// What the user asked for: scenario files and globs, interpreters, modes (none: all).
pub struct Choice<'a> {
    /// Where the scenario files are; `None`: the crate's tests are the scenarios (`--pytest`),
    /// collected once the builds are made.
    pub scenarios_dir: Option<PathBuf>,
    pub scenarios: &'a [String],
    pub python: &'a [Selector],
    pub modes: Vec<Mode>,
    /// What is built: a crate is built and timed only for the Python versions it supports.
    pub subject: &'a Subject,
}

impl Choice<'_> {
    /// The scenario groups of the files, filtered by the globs (none for the crate's tests).
    pub fn groups(&self) -> Result<Vec<Group>> {
        match &self.scenarios_dir {
            Some(dir) => scenario::filter(scenario::load_dir(dir)?, self.scenarios),
            None => Ok(Vec::new()),
        }
    }
}

/// Resolves a choice: scenario files first (a typo there should not cost an interpreter probe),
/// then, with `provision`, gets what the interpreter range lacks into the cache (see
/// `provision::for_selection`; `note` hears how that goes), then discovers the interpreters, and
/// for a crate leaves out the interpreters and floors below what it supports (said in the notes).
pub fn select(choice: &Choice, provision: Option<&dyn Fn(String)>) -> Result<Selection> {
    let groups = choice.groups()?;
    // Nothing is provisioned that nothing could be built for (PyO3 0.29 and 3.13t: a source
    // build of minutes for a column of "not measured").
    let (targets, refused): (Vec<Target>, Vec<Target>) = provision::range_of(choice.python)
        .into_iter()
        .partition(|t| !t.free_threaded || choice.subject.refuses_free_threaded(t.version).is_none());
    if let Some(note) = provision {
        provision::for_targets(&targets, &cache_root()?, note);
    }
    let interpreters = interpreters::discover(choice.python)?;
    let mut notes = interpreters::several_per_version(choice.python, &interpreters);
    let interpreters = buildable_only(choice.subject, interpreters, &mut notes)?;
    // Said once: by `buildable_only` if it is here, else here.
    let all = if provision.is_some() && !refused.is_empty() { interpreters::discover_all()? } else { Vec::new() };
    for t in refused.iter().filter(|t| provision.is_some() && !all.iter().any(|i| i.is(t))) {
        let why = choice.subject.refuses_free_threaded(t.version).unwrap_or_default();
        notes.push(format!("{t}: not provisioned, {why} (`abibench matrix` provisions it for its load check)"));
    }
    let (interpreters, modes) = supported_only(choice, interpreters, &mut notes)?;
    Ok(Selection { groups, interpreters, modes, shard: None, notes, pytest: None })
}

/// The interpreters something can be built for: a free-threaded one below what the subject's
/// PyO3 builds for is left out, in one line (an error if nothing is left).
fn buildable_only(subject: &Subject, found: Vec<Interpreter>, notes: &mut Vec<String>) -> Result<Vec<Interpreter>> {
    let refused = |i: &Interpreter| i.gil_disabled.then(|| subject.refuses_free_threaded(i.version)).flatten();
    let (kept, left): (Vec<Interpreter>, Vec<Interpreter>) = found.into_iter().partition(|i| refused(i).is_none());
    if let Some(why) = left.first().and_then(refused) {
        let names: Vec<&str> = left.iter().map(|i| i.name.as_str()).collect();
        let line = format!("{}: left out, {why}", names.join(", "));
        if kept.is_empty() {
            bail!("{line}; no interpreter is left to compare");
        }
        notes.push(line);
    }
    Ok(kept)
}

/// For a crate: the interpreters and modes of `choice` within the Python versions it supports,
/// what was left out said in `notes`; an error if no interpreter is left.
fn supported_only(
    choice: &Choice,
    interpreters: Vec<Interpreter>,
    notes: &mut Vec<String>,
) -> Result<(Vec<Interpreter>, Vec<Mode>)> {
    let (Some(c), Some(s)) = (choice.subject.krate(), choice.subject.supported()) else {
        return Ok((interpreters, choice.modes.clone()));
    };
    let (kept, left): (Vec<Interpreter>, Vec<Interpreter>) =
        interpreters.into_iter().partition(|i| s.admits(i.version));
    let names = |l: &[Interpreter]| l.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
    let range = format!("{} supports Python {s} ({})", c.distribution, s.oldest_from);
    if kept.is_empty() {
        bail!("{range}: none of the interpreters selected ({}) is one of those", names(&left));
    }
    if !left.is_empty() {
        notes.push(format!("{range}: {} left out", names(&left)));
    }
    // Each floor below it, whether its PyO3 offers it (the default modes leave it out) or --mode
    // asks for it, is named once.
    let below: BTreeSet<Mode> =
        c.floors.iter().chain(&choice.modes).copied().filter(|m| c.below_minimum(*m).is_some()).collect();
    if let Some(why) = below.first().and_then(|m| c.below_minimum(*m)) {
        let names: Vec<String> = below.iter().map(|m| m.name()).collect();
        notes.push(format!("{}: not built, {why}", names.join(", ")));
    }
    let modes = choice.modes.iter().copied().filter(|m| c.below_minimum(*m).is_none()).collect();
    Ok((kept, modes))
}

/// The builds `compare` needs: every layout of every selected mode that some selected interpreter
/// can load (the others are left out, and said so).
pub fn build_requests(sel: &Selection, layouts: u32, note: &dyn Fn(String)) -> Vec<BuildRequest> {
    let mut requests = Vec::new();
    for &mode in &sel.modes {
        let fitting: Vec<Interpreter> = sel.interpreters.iter().filter(|i| sel.runs(i, mode)).cloned().collect();
        match (fitting.is_empty(), sel.shard.is_some()) {
            (true, true) => note(format!("{mode}: not in this shard; not built")),
            (true, false) => note(format!("{mode}: no selected interpreter can load it; not built")),
            (false, _) => requests.extend(builds::requests(&[mode], &fitting, layouts)),
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::fixture::interpreter;

    /// With 3.14t and 3.15t given (`--python PATH`, or setup-python on a runner), each gets its
    /// version-specific build (cp314t, cp315t) and abi3t-py315 is built for 3.15t; no abi3 floor
    /// is, as no free-threaded interpreter loads one.
    #[test]
    fn free_threaded_interpreters_get_their_own_builds_and_abi3t_from_315() {
        let interpreters: Vec<Interpreter> = ["3.14t", "3.15t"]
            .iter()
            .map(|n| {
                let mut i = interpreter(n);
                i.soabi = format!("cpython-3{}t-x86_64-linux-gnu", &n[2..4]);
                i
            })
            .collect();
        let sel = Selection {
            groups: Vec::new(),
            interpreters,
            modes: Mode::ALL.to_vec(),
            shard: None,
            notes: Vec::new(),
            pytest: None,
        };
        let notes = std::cell::RefCell::new(Vec::new());
        let built: Vec<String> = build_requests(&sel, 1, &|n| notes.borrow_mut().push(n))
            .iter()
            .map(|r| format!("{} {}", r.mode, r.abi_tag()))
            .collect();
        assert_eq!(
            built,
            [
                "unlimited cpython-314t-x86_64-linux-gnu",
                "unlimited cpython-315t-x86_64-linux-gnu",
                "abi3t-py315 abi3t-py315"
            ]
        );
        let notes = notes.into_inner();
        assert!(notes.iter().any(|n| n == "abi3-py38: no selected interpreter can load it; not built"), "{notes:?}");
        assert!(!sel.runs(&sel.interpreters[0], Mode::Abi3t(crate::model::version::PyVersion(3, 15))), "3.14t");
    }
}
