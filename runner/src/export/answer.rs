//! The answer a page opens with, in words and tables: what each operation adds under each floor,
//! what the workloads' calls cost, the wheel plan with its wheel tags, PyO3 features and a CI
//! matrix, and where the plan turns as the threshold moves. Every number is the decision's.

use crate::analysis::costs::Claim;
use crate::analysis::decision::{stable_modes, Decision, WorkloadCosts};
use crate::analysis::judge::{Fit, Judged};
use crate::analysis::plan::{Reason, TargetPlan, Wheel, WheelPlan};
use crate::analysis::pricing::CallCost;
use crate::analysis::shapes::fmt_ns;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::version::Target;

/// `+7.1 ns`, `−0.3 ns`, `+27 ns`, `+1.2 µs` (or instructions).
pub fn added(x: f64, measure: Measure) -> String {
    let tiny = match measure {
        Measure::WallTime => 0.05,
        Measure::Instructions => 0.5,
    };
    let sign = if x.abs() < tiny {
        return format!("±0 {}", measure.unit());
    } else if x < 0.0 {
        "−"
    } else {
        "+"
    };
    match measure {
        Measure::WallTime => format!("{sign}{}", fmt_ns(x.abs())),
        Measure::Instructions => format!("{sign}{:.0} instr", x.abs()),
    }
}

/// `added`, with a time under the display's 0.1 ns to its first significant digit, for figures
/// claimed beyond the noise floor, which must not read `±0`.
pub fn added_fine(x: f64, measure: Measure) -> String {
    if !matches!(measure, Measure::WallTime) || x == 0.0 || x.abs() >= 0.05 {
        return added(x, measure);
    }
    let decimals = (-x.abs().log10().floor()) as usize;
    let sign = if x < 0.0 { "−" } else { "+" };
    format!("{sign}{:.decimals$} {}", x.abs(), measure.unit())
}

/// A threshold as the user gave it: `5 %`, `7.5 %`.
pub fn threshold(fraction: f64) -> String {
    let p = 100.0 * fraction;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p} %")
    }
}

/// `+4.2 %`, `+38 %`, `±0 %`.
pub fn percent(fraction: f64) -> String {
    let p = 100.0 * fraction;
    match p.abs() {
        a if a < 0.05 => "±0 %".into(),
        a if a < 10.0 => format!("{}{a:.1} %", if p < 0.0 { "−" } else { "+" }),
        a => format!("{}{a:.0} %", if p < 0.0 { "−" } else { "+" }),
    }
}

/// `a…b` of formatted values (`+5.1…+9.6 ns`: a unit both share said once), or one value where
/// both read alike.
pub fn span(lo: String, hi: String) -> String {
    if lo == hi {
        return lo;
    }
    let unit = |s: &str| s.rsplit_once(' ').map(|(_, u)| u.to_string());
    match (unit(&lo), unit(&hi)) {
        (Some(a), Some(b)) if a == b => format!("{}…{hi}", lo.trim_end_matches(&format!(" {a}"))),
        _ => format!("{lo}…{hi}"),
    }
}

/// The range of `points` over the interpreters, in parentheses when none is a measurable claim.
fn range_cell(points: &[(f64, Claim)], fmt: &dyn Fn(f64) -> String) -> String {
    if points.is_empty() {
        return "—".into();
    }
    let lo = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let text = span(fmt(lo), fmt(hi));
    if points.iter().all(|p| p.1 == Claim::NotMeasurable) {
        format!("({text})")
    } else {
        text
    }
}

/// The headline: each operation's added time under each floor, its range over the interpreters
/// (and machines) the floor ran on; beside it the operation's time in the unlimited build.
pub fn op_table(d: &Decision) -> (Vec<String>, Vec<Vec<String>>) {
    let p = d.fleet.primary();
    let measure = p.results.run.sampling.measure;
    let costs: Vec<_> = d.fleet.runs.iter().flat_map(|r| &r.costs).collect();
    let modes = stable_modes(p.results);
    let mut header = vec!["operation".to_string(), "unlimited".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let rows = p
        .ops
        .iter()
        .filter(|o| costs.iter().any(|c| c.op == o.key))
        .map(|o| {
            let of = |m: Mode| costs.iter().filter(|c| c.op == o.key && c.mode == m).collect::<Vec<_>>();
            let all = costs.iter().filter(|c| c.op == o.key);
            let unl: Vec<(f64, Claim)> = all.map(|c| (c.unlimited.point, Claim::Slower)).collect();
            let mut row =
                vec![o.key.clone(), range_cell(&unl, &|x| added(x, measure).trim_start_matches('+').to_string())];
            row.extend(modes.iter().map(|m| {
                let cs = of(*m);
                let pts: Vec<(f64, Claim)> = cs.iter().map(|c| (c.added.point, c.claim)).collect();
                let via = if cs.iter().any(|c| c.via.is_some()) { " †" } else { "" };
                format!("{}{via}", range_cell(&pts, &|x| added(x, measure)))
            }));
            row
        })
        .collect();
    (header, rows)
}

/// What each operation of the headline is.
pub fn op_terms(d: &Decision) -> Vec<(String, String)> {
    let p = d.fleet.primary();
    p.ops.iter().filter(|o| p.costs.iter().any(|c| c.op == o.key)).map(|o| (o.key.clone(), o.label.clone())).collect()
}

/// The workloads' calls: each one's cost under each floor (range over interpreters), and the
/// wheels its plan takes at the goal's threshold.
pub fn workload_table(d: &Decision) -> (Vec<String>, Vec<Vec<String>>) {
    let modes = stable_modes(d.fleet.primary().results);
    let mut header = vec!["calls".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let rows = d
        .workloads
        .iter()
        .map(|w| {
            let mut row = vec![workload_name(d, w)];
            row.extend(modes.iter().map(|m| {
                let pts: Vec<(f64, Claim)> = w
                    .mix
                    .iter()
                    .filter(|(_, c)| c.mode == *m)
                    .map(|(_, c)| (c.relative.point, Claim::of(&c.relative, d.noise_floor)))
                    .collect();
                range_cell(&pts, &percent)
            }));
            row
        })
        .collect();
    (header, rows)
}

/// `getter: getter + 50 ns of work`, or for a mix its name and how many kinds of call; for
/// `statements`, a crate's calls (its scenarios) or abibench's operations, each once.
pub fn workload_name(d: &Decision, w: &WorkloadCosts) -> String {
    match w.shapes.as_slice() {
        [one] if !w.workload.statements => format!("{}: {one}", w.workload.name),
        shapes if w.workload.statements => {
            let n = shapes.first().map_or(0, |s| s.counts.len());
            match (d.fleet.primary().results.subject.is_bench_ext(), n) {
                (false, _) => format!("your calls, each once ({n} scenarios)"),
                (true, 0) => "each operation once (none timed whole in this run)".to_string(),
                (true, _) => format!("each operation once ({n} operations)"),
            }
        }
        shapes => format!("{}: a mix of {} kinds of call", w.workload.name, shapes.len()),
    }
}

/// Where one operation makes most of what the stable ABI adds to the plan's calls: that
/// operation and, per floor, its share (range over interpreters), so a total driven by one part is
/// not read as all of them. One line per operation that does so under some floor.
pub fn dominant_lines(d: &Decision) -> Vec<String> {
    let w = d.goal_costs();
    let mut by_op: Vec<(&str, Vec<String>)> = Vec::new();
    for m in stable_modes(d.fleet.primary().results) {
        let tops: Vec<(&str, f64)> = w
            .mix
            .iter()
            .filter(|(_, c)| c.mode == m)
            .filter_map(|(_, c)| c.dominant())
            .map(|(p, f)| (p.op.as_str(), f))
            .collect();
        let Some(&(op, _)) = tops.first() else { continue };
        // Said only where one part makes most of the total on every interpreter.
        if tops.iter().any(|(o, f)| *o != op || *f <= 0.5) {
            continue;
        }
        let (lo, hi) = tops.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, f)| (l.min(*f), h.max(*f)));
        let entry = format!("{} under {m}", span(pct(lo), pct(hi)));
        match by_op.iter_mut().find(|(o, _)| *o == op) {
            Some((_, v)) => v.push(entry),
            None => by_op.push((op, vec![entry])),
        }
    }
    by_op
        .into_iter()
        .map(|(op, entries)| {
            format!(
                "In {} (the plan's calls), {op} makes most of the time the stable ABI adds, of the parts that add \
                 any, on every interpreter measured: {}.",
                if w.workload.statements { "your calls" } else { w.workload.name.as_str() },
                entries.join(", ")
            )
        })
        .collect()
}

/// What each mix among the workloads is made of: its calls and their share of all calls.
pub fn mix_lines(d: &Decision) -> Vec<String> {
    d.workloads
        .iter()
        .filter(|w| w.shapes.len() > 1 && !w.workload.statements)
        .map(|w| {
            let parts: Vec<String> = w.shapes.iter().map(|s| format!("{} {s}", pct(s.share))).collect();
            format!("{}, {}, in shares of its calls: {}.", w.workload.name, w.workload.description, parts.join("; "))
        })
        .collect()
}

fn pct(f: f64) -> String {
    format!("{:.0} %", 100.0 * f)
}

/// For calls that say what they call (`channel`), each kind's share of the time the calls that add
/// any add (`CallCost::share`),
/// per floor (range over interpreters): which operations the cost comes from.
pub fn channel_table(d: &Decision) -> (Vec<String>, Vec<Vec<String>>) {
    let r = d.fleet.primary().results;
    let channel_of =
        |op: &str| r.groups.iter().flat_map(|g| &g.scenarios).find(|s| s.name == op).and_then(|s| s.channel);
    let w = d.goal_costs();
    let modes = stable_modes(r);
    let mut header = vec!["kind of call".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let mut channels: Vec<_> = w.shapes.iter().flat_map(|s| &s.counts).filter_map(|(k, _)| channel_of(k)).collect();
    channels.sort();
    channels.dedup();
    let rows = channels
        .into_iter()
        .map(|ch| {
            let mut row = vec![ch.label().to_string()];
            row.extend(modes.iter().map(|m| {
                let shares: Vec<(f64, Claim)> = w
                    .mix
                    .iter()
                    .filter(|(_, c)| c.mode == *m && c.added.point > 0.0)
                    .map(|(_, c)| {
                        let part: f64 =
                            c.parts.iter().filter(|p| channel_of(&p.op) == Some(ch)).map(|p| c.share(p)).sum();
                        (part, Claim::Slower)
                    })
                    .collect();
                range_cell(&shares, &pct)
            }));
            row
        })
        .collect();
    (header, rows)
}

/// `cp38-cp38`, `cp313-cp313t`, `cp310-abi3`, `cp315-abi3t`; for a crate of the user's own, its
/// wheels' names: `uuid_utils-1.2.0-cp310-abi3`.
pub fn tag(r: &Results, t: Target, wheel: Wheel) -> String {
    let python = match wheel {
        Wheel::Stable(Mode::Abi3t(v)) => format!("cp{}{}-abi3t", v.0, v.1),
        Wheel::Stable(m) => m.floor().map_or_else(String::new, |v| format!("cp{}{}-abi3", v.0, v.1)),
        _ => {
            let v = t.version;
            format!("cp{0}{1}-cp{0}{1}{2}", v.0, v.1, if t.free_threaded { "t" } else { "" })
        }
    };
    r.subject.wheel_name(&python)
}

/// `on 3.11.2` (`on 3.11.2, Intel Xeon` when the fleet has several machines).
fn on(d: &Decision, c: &CallCost, machine: usize) -> String {
    if d.fleet.several() {
        format!("on {}, {}", c.interpreter, d.fleet.runs[machine].machine)
    } else {
        format!("on {}", c.interpreter)
    }
}

/// `abi3-py310 costs +5.2 % [+4.1…+6.0 %] on 3.11.2`: a judgement's deciding figure.
pub fn judged_cost(d: &Decision, j: &Judged) -> String {
    match j.decisive() {
        Some(m) => {
            let e = m.cost.relative;
            format!(
                "{} costs {} [{}…{}] {}",
                j.mode,
                percent(e.point),
                percent(e.low),
                percent(e.high),
                on(d, &m.cost, m.machine)
            )
        }
        None => {
            let mut ops: Vec<&str> = j.unpriced.iter().flat_map(|(_, u)| u.ops.iter().map(String::as_str)).collect();
            ops.sort();
            ops.dedup();
            if ops.is_empty() {
                // A run of part of the scenarios: no operation of the workload was timed whole.
                format!(
                    "{}: this run prices none of the workload's calls there (no operation had all its scenarios timed)",
                    j.mode
                )
            } else {
                format!("{} cannot express {} there", j.mode, ops.join(", "))
            }
        }
    }
}

/// Why a Python gets a version-specific wheel (or none), in words.
fn because(d: &Decision, p: &WheelPlan, t: &TargetPlan) -> String {
    let judged = t.judged.as_ref().map(|j| judged_cost(d, j)).unwrap_or_default();
    let pct = threshold(p.goal.threshold);
    match &t.reason {
        Reason::Over => judged,
        Reason::Undecided => {
            format!("undecided: {judged}, straddling {pct}; the tie rule takes the version-specific wheel")
        }
        Reason::NotAvailable => judged,
        Reason::Uncovered => match (p.stable, &t.judged) {
            (Some(m), Some(_)) => format!("below the {m} wheel's floor ({judged})"),
            (Some(m), None) => format!("below the {m} wheel's floor"),
            (None, _) => judged,
        },
        Reason::NoStableMode => "no stable-ABI build ran there".into(),
        Reason::FreeThreaded => "free-threaded: an abi3 wheel does not load there".into(),
        Reason::NotInRun => "not measured here: no interpreter of it in this run".into(),
        Reason::Served | Reason::Unbuildable(_) | Reason::Unmeasured(_) => String::new(),
    }
}

/// What makes a Python's wheel fragile: a knife edge, or machines that disagree.
fn marks(d: &Decision, t: &TargetPlan) -> String {
    let Some(j) = &t.judged else { return String::new() };
    let mut out = String::new();
    if j.near && j.fit != Fit::Undecided {
        out.push_str(&format!(
            " Marked: a knife edge, the verdict turns if the threshold moves by the noise floor (±{}).",
            percent(d.noise_floor).trim_start_matches('+')
        ));
    }
    if j.cpu_dependent {
        let by_machine: Vec<String> = d
            .fleet
            .runs
            .iter()
            .enumerate()
            .filter_map(|(k, run)| {
                let worst =
                    j.measured.iter().filter(|m| m.machine == k).map(|m| m.cost.relative.high).reduce(f64::max)?;
                Some(format!("at most {} on {}", percent(worst), run.machine))
            })
            .collect();
        out.push_str(&format!(" Marked: CPU-dependent ({}).", by_machine.join(", ")));
    }
    out
}

pub mod words;

pub use words::{ci_snippet, plan_words, plans_side_by_side, sweep_table, PlanWords};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::plan::Goal;
    use crate::analysis::shapes::Workload;
    use crate::analysis::testdata::results;
    use crate::export::page::Report;

    fn goal(workload: &str, threshold: f64) -> Goal {
        Goal { workload: Workload::parse(workload).unwrap(), threshold }
    }

    #[test]
    fn the_headline_gives_each_operations_added_time_per_floor() {
        let r = results();
        let a = analyse(&r);
        let rep = Report::new(&r, &a, &goal("list_get=1", 0.15));
        let (header, rows) = op_table(&rep.decision);
        assert_eq!(header, ["operation", "unlimited", "abi3-py38", "abi3-py312"]);
        let list = rows.iter().find(|r| r[0] == "list_get").unwrap();
        // +5 ns on 3.8 (15 over 10), +10 ns on 3.12 (30 over 20); abi3-py312 +2 ns on 3.12.
        assert!(
            list[1] == "10…20 ns" && list[2].starts_with("+5") && list[2].contains("…+") && list[2].ends_with(" ns"),
            "{list:?}"
        );
        assert!(list[3].starts_with('+') && !list[3].contains('…'), "one interpreter: {list:?}");
        let kernel = rows.iter().find(|r| r[0] == "kernel").unwrap();
        assert!(kernel[2].starts_with('('), "no measurable cost: {kernel:?}");
        let (_, calls) = workload_table(&rep.decision);
        assert!(
            calls[0][0].starts_with("list_get=1: call") || calls[0][0].starts_with("list_get=1: list_get"),
            "{calls:?}"
        );
    }

    #[test]
    fn the_plan_names_each_wheel_its_tag_and_why() {
        let r = results();
        let a = analyse(&r);
        let rep = Report::new(&r, &a, &goal("list_get=1", 0.15));
        let words = plan_words(&rep.decision);
        let text = words.items.join("\n");
        assert!(
            // 3.8 and 3.12 measured; the rest of abibench's range (3.9–3.11, 3.13–3.15, 3.14t, 3.15t) not.
            words.heading.starts_with("Wheel plan for list_get=1")
                && words.heading.ends_with("7 wheel(s) per platform (5 of them for Pythons not measured here)."),
            "{}",
            words.heading
        );
        assert!(
            text.contains("One abi3-py312 wheel (cp312-abi3; PyO3 feature `pyo3/abi3-py312`) for 3.12: at most +1"),
            "{text}"
        );
        assert!(
            text.contains(
                "A version-specific wheel for 3.8 (cp38-cp38): below the abi3-py312 wheel's floor (abi3-py38 costs +5"
            ),
            "{text}"
        );
        assert_eq!(words.brief[1], "Version-specific wheels for 3.8 (cp38-cp38) (reasons in report.md).");
        let abi3t = Mode::Abi3t(crate::model::version::PyVersion(3, 15));
        let t = Target { version: crate::model::version::PyVersion(3, 13), free_threaded: true };
        assert_eq!(
            (tag(&r, t, Wheel::Stable(abi3t)), tag(&r, t, Wheel::Specific)),
            ("cp315-abi3t".into(), "cp313-cp313t".into())
        );
        let yaml = ci_snippet(&rep.decision);
        assert!(
            yaml.contains("args: \"--release -i python3.8\"") && yaml.contains("--features pyo3/abi3-py312"),
            "{yaml}"
        );
        let (_, sweep) = sweep_table(&rep.decision);
        assert!(sweep.iter().any(|row| row[0] == "15 % (yours)" && row[2] == "abi3-py312"), "{sweep:?}");
    }

    #[test]
    fn plans_side_by_side_say_whether_a_difference_was_marked() {
        let a = vec![
            ("3.8".to_string(), "version-specific".to_string(), false),
            ("3.12".into(), "abi3-py312".into(), false),
        ];
        let same = plans_side_by_side(&["A", "B"], &[a.clone(), a.clone()]);
        assert!(same.ends_with("The plans are identical.\n"), "{same}");
        let mut b = a.clone();
        b[1] = ("3.12".into(), "undecided".into(), true);
        assert!(plans_side_by_side(&["A", "B"], &[a.clone(), b]).contains("each marked by a run"));
        let mut c = a.clone();
        c[1].1 = "version-specific".into();
        assert!(plans_side_by_side(&["A", "B"], &[a, c]).contains("1 of them marked by no run"));
    }
}
