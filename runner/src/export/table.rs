//! The terminal table: one per scenario group, then the group's in-build comparisons.

use std::collections::BTreeSet;
use std::fmt::Write;

use comfy_table::{presets, Cell as TCell, CellAlignment, Table};

use crate::analysis::Analysis;
use crate::modes::Mode;
use crate::results::{CellStatus, Results};
use crate::scenarios::Group;
use crate::stats::{Estimate, Summary};

/// Human time per operation with three significant digits.
pub fn format_ns(ns: f64) -> String {
    let (v, unit) = match ns.abs() {
        x if x >= 1e6 => (ns / 1e6, "ms"),
        x if x >= 1e3 => (ns / 1e3, "µs"),
        _ => (ns, "ns"),
    };
    let decimals = match v.abs() {
        x if x >= 100.0 => 0,
        x if x >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$} {unit}")
}

/// `6.21 ns ±3%`: the median per operation and its interval's relative half-width.
pub fn format_summary(s: &Summary) -> String {
    format!("{} ±{:.0}%", format_ns(s.median.point), 100.0 * s.median.rel_half_width())
}

/// `1.07× ±0.01`: the point and the interval's half-width.
pub fn format_ratio(e: &Estimate) -> String {
    format!("{:.2}× ±{:.2}", e.point, (e.high - e.low) / 2.0)
}

/// A cell without values, explained once: (scenario, mode, interpreter, status, first line of the
/// reason). "Not available" is the same on every interpreter, so it carries no interpreter.
pub type Note = (String, Mode, Option<String>, &'static str, String);

/// The notes under a group's table, in a stable order.
pub fn notes(r: &Results, g: &Group) -> BTreeSet<Note> {
    r.cells
        .iter()
        .filter(|c| c.status != CellStatus::Ok && g.scenarios.iter().any(|s| s.name == c.scenario))
        .map(|c| {
            let first = c.reason.as_deref().unwrap_or_default().lines().next().unwrap_or_default();
            let interp = (c.status != CellStatus::NotAvailable).then(|| c.interpreter.clone());
            (c.scenario.clone(), c.mode, interp, c.status.label(), first.to_string())
        })
        .collect()
}

fn new_table(header: Vec<String>, ascii: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(if ascii { presets::ASCII_BORDERS_ONLY_CONDENSED } else { presets::UTF8_BORDERS_ONLY });
    t.set_header(header);
    t
}

fn right(text: String) -> TCell {
    TCell::new(text).set_alignment(CellAlignment::Right)
}

/// Renders every group of `r`. `ascii` avoids box-drawing characters (logs, CI).
pub fn render(r: &Results, a: &Analysis, ascii: bool) -> String {
    let modes = r.modes();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Median time per operation (empty-loop overhead subtracted), ± half-width of its 95 % bootstrap interval.\n\
         Stable-ABI columns add their ratio to `unlimited` on the same interpreter, paired round by round.\n\
         '—' = the mode does not fit that interpreter.\n"
    );
    for g in &r.groups {
        let _ = writeln!(out, "{} [{}]", g.title, format!("{:?}", g.kind).to_lowercase());
        let mut header = vec!["scenario".to_string(), "python".to_string()];
        header.extend(modes.iter().map(|m| m.name()));
        let mut t = new_table(header, ascii);
        for s in &g.scenarios {
            for i in &r.interpreters {
                let mut row = vec![TCell::new(&s.name), TCell::new(&i.name)];
                for &m in &modes {
                    let text = match r.cell(&i.name, m, &s.name) {
                        None => "—".to_string(),
                        Some(c) if c.status == CellStatus::Ok => {
                            let mut text = a.summary(&i.name, m, &s.name).map_or("?".into(), format_summary);
                            if let Some(ratio) = a.mode_ratio(&i.name, m, &s.name) {
                                text = format!("{text}  {}", format_ratio(&ratio.ratio));
                            }
                            text
                        }
                        Some(c) => c.status.label().to_string(),
                    };
                    row.push(right(text));
                }
                t.add_row(row);
            }
        }
        let _ = writeln!(out, "{t}");
        for (scenario, mode, interp, status, reason) in notes(r, g) {
            let on = interp.map_or(String::new(), |i| format!(" on {i}"));
            let _ = writeln!(out, "  {scenario} / {mode}{on}: {status}: {reason}");
        }
        if !g.comparisons.is_empty() {
            let mut header = vec!["comparison".to_string(), "python".to_string()];
            header.extend(modes.iter().map(|m| m.name()));
            let mut t = new_table(header, ascii);
            for c in &g.comparisons {
                for i in &r.interpreters {
                    let mut row = vec![TCell::new(&c.label), TCell::new(&i.name)];
                    for &m in &modes {
                        row.push(right(
                            a.comparison(&g.name, &c.label, &i.name, m)
                                .map_or("—".into(), |x| format_ratio(&x.ratio)),
                        ));
                    }
                    t.add_row(row);
                }
            }
            let _ = writeln!(out, "{t}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_ratios_format_compactly() {
        assert_eq!(format_ns(1.234), "1.23 ns");
        assert_eq!(format_ns(45.67), "45.7 ns");
        assert_eq!(format_ns(1534.0), "1.53 µs");
        assert_eq!(format_ns(2.5e6), "2.50 ms");
        assert_eq!(format_ratio(&Estimate { point: 1.071, low: 1.06, high: 1.08 }), "1.07× ±0.01");
    }
}
