//! The table of `abibench reproduce`: how far two runs' stable-ABI ratios agree, worst cells first.

use std::fmt::Write;

use crate::analysis::reproduce::{Agreement, Claim};
use crate::export::format::format_ratio;
use crate::export::grid::new_table;
use crate::export::measures::{COUNTS_HIGHER_WHY, TIME_HIGHER_WHY};
use crate::model::sampling::Measure;

/// Where instruction counts and wall time disagree, by group, and what each direction means.
fn measures_note(a_measure: Measure, ag: &Agreement) -> String {
    let (time, counts) = if a_measure == Measure::WallTime { ("A", "B") } else { ("B", "A") };
    let mut out = format!(
        "Wall time ({time}) against instruction counts ({counts}), by scenario group (a count is a point, so \
         \"overlap\" means the count's ratio lies inside the time's interval):\n"
    );
    for (group, n, disjoint, a_farther) in ag.by_group() {
        let time_farther = if a_measure == Measure::WallTime { a_farther } else { disjoint - a_farther };
        let _ = writeln!(
            out,
            "  {group}: {disjoint} of {n} disagree; in {time_farther} time shows the larger cost ({TIME_HIGHER_WHY}), \
             in {} the counts do ({COUNTS_HIGHER_WHY}).",
            disjoint - time_farther
        );
    }
    out
}

fn claim(c: Claim) -> &'static str {
    match c {
        Claim::Slower => "slower",
        Claim::None => "no difference",
        Claim::Faster => "faster",
    }
}

/// The summary lines, the provenance differences, and the `worst` cells whose intervals are
/// farthest apart.
pub fn render(
    [(a_id, a_measure), (b_id, b_measure)]: [(&String, Measure); 2],
    ag: &Agreement,
    differences: &[String],
    worst: usize,
    ascii: bool,
) -> String {
    let n = ag.pairs.len();
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run {a_id} (A, {}) against run {b_id} (B, {}): {n} stable-ABI ratios in both.",
        a_measure.name(),
        b_measure.name()
    );
    let _ = writeln!(
        out,
        "Intervals overlap: {} of {n} ({:.1} %). Same claim (slower / faster / no difference): {} of {n} ({:.1} %).",
        ag.overlapping(),
        pct(ag.overlapping()),
        ag.same_claims(),
        pct(ag.same_claims())
    );
    if ag.only_a + ag.only_b > 0 {
        let _ = writeln!(out, "Not in both: {} only in A, {} only in B.", ag.only_a, ag.only_b);
    }
    if differences.is_empty() {
        let _ = writeln!(out, "Provenance: the same binaries, toolchain, layouts and kind of processor.");
    }
    for d in differences {
        let _ = writeln!(out, "Provenance: {d}.");
    }
    if a_measure != b_measure {
        out.push_str(&measures_note(a_measure, ag));
    }
    let shown: Vec<_> = ag.pairs.iter().filter(|p| !p.overlap()).take(worst).collect();
    if !shown.is_empty() {
        let mut t =
            new_table(["scenario", "python", "mode", "A", "B", "gap", "claims"].map(String::from).to_vec(), ascii);
        for p in shown {
            t.add_row(vec![
                p.scenario.clone(),
                p.interpreter.clone(),
                p.mode.name(),
                format_ratio(&p.a),
                format_ratio(&p.b),
                format!("{:.1} %", 100.0 * p.gap()),
                format!("{} / {}", claim(Claim::of(&p.a)), claim(Claim::of(&p.b))),
            ]);
        }
        let _ = writeln!(out, "Cells whose intervals are farthest apart:\n{t}");
    }
    out
}
