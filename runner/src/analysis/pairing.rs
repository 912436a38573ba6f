//! Ratios between cells of one interpreter, paired value by value wherever the worker timed them
//! side by side: one scenario in several builds always, scenarios of one group in a run that
//! interleaves them (`Sampling::paired_scenarios`). Otherwise each cell is resampled on its own.

use crate::analysis::stats;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::{At, Results};

/// One cell of the interpreter in question: a mode and a scenario.
pub type Side<'a> = (Mode, &'a str);

/// Whether values of scenarios `a` and `b` were taken in the same rounds.
pub fn interleaved(r: &Results, a: &str, b: &str) -> bool {
    let group = |s: &str| r.groups.iter().find(|g| g.scenarios.iter().any(|x| x.name == s)).map(|g| &g.name);
    a == b || (r.run.sampling.paired_scenarios && group(a).is_some() && group(a) == group(b))
}

/// `b / a` per operation, with its 95 % interval; `None` if either cell has no values.
pub fn between(r: &Results, interpreter: &str, a: Side, b: Side, seed: u64) -> Option<Estimate> {
    quotient(r, interpreter, &[b], &[a], seed)
}

/// The product of the `num` cells over the product of the `den` cells (per operation), e.g. a
/// ratio of two ratios; paired round by round when every cell was timed in the same rounds.
pub fn quotient(r: &Results, interpreter: &str, num: &[Side], den: &[Side], seed: u64) -> Option<Estimate> {
    let scale = r.run.sampling.measure.scale();
    let values = |s: &Side| r.cell(interpreter, s.0, s.1)?.values(scale);
    let nv: Vec<Vec<(At, f64)>> = num.iter().map(values).collect::<Option<_>>()?;
    let dv: Vec<Vec<(At, f64)>> = den.iter().map(values).collect::<Option<_>>()?;
    let first = num.iter().chain(den).next()?.1;
    if num.iter().chain(den).all(|s| interleaved(r, first, s.1)) {
        let ratios = stats::paired_quotients(&slices(&nv), &slices(&dv));
        if ratios.iter().flatten().any(|p| !p.is_empty()) {
            return Some(stats::median_ci_nested(&ratios, seed));
        }
    }
    let plain = |v: &[Vec<(At, f64)>]| -> Vec<Vec<f64>> { v.iter().map(|s| s.iter().map(|x| x.1).collect()).collect() };
    let (np, dp) = (plain(&nv), plain(&dv));
    Some(stats::unpaired_quotient(&slices(&np), &slices(&dp), seed))
}

fn slices<T>(v: &[Vec<T>]) -> Vec<&[T]> {
    v.iter().map(Vec::as_slice).collect()
}
