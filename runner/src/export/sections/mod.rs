//! The report's sections, each a function from the analysed data ([`Report`]) to model nodes,
//! listed once in [`document`]: to add a section, write its function and name it there; every
//! page shows it. Only these functions (and the phrasing modules they call: `answer`, `summary`,
//! `measures`) read analysis types; the renderers see the model alone.

mod about;
mod answer;
mod costs;
mod evidence;
mod tables;

pub use answer::answer;

use crate::export::doc::{Block, Document, Figure, Inline, Section};
use crate::export::html;
use crate::export::page::{path_url, Report};
use crate::export::summary::{run_line, QUESTION};

/// The report of `rep`, linking to its results file at `results_link` (relative to the pages).
pub fn document(rep: &Report, results_link: &str) -> Document {
    let r = rep.results;
    let sections = [
        Some(answer(rep)),
        Some(evidence::evidence(rep)),
        rep.measures.as_ref().map(evidence::counts_and_time),
        caveats(rep),
        Some(plots(rep)),
        Some(matrix(rep)),
        Some(tables::full_tables(rep)),
        Some(about::methodology(r)),
        Some(about::environment(rep)),
        Some(raw(rep, results_link)),
    ];
    Document {
        tab_title: format!("abibench report: run {}", r.run.id),
        title: "abibench: what does the stable ABI cost, and is it worth it?".into(),
        intro: vec![
            Block::Paragraph { class: Some("question"), id: None, runs: vec![Inline::text(QUESTION)] },
            Block::Paragraph {
                class: Some("meta"),
                id: None,
                runs: vec![
                    Inline::Text(match others_line(rep) {
                        Some(others) => format!("{}{others} ", run_line(r)),
                        None => format!("{} Raw data: ", run_line(r)),
                    }),
                    results(results_link, Some("raw-json")),
                    Inline::text("."),
                ],
            },
        ],
        full_page: vec![
            Inline::text("Full page: "),
            Inline::Link { text: html::FILE.into(), href: html::FILE.into(), id: None },
        ],
        sections: sections.into_iter().flatten().collect(),
    }
}

/// The other machines' runs a plan of several is made with, said after the first's (whose raw data
/// the line links).
fn others_line(rep: &Report) -> Option<String> {
    let others: Vec<String> = rep.decision.fleet.runs.iter().skip(1).map(|f| run_line(f.results)).collect();
    let whose = if others.len() == 1 { "the run of another machine" } else { "the runs of other machines" };
    (!others.is_empty())
        .then(|| format!(" Planned together with {whose}: {} Raw data of the first run:", others.join(" ")))
}

/// A section of the summary, with no navigation entry.
fn section(id: &'static str, title: &str, blocks: Vec<Block>) -> Section {
    Section { id, title: title.into(), nav: None, appendix: false, blocks }
}

fn results(link: &str, id: Option<&'static str>) -> Inline {
    Inline::Link { text: link.into(), href: path_url(link), id }
}

fn caveats(rep: &Report) -> Option<Section> {
    (!rep.caveats.is_empty())
        .then(|| section("caveats", "Caveats", vec![Block::list(Some("caveats"), rep.caveats.iter().cloned())]))
}

fn figure(p: &crate::export::plots::Plot) -> Block {
    let name = path_url(&p.name);
    Block::Figure(Figure {
        id: format!("plot-{name}"),
        title: p.title.clone(),
        svg: p.svg.clone(),
        svg_file: format!("plots/{name}.svg"),
        png_file: format!("plots/{name}.png"),
    })
}

fn plots(rep: &Report) -> Section {
    let figures = rep.plots.iter().filter(|p| p.name != "matrix").map(figure).collect();
    Section { nav: Some("Plots"), ..section("plots", "Plots", figures) }
}

fn matrix(rep: &Report) -> Section {
    let blocks = match (rep.matrix, rep.plots.iter().find(|p| p.name == "matrix")) {
        (Some(m), Some(p)) => vec![
            Block::Paragraph {
                class: Some("note"),
                id: None,
                runs: vec![Inline::text("From "), Inline::Code(m.source.display().to_string()), Inline::text(".")],
            },
            figure(p),
        ],
        _ => vec![Block::Paragraph {
            class: Some("note"),
            id: None,
            runs: vec![
                Inline::text("The matrix was not run for this report (run "),
                Inline::Code("abibench matrix".into()),
                Inline::text(", then "),
                Inline::Code("abibench report".into()),
                Inline::text("; or give "),
                Inline::Code("--matrix FILE".into()),
                Inline::text(")."),
            ],
        }],
    };
    Section { nav: Some("ABI matrix"), ..section("matrix", "ABI compatibility matrix", blocks) }
}

fn raw(rep: &Report, results_link: &str) -> Section {
    let r = rep.results;
    let runs = vec![
        Inline::text("Every raw value, interpreter probe and build record: "),
        results(results_link, None),
        Inline::Text(format!(" (schema {} v{}).", r.schema, r.schema_version)),
    ];
    Section { appendix: true, ..section("raw", "Raw data", vec![Block::Paragraph { class: None, id: None, runs }]) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::compat::{Compat, CompatCell, CompatMatrix};
    use crate::analysis::plan::Goal;
    use crate::analysis::testdata;
    use crate::export::doc::{Block, Document};
    use crate::export::format::printable;
    use crate::export::{markdown, plots};

    pub const EVIL: &str = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>";
    /// What a terminal or a reader would obey: clear the screen, ring, reverse the text's direction.
    pub const CONTROL: &str = "\u{1b}[2J\u{7}\u{202e}desrever";
    /// What Markdown would take for markup, or for the end of a table cell, line or HTML block.
    pub const MARKDOWN: &str = "| [x](javascript:alert(3)) `\n\n# heading";

    /// Whether `page` holds a character of `CONTROL`'s kinds, raw (newline and tab are text).
    pub fn obeys_controls(page: &str) -> bool {
        let bidi = |c: char| ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c);
        page.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || bidi(c))
    }

    /// The test run's document with markup in every string a user or a machine supplies, with its
    /// plots, a matrix and the other pass (the plots' directory goes with it).
    pub fn hostile_document() -> (Document, tempfile::TempDir) {
        let mut r = testdata::results();
        r.groups[0].title = format!("{EVIL}{CONTROL}{MARKDOWN}");
        r.groups[0].description = EVIL.into();
        r.groups[0].comparisons[0].label = EVIL.into();
        r.groups[0].scenarios[0].description = EVIL.into();
        r.host.hostname = EVIL.into();
        r.host.cpu_model = EVIL.into();
        r.run.argv.push(EVIL.into());
        r.interpreters[0].build.config_args = EVIL.into();
        r.interpreters[0].argv = vec![EVIL.into()];
        for c in r.cells.iter_mut().filter(|c| c.reason.is_some()) {
            c.reason = Some(format!("{EVIL}{CONTROL}{MARKDOWN}"));
        }
        let a = analyse(&r);
        let m = CompatMatrix {
            source: EVIL.into(),
            cells: vec![CompatCell { build: EVIL.into(), interpreter: EVIL.into(), compat: Compat::Ok }],
        };
        let dir = tempfile::tempdir().unwrap();
        let plots = plots::figures(&r, Some(&m)).iter().map(|f| f.write(&r, &a, dir.path()).unwrap()).collect();
        let mut measures = crate::export::measures::tests::agreement();
        measures.cells[0].scenario = EVIL.into();
        measures.cells[0].interpreter = EVIL.into();
        let rep = Report { plots, matrix: Some(&m), measures: Some(measures), ..Report::new(&r, &a, &Goal::default()) };
        (document(&rep, &format!("../{EVIL}.json")), dir)
    }

    /// Every heading of `blocks`, within details and row groups too.
    fn headings(blocks: &[Block]) -> Vec<String> {
        let mut out = Vec::new();
        for b in blocks {
            match b {
                Block::Heading { text, .. } => out.push(text.clone()),
                Block::Details { blocks, .. } => out.extend(headings(blocks)),
                Block::Table(t) => out.extend(t.groups.iter().filter_map(|g| g.title.clone())),
                _ => {}
            }
        }
        out
    }

    /// One document, two pages: each shows every section and heading of it, so they cannot drift.
    #[test]
    fn both_pages_show_every_section_and_heading() {
        let (doc, _dir) = hostile_document();
        let page = html::render(&doc);
        let md: String = markdown::pages(&doc).into_iter().map(|(_, text)| text).collect();
        // As the pages show data: escaped, and its control characters made visible.
        let esc = |s: &str| printable(&maud::html! { (s) }.into_string()).into_owned();
        let md_escape = |s: &str| printable(&markdown::escape(s)).into_owned();
        assert!(doc.sections.len() >= 9, "{:?}", doc.sections.iter().map(|s| s.id).collect::<Vec<_>>());
        for s in &doc.sections {
            assert!(page.contains(&format!("<section id=\"{}\"><h2>{}</h2>", s.id, esc(&s.title))), "{}", s.id);
            assert!(md.contains(&format!("\n## {}\n", md_escape(&s.title))), "{}", s.id);
            let hs = headings(&s.blocks);
            assert!(!hs.is_empty() || s.blocks.iter().all(|b| !matches!(b, Block::Heading { .. })));
            for h in hs {
                assert!(
                    page.contains(&format!("{}</h3>", esc(&h))) || page.contains(&format!(">{} <span", esc(&h))),
                    "HTML lacks {h}"
                );
                assert!(md.contains(&format!("### {}\n", md_escape(&h))), "Markdown lacks {h}");
            }
        }
        // Every list item and name: value pair of the model is one in each page.
        let items = page.matches("<li>").count() + page.matches("<dt>").count();
        assert_eq!(items, md.lines().filter(|l| l.starts_with("- ")).count());
    }
}
