//! Do two runs agree? Each stable-ABI ratio of one run against the same cell of the other: do
//! their intervals overlap, and does each run claim the same difference (an interval wholly
//! above 1.0, wholly below, or neither)?

use std::collections::BTreeMap;

use crate::analysis::cells::Analysis;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::scenario::Group;

/// What a ratio's interval claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Claim {
    Slower,
    None,
    Faster,
}

impl Claim {
    pub fn of(e: &Estimate) -> Claim {
        if e.low > 1.0 {
            Claim::Slower
        } else if e.high < 1.0 {
            Claim::Faster
        } else {
            Claim::None
        }
    }
}

/// One cell in both runs.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The scenario's group (its cost channel), for the summary by group.
    pub group: String,
    pub interpreter: String,
    pub mode: Mode,
    pub scenario: String,
    pub a: Estimate,
    pub b: Estimate,
}

impl Pair {
    pub fn overlap(&self) -> bool {
        self.a.low <= self.b.high && self.b.low <= self.a.high
    }

    pub fn same_claim(&self) -> bool {
        Claim::of(&self.a) == Claim::of(&self.b)
    }

    /// How far apart the intervals are, relative (0 when they overlap).
    pub fn gap(&self) -> f64 {
        let (lo, hi) = if self.a.high < self.b.low { (self.a.high, self.b.low) } else { (self.b.high, self.a.low) };
        ((hi - lo) / lo).max(0.0)
    }
}

/// The agreement of two runs over the stable-ABI ratios both have.
#[derive(Debug, Clone)]
pub struct Agreement {
    /// Worst first (widest gap between the intervals).
    pub pairs: Vec<Pair>,
    pub only_a: usize,
    pub only_b: usize,
}

impl Agreement {
    /// `groups` names each scenario's group (from either run's scenario files).
    pub fn of(a: &Analysis, b: &Analysis, groups: &[Group]) -> Agreement {
        let key = |r: &crate::analysis::cells::Ratio| (r.interpreter.clone(), r.mode, r.scenario.clone());
        let mine: BTreeMap<_, Estimate> = a.mode_ratios.iter().map(|r| (key(r), r.ratio)).collect();
        let theirs: BTreeMap<_, Estimate> = b.mode_ratios.iter().map(|r| (key(r), r.ratio)).collect();
        let group_of = |scenario: &str| {
            groups.iter().find(|g| g.scenarios.iter().any(|s| s.name == scenario)).map_or("?", |g| g.name.as_str())
        };
        let mut pairs: Vec<Pair> = mine
            .iter()
            .filter_map(|(k, ea)| {
                Some(Pair {
                    group: group_of(&k.2).to_string(),
                    interpreter: k.0.clone(),
                    mode: k.1,
                    scenario: k.2.clone(),
                    a: *ea,
                    b: *theirs.get(k)?,
                })
            })
            .collect();
        pairs.sort_by(|x, y| y.gap().total_cmp(&x.gap()));
        Agreement {
            only_a: mine.keys().filter(|k| !theirs.contains_key(*k)).count(),
            only_b: theirs.keys().filter(|k| !mine.contains_key(*k)).count(),
            pairs,
        }
    }

    pub fn overlapping(&self) -> usize {
        self.pairs.iter().filter(|p| p.overlap()).count()
    }

    pub fn same_claims(&self) -> usize {
        self.pairs.iter().filter(|p| p.same_claim()).count()
    }

    /// Per group: (group, pairs, disjoint, of which A's ratio is the farther from 1.0).
    pub fn by_group(&self) -> Vec<(String, usize, usize, usize)> {
        let mut groups: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        for p in &self.pairs {
            let g = groups.entry(p.group.as_str()).or_default();
            g.0 += 1;
            if !p.overlap() {
                g.1 += 1;
                g.2 += usize::from(p.a.point.ln().abs() > p.b.point.ln().abs());
            }
        }
        groups.into_iter().map(|(g, (n, d, a))| (g.to_string(), n, d, a)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testdata::est;

    #[test]
    fn overlap_claims_and_gaps() {
        let pair = |a: Estimate, b: Estimate| Pair {
            group: "g".into(),
            interpreter: "i".into(),
            mode: Mode::Unlimited,
            scenario: "s".into(),
            a,
            b,
        };
        let p = pair(est(1.5, 1.4, 1.6), est(1.55, 1.5, 1.7));
        assert!(p.overlap() && p.same_claim() && p.gap() == 0.0);
        let p = pair(est(1.5, 1.4, 1.6), est(1.0, 0.9, 1.1));
        assert!(!p.overlap() && !p.same_claim());
        assert!((p.gap() - (1.4 - 1.1) / 1.1).abs() < 1e-12, "{}", p.gap());
        // Disjoint, yet both say "slower": the verdict agrees where the figure does not.
        let p = pair(est(3.4, 3.3, 3.5), est(2.3, 2.2, 2.4));
        assert!(!p.overlap() && p.same_claim());
        assert_eq!(Claim::of(&est(1.0, 0.99, 1.01)), Claim::None);
    }
}
