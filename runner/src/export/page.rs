//! What the report's pages are made from ([`Report`]), with the link encoding every page uses.

use crate::analysis::caveats::run_caveats;
use crate::analysis::cells::Analysis;
use crate::analysis::compat::CompatMatrix;
use crate::analysis::decision::{measured_targets, Decision};
use crate::analysis::fleet::Fleet;
use crate::analysis::measures::MeasureAgreement;
use crate::analysis::plan::Goal;
use crate::analysis::shapes::Workload;
use crate::export::plots::Plot;
use crate::model::results::Results;

/// Everything the page exporters show.
pub struct Report<'a> {
    /// The first run given (the only one, but for a report of several machines).
    pub results: &'a Results,
    pub analysis: &'a Analysis,
    pub decision: Decision<'a>,
    pub caveats: Vec<String>,
    pub plots: Vec<Plot>,
    pub matrix: Option<&'a CompatMatrix>,
    /// This run against the other pass of the same selection (counts for a wall-time run, or the
    /// reverse), when given.
    pub measures: Option<MeasureAgreement>,
}

impl<'a> Report<'a> {
    /// The report of run `r` for `goal`: its decision and wheel plan (computed here, once per
    /// run), findings and caveats; plots, matrix and the other pass are added by whoever has them.
    pub fn new(r: &'a Results, a: &'a Analysis, goal: &Goal) -> Report<'a> {
        Report::of(Fleet::single(r, a), goal)
    }

    /// The report of runs made on several machines: one plan for all of them (refused, with the
    /// reason, when they cannot be combined).
    pub fn of_runs(runs: &[(&'a Results, &'a Analysis)], goal: &Goal) -> Result<Report<'a>, String> {
        Ok(Report::of(Fleet::new(runs)?, goal))
    }

    fn of(fleet: Fleet<'a>, goal: &Goal) -> Report<'a> {
        let (r, a) = (fleet.primary().results, fleet.primary().analysis);
        let mut supported: Vec<_> = fleet.runs.iter().flat_map(|x| measured_targets(x.results)).collect();
        supported.extend(r.subject.plan_targets());
        supported.sort();
        supported.dedup();
        // A crate's own calls are its workload; abibench's extension is read for every named one.
        let others = if goal.workload.statements { Vec::new() } else { Workload::builtin() };
        Report {
            results: r,
            analysis: a,
            decision: Decision::new(fleet, goal, supported, &others),
            caveats: run_caveats(r, a),
            plots: Vec::new(),
            matrix: None,
            measures: None,
        }
    }
}

/// Percent-encodes every byte of `s` except ASCII letters, digits, `-._~` and those in `keep`:
/// safe in a URL, and (having no `&<>"'`) in an HTML attribute or a Markdown link.
pub fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A relative file path as a link target: each segment encoded, the separators kept.
pub fn path_url(path: &str) -> String {
    percent_encode(path, "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_everything_but_the_path_shape() {
        assert_eq!(path_url("../run 1/<a>&\"'.json"), "../run%201/%3Ca%3E%26%22%27.json");
        assert_eq!(percent_encode("é#%", ""), "%C3%A9%23%25");
    }
}
