//! Trends across the run history: per scenario, each cell's median in every recorded run, and
//! where the gate fired.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::analysis::gate::Verdict;
use crate::analysis::stats;
use crate::model::history::{Entry, Index};
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;

#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position of the run in `Trends::runs`.
    pub run: usize,
    /// Median per operation.
    pub value: f64,
    /// The gate fired on this cell in this run.
    pub fired: Option<Verdict>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub interpreter: String,
    pub mode: Mode,
    pub points: Vec<Point>,
}

/// One measure's runs, and per scenario one series per (interpreter, mode) across them.
pub struct Trends {
    pub measure: Measure,
    pub runs: Vec<Entry>,
    pub scenarios: BTreeMap<String, Vec<Series>>,
}

/// Reads every run of `measure` once and collects each cell's median per operation.
pub fn trends(dir: &Path, index: &Index, measure: Measure) -> Result<Trends> {
    let runs: Vec<Entry> = index.runs.iter().filter(|e| e.measure == measure).cloned().collect();
    let mut by_cell: BTreeMap<(String, String, Mode), Vec<Point>> = BTreeMap::new();
    for (pos, e) in runs.iter().enumerate() {
        let r = Results::read(&dir.join(&e.file))?;
        for c in &r.cells {
            let Some(v) = c.values(r.run.sampling.measure.scale()) else { continue };
            let key = c.key();
            let fired = e.gate.as_ref().and_then(|g| {
                if g.regressed.contains(&key) {
                    Some(Verdict::Regressed)
                } else if g.improved.contains(&key) {
                    Some(Verdict::Improved)
                } else {
                    None
                }
            });
            let value = stats::median(&v.into_iter().map(|(_, x)| x).collect::<Vec<_>>());
            by_cell.entry((c.scenario.clone(), c.interpreter.clone(), c.mode)).or_default().push(Point {
                run: pos,
                value,
                fired,
            });
        }
    }
    let mut scenarios: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    for ((scenario, interpreter, mode), points) in by_cell {
        scenarios.entry(scenario).or_default().push(Series { interpreter, mode, points });
    }
    Ok(Trends { measure, runs, scenarios })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gate::{judge, Thresholds};
    use crate::export::trend;
    use crate::model::history::add;
    use crate::model::results::fixture;

    #[test]
    fn runs_accumulate_with_the_gates_firings_and_form_series() {
        let dir = tempfile::tempdir().unwrap();
        let cell = |v: f64| vec![("3.13.0", Mode::Unlimited, "s", vec![v, v * 1.001, v * 0.999])];
        let mut runs = Vec::new();
        for (k, v) in [10.0, 10.0, 20.0].into_iter().enumerate() {
            let mut r = fixture::run(&format!("2026112{k}T000000Z"), Measure::WallTime, &cell(v));
            r.run.started_at = format!("2026-11-2{k}T00:00:00Z");
            runs.push(r);
        }
        let t = Thresholds { min_effect: 0.05, instr_threshold: 0.005 };
        // Recorded out of order, the last one twice (the second time without a verdict).
        add(dir.path(), &runs[1], Some(judge(&runs[0], &runs[1], t).unwrap().record())).unwrap();
        add(dir.path(), &runs[0], None).unwrap();
        add(dir.path(), &runs[2], Some(judge(&runs[0], &runs[2], t).unwrap().record())).unwrap();
        add(dir.path(), &runs[2], None).unwrap();

        let index = Index::load(dir.path()).unwrap();
        let ids: Vec<&str> = index.runs.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["20261120T000000Z", "20261121T000000Z", "20261122T000000Z"]);
        assert_eq!(index.runs[2].gate.as_ref().unwrap().regressed, ["3.13.0/unlimited/s"]);
        assert_eq!(index.runs[2].git_revision.as_deref(), Some("abc123"));

        let tr = trends(dir.path(), &index, Measure::WallTime).unwrap();
        let s = &tr.scenarios["s"][0];
        let fired: Vec<Option<Verdict>> = s.points.iter().map(|p| p.fired).collect();
        assert_eq!(fired, [None, None, Some(Verdict::Regressed)]);
        assert!((s.points[2].value - 20.0).abs() < 1e-6, "{s:?}");
        let svg = trend::svg("s", &tr, &tr.scenarios["s"]).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("3.13.0 unlimited"), "{svg}");
    }
}
