//! The decision, as numbers: interpreters grouped into bands offered the same stable-ABI modes,
//! each mode's cost per cost channel and band (never pooled across channels or layers), its split
//! into what the stable ABI forces and what PyO3 adds, what raising the floor gains or loses, the
//! paths a mode cannot express and what the path it takes instead costs. `export::summary` words it; every number in
//! a sentence is a field here.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::attribution::{self, Attribution};
use crate::analysis::cells::Analysis;
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

/// One stable-ABI mode against unlimited over the scenarios of one channel and layer in one band.
#[derive(Debug, Clone)]
pub struct ChannelCost {
    pub channel: Channel,
    pub layer: Layer,
    pub mode: Mode,
    pub band: usize,
    pub ratios: Aggregate,
}

/// What a PyO3 user pays on one channel in one mode and band: the mean of the channel's PyO3-layer
/// ratios (its C API layer's where it has no PyO3 scenario). The mean, not the median: a workload
/// makes all of the channel's kinds of call, and the median would drop the dearest (a function with
/// arguments under METH_VARARGS among four that take none). Its interval is the mean of the bounds,
/// which holds for the same reason as the median's.
#[derive(Debug, Clone)]
pub struct UserCost {
    pub channel: Channel,
    pub mode: Mode,
    pub band: usize,
    pub mean: Estimate,
    pub count: usize,
    pub floor: f64,
}

impl UserCost {
    /// As `Aggregate::measurable`: the interval excludes 1.0 and the noise floor.
    pub fn measurable(&self) -> bool {
        self.mean.low > 1.0 + self.floor || self.mean.high < 1.0 - self.floor
    }
}

/// A channel's cost in one mode and band, split (`analysis::attribution`) and pooled over the
/// channel's tasks and the band's interpreters.
#[derive(Debug, Clone)]
pub struct Split {
    pub channel: Channel,
    pub mode: Mode,
    pub band: usize,
    /// The cheapest stable path in this mode over the cheapest unlimited path.
    pub forced: Aggregate,
    /// PyO3's share of its paths' stable-ABI cost (`attribution::Pyo3Path::share`); `None`: no
    /// PyO3 path. `forced` × this is what a PyO3 user pays.
    pub pyo3: Option<Aggregate>,
    /// Whether this mode takes arguments as METH_VARARGS (part of `forced`).
    pub varargs: bool,
}

/// A measurable change in one channel's cost between two floors offered in one band: a gain when
/// the higher floor costs less, a loss when it costs more (`Py_TYPE` becomes a call at 3.14).
#[derive(Debug, Clone)]
pub struct FloorChange {
    pub channel: Channel,
    pub layer: Layer,
    pub band: usize,
    pub from: Mode,
    pub to: Mode,
    pub from_ratios: Aggregate,
    pub to_ratios: Aggregate,
}

impl FloorChange {
    pub fn is_loss(&self) -> bool {
        self.to_ratios.median.point > self.from_ratios.median.point
    }
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

/// Everything the summary says, as numbers.
#[derive(Debug, Clone)]
pub struct Decision {
    pub bands: Vec<Band>,
    /// Per cost channel and layer (never pooled across either), each mode in each band.
    pub channel_costs: Vec<ChannelCost>,
    pub user_costs: Vec<UserCost>,
    /// Each mode in each band over every scenario alike (the `statements` workload).
    pub statement_costs: Vec<UserCost>,
    pub splits: Vec<Split>,
    pub attribution: Vec<Attribution>,
    pub floor_changes: Vec<FloorChange>,
    pub unavailable: Vec<Unavailable>,
    /// The run's noise floor, which every `Aggregate` here is judged against.
    pub noise_floor: f64,
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
    // An interpreter for which no unlimited build exists has no version-specific wheel to offer.
    let unlimited_built = |i: &Interpreter| {
        r.cells
            .iter()
            .any(|c| c.interpreter == i.name && c.mode == Mode::Unlimited && c.status != CellStatus::BuildFailed)
    };
    // Key: the stable-ABI modes offered, free-threading (which never shares a band), and whether
    // a version-specific build exists.
    type Key = (BTreeSet<Mode>, bool, bool);
    let mut groups: Vec<(Key, Vec<&Interpreter>)> = Vec::new();
    for i in ordered_interpreters(r) {
        let key = (modes_of(i), i.gil_disabled, unlimited_built(i));
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
        let band_of = |interp: &str| bands.iter().position(|b| b.interpreters.iter().any(|i| i == interp));
        let attribution = attribution::attribute(r, a);

        let declared: BTreeMap<&str, (Channel, Layer)> = r
            .groups
            .iter()
            .flat_map(|g| &g.scenarios)
            .filter_map(|s| Some((s.name.as_str(), (s.channel?, s.layer?))))
            .collect();
        let mut channel_costs = Vec::new();
        let mut splits = Vec::new();
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
                    let here: Vec<&Attribution> = attribution
                        .iter()
                        .filter(|x| x.mode == mode && x.channel == channel && band_of(&x.interpreter) == Some(bi))
                        .collect();
                    let forced: Vec<Estimate> = here.iter().map(|x| x.forced).collect();
                    let pyo3: Vec<Estimate> = here.iter().flat_map(|x| x.pyo3.iter().map(|p| p.share)).collect();
                    if let Some(forced) = aggregate(&forced) {
                        let varargs = here.iter().any(|x| x.varargs);
                        splits.push(Split { channel, mode, band: bi, forced, pyo3: aggregate(&pyo3), varargs });
                    }
                }
            }
        }

        let mut floor_changes = Vec::new();
        for (bi, _) in bands.iter().enumerate() {
            for channel in Channel::ALL {
                for layer in [Layer::CApi, Layer::Pyo3] {
                    let chain: Vec<&ChannelCost> = channel_costs
                        .iter()
                        .filter(|c| c.band == bi && c.channel == channel && c.layer == layer)
                        .collect();
                    for w in chain.windows(2) {
                        let (f, t) = (&w[0].ratios.median, &w[1].ratios.median);
                        // Only where the intervals do not overlap and the change clears the noise
                        // floor: a change the run can stand behind.
                        let beyond_floor = (t.point / f.point - 1.0).abs() > a.noise.spread;
                        if (t.low > f.high || t.high < f.low) && beyond_floor {
                            floor_changes.push(FloorChange {
                                channel,
                                layer,
                                band: bi,
                                from: w[0].mode,
                                to: w[1].mode,
                                from_ratios: w[0].ratios.clone(),
                                to_ratios: w[1].ratios.clone(),
                            });
                        }
                    }
                }
            }
        }

        let group_of: BTreeMap<&str, Kind> =
            r.groups.iter().flat_map(|g| g.scenarios.iter().map(move |s| (s.name.as_str(), g.kind))).collect();
        let mut unavailable = Vec::new();
        for &mode in &modes {
            for kind in [Kind::Chatty, Kind::Compute] {
                let run: BTreeSet<&str> = r
                    .cells
                    .iter()
                    .filter(|c| c.mode == mode && group_of.get(c.scenario.as_str()) == Some(&kind))
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

        let user_costs = user_costs(&channel_costs, a, &bands, &declared);
        let statement_costs = statement_costs(a, &bands, a.noise.spread);
        Decision {
            bands,
            channel_costs,
            user_costs,
            statement_costs,
            splits,
            attribution,
            floor_changes,
            unavailable,
            noise_floor: a.noise.spread,
        }
    }

    /// What a PyO3 user of `channel` pays in `mode` on band `band`.
    pub fn user_cost(&self, channel: Channel, mode: Mode, band: usize) -> Option<&UserCost> {
        self.user_costs.iter().find(|c| c.channel == channel && c.mode == mode && c.band == band)
    }
}

/// Each mode in each band as the mean of all its ratios there, each scenario alike (the channel
/// of these is meaningless: `Compute`, the work the user's calls do).
fn statement_costs(a: &Analysis, bands: &[Band], floor: f64) -> Vec<UserCost> {
    let mut out = Vec::new();
    for (bi, b) in bands.iter().enumerate() {
        let mut modes: Vec<Mode> =
            a.mode_ratios.iter().filter(|x| b.interpreters.contains(&x.interpreter)).map(|x| x.mode).collect();
        modes.sort();
        modes.dedup();
        for mode in modes {
            let es: Vec<Estimate> = a
                .mode_ratios
                .iter()
                .filter(|x| x.mode == mode && b.interpreters.contains(&x.interpreter))
                .map(|x| x.ratio)
                .collect();
            out.push(UserCost {
                channel: Channel::Compute,
                mode,
                band: bi,
                mean: mean_of(&es),
                count: es.len(),
                floor,
            });
        }
    }
    out
}

fn mean_of(es: &[Estimate]) -> Estimate {
    let mean = |f: fn(&Estimate) -> f64| es.iter().map(f).sum::<f64>() / es.len() as f64;
    Estimate { point: mean(|e| e.point), low: mean(|e| e.low), high: mean(|e| e.high) }
}

/// Each (channel, mode, band) of `costs`, as a PyO3 user pays it (`UserCost`).
fn user_costs(
    costs: &[ChannelCost],
    a: &Analysis,
    bands: &[Band],
    declared: &BTreeMap<&str, (Channel, Layer)>,
) -> Vec<UserCost> {
    let mut out = Vec::new();
    for c in costs {
        let pyo3_too =
            costs.iter().any(|x| x.layer == Layer::Pyo3 && (x.channel, x.mode, x.band) == (c.channel, c.mode, c.band));
        if c.layer == Layer::CApi && pyo3_too {
            continue;
        }
        let es: Vec<Estimate> = a
            .mode_ratios
            .iter()
            .filter(|x| x.mode == c.mode && bands[c.band].interpreters.contains(&x.interpreter))
            .filter(|x| declared.get(x.scenario.as_str()) == Some(&(c.channel, c.layer)))
            .map(|x| x.ratio)
            .collect();
        out.push(UserCost {
            channel: c.channel,
            mode: c.mode,
            band: c.band,
            mean: mean_of(&es),
            count: es.len(),
            floor: c.ratios.floor,
        });
    }
    out
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
    fn channel_costs_splits_floor_changes_and_fallbacks_match_the_known_fixture() {
        let d = decision();
        let cost = |mode: &str, band: usize, channel: Channel| {
            d.channel_costs
                .iter()
                .find(|c| c.mode.name() == mode && c.band == band && c.channel == channel)
                .unwrap()
                .ratios
                .clone()
        };
        // abi3-py38 costs 1.5x on item access on both interpreters, measurably; compute does not differ.
        for band in [0, 1] {
            let c = cost("abi3-py38", band, Channel::ItemAccess);
            assert!((c.median.point - 1.5).abs() < 0.03 && c.measurable() && c.slower == 1, "{c:?}");
        }
        let k = cost("abi3-py38", 1, Channel::Compute);
        assert!(!k.measurable() && k.bound < 0.05, "{k:?}");
        // Forced: the GetItem path in abi3-py38 (15 ns) over the macro in unlimited (8 ns).
        let split = d.splits.iter().find(|s| s.mode.name() == "abi3-py38" && s.band == 0).unwrap();
        assert!((split.forced.median.point - 15.0 / 8.0).abs() < 0.05 && split.varargs, "{split:?}");
        assert!(split.pyo3.is_none(), "the fixture has no PyO3 path");
        // Raising the floor to 3.12 on 3.12 takes item access from 1.5x to 1.1x: a gain, not a loss.
        let ch = d.floor_changes.iter().find(|c| c.band == 1 && c.channel == Channel::ItemAccess).unwrap();
        assert_eq!((ch.from.name(), ch.to.name(), ch.is_loss()), ("abi3-py38".into(), "abi3-py312".into(), false));
        let u = d.unavailable.iter().find(|u| u.mode.name() == "abi3-py38").unwrap();
        assert_eq!((u.scenarios.clone(), u.of, u.kind), (vec!["list_macro".to_string()], 2, Kind::Chatty));
    }

    #[test]
    fn a_pyo3_user_pays_the_pyo3_layer_where_the_channel_has_one() {
        let r = crate::analysis::testdata::attribution_results();
        let d = Decision::compute(&r, &crate::analysis::cells::analyse(&r));
        let mode = Mode::Abi3(crate::model::version::PyVersion(3, 8));
        // 3.8 has a PyO3 path (30 ns over 12 ns); 3.12 only the C API path (30 ns over 20 ns).
        let on = |band| d.user_cost(Channel::ItemAccess, mode, band).unwrap();
        assert!((on(0).mean.point - 2.5).abs() < 0.08 && on(0).count == 1 && on(0).measurable(), "{:?}", on(0));
        assert!((on(1).mean.point - 1.5).abs() < 0.05, "{:?}", on(1));
    }
}
