//! Negative controls: ratios between builds that run the same machine code for a scenario's timed
//! work — modes a scenario file lists in `same_code_in`, and, in a run of several layout variants
//! (`--layouts`), two variants of one build, which any scenario has (a crate's too). Any distance
//! from 1.0 there is code placement, build or machine noise, not the ABI, so their spread is this
//! run's noise floor: no stable-ABI difference smaller than it is claimed. The spread is the 95th percentile of the controls'
//! distances from 1.0, not the largest: among hundreds of noisy ratios the largest only measures
//! how many there are.

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::stats::{self, seed_of};
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::{At, Results};

/// `candidate / baseline` of one control scenario on one interpreter, paired as mode ratios are.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRatio {
    pub interpreter: String,
    pub scenario: String,
    pub baseline: Mode,
    pub candidate: Mode,
    pub ratio: Estimate,
}

/// The controls of a run and the spread of their points.
#[derive(Debug, Clone, Serialize)]
pub struct NoiseFloor {
    pub ratios: Vec<ControlRatio>,
    /// The 95th percentile of |point − 1| among the controls (0 without controls).
    pub spread: f64,
}

impl NoiseFloor {
    pub fn worst(&self) -> Option<&ControlRatio> {
        self.ratios.iter().max_by(|a, b| (a.ratio.point - 1.0).abs().total_cmp(&(b.ratio.point - 1.0).abs()))
    }
}

pub fn noise_floor(r: &Results) -> NoiseFloor {
    let scale = r.run.sampling.measure.scale();
    let mut jobs = Vec::new();
    for s in r.groups.iter().flat_map(|g| &g.scenarios) {
        let mut modes = s.same_code_in.clone();
        modes.sort();
        for i in &r.interpreters {
            for (k, &baseline) in modes.iter().enumerate() {
                for &candidate in &modes[k + 1..] {
                    jobs.push((i.name.as_str(), s.name.as_str(), baseline, candidate));
                }
            }
        }
    }
    let mut ratios: Vec<ControlRatio> = jobs
        .into_par_iter()
        .filter_map(|(interpreter, scenario, baseline, candidate)| {
            let a = r.cell(interpreter, baseline, scenario)?.values(scale)?;
            let b = r.cell(interpreter, candidate, scenario)?.values(scale)?;
            let pairs = stats::paired_ratios(&a, &b);
            pairs.iter().flatten().any(|p| !p.is_empty()).then(|| ControlRatio {
                interpreter: interpreter.to_string(),
                scenario: scenario.to_string(),
                baseline,
                candidate,
                ratio: stats::median_ci_nested(
                    &pairs,
                    seed_of(&format!("control/{interpreter}/{scenario}/{baseline}/{candidate}")),
                ),
            })
        })
        .collect();
    ratios.extend(layout_controls(r));
    let mut distances: Vec<f64> = ratios.iter().map(|c| (c.ratio.point - 1.0).abs()).collect();
    distances.sort_by(f64::total_cmp);
    let spread = if distances.is_empty() { 0.0 } else { stats::quantile_sorted(&distances, 0.95) };
    NoiseFloor { ratios, spread }
}

/// The second layout variant of each cell against its first, paired by process and round (both
/// are timed in one worker, interleaved): the same code, placed elsewhere.
fn layout_controls(r: &Results) -> Vec<ControlRatio> {
    let scale = r.run.sampling.measure.scale();
    r.cells
        .par_iter()
        .filter_map(|c| {
            let values = c.values(scale)?;
            let mut layouts: Vec<u32> = values.iter().map(|(at, _)| at.layout).collect();
            layouts.sort();
            layouts.dedup();
            let (&first, &second) = (layouts.first()?, layouts.get(1)?);
            let of = |l: u32| -> Vec<(At, f64)> {
                values.iter().filter(|(at, _)| at.layout == l).map(|(at, v)| (At { layout: 0, ..*at }, *v)).collect()
            };
            let pairs = stats::paired_ratios(&of(first), &of(second));
            pairs.iter().flatten().any(|p| !p.is_empty()).then(|| ControlRatio {
                interpreter: c.interpreter.clone(),
                scenario: format!("{} (layout {second} / {first})", c.scenario),
                baseline: c.mode,
                candidate: c.mode,
                ratio: stats::median_ci_nested(&pairs, seed_of(&format!("layout/{}", c.key()))),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testdata::results;

    #[test]
    fn two_layouts_of_one_build_are_a_control_of_every_scenario() {
        let mut r = results();
        assert!(noise_floor(&r).ratios.is_empty(), "no same_code_in, one layout: no control");
        // A second layout of every cell, 4 % slower: the controls say so.
        for c in &mut r.cells {
            let more: Vec<_> = c
                .processes
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.layout = 2;
                    p.values_s.iter_mut().for_each(|v| *v *= 1.04);
                    p
                })
                .collect();
            c.processes.extend(more);
        }
        let floor = noise_floor(&r);
        assert_eq!(floor.ratios.len(), 12, "every measured cell");
        assert!((floor.spread - 0.04).abs() < 0.01, "{}", floor.spread);
        assert!(floor.ratios[0].scenario.ends_with("(layout 2 / 0)"), "{:?}", floor.ratios[0]);
    }
}
