//! The Markdown summary: the decision, the by-group table, caveats and links, short enough for a
//! PR comment or a CI job summary. The full tables are in the HTML page beside it.

use std::fmt::Write;

use crate::export::answer;
use crate::export::page::{path_url, Exporter, Report};
use crate::export::summary::{self, controls_line, layout_line, native_table, run_line, QUESTION};

/// Backslash-escapes what Markdown would read as markup (emphasis, links, HTML, table cells).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn row(cells: &[String]) -> String {
    format!("| {} |", cells.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | "))
}

/// A titled Markdown table; nothing when it has no rows.
fn table(out: &mut String, title: &str, (header, rows): (Vec<String>, Vec<Vec<String>>)) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(out, "{}", row(&header));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for cells in &rows {
        let _ = writeln!(out, "{}", row(cells));
    }
    out.push('\n');
}

/// The Markdown summary.
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, rep: &Report) -> String {
        let r = rep.results;
        let mut out = String::new();
        let _ = writeln!(out, "# abibench: what does the stable ABI cost, and is it worth it?\n");
        let _ = writeln!(out, "{QUESTION} {}\n", escape(&run_line(r)));
        let _ = writeln!(
            out,
            "Full page: [report.html](report.html) · raw data: [{}]({})\n",
            escape(&rep.results_link),
            path_url(&rep.results_link)
        );
        let _ = writeln!(out, "## The answer\n");
        for l in answer::channel_lines(&rep.decision) {
            let _ = writeln!(out, "- {}", escape(&l));
        }
        out.push('\n');
        table(
            &mut out,
            "What each kind of call costs under each floor (what a PyO3 user pays: median over interpreters [their range]; (parentheses): not measurable on any)",
            answer::headline(&rep.decision),
        );
        let plan = answer::plan_lines(r, &rep.decision, &rep.plan);
        let _ = writeln!(out, "### {}\n", escape(&plan[0]));
        for l in &plan[1..] {
            let _ = writeln!(out, "{}", escape(l));
        }
        let _ = writeln!(
            out,
            "\n<details><summary>CI matrix for this plan (maturin-action)</summary>\n\n```yaml\n{}```\n\n</details>\n",
            answer::ci_snippet(r, &rep.decision, &rep.plan)
        );
        let _ = writeln!(out, "## The evidence\n");
        let _ = writeln!(
            out,
            "Ratios are stable-ABI {q} over unlimited {q}; a difference is stated only where the 95 % \
             interval excludes 1.0 and the noise floor. Pooled figures (never across cost channels or layers): median \
             of the per-scenario ratios, its interval the median of their bounds.\n",
            q = rep.results.run.sampling.measure.quantity()
        );
        let _ = writeln!(out, "{}\n", escape(&controls_line(rep.analysis)));
        let _ = writeln!(out, "{}\n", escape(&layout_line(r)));
        for (band, header, rows) in summary::split_tables(&rep.decision) {
            table(&mut out, &format!("Where the cost comes from on {band} (ABI: forced by the stable ABI; PyO3: added by PyO3 over the cheapest stable path; ᵛ: includes METH_VARARGS)"), (header, rows));
        }
        for (title, lines) in summary::summary(&rep.decision) {
            let _ = writeln!(out, "### {title}\n");
            for l in lines {
                let _ = writeln!(out, "- {}", escape(&l));
            }
            out.push('\n');
        }
        let upstream = summary::evidence_lines(&rep.evidence);
        if !upstream.is_empty() {
            let _ = writeln!(out, "### Findings for upstream\n");
            for l in upstream {
                let _ = writeln!(out, "- {}", escape(&l));
            }
            out.push('\n');
        }
        for (band, header, rows) in summary::channel_tables(&rep.decision) {
            table(&mut out, &format!("By cost channel on {band} (median ratio, range, n ratios)"), (header, rows));
        }
        table(&mut out, "Above the native floor (pure Rust, criterion; not paired)", native_table(r, rep.analysis));
        if !rep.caveats.is_empty() {
            let _ = writeln!(out, "## Caveats\n");
            for c in &rep.caveats {
                let _ = writeln!(out, "- {}", escape(c));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "## Plots\n");
        for p in &rep.plots {
            let _ = writeln!(out, "![{}](plots/{}.svg)\n", escape(&p.title), path_url(&p.name));
        }
        if rep.matrix.is_none() {
            let _ = writeln!(out, "The ABI compatibility matrix was not run for this report.\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::caveats::run_caveats;
    use crate::analysis::cells::analyse;
    use crate::analysis::decision::Decision;
    use crate::analysis::plan::{plan, Goal};
    use crate::analysis::testdata;

    #[test]
    fn markup_in_user_strings_is_inert() {
        assert_eq!(escape("a_b *c* [x](y) <b>|"), "a\\_b \\*c\\* \\[x\\](y) &lt;b&gt;\\|");
    }

    #[test]
    fn the_summary_carries_the_decision_and_links() {
        let mut r = testdata::results();
        r.groups[0].title = "Containers | <b>".into();
        let a = analyse(&r);
        let d = Decision::compute(&r, &a);
        let rep = Report {
            results: &r,
            analysis: &a,
            plan: plan(&r, &d, &Goal::default()),
            decision: d,
            evidence: crate::analysis::findings::evidence(&r, &a),
            caveats: run_caveats(&r, &a),
            plots: Vec::new(),
            matrix: None,
            results_link: "../run 1.json".into(),
        };
        let md = Markdown.render(&rep);
        assert!(md.contains("[../run 1.json](../run%201.json)"), "{md}");
        assert!(md.contains("- Item access: abi3-py38 +47 % to +52 %, abi3-py312 +9 %."), "{md}");
        assert!(md.contains("| item access | +49 % "), "{md}");
        assert!(md.contains("Wheel plan for the balanced (calling convention in 20 %"), "{md}");
        assert!(md.find("## The answer") < md.find("## The evidence"), "{md}");
        assert!(md.contains("matrix was not run"));
    }
}
