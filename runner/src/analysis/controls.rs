//! Negative controls: ratios between builds that run the same machine code for a scenario's timed
//! work (`same_code_in` in the scenario files). Any distance from 1.0 there is code placement,
//! build or machine noise, not the ABI, so their spread is this run's noise floor: no stable-ABI
//! difference smaller than it is claimed. The spread is the 95th percentile of the controls'
//! distances from 1.0, not the largest: among hundreds of noisy ratios the largest only measures
//! how many there are.

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::stats::{self, seed_of};
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::Results;

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
    let ratios: Vec<ControlRatio> = jobs
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
    let mut distances: Vec<f64> = ratios.iter().map(|c| (c.ratio.point - 1.0).abs()).collect();
    distances.sort_by(f64::total_cmp);
    let spread = if distances.is_empty() { 0.0 } else { stats::quantile_sorted(&distances, 0.95) };
    NoiseFloor { ratios, spread }
}
