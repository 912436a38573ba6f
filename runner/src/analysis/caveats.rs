//! What about a run limits how far its figures can be trusted: noise, level, status, build flags,
//! failed cells and audits. One judgement of the run, wherever it is read.

use std::collections::BTreeMap;

use crate::analysis::cells::Analysis;
use crate::model::results::{CellStatus, Results, RunStatus};
use crate::model::sampling::{Level, Measure};
use crate::model::system::Verdict;
use crate::setup::build_flags;

/// What about this run limits how far its figures can be trusted.
pub fn run_caveats(r: &Results, a: &Analysis) -> Vec<String> {
    let mut caveats = build_flags::caveats(&r.interpreters);
    let s = &r.run.sampling;
    if r.run.level == Level::Quick {
        caveats.push(format!("Quick run: {}; ratios are indicative only.", s.design()));
    }
    match r.run.status {
        RunStatus::Complete => {}
        RunStatus::Interrupted => caveats.push("The run was interrupted: cells it did not reach are missing.".into()),
        RunStatus::Running => {
            caveats.push("The run never finished (killed?): cells it did not reach are missing.".into())
        }
        RunStatus::Abandoned => {
            caveats.push("The run was abandoned (its abibench was killed): cells it did not reach are missing.".into())
        }
    }
    // The terminal's noise lines, word for word: one judgement of the run, wherever it is read.
    caveats.extend(noise_warnings(r, a).into_iter().map(|w| format!("Noise: {w}.")));
    if a.noise.spread > 0.02 {
        caveats.push(format!(
            "Negative controls (builds of identical code) differ by up to {:.1} % (95th percentile): placement or \
             machine noise of that size sits in every ratio of this run; differences inside it are not claimed.",
            100.0 * a.noise.spread
        ));
    }
    if r.source.git_dirty {
        caveats.push("The source tree had uncommitted changes when the run started.".into());
    }
    // Grouped by status and the reason's first line (an exception's type and message, a signal).
    let mut failed: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for c in r.cells.iter().filter(|c| c.status.is_final_failure() && c.status != CellStatus::NotAvailable) {
        let first = c.reason.as_deref().and_then(|r| r.lines().next()).unwrap_or_default();
        failed.entry((c.status.label(), first)).or_default().push(c.key());
    }
    if !failed.is_empty() {
        const SHOWN: usize = 5;
        let mut list: Vec<String> = failed
            .iter()
            .take(SHOWN)
            .map(|((status, why), keys)| {
                let more = if keys.len() > 1 { format!(" and {} more", keys.len() - 1) } else { String::new() };
                format!("{status}: {why} ({}{more})", keys[0])
            })
            .collect();
        if failed.len() > SHOWN {
            list.push(format!("{} other reasons", failed.len() - SHOWN));
        }
        caveats.push(format!("Cells without values: {}; the full table gives each reason.", list.join("; ")));
    }
    for b in &r.builds {
        if let Some(audit) = b.audit.as_ref().filter(|a| !a.passed()) {
            caveats.push(format!(
                "The {} build imports symbols outside the Stable ABI {}.{}: {} not stable, {} too new.",
                b.mode,
                audit.floor.0,
                audit.floor.1,
                audit.not_stable.len(),
                audit.too_new.len()
            ));
        }
    }
    caveats
}

/// A cell is called noisy when its interquartile range exceeds this share of its median.
pub const NOISY_IQR: f64 = 0.10;

/// Why this run's figures may be less precise than they look, each with the evidence.
pub fn noise_warnings(r: &Results, a: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    // The machine's own check before measuring (`model::system`): the load average at either
    // end would count abibench's builds, or its worker, as other work.
    if let Some(load) = r.host.system.iter().find(|f| f.check == "load" && f.verdict == Verdict::Skews) {
        out.push(format!(
            "the machine was busy when measuring began ({}); other work steals time from single values, widening \
             intervals",
            load.state
        ));
    }
    let mut noisy: Vec<(&String, f64)> =
        a.summaries.iter().filter(|(_, s)| s.rel_iqr > NOISY_IQR).map(|(k, s)| (k, s.rel_iqr)).collect();
    noisy.sort_by(|x, y| y.1.total_cmp(&x.1));
    if !noisy.is_empty() {
        let shown: Vec<String> = noisy.iter().take(5).map(|(k, q)| format!("{k} ({:.0} %)", q * 100.0)).collect();
        out.push(format!(
            "{} of {} cells have an interquartile range above {:.0} % of their median; noisiest: {}",
            noisy.len(),
            a.summaries.len(),
            NOISY_IQR * 100.0,
            shown.join(", ")
        ));
    }
    let s = &r.run.sampling;
    let values_per_cell = s.values * s.min_processes();
    if s.measure == Measure::WallTime && values_per_cell < 10 {
        out.push(format!(
            "only {values_per_cell} values per cell: intervals are rough; use the default level or --thorough"
        ));
    }
    let outliers: usize = a.summaries.values().map(|s| s.outliers).sum();
    let values: usize = a.summaries.values().map(|s| s.values).sum();
    if outliers > 0 {
        out.push(format!("{outliers} of {values} values lie outside Tukey's fences (kept: medians resist them)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::results;
    use crate::model::system::Readings;

    #[test]
    fn the_machine_is_called_busy_from_its_check_before_measuring_not_the_load_average() {
        let mut r = results();
        // Our own builds raised the load average; a second before measuring, other work was idle.
        r.host.load_average_at_start = Some([3.4, 1.0, 0.5]);
        r.host.system = Readings { cpus: 2, load_1min: Some(3.4), busy: Some(0.1), ..Readings::default() }.judge();
        let a = analyse(&r);
        assert!(!noise_warnings(&r, &a).iter().any(|w| w.contains("busy")), "{:?}", noise_warnings(&r, &a));
        r.host.system = Readings { cpus: 2, load_1min: Some(0.3), busy: Some(1.7), ..Readings::default() }.judge();
        let busy: Vec<String> = noise_warnings(&r, &a).into_iter().filter(|w| w.contains("busy")).collect();
        assert_eq!(busy.len(), 1);
        assert!(busy[0].contains("1.7 of 2 CPUs"), "{}", busy[0]);
    }
}
