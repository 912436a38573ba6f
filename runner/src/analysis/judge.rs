//! Each stable-ABI floor judged on each Python for a workload: the call's cost (`pricing`) on every
//! interpreter of that Python on every machine, against the threshold set in advance. Nothing is
//! pooled: the interpreter whose interval reaches furthest decides, and is named.

use rayon::prelude::*;

use crate::analysis::fleet::Fleet;
use crate::analysis::pricing::{price, CallCost, Unpriced};
use crate::analysis::shapes::Workload;
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::version::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Every interpreter's upper bound lies within the threshold.
    Within,
    /// Some interpreter's lower bound lies above it.
    Over,
    /// Neither: an interval straddles the threshold.
    Undecided,
    /// The floor cannot express an operation of the workload here (and no path replaces it).
    NotAvailable,
}

/// One interpreter's cost, on one machine of the fleet.
#[derive(Debug, Clone)]
pub struct Measured {
    pub machine: usize,
    pub cost: CallCost,
}

/// One floor on one Python.
#[derive(Debug, Clone)]
pub struct Judged {
    pub target: Target,
    pub mode: Mode,
    pub fit: Fit,
    pub measured: Vec<Measured>,
    /// Interpreters where the workload has an operation this floor cannot express.
    pub unpriced: Vec<(usize, Unpriced)>,
    /// The figure that decides (index into `measured`): the highest upper bound, or for `Over`
    /// the highest lower bound.
    pub decisive: Option<usize>,
    /// The verdict turns when the threshold moves by the noise floor: a knife edge.
    pub near: bool,
    /// Machines of the fleet that, alone, would judge this differently.
    pub cpu_dependent: bool,
}

impl Judged {
    pub fn decisive(&self) -> Option<&Measured> {
        self.decisive.map(|k| &self.measured[k])
    }

    /// The highest upper bound over every interpreter (infinite where nothing was priced).
    pub fn worst_high(&self) -> f64 {
        match self.measured.iter().map(|m| m.cost.relative.high).reduce(f64::max) {
            Some(high) if self.unpriced.is_empty() => high,
            _ => f64::INFINITY,
        }
    }
}

pub fn target_of(i: &Interpreter) -> Target {
    Target { version: i.version, free_threaded: i.gil_disabled }
}

/// Whether `mode` ran (has a measured cell) on interpreter `interp`.
pub fn ran(r: &Results, interp: &str, mode: Mode) -> bool {
    r.cells.iter().any(|c| c.interpreter == interp && c.mode == mode && c.status == CellStatus::Ok)
}

/// Every (Python, floor) the fleet measured, with the workload's cost on each interpreter (or
/// why it has none), not yet judged: the costs do not depend on the threshold, so a sweep of
/// thresholds prices them once.
pub fn gather(fleet: &Fleet, workload: &Workload) -> Vec<Judged> {
    let units: Vec<(usize, &str, Target, Mode)> = fleet
        .runs
        .iter()
        .enumerate()
        .flat_map(|(k, run)| {
            let r = run.results;
            r.interpreters.iter().flat_map(move |i| {
                let modes = r.modes().into_iter().filter(move |m| *m != Mode::Unlimited && ran(r, &i.name, *m));
                modes.map(move |m| (k, i.name.as_str(), target_of(i), m))
            })
        })
        .collect();
    let priced: Vec<_> = units
        .into_par_iter()
        .map(|(k, interp, target, mode)| {
            let run = &fleet.runs[k];
            let shapes = workload.shapes(&run.ops);
            (k, target, mode, price(run.results, &run.ops, &run.costs, &shapes, interp, mode))
        })
        .collect();
    let mut out: Vec<Judged> = Vec::new();
    for (k, target, mode, cost) in priced {
        let j = match out.iter().position(|j| j.target == target && j.mode == mode) {
            Some(p) => &mut out[p],
            None => {
                out.push(Judged {
                    target,
                    mode,
                    fit: Fit::NotAvailable,
                    measured: Vec::new(),
                    unpriced: Vec::new(),
                    decisive: None,
                    near: false,
                    cpu_dependent: false,
                });
                out.last_mut().expect("just pushed")
            }
        };
        match cost {
            Ok(cost) => j.measured.push(Measured { machine: k, cost }),
            Err(u) => j.unpriced.push((k, u)),
        }
    }
    out.sort_by_key(|j| (j.target, j.mode));
    out
}

/// The gathered figures judged against `threshold` (a fraction), knife edges marked by the noise floor.
pub fn judge(gathered: &[Judged], threshold: f64, noise_floor: f64, machines: usize) -> Vec<Judged> {
    gathered
        .iter()
        .map(|j| {
            let mut j = j.clone();
            settle(&mut j, threshold, noise_floor, machines);
            j
        })
        .collect()
}

/// The verdict from the figures gathered, and how firm it is.
fn settle(j: &mut Judged, threshold: f64, noise_floor: f64, machines: usize) {
    let verdict = |measured: &[&Measured], t: f64| -> Fit {
        if !j.unpriced.is_empty() || measured.is_empty() {
            Fit::NotAvailable
        } else if measured.iter().all(|m| m.cost.relative.high <= t) {
            Fit::Within
        } else if measured.iter().any(|m| m.cost.relative.low > t) {
            Fit::Over
        } else {
            Fit::Undecided
        }
    };
    let all: Vec<&Measured> = j.measured.iter().collect();
    j.fit = verdict(&all, threshold);
    j.near = j.fit == Fit::Undecided
        || (j.fit != Fit::NotAvailable
            && (verdict(&all, threshold - noise_floor) != j.fit || verdict(&all, threshold + noise_floor) != j.fit));
    let by = |f: fn(&Measured) -> f64| {
        (0..j.measured.len()).max_by(|&a, &b| f(&j.measured[a]).total_cmp(&f(&j.measured[b])))
    };
    j.decisive = match j.fit {
        Fit::Over => by(|m| m.cost.relative.low),
        Fit::NotAvailable => None,
        _ => by(|m| m.cost.relative.high),
    };
    let per_machine: Vec<Fit> = (0..machines)
        .map(|k| j.measured.iter().filter(|m| m.machine == k).collect::<Vec<_>>())
        .filter(|ms| !ms.is_empty())
        .map(|ms| verdict(&ms, threshold))
        .collect();
    j.cpu_dependent = per_machine.windows(2).any(|w| w[0] != w[1]);
}
