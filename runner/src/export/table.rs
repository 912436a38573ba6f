//! The terminal tables: one per scenario group, then the group's in-build comparisons; and the
//! native floors of `abibench native`.

use std::collections::BTreeSet;
use std::fmt::Write;

use comfy_table::{presets, Cell as TCell, CellAlignment, Table};

use crate::analysis::Analysis;
use crate::measure::Measure;
use crate::modes::Mode;
use crate::native::NativeRun;
use crate::results::{CellStatus, Results};
use crate::scenarios::Group;
use crate::stats::Estimate;

/// A per-operation value with three significant digits: a time in ns, or an instruction count.
pub fn format_value(x: f64, measure: Measure) -> String {
    let (v, unit) = match (measure, x.abs()) {
        (Measure::WallTime, a) if a >= 1e6 => (x / 1e6, " ms"),
        (Measure::WallTime, a) if a >= 1e3 => (x / 1e3, " µs"),
        (Measure::WallTime, _) => (x, " ns"),
        (Measure::Instructions, a) if a >= 1e6 => (x / 1e6, "M instr"),
        (Measure::Instructions, a) if a >= 1e3 => (x / 1e3, "k instr"),
        (Measure::Instructions, _) => (x, " instr"),
    };
    let decimals = match v.abs() {
        x if x >= 100.0 => 0,
        x if x >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$}{unit}")
}

/// `1.50 ns ±1%`: a median and its interval's half-width, relative.
pub fn format_estimate(e: &Estimate, measure: Measure) -> String {
    format!("{} ±{:.0}%", format_value(e.point, measure), 100.0 * e.rel_half_width())
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

pub(crate) fn new_table(header: Vec<String>, ascii: bool) -> Table {
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
    let measure = r.run.sampling.measure;
    let modes = r.modes();
    let mut out = String::new();
    let what = match measure {
        Measure::WallTime => "Median time per operation",
        Measure::Instructions => "Instructions per operation (callgrind)",
    };
    let _ = writeln!(
        out,
        "{what} (empty-loop overhead subtracted), ± half-width of its 95 % bootstrap interval.\n\
         Stable-ABI columns add their ratio to `unlimited` on the same interpreter, paired value by value.\n\
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
        for s in &g.scenarios {
            for (row_of_scenario, i) in r.interpreters.iter().enumerate() {
                let mut row = vec![TCell::new(&s.name), TCell::new(&i.name)];
                for &m in &modes {
                    let text = match r.cell(&i.name, m, &s.name) {
                        None => "—".to_string(),
                        Some(c) if c.status == CellStatus::Ok => {
                            let mut text = a
                                .summary(&i.name, m, &s.name)
                                .map_or("?".into(), |x| format_estimate(&x.median, measure));
                            if let Some(ratio) = a.mode_ratio(&i.name, m, &s.name) {
                                text = format!("{text}  {}", format_ratio(&ratio.ratio));
                            }
                            text
                        }
                        Some(c) => c.status.label().to_string(),
                    };
                    row.push(right(text));
                }
                if let Some(f) = floors {
                    // A floor does not depend on the interpreter: shown once per scenario.
                    let floor = f.get(&s.name).filter(|_| row_of_scenario == 0);
                    row.push(right(floor.map_or(String::new(), |f| format_estimate(&f.per_op_ns, Measure::WallTime))));
                }
                t.add_row(row);
            }
        }
        let _ = writeln!(out, "{t}");
        for (scenario, mode, interp, status, reason) in notes(r, g) {
            let on = interp.map_or(String::new(), |i| format!(" on {i}"));
            let _ = writeln!(out, "  {scenario} / {mode}{on}: {status}: {reason}");
        }
        // Free-threaded times taken with the GIL back on are not free-threaded times.
        let with_gil: BTreeSet<(&str, Mode)> = r
            .cells
            .iter()
            .filter(|c| c.gil_enabled == Some(true) && g.scenarios.iter().any(|s| s.name == c.scenario))
            .filter(|c| r.interpreters.iter().any(|i| i.name == c.interpreter && i.gil_disabled))
            .map(|c| (c.interpreter.as_str(), c.mode))
            .collect();
        for (interp, mode) in with_gil {
            let _ = writeln!(
                out,
                "  {mode} on {interp}: timed with the GIL on: CPython re-enabled it for a build that does not \
                 declare free-threading support"
            );
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
    for w in crate::analysis::noise_warnings(r, a) {
        let _ = writeln!(out, "noise: {w}");
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
            right(format_estimate(&b.per_iteration_ns, Measure::WallTime)),
            right(b.elements.to_string()),
            right(format_estimate(&b.per_op_ns(), Measure::WallTime)),
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
        assert_eq!(format_value(1.234, Measure::WallTime), "1.23 ns");
        assert_eq!(format_value(45.67, Measure::WallTime), "45.7 ns");
        assert_eq!(format_value(1534.0, Measure::WallTime), "1.53 µs");
        assert_eq!(format_value(2.5e6, Measure::WallTime), "2.50 ms");
        assert_eq!(format_value(342.4, Measure::Instructions), "342 instr");
        assert_eq!(format_value(12_345.0, Measure::Instructions), "12.3k instr");
        assert_eq!(format_value(2.5e6, Measure::Instructions), "2.50M instr");
        assert_eq!(format_ratio(&Estimate { point: 1.071, low: 1.06, high: 1.08 }), "1.07× ±0.01");
    }
}
