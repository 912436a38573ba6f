//! `abibench reproduce RUN_A RUN_B`: do two runs agree, ratio by ratio, and did they time the
//! same binaries on the same kind of processor?

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::analysis::cells::analyse;
use crate::analysis::decision::Decision;
use crate::analysis::plan::plan;
use crate::analysis::provenance;
use crate::analysis::reproduce::Agreement;
use crate::commands::args::{GoalArgs, StyleArgs};
use crate::commands::ascii;
use crate::export::format::printable;
use crate::export::{agreement, answer};
use crate::model::results::Results;

#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// A results file (A).
    pub a: PathBuf,
    /// Another results file of the same selection (B), e.g. from another machine or checkout.
    pub b: PathBuf,
    /// How many of the cells that disagree most to list.
    #[arg(long, value_name = "N", default_value_t = 15)]
    pub worst: usize,
    #[command(flatten)]
    pub goal: GoalArgs,
    #[command(flatten)]
    pub style: StyleArgs,
}

pub fn run(args: &ReproduceArgs) -> Result<()> {
    let (a, b) = (Results::read(&args.a)?, Results::read(&args.b)?);
    let (aa, ab) = (analyse(&a), analyse(&b));
    let agreement = Agreement::of(&aa, &ab, &a.groups);
    let differences = provenance::differences(&a, &b);
    let runs = [(&a.run.id, a.run.sampling.measure), (&b.run.id, b.run.sampling.measure)];
    print!("{}", printable(&agreement::render(runs, &agreement, &differences, args.worst, ascii(args.style.ascii))));
    // What must reproduce in the end is the decision: each run's wheel plan for the same goal.
    let goal = args.goal.goal(&a);
    let decisions = |r: &Results, an| {
        let d = Decision::compute(r, an);
        plan(r, &d, &goal).decisions(&d)
    };
    println!("\nWheel plans for the {} workload within {:.0} %:", goal.workload, 100.0 * goal.threshold);
    let plans = answer::plans_side_by_side([&a.run.id, &b.run.id], &decisions(&a, &aa), &decisions(&b, &ab));
    print!("{}", printable(&plans));
    Ok(())
}
