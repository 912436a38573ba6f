//! A section as terminal lines: the answer `compare` and `report` end with. Its title, headings,
//! paragraphs, lists (each in its brief form where it has one) and tables (dealt into parts that
//! fit the terminal); figures, details, code and definitions are the pages'. In ASCII (`--ascii`),
//! abibench's own glyphs too (`format::ascii_glyphs`).

use crate::export::doc::{Block, Inline, Section, Table};
use crate::export::format::ascii_glyphs;
use crate::export::grid::Grid;

fn plain(runs: &[Inline]) -> String {
    runs.iter().filter(|r| !matches!(r, Inline::StyleKey(_))).map(Inline::plain).collect()
}

pub fn lines(s: &Section, ascii: bool) -> Vec<String> {
    let mut out = vec![s.title.clone()];
    for b in &s.blocks {
        match b {
            Block::Heading { text, .. } => out.push(text.clone()),
            Block::Paragraph { runs, .. } => out.push(plain(runs)),
            Block::List(l) => match &l.brief {
                Some(brief) => out.extend(brief.iter().map(|x| format!("  - {x}"))),
                None => out.extend(l.items.iter().map(|item| format!("  - {}", plain(item)))),
            },
            Block::Captioned { caption, table, .. } => {
                out.push(caption.clone());
                out.extend(table_lines(table, ascii));
            }
            Block::Table(table) => out.extend(table_lines(table, ascii)),
            _ => {}
        }
    }
    if ascii {
        out.iter_mut().for_each(|l| *l = ascii_glyphs(l).into_owned());
    }
    out
}

/// A table's rows as text, the value columns dealt into parts that fit a terminal.
fn table_lines(t: &Table, ascii: bool) -> Vec<String> {
    let rows: Vec<Vec<String>> =
        t.groups.iter().flat_map(|g| &g.rows).map(|r| r.iter().map(|c| plain(&c.runs)).collect()).collect();
    let lead = t.fold.unwrap_or(1);
    let grid = Grid { header: t.header.clone(), rows, labels: lead };
    grid.split(lead)
        .iter()
        .flat_map(|g| g.to_table(ascii).to_string().lines().map(str::to_string).collect::<Vec<_>>())
        .collect()
}
