//! The HTML page: one self-contained file (CSS inline, plots as `data:` SVG images, no network
//! resource), linking only to files beside it (PNG/SVG copies, the raw JSON).
//!
//! Written with maud: the page is a tree walked in code, and maud's `html!` renders it from Rust
//! values, checked at compile time, escaping every interpolated string (text and attributes)
//! unless marked `PreEscaped` — here only the constant stylesheet. Askama's templates would put
//! the walk in a second language with no gain. Links are percent-encoded by the model
//! (`page::path_url`); plot SVGs are percent-encoded whole into their `data:` URL.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::export::doc::{Block, Cell, Document, Figure, Inline, Section, Table};
use crate::export::format::printable;
use crate::export::page::percent_encode;

/// The page's file name.
pub const FILE: &str = "report.html";

const CSS: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1400px; margin: 0 auto; padding: 1em 2em 4em; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
nav a { margin-right: 1em; }
.question { font-size: 1.1em; max-width: 60em; }
.meta, .note { color: #555; }
.summary li { margin: .25em 0; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; vertical-align: top; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
tbody th { text-align: left; font-weight: 500; white-space: nowrap; }
tr.group th { background: #e8eef6; text-align: left; font-size: 14px; white-space: normal; }
td.cell { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.na, td.none { color: #888; text-align: center; }
td.fail { background: #fbe3e3; color: #900; text-align: center; }
.ratio, .native { display: block; font-size: 12px; }
.slower { color: #b2182b; font-weight: 600; }
.faster { color: #2166ac; font-weight: 600; }
.unclear { color: #777; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
details { margin: .3em 0; }
code, .mono { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
";

/// The self-contained HTML page; maud escapes markup, and `printable` shows what data holds of
/// control characters instead of passing them on.
pub fn render(doc: &Document) -> String {
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (doc.tab_title) }
                style { (PreEscaped(CSS)) }
            }
            body { main {
                "\n" h1 { (doc.title) } "\n"
                @for b in &doc.intro { (block(b)) }
                nav { @for s in &doc.sections { @if let Some(label) = s.nav { a href={ "#" (s.id) } { (label) } } } }
                "\n"
                @for s in &doc.sections { (section(s)) }
            } }
        }
    };
    printable(&page.into_string()).into_owned() + "\n"
}

fn section(s: &Section) -> Markup {
    html! { section id=(s.id) { h2 { (s.title) } "\n" @for b in &s.blocks { (block(b)) } } "\n" }
}

fn block(b: &Block) -> Markup {
    match b {
        Block::Heading { id, text } => html! { h3 id=[id] { (text) } "\n" },
        Block::Paragraph { class, id, runs } => html! { p class=[class] id=[id] { (inlines(runs)) } "\n" },
        Block::List(l) => {
            html! { ul class=[l.class] { "\n" @for item in &l.items { li { (inlines(item)) } "\n" } } "\n" }
        }
        Block::Table(t) => table(t),
        Block::Captioned { id, caption, table: t } => {
            html! { figure id=(id) { figcaption { (caption) } "\n" (table(t)) } "\n" }
        }
        Block::Figure(f) => figure(f),
        Block::Details { summary, blocks } => {
            html! { details { summary { (summary) } "\n" @for b in blocks { (block(b)) } } "\n" }
        }
        Block::Code { text, .. } => html! { pre { (text) } "\n" },
        Block::Terms(pairs) => html! { dl { "\n" @for (k, v) in pairs { dt { (k) } dd { (v) } "\n" } } "\n" },
    }
}

fn inlines(runs: &[Inline]) -> Markup {
    html! { @for run in runs { (inline(run)) } }
}

fn inline(run: &Inline) -> Markup {
    match run {
        Inline::Text(s) | Inline::StyleKey(s) => html! { (s) },
        Inline::Code(s) => html! { code { (s) } },
        Inline::Emph(s) => html! { em { (s) } },
        Inline::Strong(s) => html! { b { (s) } },
        Inline::Link { text, href, id } => html! { a id=[id] href=(href) { (text) } },
        // The class's style sets it on a line of its own.
        Inline::Line(span) => html! { span class=[&span.class] title=[&span.title] { (span.text) } },
        Inline::Break => html! { " " },
    }
}

fn table(t: &Table) -> Markup {
    html! {
        table id=[t.id] class=[t.class] {
            "\n" thead { tr { @for h in &t.header { th { (h) } } } } "\n"
            @for g in &t.groups {
                tbody {
                    @if let Some(title) = &g.title {
                        tr class="group" { th colspan=(t.header.len()) {
                            (title) @if let Some(note) = &g.note { " " span class="meta" { (note) } }
                        } }
                    }
                    "\n"
                    @for row in &g.rows { tr { @for c in row { (cell(c)) } } "\n" }
                }
                "\n"
            }
        }
        "\n"
        // A table holds no paragraphs: what explains its groups follows it.
        @for g in &t.groups { @for b in &g.after { (block(b)) } }
    }
}

fn cell(c: &Cell) -> Markup {
    if c.head {
        html! { th title=[&c.title] class=[c.class] { (inlines(&c.runs)) } }
    } else {
        html! { td class=[c.class] title=[&c.title] { (inlines(&c.runs)) } }
    }
}

fn figure(f: &Figure) -> Markup {
    let data = format!("data:image/svg+xml;charset=utf-8,{}", percent_encode(&f.svg, " /:=;,"));
    html! {
        figure id=(f.id) {
            img src=(data) alt=(f.title);
            figcaption { (f.title) " — " a href=(f.png_file) { "PNG" } " · " a href=(f.svg_file) { "SVG" } }
        }
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::plan::Goal;
    use crate::analysis::testdata;
    use crate::export::page::Report;
    use crate::export::sections::{document, tests::hostile_document, tests::obeys_controls};
    use crate::export::testwide;

    #[test]
    fn every_user_string_is_escaped() {
        let (doc, _dir) = hostile_document();
        let html = render(&doc);
        assert!(html.contains("<section id=\"agreement\">") && html.contains("href=\"#agreement\""));
        assert!(!html.contains("<script") && !html.contains("<img src=x"), "raw markup leaked");
        assert!(!html.contains("'&<"), "raw quote/ampersand leaked");
        assert!(!obeys_controls(&html) && html.contains("␛[2J␇"), "control characters leaked");
        // maud escapes `&<>"`; a `'` is inert where every attribute is double-quoted.
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;"), "escaped text missing");
        assert!(html.contains("href=\"../%3Cscript%3E"), "link not encoded");
        // The page pulls nothing from the network (the SVG namespace URI is a name, not a fetch).
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url("));
    }

    fn page(r: &crate::model::results::Results) -> String {
        let a = analyse(r);
        render(&document(&Report::new(r, &a, &Goal::default()), "x.json"))
    }

    #[test]
    fn the_results_table_has_a_cell_per_scenario_interpreter_and_mode() {
        let out = page(&testdata::results());
        // 3 scenarios x 2 interpreters x 3 modes.
        assert_eq!(out.matches("<td class=\"cell ").count(), 18);
        assert_eq!(out.matches("<td class=\"cell none\">").count(), 3, "abi3-py312 does not fit 3.8");
        assert_eq!(out.matches("<td class=\"cell na\">").count(), 3);
        assert!(out.contains("ratio slower"));
    }

    #[test]
    fn an_interpreter_where_nothing_ran_is_a_line_not_rows() {
        let page = page(&testwide::results());
        let at = page.find("<section id=\"tables\">").unwrap();
        let out = &page[at..at + page[at..].find("</section>").unwrap()];
        assert_eq!(
            out.matches("<p class=\"note idle\"><b>3.13.5t</b>: no mode ran. unlimited: build failed").count(),
            1
        );
        assert!(!out.contains("<th>3.13.5t</th>") && !out.contains("<td>3.13.5t</td>"));
    }
}
