//! The report's sentences that are not the answer's: the findings, compute-bound calls, the noise
//! floor, the layout, the run line and the native floors. Every number comes from `analysis`; only
//! the phrasing is here.

use crate::analysis::cells::Analysis;
use crate::analysis::decision::{ordered_interpreters, Decision};
use crate::analysis::findings::Evidence;
use crate::export::format::format_value;
use crate::model::build::{failed_builds, failure_headline, stable_abi_failed_throughout};
use crate::model::interpreter::Interpreter;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::scenario::Kind;

/// Each scenario file's finding: stated as a cost with its upstream context where its comparison
/// clears the noise floor, else as checked and costing nothing measurable; with the ratios.
pub fn evidence_lines(ev: &[&Evidence]) -> Vec<String> {
    ev.iter().map(|e| evidence_line(e)).collect()
}

fn evidence_line(e: &Evidence) -> String {
    let f = &e.finding;
    let cell = |m: &crate::analysis::findings::Measurement| {
        format!("{:.2}× [{:.2}–{:.2}] in {} on {}", m.ratio.point, m.ratio.low, m.ratio.high, m.mode, m.interpreter)
    };
    let list = |ms: &[&crate::analysis::findings::Measurement]| -> String {
        if ms.len() <= 3 {
            return ms.iter().map(|m| cell(m)).collect::<Vec<_>>().join(", ");
        }
        let (lo, hi) = ms
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), m| (l.min(m.ratio.point), h.max(m.ratio.point)));
        format!("{lo:.2}–{hi:.2}× over {} (mode, interpreter) cells", ms.len())
    };
    let costs: Vec<&_> = e.here.iter().filter(|m| m.costs).collect();
    let rest: Vec<&_> = e.here.iter().filter(|m| !m.costs).collect();
    let elsewhere = e.elsewhere.map_or(String::new(), |(lo, hi, n)| {
        format!(" (the same comparison on the run's other interpreters: {lo:.2}–{hi:.2}×, {n} ratios)")
    });
    let context = match (&f.context, &f.link) {
        (Some(c), Some(l)) => format!(" Why: {c} ({l})"),
        (Some(c), None) => format!(" Why: {c}"),
        (None, Some(l)) => format!(" ({l})"),
        (None, None) => String::new(),
    };
    if e.here.is_empty() {
        return format!("Not measured in this run: {}", f.fact);
    }
    if costs.is_empty() {
        return format!(
            "{} {}: {}, none above 1.0 beyond the noise floor{elsewhere}.{context}",
            f.fact,
            f.comparison,
            list(&rest)
        );
    }
    let none = if rest.is_empty() { String::new() } else { format!("; no measurable cost in {}", list(&rest)) };
    format!("{} Measured: {} {}{none}{elsewhere}.{context}", f.fact, f.comparison, list(&costs))
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Chatty => "chatty",
        Kind::Compute => "compute",
    }
}

/// Compute-bound calls, a line per floor: how far their ratios stray from 1.0, which pricing a
/// call's own work at nothing added assumes.
pub fn compute_lines(d: &Decision) -> Vec<String> {
    d.compute
        .iter()
        .map(|c| {
            let which: Vec<String> = c.slowest.iter().map(|(s, r)| format!("{s} up to {r:.2}×")).collect();
            let claims = match (c.slower, c.faster) {
                (0, 0) => "none beyond the noise floor".to_string(),
                (0, f) => format!("0 measurably slower and {f} faster beyond the noise floor"),
                (s, f) => format!("{s} measurably slower ({}) and {f} faster beyond the noise floor", which.join(", ")),
            };
            format!("{}: {} ratios of compute-bound scenarios, {:.2}–{:.2}×, {claims}.", c.mode, c.count, c.min, c.max)
        })
        .collect()
}

/// How this run's builds were laid out, and how that differs from a shipped wheel.
pub fn layout_line(r: &Results) -> String {
    let k = r.run.sampling.layouts;
    let variants = if k <= 1 {
        "one layout per build, in the platform linker's own function order".to_string()
    } else {
        format!(
            "{k} layout variants per build, each linked by rust-lld with its functions shuffled by a fixed seed \
             (1 to {k}), timed interleaved; ratio intervals include the spread between layouts"
        )
    };
    format!(
        "Layout: every build has its functions and branch targets aligned to 64 bytes ({variants}). A shipped wheel \
         has neither: its code sits where its linker put it, so a wheel's own timings may carry placement effects \
         of a few percent that these builds are made to show as noise rather than as a cost."
    )
}

/// What this run's negative controls say: builds of identical code, and how far apart they came out.
pub fn controls_line(a: &Analysis) -> String {
    match a.noise.worst() {
        None => "Negative controls: none in this run (no scenario declares `same_code_in` for two modes that ran, and \
                 each build has one layout), so differences are judged by their intervals alone; `--layouts 2` (or \
                 `--thorough`) times two layouts of every build, a control for every scenario."
            .to_string(),
        Some(w) => format!(
            "Negative controls: {} ratios between builds that run identical code (`same_code_in`, or two layout \
             variants of one build); 95 % of their points lie within ±{:.1} % of 1.0 (widest: {} on {}, {} / {} = \
             {:.3}×). No stable-ABI difference inside that noise floor is claimed.",
            a.noise.ratios.len(),
            100.0 * a.noise.spread,
            w.scenario,
            w.interpreter,
            w.candidate,
            w.baseline,
            w.ratio.point
        ),
    }
}

/// What the page answers, in the words both formats open with.
pub const QUESTION: &str = "abi3, version-specific, or both? Each stable-ABI build is measured against the \
    version-specific (unlimited) build inside the same interpreter, pair by pair, so the figures below are the \
    time the stable ABI adds to each kind of operation on each interpreter measured, and what that makes of a \
    call made of them.";

/// One line saying which run this is: id, level, status, interpreters, machine.
pub fn run_line(r: &Results) -> String {
    let names: Vec<String> = ordered_interpreters(r).iter().map(|i| i.name.clone()).collect();
    let subject = r.subject.krate().map_or(String::new(), |s| {
        let rev = s.git_revision.as_ref().map_or(String::new(), |g| {
            format!(", git {}{}", &g[..g.len().min(12)], if s.git_dirty { " (modified)" } else { "" })
        });
        let features =
            if s.features.is_empty() { String::new() } else { format!(", features {}", s.features.join(" ")) };
        format!("{}, module {}{rev}{features}, from {}. ", s.title(), s.module, s.path.display())
    });
    format!(
        "{subject}Run {}, {} level, {}: {} interpreter(s) ({}) on {}{} ({} logical CPUs).",
        r.run.id,
        format!("{:?}", r.run.level).to_lowercase(),
        format!("{:?}", r.run.status).to_lowercase(),
        names.len(),
        names.join(", "),
        r.host.label.as_ref().map_or(String::new(), |l| format!("{l}, ")),
        r.host.cpu_model,
        r.host.logical_cpus
    )
}

/// The FFI cost above each scenario's native floor (`compare --native`): a header, then a row per
/// (scenario with a floor, interpreter of `interps`) with the floor and, per mode, `+excess
/// (×ratio)`. Empty when the run has no floors.
pub fn native_table(r: &Results, a: &Analysis, interps: &[&Interpreter]) -> (Vec<String>, Vec<Vec<String>>) {
    let Some(native) = &r.native else { return (Vec::new(), Vec::new()) };
    let modes = r.modes();
    let mut header = vec!["scenario".to_string(), "python".into(), "native floor".into()];
    header.extend(modes.iter().map(|m| m.name()));
    let mut rows = Vec::new();
    for s in r.groups.iter().flat_map(|g| &g.scenarios) {
        let Some(floor) = native.floors.get(&s.name) else { continue };
        for i in interps {
            let mut row = vec![s.name.clone(), i.name.clone(), format_value(floor.per_op_ns.point, Measure::WallTime)];
            row.extend(modes.iter().map(|&m| {
                a.above_native(&i.name, m, &s.name).map_or("—".into(), |x| {
                    format!("+{} (×{:.1})", format_value(x.excess_ns.point, Measure::WallTime), x.ratio.point)
                })
            }));
            rows.push(row);
        }
    }
    (header, rows)
}

/// One line per failed build with the compiler's headline (the tables' cells say only "build
/// failed"), and, when every stable-ABI build failed where version-specific ones built, that
/// abi3 needs changes to the code: no floor would do.
pub fn build_failures(r: &Results) -> Vec<String> {
    let failed = failed_builds(&r.builds);
    if failed.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!("Builds that failed ({}; the compiler's message is in the results):", failed.len())];
    lines.extend(
        failed.iter().map(|b| format!("  {}: {}", b.label(), failure_headline(b.failure().unwrap_or_default()))),
    );
    if let Some(first) = stable_abi_failed_throughout(&r.builds) {
        let headline = failure_headline(first.failure().unwrap_or_default());
        // The compiler's words, without cargo's "cargo build exit status: 101: " before them.
        let error = headline.find("error").map_or(headline, |i| &headline[i..]);
        let note = first.note.as_ref().map_or(String::new(), |n| format!(" (note: {n})"));
        let name = r.subject.krate().map_or("bench-ext", |c| c.distribution.as_str());
        lines.push(format!(
            "abi3 needs code changes in {name}: every stable-ABI build failed while the version-specific ones \
             built; the first, {}, with {error}{note}.",
            first.mode
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::plan::Goal;
    use crate::analysis::testdata;
    use crate::export::page::Report;
    use crate::model::scenario::Finding;

    #[test]
    fn compute_bound_calls_say_how_far_they_stray_and_whether_any_is_claimed() {
        let r = testdata::results();
        let a = analyse(&r);
        let rep = Report::new(&r, &a, &Goal::default());
        let lines = compute_lines(&rep.decision);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("abi3-py38: 2 ratios of compute-bound scenarios")
                && lines[0].ends_with("none beyond the noise floor."),
            "{lines:?}"
        );
    }

    #[test]
    fn a_finding_is_stated_as_a_cost_only_where_measured_else_as_checked() {
        let mut r = testdata::results();
        r.groups[0].findings.push(Finding {
            fact: "GetItem is a call.".into(),
            comparison: "PyList_GetItem / PyList_GET_ITEM".into(),
            modes: vec![crate::model::mode::Mode::Unlimited],
            pythons: Vec::new(),
            context: Some("CPython keeps the macro out of the limited API.".into()),
            link: Some("https://example.org/x".into()),
        });
        let a = analyse(&r);
        let rep = Report::new(&r, &a, &Goal::default());
        let costs: Vec<&Evidence> = rep.decision.findings.iter().filter(|e| e.is_cost()).collect();
        let line = &evidence_lines(&costs)[0];
        assert!(line.starts_with("GetItem is a call. Measured: PyList_GetItem / PyList_GET_ITEM 1.25×"), "{line}");
        assert!(
            line.ends_with("Why: CPython keeps the macro out of the limited API. (https://example.org/x)"),
            "{line}"
        );
        // Read the other way round, the same comparison costs nothing: it is checked, not stated.
        let mut e = rep.decision.findings[0].clone();
        e.here.iter_mut().for_each(|m| m.costs = false);
        let line = &evidence_lines(&[&e])[0];
        assert!(
            line.starts_with("GetItem is a call. PyList_GetItem / PyList_GET_ITEM: ")
                && line.contains("none above 1.0"),
            "{line}"
        );
    }
}
