//! The A/A test's judgement: one build measured against itself, as `compare` measures modes. Any
//! difference is noise, so the share of intervals that exclude 1.0 is the harness's
//! false-difference rate on this machine, and their widths its resolution.

use crate::analysis::stats;
use crate::model::estimate::Estimate;
use crate::model::results::Cell;
use crate::model::scenario::Scenario;

/// The target the harness should meet on a machine it can be trusted on: |ratio - 1| within this.
pub const TOLERANCE: f64 = 0.01;

/// One scenario's A/A outcome on one interpreter.
pub struct AaResult {
    pub interpreter: String,
    pub scenario: String,
    pub ratio: Estimate,
}

impl AaResult {
    /// The interval excludes 1.0: the harness would have reported a difference that is not there.
    pub fn false_difference(&self) -> bool {
        !self.ratio.contains(1.0)
    }

    pub fn within_tolerance(&self) -> bool {
        (self.ratio.point - 1.0).abs() <= TOLERANCE
    }
}

/// B/A of each scenario measured in both copies (cells labelled "A" and "B"), paired as modes are.
pub fn judge(interpreter: &str, scenarios: &[&Scenario], cells: &[(String, Cell)]) -> Vec<AaResult> {
    let values = |label: &str, scenario: &str| {
        cells
            .iter()
            .find(|(l, c)| l == label && c.scenario == scenario)
            .map(|(_, c)| c.per_op(1.0))
            .filter(|v| !v.is_empty())
    };
    scenarios
        .iter()
        .filter_map(|s| {
            let (a, b) = (values("A", &s.name)?, values("B", &s.name)?);
            Some(AaResult {
                interpreter: interpreter.to_string(),
                scenario: s.name.clone(),
                ratio: stats::median_ci_nested(&stats::paired_ratios(&a, &b), 7),
            })
        })
        .collect()
}
