//! Why a floor costs: the calls into the interpreter its build makes per operation beyond those
//! of the unlimited build on the same interpreter (instruction-count runs record each cell's
//! calls, `model::callgrind`), beside what the floor adds in the run's measure.

use std::collections::BTreeMap;

use crate::analysis::cells::Analysis;
use crate::model::mode::Mode;
use crate::model::results::{key_string, Cell, Results};

/// One stable-ABI cell's calls against the unlimited build's, per operation.
#[derive(Debug, Clone, PartialEq)]
pub struct CallDifference {
    pub interpreter: String,
    pub scenario: String,
    pub mode: Mode,
    /// (function, the floor's calls per operation less unlimited's), most calls first; only
    /// functions whose count differs.
    pub calls: Vec<(String, f64)>,
    /// The floor's median per operation less unlimited's (ns or instructions), where both have one.
    pub added: Option<f64>,
}

/// Calls per operation of a cell: its count over `loops` iterations of a statement of `n`
/// operations.
fn per_operation(c: &Cell) -> Option<BTreeMap<&str, f64>> {
    let calls = c.calls.as_ref().filter(|k| k.loops > 0 && c.n > 0)?;
    let per = (calls.loops * c.n) as f64;
    Some(calls.counts.iter().map(|(f, k)| (f.as_str(), *k as f64 / per)).collect())
}

/// The floor's median per operation less unlimited's on the same interpreter, in `a`'s measure.
fn added(a: &Analysis, interpreter: &str, mode: Mode, scenario: &str) -> Option<f64> {
    let median = |m| a.summaries.get(&key_string(interpreter, m, scenario)).map(|s| s.median.point);
    median(mode).zip(median(Mode::Unlimited)).map(|(f, u)| f - u)
}

/// The differences of a count run, each beside what its floor adds in the time run `a` of the
/// same selection (`None` where that run has no such cells).
pub fn timed(diffs: Vec<CallDifference>, a: &Analysis) -> Vec<CallDifference> {
    diffs.into_iter().map(|d| CallDifference { added: added(a, &d.interpreter, d.mode, &d.scenario), ..d }).collect()
}

/// Every stable-ABI cell whose calls differ from the unlimited build's on its interpreter, in
/// the order of the scenario files, then interpreters, then floors.
pub fn differences(r: &Results, a: &Analysis) -> Vec<CallDifference> {
    let mut out = Vec::new();
    for floor in r.cells.iter().filter(|c| c.mode != Mode::Unlimited) {
        let Some(unlimited) = r.cell(&floor.interpreter, Mode::Unlimited, &floor.scenario) else { continue };
        let (Some(mine), Some(base)) = (per_operation(floor), per_operation(unlimited)) else { continue };
        let mut calls: Vec<(String, f64)> = mine
            .keys()
            .chain(base.keys())
            .map(|f| (f.to_string(), mine.get(f).unwrap_or(&0.0) - base.get(f).unwrap_or(&0.0)))
            // A statement makes whole calls: less than one per two executions is periodic work
            // (the allocator, the garbage collector), not the path.
            .filter(|(_, d)| (d * floor.n as f64).abs() >= 0.5)
            .collect();
        if calls.is_empty() {
            continue;
        }
        calls.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then_with(|| x.0.cmp(&y.0)));
        calls.dedup_by(|x, y| x.0 == y.0);
        out.push(CallDifference {
            interpreter: floor.interpreter.clone(),
            scenario: floor.scenario.clone(),
            mode: floor.mode,
            calls,
            added: added(a, &floor.interpreter, floor.mode, &floor.scenario),
        });
    }
    let scenarios: Vec<&str> = r.groups.iter().flat_map(|g| g.scenarios.iter().map(|s| s.name.as_str())).collect();
    let place = |d: &CallDifference| {
        let scenario = scenarios.iter().position(|s| *s == d.scenario);
        (scenario, r.interpreters.iter().position(|i| i.name == d.interpreter), d.mode)
    };
    out.sort_by_key(|d| place(d));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::counted as cell;
    use crate::model::sampling::Measure;
    use crate::model::version::PyVersion;

    #[test]
    fn a_floor_is_told_the_calls_it_makes_beyond_unlimited_per_operation() {
        let mut r = crate::analysis::testdata::results();
        r.run.sampling.measure = Measure::Instructions;
        r.cells = vec![
            cell(Mode::Unlimited, 2, 1000.0, &[("_PyLong_FromByteArray", 2), ("PyTuple_New", 2)]),
            cell(
                Mode::Abi3(PyVersion(3, 10)),
                2,
                1800.0,
                &[("PyNumber_Or", 2), ("PyLong_FromUnsignedLongLong", 6), ("PyTuple_New", 2)],
            ),
            // Calls alike: nothing to say.
            cell(Mode::Abi3(PyVersion(3, 12)), 2, 1000.0, &[("_PyLong_FromByteArray", 2), ("PyTuple_New", 2)]),
        ];
        let d = differences(&r, &analyse(&r));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].mode, Mode::Abi3(PyVersion(3, 10)));
        let calls: Vec<(&str, f64)> = d[0].calls.iter().map(|(f, k)| (f.as_str(), *k)).collect();
        assert_eq!(
            calls,
            [("PyLong_FromUnsignedLongLong", 3.0), ("PyNumber_Or", 1.0), ("_PyLong_FromByteArray", -1.0)]
        );
        // 800 instructions per statement of 2 operations.
        assert_eq!(d[0].added, Some(400.0));
        // Less than a call per two statement executions is left out.
        r.cells[1].calls.as_mut().unwrap().counts.insert("PyGC_Collect".into(), 1);
        assert_eq!(differences(&r, &analyse(&r))[0].calls.len(), 3);
        // A cell without calls (wall time, or a file older than the field) has no difference.
        r.cells[0].calls = None;
        assert!(differences(&r, &analyse(&r)).is_empty());
    }

    #[test]
    fn beside_a_time_run_each_difference_carries_the_time_its_floor_adds() {
        let abi3 = Mode::Abi3(PyVersion(3, 10));
        let mut counts = crate::analysis::testdata::results();
        counts.run.sampling.measure = Measure::Instructions;
        counts.cells = vec![cell(Mode::Unlimited, 1, 100.0, &[("A", 1)]), cell(abi3, 1, 150.0, &[("B", 1)])];
        let mut time = crate::analysis::testdata::results();
        // 20 and 30 ns per operation (values in seconds).
        time.cells = vec![cell(Mode::Unlimited, 1, 20e-9, &[]), cell(abi3, 1, 30e-9, &[])];
        let counted = differences(&counts, &analyse(&counts));
        assert_eq!(counted[0].added, Some(50.0));
        let d = timed(counted, &analyse(&time));
        assert_eq!(d[0].added.map(|ns| (ns * 1e3).round() / 1e3), Some(10.0));
        assert_eq!(d[0].calls, [("A".to_string(), -1.0), ("B".to_string(), 1.0)]);
    }
}
