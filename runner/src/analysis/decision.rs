//! The decision, as numbers: interpreters grouped into bands offered the same stable-ABI modes,
//! each mode's pooled cost per kind of call and band, what raising the floor recovers, the paths a
//! mode cannot express and what their fallbacks cost. `export::summary` words it; every number in
//! a sentence is a field here.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::cells::{Analysis, Ratio};
use crate::analysis::stats;
use crate::model::estimate::Estimate;
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::scenario::{Channel, Kind, Layer};

/// Interpreters offered the same stable-ABI modes, in version order: within a band the user's
/// choice is the same, so its ratios are pooled.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// `3.8–3.9`, `3.12`, `3.13t`: the versions of this run's interpreters in the band.
    pub label: String,
    pub interpreters: Vec<String>,
}

/// Many paired ratios (one per scenario and interpreter) in one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub count: usize,
    /// Median of the ratios' points. Its interval is the median of their lower bounds and of their
    /// upper bounds: the median is monotone, so if every true ratio lies in its own interval, the
    /// median of the true ratios lies in this one.
    pub median: Estimate,
    pub min: f64,
    pub max: f64,
    /// Ratios whose interval lies wholly above 1.0 (measurably slower than unlimited) ...
    pub slower: usize,
    /// ... and wholly below it.
    pub faster: usize,
    /// The farthest any interval bound lies from 1.0: every ratio is within 1 ± `bound`.
    pub bound: f64,
    /// The run's noise floor (`analysis::controls`): differences within 1 ± `floor` are not
    /// claimed, whatever their interval.
    pub floor: f64,
}

impl Aggregate {
    pub fn of(estimates: &[Estimate]) -> Option<Aggregate> {
        if estimates.is_empty() {
            return None;
        }
        let col = |f: fn(&Estimate) -> f64| estimates.iter().map(f).collect::<Vec<f64>>();
        let points = col(|e| e.point);
        Some(Aggregate {
            count: estimates.len(),
            median: Estimate {
                point: stats::median(&points),
                low: stats::median(&col(|e| e.low)),
                high: stats::median(&col(|e| e.high)),
            },
            min: points.iter().copied().fold(f64::INFINITY, f64::min),
            max: points.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            slower: estimates.iter().filter(|e| e.low > 1.0).count(),
            faster: estimates.iter().filter(|e| e.high < 1.0).count(),
            bound: estimates.iter().map(|e| (e.low - 1.0).abs().max((e.high - 1.0).abs())).fold(0.0, f64::max),
            floor: 0.0,
        })
    }

    /// The same figures, judged against a noise floor.
    pub fn with_floor(self, floor: f64) -> Aggregate {
        Aggregate { floor, ..self }
    }

    /// A difference is only stated when the median's interval excludes 1.0 and the whole noise
    /// floor around it.
    pub fn measurable(&self) -> bool {
        self.median.low > 1.0 + self.floor || self.median.high < 1.0 - self.floor
    }

    /// The interval excludes 1.0, but not the noise floor: a difference the controls could make.
    pub fn within_floor(&self) -> bool {
        !self.median.contains(1.0) && !self.measurable()
    }
}

/// One stable-ABI mode against unlimited over one kind of call (or one group) in one band.
#[derive(Debug, Clone)]
pub struct Cost {
    pub mode: Mode,
    pub band: usize,
    pub kind: Kind,
    /// `None`: every group of `kind`; otherwise that group's name.
    pub group: Option<String>,
    pub ratios: Aggregate,
}

/// One stable-ABI mode against unlimited over the scenarios of one channel and layer in one band.
#[derive(Debug, Clone)]
pub struct ChannelCost {
    pub channel: Channel,
    pub layer: Layer,
    pub mode: Mode,
    pub band: usize,
    pub ratios: Aggregate,
}

/// How much of a low floor's chatty excess a higher floor removes, over the same ratios.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub from: Mode,
    pub to: Mode,
    pub band: usize,
    pub from_ratios: Aggregate,
    pub to_ratios: Aggregate,
    /// `(from − to) / (from − 1)` of the medians; `None` when `from` has no measurable excess.
    pub recovered: Option<f64>,
}

/// Scenarios a stable-ABI mode cannot express at all (their cells are `not_available`).
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub mode: Mode,
    pub kind: Kind,
    pub scenarios: Vec<String>,
    /// Scenarios of this kind the mode was run with.
    pub of: usize,
}

/// A group comparison whose baseline some stable-ABI mode cannot express: what the fallback path
/// costs against it, measured inside unlimited builds.
#[derive(Debug, Clone)]
pub struct Fallback {
    pub label: String,
    pub ratios: Aggregate,
}

/// Everything the summary says, as numbers.
#[derive(Debug, Clone)]
pub struct Decision {
    pub bands: Vec<Band>,
    pub costs: Vec<Cost>,
    pub group_costs: Vec<Cost>,
    /// Per cost channel and layer (never pooled across either), each mode in each band.
    pub channel_costs: Vec<ChannelCost>,
    pub recoveries: Vec<Recovery>,
    pub unavailable: Vec<Unavailable>,
    pub fallbacks: Vec<Fallback>,
}

/// `3.12` or `3.13t`.
fn version_label(i: &Interpreter) -> String {
    format!("{}{}", i.version, if i.gil_disabled { "t" } else { "" })
}

/// Interpreters in version order (free-threaded ones after the rest), the run's own order otherwise.
pub fn ordered_interpreters(r: &Results) -> Vec<&Interpreter> {
    let mut v: Vec<&Interpreter> = r.interpreters.iter().collect();
    v.sort_by_key(|i| (i.gil_disabled, i.version));
    v
}

/// Stable-ABI modes that have cells in this run, in table order.
pub fn stable_modes(r: &Results) -> Vec<Mode> {
    r.modes().into_iter().filter(|m| *m != Mode::Unlimited).collect()
}

pub fn bands(r: &Results) -> Vec<Band> {
    let modes_of = |i: &Interpreter| -> BTreeSet<Mode> {
        r.cells.iter().filter(|c| c.interpreter == i.name && c.mode != Mode::Unlimited).map(|c| c.mode).collect()
    };
    // Key: the stable-ABI modes offered, and free-threading (which never shares a band).
    type Key = (BTreeSet<Mode>, bool);
    let mut groups: Vec<(Key, Vec<&Interpreter>)> = Vec::new();
    for i in ordered_interpreters(r) {
        let key = (modes_of(i), i.gil_disabled);
        match groups.last_mut() {
            Some((k, members)) if *k == key => members.push(i),
            _ => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| {
            let (first, last) = (version_label(members[0]), version_label(members[members.len() - 1]));
            Band {
                label: if first == last { first } else { format!("{first}–{last}") },
                interpreters: members.iter().map(|i| i.name.clone()).collect(),
            }
        })
        .collect()
}

impl Decision {
    pub fn compute(r: &Results, a: &Analysis) -> Decision {
        let aggregate = |es: &[Estimate]| Aggregate::of(es).map(|x| x.with_floor(a.noise.spread));
        let bands = bands(r);
        let modes = stable_modes(r);
        let group_of: BTreeMap<&str, (&str, Kind)> = r
            .groups
            .iter()
            .flat_map(|g| g.scenarios.iter().map(move |s| (s.name.as_str(), (g.name.as_str(), g.kind))))
            .collect();
        // The ratios of `mode` in band `b` whose scenario passes `keep`.
        let ratios = |mode: Mode, b: &Band, keep: &dyn Fn(&str, Kind) -> bool| -> Vec<&Ratio> {
            a.mode_ratios
                .iter()
                .filter(|x| x.mode == mode && b.interpreters.contains(&x.interpreter))
                .filter(|x| group_of.get(x.scenario.as_str()).is_some_and(|(g, k)| keep(g, *k)))
                .collect()
        };
        let estimates = |rs: &[&Ratio]| rs.iter().map(|x| x.ratio).collect::<Vec<_>>();

        let mut costs = Vec::new();
        let mut group_costs = Vec::new();
        for &mode in &modes {
            for (bi, b) in bands.iter().enumerate() {
                for kind in [Kind::Chatty, Kind::Compute] {
                    if let Some(agg) = aggregate(&estimates(&ratios(mode, b, &|_, k| k == kind))) {
                        costs.push(Cost { mode, band: bi, kind, group: None, ratios: agg });
                    }
                }
                for g in &r.groups {
                    if let Some(agg) = aggregate(&estimates(&ratios(mode, b, &|name, _| name == g.name))) {
                        group_costs.push(Cost {
                            mode,
                            band: bi,
                            kind: g.kind,
                            group: Some(g.name.clone()),
                            ratios: agg,
                        });
                    }
                }
            }
        }

        let mut recoveries = Vec::new();
        let abi3: Vec<Mode> = modes.iter().copied().filter(|m| matches!(m, Mode::Abi3(_))).collect();
        if let Some((&from, higher)) = abi3.split_first() {
            for &to in higher {
                for (bi, b) in bands.iter().enumerate() {
                    let chatty = |m| ratios(m, b, &|_, k| k == Kind::Chatty);
                    let (low, high) = (chatty(from), chatty(to));
                    // Only the (scenario, interpreter) pairs both floors ran, so the medians compare like with like.
                    let both = |xs: &[&Ratio], ys: &[&Ratio]| -> Vec<Estimate> {
                        xs.iter()
                            .filter(|x| ys.iter().any(|y| y.scenario == x.scenario && y.interpreter == x.interpreter))
                            .map(|x| x.ratio)
                            .collect()
                    };
                    let (Some(f), Some(t)) = (aggregate(&both(&low, &high)), aggregate(&both(&high, &low))) else {
                        continue;
                    };
                    let recovered = (f.measurable() && f.median.point > 1.0)
                        .then(|| (f.median.point - t.median.point) / (f.median.point - 1.0));
                    recoveries.push(Recovery { from, to, band: bi, from_ratios: f, to_ratios: t, recovered });
                }
            }
        }

        let mut unavailable = Vec::new();
        for &mode in &modes {
            for kind in [Kind::Chatty, Kind::Compute] {
                let run: BTreeSet<&str> = r
                    .cells
                    .iter()
                    .filter(|c| c.mode == mode && group_of.get(c.scenario.as_str()).is_some_and(|(_, k)| *k == kind))
                    .map(|c| c.scenario.as_str())
                    .collect();
                let missing: Vec<String> = run
                    .iter()
                    .filter(|s| {
                        r.cells
                            .iter()
                            .any(|c| c.mode == mode && c.scenario == **s && c.status == CellStatus::NotAvailable)
                    })
                    .map(|s| s.to_string())
                    .collect();
                if !missing.is_empty() {
                    unavailable.push(Unavailable { mode, kind, scenarios: missing, of: run.len() });
                }
            }
        }

        let missing_anywhere: BTreeSet<&str> =
            unavailable.iter().flat_map(|u| u.scenarios.iter().map(String::as_str)).collect();
        let fallbacks = r
            .groups
            .iter()
            .flat_map(|g| g.comparisons.iter().map(move |c| (g, c)))
            .filter(|(_, c)| {
                missing_anywhere.contains(c.baseline.as_str()) && !missing_anywhere.contains(c.candidate.as_str())
            })
            .filter_map(|(g, c)| {
                let es: Vec<Estimate> = a
                    .comparisons
                    .iter()
                    .filter(|x| x.group == g.name && x.label == c.label && x.mode == Mode::Unlimited)
                    .map(|x| x.ratio)
                    .collect();
                Some(Fallback { label: c.label.clone(), ratios: aggregate(&es)? })
            })
            .collect();

        let declared: BTreeMap<&str, (Channel, Layer)> = r
            .groups
            .iter()
            .flat_map(|g| &g.scenarios)
            .filter_map(|s| Some((s.name.as_str(), (s.channel?, s.layer?))))
            .collect();
        let mut channel_costs = Vec::new();
        for (bi, b) in bands.iter().enumerate() {
            for &mode in &modes {
                for channel in Channel::ALL {
                    for layer in [Layer::CApi, Layer::Pyo3] {
                        let es: Vec<Estimate> = a
                            .mode_ratios
                            .iter()
                            .filter(|x| x.mode == mode && b.interpreters.contains(&x.interpreter))
                            .filter(|x| declared.get(x.scenario.as_str()) == Some(&(channel, layer)))
                            .map(|x| x.ratio)
                            .collect();
                        if let Some(ratios) = aggregate(&es) {
                            channel_costs.push(ChannelCost { channel, layer, mode, band: bi, ratios });
                        }
                    }
                }
            }
        }

        Decision { bands, costs, group_costs, channel_costs, recoveries, unavailable, fallbacks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testdata::{decision, est};

    #[test]
    fn aggregate_pools_points_and_bounds_and_counts_measurable_ratios() {
        let a = Aggregate::of(&[est(1.5, 1.4, 1.6), est(1.0, 0.9, 1.1), est(0.8, 0.7, 0.85)]).unwrap();
        assert_eq!(a.median, est(1.0, 0.9, 1.1));
        assert_eq!((a.min, a.max, a.slower, a.faster, a.count), (0.8, 1.5, 1, 1, 3));
        assert!((a.bound - 0.6).abs() < 1e-12);
        assert!(!a.measurable());
        assert!(Aggregate::of(&[est(1.5, 1.4, 1.6)]).unwrap().measurable());
        assert_eq!(Aggregate::of(&[]), None);
        // Beyond 1.0 but inside the controls' noise floor: not claimed.
        let within = Aggregate::of(&[est(1.03, 1.01, 1.05)]).unwrap().with_floor(0.04);
        assert!(!within.measurable() && within.within_floor(), "{within:?}");
        assert!(Aggregate::of(&[est(1.10, 1.06, 1.14)]).unwrap().with_floor(0.04).measurable());
    }

    #[test]
    fn bands_split_where_the_offered_modes_change() {
        let d = decision();
        let labels: Vec<&str> = d.bands.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["3.8", "3.12"]);
    }

    #[test]
    fn costs_recoveries_and_gaps_match_the_known_fixture() {
        let d = decision();
        let cost = |mode: &str, band: usize, kind: Kind| {
            d.costs.iter().find(|c| c.mode.name() == mode && c.band == band && c.kind == kind).unwrap().ratios.clone()
        };
        // abi3-py38 costs 1.5x on the chatty path on both interpreters, measurably.
        for band in [0, 1] {
            let c = cost("abi3-py38", band, Kind::Chatty);
            assert!((c.median.point - 1.5).abs() < 0.03 && c.measurable() && c.slower == 1, "{c:?}");
        }
        let k = cost("abi3-py38", 1, Kind::Compute);
        assert!(!k.measurable() && k.bound < 0.05, "{k:?}");
        // Floor 3.12 on 3.12: 1.5x -> 1.1x recovers 80 % of the excess.
        let rec = &d.recoveries[0];
        assert_eq!((rec.from.name(), rec.to.name(), rec.band), ("abi3-py38".into(), "abi3-py312".into(), 1));
        assert!((rec.recovered.unwrap() - 0.8).abs() < 0.07, "{rec:?}");
        assert_eq!(d.recoveries.len(), 1, "abi3-py312 does not run on 3.8");
        let u = d.unavailable.iter().find(|u| u.mode.name() == "abi3-py38").unwrap();
        assert_eq!((u.scenarios.clone(), u.of, u.kind), (vec!["list_macro".to_string()], 2, Kind::Chatty));
        assert_eq!(d.fallbacks.len(), 1);
        assert!((d.fallbacks[0].ratios.median.point - 1.25).abs() < 0.03, "{:?}", d.fallbacks);
    }
}
