//! The decision in words: the summary's sentences, the by-group and native-floor tables, and the
//! lines both page formats open with. Every number comes from `analysis`; only the phrasing is here.

use crate::analysis::cells::Analysis;
use crate::analysis::decision::{ordered_interpreters, stable_modes, Aggregate, ChannelCost, Decision};
use crate::export::format::format_value;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::scenario::{Channel, Kind, Layer};

/// The summary's sentences, section by section. Each number is a field of the decision.
pub fn summary(d: &Decision) -> Vec<(&'static str, Vec<String>)> {
    let band = |i: usize| d.bands[i].label.as_str();
    let kind_lines = |kind: Kind, phrase: &dyn Fn(&Aggregate) -> String| -> Vec<String> {
        d.costs
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| format!("{} on {}: {}", c.mode, band(c.band), phrase(&c.ratios)))
            .collect()
    };
    let mut sections = vec![
        ("Chatty calls (per-call overhead dominates)", kind_lines(Kind::Chatty, &cost_phrase)),
        ("Compute-bound calls", kind_lines(Kind::Compute, &compute_phrase)),
    ];
    let floors = d
        .recoveries
        .iter()
        .map(|x| {
            let head = format!("Raising the floor from {} to {} on {}", x.from, x.to, band(x.band));
            let (f, t) = (&x.from_ratios, &x.to_ratios);
            match x.recovered {
                Some(z) => format!(
                    "{head} recovers {:.0} % of the chatty excess (median {:.2}× → {:.2}× over the same {} ratios){}.",
                    100.0 * z,
                    f.median.point,
                    t.median.point,
                    f.count,
                    if t.measurable() {
                        String::new()
                    } else {
                        format!("; {} itself: no difference measurable (interval includes 1.0)", x.to)
                    }
                ),
                None => format!(
                    "{head}: nothing measurable to recover ({}'s chatty median {:.2}×, interval {:.2}–{:.2}× includes 1.0).",
                    x.from, f.median.point, f.median.low, f.median.high
                ),
            }
        })
        .collect();
    sections.push(("Raising the floor", floors));
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
    missing.extend(d.fallbacks.iter().map(|f| {
        format!(
            "Fallback for a missing path, measured within unlimited builds, {}: {}",
            f.label,
            cost_phrase(&f.ratios)
        )
    }));
    sections.push(("Paths the stable ABI cannot express", missing));
    sections.retain(|(_, lines)| !lines.is_empty());
    if d.costs.is_empty() {
        sections.insert(
            0,
            ("Nothing to compare", vec!["No stable-ABI mode has a ratio to unlimited in this run.".to_string()]),
        );
    }
    sections
}

/// The by-group table: a header, then a row per (group, stable-ABI mode) with a cell per band.
/// A cell reads `1.45×` when the median's interval excludes 1.0, `(1.02×)` when it does not.
pub fn group_table(d: &Decision, r: &Results) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["group".to_string(), "kind".to_string(), "mode".to_string()];
    header.extend(d.bands.iter().map(|b| b.label.clone()));
    let mut rows = Vec::new();
    for g in &r.groups {
        for mode in stable_modes(r) {
            let cells: Vec<String> = (0..d.bands.len())
                .map(|bi| {
                    d.group_costs
                        .iter()
                        .find(|c| c.mode == mode && c.band == bi && c.group.as_deref() == Some(&g.name))
                        .map_or("—".into(), |c| short(&c.ratios))
                })
                .collect();
            if cells.iter().any(|c| c != "—") {
                let mut row = vec![g.title.clone(), kind_name(g.kind).to_string(), mode.name()];
                row.extend(cells);
                rows.push(row);
            }
        }
    }
    (header, rows)
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

/// `1.45× (median of 14 ratios, 95 % interval 1.30–1.60×, range 0.98–2.91×)`.
fn ratio_phrase(a: &Aggregate, of: &str) -> String {
    format!(
        "{:.2}× (median of {} {of}, interval {:.2}–{:.2}×, range {:.2}–{:.2}×)",
        a.median.point, a.count, a.median.low, a.median.high, a.min, a.max
    )
}

fn counts(a: &Aggregate) -> String {
    format!("{} of {} measurably slower, {} measurably faster", a.slower, a.count, a.faster)
}

fn cost_phrase(a: &Aggregate) -> String {
    if a.measurable() {
        let verb = if a.median.point > 1.0 { "costs" } else { "is faster at" };
        format!("{verb} {}; {}.", ratio_phrase(a, "ratios"), counts(a))
    } else if a.within_floor() {
        format!(
            "no difference beyond the noise floor (median {:.2}× of {} ratios, interval {:.2}–{:.2}×, which reaches into \
             the ±{:.1} % that builds of identical code show in this run); {}.",
            a.median.point,
            a.count,
            a.median.low,
            a.median.high,
            100.0 * a.floor,
            counts(a)
        )
    } else {
        format!(
            "no difference measurable (interval {:.2}–{:.2}× includes 1.0; median {:.2}× of {} ratios, range {:.2}–{:.2}×); {}.",
            a.median.low, a.median.high, a.median.point, a.count, a.min, a.max, counts(a)
        )
    }
}

fn compute_phrase(a: &Aggregate) -> String {
    let diff = if a.measurable() {
        format!("the median differs measurably: {}", ratio_phrase(a, "ratios"))
    } else if a.within_floor() {
        format!("no difference beyond the noise floor of ±{:.1} % (median {:.2}×)", 100.0 * a.floor, a.median.point)
    } else {
        format!("no difference measurable (median {:.2}×, interval includes 1.0)", a.median.point)
    };
    format!("within {:.1} % of unlimited (every interval of {} ratios); {diff}.", 100.0 * a.bound, a.count)
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
    format!(
        "Run {}, {} level, {}: {} interpreter(s) ({}) on {} ({} logical CPUs).",
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
/// (scenario with a floor, interpreter) with the floor and, per mode, `+excess (×ratio)`. Empty
/// when the run has no floors.
pub fn native_table(r: &Results, a: &Analysis) -> (Vec<String>, Vec<Vec<String>>) {
    let Some(native) = &r.native else { return (Vec::new(), Vec::new()) };
    let modes = r.modes();
    let mut header = vec!["scenario".to_string(), "python".into(), "native floor".into()];
    header.extend(modes.iter().map(|m| m.name()));
    let mut rows = Vec::new();
    for s in r.groups.iter().flat_map(|g| &g.scenarios) {
        let Some(floor) = native.floors.get(&s.name) else { continue };
        for i in ordered_interpreters(r) {
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
        assert!(line("abi3-py38 on 3.8: costs 1.5").contains("1 of 1 measurably slower"));
        assert!(line("abi3-py38 on 3.12: within").contains("no difference measurable"));
        assert!(line("to abi3-py312 on 3.12 recovers").contains("% of the chatty excess"));
        assert!(line("abi3-py38: 1 of 2 chatty paths").contains("list_macro"));
        // A ratio whose interval straddles 1.0 is never called a cost.
        let unclear = Aggregate::of(&[est(1.3, 0.9, 1.7)]).unwrap();
        assert!(cost_phrase(&unclear).starts_with("no difference measurable"), "{}", cost_phrase(&unclear));
        let faster = Aggregate::of(&[est(0.8, 0.75, 0.85)]).unwrap();
        assert!(cost_phrase(&faster).starts_with("is faster at 0.80×"), "{}", cost_phrase(&faster));
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
