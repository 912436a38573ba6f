//! The evidence for each `[[finding]]` of the scenario files: the ratio of its comparison in the
//! modes and interpreters the fact concerns, and the same comparison elsewhere for contrast.

use crate::analysis::cells::Analysis;
use crate::analysis::decision::Aggregate;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::scenario::Finding;

#[derive(Debug, Clone)]
pub struct Evidence {
    pub finding: Finding,
    /// (interpreter, mode, ratio) where the fact applies.
    pub here: Vec<(String, Mode, Estimate)>,
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
                .map(|c| (c.interpreter.clone(), c.mode, c.ratio))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::results;
    use crate::model::version::PyVersion;

    #[test]
    fn a_finding_gets_its_comparison_where_it_applies_and_elsewhere() {
        let mut r = results();
        r.groups[0].findings.push(Finding {
            fact: "F.".into(),
            comparison: "PyList_GetItem / PyList_GET_ITEM".into(),
            modes: vec![Mode::Unlimited],
            pythons: vec![PyVersion(3, 8)],
            context: None,
            link: None,
        });
        let ev = evidence(&r, &analyse(&r));
        assert_eq!(ev.len(), 1);
        let (interp, mode, ratio) = &ev[0].here[0];
        assert_eq!((interp.as_str(), *mode, ev[0].here.len()), ("3.8.18", Mode::Unlimited, 1));
        assert!((ratio.point - 1.25).abs() < 0.03, "{ratio:?}");
        let elsewhere = ev[0].elsewhere.as_ref().unwrap();
        assert_eq!(elsewhere.count, 1, "3.12's ratio, for contrast");
    }
}
