//! A section as terminal lines: the answer `compare` and `report` end with. Its title, headings,
//! paragraphs, lists (each in its brief form where it has one) and its captioned table (the
//! headline, dealt into parts that fit the terminal); other tables, figures, details, code and
//! definitions are the pages'.

use crate::export::doc::{Block, Inline, Section, Table};
use crate::export::grid::Grid;

fn plain(runs: &[Inline]) -> String {
    runs.iter().filter(|r| !matches!(r, Inline::StyleKey(_))).map(Inline::plain).collect()
}

pub fn lines(s: &Section) -> Vec<String> {
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
                out.extend(table_lines(table));
            }
            _ => {}
        }
    }
    out
}

/// A table's rows as text, the value columns dealt into parts that fit a terminal.
fn table_lines(t: &Table) -> Vec<String> {
    let rows: Vec<Vec<String>> =
        t.groups.iter().flat_map(|g| &g.rows).map(|r| r.iter().map(|c| plain(&c.runs)).collect()).collect();
    let lead = t.fold.unwrap_or(1);
    let grid = Grid { header: t.header.clone(), rows, labels: lead };
    grid.split(lead)
        .iter()
        .flat_map(|g| g.to_table(true).to_string().lines().map(str::to_string).collect::<Vec<_>>())
        .collect()
}
