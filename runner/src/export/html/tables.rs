//! The page's tables: every cell of the run, and each group's in-build comparisons.

use std::fmt::Write;

use super::esc;
use crate::analysis::cells::Analysis;
use crate::analysis::decision::ordered_interpreters;
use crate::export::format::{format_estimate, format_ratio, notes};
use crate::export::idle::idle;
use crate::export::summary::kind_name;
use crate::model::interpreter::Interpreter;
use crate::model::results::{CellStatus, Results};

fn table_head(out: &mut String, cols: &[String]) {
    let _ = write!(out, "<thead><tr>");
    for c in cols {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    let _ = writeln!(out, "</tr></thead>");
}

pub(super) fn plain_table(out: &mut String, class: &str, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "<table class=\"{class}\">");
    table_head(out, header);
    let _ = writeln!(out, "<tbody>");
    for r in rows {
        let _ = write!(out, "<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
}

/// The interpreters with rows: those where some mode ran (the others are one line each).
fn running<'a>(r: &'a Results, idle: &[(String, String)]) -> Vec<&'a Interpreter> {
    ordered_interpreters(r).into_iter().filter(|i| !idle.iter().any(|(name, _)| *name == i.name)).collect()
}

/// The full results table: a row per (scenario, interpreter), a cell per mode, every cell filled.
pub(super) fn results_table(out: &mut String, r: &Results, a: &Analysis) {
    let modes = r.modes();
    let mut header = vec!["scenario".to_string(), "python".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let idle = idle(r);
    for (interp, why) in &idle {
        let _ = writeln!(out, "<p class=\"note idle\"><b>{}</b>: {}</p>", esc(interp), esc(why));
    }
    let _ = writeln!(out, "<table id=\"results\" data-modes=\"{}\">", modes.len());
    table_head(out, &header);
    let interps = running(r, &idle);
    for g in &r.groups {
        let _ = writeln!(
            out,
            "<tbody><tr class=\"group\"><th colspan=\"{}\">{} <span class=\"meta\">[{}] {}</span></th></tr>",
            header.len(),
            esc(&g.title),
            kind_name(g.kind),
            esc(&g.description)
        );
        for s in &g.scenarios {
            for i in &interps {
                let _ = write!(
                    out,
                    "<tr><th title=\"{}\">{}</th><th>{}</th>",
                    esc(&s.description),
                    esc(&s.name),
                    esc(&i.name)
                );
                for &m in &modes {
                    let (class, body) = match r.cell(&i.name, m, &s.name) {
                        None => ("none", "—".to_string()),
                        Some(c) if c.status == CellStatus::Ok => {
                            let mut body = a
                                .summary(&i.name, m, &s.name)
                                .map_or("?".into(), |x| esc(&format_estimate(&x.median, r.run.sampling.measure)));
                            if let Some(x) = a.mode_ratio(&i.name, m, &s.name) {
                                let class = match (x.ratio.low > 1.0, x.ratio.high < 1.0) {
                                    (true, _) => "slower",
                                    (_, true) => "faster",
                                    _ => "unclear",
                                };
                                let _ = write!(
                                    body,
                                    "<span class=\"ratio {class}\" title=\"95 % interval {:.2}–{:.2}×\">{}</span>",
                                    x.ratio.low,
                                    x.ratio.high,
                                    esc(&format_ratio(&x.ratio))
                                );
                            }
                            ("ok", body)
                        }
                        Some(c) if c.status == CellStatus::NotAvailable => ("na", esc(c.status.label())),
                        Some(c) => ("fail", esc(c.status.label())),
                    };
                    let _ = write!(out, "<td class=\"cell {class}\">{body}</td>");
                }
                let _ = writeln!(out, "</tr>");
            }
        }
        let _ = writeln!(out, "</tbody>");
    }
    let _ = writeln!(out, "</table>");
    for g in &r.groups {
        let notes = notes(r, g);
        if notes.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<details><summary>Why cells of {} have no values ({})</summary><ul class=\"note\">",
            esc(&g.title),
            notes.len()
        );
        for (scenario, mode, interp, status, reason) in notes {
            let on = interp.map_or(String::new(), |i| format!(" on {}", esc(&i)));
            let _ = writeln!(
                out,
                "<li><code>{}</code> / {mode}{on}: {}: {}</li>",
                esc(&scenario),
                esc(status),
                esc(&reason)
            );
        }
        let _ = writeln!(out, "</ul></details>");
    }
}

pub(super) fn comparison_tables(out: &mut String, r: &Results, a: &Analysis) {
    let modes = r.modes();
    let interps = running(r, &idle(r));
    for g in r.groups.iter().filter(|g| !g.comparisons.is_empty()) {
        let _ = writeln!(out, "<h3>{}: paths side by side within each build</h3>", esc(&g.title));
        let mut header = vec!["comparison".to_string(), "python".to_string()];
        header.extend(modes.iter().map(|m| m.name()));
        let rows: Vec<Vec<String>> = g
            .comparisons
            .iter()
            .flat_map(|c| interps.iter().map(move |i| (c, i)))
            .map(|(c, i)| {
                let mut row = vec![c.label.clone(), i.name.clone()];
                row.extend(modes.iter().map(|&m| {
                    a.comparison(&g.name, &c.label, &i.name, m).map_or("—".into(), |x| format_ratio(&x.ratio))
                }));
                row
            })
            .collect();
        plain_table(out, "comparisons", &header, &rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata;

    #[test]
    fn the_results_table_has_a_cell_per_scenario_interpreter_and_mode() {
        let r = testdata::results();
        let a = analyse(&r);
        let mut out = String::new();
        results_table(&mut out, &r, &a);
        // 3 scenarios x 2 interpreters x 3 modes.
        assert_eq!(out.matches("<td class=\"cell ").count(), 18);
        assert_eq!(out.matches("<td class=\"cell none\">").count(), 3, "abi3-py312 does not fit 3.8");
        assert_eq!(out.matches("<td class=\"cell na\">").count(), 3);
        assert!(out.contains("ratio slower"));
    }

    #[test]
    fn an_interpreter_where_nothing_ran_is_a_line_not_rows() {
        let r = crate::export::testwide::results();
        let a = analyse(&r);
        let mut out = String::new();
        results_table(&mut out, &r, &a);
        comparison_tables(&mut out, &r, &a);
        assert_eq!(
            out.matches("<p class=\"note idle\"><b>3.13.5t</b>: no mode ran. unlimited: build failed").count(),
            1
        );
        assert!(!out.contains("<th>3.13.5t</th>") && !out.contains("<td>3.13.5t</td>"));
    }
}
