//! The answer first: what each operation adds under each floor (the headline), what the
//! workloads' calls cost, the wheel plan and the CI matrix that builds it, and the plan at other
//! thresholds. The terminal prints this section too.

use crate::export::answer::{
    channel_table, ci_snippet, dominant_lines, mix_lines, op_table, op_terms, plan_words, sweep_table, workload_table,
};
use crate::export::doc::{Block, List, Section, Table};
use crate::export::page::Report;

/// What the headline table shows.
fn headline_caption(rep: &Report) -> String {
    let unit = rep.results.run.sampling.measure.unit();
    let machines = if rep.decision.fleet.several() { " and machines" } else { "" };
    let per = if rep.results.groups.iter().any(|g| !g.operations.is_empty()) {
        format!("What each operation adds under each floor, per operation ({unit})")
    } else {
        format!("What each of your calls adds under each floor, per call (one execution of its statement, {unit})")
    };
    format!(
        "{per}, over the same path in the version-specific \
         (unlimited) build: its range over the interpreters{machines} the floor runs on; (parentheses): not beyond the \
         noise floor on any; †: the floor cannot express the path, its user takes another (see the evidence). A call \
         costs the sum over what it is made of."
    )
}

const CALLS_NOTE: &str = "What a whole call costs under each floor, relative to the same call in the unlimited build \
    (its operations plus its own work, which no ABI touches): the range over the interpreters the floor runs on; \
    (parentheses): not beyond the noise floor on any. `--workload` takes one of these names, a call written out \
    (`args=3,str-args=1,work=500ns`) or a file of call shapes.";

pub fn answer(rep: &Report) -> Section {
    let d = &rep.decision;
    let plan = plan_words(d);
    let mut blocks = Vec::new();
    // The headline table comes first: it is what must be on the first screen.
    if let Some(table) = Table::plain("headline-costs", op_table(d)) {
        blocks.push(Block::Captioned { id: "headline", caption: headline_caption(rep), table });
        blocks.push(Block::Terms(op_terms(d)));
    }
    blocks.push(Block::Heading { id: Some("calls"), text: "What calls cost".into() });
    blocks.push(Block::note(CALLS_NOTE));
    blocks.extend(Table::plain("call-costs", workload_table(d)).map(Block::Table));
    let lines: Vec<String> = mix_lines(d).into_iter().chain(dominant_lines(d)).collect();
    if !lines.is_empty() {
        blocks.push(Block::list(Some("summary"), lines));
    }
    if let Some(table) = Table::plain("channel-shares", channel_table(d)) {
        blocks.push(Block::note(
            "Which kinds of call the cost comes from: each kind's share of the time the calls add under each floor \
             (range over interpreters), by the `channel` each scenario declares.",
        ));
        blocks.push(Block::Table(table));
    }
    blocks.extend([
        Block::Heading { id: Some("plan"), text: plan.heading },
        Block::List(List { brief: Some(plan.brief), ..List::plain(Some("summary"), plan.items) }),
        Block::Details {
            summary: "CI matrix for this plan (maturin-action)".into(),
            blocks: vec![Block::Code { lang: "yaml", text: ci_snippet(d) }],
        },
        Block::Heading { id: Some("sweep"), text: "Where the plan turns".into() },
        Block::note(
            "The same workload's plan at other thresholds: a floor serves a Python when every interpreter's upper bound \
             is within the threshold; marked: undecided, within the noise floor of the threshold, or judged \
             differently by the machines.",
        ),
    ]);
    blocks.extend(Table::plain("sweep", sweep_table(d)).map(Block::Table));
    Section { id: "answer", title: "The answer".into(), nav: Some("Answer"), appendix: false, blocks }
}
