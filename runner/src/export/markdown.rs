//! The Markdown report: the decision, the by-group table, caveats and links, then the full
//! tables — plain text that renders on GitHub. When the whole would not fit a PR comment, the
//! full tables go to a second file the first links to.

use std::fmt::Write;

use crate::export::answer;
use crate::export::format::notes;
use crate::export::grid::{comparison_grids, results_grids, Grid};
use crate::export::idle::idle;
use crate::export::measures;
use crate::export::page::{path_url, Exporter, Report};
use crate::export::summary::{self, controls_line, kind_name, layout_line, native_table, run_line, QUESTION};

/// `s` as Markdown that reads as the plain text it is: a backslash only before what GitHub would
/// take for markup (emphasis, a link, an HTML tag or entity, a heading or quote at the start);
/// `code spans` kept as they are.
pub fn escape(s: &str) -> String {
    escape_in(s, false)
}

/// [`escape`] for a table cell, where `|` ends the cell (even inside a code span).
fn escape_cell(s: &str) -> String {
    escape_in(s, true)
}

fn escape_in(s: &str, cell: bool) -> String {
    let chars: Vec<char> = s.replace(['\n', '\r'], " ").chars().collect();
    // Which characters are in a code span (its backticks included). An unpaired backtick would
    // open a span that never closes: it is escaped, and the rest is prose.
    let paired = chars.iter().filter(|c| **c == '`').count() / 2 * 2;
    let mut code = vec![false; chars.len()];
    let (mut ticks, mut open) = (0, false);
    for (k, c) in chars.iter().enumerate() {
        if *c == '`' && ticks < paired {
            ticks += 1;
            open = !open;
            code[k] = true;
        } else {
            code[k] = open;
        }
    }
    let at = |k: usize| chars.get(k).copied();
    let before = |k: usize| k.checked_sub(1).and_then(at);
    let word = |x: Option<char>| x.is_some_and(char::is_alphanumeric);
    let space = |x: Option<char>| x.is_none_or(char::is_whitespace);
    // `_` emphasis needs an opener (not after a letter, before text) and a later closer (after
    // text, not before a letter): `refcount_fn` and `_PyObject_Call` alone are plain text.
    let underscores: Vec<usize> = (0..chars.len()).filter(|&k| chars[k] == '_' && !code[k]).collect();
    let opens = |k: usize| !word(before(k)) && !space(at(k + 1));
    let closes = |k: usize| !space(before(k)) && !word(at(k + 1));
    let emphasis = |k: usize| {
        (opens(k) && underscores.iter().any(|&j| j > k && closes(j)))
            || (closes(k) && underscores.iter().any(|&j| j < k && opens(j)))
    };
    let mut out = String::with_capacity(s.len());
    for (k, &c) in chars.iter().enumerate() {
        let after = at(k + 1);
        let markup = match c {
            '|' => cell,
            '`' => !code[k],
            _ if code[k] => false,
            '_' => emphasis(k),
            // `*` between spaces is never emphasis.
            '*' => !(space(before(k)) && space(after)),
            '~' => true,
            '<' => after.is_some_and(|a| a.is_ascii_alphabetic() || "/!?".contains(a)),
            '&' => {
                let name: String =
                    chars[k + 1..].iter().take_while(|x| x.is_ascii_alphanumeric() || **x == '#').collect();
                !name.is_empty() && at(k + 1 + name.chars().count()) == Some(';')
            }
            ']' => after.is_some_and(|a| a == '(' || a == '['),
            '\\' => after.is_some_and(|a| a.is_ascii_punctuation()),
            '#' | '>' => k == 0,
            '+' | '-' => k == 0 && after == Some(' '),
            _ => false,
        };
        if markup {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn row(cells: &[String]) -> String {
    format!("| {} |", cells.iter().map(|c| escape_cell(c)).collect::<Vec<_>>().join(" | "))
}

/// A titled Markdown table; nothing when it has no rows.
fn table(out: &mut String, title: &str, (header, rows): (Vec<String>, Vec<Vec<String>>)) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {}\n", escape(title));
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
        let _ = writeln!(out, "{}\n", answer::LINES_NOTE);
        for l in answer::answer_lines(r, &rep.decision) {
            let _ = writeln!(out, "- {}", escape(&l));
        }
        out.push('\n');
        table(
            &mut out,
            "What each kind of call costs under each floor (what a PyO3 user pays over the unlimited build: the mean over the channel's PyO3 paths, its range over the interpreters each floor runs on; (parentheses): not measurable on any)",
            answer::headline(&rep.decision),
        );
        let plan = answer::plan_lines(r, &rep.decision, &rep.plan);
        let _ = writeln!(out, "### {}\n", escape(&plan[0]));
        for l in &plan[1..] {
            let _ = writeln!(out, "- {}", escape(l.trim_start_matches("- ")));
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
            table(&mut out, &format!("Where the cost comes from on {band}"), (header, rows));
            let _ = writeln!(out, "{}\n", summary::SPLIT_NOTE);
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
        if let Some(m) = &rep.measures {
            let _ = writeln!(out, "## Counts and time\n");
            for l in measures::intro(m) {
                let _ = writeln!(out, "{}\n", escape(&l));
            }
            table(&mut out, "Where counts and time disagree, by cost channel", measures::channel_table(m));
            let _ = writeln!(out, "Every cell is in the full tables (\"Counts and time: …\").\n");
        }
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

    fn pages(&self, rep: &Report) -> Vec<(String, String)> {
        split(&self.render(rep), &full_tables(rep))
    }
}

/// GitHub's limit on a comment's length, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Where the full tables go when the summary and they would not fit one comment.
pub const TABLES_FILE: &str = "report-tables.md";

/// The full tables: per group, its cells and comparisons in the terminal's parts, an interpreter
/// where no mode ran in one line, and why cells have no values.
fn full_tables(rep: &Report) -> String {
    let (r, a) = (rep.results, rep.analysis);
    let mut out = format!(
        "## Full tables\n\nMedian {} per operation ± its 95 % interval's half-width; stable-ABI cells add their \
         paired ratio to unlimited. —: the mode does not fit that interpreter.\n\n",
        r.run.sampling.measure.quantity()
    );
    for (interp, why) in idle(r) {
        let _ = writeln!(out, "- {}\n", escape(&format!("{interp}: {why}")));
    }
    // A cell's lines side by side: a Markdown cell holds one.
    let flat = |grid: Grid| {
        let line = |t: &String| t.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        (grid.header, grid.rows.iter().map(|row| row.iter().map(line).collect()).collect())
    };
    for g in &r.groups {
        for (part, grid) in results_grids(r, a, g).into_iter().enumerate() {
            let more = if part > 0 { ", continued" } else { "" };
            table(&mut out, &format!("{} [{}]{more}", g.title, kind_name(g.kind)), flat(grid));
        }
        for (scenario, mode, interp, status, reason) in notes(r, g) {
            let on = interp.map_or(String::new(), |i| format!(" on {i}"));
            let _ = writeln!(out, "- {}", escape(&format!("`{scenario}` / {mode}{on}: {status}: {reason}")));
        }
        out.push('\n');
        for (part, grid) in comparison_grids(r, a, g).into_iter().enumerate() {
            let more = if part > 0 { ", continued" } else { "" };
            table(&mut out, &format!("{}: paths side by side within each build{more}", g.title), flat(grid));
        }
    }
    if let Some(m) = &rep.measures {
        let _ = writeln!(out, "{}\n", escape(measures::CELL_NOTE));
        for (title, header, rows) in measures::cell_tables(m) {
            table(&mut out, &title, (header, rows));
        }
    }
    out
}

/// `summary` and `tables` as one page when they fit a comment; otherwise the summary (cut at a
/// heading if it alone is too long) with a link to the rest, in [`TABLES_FILE`].
fn split(summary: &str, tables: &str) -> Vec<(String, String)> {
    let whole = format!("{summary}{tables}");
    if whole.chars().count() <= COMMENT_LIMIT {
        return vec![("report.md".into(), whole)];
    }
    let link = |more: &str| format!("The full tables{more} are in [{TABLES_FILE}]({TABLES_FILE}).\n");
    const MORE: &str = " and the rest of the summary";
    let room = COMMENT_LIMIT - link(MORE).chars().count();
    let mut cut = summary.len();
    while summary[..cut].chars().count() > room {
        cut = summary[..cut].trim_end_matches('\n').rfind("\n#").map_or(0, |at| at + 1);
    }
    let first = format!("{}{}", &summary[..cut], link(if cut < summary.len() { MORE } else { "" }));
    let rest = format!("# abibench report, continued from [report.md](report.md)\n\n{}{tables}", &summary[cut..]);
    vec![("report.md".into(), first), (TABLES_FILE.into(), rest)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::plan::Goal;
    use crate::analysis::testdata;
    use crate::export::testwide;

    fn report(r: &crate::model::results::Results) -> String {
        let a = analyse(r);
        let rep = Report::new(r, &a, &Goal::default(), "../x.json".into());
        Markdown.pages(&rep).into_iter().map(|(name, text)| format!("<<{name}>>\n{text}")).collect()
    }

    #[test]
    fn a_small_report_is_one_page_with_its_full_tables() {
        let md = report(&testdata::results());
        assert_eq!(md.matches("<<").count(), 1);
        assert!(md.contains("## Full tables") && md.contains("### Containers [chatty]"), "{md}");
    }

    #[test]
    fn a_reference_sized_report_fits_a_comment_and_links_the_rest() {
        let md = report(&testwide::results());
        let (first, rest) = md.split_once(&format!("<<{TABLES_FILE}>>\n")).expect("a second page");
        let first = first.strip_prefix("<<report.md>>\n").unwrap();
        assert!(first.chars().count() <= COMMENT_LIMIT, "{}", first.chars().count());
        assert!(first.contains("## The answer") && !first.contains("## Full tables"));
        // The fixture's summary is longer than the reference's: cut at a heading, the rest follows.
        assert!(first.ends_with(&format!("are in [{TABLES_FILE}]({TABLES_FILE}).\n")));
        assert!(rest.contains("[report.md](report.md)") && rest.contains("## Full tables"));
        assert!(rest.contains("### Python -> Rust calls [chatty]\n"), "titles as they are");
        assert!(!rest.contains("&gt;") && !rest.contains("&lt;") && !rest.contains("\\_"));
        let tables = &rest[rest.find("## Full tables").unwrap()..];
        assert_eq!(tables.matches("3.13.5t: no mode ran").count(), 1);
        assert!(!tables.contains("| 3.13.5t |"));
    }

    #[test]
    fn a_summary_too_long_for_a_comment_is_cut_at_a_heading() {
        let section = format!("## Section\n\n{}\n\n", "word ".repeat(5000));
        let pages = split(&section.repeat(4), "## Full tables\n");
        assert_eq!(pages.len(), 2);
        let first = &pages[0].1;
        assert!(first.chars().count() <= COMMENT_LIMIT);
        assert_eq!(first.matches("## Section").count(), 2, "two of four sections fit");
        assert!(first
            .ends_with("The full tables and the rest of the summary are in [report-tables.md](report-tables.md).\n"));
        assert_eq!(pages[1].1.matches("## Section").count(), 2);
    }

    #[test]
    fn the_other_pass_adds_counts_and_time_by_channel_and_every_cell_to_the_full_tables() {
        let r = testdata::results();
        let a = analyse(&r);
        let rep = Report {
            evidence: Vec::new(),
            caveats: Vec::new(),
            measures: Some(crate::export::measures::tests::agreement()),
            ..Report::new(&r, &a, &Goal::default(), "../x.json".into())
        };
        let md = Markdown.render(&rep);
        let at = md.find("## Counts and time").expect("the section");
        assert!(md.find("## The evidence") < Some(at) && Some(at) < md.find("## Plots"), "{md}");
        assert!(md.contains("| item access | 3 | 1 | 2 | 0 | "), "{md}");
        assert!(md.contains("time higher in 2: cost that executes no extra instructions"), "{md}");
        assert!(md.contains("| compute | 3 | 1 | 0 | 2 | "), "{md}");
        assert!(md.contains("Trust the counts for small changes"), "{md}");
        let whole: String = Markdown.pages(&rep).into_iter().map(|(_, t)| t).collect();
        let tables = &whole[whole.find("## Full tables").unwrap()..];
        assert!(tables.contains("### Counts and time: item access (2 of 3 ratios disagree)"), "{tables}");
        assert!(tables.contains("| python | scenario | abi3-py38 | abi3-py312 |"), "{tables}");
        assert!(tables.contains("· 1.30× ▼ |"), "{tables}");
        // Without the other pass, no trace of it.
        let plain = report(&r);
        assert!(!plain.contains("Counts and time"), "{plain}");
    }

    #[test]
    fn markup_in_user_strings_is_inert() {
        assert_eq!(escape("_b_ *c* [x](y) <b>&amp;"), "\\_b\\_ \\*c\\* [x\\](y) \\<b>\\&amp;");
        assert_eq!(escape("# a"), "\\# a");
        assert_eq!(escape("> a ~b~"), "\\> a \\~b\\~");
        assert_eq!(escape("a`b"), "a\\`b", "an unpaired backtick");
        assert_eq!(escape_cell("x | `a|b`"), "x \\| `a\\|b`");
    }

    #[test]
    fn prose_reads_as_plain_text() {
        for plain in [
            "Python -> Rust calls",
            "ratios between builds that run identical code (`same_code_in`); widest: refcount_fn on 3.11.2",
            "PyO3 extract::<&str> / PyUnicode_AsUTF8AndSize, a * b, 1 | 2, R&D, C:\\dir",
            "Py_IncRef+Py_DecRef / inline: costs 4.00× (median of 9 ratios)",
            "CPython 3.8 has only the provisional inline _PyObject_Vectorcall, and calls _PyObject_MakeTpCall",
        ] {
            assert_eq!(escape(plain), plain);
        }
        assert_eq!(escape("extract::<String>"), "extract::\\<String>", "GitHub would drop it as a tag");
    }

    #[test]
    fn the_summary_carries_the_decision_and_links() {
        let mut r = testdata::results();
        r.groups[0].title = "Containers | <b>".into();
        let a = analyse(&r);
        let rep = Report::new(&r, &a, &Goal::default(), "../run 1.json".into());
        let md = Markdown.render(&rep);
        assert!(md.contains("[../run 1.json](../run%201.json)"), "{md}");
        assert!(md.contains("- Item access: abi3-py38 +47 % to +52 %, abi3-py312 +9 %."), "{md}");
        assert!(md.contains("| item access | +47…+52 % | +9 % |"), "{md}");
        assert!(md.contains("Wheel plan for the balanced (calling convention in 20 %"), "{md}");
        assert!(md.find("## The answer") < md.find("## The evidence"), "{md}");
        // User strings stay inert: the group title (with markup) is in the full tables, escaped.
        let pages = Markdown.pages(&rep);
        assert!(pages.iter().any(|(_, t)| t.contains("### Containers | \\<b> [chatty]")), "{pages:?}");
        assert!(md.contains("matrix was not run"));
    }
}
