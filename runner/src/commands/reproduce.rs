//! `abibench reproduce RUN_A RUN_B [RUN…]`: do runs agree, ratio by ratio, did they time the same
//! binaries on the same kind of processor, and — what must reproduce in the end — do their wheel
//! plans agree, for one workload or every named one, at one threshold or several?

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::analysis::cells::analyse;
use crate::analysis::decision::measured_targets;
use crate::analysis::fleet::Fleet;
use crate::analysis::provenance;
use crate::analysis::reproduce::Agreement;
use crate::analysis::shapes::Workload;
use crate::analysis::stability::plan_rows;
use crate::commands::args::{parse_percent, GoalArgs, StyleArgs};
use crate::commands::ascii;
use crate::export::agreement;
use crate::export::answer::{plans_side_by_side, threshold};
use crate::export::format::printable;
use crate::model::results::Results;

#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// Results files of the same selection: runs of one machine, or of several machines.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// How many of the cells that disagree most to list.
    #[arg(long, value_name = "N", default_value_t = 15)]
    pub worst: usize,
    /// Compare the plans of every named workload, not only --workload's.
    #[arg(long)]
    pub all_workloads: bool,
    /// Compare the plans at these thresholds (percent, comma-separated), not only --threshold.
    #[arg(long, value_name = "PCT,…", value_delimiter = ',', value_parser = parse_percent)]
    pub thresholds: Vec<f64>,
    #[command(flatten)]
    pub goal: GoalArgs,
    #[command(flatten)]
    pub style: StyleArgs,
}

pub fn run(args: &ReproduceArgs) -> Result<()> {
    let runs: Vec<Results> = args.runs.iter().map(|p| Results::read(p)).collect::<Result<_>>()?;
    let analyses: Vec<_> = runs.iter().map(analyse).collect();
    let ids: Vec<&str> = runs.iter().map(|r| r.run.id.as_str()).collect();
    for k in 1..runs.len() {
        let agreement = Agreement::of(&analyses[0], &analyses[k], &runs[0].groups);
        let differences = provenance::differences(&runs[0], &runs[k]);
        let pair = [(&runs[0].run.id, runs[0].run.sampling.measure), (&runs[k].run.id, runs[k].run.sampling.measure)];
        print!(
            "{}",
            printable(&agreement::render(pair, &agreement, &differences, args.worst, ascii(args.style.ascii)))
        );
        println!();
    }
    let goal = args.goal.checked_goal(&runs[0])?;
    let workloads =
        if args.all_workloads && !goal.workload.statements { Workload::builtin() } else { vec![goal.workload.clone()] };
    let thresholds = if args.thresholds.is_empty() { vec![goal.threshold] } else { args.thresholds.clone() };
    let pairs: Vec<_> = runs.iter().zip(&analyses).collect();
    let alone: Vec<Fleet> = pairs.iter().map(|(r, a)| Fleet::single(r, a)).collect();
    let mut supported: Vec<_> = runs.iter().flat_map(measured_targets).collect();
    supported.extend(runs[0].subject.plan_targets());
    supported.sort();
    supported.dedup();
    let rows = plan_rows(&alone, &workloads, &thresholds, &supported);
    let (mut differ, mut unmarked) = (0, 0);
    for row in &rows {
        println!(
            "Wheel plans for {} within {} (*: that run marks the Python):",
            row.workload,
            threshold(row.threshold)
        );
        print!("{}", printable(&plans_side_by_side(&ids, &row.runs)));
        let d = row.differences();
        differ += !d.is_empty() as usize;
        unmarked += d.iter().filter(|(_, marked)| !marked).count();
        println!();
    }
    println!(
        "{} of {} plans identical; {differ} differ, with {unmarked} Python(s) differing where no run marked them.",
        rows.len() - differ,
        rows.len()
    );
    if runs.len() > 1 {
        together(&pairs, &workloads, &thresholds, &supported);
    }
    Ok(())
}

/// One plan for all the runs at once (a Python served only where it is on every run's machine).
fn together(
    pairs: &[(&Results, &crate::analysis::cells::Analysis)],
    workloads: &[Workload],
    thresholds: &[f64],
    supported: &[crate::model::version::Target],
) {
    // Two passes of one night (counts and time) are compared, not combined.
    let fleet = match Fleet::new(pairs) {
        Ok(f) => f,
        Err(e) => {
            println!("\nNot planned together: {e}.");
            return;
        }
    };
    for w in &fleet.warnings {
        println!("note: {w}");
    }
    let rows = plan_rows(std::slice::from_ref(&fleet), workloads, thresholds, supported);
    println!(
        "\nOne plan for all {} runs together (a Python is served only where every run serves it):",
        fleet.runs.len()
    );
    for row in &rows {
        let cells: Vec<String> =
            row.runs[0].iter().map(|(t, w, m)| format!("{t} {w}{}", if *m { " *" } else { "" })).collect();
        println!("  {} within {}: {}", row.workload, threshold(row.threshold), cells.join(", "));
    }
}
