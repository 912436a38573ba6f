//! From raw values to the figures every output shows: per-cell medians with intervals, each
//! stable-ABI mode's paired ratio to `unlimited`, the in-build comparisons of each group, and,
//! when the results have native floors, each cell's cost above its floor.
//! Cells are independent, so they are analysed in parallel (rayon).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::measure::Measure;
use crate::modes::Mode;
use crate::native::{self, AboveFloor};
use crate::results::{Cell, CellStatus, Results};
use crate::stats::{self, Estimate, Summary};

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

/// A cell's per-operation values (times `scale`, see `Measure::scale`) keyed by (process, round),
/// if it was measured.
pub fn ok_values(c: &Cell, scale: f64) -> Option<Vec<((usize, usize), f64)>> {
    (c.status == CellStatus::Ok && !c.processes.is_empty()).then(|| c.per_op(scale))
}

pub fn analyse(r: &Results) -> Analysis {
    let scale = r.run.sampling.measure.scale();
    let summaries: BTreeMap<String, Summary> = r
        .cells
        .par_iter()
        .filter_map(|c| {
            let k = key_string(&c.interpreter, c.mode, &c.scenario);
            let xs: Vec<f64> = ok_values(c, scale)?.into_iter().map(|(_, v)| v).collect();
            let seed = seed_of(&k);
            Some((k, stats::summarize(&xs, seed)))
        })
        .collect();

    let mode_ratios = r
        .cells
        .par_iter()
        .filter(|c| c.mode != Mode::Unlimited)
        .filter_map(|c| {
            let base = ok_values(r.cell(&c.interpreter, Mode::Unlimited, &c.scenario)?, scale)?;
            let ratios = stats::paired_ratios(&base, &ok_values(c, scale)?);
            let pairs: usize = ratios.iter().map(Vec::len).sum();
            (pairs > 0).then(|| Ratio {
                interpreter: c.interpreter.clone(),
                scenario: c.scenario.clone(),
                mode: c.mode,
                ratio: stats::median_ci_grouped(&ratios, seed_of(&key_string(&c.interpreter, c.mode, &c.scenario))),
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
            let values = |s: &str| -> Option<Vec<f64>> {
                Some(ok_values(r.cell(interp, mode, s)?, scale)?.into_iter().map(|(_, v)| v).collect())
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

    let above_native = r.native.as_ref().map_or_else(BTreeMap::new, |n| {
        r.cells
            .iter()
            .filter_map(|c| {
                let k = key_string(&c.interpreter, c.mode, &c.scenario);
                let time = summaries.get(&k)?.median;
                let floor = n.floors.get(&c.scenario)?;
                Some((k, native::above_floor(&time, &floor.per_op_ns)))
            })
            .collect()
    });

    Analysis { summaries, mode_ratios, comparisons, above_native }
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

/// A cell is called noisy when its interquartile range exceeds this share of its median.
pub const NOISY_IQR: f64 = 0.10;

/// Why this run's figures may be less precise than they look, each with the evidence.
pub fn noise_warnings(r: &Results, a: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    let cores = r.host.logical_cpus as f64;
    let busy = |l: Option<[f64; 3]>| l.filter(|l| l[0] > 0.5 * cores).map(|l| l[0]);
    if let Some(load) = busy(r.host.load_average_at_start).or(busy(r.run.load_average_at_end)) {
        out.push(format!(
            "the machine was busy: 1-minute load average {load:.1} on {} cores (start {}, end {}); \
             other work steals time from single values, widening intervals",
            r.host.logical_cpus,
            r.host.load_average_at_start.map_or("?".into(), |l| format!("{:.1}", l[0])),
            r.run.load_average_at_end.map_or("?".into(), |l| format!("{:.1}", l[0])),
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
    let values_per_cell = r.run.sampling.values * r.run.sampling.processes;
    if r.run.sampling.measure == Measure::WallTime && values_per_cell < 10 {
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
