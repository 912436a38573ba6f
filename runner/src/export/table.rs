//! The terminal tables: one per scenario group, then the group's in-build comparisons; and the
//! native floors of `abibench native`.

use std::collections::BTreeSet;
use std::fmt::Write;

use comfy_table::{presets, Cell as TCell, CellAlignment, Table};

use crate::analysis::aa::{AaResult, TOLERANCE};
use crate::analysis::caveats::noise_warnings;
use crate::analysis::cells::Analysis;
use crate::export::format::{format_estimate, format_ratio, notes, pinning};
use crate::model::mode::Mode;
use crate::model::native::NativeRun;
use crate::model::results::{CellStatus, Results};
use crate::model::sampling::{Measure, Sampling};
use crate::model::scenario::Group;

pub fn new_table(header: Vec<String>, ascii: bool) -> Table {
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
    for w in noise_warnings(r, a) {
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
         ({} layout(s) x {} process(es) x {} interleaved values of >= {} ms{}).\n{t}\n\
         false differences (interval excludes 1.0): {false_diffs} of {n} ({:.1} %)\n\
         |ratio - 1| > {:.0} %: {outside} of {n}; largest |ratio - 1|: {:.2} %; widest interval: ±{:.2} %\n",
        if across_layouts {
            "two layout variants of one build (functions shuffled with other seeds), as A and B"
        } else {
            "one build loaded twice"
        },
        sampling.layouts,
        sampling.processes,
        sampling.values,
        sampling.min_time * 1e3,
        pinning(&sampling.affinity),
        100.0 * false_diffs as f64 / n.max(1) as f64,
        TOLERANCE * 100.0,
        worst * 100.0,
        widest * 100.0,
    )
}
