//! Reading one scenario file: its on-disk shape (names `Spanned`, so errors can point at a line)
//! and the checks that need only that file; `load_dir` checks what spans files.

use std::ops::Range;
use std::path::Path;

use anyhow::{bail, Result};
use serde::Deserialize;
use toml::Spanned;

use super::{Channel, Comparison, Finding, Group, Kind, Layer, Operation, Scenario};
use crate::model::mode::Mode;
use crate::model::version::PyVersion;

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
pub(super) fn parse_with_lines(path: &Path, text: &str) -> Result<(Group, Vec<(String, usize)>)> {
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
        pytest: None,
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
