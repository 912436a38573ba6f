//! A point estimate with its interval — what every figure in a file or a table is — and the
//! order statistics every stage takes of raw values (the bootstrap is `analysis::stats`).

use serde::{Deserialize, Serialize};

/// A point estimate with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub point: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    /// Half the interval's width relative to the point: the "±x %" a table shows.
    pub fn rel_half_width(&self) -> f64 {
        (self.high - self.low) / 2.0 / self.point.abs()
    }

    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Point and bounds moved by `d`.
    pub fn shifted(&self, d: f64) -> Estimate {
        Estimate { point: self.point + d, low: self.low + d, high: self.high + d }
    }

    /// Point and bounds divided by `d` (a positive scale: the interval keeps its order).
    pub fn over(&self, d: f64) -> Estimate {
        Estimate { point: self.point / d, low: self.low / d, high: self.high / d }
    }
}

/// Linear-interpolated quantile of sorted data (type 7, as numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of no data");
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

pub fn median(xs: &[f64]) -> f64 {
    quantile_sorted(&sorted(xs), 0.5)
}
