//! Where a stable-ABI mode's cost comes from, task by task. Scenarios that share a `task` do one
//! piece of work by different paths; in each interpreter, for each stable-ABI mode:
//! - the *unlimited path* is the cheapest C API path of the task in the unlimited build, the
//!   *stable path* the cheapest one this mode's build can express (timed in that build);
//! - what the stable ABI forces is the stable path in this mode over the unlimited path in
//!   unlimited: the path outside the limited API that the mode cannot take, the calling
//!   convention into the function (METH_VARARGS below 3.10), and header code the limited API turns
//!   into calls;
//! - each PyO3 path of the task is set against the stable path, both in this mode (the cheaper
//!   stable-ABI path PyO3 could take, and what not taking it costs), and that against the same in
//!   unlimited: PyO3's share of the stable-ABI cost, the part its own choices add. A PyO3 user's
//!   stable-ABI cost (the path in this mode over itself in unlimited) is what the stable ABI
//!   forces times PyO3's share.
//!
//! "Cheapest" is by the cells' median time. Ratios between two scenarios are paired only where the
//! run interleaved them (`analysis::pairing`). Pooling, within one channel, is `decision`'s.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::analysis::cells::Analysis;
use crate::analysis::pairing;
use crate::analysis::stats::seed_of;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::scenario::{Channel, Layer, Scenario};
use crate::model::version::PyVersion;

/// One PyO3 path of a task in one mode.
#[derive(Debug, Clone)]
pub struct Pyo3Path {
    pub scenario: String,
    /// This path over the task's stable path, both in this mode: what PyO3 adds.
    pub over_stable: Estimate,
    /// `over_stable` over the same in unlimited (this path over the cheapest unlimited path):
    /// PyO3's share of the stable-ABI cost; `forced` × this is this path in this mode over itself
    /// in unlimited, what its user pays.
    pub share: Estimate,
}

/// One task in one stable-ABI mode on one interpreter.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub interpreter: String,
    pub mode: Mode,
    pub channel: Channel,
    pub task: String,
    pub unlimited_path: String,
    /// The same scenario as `unlimited_path` where this mode can express it.
    pub stable_path: String,
    /// `stable_path` in this mode over `unlimited_path` in unlimited: all the stable ABI forces.
    pub forced: Estimate,
    /// Whether this mode's functions take their arguments as METH_VARARGS (a tuple per call):
    /// METH_FASTCALL joined the limited API in 3.10, so `forced` includes that convention.
    pub varargs: bool,
    pub pyo3: Vec<Pyo3Path>,
}

/// Every task's attribution, for every stable-ABI mode and interpreter of the run.
pub fn attribute(r: &Results, a: &Analysis) -> Vec<Attribution> {
    let scenarios: Vec<&Scenario> =
        r.groups.iter().flat_map(|g| &g.scenarios).filter(|s| s.task.is_some() && s.channel.is_some()).collect();
    let mut tasks: BTreeMap<&str, Vec<&Scenario>> = BTreeMap::new();
    for s in &scenarios {
        tasks.entry(s.task.as_deref().unwrap_or_default()).or_default().push(s);
    }
    let mut units: Vec<(&str, Mode, &str)> = Vec::new();
    for i in &r.interpreters {
        for m in r.modes().into_iter().filter(|m| *m != Mode::Unlimited) {
            units.extend(tasks.keys().map(|t| (i.name.as_str(), m, *t)));
        }
    }
    units.into_par_iter().filter_map(|(i, m, t)| attribute_one(r, a, i, m, &tasks[t])).collect()
}

fn attribute_one(r: &Results, a: &Analysis, interp: &str, mode: Mode, paths: &[&Scenario]) -> Option<Attribution> {
    let time = |m: Mode, s: &Scenario| a.summary(interp, m, &s.name).map(|x| x.median.point);
    let cheapest = |m: Mode| -> Option<&Scenario> {
        paths
            .iter()
            .filter(|s| s.layer == Some(Layer::CApi))
            .filter_map(|s| Some((*s, time(m, s)?)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map(|(s, _)| s)
    };
    let (best, stable) = (cheapest(Mode::Unlimited)?, cheapest(mode)?);
    let seed = |what: &str| seed_of(&format!("{interp}/{mode}/{what}"));
    let ratio = |a: (Mode, &str), b: (Mode, &str), what: &str| pairing::between(r, interp, a, b, seed(what));
    let first = paths[0];
    let pyo3 = paths
        .iter()
        .filter(|s| s.layer == Some(Layer::Pyo3))
        .filter_map(|p| {
            let (u, m) = (Mode::Unlimited, mode);
            Some(Pyo3Path {
                scenario: p.name.clone(),
                over_stable: ratio((m, &stable.name), (m, &p.name), &p.name)?,
                share: pairing::quotient(
                    r,
                    interp,
                    &[(m, &p.name), (u, &best.name)],
                    &[(m, &stable.name), (u, &p.name)],
                    seed(&format!("{}/share", p.name)),
                )?,
            })
        })
        .collect();
    Some(Attribution {
        interpreter: interp.to_string(),
        mode,
        channel: first.channel?,
        task: first.task.clone()?,
        unlimited_path: best.name.clone(),
        stable_path: stable.name.clone(),
        forced: ratio((Mode::Unlimited, &best.name), (mode, &stable.name), "forced")?,
        varargs: mode.floor().is_some_and(|f| f < PyVersion(3, 10)),
        pyo3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::attribution_results;

    #[test]
    fn splits_a_pyo3_path_into_what_the_abi_forces_and_pyo3s_share() {
        // 3.8, ns: unlimited macro 8, fn 10, PyO3 12; abi3-py38 has no macro, fn 15, PyO3 30.
        let r = attribution_results();
        let a = analyse(&r);
        let at = attribute(&r, &a);
        let x = at.iter().find(|x| x.interpreter == "3.8.18").expect("3.8 attributed");
        assert_eq!((x.unlimited_path.as_str(), x.stable_path.as_str()), ("list_macro", "list_get"));
        let near = |e: &Estimate, v: f64| (e.point / v - 1.0).abs() < 0.03 && e.low <= e.high;
        assert!(near(&x.forced, 15.0 / 8.0), "{x:#?}");
        assert!(x.varargs && x.channel == Channel::ItemAccess);
        let p = &x.pyo3[0];
        assert!(near(&p.over_stable, 30.0 / 15.0), "{p:#?}");
        // PyO3's share: (30 / 15) / (12 / 8); with what is forced it makes the path's own ratio.
        assert!(near(&p.share, (30.0 / 15.0) / (12.0 / 8.0)), "{p:#?}");
        let total = a.mode_ratio("3.8.18", x.mode, "list_pyo3").unwrap().ratio;
        assert!(near(&total, 30.0 / 12.0) && (x.forced.point * p.share.point / total.point - 1.0).abs() < 0.03);
        // 3.12 has no PyO3 path timed: the C API split stands alone, for both floors.
        let on_312: Vec<_> = at.iter().filter(|x| x.interpreter == "3.12.1").collect();
        assert_eq!(on_312.len(), 2);
        assert!(on_312.iter().all(|x| x.pyo3.is_empty()));
        let py312 = on_312.iter().find(|x| x.mode.name() == "abi3-py312").unwrap();
        assert!(!py312.varargs && near(&py312.forced, 22.0 / 16.0), "{py312:#?}");
    }
}
