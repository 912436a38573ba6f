//! When a scenario has been measured enough (sequential sampling, `Sampling::until`): each of
//! its ratios to the first cell (`unlimited`; A in an A/A test), paired and bootstrapped exactly
//! as the report's ratios are (`analysis::cells`), is precise, or clear of every threshold it
//! feeds.
//!
//! Stopping by a rule biases the intervals a run reports if the rule looks at where a ratio lies
//! relative to what the report claims. Precision looks only at an interval's width. "Clear"
//! looks at where it lies, but only at a distance from 1 no A/A pair comes near (the smallest
//! threshold), so a ratio of identical code is never stopped for looking different: it goes on
//! until precise or the cap. `abibench calibrate` checks the false-difference rate at this design.

use crate::analysis::stats::{median_ci_nested, paired_ratios, seed_of};
use crate::measure::measurement::Settle;
use crate::model::estimate::Estimate;
use std::collections::BTreeMap;

use crate::model::results::{key_string, Cell, CellStatus, Results};
use crate::model::sampling::{Sampling, Stop, Until};

/// The rule of `Until`, on the cells of one scenario of one interpreter.
pub struct Ratios {
    pub until: Until,
    /// Raw values to the unit the report uses (the measure's scale).
    pub scale: f64,
}

impl Settle for Ratios {
    fn settled(&self, cells: &[&Cell]) -> Option<Stop> {
        let (base, others) = cells.split_first()?;
        // Without its reference no ratio says when to stop: the scenario runs to the cap.
        let base_values = base.values(self.scale)?;
        let mut stop = Stop::Precise;
        for c in others.iter().filter(|c| c.status == CellStatus::Ok) {
            let ratios = paired_ratios(&base_values, &c.values(self.scale)?);
            let ratio = median_ci_nested(&ratios, seed_of(&key_string(&c.interpreter, c.mode, &c.scenario)));
            stop = stop.max(self.judge(&ratio)?);
        }
        Some(stop)
    }
}

/// How a run in stages ended: per interpreter and scenario, why its measuring stopped, and
/// the values its cells got.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopping {
    /// (why, how many scenario measurements — a scenario on an interpreter — stopped so).
    pub reasons: Vec<(Stop, usize)>,
    /// Values per measured cell: the smallest, the median and the largest.
    pub values: (usize, usize, usize),
}

/// How `r`'s measuring stopped; `None` for a fixed design (or a run measured before stages).
pub fn stopping(r: &Results) -> Option<Stopping> {
    r.run.sampling.until.as_ref()?;
    let mut by_scenario: BTreeMap<(&str, &str), Stop> = BTreeMap::new();
    let mut values: Vec<usize> = Vec::new();
    for c in r.cells.iter().filter(|c| c.status == CellStatus::Ok) {
        if let Some(stop) = c.stop {
            by_scenario.insert((&c.interpreter, &c.scenario), stop);
        }
        values.push(c.processes.iter().map(|p| p.values_s.len()).sum());
    }
    values.sort_unstable();
    let (&low, &high) = (values.first()?, values.last()?);
    let reasons = Stop::ALL.map(|s| (s, by_scenario.values().filter(|&&x| x == s).count()));
    Some(Stopping { reasons: reasons.to_vec(), values: (low, values[values.len() / 2], high) })
}

impl Ratios {
    /// The rule of `sampling` (which, in a fixed design, is never asked).
    pub fn of(sampling: &Sampling) -> Ratios {
        let until = sampling.until.clone().unwrap_or(Until {
            min_processes: sampling.processes,
            half_width: 0.0,
            thresholds: Vec::new(),
        });
        Ratios { until, scale: sampling.measure.scale() }
    }

    /// Whether one ratio is settled, and how (`Precise` before `Clear`).
    fn judge(&self, r: &Estimate) -> Option<Stop> {
        if r.rel_half_width() <= self.until.half_width {
            return Some(Stop::Precise);
        }
        let smallest = self.until.thresholds.iter().copied().fold(f64::INFINITY, f64::min);
        let near_one = r.low < 1.0 + smallest && r.high > 1.0 / (1.0 + smallest);
        let on_a_threshold = self.until.thresholds.iter().any(|t| r.contains(1.0 + t));
        (smallest.is_finite() && !near_one && !on_a_threshold).then_some(Stop::Clear)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Ratios {
        Ratios { until: Until { min_processes: 2, half_width: 0.01, thresholds: vec![0.05, 0.10, 0.25] }, scale: 1.0 }
    }

    fn est(point: f64, low: f64, high: f64) -> Estimate {
        Estimate { point, low, high }
    }

    #[test]
    fn a_narrow_interval_is_precise_wherever_it_lies() {
        assert_eq!(rule().judge(&est(1.0, 0.995, 1.005)), Some(Stop::Precise));
        assert_eq!(rule().judge(&est(1.05, 1.045, 1.055)), Some(Stop::Precise));
    }

    #[test]
    fn a_wide_interval_is_clear_only_away_from_one_and_from_every_threshold() {
        // Between 10 % and 25 %, and above 5 %: no plan at these thresholds can change.
        assert_eq!(rule().judge(&est(1.17, 1.14, 1.20)), Some(Stop::Clear));
        assert_eq!(rule().judge(&est(0.80, 0.78, 0.82)), Some(Stop::Clear));
        // Straddles 10 %.
        assert_eq!(rule().judge(&est(1.10, 1.08, 1.12)), None);
        // Looks different from 1 but lies within the smallest threshold of it: an A/A pair could.
        assert_eq!(rule().judge(&est(1.03, 1.015, 1.045)), None);
        assert_eq!(rule().judge(&est(0.97, 0.955, 0.985)), None);
    }

    #[test]
    fn a_run_in_stages_tells_why_each_scenario_stopped_and_its_values() {
        use crate::analysis::testdata::results;
        let mut r = results();
        assert_eq!(stopping(&r), None, "a fixed design");
        r.run.sampling.until = Some(rule().until);
        let scenarios: Vec<(String, String)> =
            r.cells.iter().map(|c| (c.interpreter.clone(), c.scenario.clone())).collect();
        let first = scenarios[0].clone();
        for c in &mut r.cells {
            c.stop = Some(if (c.interpreter.clone(), c.scenario.clone()) == first { Stop::Cap } else { Stop::Precise });
        }
        let mut distinct = scenarios.clone();
        distinct.sort();
        distinct.dedup();
        let s = stopping(&r).unwrap();
        assert_eq!(s.reasons, [(Stop::Precise, distinct.len() - 1), (Stop::Clear, 0), (Stop::Cap, 1)]);
        let per_cell = r.cells[0].processes.iter().map(|p| p.values_s.len()).sum::<usize>();
        assert!(s.values.0 <= per_cell && per_cell <= s.values.2);
    }

    #[test]
    fn a_scenario_is_as_settled_as_its_least_settled_ratio() {
        use crate::model::mode::Mode;
        use crate::model::results::{Cell, ProcessSamples};
        use crate::model::version::PyVersion;
        let cell = |mode: Mode, values: Vec<f64>| {
            let mut c = Cell::pending("3.12.1", mode, "s", 1);
            for process in 0..2 {
                c.add_process(ProcessSamples {
                    process,
                    layout: 0,
                    loops: 1,
                    overhead_per_loop_s: 0.0,
                    warmups_s: vec![],
                    values_s: values.clone(),
                });
            }
            c
        };
        let base = cell(Mode::Unlimited, vec![100.0, 101.0, 99.0, 100.0]);
        let same = cell(Mode::Abi3(PyVersion(3, 8)), vec![100.0, 101.0, 99.0, 100.0]);
        let far = cell(Mode::Abi3(PyVersion(3, 9)), vec![150.0, 170.0, 130.0, 160.0]);
        let noisy = cell(Mode::Abi3(PyVersion(3, 10)), vec![95.0, 110.0, 99.0, 104.0]);
        assert_eq!(rule().settled(&[&base, &same]), Some(Stop::Precise));
        assert_eq!(rule().settled(&[&base, &same, &far]), Some(Stop::Clear));
        assert_eq!(rule().settled(&[&base, &same, &far, &noisy]), None);
        // Nothing to compare with: measured to the cap.
        let mut failed = base.clone();
        failed.fail(CellStatus::Crashed, "boom".into());
        failed.processes.clear();
        assert_eq!(rule().settled(&[&failed, &far]), None);
    }
}
