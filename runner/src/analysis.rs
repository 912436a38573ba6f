//! From raw values to the figures every output shows: per-cell medians with intervals, each
//! stable-ABI mode's paired ratio to `unlimited`, and the in-build comparisons of each group.
//! Cells are independent, so they are analysed in parallel (rayon).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::modes::Mode;
use crate::results::{Cell, CellStatus, Results};
use crate::stats::{self, Estimate, Summary};

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Nanoseconds per operation, for every cell that has values.
    pub summaries: BTreeMap<String, Summary>,
    /// Each stable-ABI mode against `unlimited` on the same interpreter, paired round by round.
    pub mode_ratios: Vec<Ratio>,
    /// The groups' declared comparisons (`candidate / baseline`) within each build.
    pub comparisons: Vec<ComparisonRatio>,
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

pub fn key_string(interpreter: &str, mode: Mode, scenario: &str) -> String {
    format!("{interpreter}/{mode}/{scenario}")
}

/// A seed per cell that does not depend on iteration order, so parallel analysis is reproducible.
pub fn seed_of(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A cell's per-operation values keyed by (process, round), if it was measured.
pub fn ok_values(c: &Cell) -> Option<Vec<((usize, usize), f64)>> {
    (c.status == CellStatus::Ok && !c.processes.is_empty()).then(|| c.per_op_ns())
}

pub fn analyse(r: &Results) -> Analysis {
    let summaries = r
        .cells
        .par_iter()
        .filter_map(|c| {
            let k = key_string(&c.interpreter, c.mode, &c.scenario);
            let xs: Vec<f64> = ok_values(c)?.into_iter().map(|(_, v)| v).collect();
            let seed = seed_of(&k);
            Some((k, stats::summarize(&xs, seed)))
        })
        .collect();

    let mode_ratios = r
        .cells
        .par_iter()
        .filter(|c| c.mode != Mode::Unlimited)
        .filter_map(|c| {
            let base = ok_values(r.cell(&c.interpreter, Mode::Unlimited, &c.scenario)?)?;
            let ratios = stats::paired_ratios(&base, &ok_values(c)?);
            (!ratios.is_empty()).then(|| Ratio {
                interpreter: c.interpreter.clone(),
                scenario: c.scenario.clone(),
                mode: c.mode,
                ratio: stats::median_ci(&ratios, seed_of(&key_string(&c.interpreter, c.mode, &c.scenario))),
                pairs: ratios.len(),
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
            let values = |s: &str| -> Option<Vec<f64>> {
                Some(ok_values(r.cell(interp, mode, s)?)?.into_iter().map(|(_, v)| v).collect())
            };
            let (a, b) = (values(&c.baseline)?, values(&c.candidate)?);
            Some(ComparisonRatio {
                group: g.name.clone(),
                label: c.label.clone(),
                interpreter: interp.clone(),
                mode,
                ratio: stats::unpaired_ratio(&a, &b, seed_of(&format!("{interp}/{mode}/{}", c.label))),
            })
        })
        .collect();

    Analysis { summaries, mode_ratios, comparisons }
}

impl Analysis {
    pub fn summary(&self, interpreter: &str, mode: Mode, scenario: &str) -> Option<&Summary> {
        self.summaries.get(&key_string(interpreter, mode, scenario))
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
