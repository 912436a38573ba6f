//! From raw values to the figures every output shows: per-cell medians with intervals, each
//! stable-ABI mode's paired ratio to `unlimited`, the in-build comparisons of each group, and,
//! when the results have native floors, each cell's cost above its floor.
//! Cells are independent, so they are analysed in parallel (rayon).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::controls::{noise_floor, NoiseFloor};
use crate::analysis::floors::{above_floor, AboveFloor};
use crate::analysis::pairing;
use crate::analysis::stats::{self, seed_of, Summary};
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::{key_string, Results};

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Per operation (ns, or instructions), for every cell that has values.
    pub summaries: BTreeMap<String, Summary>,
    /// Each stable-ABI mode against `unlimited` on the same interpreter, paired round by round.
    pub mode_ratios: Vec<Ratio>,
    /// The groups' declared comparisons (`candidate / baseline`) within each build.
    pub comparisons: Vec<ComparisonRatio>,
    /// Each cell's cost above its scenario's native floor (keyed as `summaries`); empty without
    /// floors.
    pub above_native: BTreeMap<String, AboveFloor>,
    /// The negative controls and the noise floor they set.
    pub noise: NoiseFloor,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub interpreter: String,
    pub scenario: String,
    pub mode: Mode,
    pub ratio: Estimate,
    pub pairs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRatio {
    pub group: String,
    pub label: String,
    pub interpreter: String,
    pub mode: Mode,
    pub ratio: Estimate,
}

pub fn analyse(r: &Results) -> Analysis {
    let scale = r.run.sampling.measure.scale();
    let summaries: BTreeMap<String, Summary> = r
        .cells
        .par_iter()
        .filter_map(|c| {
            let k = c.key();
            let xs: Vec<f64> = c.values(scale)?.into_iter().map(|(_, v)| v).collect();
            let seed = seed_of(&k);
            Some((k, stats::summarize(&xs, seed)))
        })
        .collect();

    let mode_ratios = r
        .cells
        .par_iter()
        .filter(|c| c.mode != Mode::Unlimited)
        .filter_map(|c| {
            let base = r.cell(&c.interpreter, Mode::Unlimited, &c.scenario)?.values(scale)?;
            let ratios = stats::paired_ratios(&base, &c.values(scale)?);
            let pairs: usize = ratios.iter().flatten().map(Vec::len).sum();
            (pairs > 0).then(|| Ratio {
                interpreter: c.interpreter.clone(),
                scenario: c.scenario.clone(),
                mode: c.mode,
                ratio: stats::median_ci_nested(&ratios, seed_of(&key_string(&c.interpreter, c.mode, &c.scenario))),
                pairs,
            })
        })
        .collect();

    let interp_modes: Vec<(String, Mode)> = {
        let mut v: Vec<_> = r.cells.iter().map(|c| (c.interpreter.clone(), c.mode)).collect();
        v.sort();
        v.dedup();
        v
    };
    let comparisons = r
        .groups
        .iter()
        .flat_map(|g| g.comparisons.iter().map(move |c| (g, c)))
        .flat_map(|(g, c)| interp_modes.iter().map(move |(i, m)| (g, c, i, *m)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .filter_map(|(g, c, interp, mode)| {
            let seed = seed_of(&format!("{interp}/{mode}/{}", c.label));
            Some(ComparisonRatio {
                group: g.name.clone(),
                label: c.label.clone(),
                interpreter: interp.clone(),
                mode,
                ratio: pairing::between(r, interp, (mode, &c.baseline), (mode, &c.candidate), seed)?,
            })
        })
        .collect();

    let above_native = r.native.as_ref().map_or_else(BTreeMap::new, |n| {
        r.cells
            .iter()
            .filter_map(|c| {
                let k = c.key();
                let time = summaries.get(&k)?.median;
                let floor = n.floors.get(&c.scenario)?;
                Some((k, above_floor(&time, &floor.per_op_ns)))
            })
            .collect()
    });

    Analysis { summaries, mode_ratios, comparisons, above_native, noise: noise_floor(r) }
}

impl Analysis {
    pub fn summary(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&Summary> {
        self.summaries.get(&key_string(interpreter, mode, scenario))
    }

    /// What this cell costs above its native floor: the FFI cost (time/op − floor/op, and ×ratio).
    pub fn above_native(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&AboveFloor> {
        self.above_native.get(&key_string(interpreter, mode, scenario))
    }

    pub fn mode_ratio(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&Ratio> {
        self.mode_ratios.iter().find(|x| x.interpreter == interpreter && x.mode == mode && x.scenario == scenario)
    }

    pub fn comparison(&self, group: &str, label: &str, interpreter: &str, mode: Mode) -> Option<&ComparisonRatio> {
        self.comparisons
            .iter()
            .find(|x| x.group == group && x.label == label && x.interpreter == interpreter && x.mode == mode)
    }
}
