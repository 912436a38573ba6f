//! The decision in words: the evidence's sentences, the channel and attribution tables, and the
//! lines both page formats open with. Every number comes from `analysis`; only the phrasing is here.

use std::collections::BTreeMap;

use crate::analysis::cells::Analysis;
use crate::analysis::decision::{ordered_interpreters, Aggregate, ChannelCost, Decision};
use crate::analysis::findings::Evidence;
use crate::export::format::format_value;
use crate::model::estimate::Estimate;
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::scenario::{Channel, Kind, Layer};

/// The evidence's sentences, section by section. Each number is a field of the decision.
pub fn summary(d: &Decision) -> Vec<(&'static str, Vec<String>)> {
    let band = |i: usize| d.bands[i].label.as_str();
    let floors = d
        .floor_changes
        .iter()
        .map(|x| {
            let (f, t) = (&x.from_ratios.median, &x.to_ratios.median);
            format!(
                "On {}, {} ({}): {} → {} {} {:.2}× → {:.2}× (intervals {:.2}–{:.2}× and {:.2}–{:.2}×).",
                band(x.band),
                x.channel.label(),
                x.layer.label(),
                x.from,
                x.to,
                if x.is_loss() { "loses:" } else { "gains:" },
                f.point,
                t.point,
                f.low,
                f.high,
                t.low,
                t.high
            )
        })
        .collect();
    let mut missing: Vec<String> = d
        .unavailable
        .iter()
        .map(|u| {
            format!(
                "{}: {} of {} {} paths cannot be expressed ({}).",
                u.mode,
                u.scenarios.len(),
                u.of,
                kind_name(u.kind),
                u.scenarios.join(", ")
            )
        })
        .collect();
    missing.extend(fallback_lines(d));
    let mut sections = vec![
        ("Compute-bound calls", compute_lines(d)),
        ("Raising the floor: gains and losses", floors),
        ("Paths the stable ABI cannot express, and the path taken instead", missing),
        ("Findings: where PyO3 takes a slower path than the stable ABI offers", findings(d)),
    ];
    sections.retain(|(_, lines)| !lines.is_empty());
    if d.channel_costs.is_empty() {
        sections.insert(
            0,
            ("Nothing to compare", vec!["No stable-ABI mode has a ratio to unlimited in this run.".to_string()]),
        );
    }
    sections
}

/// One line per stable-ABI mode: how far its compute-bound ratios lie from 1.0 on every band.
fn compute_lines(d: &Decision) -> Vec<String> {
    let mut by_mode: BTreeMap<Mode, Vec<&ChannelCost>> = BTreeMap::new();
    for c in d.channel_costs.iter().filter(|c| c.channel == Channel::Compute) {
        by_mode.entry(c.mode).or_default().push(c);
    }
    by_mode
        .into_iter()
        .map(|(mode, costs)| {
            let count: usize = costs.iter().map(|c| c.ratios.count).sum();
            let bound = costs.iter().map(|c| c.ratios.bound).fold(0.0, f64::max);
            let measurable: Vec<String> = costs
                .iter()
                .filter(|c| c.ratios.measurable())
                .map(|c| format!("{} {:.2}×", d.bands[c.band].label, c.ratios.median.point))
                .collect();
            format!(
                "{mode}: every one of {count} compute-bound ratios lies within {:.1} % of unlimited; {}.",
                100.0 * bound,
                if measurable.is_empty() {
                    "no band's median differs beyond the noise floor".to_string()
                } else {
                    format!("measurable on {}", measurable.join(", "))
                }
            )
        })
        .collect()
}

/// Each scenario file's finding: stated as a cost with its upstream context where its comparison
/// clears the noise floor, else as checked and costing nothing measurable; with the ratios.
pub fn evidence_lines(ev: &[Evidence]) -> Vec<String> {
    ev.iter().map(evidence_line).collect()
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
        format!(" (the same on the run's other interpreters: {lo:.2}–{hi:.2}×, {n} ratios)")
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
            "Checked, no measurable cost: {} {}: {}, none above 1.0 beyond the noise floor{elsewhere}.{context}",
            f.fact,
            f.comparison,
            list(&rest)
        );
    }
    let none = if rest.is_empty() { String::new() } else { format!("; no measurable cost in {}", list(&rest)) };
    format!("{} Measured: {} {}{none}{elsewhere}.{context}", f.fact, f.comparison, list(&costs))
}

/// Estimates pooled per mode (over the mode's interpreters), kept where `keep` holds.
fn per_mode(
    d: &Decision,
    by_mode: BTreeMap<Mode, Vec<Estimate>>,
    keep: &dyn Fn(&Aggregate) -> bool,
) -> Vec<(Mode, Aggregate)> {
    by_mode
        .into_iter()
        .filter_map(|(m, es)| Some((m, Aggregate::of(&es)?.with_floor(d.noise_floor))))
        .filter(|(_, a)| keep(a))
        .collect()
}

/// `1.33×` or `1.20–1.45×`: the range of the pooled medians.
fn medians(xs: &[(Mode, Aggregate)]) -> String {
    let lo = xs.iter().map(|(_, a)| a.median.point).fold(f64::INFINITY, f64::min);
    let hi = xs.iter().map(|(_, a)| a.median.point).fold(0.0, f64::max);
    if hi - lo < 0.005 {
        format!("{lo:.2}×")
    } else {
        format!("{lo:.2}–{hi:.2}×")
    }
}

fn mode_names(xs: &[(Mode, Aggregate)]) -> String {
    xs.iter().map(|(m, _)| m.name()).collect::<Vec<_>>().join(", ")
}

/// PyO3 paths that cost measurably more than the cheapest path the same build can express, by
/// more than they do in unlimited builds: one line per (PyO3 path, stable path), with the modes
/// where it shows and the range of the per-mode medians.
pub fn findings(d: &Decision) -> Vec<String> {
    type Pooled<'a> =
        BTreeMap<(&'a str, &'a str, &'a str), (BTreeMap<Mode, Vec<Estimate>>, BTreeMap<Mode, Vec<Estimate>>)>;
    let mut pooled: Pooled = BTreeMap::new();
    for x in &d.attribution {
        for p in &x.pyo3 {
            let e = pooled.entry((x.task.as_str(), p.scenario.as_str(), x.stable_path.as_str())).or_default();
            e.0.entry(x.mode).or_default().push(p.over_stable);
            e.1.entry(x.mode).or_default().push(p.share);
        }
    }
    let slower = |a: &Aggregate| a.measurable() && a.median.point > 1.0;
    pooled
        .into_iter()
        .filter_map(|((task, pyo3, stable), (over, share))| {
            let share = per_mode(d, share, &slower);
            let over: Vec<(Mode, Aggregate)> =
                per_mode(d, over, &slower).into_iter().filter(|(m, _)| share.iter().any(|(x, _)| x == m)).collect();
            // The share's range over the same modes the sentence names.
            let share: Vec<(Mode, Aggregate)> =
                share.into_iter().filter(|(m, _)| over.iter().any(|(x, _)| x == m)).collect();
            (!over.is_empty()).then(|| {
                format!(
                    "To {task}, PyO3's path ({pyo3}) costs {} the cheapest path the same build can express ({stable}) \
                     in {}; PyO3's share of the stable-ABI cost (that ratio over the same in unlimited builds) is {} \
                     (medians per mode over its interpreters; every one clears the noise floor).",
                    medians(&over),
                    mode_names(&over),
                    medians(&share)
                )
            })
        })
        .collect()
}

/// One line per (task, path taken, unlimited path): the modes that cannot take the unlimited
/// path, and what the path each takes (timed in it) costs over the unlimited path (timed in unlimited).
fn fallback_lines(d: &Decision) -> Vec<String> {
    let mut pooled: BTreeMap<(&str, &str, &str), BTreeMap<Mode, Vec<Estimate>>> = BTreeMap::new();
    // Only where the mode cannot express the unlimited path: elsewhere a different cheapest path
    // is the noise between two paths it could take alike.
    let missing = |x: &&crate::analysis::attribution::Attribution| {
        d.unavailable.iter().any(|u| u.mode == x.mode && u.scenarios.contains(&x.unlimited_path))
    };
    for x in d.attribution.iter().filter(|x| x.stable_path != x.unlimited_path).filter(missing) {
        pooled
            .entry((x.task.as_str(), x.stable_path.as_str(), x.unlimited_path.as_str()))
            .or_default()
            .entry(x.mode)
            .or_default()
            .push(x.forced);
    }
    pooled
        .into_iter()
        .map(|((task, stable, unlimited), by_mode)| {
            let all = per_mode(d, by_mode, &|_| true);
            let claimed: Vec<_> = all.iter().filter(|(_, a)| a.measurable()).cloned().collect();
            format!(
                "To {task}, {} take {stable} (timed in each) where unlimited takes {unlimited} (timed in unlimited): {}.",
                mode_names(&all),
                if claimed.is_empty() {
                    format!("no difference beyond the noise floor (medians {})", medians(&all))
                } else if claimed.len() == all.len() {
                    medians(&claimed)
                } else {
                    format!("{} in {}; the rest within the noise floor", medians(&claimed), mode_names(&claimed))
                }
            )
        })
        .collect()
}

/// How to read the attribution tables.
pub const SPLIT_NOTE: &str =
    "ABI: the cheapest path the floor can express, timed in its build, over the cheapest unlimited \
    path, timed in unlimited: what the stable ABI forces (ᵛ: the floor takes arguments as METH_VARARGS). PyO3: \
    PyO3's share, its path's overhead over that stable path relative to the same overhead in unlimited builds. For \
    one task, ABI × PyO3 is what that PyO3 path costs its user; each cell is the median of each factor over the \
    channel's tasks and paths, so the two need not multiply to the headline. [95 % interval]; (parentheses): not \
    claimed.";

/// The attribution tables, one per band: a row per channel, a column per stable-ABI mode; a cell
/// reads `ABI 1.08× · PyO3 1.20×`: what the stable ABI forces (cheapest stable path in this mode
/// over the cheapest unlimited path) and what PyO3 adds over that stable path.
pub fn split_tables(d: &Decision) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    d.bands
        .iter()
        .enumerate()
        .filter_map(|(bi, band)| {
            let splits: Vec<_> = d.splits.iter().filter(|s| s.band == bi).collect();
            let mut modes: Vec<Mode> = splits.iter().map(|s| s.mode).collect();
            modes.sort();
            modes.dedup();
            let rows: Vec<Vec<String>> = Channel::ALL
                .into_iter()
                .filter(|c| splits.iter().any(|s| s.channel == *c))
                .map(|channel| {
                    let mut row = vec![channel.label().to_string()];
                    row.extend(modes.iter().map(|&m| {
                        splits.iter().find(|s| s.channel == channel && s.mode == m).map_or("—".into(), |s| {
                            let pyo3 = s.pyo3.as_ref().map_or(String::new(), |p| format!(" · PyO3 {}", interval(p)));
                            format!("ABI {}{}{pyo3}", interval(&s.forced), if s.varargs { "ᵛ" } else { "" })
                        })
                    }));
                    row
                })
                .collect();
            let mut header = vec!["channel".to_string()];
            header.extend(modes.iter().map(|m| m.name()));
            (!rows.is_empty()).then(|| (band.label.clone(), header, rows))
        })
        .collect()
}

/// `1.08× [1.05–1.10]`, in parentheses when the difference is not claimed.
pub fn interval(a: &Aggregate) -> String {
    let text = format!("{:.2}× [{:.2}–{:.2}]", a.median.point, a.median.low, a.median.high);
    if a.measurable() {
        text
    } else {
        format!("({text})")
    }
}

/// `1.45× (1.02–2.91)` or, when no difference is measurable, `(1.02×) (0.95–1.10)`: the
/// median, marked as in the heatmap, and the range of the pooled ratios.
pub fn short(a: &Aggregate) -> String {
    let point = if a.measurable() { format!("{:.2}×", a.median.point) } else { format!("({:.2}×)", a.median.point) };
    format!("{point} range {:.2}–{:.2}", a.min, a.max)
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Chatty => "chatty",
        Kind::Compute => "compute",
    }
}

/// The channel tables, one per band: a row per (channel, layer) measured there, a column per
/// stable-ABI mode offered there. A cell reads as the by-group table's do.
pub fn channel_tables(d: &Decision) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    d.bands
        .iter()
        .enumerate()
        .filter_map(|(bi, band)| {
            let costs: Vec<&ChannelCost> = d.channel_costs.iter().filter(|c| c.band == bi).collect();
            let mut modes: Vec<Mode> = costs.iter().map(|c| c.mode).collect();
            modes.sort();
            modes.dedup();
            let mut rows = Vec::new();
            for channel in Channel::ALL {
                for layer in [Layer::CApi, Layer::Pyo3] {
                    let cells: Vec<String> = modes
                        .iter()
                        .map(|&m| {
                            costs
                                .iter()
                                .find(|c| c.channel == channel && c.layer == layer && c.mode == m)
                                .map_or("—".into(), |c| format!("{} n={}", short(&c.ratios), c.ratios.count))
                        })
                        .collect();
                    if cells.iter().any(|c| c != "—") {
                        let mut row = vec![format!("{} ({})", channel.label(), layer.label())];
                        row.extend(cells);
                        rows.push(row);
                    }
                }
            }
            let mut header = vec!["channel (layer)".to_string()];
            header.extend(modes.iter().map(|m| m.name()));
            (!rows.is_empty()).then(|| (band.label.clone(), header, rows))
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
        None => "Negative controls: none in this run (no scenario declares `same_code_in` for two modes that ran), \
                 so no noise floor beyond the intervals is applied."
            .to_string(),
        Some(w) => format!(
            "Negative controls: {} ratios between builds that run identical code (`same_code_in`); 95 % of their \
             points lie within ±{:.1} % of 1.0 (widest: {} on {}, {} / {} = {:.3}×). No stable-ABI difference \
             inside that noise floor is claimed.",
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
    version-specific (unlimited) build inside the same interpreter, pair by pair, so the ratios below \
    are what the stable ABI costs each kind of call on each interpreter of this machine.";

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
        "{subject}Run {}, {} level, {}: {} interpreter(s) ({}) on {} ({} logical CPUs).",
        r.run.id,
        format!("{:?}", r.run.level).to_lowercase(),
        format!("{:?}", r.run.status).to_lowercase(),
        names.len(),
        names.join(", "),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::{self, decision, est};
    use crate::model::mode::Mode;

    #[test]
    fn sentences_state_a_difference_only_when_the_interval_excludes_one() {
        let text: Vec<String> = summary(&decision()).into_iter().flat_map(|(_, l)| l).collect();
        let line =
            |needle: &str| text.iter().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}: {text:#?}"));
        assert!(line("abi3-py38: every one of 2 compute-bound").contains("no band's median differs"));
        assert!(line("On 3.12, item access (C API): abi3-py38 → abi3-py312 gains: 1.47× → 1.09×").contains("intervals"));
        assert!(line("abi3-py38: 1 of 2 chatty paths").contains("list_macro"));
        assert_eq!(
            line("To sum a list, abi3-py38, abi3-py312 take list_get"),
            "To sum a list, abi3-py38, abi3-py312 take list_get (timed in each) where unlimited takes list_macro (timed in \
             unlimited): 1.38–1.88×."
        );
        // A ratio whose interval straddles 1.0 is never claimed.
        assert_eq!(interval(&Aggregate::of(&[est(1.3, 0.9, 1.7)]).unwrap()), "(1.30× [0.90–1.70])");
        assert_eq!(interval(&Aggregate::of(&[est(0.8, 0.75, 0.85)]).unwrap()), "0.80× [0.75–0.85]");
    }

    #[test]
    fn findings_name_the_pyo3_path_and_the_cheaper_stable_path() {
        let r = testdata::attribution_results();
        let d = Decision::compute(&r, &analyse(&r));
        let f = findings(&d);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with(
                "To sum a list, PyO3's path (list_pyo3) costs 2.00× the cheapest path the same build can express \
                 (list_get) in abi3-py38; PyO3's share of the stable-ABI cost (that ratio over the same in unlimited builds) \
                 is 1.36×"
            ),
            "{f:?}"
        );
        let t = split_tables(&d);
        assert_eq!(
            t[0].2[0][1],
            format!("ABI {}ᵛ · PyO3 {}", interval(&d.splits[0].forced), interval(d.splits[0].pyo3.as_ref().unwrap()))
        );
    }

    #[test]
    fn a_run_without_stable_abi_modes_says_so() {
        let mut r = testdata::results();
        r.cells.retain(|c| c.mode == Mode::Unlimited);
        let summary = summary(&Decision::compute(&r, &analyse(&r)));
        assert_eq!(summary.len(), 1, "{summary:?}");
        assert_eq!(summary[0].0, "Nothing to compare");
    }
}
