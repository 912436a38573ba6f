//! The wheel plan in words: its wheels and why, what the run could not settle and how to settle
//! it; the plan at other thresholds; the CI matrix that builds it; plans of several runs side by
//! side.

use super::{because, marks, percent, tag, threshold, workload_name};
use crate::analysis::decision::Decision;
use crate::analysis::judge::Fit;
use crate::analysis::plan::{Reason, TargetPlan, Wheel, WheelPlan};
use crate::model::mode::Mode;
use crate::model::version::Target;

/// The plan in words: a heading, its items, and the same in brief for a terminal (the
/// version-specific wheels in one line, what is marked or unmeasured in another).
pub struct PlanWords {
    pub heading: String,
    pub items: Vec<String>,
    pub brief: Vec<String>,
}

pub fn plan_words(d: &Decision) -> PlanWords {
    let (p, r) = (&d.plan, d.fleet.primary().results);
    let unmeasured = p.targets.iter().filter(|t| t.reason == Reason::NotInRun && t.wheel == Wheel::Specific).count();
    let heading = format!(
        "Wheel plan{} for {} within {}: {} wheel(s) per platform{}.",
        r.subject.krate().map_or(String::new(), |s| format!(" for {}", s.title())),
        workload_name(d, d.goal_costs()),
        threshold(p.goal.threshold),
        p.wheels(),
        if unmeasured > 0 { format!(" ({unmeasured} of them for Pythons not measured here)") } else { String::new() }
    );
    let (mut items, mut brief) = (Vec::new(), Vec::new());
    if let Some(line) = stable_line(d) {
        items.push(line.clone());
        brief.push(line);
    }
    let (mut specific, mut blind) = (Vec::new(), Vec::new());
    for t in p.targets.iter().filter(|t| t.wheel == Wheel::Specific) {
        let wheel = format!("{} ({})", t.target, tag(r, t.target, t.wheel));
        items.push(format!("A version-specific wheel for {wheel}: {}.{}", because(d, p, t), marks(d, t)));
        if t.reason == Reason::NotInRun {
            blind.push(t.target.to_string());
        } else {
            specific.push(wheel);
        }
    }
    let late = late_lines(d);
    items.extend(late.iter().cloned());
    // When no stable-ABI build of this source compiles, the page says so with the plan (the
    // terminal already said it under the tables).
    items.extend(
        crate::export::summary::build_failures(r).into_iter().filter(|l| l.starts_with("abi3 needs code changes")),
    );
    if !specific.is_empty() {
        brief.push(format!("Version-specific wheels for {} (reasons in report.md).", specific.join(", ")));
    }
    if !blind.is_empty() {
        brief.push(format!("Version-specific wheels, not measured here, for {}.", blind.join(", ")));
    }
    let marked: Vec<String> = p.targets.iter().filter(|t| t.marked()).map(|t| t.target.to_string()).collect();
    if !marked.is_empty() {
        brief
            .push(format!("Marked (undecided, a knife edge, or CPU-dependent): {}; see report.md.", marked.join(", ")));
    }
    brief.extend(late);
    PlanWords { heading, items, brief }
}

/// The plan's abi3 wheel: the Pythons it serves, at most what it costs there and where.
fn stable_line(d: &Decision) -> Option<String> {
    let (p, r) = (&d.plan, d.fleet.primary().results);
    let mode = p.stable?;
    let served: Vec<&TargetPlan> = p.targets.iter().filter(|t| t.reason == Reason::Served).collect();
    let worst =
        served.iter().filter_map(|t| t.judged.as_ref()).max_by(|a, b| a.worst_high().total_cmp(&b.worst_high()));
    let serves = match worst {
        Some(j) => format!(
            "for {}: at most {} there (the upper bound {})",
            list(&served),
            percent(j.worst_high()),
            j.decisive().map_or(String::new(), |m| super::on(d, &m.cost, m.machine))
        ),
        None => {
            let blind: Vec<&TargetPlan> = p
                .targets
                .iter()
                .filter(|t| matches!(t.reason, Reason::Unbuildable(_)) && t.wheel == Wheel::Stable(mode))
                .collect();
            format!("for {}, where no version-specific build exists (below)", list(&blind))
        }
    };
    let unmeasured: Vec<&TargetPlan> =
        p.targets.iter().filter(|t| t.reason == Reason::NotInRun && t.wheel == Wheel::Stable(mode)).collect();
    let also = if unmeasured.is_empty() {
        String::new()
    } else {
        format!("; it also installs on {} (not measured here: no interpreter of them in this run)", list(&unmeasured))
    };
    Some(format!(
        "One {mode} wheel ({}; PyO3 feature `pyo3/{mode}`) {serves}{also}.",
        tag(r, Target { version: mode.floor()?, free_threaded: false }, Wheel::Stable(mode))
    ))
}

fn list(ts: &[&TargetPlan]) -> String {
    ts.iter().map(|t| t.target.to_string()).collect::<Vec<_>>().join(", ")
}

/// Pythons nothing could be built or measured for, a manifest that forces abi3, and how to settle
/// what the run left undecided.
fn late_lines(d: &Decision) -> Vec<String> {
    let (p, r) = (&d.plan, d.fleet.primary().results);
    let mut lines = Vec::new();
    for t in &p.targets {
        match (&t.reason, t.wheel) {
            (Reason::Unbuildable(why), Wheel::Stable(m)) => lines.push(format!(
                "{}: no version-specific build of this source succeeded ({why}); the {m} wheel loads and runs there, at a \
                 cost nothing here can measure (no version-specific build to compare it with).",
                t.target
            )),
            (Reason::Unbuildable(why), _) => lines.push(format!(
                "{}: no version-specific build of this source succeeded ({why}); no wheel of this plan serves it.",
                t.target
            )),
            (Reason::Unmeasured(why), _) => lines.push(format!("{}: not measured: {why}", t.target)),
            _ => {}
        }
    }
    if let Some(s) = r.subject.krate().filter(|s| !s.unforced.is_empty()) {
        lines.push(format!(
            "{}'s manifest turns on PyO3's abi3 from {} itself: any other wheel of this plan needs that feature out \
             of the manifest (abibench built from a copy without {}).",
            s.distribution,
            s.forced_floor.map_or(String::new(), |f| f.to_string()),
            s.unforced.join(", ")
        ));
    }
    lines.extend(to_decide(d));
    lines
}

/// A command per floor that would settle the Pythons where it was undecided or on a knife edge.
fn to_decide(d: &Decision) -> Vec<String> {
    let r = d.fleet.primary().results;
    let mut by_mode: Vec<(Mode, Vec<Target>)> = Vec::new();
    for t in d.plan.targets.iter().filter(|t| t.marked()) {
        let Some(j) = t.judged.as_ref().filter(|j| j.fit != Fit::NotAvailable) else { continue };
        match by_mode.iter_mut().find(|(m, _)| *m == j.mode) {
            Some((_, ts)) => ts.push(t.target),
            None => by_mode.push((j.mode, vec![t.target])),
        }
    }
    let krate = r.subject.crate_flag();
    by_mode
        .into_iter()
        .map(|(mode, ts)| {
            let names: Vec<String> = ts.iter().map(Target::to_string).collect();
            let pythons: Vec<String> = names.iter().map(|t| format!("--python {t}")).collect();
            format!(
                "To settle {mode} on {}: `abibench compare{krate} --thorough {} --mode unlimited --mode {mode}` \
                 (narrower intervals), or `--measure instructions` (counts, immune to noise, not to stalls).",
                names.join(", "),
                pythons.join(" ")
            )
        })
        .collect()
}

/// The plan at each threshold of the sweep: how many wheels, which abi3 wheel, what it serves,
/// and what is marked; the goal's own threshold among them.
pub fn sweep_table(d: &Decision) -> (Vec<String>, Vec<Vec<String>>) {
    let header = ["threshold", "wheels", "abi3 wheel", "abi3 wheel for", "version-specific", "marked"]
        .map(String::from)
        .to_vec();
    // Pythons no run measured are listed apart, so every supported Python is in its wheel's column.
    let targets = |p: &WheelPlan, f: &dyn Fn(&TargetPlan) -> bool| {
        let unmeasured = |t: &&TargetPlan| matches!(t.reason, Reason::NotInRun | Reason::Unmeasured(_));
        let (not, measured): (Vec<&TargetPlan>, Vec<&TargetPlan>) =
            p.targets.iter().filter(|t| f(t)).partition(unmeasured);
        let list = |v: &[&TargetPlan]| v.iter().map(|t| t.target.to_string()).collect::<Vec<_>>().join(", ");
        match (measured.is_empty(), not.is_empty()) {
            (true, true) => "—".to_string(),
            (false, true) => list(&measured),
            (true, false) => format!("not measured: {}", list(&not)),
            (false, false) => format!("{}; not measured: {}", list(&measured), list(&not)),
        }
    };
    let rows = d
        .sweep
        .iter()
        .map(|p| {
            let own = (p.goal.threshold - d.plan.goal.threshold).abs() < 1e-9;
            vec![
                format!("{}{}", threshold(p.goal.threshold), if own { " (yours)" } else { "" }),
                p.wheels().to_string(),
                p.stable.map_or("—".into(), |m| m.name()),
                targets(p, &|t| matches!(t.wheel, Wheel::Stable(_))),
                targets(p, &|t| t.wheel == Wheel::Specific),
                targets(p, &|t| t.marked()),
            ]
        })
        .collect();
    (header, rows)
}

/// A maturin-action matrix that builds the plan's wheels on Linux.
pub fn ci_snippet(d: &Decision) -> String {
    let mut entries: Vec<String> = d
        .plan
        .targets
        .iter()
        .filter(|t| t.wheel == Wheel::Specific)
        .map(|t| {
            let (v, ft) = (t.target.version, if t.target.free_threaded { "t" } else { "" });
            format!("          - {{ python: \"{0}.{1}{ft}\", args: \"--release -i python{0}.{1}{ft}\" }}", v.0, v.1)
        })
        .collect();
    if let Some(mode) = d.plan.stable {
        let floor = mode.floor().map(|v| format!("{}.{}", v.0, v.1)).unwrap_or_default();
        entries.push(format!(
            "          - {{ python: \"{floor}\", args: \"--release -i python{floor} --features pyo3/{mode}\" }}"
        ));
    }
    format!(
        "jobs:\n  wheels:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        include:\n{}\n    steps:\n      \
         - uses: actions/checkout@v6\n      - uses: actions/setup-python@v6\n        with:\n          python-version: \
         ${{{{ matrix.python }}}}\n      - uses: PyO3/maturin-action@v1\n        with:\n          manylinux: auto\n          \
         args: ${{{{ matrix.args }}}}\n",
        entries.join("\n")
    )
}

/// Runs' plan decisions side by side, Python by Python (a `*` where that run marked it), and
/// whether they agree.
pub fn plans_side_by_side(ids: &[&str], plans: &[Vec<(String, String, bool)>]) -> String {
    let mut targets: Vec<&str> = Vec::new();
    for (t, _, _) in plans.iter().flatten() {
        if !targets.contains(&t.as_str()) {
            targets.push(t);
        }
    }
    let cell = |k: usize, t: &str| {
        plans[k]
            .iter()
            .find(|x| x.0 == t)
            .map_or("—".to_string(), |x| format!("{}{}", x.1, if x.2 { " *" } else { "" }))
    };
    let width = targets.iter().map(|t| t.chars().count()).max().unwrap_or(0).max(6);
    let mut out = format!("{:width$}", "python");
    for id in ids {
        out.push_str(&format!("  {id:28}"));
    }
    out.push('\n');
    let (mut differ, mut unmarked) = (0, 0);
    for t in &targets {
        let cells: Vec<String> = (0..plans.len()).map(|k| cell(k, t)).collect();
        let wheels: Vec<&str> = cells.iter().map(|c| c.trim_end_matches(" *")).collect();
        let same = wheels.windows(2).all(|w| w[0] == w[1]);
        let marked = cells.iter().any(|c| c.ends_with(" *"));
        differ += !same as usize;
        unmarked += (!same && !marked) as usize;
        out.push_str(&format!("{t:width$}"));
        for c in &cells {
            out.push_str(&format!("  {c:28}"));
        }
        out.push_str(match (same, marked) {
            (true, _) => "\n",
            (false, true) => "  differs (marked)\n",
            (false, false) => "  differs, unmarked\n",
        });
    }
    out.push_str(&match (differ, unmarked) {
        (0, _) => "The plans are identical.\n".to_string(),
        (n, 0) => format!("The plans differ on {n} of {} Pythons, each marked by a run (*).\n", targets.len()),
        (n, u) => format!("The plans differ on {n} of {} Pythons, {u} of them marked by no run.\n", targets.len()),
    });
    out
}
