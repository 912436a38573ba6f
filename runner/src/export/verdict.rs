//! The gate's verdict as Markdown: a CI job prints it to its log and to the step summary as is.

use std::fmt::Write;

use crate::analysis::gate::{GateReport, Verdict};
use crate::export::format::format_value;
use crate::model::sampling::Measure;

fn short(rev: &Option<String>) -> String {
    rev.as_deref().map_or("unknown revision".into(), |r| format!("rev {}", &r[..r.len().min(10)]))
}

/// Renders the verdict: the rule applied, counts per verdict, then one row per cell that is not
/// unchanged (every cell with `all`), and the gate's outcome last.
pub fn render(r: &GateReport, all: bool) -> String {
    let mut out = String::new();
    let (measure, threshold) = match r.measure {
        Measure::WallTime => (r.measure.name(), r.thresholds.min_effect),
        Measure::Instructions => (r.measure.name(), r.thresholds.instr_threshold),
    };
    let up = 1.0 + threshold;
    let _ = writeln!(
        out,
        "### abibench check ({measure}): run `{}` ({}) against baseline `{}` ({})\n",
        r.run_id,
        short(&r.run_revision),
        r.baseline_id,
        short(&r.baseline_revision)
    );
    let _ = match r.measure {
        Measure::WallTime => writeln!(
            out,
            "Rule: a cell regressed when the 95 % interval of run/baseline (median time per operation, \
             bootstrap over both runs' values) lies entirely above {up:.3}, improved when entirely below \
             {:.3}; anything else is unchanged. A crash, hang or error where the baseline had values regressed.\n",
            1.0 / up
        ),
        Measure::Instructions => writeln!(
            out,
            "Rule: a cell regressed when run/baseline (median instructions per operation) is above {up:.4}, \
             improved when below {:.4}. A crash, hang or error where the baseline had values regressed.\n",
            1.0 / up
        ),
    };
    for n in &r.notes {
        let _ = writeln!(out, "> Note: {n}\n");
    }
    let _ = writeln!(out, "| verdict | cells |\n|---|---:|");
    for v in Verdict::ALL {
        let _ = writeln!(out, "| {} | {} |", v.label(), r.count(v));
    }
    let rows: Vec<_> = r.cells.iter().filter(|c| all || c.verdict != Verdict::Unchanged).collect();
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "\n| verdict | scenario | python | mode | baseline | run | run/baseline | note |\n\
             |---|---|---|---|---:|---:|---:|---|"
        );
        for c in rows {
            let value = |v: Option<f64>| v.map_or("—".into(), |v| format_value(v, r.measure));
            let change = c.change.map_or("—".into(), |e| match r.measure {
                Measure::WallTime => format!("{:.3}× [{:.3}, {:.3}]", e.point, e.low, e.high),
                Measure::Instructions => format!("{:.4}×", e.point),
            });
            let label = match c.verdict {
                Verdict::Regressed => format!("**{}**", c.verdict.label()),
                v => v.label().to_string(),
            };
            let _ = writeln!(
                out,
                "| {label} | {} | {} | {} | {} | {} | {change} | {} |",
                c.scenario,
                c.interpreter,
                c.mode,
                value(c.baseline),
                value(c.run),
                c.note.as_deref().unwrap_or_default()
            );
        }
    }
    let unchanged = r.count(Verdict::Unchanged);
    if !all && unchanged > 0 {
        let _ = writeln!(out, "\n{unchanged} unchanged cell(s) not listed (`--all` lists them).");
    }
    let regressed = r.count(Verdict::Regressed);
    let _ = writeln!(
        out,
        "\n**Gate: {}**",
        if regressed > 0 { format!("FAILED, {regressed} cell(s) regressed") } else { "no regression".into() }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gate::{judge, Thresholds};
    use crate::model::mode::Mode;
    use crate::model::results::fixture;

    #[test]
    fn the_table_lists_changed_cells_and_the_outcome() {
        let base = fixture::run(
            "base",
            Measure::WallTime,
            &[("3.13.0", Mode::Unlimited, "a", vec![10.0, 10.1, 9.9]), ("3.13.0", Mode::Unlimited, "b", vec![5.0; 3])],
        );
        let run = fixture::run("run", Measure::WallTime, &[("3.13.0", Mode::Unlimited, "a", vec![20.0, 20.2, 19.8])]);
        let r = judge(&base, &run, Thresholds { min_effect: 0.05, instr_threshold: 0.005 }).unwrap();
        let md = render(&r, false);
        assert!(md.contains("| **regressed** | a | 3.13.0 | unlimited | 10.0 ns | 20.0 ns | 2.000×"), "{md}");
        assert!(md.contains("| missing | b | 3.13.0 | unlimited | 5.00 ns | — | — | not in this run |"), "{md}");
        assert!(md.contains("| regressed | 1 |") && md.contains("| unchanged | 0 |"), "{md}");
        assert!(md.contains("above 1.050") && md.contains("**Gate: FAILED, 1 cell(s) regressed**"), "{md}");
    }
}
