//! The matrix as a terminal table (rows = builds, columns = interpreters), then the details the
//! cells are too small for: import suffixes, audit flags, error texts, unresolved symbol names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use comfy_table::Cell as TCell;

use crate::export::grid::new_table;
use crate::model::build::{failure_headline, Audit, BuildOutcome, BuildRecord};
use crate::model::matrix::{Load, Matrix, MatrixCell, Step};

const LEGEND: &str = "\
Which build loads where. Each cell: the import verdict, then the link check against the interpreter's libpython.
  ok           found under the name it is installed with, imported (bench-ext: call_no_args() ran, MODE as built)
  ok (forced)  not found under that name, but loads and runs when renamed to the interpreter's EXT_SUFFIX
  not found    the interpreter's importer does not look for that file name (see the suffixes below)
  ImportError, SystemError, SIGSEGV, ...  what the (forced) import did instead
  links / N unresolved   the build next to libpython: every imported Py* symbol found / N missing
  *            an installer may put this build on this interpreter (its tags fit)
";

fn version(floor: (u8, u8)) -> String {
    format!("{}.{}", floor.0, floor.1)
}

/// The audit column: a stable-ABI build's verdict at its floor; unlimited builds claim nothing.
fn audit_summary(b: &BuildRecord) -> String {
    match (&b.audit, b.artifact()) {
        (_, None) => "—".into(),
        (None, Some(_)) => "not stable-ABI".into(),
        (Some(a), _) if a.passed() => "ok".into(),
        (Some(a), _) => {
            let mut parts = Vec::new();
            if !a.not_stable.is_empty() {
                parts.push(format!("{} not stable", a.not_stable.len()));
            }
            if !a.too_new.is_empty() {
                parts.push(format!("{} newer than {}", a.too_new.len(), version(a.floor)));
            }
            format!("FLAGGED: {}", parts.join(", "))
        }
    }
}

/// Verdict (split after "not found;" to keep columns narrow), then the link check.
fn cell_text(c: &MatrixCell) -> String {
    let star = if c.installable { " *" } else { "" };
    let verdict = format!("{}{star}", c.verdict()).replace("; ", "\n");
    match c.link {
        Step::NotRun { .. } if matches!(c.forced, Step::NotRun { .. }) => verdict,
        Step::NotRun { .. } => format!("{verdict}\nlink not run"),
        _ => format!("{verdict}\n{}", c.link.label()),
    }
}

/// The flags of a stable-ABI build's audit, one line.
fn audit_flags(a: &Audit) -> String {
    if a.passed() {
        return format!("{} symbols, all in the Stable ABI of {}", a.checked, version(a.floor));
    }
    let mut parts = Vec::new();
    if !a.not_stable.is_empty() {
        parts.push(format!("not in the Stable ABI: {}", a.not_stable.join(", ")));
    }
    if !a.too_new.is_empty() {
        let names: Vec<String> = a.too_new.iter().map(|(n, v)| format!("{n} ({})", version(*v))).collect();
        parts.push(format!("newer than {}: {}", version(a.floor), names.join(", ")));
    }
    format!("FLAGGED ({} symbols): {}", a.checked, parts.join("; "))
}

/// An unlimited build, as information: what of its imports lies outside the Stable ABI at each
/// interpreter's version.
fn unlimited_info(m: &Matrix, b: &BuildRecord) -> String {
    let audits: Vec<(&str, &Audit)> = m
        .cells
        .iter()
        .filter(|c| c.mode == b.mode && c.abi_tag == b.abi_tag)
        .filter_map(|c| c.outside_stable_abi.as_ref().map(|a| (c.interpreter.as_str(), a)))
        .collect();
    let Some((_, first)) = audits.first() else {
        return "not a stable-ABI build".into();
    };
    let counts: Vec<String> =
        audits.iter().map(|(i, a)| format!("{i}: {}", a.not_stable.len() + a.too_new.len())).collect();
    let newer: BTreeMap<&str, (u8, u8)> =
        audits.iter().flat_map(|(_, a)| a.too_new.iter().map(|(n, v)| (n.as_str(), *v))).collect();
    let mut text = format!(
        "not a stable-ABI build; of its {} Python imports, outside the Stable ABI at each interpreter's version: {}",
        first.checked,
        counts.join(", ")
    );
    if !first.not_stable.is_empty() {
        let _ = write!(text, "\n      never in it: {}", first.not_stable.join(", "));
    }
    if !newer.is_empty() {
        let names: Vec<String> = newer.iter().map(|(n, v)| format!("{n} ({})", version(*v))).collect();
        let _ = write!(text, "\n      added later: {}", names.join(", "));
    }
    text
}

/// What a cell has to say beyond its verdict, if anything.
fn cell_details(c: &MatrixCell) -> Vec<String> {
    let mut lines = Vec::new();
    match &c.forced {
        Step::Done { result: Load::Ok } | Step::NotRun { .. } => {}
        Step::Done { result: Load::Raised { exception, message } } => {
            lines.push(format!("import: {exception}: {}", message.trim()))
        }
        other => lines.push(format!("import: {}: {}", other.label(), other.failure_text().unwrap_or_default())),
    }
    match &c.link {
        Step::Done { result } => {
            if !result.missing.is_empty() {
                lines.push(format!("link: {} unresolved: {}", result.missing.len(), result.missing.join(", ")));
            }
            // dlopen's own error names the first missing symbol; show it only when it says more.
            if let Some(e) =
                result.dlopen_error.as_ref().filter(|e| !result.missing.iter().any(|m| e.contains(m.as_str())))
            {
                lines.push(format!("link: {e}"));
            }
        }
        // Not run: said once per interpreter, not per cell.
        Step::NotRun { .. } => {}
        other => lines.push(format!("link: {}: {}", other.label(), other.failure_text().unwrap_or_default())),
    }
    lines
}

/// Renders the table and its details. `ascii` avoids box-drawing characters (logs, CI).
pub fn render(m: &Matrix, ascii: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{LEGEND}");
    let mut header = vec!["build".to_string(), "audit".to_string()];
    header.extend(m.interpreters.iter().map(|i| i.name.clone()));
    let mut t = new_table(header, ascii);
    for b in &m.builds {
        let label = if b.artifact().is_some() { b.label() } else { format!("{}\n(build failed)", b.label()) };
        let mut row = vec![TCell::new(label), TCell::new(audit_summary(b))];
        for i in &m.interpreters {
            row.push(TCell::new(m.cell(b, &i.name).map_or("—".into(), cell_text)));
        }
        t.add_row(row);
    }
    let _ = writeln!(out, "{t}\n");

    let _ = writeln!(out, "Extension suffixes each interpreter's importer looks for (anything else is 'not found'):");
    for i in &m.interpreters {
        let _ = writeln!(out, "  {:<10} {}", i.name, i.extension_suffixes.join("  "));
    }

    let _ = writeln!(out, "\nStable-ABI audit: imported Py*/_Py* symbols against {}", m.stable_abi);
    for b in &m.builds {
        let text = match (&b.audit, b.artifact()) {
            (_, None) => continue,
            (Some(a), _) => format!("floor {}: {}", version(a.floor), audit_flags(a)),
            (None, _) => unlimited_info(m, b),
        };
        let _ = writeln!(out, "  {}: {text}", b.label());
    }

    let mut not_run: BTreeSet<String> = BTreeSet::new();
    let mut cells = String::new();
    for b in &m.builds {
        if let BuildOutcome::Failed { error } = &b.outcome {
            let _ = writeln!(cells, "  {}: build failed: {}", b.label(), failure_headline(error));
        }
        for i in &m.interpreters {
            let Some(c) = m.cell(b, &i.name) else { continue };
            if let (Step::NotRun { reason }, Some(_)) = (&c.link, b.artifact()) {
                not_run.insert(format!("link check not run on {}: {reason}", i.name));
            }
            let lines = cell_details(c);
            if !lines.is_empty() {
                let _ = writeln!(cells, "  {} on {}: {}", b.label(), i.name, c.verdict());
                for l in lines {
                    let _ = writeln!(cells, "      {}", l.replace('\n', "\n      "));
                }
            }
        }
    }
    if !cells.is_empty() || !not_run.is_empty() {
        let _ = writeln!(out, "\nDetails:");
        for n in not_run {
            let _ = writeln!(out, "  {n}");
        }
        out.push_str(&cells);
    }
    out
}
