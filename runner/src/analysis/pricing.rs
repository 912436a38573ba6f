//! What a call shape (`analysis::shapes`) costs under each floor on each interpreter: the sum of
//! count × the time each of its operations adds (`analysis::costs`), over the same call in the
//! unlimited build (count × each operation's unlimited time, plus its own work). The point is that
//! sum, so the page's derivation adds up to it; the interval's width comes from one bootstrap of
//! every cell involved (`pairing::combinations`), so operations timed from the same cells (an
//! argument is its call less the call without) are not counted as independent.

use crate::analysis::costs::{added_terms, OpCost};
use crate::analysis::pairing;
use crate::analysis::shapes::Shape;
use crate::analysis::stats::seed_of;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::scenario::Operation;

/// One operation's part in a call's cost.
#[derive(Debug, Clone)]
pub struct Part {
    pub op: String,
    /// How many per call (weighted by the shape's share when the call is a mix).
    pub count: f64,
    /// Time per operation: added in this mode, and in the unlimited build.
    pub added: Estimate,
    pub unlimited: f64,
    /// The path taken where the mode cannot express the operation's own.
    pub via: Option<String>,
}

/// A call (or a mix of calls, weighted by share) in one mode on one interpreter.
#[derive(Debug, Clone)]
pub struct CallCost {
    pub interpreter: String,
    pub mode: Mode,
    pub parts: Vec<Part>,
    /// The call's own work (ns; none in an instruction count).
    pub work: f64,
    /// What the call's operations add, per call.
    pub added: Estimate,
    /// The call in the unlimited build: its operations and its own work.
    pub base: f64,
    /// `added / base`: the fraction the floor adds to the call.
    pub relative: Estimate,
}

impl CallCost {
    /// The part that adds the most, and its fraction of what the parts that add anything add
    /// (a part that saves time does not make the others' share exceed the whole).
    pub fn dominant(&self) -> Option<(&Part, f64)> {
        let adds = |p: &Part| (p.count * p.added.point).max(0.0);
        let total: f64 = self.parts.iter().map(adds).sum();
        let top = self.parts.iter().max_by(|a, b| adds(a).total_cmp(&adds(b)))?;
        (total > 0.0).then(|| (top, adds(top) / total))
    }

    /// Each part's fraction of what the parts that add anything add.
    pub fn share(&self, part: &Part) -> f64 {
        let adds = |p: &Part| (p.count * p.added.point).max(0.0);
        let total: f64 = self.parts.iter().map(adds).sum();
        if total > 0.0 {
            adds(part) / total
        } else {
            0.0
        }
    }
}

/// Why a call has no cost in a mode on an interpreter: operations without a figure there (not
/// available in the mode, or not measured).
#[derive(Debug, Clone, PartialEq)]
pub struct Unpriced {
    pub interpreter: String,
    pub mode: Mode,
    pub ops: Vec<String>,
}

/// The cost of `shapes` (shares summing to 1: one call of the mix) in `mode` on `interp`.
pub fn price(
    r: &Results,
    ops: &[Operation],
    costs: &[OpCost],
    shapes: &[Shape],
    interp: &str,
    mode: Mode,
) -> Result<CallCost, Unpriced> {
    let mut parts: Vec<Part> = Vec::new();
    let mut missing = Vec::new();
    for s in shapes {
        for (key, n) in s.counts.iter().filter(|(_, n)| *n > 0.0) {
            let cost = costs.iter().find(|c| c.interpreter == interp && c.mode == mode && c.op == *key);
            match (cost, parts.iter_mut().find(|p| p.op == *key)) {
                (None, _) => missing.push(key.clone()),
                (Some(_), Some(p)) => p.count += s.share * n,
                (Some(c), None) => parts.push(Part {
                    op: key.clone(),
                    count: s.share * n,
                    added: c.added,
                    unlimited: c.unlimited.point,
                    via: c.via.clone(),
                }),
            }
        }
    }
    missing.dedup();
    if !missing.is_empty() || parts.is_empty() {
        return Err(Unpriced { interpreter: interp.into(), mode, ops: missing });
    }
    // Own work is time: an instruction count has none to add.
    let work = match r.run.sampling.measure {
        Measure::WallTime => shapes.iter().map(|s| s.share * s.work_ns).sum(),
        Measure::Instructions => 0.0,
    };
    let point: f64 = parts.iter().map(|p| p.count * p.added.point).sum();
    let base = parts.iter().map(|p| p.count * p.unlimited).sum::<f64>() + work;
    let added = Estimate { point, ..joint_spread(r, ops, &parts, interp, mode, point) };
    Ok(CallCost { interpreter: interp.into(), mode, parts, work, added, base, relative: added.over(base) })
}

/// The interval of the parts' sum from one bootstrap of all their cells, moved to `point`.
fn joint_spread(r: &Results, ops: &[Operation], parts: &[Part], interp: &str, mode: Mode, point: f64) -> Estimate {
    let terms: Vec<_> = parts
        .iter()
        .filter_map(|p| Some(added_terms(ops.iter().find(|o| o.key == p.op)?, p.via.as_deref(), mode, 0, p.count)))
        .flatten()
        .collect();
    let keys: Vec<&str> = parts.iter().map(|p| p.op.as_str()).collect();
    let seed = seed_of(&format!("{interp}/{mode}/call/{}", keys.join("+")));
    match pairing::combination(r, interp, &terms, &|c| c[0], seed) {
        Some(e) => Estimate { point, low: point - (e.point - e.low), high: point + (e.high - e.point) },
        // Cells of every part were just priced, so this does not happen; an empty interval would
        // claim a precision nobody measured, so fall back to the parts' widest.
        None => Estimate { point, low: f64::NEG_INFINITY, high: f64::INFINITY },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::costs::op_costs;
    use crate::analysis::shapes::Workload;
    use crate::analysis::testdata::attribution_results;

    #[test]
    fn a_call_costs_the_sum_of_its_operations_over_itself_in_unlimited() {
        let r = attribution_results();
        let a = analyse(&r);
        let ops = vec![
            Operation {
                key: "items".into(),
                label: "x".into(),
                path: "list_pyo3".into(),
                minus: None,
                per: 1,
                instead: None,
                entry: false,
                times: 1,
            },
            Operation {
                key: "gets".into(),
                label: "y".into(),
                path: "list_get".into(),
                minus: None,
                per: 1,
                instead: None,
                entry: false,
                times: 1,
            },
        ];
        let costs = op_costs(&r, &a, &ops);
        let w = Workload::parse("items=10,gets=2,work=100").unwrap();
        let mode = Mode::Abi3(crate::model::version::PyVersion(3, 8));
        let c = price(&r, &ops, &costs, &w.shapes(&ops), "3.8.18", mode).unwrap();
        // 10 × (30 - 12) + 2 × (15 - 10) = 190 ns over 10 × 12 + 2 × 10 + 100 = 240 ns.
        let items = costs.iter().find(|c| c.op == "items" && c.interpreter == "3.8.18").unwrap().added.point;
        let gets =
            costs.iter().find(|c| c.op == "gets" && c.interpreter == "3.8.18" && c.mode == mode).unwrap().added.point;
        assert!((c.added.point - (10.0 * items + 2.0 * gets)).abs() < 1e-9, "the derivation adds up");
        assert!((c.added.point - 190.0).abs() < 8.0 && (c.base - 240.0).abs() < 2.0, "{c:?}");
        assert!(c.added.low < c.added.point && c.added.point < c.added.high && c.relative.low > 0.7, "{c:?}");
        let (top, share) = c.dominant().unwrap();
        assert!(top.op == "items" && share > 0.9);
        // 3.12 has no PyO3 path timed: the call cannot be priced there, and says which part is missing.
        let e = price(&r, &ops, &costs, &w.shapes(&ops), "3.12.1", mode).unwrap_err();
        assert_eq!(e.ops, ["items"]);
    }
}
