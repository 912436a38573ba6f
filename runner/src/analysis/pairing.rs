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
    unit(r, a) == unit(r, b)
}

/// What a scenario's values were taken in step with: its group's other scenarios, where the run
/// interleaved them, else only itself (in every build).
fn unit<'a>(r: &'a Results, scenario: &'a str) -> &'a str {
    let group = r.groups.iter().find(|g| g.scenarios.iter().any(|x| x.name == scenario)).map(|g| g.name.as_str());
    match group {
        Some(g) if r.run.sampling.paired_scenarios => g,
        _ => scenario,
    }
}

/// One term of a figure: `coef` times a cell's time per operation, added into `column`.
#[derive(Debug, Clone, Copy)]
pub struct Term<'a> {
    pub column: usize,
    pub coef: f64,
    pub side: Side<'a>,
}

/// `f` of the columns (each the sum of its terms, cells of `interpreter`), with its 95 % interval
/// (`stats::combined_ci`): cells timed side by side are combined value by value, so drift cancels
/// as in a paired ratio; the rest are resampled apart. `None` if a cell has no values.
pub fn combination(
    r: &Results,
    interpreter: &str,
    terms: &[Term],
    f: &dyn Fn(&[f64]) -> f64,
    seed: u64,
) -> Option<Estimate> {
    combinations(r, interpreter, terms, &[f], seed).map(|mut v| v.remove(0))
}

/// `combination` for several functions of the same columns, from the same resamples.
pub fn combinations(
    r: &Results,
    interpreter: &str,
    terms: &[Term],
    fs: &[stats::Figure],
    seed: u64,
) -> Option<Vec<Estimate>> {
    stats::combined_cis(&sets(r, interpreter, terms)?, fs, seed)
}

/// The terms' cells as `stats::combined_ci` takes them: a set per unit of cells timed side by
/// side, a row per position they share, a column per figure. `None` if a cell has no values.
pub fn sets(r: &Results, interpreter: &str, terms: &[Term]) -> Option<Vec<stats::Nested<Vec<f64>>>> {
    let scale = r.run.sampling.measure.scale();
    let columns = terms.iter().map(|t| t.column + 1).max()?;
    let mut units: Vec<(&str, Vec<&Term>)> = Vec::new();
    for t in terms {
        let u = unit(r, t.side.1);
        match units.iter_mut().find(|(k, _)| *k == u) {
            Some((_, ts)) => ts.push(t),
            None => units.push((u, vec![t])),
        }
    }
    units
        .iter()
        .map(|(_, ts)| {
            let values: Vec<Vec<(At, f64)>> =
                ts.iter().map(|t| r.cell(interpreter, t.side.0, t.side.1)?.values(scale)).collect::<Option<_>>()?;
            let sides: Vec<&[(At, f64)]> = values.iter().map(Vec::as_slice).collect();
            Some(stats::aligned(&sides, |xs| {
                let mut row = vec![0.0; columns];
                for (t, x) in ts.iter().zip(xs) {
                    row[t.column] += t.coef * x;
                }
                row
            }))
        })
        .collect()
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
