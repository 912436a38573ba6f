//! Scenario files (`scenarios/*.toml`): what to time, grouped so related paths sit side by side.
//! The format is documented in `scenarios/README.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::model::mode::Mode;
use crate::model::version::PyVersion;

mod parse;
pub mod starter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Per-call overhead dominates: where the ABI shows.
    Chatty,
    /// Work inside the call dominates.
    Compute,
}

/// The kind of crossing a scenario times: what its stable-ABI ratio is a cost of. Ratios are only
/// ever pooled within one channel (and one layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// Python calling the extension: METH_VARARGS, METH_FASTCALL, keywords, PyO3's entry points.
    CallingConvention,
    /// The extension calling Python: tp_call with a tuple, vectorcall, PyO3's call1/call0.
    CallOut,
    /// Reading or storing container items.
    ItemAccess,
    /// Py_INCREF/Py_DECREF: inline, or a function call.
    Refcount,
    /// Object header fields: ob_type, ob_size.
    HeaderRead,
    /// The data of str and bytes objects, the buffer protocol.
    StringBuffer,
    /// Work inside the call.
    Compute,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::CallingConvention,
        Channel::CallOut,
        Channel::ItemAccess,
        Channel::Refcount,
        Channel::HeaderRead,
        Channel::StringBuffer,
        Channel::Compute,
    ];

    /// The name in scenario files and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Channel::CallingConvention => "calling-convention",
            Channel::CallOut => "call-out",
            Channel::ItemAccess => "item-access",
            Channel::Refcount => "refcount",
            Channel::HeaderRead => "header-read",
            Channel::StringBuffer => "string-buffer",
            Channel::Compute => "compute",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::CallingConvention => "calling convention in",
            Channel::CallOut => "calls out",
            Channel::ItemAccess => "item access",
            Channel::Refcount => "refcounting",
            Channel::HeaderRead => "header reads",
            Channel::StringBuffer => "string and buffer data",
            Channel::Compute => "compute",
        }
    }
}

/// Whose code a scenario's path is: a raw C API call the scenario makes itself, or PyO3's API,
/// which chooses the C API path for each mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    CApi,
    Pyo3,
}

impl Layer {
    pub fn label(self) -> &'static str {
        match self {
            Layer::CApi => "C API",
            Layer::Pyo3 => "PyO3",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub title: String,
    pub kind: Kind,
    pub description: String,
    pub file: PathBuf,
    pub comparisons: Vec<Comparison>,
    pub scenarios: Vec<Scenario>,
    /// Facts for upstream, each with the comparison that measures it (`[[finding]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The kinds of operation this group's scenarios time, as a maintainer counts them in a call
    /// (`[[operation]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
}

impl Group {
    /// Whether a scenario of this group is chatty or compute-bound: its channel says so where it
    /// has one (a crate's statements share one group whatever they call), else the group's kind.
    pub fn kind_of(&self, s: &Scenario) -> Kind {
        match s.channel {
            Some(Channel::Compute) => Kind::Compute,
            Some(_) => Kind::Chatty,
            None => self.kind,
        }
    }
}

/// One kind of operation a call is made of (`args=3`, `items-read=1000`): what it adds under each
/// floor is taken from the path a PyO3 user's code takes (`path`), per operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// The name a workload counts it by.
    pub key: String,
    /// What one of it is: "a positional argument (an int, extracted as i64)".
    pub label: String,
    /// The scenario that times PyO3's path, per operation of that scenario.
    pub path: String,
    /// A scenario whose time is taken off `path`'s: the call the operation rides on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus: Option<String>,
    /// Operations in one operation of `path` (after `minus`): 3 for a call with three arguments.
    pub per: u32,
    /// The path a PyO3 user takes where a mode cannot express `path` (its cells not available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instead: Option<String>,
    /// A way into the extension (a call, a method, a getter): a call shape has one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entry: bool,
    /// Operations of `path` one of it holds: 1, or for a crate's scenario (one of its users'
    /// calls, counted per execution of its statement) the statement's `n`.
    #[serde(default = "one_u64", skip_serializing_if = "is_one")]
    pub times: u64,
}

/// A fact about PyO3 or CPython that one of the group's comparisons measures: the report states
/// the fact with that comparison's ratio in the given modes (and interpreters), never a number
/// written here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub fact: String,
    /// The label of a `[[comparison]]` of the same file.
    pub comparison: String,
    pub modes: Vec<Mode>,
    /// Minor versions (`3.8`) the fact concerns; empty: every interpreter the modes ran on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pythons: Vec<PyVersion>,
    /// Why upstream made the choice the fact describes, and where it was made (an issue or pull
    /// request): a cost is never stated without its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Two scenarios of one build put side by side: `candidate / baseline`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub label: String,
    pub baseline: String,
    pub candidate: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub group: String,
    pub description: String,
    /// The attribute of the module under test that the timed code needs, bound to `f`; a build
    /// without it cannot run this scenario. Optional: a user's scenario may import the module itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub setup: String,
    pub stmt: String,
    /// Operations per execution of `stmt`; times are reported per operation.
    pub n: u64,
    /// The criterion bench (group `native`, `bench-ext/native/benches/native.rs`) timing the same
    /// work in pure Rust: this scenario's floor. Several scenarios may share one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<String>,
    /// Modes whose builds run the same machine code for the timed work (the same C API calls,
    /// inlined the same way): ratios between them can only be layout, build or machine noise,
    /// which makes them this run's negative controls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_code_in: Vec<Mode>,
    /// What the scenario's ratio is a cost of, and whose code takes the path (optional in files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Layer>,
    /// The work done: scenarios of one task are alternative paths to it, which the attribution
    /// (`analysis::attribution`) sets against each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Module state of its own: the scenario's builds are loaded in worker processes started for
    /// it alone, so that what other scenarios leave in the module (a cache, a counter) cannot
    /// change what it times. An extension module cannot be initialised afresh in a process that
    /// has it (PyO3 hands back the same module object, or refuses before 3.9).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub isolate: bool,
    /// A crate's benchmark test (`compare --pytest`), by pytest's node id: what is timed is the
    /// call it hands to `benchmark`, recorded by running it in each build (`setup` and `stmt`
    /// are not used). Never in scenario files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytest: Option<String>,
}

fn one_u64() -> u64 {
    1
}

fn is_one(x: &u64) -> bool {
    *x == 1
}

pub use parse::parse_file;
use parse::parse_with_lines;

/// Loads every `*.toml` in `dir`, in file-name order, and checks names are unique across files.
pub fn load_dir(dir: &Path) -> Result<Vec<Group>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read scenario directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no scenario files (*.toml) in {}", dir.display());
    }
    let mut groups = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?;
        let (g, lines) = parse_with_lines(&f, &text)?;
        for (name, line) in lines {
            let here = format!("{}:{line}", f.display());
            if let Some(prev) = seen.insert(name.clone(), here.clone()) {
                bail!("{here}: {name} is already defined at {prev}");
            }
        }
        groups.push(g);
    }
    check_tasks(&groups)?;
    check_operations(&groups)?;
    Ok(groups)
}

/// An operation's scenarios may live in other files (a string argument rides on the call of
/// calls_in.toml), so they are checked once every file is read.
fn check_operations(groups: &[Group]) -> Result<()> {
    let known = |name: &str| groups.iter().flat_map(|g| &g.scenarios).any(|s| s.name == name);
    for g in groups {
        for o in &g.operations {
            for name in [Some(&o.path), o.minus.as_ref(), o.instead.as_ref()].into_iter().flatten() {
                if !known(name) {
                    bail!(
                        "{}: operation '{}' names scenario '{name}', which no scenario file defines",
                        g.file.display(),
                        o.key
                    );
                }
            }
        }
    }
    Ok(())
}

/// A task's scenarios are alternative paths to one piece of work, so they share one channel.
fn check_tasks(groups: &[Group]) -> Result<()> {
    let mut channel_of: HashMap<&str, (&Scenario, &Group)> = HashMap::new();
    for g in groups {
        for s in &g.scenarios {
            let Some(task) = s.task.as_deref() else { continue };
            if s.channel.is_none() || s.layer.is_none() {
                bail!("{}: scenario '{}' has a task but no channel and layer", g.file.display(), s.name);
            }
            if let Some((first, fg)) = channel_of.get(task) {
                if first.channel != s.channel {
                    bail!(
                        "{}: scenario '{}' does task '{task}' in channel {:?}, but '{}' ({}) does it in {:?}",
                        g.file.display(),
                        s.name,
                        s.channel,
                        first.name,
                        fg.file.display(),
                        first.channel
                    );
                }
            } else {
                channel_of.insert(task, (s, g));
            }
        }
    }
    Ok(())
}

/// Keeps the scenarios whose name, or whose group's name, matches one of the globs.
pub fn filter(groups: Vec<Group>, globs: &[String]) -> Result<Vec<Group>> {
    if globs.is_empty() {
        return Ok(groups);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).with_context(|| format!("--scenario '{g}' is not a valid glob"))?);
    }
    let set: GlobSet = b.build()?;
    let kept: Vec<Group> = groups
        .into_iter()
        .filter_map(|mut g| {
            let whole = set.is_match(&g.name);
            g.scenarios.retain(|s| whole || set.is_match(&s.name));
            let names: Vec<&String> = g.scenarios.iter().map(|s| &s.name).collect();
            g.comparisons.retain(|c| names.contains(&&c.baseline) && names.contains(&&c.candidate));
            let labels: Vec<String> = g.comparisons.iter().map(|c| c.label.clone()).collect();
            g.findings.retain(|f| labels.contains(&f.comparison));
            (!g.scenarios.is_empty()).then_some(g)
        })
        .collect();
    if kept.is_empty() {
        bail!("--scenario {}: matches no scenario or group", globs.join(", "));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests;
