//! The evidence behind the answer: what the ratios are, the noise floor, the attribution and
//! channel tables and the decision's sentences; and, given the other pass, where instruction
//! counts and time disagree.

use crate::analysis::measures::MeasureAgreement;
use crate::export::doc::{Block, Inline, Section, Table};
use crate::export::measures;
use crate::export::page::Report;
use crate::export::summary::{self, controls_line, layout_line};

/// How to read the channel tables.
const CHANNEL_NOTE: &str =
    "Median ratio of the channel's scenarios, their range, and how many; C API and PyO3 paths apart.";

fn with_id(id: &'static str, text: String) -> Block {
    Block::Paragraph { class: Some("note"), id: Some(id), runs: vec![Inline::Text(text)] }
}

pub fn evidence(rep: &Report) -> Section {
    let d = &rep.decision;
    let q = rep.results.run.sampling.measure.quantity();
    let mut blocks = vec![
        Block::note(format!(
            "Ratios are stable-ABI {q} over unlimited {q} on the same interpreter; a difference is stated only where \
             the 95 % interval excludes 1.0 and the noise floor. Pooled figures (never across cost channels or \
             layers): median of the per-scenario ratios, its interval the median of their bounds."
        )),
        with_id("controls", controls_line(rep.analysis)),
        with_id("layout", layout_line(rep.results)),
    ];
    for (band, header, rows) in summary::split_tables(d) {
        blocks.push(Block::heading(format!("Where the cost comes from on {band}")));
        blocks.push(Block::note(summary::SPLIT_NOTE));
        blocks.extend(Table::plain("attribution", (header, rows)).map(Block::Table));
    }
    for (title, lines) in summary::summary(d) {
        blocks.push(Block::heading(title));
        blocks.push(Block::list(Some("summary"), lines));
    }
    let upstream = summary::evidence_lines(&rep.evidence);
    if !upstream.is_empty() {
        blocks.push(Block::Heading { id: Some("upstream"), text: "Findings for upstream".into() });
        blocks.push(Block::list(Some("summary"), upstream));
    }
    for (band, header, rows) in summary::channel_tables(d) {
        blocks.push(Block::heading(format!("By cost channel on {band}")));
        blocks.push(Block::note(CHANNEL_NOTE));
        blocks.extend(Table::plain("channel-costs", (header, rows)).map(Block::Table));
    }
    Section { id: "decision", title: "The evidence".into(), nav: Some("Evidence"), appendix: false, blocks }
}

/// Where the instruction-count pass and this wall-time pass disagree, by channel with the likely
/// reason; every cell is in the full tables.
pub fn counts_and_time(m: &MeasureAgreement) -> Section {
    let mut blocks: Vec<Block> = measures::intro(m).into_iter().map(Block::note).collect();
    blocks.push(Block::heading("Where counts and time disagree, by cost channel"));
    blocks.extend(Table::plain("agreement-channels", measures::channel_table(m)).map(Block::Table));
    blocks.push(Block::note("Every cell is in the full tables (\"Counts and time: …\")."));
    Section { id: "agreement", title: "Counts and time".into(), nav: Some("Counts and time"), appendix: false, blocks }
}
