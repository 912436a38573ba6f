//! Scenario files (`scenarios/*.toml`): what to time, grouped so related paths sit side by side.
//! The format is documented in `scenarios/README.md`.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::model::mode::Mode;
use crate::model::version::PyVersion;

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
}

// On-disk shape. Names are `Spanned` so semantic errors can point at a line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    group: GroupDef,
    #[serde(default)]
    comparison: Vec<ComparisonDef>,
    #[serde(default)]
    scenario: Vec<ScenarioDef>,
    #[serde(default)]
    finding: Vec<FindingDef>,
    #[serde(default)]
    operation: Vec<OperationDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationDef {
    key: Spanned<String>,
    label: String,
    path: String,
    minus: Option<String>,
    #[serde(default = "one_op")]
    per: Spanned<u32>,
    instead: Option<String>,
    #[serde(default)]
    entry: bool,
}

fn one_u64() -> u64 {
    1
}

fn is_one(x: &u64) -> bool {
    *x == 1
}

fn one_op() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingDef {
    fact: String,
    comparison: Spanned<String>,
    modes: Spanned<Vec<String>>,
    #[serde(default)]
    pythons: Vec<String>,
    context: Option<String>,
    link: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    name: Spanned<String>,
    title: String,
    kind: Kind,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComparisonDef {
    label: String,
    baseline: Spanned<String>,
    candidate: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioDef {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    function: Option<String>,
    #[serde(default)]
    setup: String,
    stmt: String,
    #[serde(default = "one")]
    n: Spanned<u64>,
    native: Option<Spanned<String>>,
    same_code_in: Option<Spanned<Vec<String>>>,
    channel: Option<Channel>,
    layer: Option<Layer>,
    task: Option<String>,
    #[serde(default)]
    isolate: bool,
}

fn one() -> Spanned<u64> {
    Spanned::new(0..0, 1)
}

fn line_of(text: &str, span: Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
}

/// Parses one scenario file; every error names the file and, where it can, the line.
pub fn parse_file(path: &Path, text: &str) -> Result<Group> {
    parse_with_lines(path, text).map(|(g, _)| g)
}

/// A group and the line of each name it defines (`group x`, `scenario y`), for errors that
/// involve other files.
fn parse_with_lines(path: &Path, text: &str) -> Result<(Group, Vec<(String, usize)>)> {
    let at = |span: Range<usize>| format!("{}:{}", path.display(), line_of(text, span));
    // toml's own message already carries line, column and a caret excerpt.
    let def: FileDef = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let group = def.group.name.get_ref().clone();
    if !valid_name(&group) {
        bail!("{}: group name '{group}' must be lowercase letters, digits, '_', '.' or '-'", at(def.group.name.span()));
    }
    let mut lines = vec![(format!("group {group}"), line_of(text, def.group.name.span()))];
    let mut scenarios = Vec::new();
    for s in def.scenario {
        lines.push((format!("scenario {}", s.name.get_ref()), line_of(text, s.name.span())));
        scenarios.push(scenario(s, &group, &at)?);
    }
    if scenarios.is_empty() {
        bail!("{}: group '{group}' has no [[scenario]]", at(def.group.name.span()));
    }
    let comparisons = comparisons(def.comparison, &scenarios, &at)?;
    let findings = def.finding.into_iter().map(|f| finding(f, &comparisons, &at)).collect::<Result<_>>()?;
    let mut operations = Vec::new();
    for o in def.operation {
        lines.push((format!("operation {}", o.key.get_ref()), line_of(text, o.key.span())));
        operations.push(operation(o, &at)?);
    }
    let group = Group {
        name: group,
        title: def.group.title,
        kind: def.group.kind,
        description: def.group.description,
        file: path.to_path_buf(),
        comparisons,
        scenarios,
        findings,
        operations,
    };
    Ok((group, lines))
}

fn parse_modes(list: &[String]) -> Result<Vec<Mode>, String> {
    list.iter().map(|m| m.parse::<Mode>()).collect()
}

fn scenario(s: ScenarioDef, group: &str, at: &dyn Fn(Range<usize>) -> String) -> Result<Scenario> {
    let name = s.name.get_ref().clone();
    if !valid_name(&name) {
        bail!("{}: scenario name '{name}' must be lowercase letters, digits, '_', '.' or '-'", at(s.name.span()));
    }
    if *s.n.get_ref() == 0 {
        bail!("{}: scenario '{name}' has n = 0; n counts operations per statement and must be >= 1", at(s.n.span()));
    }
    if s.stmt.trim().is_empty() {
        bail!("{}: scenario '{name}' has an empty stmt", at(s.name.span()));
    }
    if let Some(native) = s.native.as_ref().filter(|x| !valid_name(x.get_ref())) {
        bail!(
            "{}: scenario '{name}' names native floor '{}'; a criterion bench id is lowercase letters, \
             digits, '_', '.' or '-'",
            at(native.span()),
            native.get_ref()
        );
    }
    let same_code_in = match &s.same_code_in {
        None => Vec::new(),
        Some(list) => {
            let modes = parse_modes(list.get_ref())
                .map_err(|e| anyhow::anyhow!("{}: scenario '{name}': same_code_in: {e}", at(list.span())))?;
            if modes.len() < 2 {
                bail!("{}: scenario '{name}': same_code_in needs two modes or more", at(list.span()));
            }
            modes
        }
    };
    Ok(Scenario {
        name,
        group: group.to_string(),
        description: s.description,
        function: s.function,
        setup: s.setup,
        stmt: s.stmt,
        n: *s.n.get_ref(),
        native: s.native.map(Spanned::into_inner),
        same_code_in,
        channel: s.channel,
        // A scenario that says what it calls but not whose code calls it is a PyO3 user's call:
        // a statement calling an extension module goes through PyO3's API.
        layer: s.layer.or(s.channel.map(|_| Layer::Pyo3)),
        task: s.task,
        isolate: s.isolate,
    })
}

fn comparisons(
    defs: Vec<ComparisonDef>,
    scenarios: &[Scenario],
    at: &dyn Fn(Range<usize>) -> String,
) -> Result<Vec<Comparison>> {
    let mut out = Vec::new();
    for c in defs {
        for side in [&c.baseline, &c.candidate] {
            if !scenarios.iter().any(|s| s.name == *side.get_ref()) {
                bail!(
                    "{}: comparison '{}' names '{}', which is not a scenario of this file",
                    at(side.span()),
                    c.label,
                    side.get_ref()
                );
            }
        }
        out.push(Comparison { label: c.label, baseline: c.baseline.into_inner(), candidate: c.candidate.into_inner() });
    }
    Ok(out)
}

fn finding(f: FindingDef, comparisons: &[Comparison], at: &dyn Fn(Range<usize>) -> String) -> Result<Finding> {
    if !comparisons.iter().any(|c| c.label == *f.comparison.get_ref()) {
        bail!(
            "{}: finding names comparison '{}', which is not a [[comparison]] of this file",
            at(f.comparison.span()),
            f.comparison.get_ref()
        );
    }
    let modes =
        parse_modes(f.modes.get_ref()).map_err(|e| anyhow::anyhow!("{}: finding: modes: {e}", at(f.modes.span())))?;
    let pythons = f
        .pythons
        .iter()
        .map(|v| v.parse::<PyVersion>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: finding: pythons: {e}", at(f.comparison.span())))?;
    if f.link.as_deref().is_some_and(|l| !l.starts_with("https://")) {
        bail!("{}: finding: link must be an https:// address", at(f.comparison.span()));
    }
    Ok(Finding {
        fact: f.fact,
        comparison: f.comparison.into_inner(),
        modes,
        pythons,
        context: f.context,
        link: f.link,
    })
}

fn operation(o: OperationDef, at: &dyn Fn(Range<usize>) -> String) -> Result<Operation> {
    let key = o.key.get_ref().clone();
    // Keys are what a user types in `--workload`: no '=' or ',' and no surprises.
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        bail!("{}: operation key '{key}' must be lowercase letters, digits or '-'", at(o.key.span()));
    }
    if key == "work" {
        bail!("{}: operation key 'work' is taken: it is a call's own work in a workload", at(o.key.span()));
    }
    if *o.per.get_ref() == 0 {
        bail!("{}: operation '{key}' has per = 0; it must be >= 1", at(o.per.span()));
    }
    Ok(Operation {
        key,
        label: o.label,
        path: o.path,
        minus: o.minus,
        per: *o.per.get_ref(),
        instead: o.instead,
        entry: o.entry,
        times: 1,
    })
}

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
