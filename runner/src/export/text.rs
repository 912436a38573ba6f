//! A section as terminal lines: the answer `compare` and `report` end with. Its title, headings,
//! paragraphs and lists (each list in its brief form where it has one); tables, figures,
//! details and code are the pages'.

use crate::export::doc::{Block, Inline, Section};

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
            _ => {}
        }
    }
    out
}
