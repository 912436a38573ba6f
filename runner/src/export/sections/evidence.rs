//! The evidence behind the answer: what the figures are and the noise floor, what each operation
//! adds on each interpreter, how the plan's costs add up, machines that disagree, compute-bound
//! calls, raising the floor, paths a mode cannot express and the findings; and, given the other
//! pass, where instruction counts and time disagree.

use crate::analysis::measures::MeasureAgreement;
use crate::export::doc::{Block, Inline, Section, Table};
use crate::export::page::Report;
use crate::export::sections::costs::{
    cpu_dependent_lines, derivations, interpreter_tables, mix_table, pyo3_lines, step_lines, unavailable_lines,
    TABLE_NOTE,
};
use crate::export::summary::{build_failures, compute_lines, controls_line, evidence_lines, layout_line};
use crate::export::{calls, measures};
use crate::model::sampling::Measure;

fn with_id(id: &'static str, text: String) -> Block {
    Block::Paragraph { class: Some("note"), id: Some(id), runs: vec![Inline::Text(text)] }
}

/// A heading and its list, when there is something to list.
fn listed(blocks: &mut Vec<Block>, title: &str, lines: Vec<String>) {
    if !lines.is_empty() {
        blocks.push(Block::heading(title));
        blocks.push(Block::list(Some("summary"), lines));
    }
}

pub fn evidence(rep: &Report) -> Section {
    let d = &rep.decision;
    let mut blocks = vec![
        Block::note(
            "Every figure is a stable-ABI build against the unlimited build inside the same interpreter, the two timed \
             interleaved in one process and taken pair by pair; an operation's time is its scenario's per operation \
             (less the call it rides on, where it has one). A difference is claimed only where its interval clears \
             the noise floor. Ratios, cell by cell, are in the full tables and the heatmap.",
        ),
        with_id("controls", controls_line(rep.analysis)),
        with_id("layout", layout_line(rep.results)),
    ];
    for w in &d.fleet.warnings {
        blocks.push(Block::note(w.clone()));
    }
    if let Some(table) = Table::plain("mix-costs", mix_table(d)) {
        blocks.push(Block::heading(format!("What {} costs on each interpreter", d.goal_costs().workload.name)));
        blocks.push(Block::note(
            "Its calls under each floor, relative to the same calls in the unlimited build [95 % interval]; \
             (parentheses): not beyond the noise floor; —: the floor does not run there or an operation has no figure.",
        ));
        blocks.push(Block::Table(table));
    }
    listed(&mut blocks, "How the plan's costs add up", derivations(d));
    let failures = build_failures(rep.results);
    if let Some((title, lines)) = failures.split_first() {
        blocks.push(Block::heading(title.trim_end_matches(':')));
        blocks.push(Block::list(Some("summary"), lines.iter().map(|l| l.trim().to_string())));
    }
    let disagree = cpu_dependent_lines(d);
    if !disagree.is_empty() {
        blocks.push(Block::heading("Where the machines disagree"));
        blocks.push(Block::note(
            "Per operation: the (floor, interpreter) figures whose cost relative to each machine's own unlimited build \
             lies apart by more than the noise floor, and the widest. Two runs of one machine can differ too \
             (`abibench reproduce` shows how much), so a difference here is the CPU's or the run's; every figure is in \
             each machine's tables below.",
        ));
        blocks.push(Block::list(Some("summary"), disagree));
    }
    listed(&mut blocks, "Compute-bound calls", compute_lines(d));
    listed(&mut blocks, "Raising the floor: gains and losses", step_lines(d));
    listed(&mut blocks, "Paths the stable ABI cannot express, and the path taken instead", unavailable_lines(d));
    listed(&mut blocks, "Where PyO3 adds to what the stable ABI forces", pyo3_lines(d));
    let calls = calls::lines(rep.results, rep.analysis);
    if !calls.is_empty() {
        blocks.push(Block::heading(calls::TITLE));
        blocks.push(Block::note(calls::NOTE));
        blocks.push(Block::list(Some("summary"), calls));
    }
    let (costs, checked): (Vec<_>, Vec<_>) = d.findings.iter().partition(|e| e.is_cost());
    if !costs.is_empty() {
        blocks.push(Block::Heading { id: Some("upstream"), text: "Findings for upstream".into() });
        blocks.push(Block::list(Some("summary"), evidence_lines(&costs)));
    }
    listed(&mut blocks, "Checked: no measurable cost", evidence_lines(&checked));
    blocks.push(Block::note(TABLE_NOTE));
    blocks.extend(interpreter_tables(d));
    Section { id: "decision", title: "The evidence".into(), nav: Some("Evidence"), appendix: false, blocks }
}

/// Where the instruction-count pass and this wall-time pass disagree, by channel with the likely
/// reason; every cell is in the full tables.
pub fn counts_and_time(m: &MeasureAgreement) -> Section {
    let mut blocks: Vec<Block> = measures::intro(m).into_iter().map(Block::note).collect();
    blocks.push(Block::heading("Where counts and time disagree, by cost channel"));
    blocks.extend(Table::plain("agreement-channels", measures::channel_table(m)).map(Block::Table));
    let lines = calls::lines_of(&m.calls, Measure::WallTime);
    if !lines.is_empty() {
        blocks.push(Block::heading(format!("{}, beside the time it adds", calls::TITLE)));
        blocks.push(Block::note(calls::TIMED_NOTE));
        blocks.push(Block::list(Some("summary"), lines));
    }
    blocks.push(Block::note("Every cell is in the full tables (\"Counts and time: …\")."));
    Section { id: "agreement", title: "Counts and time".into(), nav: Some("Counts and time"), appendix: false, blocks }
}
