//! The answer a page opens with: what each kind of call costs under each floor, in one line per
//! channel; the headline table (channel × floor); and the wheel plan in words, with the PyO3
//! features, wheel tags and a CI matrix that build it. Every number is the decision's or the plan's.

use crate::analysis::decision::{Decision, UserCost};
use crate::analysis::plan::{Specific, WheelPlan, STATEMENTS};
use crate::model::build::failure_headline;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::scenario::Channel;

/// What the channel lines say, said once before them.
pub const LINES_NOTE: &str =
    "Per kind of call, the extra time a PyO3 user pays under each floor over the version-specific \
    build (the mean over the channel's PyO3 paths), from the cheapest to the dearest interpreter the floor runs on.";

/// `+12 %`, `−3 %`.
fn percent(ratio: f64) -> String {
    let p = 100.0 * (ratio - 1.0);
    if p.abs() < 0.5 {
        "±0 %".into()
    } else if p > 0.0 {
        format!("+{p:.0} %")
    } else {
        format!("−{:.0} %", -p)
    }
}

/// The bands' pooled costs of one channel under one mode, each as a PyO3 user pays it.
fn band_costs(d: &Decision, channel: Channel, mode: Mode) -> Vec<(usize, &UserCost)> {
    (0..d.bands.len()).filter_map(|b| Some((b, d.user_cost(channel, mode, b)?))).collect()
}

/// `+8 % to +45 %` over the bands where the cost is measurable, then the bands where it is not:
/// `+296 % to +302 %, none measurable on 3.12, 3.13`; `no measurable cost` when none is.
fn range(d: &Decision, costs: &[(usize, &UserCost)]) -> String {
    let shown: Vec<f64> = costs.iter().filter(|(_, a)| a.measurable()).map(|(_, a)| a.mean.point).collect();
    let (lo, hi) = (shown.iter().copied().fold(f64::INFINITY, f64::min), shown.iter().copied().fold(0.0, f64::max));
    let quiet: Vec<&str> =
        costs.iter().filter(|(_, a)| !a.measurable()).map(|(b, _)| d.bands[*b].label.as_str()).collect();
    let text = match shown.len() {
        0 => return "no measurable cost".into(),
        _ if percent(lo) == percent(hi) => percent(lo),
        _ => format!("{} to {}", percent(lo), percent(hi)),
    };
    if quiet.is_empty() {
        text
    } else {
        format!("{text} (none measurable on {})", quiet.join(", "))
    }
}

fn floors(d: &Decision) -> Vec<Mode> {
    let mut v: Vec<Mode> = d.channel_costs.iter().map(|c| c.mode).collect();
    v.sort();
    v.dedup();
    v
}

/// One line per channel: each floor's cost over the interpreters it runs on.
pub fn channel_lines(d: &Decision) -> Vec<String> {
    Channel::ALL
        .into_iter()
        .filter_map(|channel| {
            let parts: Vec<String> = floors(d)
                .into_iter()
                .filter_map(|m| {
                    let costs = band_costs(d, channel, m);
                    (!costs.is_empty()).then(|| format!("{} {}", m.name(), range(d, &costs)))
                })
                .collect();
            (!parts.is_empty()).then(|| format!("{}: {}.", capitalised(channel.label()), parts.join(", ")))
        })
        .collect()
}

/// The answer's lines: for a crate of the user's own, first each floor's cost over all its
/// scenarios alike (what the `statements` workload weighs), then one line per channel.
pub fn answer_lines(r: &Results, d: &Decision) -> Vec<String> {
    let mut lines = Vec::new();
    if r.subject.default_workload() == STATEMENTS {
        let mut modes: Vec<Mode> = d.statement_costs.iter().map(|c| c.mode).collect();
        modes.sort();
        modes.dedup();
        let parts: Vec<String> = modes
            .into_iter()
            .map(|m| {
                let costs: Vec<(usize, &UserCost)> =
                    d.statement_costs.iter().filter(|c| c.mode == m).map(|c| (c.band, c)).collect();
                format!("{} {}", m.name(), range(d, &costs))
            })
            .collect();
        if !parts.is_empty() {
            lines.push(format!("All your scenarios alike: {}.", parts.join(", ")));
        }
    }
    lines.extend(channel_lines(d));
    lines
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The headline: a row per channel, a column per floor; a cell is the cost a PyO3 user pays, as its
/// range over the interpreter bands, in parentheses when no band's cost is measurable.
pub fn headline(d: &Decision) -> (Vec<String>, Vec<Vec<String>>) {
    let modes = floors(d);
    let mut header = vec!["kind of call".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let rows = Channel::ALL
        .into_iter()
        .filter(|c| modes.iter().any(|&m| !band_costs(d, *c, m).is_empty()))
        .map(|channel| {
            let mut row = vec![channel.label().to_string()];
            row.extend(modes.iter().map(|&m| {
                let costs = band_costs(d, channel, m);
                let mut points: Vec<f64> = costs.iter().map(|(_, a)| a.mean.point).collect();
                points.sort_by(f64::total_cmp);
                match points.len() {
                    0 => "—".to_string(),
                    n => {
                        // The range over the bands, not a centre: bands can split (refcounting under
                        // abi3-py312: ±0 on 3.12–3.13, +300 % on 3.14–3.15), and no middle value
                        // would be any interpreter's.
                        let (lo, hi) = (percent(points[0]), percent(points[n - 1]));
                        let text = if lo == hi { lo } else { format!("{}…{}", lo.trim_end_matches(" %"), hi) };
                        if costs.iter().any(|(_, a)| a.measurable()) {
                            text
                        } else {
                            format!("({text})")
                        }
                    }
                }
            }));
            row
        })
        .collect();
    (header, rows)
}

/// `cp38-cp38`, `cp313-cp313t`, `cp310-abi3`, `cp315-abi3t`; for a crate of the user's own, its
/// wheels' names: `uuid_utils-1.2.0-cp310-abi3`. `band` matters for version-specific wheels only.
fn tag(r: &Results, d: &Decision, band: usize, mode: Option<Mode>) -> Vec<String> {
    python_tags(r, d, band, mode).iter().map(|t| r.subject.wheel_name(t)).collect()
}

fn python_tags(r: &Results, d: &Decision, band: usize, mode: Option<Mode>) -> Vec<String> {
    match mode.and_then(Mode::floor).zip(mode) {
        Some((v, Mode::Abi3t(_))) => vec![format!("cp{}{}-abi3t", v.0, v.1)],
        Some((v, _)) => vec![format!("cp{}{}-abi3", v.0, v.1)],
        None => {
            let mut tags: Vec<String> = r
                .interpreters
                .iter()
                .filter(|i| d.bands[band].interpreters.contains(&i.name))
                .map(|i| {
                    let t = if i.gil_disabled { "t" } else { "" };
                    format!("cp{0}{1}-cp{0}{1}{t}", i.version.0, i.version.1)
                })
                .collect();
            tags.dedup();
            tags
        }
    }
}

/// The wheel plan in words: a heading, then its items (each wheel and why, what the run could
/// not decide and how to decide it, what was not measured), and the same items in brief for a
/// terminal (the version-specific wheels in one line, the unmeasured interpreters in another).
pub struct PlanWords {
    pub heading: String,
    pub items: Vec<String>,
    pub brief: Vec<String>,
}

/// The plan in words: its wheels, why each version-specific one is there, what the run could not
/// decide and how to decide it, and what was not measured.
pub fn plan_words(r: &Results, d: &Decision, p: &WheelPlan) -> PlanWords {
    let band = |b: usize| d.bands[b].label.as_str();
    let pct = 100.0 * p.threshold;
    let heading = format!(
        "Wheel plan{} for the {} workload within {pct:.0} %: {} wheel(s) per platform.",
        r.subject.krate().map_or(String::new(), |s| format!(" for {}", s.title())),
        p.workload,
        p.wheels()
    );
    let (mut items, mut brief) = (Vec::new(), Vec::new());
    if let Some(line) = stable_line(r, d, p) {
        items.push(line.clone());
        brief.push(line);
    }
    let mut specific = Vec::new();
    for (b, why) in &p.specific {
        let because = match why {
            Specific::BelowFloor => match &p.stable {
                Some((m, _)) => format!("below the {m} wheel's floor"),
                None => "no stable-ABI mode ran there".into(),
            },
            Specific::Over(m, e) => {
                format!("{m} would cost {} [{}…{}] there", percent(e.point), percent(e.low), percent(e.high))
            }
            Specific::Undecided(m, e) => format!(
                "undecided: {m} costs {} [{}…{}] there, straddling {pct:.0} %",
                percent(e.point),
                percent(e.low),
                percent(e.high)
            ),
            Specific::FreeThreaded => "free-threaded: an abi3 wheel does not load there".into(),
        };
        let wheel = format!("{} ({})", band(*b), tag(r, d, *b, None).join(", "));
        items.push(format!(
            "A version-specific wheel for {wheel}: {because}{}.",
            unbuildable(r, d, *b)
                .map_or(String::new(), |why| format!("; but no version-specific build succeeded there: {why}"))
        ));
        specific.push(wheel);
    }
    let rest = caveat_lines(r, d, p);
    items.extend(rest.iter().cloned());
    brief.extend(rest);
    let unmeasured: Vec<String> =
        p.unmeasured.iter().map(|(b, why)| format!("{}: not measured: {why}", band(*b))).collect();
    items.extend(unmeasured.iter().cloned());
    let late = late_lines(d, p);
    items.extend(late.iter().cloned());
    brief.extend(late);
    if !specific.is_empty() {
        brief.push(format!("Version-specific wheels for {} (reasons in report.md).", specific.join(", ")));
    }
    if !unmeasured.is_empty() {
        brief.push(unmeasured.join("; "));
    }
    PlanWords { heading, items, brief }
}

/// The plan's stable-ABI wheel and the interpreters it serves.
fn stable_line(r: &Results, d: &Decision, p: &WheelPlan) -> Option<String> {
    let (mode, served) = p.stable.as_ref()?;
    let worst = p
        .judged
        .iter()
        .filter(|j| j.mode == *mode && served.contains(&j.band))
        .map(|j| j.cost.high)
        .fold(1.0, f64::max);
    let labels: Vec<&str> = served.iter().map(|&b| d.bands[b].label.as_str()).collect();
    let serves = if labels.is_empty() {
        "for the interpreters no version-specific build serves (below)".to_string()
    } else {
        format!("for {}: at most {} there (upper interval bound)", labels.join(", "), percent(worst))
    };
    Some(format!("One {mode} wheel ({}; PyO3 feature `pyo3/{mode}`) {serves}.", tag(r, d, 0, Some(*mode)).join(", ")))
}

/// A manifest that forces abi3, and how to decide what the run left undecided.
fn caveat_lines(r: &Results, d: &Decision, p: &WheelPlan) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(s) = r.subject.krate().filter(|s| !s.unforced.is_empty()) {
        lines.push(format!(
            "{}'s manifest turns on PyO3's abi3 from {} itself: any other wheel of this plan needs that feature out \
             of the manifest (abibench built from a copy without {}).",
            s.name,
            s.forced_floor.map_or(String::new(), |f| f.to_string()),
            s.unforced.join(", ")
        ));
    }
    let mut undecided: Vec<(Mode, usize)> = p.undecided().map(|(b, m, _)| (m, b)).collect();
    undecided.sort();
    for mode in undecided.iter().map(|(m, _)| *m).collect::<std::collections::BTreeSet<_>>() {
        let bands: Vec<&str> =
            undecided.iter().filter(|(m, _)| *m == mode).map(|(_, b)| d.bands[*b].label.as_str()).collect();
        let pythons: Vec<String> =
            bands.iter().map(|b| format!("--python {}", b.split('–').next().unwrap_or(b))).collect();
        // Counting needs bench-ext's region marker: a crate of the user's own has only more time.
        let counts = if r.subject.counts_instructions() {
            ", or `--measure instructions` (counts, immune to noise)"
        } else {
            ""
        };
        let krate = r.subject.crate_flag();
        lines.push(format!(
            "To decide {mode} on {}: `abibench compare{krate} --thorough {} --mode unlimited --mode {mode}` \
             (narrower intervals){counts}.",
            bands.join(", "),
            pythons.join(" ")
        ));
    }
    lines
}

/// Interpreters no version-specific build serves, and channels the workload weighs but the run lacks.
fn late_lines(d: &Decision, p: &WheelPlan) -> Vec<String> {
    let mut lines = Vec::new();
    for (b, why, stable) in &p.unbuildable {
        let served = match stable {
            Some(m) => format!("the {m} wheel loads and runs there, at a cost nothing here can measure (no version-specific build to compare it with)"),
            None => "no wheel of this plan serves it".to_string(),
        };
        lines.push(format!(
            "{}: no version-specific build of this source succeeded ({why}); {served}.",
            d.bands[*b].label
        ));
    }
    if p.judged.iter().any(|j| !j.missing.is_empty()) {
        let mut missing: Vec<&str> = p.judged.iter().flat_map(|j| j.missing.iter().map(|c| c.label())).collect();
        missing.sort();
        missing.dedup();
        lines.push(format!("This run has no ratios for {}: left out of the workload's cost.", missing.join(", ")));
    }
    lines
}

/// Why the unlimited builds of band `band` failed, when all of them did (a PyO3 too old for the
/// interpreter, say): the wheel the plan asks for cannot be built from this source as it is.
fn unbuildable(r: &Results, d: &Decision, band: usize) -> Option<String> {
    let failures: Vec<&str> = d.bands[band]
        .interpreters
        .iter()
        .map(|i| r.builds.iter().find(|b| b.mode == Mode::Unlimited && b.interpreter.as_ref() == Some(i)))
        .map(|b| b.and_then(|b| b.failure()).map(failure_headline))
        .collect::<Option<_>>()?;
    failures.first().map(|f| f.to_string())
}

/// A maturin-action matrix that builds the plan's wheels on Linux.
pub fn ci_snippet(r: &Results, d: &Decision, p: &WheelPlan) -> String {
    let mut entries: Vec<String> = p
        .specific
        .iter()
        .filter(|(b, _)| !p.unmeasured.iter().any(|(u, _)| u == b))
        .flat_map(|(b, _)| {
            r.interpreters.iter().filter(|i| d.bands[*b].interpreters.contains(&i.name)).map(|i| {
                let t = if i.gil_disabled { "t" } else { "" };
                format!(
                    "          - {{ python: \"{0}.{1}{t}\", args: \"--release -i python{0}.{1}{t}\" }}",
                    i.version.0, i.version.1
                )
            })
        })
        .collect();
    entries.dedup();
    if let Some((mode, _)) = &p.stable {
        let floor = mode.floor().map(|v| format!("{}.{}", v.0, v.1)).unwrap_or_default();
        entries.push(format!(
            "          - {{ python: \"{floor}\", args: \"--release -i python{floor} --features pyo3/{mode}\" }}"
        ));
    }
    format!(
        "jobs:\n  wheels:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        include:\n{}\n    steps:\n      \
         - uses: actions/checkout@v4\n      - uses: actions/setup-python@v5\n        with:\n          python-version: \
         ${{{{ matrix.python }}}}\n      - uses: PyO3/maturin-action@v1\n        with:\n          manylinux: auto\n          \
         args: ${{{{ matrix.args }}}}\n",
        entries.join("\n")
    )
}

/// Two runs' plan decisions side by side, band by band, and whether they agree.
pub fn plans_side_by_side(ids: [&str; 2], a: &[(String, String)], b: &[(String, String)]) -> String {
    let mut bands: Vec<&str> = a.iter().chain(b).map(|(band, _)| band.as_str()).collect();
    bands.dedup();
    bands.sort_by_key(|x| a.iter().chain(b).position(|(y, _)| y == x));
    bands.dedup();
    let wheel = |side: &[(String, String)], band: &str| {
        side.iter().find(|(x, _)| x == band).map_or("—".to_string(), |(_, w)| w.clone())
    };
    let width = bands.iter().map(|b| b.chars().count()).max().unwrap_or(0).max(6);
    let mut out = format!("{:width$}  {:24}  {:24}\n", "python", ids[0], ids[1]);
    let mut differ = 0;
    for band in &bands {
        let (x, y) = (wheel(a, band), wheel(b, band));
        differ += (x != y) as usize;
        out.push_str(&format!("{band:width$}  {x:24}  {y:24}{}\n", if x == y { "" } else { "  differs" }));
    }
    out.push_str(&if differ == 0 {
        "The two plans are identical.\n".to_string()
    } else {
        format!("The plans differ on {differ} of {} interpreter band(s).\n", bands.len())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::plan::{plan, Goal, Workload};
    use crate::analysis::testdata::{decision, results};

    #[test]
    fn the_answer_names_each_channel_floor_and_wheel() {
        let (r, d) = (results(), decision());
        let lines = channel_lines(&d);
        assert!(lines.iter().any(|l| l == "Item access: abi3-py38 +47 % to +52 %, abi3-py312 +9 %."), "{lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("Compute: abi3-py38 no measurable cost")), "{lines:#?}");
        let (header, rows) = headline(&d);
        assert_eq!(header, ["kind of call", "abi3-py38", "abi3-py312"]);
        assert_eq!(rows[0], ["item access", "+47…+52 %", "+9 %"]);
        let p = plan(&r, &d, &Goal { workload: Workload::parse("item-access=1").unwrap(), threshold: 0.15 });
        let words = plan_words(&r, &d, &p);
        let text = words.items.join("\n");
        assert!(text.contains("One abi3-py312 wheel (cp312-abi3; PyO3 feature `pyo3/abi3-py312`) for 3.12"), "{text}");
        assert!(
            text.contains("version-specific wheel for 3.8 (cp38-cp38): below the abi3-py312 wheel's floor"),
            "{text}"
        );
        let abi3t = Mode::Abi3t(crate::model::version::PyVersion(3, 15));
        assert_eq!(
            (tag(&r, &d, 0, Some(abi3t)), tag(&r, &d, 1, None)),
            (vec!["cp315-abi3t".into()], vec!["cp312-cp312".into()])
        );
        assert!(words.heading.contains("2 wheel(s)"), "{}", words.heading);
        assert_eq!(words.brief, [
            "One abi3-py312 wheel (cp312-abi3; PyO3 feature `pyo3/abi3-py312`) for 3.12: at most +12 % there (upper interval bound).",
            "Version-specific wheels for 3.8 (cp38-cp38) (reasons in report.md).",
        ], "{:#?}", words.brief);
        let same = plans_side_by_side(["A", "B"], &p.decisions(&d), &p.decisions(&d));
        assert!(same.ends_with("The two plans are identical.\n") && same.contains("3.12    abi3-py312"), "{same}");
        let other = [("3.8".to_string(), "version-specific".to_string()), ("3.12".into(), "undecided".into())];
        assert!(plans_side_by_side(["A", "B"], &p.decisions(&d), &other).contains("differ on 1 of 2"));
        let yaml = ci_snippet(&r, &d, &p);
        assert!(
            yaml.contains("args: \"--release -i python3.8\"") && yaml.contains("--features pyo3/abi3-py312"),
            "{yaml}"
        );
    }
}
