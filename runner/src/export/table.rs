//! The terminal tables: one per scenario group, then the group's in-build comparisons; and the
//! native floors of `abibench native`.

use std::collections::BTreeSet;
use std::fmt::Write;

use comfy_table::{presets, Cell as TCell, CellAlignment, Table};

use crate::analysis::Analysis;
use crate::modes::Mode;
use crate::native::NativeRun;
use crate::results::{CellStatus, Results};
use crate::scenarios::Group;
use crate::stats::Estimate;

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

/// `1.50 ns ±1%`: a median time and its interval's half-width, relative.
pub fn format_time(e: &Estimate) -> String {
    format!("{} ±{:.0}%", format_ns(e.point), 100.0 * e.rel_half_width())
}

/// `1.07× ±0.01`: the point and the interval's half-width.
pub fn format_ratio(e: &Estimate) -> String {
    format!("{:.2}× ±{:.2}", e.point, (e.high - e.low) / 2.0)
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
    let modes: Vec<Mode> = Mode::ALL.into_iter().filter(|m| r.cells.iter().any(|c| c.mode == *m)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Median time per operation (empty-loop overhead subtracted), ± half-width of its 95 % bootstrap interval.\n\
         Stable-ABI columns add their ratio to `unlimited` on the same interpreter, paired round by round.\n\
         '—' = the mode does not fit that interpreter."
    );
    let floors = r.native.as_ref().map(|n| {
        let _ = writeln!(
            out,
            "native = the same work in pure Rust (criterion, `abibench native` of {}): the floor under every \
             column; the rest of a time is the crossing.",
            n.created_at
        );
        &n.floors
    });
    out.push('\n');
    for g in &r.groups {
        let _ = writeln!(out, "{} [{}]", g.title, format!("{:?}", g.kind).to_lowercase());
        let mut header = vec!["scenario".to_string(), "python".to_string()];
        header.extend(modes.iter().map(|m| m.name()));
        let floors = floors.filter(|f| g.scenarios.iter().any(|s| f.contains_key(&s.name)));
        if floors.is_some() {
            header.push("native".into());
        }
        let mut t = new_table(header, ascii);
        // (scenario, mode, interpreter, status, reason); "not available" is the same on every
        // interpreter, so it is noted once per scenario and mode.
        let mut notes: BTreeSet<(String, Mode, Option<String>, &str, String)> = BTreeSet::new();
        for s in &g.scenarios {
            for (row_of_scenario, i) in r.interpreters.iter().enumerate() {
                let mut row = vec![TCell::new(&s.name), TCell::new(&i.name)];
                for &m in &modes {
                    let text = match r.cell(&i.name, m, &s.name) {
                        None => "—".to_string(),
                        Some(c) if c.status == CellStatus::Ok => {
                            let sum = a.summary(&i.name, m, &s.name);
                            let mut text = sum.map_or("?".into(), |x| format_time(&x.median));
                            if let Some(ratio) = a.mode_ratio(&i.name, m, &s.name) {
                                text = format!("{text}  {}", format_ratio(&ratio.ratio));
                            }
                            text
                        }
                        Some(c) => {
                            let first = c.reason.as_deref().unwrap_or_default().lines().next().unwrap_or_default();
                            let interp = (c.status != CellStatus::NotAvailable).then(|| i.name.clone());
                            notes.insert((s.name.clone(), m, interp, c.status.label(), first.to_string()));
                            c.status.label().to_string()
                        }
                    };
                    row.push(right(text));
                }
                if let Some(f) = floors {
                    // A floor does not depend on the interpreter: shown once per scenario.
                    let floor = f.get(&s.name).filter(|_| row_of_scenario == 0);
                    row.push(right(floor.map_or(String::new(), |f| format_time(&f.per_op_ns))));
                }
                t.add_row(row);
            }
        }
        let _ = writeln!(out, "{t}");
        for (scenario, mode, interp, status, reason) in notes {
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

/// The floors of a native run, with the scenarios each one is under.
pub fn render_native(run: &NativeRun, groups: &[Group], ascii: bool) -> String {
    let mut t = new_table(
        ["native floor", "per iteration", "ops", "per operation", "scenarios"].map(String::from).to_vec(),
        ascii,
    );
    for (id, b) in &run.benches {
        let users: Vec<&str> = groups
            .iter()
            .flat_map(|g| &g.scenarios)
            .filter(|s| s.native.as_deref() == Some(id))
            .map(|s| s.name.as_str())
            .collect();
        t.add_row(vec![
            TCell::new(id),
            right(format_time(&b.per_iteration_ns)),
            right(b.elements.to_string()),
            right(format_time(&b.per_op_ns())),
            TCell::new(users.join(" ")),
        ]);
    }
    format!(
        "Native floors: criterion's median per iteration, ± half-width of its 95 % interval, over the operations \
         in one iteration.\n{t}\n"
    )
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
