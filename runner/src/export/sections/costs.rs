//! The evidence in time: what each operation adds on each interpreter (with its interval, and
//! split into what the stable ABI forces and what PyO3 adds), how the plan's costs add up, what
//! raising the floor gains or loses, the paths a mode cannot express, and where machines disagree.

use crate::analysis::costs::{Claim, OpCost};
use crate::analysis::decision::{ordered_interpreters, stable_modes, Decision};
use crate::analysis::fleet::RunFigures;
use crate::analysis::plan::Reason;
use crate::analysis::pricing::CallCost;
use crate::export::answer::{added, added_fine, judged_cost, percent, span};
use crate::export::doc::{Block, Cell, Inline, RowGroup, Span, Table};
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::sampling::Measure;

/// How to read a per-interpreter table.
pub const TABLE_NOTE: &str = "Time each operation adds per operation under each floor, over the same path in the \
    unlimited build [95 % interval], paired value by value; (parentheses): not beyond the noise floor. Second line: \
    what the stable ABI forces (the cheapest C API path the floor can express, less the cheapest unlimited one) and \
    what PyO3 adds to it in the same build (its path's distance from that stable path, less the same distance in \
    unlimited); the two add up to the first line. †: the floor cannot express the operation's path; the figure is \
    the path its user takes instead.";

/// `+4.3 [+4.2…+4.4] ns`: the unit once.
fn interval(e: &Estimate, measure: Measure, claim: Claim) -> String {
    let bare = |x: f64| added(x, measure).trim_end_matches(&format!(" {}", measure.unit())).to_string();
    let text = format!("{} [{}…{}] {}", bare(e.point), bare(e.low), bare(e.high), measure.unit());
    if claim == Claim::NotMeasurable {
        format!("({text})")
    } else {
        text
    }
}

fn cell(c: &OpCost, measure: Measure) -> Cell {
    let via = if c.via.is_some() { "† " } else { "" };
    let mut runs = vec![Inline::Text(format!("{via}{}", interval(&c.added, measure, c.claim)))];
    if let Some(s) = &c.split {
        let text = format!("ABI {} · PyO3 {}", added(s.forced.point, measure), added(s.pyo3.point, measure));
        runs.push(Inline::Line(Span { text, class: None, title: None }));
    }
    Cell { runs, head: false, class: Some("cell"), title: None }
}

/// One table per interpreter (and machine): a row per operation, a column per floor.
pub fn interpreter_tables(d: &Decision) -> Vec<Block> {
    let mut blocks = Vec::new();
    for run in &d.fleet.runs {
        let r = run.results;
        let measure = r.run.sampling.measure;
        for i in ordered_interpreters(r) {
            let here: Vec<&OpCost> = run.costs.iter().filter(|c| c.interpreter == i.name).collect();
            if here.is_empty() {
                continue;
            }
            let modes: Vec<Mode> = stable_modes(r).into_iter().filter(|m| here.iter().any(|c| c.mode == *m)).collect();
            let rows: Vec<Vec<Cell>> = run
                .ops
                .iter()
                .filter_map(|o| {
                    let of = |m: Mode| here.iter().find(|c| c.op == o.key && c.mode == m);
                    let any = here.iter().find(|c| c.op == o.key)?;
                    let label = format!("{} ({})", o.key, added(any.unlimited.point, measure).trim_start_matches('+'));
                    let mut row = vec![Cell { head: true, ..Cell::text(label) }];
                    row.extend(modes.iter().map(|m| of(*m).map_or_else(|| Cell::text("—"), |c| cell(c, measure))));
                    Some(row)
                })
                .collect();
            let mut header = vec!["operation (unlimited)".to_string()];
            header.extend(modes.iter().map(|m| m.name()));
            let title = format!("Time added per operation on {}{}", i.name, machine_suffix(d, run));
            blocks.push(Block::heading(title));
            blocks.push(Block::Table(Table {
                id: None,
                class: Some("op-costs"),
                header,
                groups: vec![RowGroup { title: None, note: None, rows, after: Vec::new() }],
                fold: Some(1),
            }));
        }
    }
    blocks
}

fn machine_suffix(d: &Decision, run: &RunFigures) -> String {
    if d.fleet.several() {
        format!(" ({})", run.machine)
    } else {
        String::new()
    }
}

/// `call 1 × +0.9 ns + args 3 × −0.3 ns = +0.4 ns [−0.2…+1.1] over 18.9 ns + 3 × 5.4 ns + 200 ns
/// of work = 235 ns: +0.2 % [−0.1…+0.5]`.
pub fn derivation(c: &CallCost, measure: Measure) -> String {
    let count = |n: f64| if n.fract() == 0.0 { format!("{n:.0}") } else { format!("{n:.2}") };
    let parts: Vec<String> =
        c.parts.iter().map(|p| format!("{} {} × {}", p.op, count(p.count), added(p.added.point, measure))).collect();
    let bases: Vec<String> = c
        .parts
        .iter()
        .map(|p| format!("{} × {}", count(p.count), added(p.unlimited, measure).trim_start_matches('+')))
        .collect();
    let work = if c.work > 0.0 {
        format!(" + {} of work", added(c.work, measure).trim_start_matches('+'))
    } else {
        String::new()
    };
    let e = c.relative;
    format!(
        "{} = {} [{}…{}] over {}{work} = {}: {} [{}…{}]",
        parts.join(" + "),
        added(c.added.point, measure),
        added(c.added.low, measure),
        added(c.added.high, measure),
        bases.join(" + "),
        added(c.base, measure).trim_start_matches('+'),
        percent(e.point),
        percent(e.low),
        percent(e.high)
    )
}

/// The plan's calls under each floor on each interpreter (and machine): their cost relative to the
/// same calls in the unlimited build [95 % interval]; (parentheses): not beyond the noise floor.
pub fn mix_table(d: &Decision) -> (Vec<String>, Vec<Vec<String>>) {
    let w = d.goal_costs();
    let mut header = vec!["interpreter".to_string()];
    let modes = stable_modes(d.fleet.primary().results);
    header.extend(modes.iter().map(|m| m.name()));
    let mut rows = Vec::new();
    for (k, run) in d.fleet.runs.iter().enumerate() {
        for i in ordered_interpreters(run.results) {
            let of = |m: Mode| w.mix.iter().find(|(at, c)| *at == k && c.interpreter == i.name && c.mode == m);
            if modes.iter().all(|m| of(*m).is_none()) {
                continue;
            }
            let mut row = vec![format!("{}{}", i.name, machine_suffix(d, run))];
            row.extend(modes.iter().map(|m| {
                of(*m).map_or_else(
                    || "—".to_string(),
                    |(_, c)| {
                        let e = c.relative;
                        let text = format!("{} [{}]", percent(e.point), span(percent(e.low), percent(e.high)));
                        match Claim::of(&e, d.noise_floor) {
                            Claim::NotMeasurable => format!("({text})"),
                            _ => text,
                        }
                    },
                )
            }));
            rows.push(row);
        }
    }
    (header, rows)
}

/// For each Python the plan judged, the deciding interpreter's cost, added up term by term.
pub fn derivations(d: &Decision) -> Vec<String> {
    let measure = d.fleet.primary().results.run.sampling.measure;
    d.plan
        .targets
        .iter()
        .filter(|t| matches!(t.reason, Reason::Served | Reason::Over | Reason::Undecided | Reason::Uncovered))
        .filter_map(|t| {
            let j = t.judged.as_ref()?;
            let m = j.decisive()?;
            Some(format!("{} under {} ({}): {}.", t.target, j.mode, judged_cost(d, j), derivation(&m.cost, measure)))
        })
        .collect()
}

/// Steps between floors that clear the noise floor, an operation and a step to a line.
pub fn step_lines(d: &Decision) -> Vec<String> {
    let measure = d.fleet.primary().results.run.sampling.measure;
    let mut keys: Vec<(&str, Mode, Mode)> = d.steps.iter().map(|s| (s.op.as_str(), s.from, s.to)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(op, from, to)| {
            let here: Vec<_> = d.steps.iter().filter(|s| s.op == op && s.from == from && s.to == to).collect();
            let on: Vec<String> =
                here.iter().map(|s| format!("{} {}", s.interpreter, added_fine(s.change.point, measure))).collect();
            let verb = if here.iter().all(|s| s.is_loss()) {
                "loses"
            } else if here.iter().all(|s| !s.is_loss()) {
                "gains"
            } else {
                "changes"
            };
            format!("{op}: {from} → {to} {verb} per operation: {}.", on.join(", "))
        })
        .collect()
}

/// The scenarios each floor cannot express, and each operation whose user takes another path there.
pub fn unavailable_lines(d: &Decision) -> Vec<String> {
    let p = d.fleet.primary();
    let measure = p.results.run.sampling.measure;
    let mut lines: Vec<String> =
        d.unavailable.iter().map(|u| format!("{}: not available: {}.", u.mode, u.scenarios.join(", "))).collect();
    for o in p.ops.iter().filter(|o| o.instead.is_some()) {
        let vias: Vec<&OpCost> = p.costs.iter().filter(|c| c.op == o.key && c.via.is_some()).collect();
        let mut modes: Vec<Mode> = vias.iter().map(|c| c.mode).collect();
        modes.sort();
        modes.dedup();
        for m in modes {
            let on: Vec<String> = vias
                .iter()
                .filter(|c| c.mode == m)
                .map(|c| format!("{} {}", c.interpreter, added(c.added.point, measure)))
                .collect();
            // The mode's reason, from any interpreter it ran on.
            let why = vias
                .iter()
                .filter(|c| c.mode == m)
                .find_map(|c| p.results.cell(&c.interpreter, m, &o.path).and_then(|c| c.reason.clone()))
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            lines.push(format!(
                "{} under {m}: {} is not available{why}; its user takes {} instead, which adds per operation: {}.",
                o.key,
                o.path,
                o.instead.as_deref().unwrap_or_default(),
                on.join(", ")
            ));
        }
    }
    lines
}

/// Operations where PyO3's own part (its path's distance from the cheapest stable path, beyond the
/// same distance in unlimited) clears the noise floor: what PyO3 adds to what the ABI forces.
pub fn pyo3_lines(d: &Decision) -> Vec<String> {
    let p = d.fleet.primary();
    let measure = p.results.run.sampling.measure;
    p.ops
        .iter()
        .filter_map(|o| {
            let here: Vec<&OpCost> = p
                .costs
                .iter()
                .filter(|c| c.op == o.key && c.split.as_ref().is_some_and(|s| s.pyo3_claim == Claim::Slower))
                .collect();
            let first = here.first()?.split.as_ref()?;
            let pts: Vec<f64> = here.iter().filter_map(|c| c.split.as_ref()).map(|s| s.pyo3.point).collect();
            let (lo, hi) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
            let mut modes: Vec<Mode> = here.iter().map(|c| c.mode).collect();
            modes.sort();
            modes.dedup();
            let modes: Vec<String> = modes.iter().map(|m| m.name()).collect();
            Some(format!(
                "{}: PyO3's path ({}) adds {} per operation to the cheapest stable path ({}), beyond its distance from \
                 it in unlimited builds, in {} of {} (floor, interpreter) cells: {}.",
                o.key,
                o.path,
                span(added_fine(lo, measure), added_fine(hi, measure)),
                first.stable_path,
                here.len(),
                p.costs.iter().filter(|c| c.op == o.key && c.split.is_some()).count(),
                modes.join(", ")
            ))
        })
        .collect()
}

/// Operations whose cost differs between machines on one Python and floor: relative to each
/// machine's unlimited build, intervals apart by more than the noise floor (one machine measuring
/// more precisely, or running faster, is not a difference). One line per operation: how many of
/// its (floor, Python) figures differ, and the widest gap; every figure is in the per-interpreter
/// tables of each machine.
pub fn cpu_dependent_lines(d: &Decision) -> Vec<String> {
    if !d.fleet.several() {
        return Vec::new();
    }
    let measure = d.fleet.primary().results.run.sampling.measure;
    let mut lines = Vec::new();
    for o in &d.fleet.primary().ops {
        let (mut compared, mut differ) = (0, 0);
        let mut widest: Option<(f64, String)> = None;
        for m in stable_modes(d.fleet.primary().results) {
            for (v, per) in by_interpreter(d, &o.key, m) {
                if per.iter().map(|(machine, _)| machine).collect::<std::collections::BTreeSet<_>>().len() < 2 {
                    continue;
                }
                compared += 1;
                let gap = |a: &(String, &OpCost), b: &(String, &OpCost)| {
                    let (x, y) = (a.1.relative, b.1.relative);
                    if a.0 == b.0 {
                        0.0
                    } else {
                        (x.low - y.high).max(y.low - x.high)
                    }
                };
                let pairs = per.iter().enumerate().flat_map(|(k, a)| per[k + 1..].iter().map(move |b| (a, b)));
                let Some((g, (a, b))) = pairs.map(|(a, b)| (gap(a, b), (a, b))).max_by(|x, y| x.0.total_cmp(&y.0))
                else {
                    continue;
                };
                if g <= d.noise_floor {
                    continue;
                }
                differ += 1;
                if widest.as_ref().is_none_or(|(w, _)| g > *w) {
                    let on = |(machine, c): &(String, &OpCost)| {
                        format!("{} ({}) on {machine}", interval(&c.added, measure, c.claim), percent(c.relative.point))
                    };
                    widest = Some((g, format!("{m} on {v}: {} vs {}", on(a), on(b))));
                }
            }
        }
        if let Some((_, example)) = widest {
            lines.push(format!(
                "{}: {differ} of {compared} (floor, interpreter) figures differ between the machines; the widest, {example}.",
                o.key
            ));
        }
    }
    lines
}

/// Each interpreter's figures of `op` under `m`, with the machine each is from: one interpreter
/// (3.11.7, not 3.11.7 on one machine and Debian's 3.11.2 on the other), so a difference is the CPU's.
fn by_interpreter<'d>(d: &'d Decision, op: &str, m: Mode) -> Vec<(String, Vec<(String, &'d OpCost)>)> {
    let mut out: Vec<(String, Vec<(String, &OpCost)>)> = Vec::new();
    for run in &d.fleet.runs {
        for c in run.costs.iter().filter(|c| c.op == op && c.mode == m) {
            let v = c.interpreter.clone();
            match out.iter_mut().find(|(x, _)| *x == v) {
                Some((_, per)) => per.push((run.machine.clone(), c)),
                None => out.push((v, vec![(run.machine.clone(), c)])),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::fleet::Fleet;
    use crate::analysis::plan::Goal;
    use crate::analysis::shapes::Workload;
    use crate::analysis::testdata::results;

    #[test]
    fn machines_disagree_per_operation_only_beyond_the_noise_floor() {
        let r = results();
        let mut other = results();
        other.run.id = "20260102T000000Z".into();
        other.host.cpu_model = "Intel(R) Xeon(R) CPU @ 2.20GHz".into();
        let goal = Goal { workload: Workload::parse("list_get=1").unwrap(), threshold: 0.15 };
        let lines = |other: &crate::model::results::Results| {
            let (a, b) = (analyse(&r), analyse(other));
            cpu_dependent_lines(&Decision::new(Fleet::new(&[(&r, &a), (other, &b)]).unwrap(), &goal, vec![], &[]))
        };
        // The same figures on both machines: nothing to say.
        assert_eq!(lines(&other), Vec::<String>::new());
        // abi3-py312's list_get 30 % slower on the other machine: one figure of that operation differs.
        for c in other.cells.iter_mut().filter(|c| c.mode.name() == "abi3-py312" && c.scenario == "list_get") {
            for p in &mut c.processes {
                p.values_s.iter_mut().for_each(|v| *v *= 1.3);
            }
        }
        let said = lines(&other);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("list_get: 1 of "), "{said:?}");
        assert!(said[0].contains("abi3-py312") && said[0].contains("on Intel Xeon"), "{said:?}");
    }
}
