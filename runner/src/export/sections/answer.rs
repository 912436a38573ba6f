//! The answer first: the headline table (channel × floor), a line per kind of call, the wheel
//! plan and the CI matrix that builds it. The terminal prints this section too.

use crate::export::answer::{answer_lines, ci_snippet, headline, plan_words, LINES_NOTE};
use crate::export::doc::{Block, List, Section, Table};
use crate::export::page::Report;

/// What the headline table shows.
const HEADLINE: &str = "What each kind of call costs under each floor: what a PyO3 user pays over the unlimited \
    build (the mean over the channel's PyO3 paths), its range over the interpreters the floor runs on; \
    (parentheses): not measurable on any.";

pub fn answer(rep: &Report) -> Section {
    let (r, d) = (rep.results, &rep.decision);
    let plan = plan_words(r, d, &rep.plan);
    let mut blocks = Vec::new();
    // The headline table comes first: it is what must be on the first screen.
    if let Some(table) = Table::plain("headline-costs", headline(d)) {
        blocks.push(Block::Captioned { id: "headline", caption: HEADLINE.into(), table });
    }
    blocks.extend([
        Block::note(LINES_NOTE),
        Block::list(Some("summary"), answer_lines(r, d)),
        Block::Heading { id: Some("plan"), text: plan.heading },
        Block::List(List { brief: Some(plan.brief), ..List::plain(Some("summary"), plan.items) }),
        Block::Details {
            summary: "CI matrix for this plan (maturin-action)".into(),
            blocks: vec![Block::Code { lang: "yaml", text: ci_snippet(r, d, &rep.plan) }],
        },
    ]);
    Section { id: "answer", title: "The answer".into(), nav: Some("Answer"), appendix: false, blocks }
}
