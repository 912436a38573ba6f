//! The Markdown pages: the summary (answer, evidence, plots, …) in `report.md`, then the
//! appendix (full tables, methodology, environment) — plain text that renders on GitHub. When
//! the whole would not fit a PR comment, the appendix goes to a second file the first links to.

use crate::export::doc::{Block, Document, Inline, RowGroup, Section, Table};
use crate::export::format::printable;
use crate::export::grid::Grid;

/// The pages, with what data holds of control characters shown, not passed on (`printable`).
pub fn pages(doc: &Document) -> Vec<(String, String)> {
    assembled(doc).into_iter().map(|(name, text)| (name, printable(&text).into_owned())).collect()
}

/// The summary's file name.
pub const FILE: &str = "report.md";

/// `s` as Markdown that reads as the plain text it is: a backslash only before what GitHub would
/// take for markup (emphasis, a link, an HTML tag or entity, a heading or quote at the start);
/// `code spans` kept as they are.
pub fn escape(s: &str) -> String {
    escape_in(s, false, false)
}

/// [`escape`] for a table cell, where `|` ends the cell (even inside a code span).
fn escape_cell(s: &str) -> String {
    escape_in(s, true, false)
}

/// With `strict`, for prose beside markup of its own (a link, emphasis), an underscore that could
/// open or close emphasis is escaped even without a partner here: it may have one over there.
fn escape_in(s: &str, cell: bool, strict: bool) -> String {
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
        (strict && (opens(k) || closes(k)))
            || (opens(k) && underscores.iter().any(|&j| j > k && closes(j)))
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

/// The Markdown pages, `(file name, text)`: one, or the summary and [`TABLES_FILE`].
fn assembled(doc: &Document) -> Vec<(String, String)> {
    let mut summary = Page::default();
    summary.out.push_str(&format!("# {}\n\n", escape(&doc.title)));
    for b in &doc.intro {
        summary.block(b);
    }
    summary.paragraph(&doc.full_page);
    let mut appendix = Page::default();
    for s in &doc.sections {
        if s.appendix { &mut appendix } else { &mut summary }.section(s);
    }
    split(&summary.out, &appendix.out)
}

/// Markdown text being written, and the last heading (a table in parts repeats it).
#[derive(Default)]
struct Page {
    out: String,
    heading: String,
}

impl Page {
    fn section(&mut self, s: &Section) {
        self.out.push_str(&format!("## {}\n\n", escape(&s.title)));
        for b in &s.blocks {
            self.block(b);
        }
    }

    fn heading(&mut self, text: &str) {
        self.out.push_str(&format!("### {}\n\n", escape(text)));
        self.heading = text.to_string();
    }

    fn paragraph(&mut self, runs: &[Inline]) {
        self.out.push_str(&inlines(runs));
        self.out.push_str("\n\n");
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Heading { text, .. } => self.heading(text),
            Block::Paragraph { runs, .. } => self.paragraph(runs),
            Block::List(l) => {
                for item in &l.items {
                    self.out.push_str(&format!("- {}\n", inlines(item)));
                }
                self.out.push('\n');
            }
            Block::Table(t) => self.table(t),
            Block::Captioned { caption, table, .. } => {
                self.paragraph(&[Inline::text(caption)]);
                self.table(table);
            }
            Block::Figure(f) => self.out.push_str(&format!("![{}]({})\n\n", escape(&f.title), f.svg_file)),
            Block::Details { summary, blocks } => {
                // The summary is HTML, not Markdown: escaped as HTML, on one line (a blank line would
                // end the HTML block, and what follows would be read as Markdown).
                let summary = summary.replace(['\n', '\r'], " ");
                self.out
                    .push_str(&format!("<details><summary>{}</summary>\n\n", maud::html! { (summary) }.into_string()));
                for b in blocks {
                    self.block(b);
                }
                self.out.push_str("</details>\n\n");
            }
            Block::Code { lang, text } => {
                let end = if text.ends_with('\n') { "" } else { "\n" };
                self.out.push_str(&format!("```{lang}\n{text}{end}```\n\n"));
            }
            Block::Terms(pairs) => {
                for (k, v) in pairs {
                    self.out.push_str(&format!("- **{}**: {}\n", escape(k), escape(v)));
                }
                self.out.push('\n');
            }
        }
    }

    /// A titled row group is a table of its own under its title; a table folded into parts
    /// repeats the heading above it, continued.
    fn table(&mut self, t: &Table) {
        for g in &t.groups {
            if let Some(title) = &g.title {
                self.heading(title);
            }
            if let Some(note) = &g.note {
                self.paragraph(&[Inline::text(note)]);
            }
            for (k, part) in parts(t, g).into_iter().enumerate() {
                if k > 0 {
                    let heading = format!("{}, continued", self.heading);
                    self.out.push_str(&format!("### {}\n\n", escape(&heading)));
                }
                self.out.push_str(&row(&part.header));
                self.out.push_str(&format!("|{}\n", "---|".repeat(part.header.len())));
                for cells in &part.rows {
                    self.out.push_str(&row(cells));
                }
                self.out.push('\n');
            }
            for b in &g.after {
                self.block(b);
            }
        }
    }
}

/// A row group's cells as text grids: whole, or dealt into parts that fit a terminal's width as
/// the table asks; a cell's lines side by side (a Markdown cell holds one).
fn parts(t: &Table, g: &RowGroup) -> Vec<Grid> {
    let rows = g.rows.iter().map(|row| row.iter().map(|c| lines(&c.runs)).collect()).collect();
    // Alignment, all that `labels` sets, does not change a part's width.
    let grid = Grid { header: t.header.clone(), rows, labels: 0 };
    let grids = match t.fold {
        Some(lead) => grid.split(lead),
        None => vec![grid],
    };
    let flat = |text: &String| text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    grids
        .into_iter()
        .map(|p| Grid { rows: p.rows.iter().map(|r| r.iter().map(flat).collect()).collect(), ..p })
        .collect()
}

/// A cell's text as a terminal grid sets it, in lines.
fn lines(runs: &[Inline]) -> String {
    runs.iter()
        .map(|run| match run {
            Inline::Line(span) => format!("\n{}", span.text),
            Inline::Break => "\n  ".into(),
            Inline::StyleKey(_) => String::new(),
            Inline::Code(s) => format!("`{s}`"),
            other => other.plain().to_string(),
        })
        .collect()
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.iter().map(|c| escape_cell(c)).collect::<Vec<_>>().join(" | "))
}

/// Runs as Markdown: text and code spans escaped together as the prose they are, emphasis and
/// links as markup around escaped text. Style keys are left out: Markdown shows no styles.
fn inlines(runs: &[Inline]) -> String {
    let strict = runs.iter().any(|r| matches!(r, Inline::Emph(_) | Inline::Strong(_) | Inline::Link { .. }));
    let (mut out, mut prose) = (String::new(), String::new());
    for run in runs {
        let markup = match run {
            Inline::Emph(s) => format!("*{}*", escape(s)),
            Inline::Strong(s) => format!("**{}**", escape(s)),
            Inline::Link { text, href, .. } => format!("[{}]({href})", escape(text)),
            Inline::Code(s) => {
                prose.push_str(&format!("`{s}`"));
                continue;
            }
            Inline::Line(_) | Inline::Break => {
                prose.push(' ');
                prose.push_str(run.plain().trim());
                continue;
            }
            Inline::StyleKey(_) => continue,
            Inline::Text(s) => {
                prose.push_str(s);
                continue;
            }
        };
        out.push_str(&escape_in(&std::mem::take(&mut prose), false, strict));
        out.push_str(&markup);
    }
    out.push_str(&escape_in(&prose, false, strict));
    out
}

/// GitHub's limit on a comment's length, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Where the full tables go when the summary and they would not fit one comment.
pub const TABLES_FILE: &str = "report-tables.md";

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
    use crate::export::page::Report;
    use crate::export::sections::{document, tests::hostile_document, tests::obeys_controls, tests::EVIL};
    use crate::export::testwide;
    use crate::model::results::Results;

    fn pages_of(rep: &Report, link: &str) -> Vec<(String, String)> {
        pages(&document(rep, link))
    }

    fn report(r: &Results) -> String {
        let a = analyse(r);
        let rep = Report::new(r, &a, &Goal::default());
        pages_of(&rep, "../x.json").into_iter().map(|(name, text)| format!("<<{name}>>\n{text}")).collect()
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
        let tables = &rest[rest.find("## Full tables").unwrap()..rest.find("## Methodology").unwrap()];
        assert_eq!(tables.matches("**3.13.5t**: no mode ran").count(), 1);
        assert!(!tables.contains("| 3.13.5t |"), "an idle interpreter has no rows, not even beside a native floor");
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
            caveats: Vec::new(),
            measures: Some(crate::export::measures::tests::agreement()),
            ..Report::new(&r, &a, &Goal::default())
        };
        let whole: String = pages_of(&rep, "../x.json").into_iter().map(|(_, t)| t).collect();
        let at = whole.find("## Counts and time").expect("the section");
        assert!(whole.find("## The evidence") < Some(at) && Some(at) < whole.find("## Plots"), "{whole}");
        assert!(whole.contains("| item access | 3 | 1 | 2 | 0 | "), "{whole}");
        assert!(whole.contains("time higher in 2: cost that executes no extra instructions"), "{whole}");
        assert!(whole.contains("| compute | 3 | 1 | 0 | 2 | "), "{whole}");
        assert!(whole.contains("Trust the counts for small changes"), "{whole}");
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
        // Beside a link, an underscore that could pair with one across it is escaped.
        let runs = [Inline::text("see _this "), Inline::Link { text: "x".into(), href: "y".into(), id: None }];
        assert_eq!(inlines(&runs), "see \\_this [x](y)");
    }

    /// Every hostile string of the HTML test, through a CommonMark parser (GitHub's Markdown is
    /// CommonMark): no HTML but the pages' own `<details>` wrappers, and the strings back as text.
    #[test]
    fn every_user_string_is_inert_markdown() {
        use pulldown_cmark::{Event, Options, Parser};
        let (doc, _dir) = hostile_document();
        let mut text = String::new();
        for (name, page) in pages(&doc) {
            assert!(!obeys_controls(&page) && page.contains("␛[2J␇"), "{name}: control characters leaked");
            for event in Parser::new_ext(&page, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
                match event {
                    Event::Html(h) | Event::InlineHtml(h) => assert!(
                        (h.starts_with("<details><summary>") && !h.contains("<script") && !h.contains("<img"))
                            || h.trim() == "</details>",
                        "{name}: raw HTML {h:?}"
                    ),
                    Event::Text(t) | Event::Code(t) => text.push_str(&t),
                    Event::SoftBreak | Event::HardBreak => text.push(' '),
                    Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) => {
                        let script = dest_url.contains("javascript:");
                        assert!(
                            !dest_url.contains('<') && !dest_url.contains('"') && !script,
                            "{name}: link {dest_url}"
                        );
                    }
                    _ => {}
                }
            }
            assert!(!page.lines().any(|l| l.starts_with("# heading")), "{name}: a heading of the data's");
            // A parser would not tell a row with cells to spare: GitHub drops them.
            for table in page.split("\n\n").filter(|t| t.starts_with('|')) {
                let bars = |row: &str| row.replace("\\\\", "").replace("\\|", "").matches('|').count();
                let head = table.lines().next().unwrap_or_default();
                assert!(table.lines().all(|row| bars(row) == bars(head)), "{name}: a broken table:\n{table}");
            }
        }
        assert!(text.contains(EVIL), "the hostile string is not shown as the text it is");
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
        let goal = Goal { workload: crate::analysis::shapes::Workload::parse("list_get=1").unwrap(), threshold: 0.15 };
        let rep = Report::new(&r, &a, &goal);
        let pages = pages_of(&rep, "../run 1.json");
        let md = &pages[0].1;
        assert!(md.contains("[../run 1.json](../run%201.json)"), "{md}");
        assert!(md.contains("| list_get | 10…20 ns | +5"), "{md}");
        assert!(md.contains("### Wheel plan for list_get=1: list_get within 15 %: 7 wheel(s) per platform"), "{md}");
        // Every supported Python is in its wheel's column, those no run measured apart.
        assert!(
            md.contains(
                "| 15 % (yours) | 7 | abi3-py312 | 3.12; not measured: 3.13, 3.14, 3.15 | 3.8; not measured: 3.9, 3.10, \
                 3.11, 3.14t, 3.15t | "
            ),
            "{md}"
        );
        assert!(md.find("## The answer") < md.find("## The evidence"), "{md}");
        // User strings stay inert: the group title (with markup) is in the full tables, escaped.
        assert!(pages.iter().any(|(_, t)| t.contains("### Containers | \\<b> [chatty]")), "{pages:?}");
        assert!(md.contains("matrix was not run"));
    }
}
