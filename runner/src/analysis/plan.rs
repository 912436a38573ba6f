//! The wheel plan: for a declared workload (weights per cost channel), each stable-ABI floor's
//! cost on each interpreter band, judged against a threshold set in advance, and the fewest
//! wheels whose cost stays within it: at most one abi3 wheel from some floor up, and a
//! version-specific wheel for every interpreter it does not serve well enough.

use std::fmt;

use crate::analysis::decision::{Band, Decision};
use crate::model::estimate::{median, Estimate};
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::scenario::Channel;

/// A named workload: its name, what crate it describes, and its weights.
pub type Profile = (&'static str, &'static str, &'static [(Channel, f64)]);

/// The named workloads: the share of a call's time (in a version-specific build) each channel
/// takes in that kind of crate; what is left is work inside the call (`compute`), which the stable
/// ABI does not touch. Rough by nature: a user who knows better gives weights of their own.
pub const PROFILES: &[Profile] = &[
    (
        "balanced",
        "a bit of everything",
        &[
            (Channel::CallingConvention, 0.2),
            (Channel::CallOut, 0.15),
            (Channel::ItemAccess, 0.15),
            (Channel::Refcount, 0.05),
            (Channel::HeaderRead, 0.05),
            (Channel::StringBuffer, 0.15),
            (Channel::Compute, 0.25),
        ],
    ),
    (
        "chatty-args",
        "many small calls into Rust that take and return Python objects",
        &[
            (Channel::CallingConvention, 0.7),
            (Channel::StringBuffer, 0.15),
            (Channel::Refcount, 0.05),
            (Channel::Compute, 0.1),
        ],
    ),
    (
        "list-heavy",
        "walking and building lists and tuples item by item",
        &[
            (Channel::ItemAccess, 0.6),
            (Channel::Refcount, 0.1),
            (Channel::CallingConvention, 0.1),
            (Channel::Compute, 0.2),
        ],
    ),
    (
        "callbacks",
        "Rust calling Python callables in a loop",
        &[
            (Channel::CallOut, 0.7),
            (Channel::Refcount, 0.05),
            (Channel::CallingConvention, 0.05),
            (Channel::Compute, 0.2),
        ],
    ),
    (
        "strings",
        "reading str, bytes and buffers",
        &[(Channel::StringBuffer, 0.7), (Channel::CallingConvention, 0.2), (Channel::Compute, 0.1)],
    ),
    (
        "compute",
        "few calls, each doing real work in Rust",
        &[(Channel::Compute, 0.95), (Channel::CallingConvention, 0.05)],
    ),
];

/// Weights per channel, summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub name: String,
    pub weights: Vec<(Channel, f64)>,
    /// `statements`: every scenario of the run weighs alike, whatever its channel (the default
    /// for a crate of your own, whose scenarios are the calls its users make).
    pub statements: bool,
}

/// The workload name that weighs each scenario alike.
pub const STATEMENTS: &str = "statements";

impl Workload {
    /// A profile's name, or weights per channel: `call-out=2,item-access=1`.
    pub fn parse(s: &str) -> Result<Workload, String> {
        if s == STATEMENTS {
            return Ok(Workload { name: s.into(), weights: Vec::new(), statements: true });
        }
        if let Some((name, _, w)) = PROFILES.iter().find(|(n, _, _)| *n == s) {
            return Ok(Workload::new(name, w.to_vec()));
        }
        if !s.contains('=') {
            let names: Vec<&str> = PROFILES.iter().map(|p| p.0).collect();
            return Err(format!(
                "unknown workload '{s}': one of {}, {STATEMENTS}, or weights like call-out=2,item-access=1",
                names.join(", ")
            ));
        }
        let mut weights = Vec::new();
        for part in s.split(',') {
            let (c, w) = part.split_once('=').ok_or_else(|| format!("'{part}' is not channel=weight"))?;
            let channel = Channel::ALL.into_iter().find(|x| x.key() == c.trim()).ok_or_else(|| {
                let keys: Vec<&str> = Channel::ALL.iter().map(|x| x.key()).collect();
                format!("unknown channel '{c}' in '{part}': one of {}", keys.join(", "))
            })?;
            let w: f64 = w.trim().parse().map_err(|_| format!("weight '{w}' of {c} is not a number"))?;
            if !(w.is_finite() && w >= 0.0) {
                return Err(format!("weight of {c} must be zero or more, not {w}"));
            }
            weights.push((channel, w));
        }
        if weights.iter().all(|(_, w)| *w == 0.0) {
            return Err(format!("workload '{s}' gives every channel weight 0"));
        }
        Ok(Workload::new(s, weights))
    }

    fn new(name: &str, weights: Vec<(Channel, f64)>) -> Workload {
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        Workload {
            name: name.to_string(),
            weights: weights.into_iter().map(|(c, w)| (c, w / total)).collect(),
            statements: false,
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.statements {
            return write!(f, "{} (every scenario of the run alike)", self.name);
        }
        let parts: Vec<String> =
            self.weights.iter().map(|(c, w)| format!("{} {:.0} %", c.label(), 100.0 * w)).collect();
        write!(f, "{} ({})", self.name, parts.join(", "))
    }
}

/// What a user decides against, set before looking: their workload and the cost they accept.
#[derive(Debug, Clone)]
pub struct Goal {
    pub workload: Workload,
    /// A fraction: 0.05 accepts 5 %.
    pub threshold: f64,
}

impl Default for Goal {
    fn default() -> Goal {
        Goal { workload: Workload::parse("balanced").expect("a built-in profile"), threshold: 0.05 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The whole interval lies within 1 + threshold.
    Within,
    /// The whole interval lies above it.
    Over,
    /// The interval straddles the threshold: this run cannot decide.
    Undecided,
}

/// One floor on one band, for the workload.
#[derive(Debug, Clone)]
pub struct Judged {
    pub band: usize,
    pub mode: Mode,
    /// Weighted mean of the channels' costs to a PyO3 user (`decision::UserCost`; point and bounds alike).
    pub cost: Estimate,
    pub fit: Fit,
    /// Channels of the workload this mode and band have no ratio for (left out of `cost`).
    pub missing: Vec<Channel>,
}

/// Why a band gets a version-specific wheel.
#[derive(Debug, Clone, PartialEq)]
pub enum Specific {
    /// Below the abi3 wheel's floor, or no stable-ABI mode ran there at all.
    BelowFloor,
    /// This floor (the plan's abi3 wheel, or without one the band's cheapest) costs more than the
    /// threshold there.
    Over(Mode, Estimate),
    /// The run cannot tell whether this floor stays within the threshold there.
    Undecided(Mode, Estimate),
    /// Free-threaded: an abi3 wheel does not load there.
    FreeThreaded,
}

#[derive(Debug, Clone)]
pub struct WheelPlan {
    pub threshold: f64,
    pub workload: Workload,
    pub judged: Vec<Judged>,
    /// The abi3 (or abi3t) wheel, if any, and the bands it serves.
    pub stable: Option<(Mode, Vec<usize>)>,
    pub specific: Vec<(usize, Specific)>,
    /// Bands with no measured cell at all, and why (3.13t when no build loads there).
    pub unmeasured: Vec<(usize, String)>,
    /// Bands where stable-ABI builds ran but no version-specific build could be made (a PyO3 too
    /// old for the interpreter): why, and the plan's abi3 wheel if it loads there (its cost there
    /// is unknown: there is nothing to compare it with).
    pub unbuildable: Vec<(usize, String, Option<Mode>)>,
}

impl WheelPlan {
    pub fn wheels(&self) -> usize {
        self.stable.is_some() as usize + self.specific.len()
    }

    pub fn undecided(&self) -> impl Iterator<Item = (usize, Mode, &Estimate)> {
        self.specific.iter().filter_map(|(b, s)| match s {
            Specific::Undecided(m, e) => Some((*b, *m, e)),
            _ => None,
        })
    }
}

impl WheelPlan {
    /// The plan's decisions without its numbers: per band (by label), the wheel that serves it
    /// (`abi3-py310`, `version-specific`), `undecided` or `not measured`. Two runs of one
    /// configuration should agree on these.
    pub fn decisions(&self, d: &Decision) -> Vec<(String, String)> {
        let mut out: Vec<(usize, String)> = Vec::new();
        if let Some((mode, served)) = &self.stable {
            out.extend(served.iter().map(|b| (*b, mode.name())));
        }
        out.extend(self.specific.iter().map(|(b, s)| {
            (*b, if matches!(s, Specific::Undecided(..)) { "undecided" } else { "version-specific" }.to_string())
        }));
        out.extend(self.unmeasured.iter().map(|(b, _)| (*b, "not measured".to_string())));
        out.extend(self.unbuildable.iter().map(|(b, _, m)| {
            (*b, m.map_or("no wheel (no version-specific build)".to_string(), |m| format!("{m} (cost unknown)")))
        }));
        out.sort();
        out.into_iter().map(|(b, w)| (d.bands[b].label.clone(), w)).collect()
    }
}

pub fn judge(d: &Decision, workload: &Workload, threshold: f64) -> Vec<Judged> {
    let mut out = Vec::new();
    for (bi, _) in d.bands.iter().enumerate() {
        let mut modes: Vec<Mode> = d.channel_costs.iter().filter(|c| c.band == bi).map(|c| c.mode).collect();
        modes.dedup();
        if workload.statements {
            for c in d.statement_costs.iter().filter(|c| c.band == bi) {
                out.push(Judged {
                    band: bi,
                    mode: c.mode,
                    cost: c.mean,
                    fit: fit(&c.mean, threshold),
                    missing: Vec::new(),
                });
            }
            continue;
        }
        for mode in modes {
            let (mut sum, mut weight, mut missing) = (Estimate { point: 0.0, low: 0.0, high: 0.0 }, 0.0, Vec::new());
            for &(channel, w) in &workload.weights {
                match d.user_cost(channel, mode, bi) {
                    Some(a) => {
                        sum = Estimate {
                            point: sum.point + w * a.mean.point,
                            low: sum.low + w * a.mean.low,
                            high: sum.high + w * a.mean.high,
                        };
                        weight += w;
                    }
                    None if w > 0.0 => missing.push(channel),
                    None => {}
                }
            }
            if weight == 0.0 {
                continue;
            }
            let cost = Estimate { point: sum.point / weight, low: sum.low / weight, high: sum.high / weight };
            out.push(Judged { band: bi, mode, cost, fit: fit(&cost, threshold), missing });
        }
    }
    out
}

fn fit(cost: &Estimate, threshold: f64) -> Fit {
    if cost.high <= 1.0 + threshold {
        Fit::Within
    } else if cost.low > 1.0 + threshold {
        Fit::Over
    } else {
        Fit::Undecided
    }
}

/// The fewest wheels within `threshold` (a fraction: 0.05 for 5 %). On a tie, an abi3 wheel (it
/// also serves Pythons newer than this run's); between floors that serve as many, the one whose
/// worst upper bound on the bands it serves is lowest by more than the noise floor, else the lower.
pub fn plan(r: &Results, d: &Decision, goal: &Goal) -> WheelPlan {
    let (workload, threshold) = (&goal.workload, goal.threshold);
    let judged = judge(d, workload, threshold);
    let free_threaded = |b: &Band| r.interpreters.iter().any(|i| b.interpreters.contains(&i.name) && i.gil_disabled);
    let unmeasured: Vec<(usize, String)> = d
        .bands
        .iter()
        .enumerate()
        .filter(|(bi, _)| !judged.iter().any(|j| j.band == *bi))
        .filter_map(|(bi, b)| {
            let cells = r.cells.iter().filter(|c| b.interpreters.contains(&c.interpreter));
            if cells.clone().any(|c| c.status == CellStatus::Ok) {
                return None; // measured, but no stable-ABI mode ran there: a version-specific wheel
            }
            let why = cells.filter_map(|c| c.reason.clone()).next().unwrap_or_else(|| "nothing was run".into());
            Some((bi, why.lines().next().unwrap_or_default().to_string()))
        })
        .collect();
    // Every unlimited cell of the band failed to build, while some stable-ABI cell ran.
    let unbuilt: Vec<(usize, String)> = d
        .bands
        .iter()
        .enumerate()
        .filter(|(bi, _)| !unmeasured.iter().any(|(u, _)| u == bi))
        .filter_map(|(bi, b)| {
            let unlimited: Vec<_> = r
                .cells
                .iter()
                .filter(|c| b.interpreters.contains(&c.interpreter) && c.mode == Mode::Unlimited)
                .collect();
            let failed = !unlimited.is_empty() && unlimited.iter().all(|c| c.status == CellStatus::BuildFailed);
            let why = unlimited.first()?.reason.as_deref().unwrap_or_default();
            failed.then(|| (bi, why.lines().next().unwrap_or_default().to_string()))
        })
        .collect();
    // A stable wheel that runs on a band without a version-specific build is that band's only wheel.
    let runs_on = |m: Mode, b: usize| {
        r.cells
            .iter()
            .any(|c| d.bands[b].interpreters.contains(&c.interpreter) && c.mode == m && c.status == CellStatus::Ok)
    };
    let covers = |m: Mode| unbuilt.iter().filter(|(b, _)| runs_on(m, *b)).count();
    // Where there is no unlimited build, floors can still be set against each other: each
    // scenario's median time in `m` over the fastest floor's, averaged (1.0: as fast as any).
    let blind = |m: Mode| {
        let median_of = |interp: &str, scenario: &str, mode: Mode| {
            let c = r.cell(interp, mode, scenario).filter(|c| c.status == CellStatus::Ok)?;
            Some(median(&c.per_op(1.0).into_iter().map(|(_, v)| v).collect::<Vec<_>>()))
        };
        let relative: Vec<f64> = unbuilt
            .iter()
            .flat_map(|(b, _)| d.bands[*b].interpreters.iter())
            .flat_map(|i| r.groups.iter().flat_map(|g| &g.scenarios).map(move |s| (i, &s.name)))
            .filter_map(|(i, s)| {
                let best = r.modes().into_iter().filter_map(|x| median_of(i, s, x)).fold(f64::INFINITY, f64::min);
                Some(median_of(i, s, m)? / best)
            })
            .collect();
        if relative.is_empty() {
            f64::INFINITY
        } else {
            relative.iter().sum::<f64>() / relative.len() as f64
        }
    };
    let bands: Vec<usize> = (0..d.bands.len())
        .filter(|b| !unmeasured.iter().any(|(u, _)| u == b) && !unbuilt.iter().any(|(u, _)| u == b))
        .collect();
    let fit = |b: usize, m: Mode| judged.iter().find(|j| j.band == b && j.mode == m);
    let candidates: Vec<Mode> = {
        let mut v: Vec<Mode> = judged.iter().map(|j| j.mode).collect();
        v.extend(r.cells.iter().map(|c| c.mode).filter(|m| *m != Mode::Unlimited && covers(*m) > 0));
        v.sort();
        v.dedup();
        v
    };
    type Assignment = (Option<(Mode, Vec<usize>)>, Vec<(usize, Specific)>);
    // Without an abi3 wheel, a band is judged by its cheapest floor, so "undecided" still shows.
    let cheapest = |b: usize| judged.iter().filter(|j| j.band == b).min_by(|x, y| x.cost.high.total_cmp(&y.cost.high));
    let assign = |floor: Option<Mode>| -> Assignment {
        let mut served = Vec::new();
        let mut specific = Vec::new();
        for &b in &bands {
            let verdict = match floor {
                Some(m) => fit(b, m),
                None => cheapest(b),
            };
            match verdict {
                Some(j) if j.fit == Fit::Within && floor.is_some() => served.push(b),
                Some(j) if j.fit == Fit::Undecided => specific.push((b, Specific::Undecided(j.mode, j.cost))),
                Some(j) => specific.push((b, Specific::Over(j.mode, j.cost))),
                None if free_threaded(&d.bands[b]) => specific.push((b, Specific::FreeThreaded)),
                None => specific.push((b, Specific::BelowFloor)),
            }
        }
        (floor.filter(|m| !served.is_empty() || covers(*m) > 0).map(|m| (m, served)), specific)
    };
    let mut best = assign(None);
    let count = |p: &Assignment| p.0.is_some() as usize + p.1.len();
    let unserved = |p: &Assignment| unbuilt.len() - p.0.as_ref().map_or(0, |(m, _)| covers(*m));
    let worst = |p: &Assignment| {
        p.0.as_ref().map_or(f64::INFINITY, |(m, served)| {
            served.iter().filter_map(|&b| fit(b, *m)).map(|j| j.cost.high).fold(0.0, f64::max)
        })
    };
    for &m in &candidates {
        let option = assign(Some(m));
        // Worst bounds within the noise floor of each other are a tie, which the lower floor keeps:
        // two runs then pick the same floor, not whichever the noise favoured.
        let lower_worst = worst(&option) < worst(&best) - d.noise_floor;
        // Between plans alike on the measured bands, the floor that runs faster where nothing
        // can be measured against unlimited (PyO3 0.23's abi3-py312 beside its abi3-py38 on 3.15).
        let tied = count(&option) == count(&best) && !lower_worst && worst(&best) <= worst(&option) + d.noise_floor;
        let faster_blind = match (&option.0, &best.0) {
            (Some((m, _)), Some((n, _))) => blind(*m) < blind(*n) - d.noise_floor,
            _ => false,
        };
        let fewer =
            count(&option) < count(&best) || (count(&option) == count(&best) && lower_worst) || (tied && faster_blind);
        let better = unserved(&option) < unserved(&best) || (unserved(&option) == unserved(&best) && fewer);
        if option.0.is_some() && better {
            best = option;
        }
    }
    let unbuildable = unbuilt
        .into_iter()
        .map(|(b, why)| (b, why, best.0.as_ref().map(|(m, _)| *m).filter(|m| runs_on(*m, b))))
        .collect();
    WheelPlan {
        threshold,
        workload: workload.clone(),
        judged,
        stable: best.0,
        specific: best.1,
        unmeasured,
        unbuildable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testdata::{decision, results};

    #[test]
    fn workloads_parse_profiles_and_weights() {
        assert_eq!(Workload::parse("callbacks").unwrap().weights[0], (Channel::CallOut, 0.7));
        let w = Workload::parse("call-out=3, item-access=1").unwrap();
        assert_eq!(w.weights, vec![(Channel::CallOut, 0.75), (Channel::ItemAccess, 0.25)]);
        for bad in ["nope", "call-out=x", "teleport=1", "call-out=-1", "call-out=0"] {
            assert!(Workload::parse(bad).is_err(), "{bad}");
        }
        for (name, _, weights) in PROFILES {
            assert!(!weights.is_empty() && Workload::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_plan_takes_the_fewest_wheels_within_the_threshold() {
        // Item access: abi3-py38 costs 1.5x on 3.8 and 3.12, abi3-py312 1.1x on 3.12.
        let (r, d) = (results(), decision());
        let list = Workload::parse("item-access=1").unwrap();
        // 5 %: nothing stable is good enough: a version-specific wheel per interpreter.
        let goal = |threshold| Goal { workload: list.clone(), threshold };
        let p = plan(&r, &d, &goal(0.05));
        assert_eq!((p.stable.clone(), p.wheels()), (None, 2), "{p:?}");
        assert!(p.judged.iter().all(|j| j.fit == Fit::Over), "{p:?}");
        // Each band is then judged by its cheapest floor: abi3-py312 on 3.12.
        assert!(matches!(p.specific[1], (1, Specific::Over(m, _)) if m.name() == "abi3-py312"), "{p:?}");
        // 15 %: abi3-py312 serves 3.12; 3.8 keeps its own wheel.
        let p = plan(&r, &d, &goal(0.15));
        let (mode, served) = p.stable.clone().unwrap();
        assert_eq!(
            (mode.name(), served, p.specific.clone()),
            ("abi3-py312".into(), vec![1], vec![(0, Specific::BelowFloor)])
        );
        // 60 %: one abi3-py38 wheel for both.
        let p = plan(&r, &d, &goal(0.60));
        assert_eq!((p.stable.clone().unwrap().0.name(), p.wheels()), ("abi3-py38".into(), 1));
        let decided = p.decisions(&d);
        assert_eq!(decided, [("3.8".to_string(), "abi3-py38".to_string()), ("3.12".into(), "abi3-py38".into())]);
        // Compute costs nothing anywhere: the lowest floor, one wheel.
        let p = plan(&r, &d, &Goal { workload: Workload::parse("compute").unwrap(), threshold: 0.05 });
        assert_eq!(p.stable.unwrap().0.name(), "abi3-py38");
    }
}
