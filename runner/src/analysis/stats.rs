//! Statistics on raw values: medians, bootstrap intervals, outliers, paired ratios.
//! Pure functions on slices; the analysis stage decides what to feed them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use crate::model::estimate::{median, quantile_sorted};
use crate::model::estimate::{sorted, Estimate};
use crate::model::results::At;

/// Bootstrap resamples per interval: enough for stable 2.5/97.5 % percentiles.
pub const RESAMPLES: usize = 2000;

/// A seed per cell that does not depend on iteration order, so parallel analysis is reproducible.
pub fn seed_of(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Median with a percentile-bootstrap 95 % interval; deterministic for a given seed.
pub fn median_ci(xs: &[f64], seed: u64) -> Estimate {
    median_ci_grouped(&[xs.to_vec()], seed)
}

/// Median of all values with a two-stage bootstrap 95 % interval: each resample draws the groups
/// (worker processes) with replacement, then values within each drawn group. Values of one process
/// share its memory layout and its stretch of machine state, so they are not independent of each
/// other; resampling them as if they were makes intervals too narrow (an A/A test shows it). With
/// one group this is the ordinary bootstrap. Deterministic for a given seed.
pub fn median_ci_grouped(groups: &[Vec<f64>], seed: u64) -> Estimate {
    median_ci_nested(&[groups.to_vec()], seed)
}

/// Values outside Tukey's fences (1.5 IQR beyond the quartiles). Counted and shown, never dropped.
pub fn outliers(xs: &[f64]) -> usize {
    if xs.len() < 4 {
        return 0;
    }
    let s = sorted(xs);
    let (q1, q3) = (quantile_sorted(&s, 0.25), quantile_sorted(&s, 0.75));
    let fence = 1.5 * (q3 - q1);
    s.iter().filter(|&&x| x < q1 - fence || x > q3 + fence).count()
}

/// Per-value summary of one cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub median: Estimate,
    pub values: usize,
    pub outliers: usize,
    /// Interquartile range over the median: the cell's own noise.
    pub rel_iqr: f64,
}

pub fn summarize(xs: &[f64], seed: u64) -> Summary {
    let s = sorted(xs);
    let med = quantile_sorted(&s, 0.5);
    Summary {
        median: median_ci(xs, seed),
        values: xs.len(),
        outliers: outliers(xs),
        rel_iqr: (quantile_sorted(&s, 0.75) - quantile_sorted(&s, 0.25)) / med.abs(),
    }
}

/// Ratios `b / a` of values taken side by side (the k-th layout variant of each side, the same
/// process and round), grouped by layout and, within each, by process for `median_ci_nested`.
/// Layouts pair by rank, not number: an A/A test across layouts compares variant 1 with 2.
pub fn paired_ratios(a: &[(At, f64)], b: &[(At, f64)]) -> Vec<Vec<Vec<f64>>> {
    paired_quotients(&[b], &[a])
}

/// As `paired_ratios`, for the product of the `num` sides over the product of the `den` sides
/// (a ratio of two ratios, for one): one value per position that every side has.
pub fn paired_quotients(num: &[&[(At, f64)]], den: &[&[(At, f64)]]) -> Vec<Vec<Vec<f64>>> {
    let sides: Vec<&[(At, f64)]> = num.iter().chain(den).copied().collect();
    aligned(&sides, |xs| xs[..num.len()].iter().product::<f64>() / xs[num.len()..].iter().product::<f64>())
}

/// Values of several sides taken side by side — the k-th layout variant of each (by rank, not
/// number: an A/A test across layouts compares variant 1 with 2), the same process and round —
/// each position's values made one by `f`, grouped by layout and then process (`Nested`).
pub fn aligned<T>(sides: &[&[(At, f64)]], f: impl Fn(&[f64]) -> T) -> Nested<T> {
    let ranked = |side: &[(At, f64)]| -> BTreeMap<At, f64> {
        let layouts: BTreeSet<u32> = side.iter().map(|(k, _)| k.layout).collect();
        let rank = |l: u32| layouts.iter().position(|x| *x == l).unwrap_or_default() as u32;
        side.iter().map(|(k, v)| (At { layout: rank(k.layout), ..*k }, *v)).collect()
    };
    let sides: Vec<BTreeMap<At, f64>> = sides.iter().map(|s| ranked(s)).collect();
    let Some(first) = sides.first() else { return Vec::new() };
    let mut grouped: BTreeMap<u32, BTreeMap<usize, Vec<T>>> = BTreeMap::new();
    for k in first.keys() {
        if let Some(xs) = sides.iter().map(|m| m.get(k).copied()).collect::<Option<Vec<f64>>>() {
            grouped.entry(k.layout).or_default().entry(k.process).or_default().push(f(&xs));
        }
    }
    grouped.into_values().map(|by_process| by_process.into_values().collect()).collect()
}

/// Values grouped by layout variant, then by worker process: the units `median_ci_nested`
/// resamples.
pub type Nested<T> = Vec<Vec<Vec<T>>>;

/// One nested bootstrap draw (layouts, then processes within, then values within each): the
/// resampling of `median_ci_nested`, for any kind of value.
fn draw<'a, T>(layouts: &'a [Vec<Vec<T>>], rng: &mut fastrand::Rng, out: &mut Vec<&'a T>) {
    for _ in layouts {
        // One layout is not drawn: the stream of draws, and so the interval, is then exactly
        // the two-stage bootstrap's.
        let processes = if layouts.len() == 1 { &layouts[0] } else { &layouts[rng.usize(..layouts.len())] };
        for _ in processes {
            let g = &processes[rng.usize(..processes.len())];
            out.extend((0..g.len()).map(|_| &g[rng.usize(..g.len())]));
        }
    }
}

/// `f` of column totals, with a 95 % interval: each set holds rows of values taken side by side
/// (a row per position, a column per figure, each a sum of cells with coefficients); a column's
/// total is the sum over sets of the column's median. Sets are resampled independently (nested,
/// as `median_ci_nested`), rows within a set together, so what a set's cells share (drift, a
/// process's layout) cancels within a row as it does in a paired ratio.
pub fn combined_ci(sets: &[Nested<Vec<f64>>], f: &dyn Fn(&[f64]) -> f64, seed: u64) -> Option<Estimate> {
    combined_cis(sets, &[f], seed).map(|mut v| v.remove(0))
}

/// A figure made of column totals (a difference, a ratio of two columns).
pub type Figure<'a> = &'a dyn Fn(&[f64]) -> f64;

/// `combined_ci` for several functions of the same columns, from the same resamples (so figures
/// of one set of cells agree with each other draw by draw).
pub fn combined_cis(sets: &[Nested<Vec<f64>>], fs: &[Figure], seed: u64) -> Option<Vec<Estimate>> {
    let point = combined_point(sets)?;
    let columns = point.len();
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut rows, mut column) = (Vec::new(), Vec::new());
    let mut totals = vec![0.0; columns];
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(RESAMPLES); fs.len()];
    for _ in 0..RESAMPLES {
        totals.iter_mut().for_each(|t| *t = 0.0);
        for set in sets {
            rows.clear();
            draw(set, &mut rng, &mut rows);
            for (c, total) in totals.iter_mut().enumerate() {
                column.clear();
                column.extend(rows.iter().map(|r: &&Vec<f64>| r[c]));
                *total += median_in_place(&mut column);
            }
        }
        for (f, d) in fs.iter().zip(&mut draws) {
            d.push(f(&totals));
        }
    }
    Some(
        fs.iter()
            .zip(&mut draws)
            .map(|(f, d)| {
                d.sort_by(f64::total_cmp);
                Estimate { point: f(&point), low: quantile_sorted(d, 0.025), high: quantile_sorted(d, 0.975) }
            })
            .collect(),
    )
}

/// The column totals of `combined_ci` without its interval: cheap enough to decide whether an
/// interval is worth drawing. `None` if a set has no rows.
pub fn combined_point(sets: &[Nested<Vec<f64>>]) -> Option<Vec<f64>> {
    let columns = sets.iter().flatten().flatten().flatten().next()?.len();
    let mut totals = vec![0.0; columns];
    for set in sets {
        let rows: Vec<&Vec<f64>> = set.iter().flatten().flatten().collect();
        if rows.is_empty() {
            return None;
        }
        for (c, total) in totals.iter_mut().enumerate() {
            *total += median_in_place(&mut rows.iter().map(|r| r[c]).collect::<Vec<f64>>());
        }
    }
    Some(totals)
}

/// The median (numpy's, averaging the middle two) by selection, not a full sort: the bootstrap
/// takes thousands.
fn median_in_place(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    let (_, &mut hi, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return hi;
    }
    let lo = xs[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo + hi) / 2.0
}

/// Median of all values with a three-stage bootstrap 95 % interval: layout variants, then worker
/// processes within each, then values. A build's code placement can move a call by percents
/// (Mytkowicz et al., ASPLOS 2009), so builds of other layouts are the outermost independent
/// units, as processes are within one build. With one layout this is the two-stage bootstrap of
/// `median_ci_grouped`.
pub fn median_ci_nested(layouts: &[Vec<Vec<f64>>], seed: u64) -> Estimate {
    let all: Vec<f64> = layouts.iter().flatten().flatten().copied().collect();
    let point = median(&all);
    if all.len() < 2 {
        return Estimate { point, low: point, high: point };
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut buf = Vec::with_capacity(all.len());
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            buf.clear();
            draw(layouts, &mut rng, &mut buf);
            median(&buf.iter().map(|x| **x).collect::<Vec<f64>>())
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    Estimate { point, low: quantile_sorted(&medians, 0.025), high: quantile_sorted(&medians, 0.975) }
}

/// `median(b) / median(a)` for values not taken in pairs; the interval resamples each side.
pub fn unpaired_ratio(a: &[f64], b: &[f64], seed: u64) -> Estimate {
    unpaired_quotient(&[b], &[a], seed)
}

/// The product of the `num` sides' medians over the product of the `den` sides' medians, for
/// values not taken in pairs; the interval resamples every side on its own.
pub fn unpaired_quotient(num: &[&[f64]], den: &[&[f64]], seed: u64) -> Estimate {
    let of = |m: &dyn Fn(&[f64]) -> f64| {
        num.iter().map(|x| m(x)).product::<f64>() / den.iter().map(|x| m(x)).product::<f64>()
    };
    let point = of(&median);
    let rng = std::cell::RefCell::new(fastrand::Rng::with_seed(seed));
    let resample = |xs: &[f64]| {
        let mut rng = rng.borrow_mut();
        median(&(0..xs.len()).map(|_| xs[rng.usize(..xs.len())]).collect::<Vec<_>>())
    };
    let mut ratios: Vec<f64> = (0..RESAMPLES).map(|_| of(&resample)).collect();
    ratios.sort_by(f64::total_cmp);
    Estimate { point, low: quantile_sorted(&ratios, 0.025), high: quantile_sorted(&ratios, 0.975) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noisy data: `center` times (1 + uniform noise of +-spread).
    fn noisy(center: f64, spread: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n).map(|_| center * (1.0 + spread * (2.0 * rng.f64() - 1.0))).collect()
    }

    #[test]
    fn quantiles_match_numpy() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.25), 1.75);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
    }

    #[test]
    fn outliers_are_counted_not_dropped() {
        let mut xs = noisy(10.0, 0.01, 30, 1);
        xs.push(100.0);
        assert_eq!(outliers(&xs), 1);
        assert_eq!(summarize(&xs, 0).values, 31);
    }

    #[test]
    fn a_known_shift_is_found_and_an_aa_pair_is_not() {
        // Same drift hits both sides of a pair, as interleaving intends; B is 10 % slower.
        let drift = noisy(1.0, 0.3, 40, 7);
        let noise_a = noisy(1.0, 0.02, 40, 8);
        let noise_b = noisy(1.0, 0.02, 40, 9);
        // Two processes of 20 rounds each.
        let key = |i: usize| At { layout: 0, process: i / 20, round: i % 20 };
        let a: Vec<_> = (0..40).map(|i| (key(i), 100.0 * drift[i] * noise_a[i])).collect();
        let b: Vec<_> = (0..40).map(|i| (key(i), 110.0 * drift[i] * noise_b[i])).collect();
        let shifted = median_ci_nested(&paired_ratios(&a, &b), 3);
        assert!(!shifted.contains(1.0) && shifted.contains(1.10), "{shifted:?}");

        let a2: Vec<_> = (0..40).map(|i| (key(i), 100.0 * drift[i] * noise_b[i])).collect();
        let same = median_ci_nested(&paired_ratios(&a, &a2), 3);
        assert!(same.contains(1.0), "{same:?}");
        // Pairing is what makes this tight: the unpaired interval is far wider under the same drift.
        let unpaired =
            unpaired_ratio(&a.iter().map(|x| x.1).collect::<Vec<_>>(), &b.iter().map(|x| x.1).collect::<Vec<_>>(), 3);
        assert!(unpaired.rel_half_width() > 3.0 * shifted.rel_half_width(), "{unpaired:?} vs {shifted:?}");
    }

    #[test]
    fn pairs_only_matching_keys() {
        let at = |layout, process, round| At { layout, process, round };
        let a = [(at(0, 0, 0), 2.0), (at(0, 0, 1), 4.0), (at(1, 0, 1), 1.0)];
        let b = [(at(0, 0, 1), 6.0), (at(0, 1, 0), 9.0), (at(1, 0, 1), 3.0), (at(1, 1, 1), 5.0)];
        assert_eq!(paired_ratios(&a, &b), vec![vec![vec![1.5]], vec![vec![3.0]]]);
        // Layout variants 3 and 4 of B pair with 1 and 2 of A: by rank.
        let b = [(at(3, 0, 1), 6.0), (at(4, 0, 1), 3.0)];
        let a = [(at(1, 0, 1), 4.0), (at(2, 0, 1), 1.0)];
        assert_eq!(paired_ratios(&a, &b), vec![vec![vec![1.5]], vec![vec![3.0]]]);
    }

    #[test]
    fn a_difference_between_layouts_reaches_the_interval() {
        // Three layouts 3 % apart, each measured by four agreeing processes: the interval reaches
        // the outer layouts, and is no narrower than resampling the twelve processes as equals.
        let layout = |c: f64, s: u64| (0..4).map(|k| noisy(c, 0.005, 20, s + k)).collect::<Vec<_>>();
        let layouts = vec![layout(1.03, 1), layout(1.0, 10), layout(0.97, 20)];
        let nested = median_ci_nested(&layouts, 5);
        let flat = median_ci_grouped(&layouts.concat(), 5);
        assert!(nested.low <= flat.low && nested.high >= flat.high, "{nested:?} vs {flat:?}");
        assert!(nested.low < 0.975 && nested.high > 1.025, "{nested:?}");
    }

    #[test]
    fn a_difference_between_processes_widens_the_interval() {
        // The two processes disagree by 3 % (as two memory layouts can): the interval must reach
        // both, where treating all 80 values as independent would claim far more precision.
        let groups = vec![noisy(1.02, 0.03, 40, 1), noisy(0.99, 0.03, 40, 2)];
        let naive = median_ci(&groups.concat(), 5);
        let grouped = median_ci_grouped(&groups, 5);
        assert!(grouped.low < 0.995 && grouped.high > 1.015, "{grouped:?}");
        assert!(grouped.rel_half_width() > 2.0 * naive.rel_half_width(), "{grouped:?} vs {naive:?}");
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_median() {
        let xs = noisy(50.0, 0.1, 25, 4);
        let e1 = median_ci(&xs, 11);
        assert_eq!(e1, median_ci(&xs, 11));
        assert!(e1.low <= e1.point && e1.point <= e1.high && e1.low < e1.high);
    }
}
