//! The terminal tables: one per scenario group, then the group's in-build comparisons; and the
//! native floors of `abibench native`.

use std::collections::BTreeSet;
use std::fmt::Write;

use comfy_table::{Cell as TCell, CellAlignment};

use crate::analysis::aa::{AaResult, TOLERANCE};
use crate::analysis::caveats::noise_warnings;
use crate::analysis::cells::Analysis;
use crate::export::format::{ascii_glyphs, format_estimate, notes, pinning};
use crate::export::grid::{comparison_grids, new_table, results_grids, wrap};
use crate::export::idle::idle;
use crate::model::mode::Mode;
use crate::model::native::NativeRun;
use crate::model::results::{CellStatus, Results};
use crate::model::sampling::{Measure, Sampling};
use crate::model::scenario::Group;

fn right(text: String) -> TCell {
    TCell::new(text).set_alignment(CellAlignment::Right)
}

/// Renders every group of `r`, each line within [`WIDTH`] columns. `ascii` avoids box-drawing
/// characters (logs, CI).
pub fn render(r: &Results, a: &Analysis, ascii: bool) -> String {
    // In ASCII, abibench's glyphs too (`ascii_glyphs`), before the lines are measured.
    let say = |text: String, indent: usize| match ascii {
        true => wrap(&ascii_glyphs(&text), indent),
        false => wrap(&text, indent),
    };
    let what = match r.run.sampling.measure {
        Measure::WallTime => "Median time per operation",
        Measure::Instructions => "Instructions per operation (callgrind)",
    };
    let mut out = say(
        format!(
            "{what} (empty-loop overhead subtracted), ± half-width of its 95 % bootstrap interval. Stable-ABI \
             columns add, below it, their ratio to `unlimited` on the same interpreter, paired value by value. \
             '—' = the mode does not fit that interpreter."
        ),
        0,
    );
    if let Some(n) = &r.native {
        out.push_str(&say(
            format!(
                "native (under a scenario's name) = the same work in pure Rust (criterion, `abibench native` of {}): \
                 the floor under every column; the rest of a time is the crossing.",
                n.created_at
            ),
            0,
        ));
    }
    for (interp, why) in idle(r) {
        out.push_str(&say(format!("{interp}: {why}"), 2));
    }
    out.push('\n');
    for g in &r.groups {
        let _ = writeln!(out, "{} [{}]", g.title, format!("{:?}", g.kind).to_lowercase());
        for grid in results_grids(r, a, g) {
            let _ = writeln!(out, "{}", grid.to_table(ascii));
        }
        // A failed build is said once, under the tables (`commands::show`), not once per cell.
        let unbuilt = CellStatus::BuildFailed.label();
        for (scenario, mode, interp, status, reason) in notes(r, g).into_iter().filter(|n| n.3 != unbuilt) {
            let on = interp.map_or(String::new(), |i| format!(" on {i}"));
            out.push_str(&say(format!("  {scenario} / {mode}{on}: {status}: {reason}"), 4));
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
            out.push_str(&say(
                format!(
                    "  {mode} on {interp}: timed with the GIL on: CPython re-enabled it for a build that does not \
                     declare free-threading support"
                ),
                4,
            ));
        }
        for grid in comparison_grids(r, a, g) {
            let _ = writeln!(out, "{}", grid.to_table(ascii));
        }
        out.push('\n');
    }
    for w in noise_warnings(r, a) {
        out.push_str(&say(format!("noise: {w}"), 2));
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

/// The A/A table and its totals: false differences, the largest error, the widest interval.
pub fn render_aa(results: &[AaResult], sampling: &Sampling, across_layouts: bool, ascii: bool) -> String {
    let mut t = new_table(["scenario", "python", "B/A", "95 % interval", "verdict"].map(String::from).to_vec(), ascii);
    for r in results {
        let verdict = match (r.false_difference(), r.within_tolerance()) {
            (true, _) => "FALSE DIFFERENCE",
            (false, false) => "ok, but |ratio-1| > 1 %",
            (false, true) => "ok",
        };
        t.add_row(vec![
            r.scenario.clone(),
            r.interpreter.clone(),
            format!("{:.4}", r.ratio.point),
            format!("[{:.4}, {:.4}]", r.ratio.low, r.ratio.high),
            verdict.into(),
        ]);
    }
    let n = results.len();
    let false_diffs = results.iter().filter(|r| r.false_difference()).count();
    let outside = results.iter().filter(|r| !r.within_tolerance()).count();
    let worst = results.iter().map(|r| (r.ratio.point - 1.0).abs()).fold(0.0, f64::max);
    let widest = results.iter().map(|r| r.ratio.rel_half_width()).fold(0.0, f64::max);
    format!(
        "A/A test: {}, measured as `compare` measures modes \
         ({}{}).\n{t}\n\
         false differences (interval excludes 1.0): {false_diffs} of {n} ({:.1} %)\n\
         |ratio - 1| > {:.0} %: {outside} of {n}; largest |ratio - 1|: {:.2} %; widest interval: ±{:.2} %\n",
        if across_layouts {
            "two layout variants of one build (functions shuffled with other seeds), as A and B"
        } else {
            "one build loaded twice"
        },
        sampling.design(),
        pinning(&sampling.affinity),
        100.0 * false_diffs as f64 / n.max(1) as f64,
        TOLERANCE * 100.0,
        worst * 100.0,
        widest * 100.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::export::grid::WIDTH;
    use crate::export::testwide;

    #[test]
    fn a_reference_sized_run_fits_the_terminal_and_says_once_why_an_interpreter_ran_nothing() {
        let r = testwide::results();
        let a = analyse(&r);
        for ascii in [false, true] {
            let text = render(&r, &a, ascii);
            for line in text.lines() {
                assert!(line.chars().count() <= WIDTH, "{} characters:\n{line}", line.chars().count());
                // In ASCII, a byte is a column wherever the output goes (the comparison tables
                // once took 127 bytes: ±, × and — are two or three each).
                assert!(!ascii || line.is_ascii(), "not ASCII:\n{line}");
            }
            assert_eq!(text.matches("3.13.5t: no mode ran").count(), 1, "{text}");
            assert!(!text.lines().any(|l| l.starts_with('|') && l.contains("3.13.5t")), "no table row of it");
            assert!(text.contains("3.13.5t: no mode ran. unlimited: build failed: cargo build exit status: 101"));
        }
    }
}
