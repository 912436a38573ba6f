//! The evidence for each `[[finding]]` of the scenario files: the ratio of its comparison in the
//! modes and interpreters the fact concerns, and the same comparison elsewhere for contrast.

use crate::analysis::cells::Analysis;
use crate::analysis::decision::Aggregate;
use crate::model::estimate::Estimate;
use crate::model::results::Results;
use crate::model::scenario::Finding;

#[derive(Debug, Clone)]
pub struct Evidence {
    pub finding: Finding,
    /// (interpreter, mode, ratio) where the fact applies.
    pub here: Vec<(String, String, Estimate)>,
    /// The same comparison in the same modes on the other interpreters of the run.
    pub elsewhere: Option<Aggregate>,
}

pub fn evidence(r: &Results, a: &Analysis) -> Vec<Evidence> {
    r.groups
        .iter()
        .flat_map(|g| g.findings.iter().map(move |f| (g, f)))
        .map(|(g, f)| {
            let concerns = |interp: &str| {
                f.pythons.is_empty()
                    || r.interpreters
                        .iter()
                        .any(|i| i.name == interp && !i.gil_disabled && f.pythons.contains(&i.version))
            };
            let ratios = a
                .comparisons
                .iter()
                .filter(|c| c.group == g.name && c.label == f.comparison && f.modes.contains(&c.mode));
            let here = ratios
                .clone()
                .filter(|c| concerns(&c.interpreter))
                .map(|c| (c.interpreter.clone(), c.mode.name(), c.ratio))
                .collect();
            let others: Vec<Estimate> = ratios.filter(|c| !concerns(&c.interpreter)).map(|c| c.ratio).collect();
            Evidence {
                finding: f.clone(),
                here,
                elsewhere: Aggregate::of(&others).map(|x| x.with_floor(a.noise.spread)),
            }
        })
        .collect()
}
