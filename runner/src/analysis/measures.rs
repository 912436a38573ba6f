//! Counts against time: each stable-ABI ratio of a wall-time run beside the same cell's ratio by
//! instruction counts (the other pass of the same night), where the two disagree, and, per cost
//! channel, which way. A count's ratio is all but a point (counts repeat exactly), so the test is
//! whether it lies outside the time's interval — widened by the wall-time run's noise floor, the
//! placement effects an interval of one layout need not include.
//!
//! Time above counts is cost that executes no extra instructions: stalls, cache and branch misses,
//! the indirect jump of a PLT stub into libpython. Counts above time are extra instructions the
//! processor overlaps with others. Which reading a channel leans to is computed here; the words
//! for it are the report's.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::analysis::calls::{self, CallDifference};
use crate::analysis::cells::Analysis;
use crate::analysis::decision::ordered_interpreters;
use crate::analysis::provenance;
use crate::analysis::reproduce::Agreement;
use crate::model::estimate::{median, Estimate};
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::scenario::{Channel, Layer};

/// How a cell's two ratios relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reading {
    /// The count's ratio lies within the time's interval (widened by the noise floor).
    Agree,
    /// Time's ratio is above the counts': cost that is not instructions.
    TimeHigher,
    /// The counts' ratio is above time's: instructions the processor overlaps.
    CountsHigher,
}

impl Reading {
    /// `counts` against `time`'s interval widened by the relative noise floor `floor`.
    pub fn of(time: &Estimate, counts: &Estimate, floor: f64) -> Reading {
        if counts.high < time.low / (1.0 + floor) {
            Reading::TimeHigher
        } else if counts.low > time.high * (1.0 + floor) {
            Reading::CountsHigher
        } else {
            Reading::Agree
        }
    }
}

/// One cell (interpreter × stable-ABI mode × scenario) in both passes.
#[derive(Debug, Clone)]
pub struct CellReading {
    /// `None`: the scenario declares no channel (a user's scenario may not).
    pub channel: Option<Channel>,
    pub layer: Option<Layer>,
    pub interpreter: String,
    pub mode: Mode,
    pub scenario: String,
    /// The stable-ABI ratio by wall time, and by instruction counts.
    pub time: Estimate,
    pub counts: Estimate,
    pub reading: Reading,
}

impl CellReading {
    /// Time's ratio over the counts': above 1.0, time shows more of a cost than the counts.
    pub fn excess(&self) -> f64 {
        self.time.point / self.counts.point
    }
}

/// A cost channel's cells in sum.
#[derive(Debug, Clone)]
pub struct ChannelReading {
    pub channel: Option<Channel>,
    pub cells: usize,
    pub time_higher: usize,
    pub counts_higher: usize,
    /// The median over the channel's cells of time's ratio over the counts'.
    pub median_excess: f64,
    /// The disagreeing cell farthest from its count (an index into [`MeasureAgreement::cells`]).
    pub farthest: Option<usize>,
}

impl ChannelReading {
    pub fn agree(&self) -> usize {
        self.cells - self.time_higher - self.counts_higher
    }

    /// The directions of disagreement present, the more frequent first (time first on a tie).
    pub fn leans(&self) -> Vec<(Reading, usize)> {
        let mut v = vec![(Reading::TimeHigher, self.time_higher), (Reading::CountsHigher, self.counts_higher)];
        v.retain(|(_, n)| *n > 0);
        v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        v
    }
}

/// A wall-time run and an instruction-count run of the same selection, cell by cell.
#[derive(Debug, Clone)]
pub struct MeasureAgreement {
    pub time_run: String,
    pub counts_run: String,
    /// The wall-time run's noise floor, by which its intervals are widened.
    pub noise_floor: f64,
    /// By channel (in `Channel::ALL` order, none last), interpreter, scenario (in the groups'
    /// order), mode.
    pub cells: Vec<CellReading>,
    pub channels: Vec<ChannelReading>,
    /// Stable-ABI ratios one pass has and the other lacks.
    pub only_time: usize,
    pub only_counts: usize,
    /// What differs between the passes' binaries, toolchain, layouts or processor.
    pub differences: Vec<String>,
    /// The calls each floor makes beyond unlimited (from the counts), beside the time it adds.
    pub calls: Vec<CallDifference>,
}

impl MeasureAgreement {
    /// Pairs the two passes, given in either order; an error when both measured the same way.
    pub fn of(a: (&Results, &Analysis), b: (&Results, &Analysis)) -> Result<MeasureAgreement> {
        let ((tr, ta), (cr, ca)) = match (a.0.run.sampling.measure, b.0.run.sampling.measure) {
            (Measure::WallTime, Measure::Instructions) => (a, b),
            (Measure::Instructions, Measure::WallTime) => (b, a),
            (m, _) => bail!(
                "runs {} and {} both measure {}: counts against time needs one run of each",
                a.0.run.id,
                b.0.run.id,
                m.name()
            ),
        };
        let pairs = Agreement::of(ta, ca, &tr.groups);
        let floor = ta.noise.spread;
        let scenarios: Vec<_> = tr.groups.iter().flat_map(|g| &g.scenarios).collect();
        let interps: Vec<&str> = ordered_interpreters(tr).iter().map(|i| i.name.as_str()).collect();
        let position = |xs: &[&str], x: &str| xs.iter().position(|y| *y == x).unwrap_or(xs.len());
        let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        let mut cells: Vec<CellReading> = pairs
            .pairs
            .iter()
            .map(|p| {
                let s = scenarios.iter().find(|s| s.name == p.scenario);
                CellReading {
                    channel: s.and_then(|s| s.channel),
                    layer: s.and_then(|s| s.layer),
                    interpreter: p.interpreter.clone(),
                    mode: p.mode,
                    scenario: p.scenario.clone(),
                    time: p.a,
                    counts: p.b,
                    reading: Reading::of(&p.a, &p.b, floor),
                }
            })
            .collect();
        let channel_rank = |c: Option<Channel>| c.map_or(Channel::ALL.len(), |c| c as usize);
        cells.sort_by_key(|c| {
            (channel_rank(c.channel), position(&interps, &c.interpreter), position(&names, &c.scenario), c.mode)
        });
        let mut by_channel: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (k, c) in cells.iter().enumerate() {
            by_channel.entry(channel_rank(c.channel)).or_default().push(k);
        }
        let channels = by_channel
            .into_values()
            .map(|ks| {
                let count = |r: Reading| ks.iter().filter(|&&k| cells[k].reading == r).count();
                let farthest = ks
                    .iter()
                    .copied()
                    .filter(|&k| cells[k].reading != Reading::Agree)
                    .max_by(|&x, &y| cells[x].excess().ln().abs().total_cmp(&cells[y].excess().ln().abs()));
                ChannelReading {
                    channel: cells[ks[0]].channel,
                    cells: ks.len(),
                    time_higher: count(Reading::TimeHigher),
                    counts_higher: count(Reading::CountsHigher),
                    median_excess: median(&ks.iter().map(|&k| cells[k].excess()).collect::<Vec<_>>()),
                    farthest,
                }
            })
            .collect();
        Ok(MeasureAgreement {
            time_run: tr.run.id.clone(),
            counts_run: cr.run.id.clone(),
            noise_floor: floor,
            cells,
            channels,
            only_time: pairs.only_a,
            only_counts: pairs.only_b,
            differences: provenance::differences(tr, cr),
            calls: calls::timed(calls::differences(cr, ca), ta),
        })
    }

    /// The stable modes with cells, in table order.
    pub fn modes(&self) -> Vec<Mode> {
        let mut m: Vec<Mode> = self.cells.iter().map(|c| c.mode).collect();
        m.sort();
        m.dedup();
        m
    }

    /// The cells of one channel.
    pub fn of_channel(&self, channel: Option<Channel>) -> impl Iterator<Item = &CellReading> {
        self.cells.iter().filter(move |c| c.channel == channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::{self, est};

    #[test]
    fn a_count_outside_the_widened_interval_disagrees_and_says_which_way() {
        let time = est(1.50, 1.45, 1.55);
        assert_eq!(Reading::of(&time, &est(1.50, 1.50, 1.50), 0.0), Reading::Agree);
        assert_eq!(Reading::of(&time, &est(1.30, 1.30, 1.30), 0.0), Reading::TimeHigher);
        assert_eq!(Reading::of(&time, &est(1.70, 1.70, 1.70), 0.0), Reading::CountsHigher);
        // 1.43 misses the interval, not the interval widened by a 2 % noise floor (1.45 / 1.02).
        assert_eq!(Reading::of(&time, &est(1.43, 1.43, 1.43), 0.0), Reading::TimeHigher);
        assert_eq!(Reading::of(&time, &est(1.43, 1.43, 1.43), 0.02), Reading::Agree);
        // A count with an interval of its own disagrees only where the two do not overlap.
        assert_eq!(Reading::of(&time, &est(1.40, 1.38, 1.46), 0.0), Reading::Agree);
    }

    fn passes(item: f64, kernel: f64) -> (Results, Results) {
        (testdata::results(), testdata::counts(item, kernel))
    }

    #[test]
    fn channels_lean_the_way_their_cells_disagree() {
        // Item access: counts see 1.2× where time sees 1.5×; compute: counts see 1.3× where time
        // sees 1.0×.
        let (time, counts) = passes(1.2, 1.3);
        let (at, ac) = (analyse(&time), analyse(&counts));
        let m = MeasureAgreement::of((&counts, &ac), (&time, &at)).unwrap();
        assert_eq!((m.time_run.as_str(), m.counts_run.as_str()), ("20260101T000000Z", "20260101T000500Z"));
        assert_eq!(m.cells.len(), at.mode_ratios.len());
        let item = m.cells.iter().find(|c| c.interpreter == "3.8.18" && c.scenario == "list_get").unwrap();
        assert_eq!(item.reading, Reading::TimeHigher, "{item:?}");
        assert!((item.counts.point - 1.2).abs() < 0.03, "{item:?}");
        assert!((item.excess() - 1.25).abs() < 0.05, "{item:?}");
        // abi3-py312 costs the same in both passes.
        let same = m.cells.iter().find(|c| c.mode == Mode::Abi3(crate::model::version::PyVersion(3, 12)));
        assert!(same.is_some_and(|c| c.reading == Reading::Agree && c.channel == Some(Channel::ItemAccess)));
        // Item access first (Channel::ALL order), compute last.
        let ch: Vec<_> = m.channels.iter().map(|c| c.channel).collect();
        assert_eq!(ch, [Some(Channel::ItemAccess), Some(Channel::Compute)]);
        let (items, compute) = (&m.channels[0], &m.channels[1]);
        assert_eq!((items.cells, items.time_higher, items.counts_higher, items.agree()), (3, 2, 0, 1));
        assert_eq!(items.leans(), [(Reading::TimeHigher, 2)]);
        assert_eq!((compute.cells, compute.counts_higher), (3, 2));
        assert_eq!(compute.leans(), [(Reading::CountsHigher, 2)]);
        assert!(compute.median_excess < 0.8, "{compute:?}");
        let far = &m.cells[compute.farthest.unwrap()];
        assert_eq!((far.scenario.as_str(), far.reading), ("kernel", Reading::CountsHigher));
        assert!(m.only_time == 0 && m.only_counts == 0, "{m:?}");
        // The fixture's builds carry no hashes: that the passes may have run other binaries is said.
        assert!(m.differences.len() == 2 && m.differences.iter().all(|d| d.contains("no build hashes")), "{m:?}");
        assert_eq!(m.of_channel(Some(Channel::Compute)).count(), 3);
    }

    #[test]
    fn two_passes_that_agree_lean_nowhere_and_two_of_one_measure_are_refused() {
        let (time, counts) = passes(1.5, 1.0);
        let (at, ac) = (analyse(&time), analyse(&counts));
        let m = MeasureAgreement::of((&time, &at), (&counts, &ac)).unwrap();
        assert!(m.cells.iter().all(|c| c.reading == Reading::Agree), "{m:?}");
        assert!(m.channels.iter().all(|c| c.leans().is_empty() && c.farthest.is_none()));
        let err = MeasureAgreement::of((&time, &at), (&time, &at)).unwrap_err().to_string();
        assert!(err.contains("both measure wall-time"), "{err}");
    }
}
