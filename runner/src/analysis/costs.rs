//! The time each operation adds (`[[operation]]`, `model::scenario::Operation`): per interpreter
//! and stable-ABI mode, the operation's PyO3 path in that mode's build less the same path in the
//! unlimited build, per operation, beside what the stable ABI forces (the cheapest C API path of
//! the task the mode can express, less the cheapest unlimited one) and PyO3's own part (the rest:
//! forced + PyO3's own = added). Time, not ratios: a ratio of a 40 ns call says nothing about a
//! maintainer's call, the time it adds does. Each figure is a sum of cells with coefficients
//! (`pairing::combination`), paired value by value where the cells were timed side by side.

use rayon::prelude::*;

use crate::analysis::cells::Analysis;
use crate::analysis::pairing::{self, Term};
use crate::analysis::stats::{self, seed_of};
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::scenario::{Group, Layer, Operation, Scenario};

/// Whether a figure differs from zero beyond the run's noise floor, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Slower,
    Faster,
    NotMeasurable,
}

impl Claim {
    /// Judges a figure relative to its unlimited time: beyond the noise floor (a fraction) or not.
    pub fn of(relative: &Estimate, floor: f64) -> Claim {
        if relative.low > floor {
            Claim::Slower
        } else if relative.high < -floor {
            Claim::Faster
        } else {
            Claim::NotMeasurable
        }
    }
}

/// What the stable ABI forces on an operation, and what PyO3 adds to that in the same build.
#[derive(Debug, Clone)]
pub struct Split {
    /// The cheapest C API path of the task in the unlimited build, and in this mode's.
    pub unlimited_path: String,
    pub stable_path: String,
    /// The stable path in this mode less the unlimited path in unlimited, per operation.
    pub forced: Estimate,
    /// `added - forced`: PyO3's path's distance from the stable path in this mode, less the same
    /// distance in unlimited (PyO3's fixed overhead cancels).
    pub pyo3: Estimate,
    pub forced_claim: Claim,
    pub pyo3_claim: Claim,
}

/// One operation in one stable-ABI mode on one interpreter.
#[derive(Debug, Clone)]
pub struct OpCost {
    pub interpreter: String,
    pub mode: Mode,
    /// The operation's key (`args`).
    pub op: String,
    /// Its time per operation in the unlimited build.
    pub unlimited: Estimate,
    /// The time it adds in this mode, per operation.
    pub added: Estimate,
    /// `added / unlimited`, which the noise floor judges.
    pub relative: Estimate,
    /// The PyO3 path taken where this mode cannot express the operation's own.
    pub via: Option<String>,
    pub split: Option<Split>,
    pub claim: Claim,
}

/// The operations a run's figures are given for: those its scenario files declare, or, for a
/// crate's scenarios (which declare none), each scenario as one (its statement is the user's call).
pub fn operations(groups: &[Group]) -> Vec<Operation> {
    let declared: Vec<Operation> = groups.iter().flat_map(|g| g.operations.iter().cloned()).collect();
    if !declared.is_empty() {
        return declared;
    }
    groups
        .iter()
        .flat_map(|g| &g.scenarios)
        .map(|s| Operation {
            key: s.name.clone(),
            label: if s.description.is_empty() { s.stmt.clone() } else { s.description.clone() },
            path: s.name.clone(),
            minus: None,
            per: 1,
            instead: None,
            entry: true,
            times: s.n,
        })
        .collect()
}

/// Every operation's cost in every stable-ABI mode on every interpreter that has its cells.
pub fn op_costs(r: &Results, a: &Analysis, ops: &[Operation]) -> Vec<OpCost> {
    let modes: Vec<Mode> = r.modes().into_iter().filter(|m| *m != Mode::Unlimited).collect();
    let units: Vec<(&str, Mode, &Operation)> = r
        .interpreters
        .iter()
        .flat_map(|i| modes.iter().flat_map(move |m| ops.iter().map(move |o| (i.name.as_str(), *m, o))))
        .collect();
    units.into_par_iter().filter_map(|(i, m, o)| op_cost(r, a, i, m, o)).collect()
}

/// `coef` × the operation's time per operation along `path` in `mode`: the path less the call it
/// rides on, over the operations it holds.
fn per_op<'a>(o: &'a Operation, path: &'a str, mode: Mode, column: usize, coef: f64) -> Vec<Term<'a>> {
    let c = coef * o.times as f64 / o.per as f64;
    let mut terms = vec![Term { column, coef: c, side: (mode, path) }];
    terms.extend(o.minus.as_deref().map(|m| Term { column, coef: -c, side: (mode, m) }));
    terms
}

/// `coef` × the time operation `o` adds in `mode` (taking path `via` where given), into `column`.
pub(crate) fn added_terms<'a>(
    o: &'a Operation,
    via: Option<&'a str>,
    mode: Mode,
    column: usize,
    coef: f64,
) -> Vec<Term<'a>> {
    let mut terms = per_op(o, via.unwrap_or(&o.path), mode, column, coef);
    terms.extend(per_op(o, &o.path, Mode::Unlimited, column, -coef));
    terms
}

fn op_cost(r: &Results, a: &Analysis, interp: &str, mode: Mode, o: &Operation) -> Option<OpCost> {
    let ok = |m: Mode, s: &str| r.cell(interp, m, s).is_some_and(|c| c.status == CellStatus::Ok);
    let unavailable = |s: &str| r.cell(interp, mode, s).is_some_and(|c| c.status == CellStatus::NotAvailable);
    if !ok(Mode::Unlimited, &o.path) || o.minus.as_deref().is_some_and(|m| !(ok(mode, m) && ok(Mode::Unlimited, m))) {
        return None;
    }
    let via = match &o.instead {
        Some(i) if !ok(mode, &o.path) && unavailable(&o.path) && ok(mode, i) => Some(i.clone()),
        _ if ok(mode, &o.path) => None,
        _ => return None,
    };
    // Columns: 0 added, 1 unlimited, 2 forced (when the task has C API paths).
    let mut terms = added_terms(o, via.as_deref(), mode, 0, 1.0);
    terms.extend(per_op(o, &o.path, Mode::Unlimited, 1, 1.0));
    let paths = cheapest_paths(r, a, interp, mode, &o.path);
    if let Some((u, s)) = &paths {
        terms.extend(per_op(o, s, mode, 2, 1.0));
        terms.extend(per_op(o, u, Mode::Unlimited, 2, -1.0));
    }
    let fs: [stats::Figure; 6] =
        [&|c| c[0], &|c| c[1], &|c| c[0] / c[1], &|c| c[2], &|c| c[0] - c[2], &|c| (c[0] - c[2]) / c[1]];
    let n = if paths.is_some() { 6 } else { 3 };
    let seed = seed_of(&format!("{interp}/{mode}/op/{}", o.key));
    let e = pairing::combinations(r, interp, &terms, &fs[..n], seed)?;
    let floor = a.noise.spread;
    let split = paths.map(|(u, s)| Split {
        unlimited_path: u.to_string(),
        stable_path: s.to_string(),
        forced: e[3],
        pyo3: e[4],
        forced_claim: Claim::of(&e[3].over(e[1].point), floor),
        pyo3_claim: Claim::of(&e[5], floor),
    });
    Some(OpCost {
        interpreter: interp.to_string(),
        mode,
        op: o.key.clone(),
        unlimited: e[1],
        added: e[0],
        relative: e[2],
        via,
        split,
        claim: Claim::of(&e[2], floor),
    })
}

/// The cheapest C API path of `path`'s task in the unlimited build and in `mode`'s (by median
/// time per operation), if the task has one in each.
fn cheapest_paths<'a>(
    r: &'a Results,
    a: &Analysis,
    interp: &str,
    mode: Mode,
    path: &str,
) -> Option<(&'a str, &'a str)> {
    let scenarios: Vec<&Scenario> = r.groups.iter().flat_map(|g| &g.scenarios).collect();
    let task = scenarios.iter().find(|s| s.name == path)?.task.as_deref()?;
    let cheapest = |m: Mode| -> Option<&'a str> {
        scenarios
            .iter()
            .filter(|s| s.task.as_deref() == Some(task) && s.layer == Some(Layer::CApi))
            .filter_map(|s| Some((s.name.as_str(), a.summary(interp, m, &s.name)?.median.point)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map(|(s, _)| s)
    };
    Some((cheapest(Mode::Unlimited)?, cheapest(mode)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::{attribution_results, results};

    fn op(key: &str, path: &str, minus: Option<&str>, per: u32) -> Operation {
        let minus = minus.map(str::to_string);
        Operation {
            key: key.into(),
            label: key.into(),
            path: path.into(),
            minus,
            per,
            instead: None,
            entry: false,
            times: 1,
        }
    }

    fn near(e: &Estimate, v: f64, tol: f64) -> bool {
        (e.point - v).abs() <= tol && e.low <= e.point && e.point <= e.high
    }

    #[test]
    fn an_operation_adds_its_path_in_the_mode_less_the_path_in_unlimited_split_into_forced_and_pyo3s_own() {
        // 3.8, ns: unlimited macro 8, fn 10, PyO3 12; abi3-py38 has no macro, fn 15, PyO3 30.
        let r = attribution_results();
        let a = analyse(&r);
        let costs = op_costs(&r, &a, &[op("items", "list_pyo3", None, 1)]);
        let c = costs.iter().find(|c| c.interpreter == "3.8.18").expect("3.8 has the PyO3 path");
        assert_eq!(costs.len(), 1, "3.12 has no PyO3 path: {costs:?}");
        assert!(near(&c.added, 18.0, 0.6) && near(&c.unlimited, 12.0, 0.1), "{c:?}");
        assert_eq!((c.claim, c.via.as_deref()), (Claim::Slower, None));
        let s = c.split.as_ref().expect("the task has C API paths");
        assert_eq!((s.unlimited_path.as_str(), s.stable_path.as_str()), ("list_macro", "list_get"));
        // Forced: the GetItem path in abi3-py38 (15) less the macro in unlimited (8); PyO3 the rest.
        assert!(near(&s.forced, 7.0, 0.4) && near(&s.pyo3, 11.0, 0.6), "{s:?}");
        assert!((s.forced.point + s.pyo3.point - c.added.point).abs() < 1e-9, "the parts add up to the whole");
    }

    #[test]
    fn an_operation_riding_on_another_is_the_difference_per_operation() {
        // The PyO3 path less the GetItem path, per 2: (30 - 15) / 2 - (12 - 10) / 2 = 6.5 ns on 3.8.
        let r = attribution_results();
        let a = analyse(&r);
        let costs = op_costs(&r, &a, &[op("x", "list_pyo3", Some("list_get"), 2)]);
        let c = costs.iter().find(|c| c.mode.name() == "abi3-py38").unwrap();
        assert!(near(&c.added, 6.5, 0.5) && near(&c.unlimited, 1.0, 0.3), "{c:?}");
        // A mode without the path (list_macro is not available in abi3) has no figure.
        assert!(op_costs(&r, &a, &[op("m", "list_macro", None, 1)]).is_empty());
    }

    #[test]
    fn a_path_the_mode_cannot_express_is_replaced_only_by_the_declared_one() {
        let r = results();
        let a = analyse(&r);
        let instead = Operation { instead: Some("list_get".into()), ..op("m", "list_macro", None, 1) };
        let costs = op_costs(&r, &a, &[instead]);
        let c = costs.iter().find(|c| c.interpreter == "3.8.18").unwrap();
        // The user takes PyList_GetItem in abi3-py38 (15 ns) where unlimited has the macro (8 ns).
        assert_eq!(c.via.as_deref(), Some("list_get"));
        assert!(near(&c.added, 7.0, 0.4), "{c:?}");
    }

    #[test]
    fn a_crates_scenarios_are_its_operations() {
        let mut r = results();
        let ops = operations(&r.groups);
        assert_eq!(ops.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["list_get", "list_macro", "kernel"]);
        r.groups[0].operations.push(op("items", "list_get", None, 1));
        assert_eq!(operations(&r.groups).len(), 1, "declared operations replace the scenarios");
    }
}
