//! The table of `abibench reproduce`: how far two runs' stable-ABI ratios agree, worst cells first.

use std::fmt::Write;

use crate::analysis::reproduce::{Agreement, Claim};
use crate::export::format::format_ratio;
use crate::export::table::new_table;

fn claim(c: Claim) -> &'static str {
    match c {
        Claim::Slower => "slower",
        Claim::None => "no difference",
        Claim::Faster => "faster",
    }
}

/// The summary lines, the provenance differences, and the `worst` cells whose intervals are
/// farthest apart.
pub fn render(a_id: &str, b_id: &str, ag: &Agreement, differences: &[String], worst: usize, ascii: bool) -> String {
    let n = ag.pairs.len();
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(out, "Run {a_id} (A) against run {b_id} (B): {n} stable-ABI ratios in both.");
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
