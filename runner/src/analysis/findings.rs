//! The evidence for each `[[finding]]` of the scenario files: its comparison's ratio in the modes
//! and interpreters the fact concerns. A fact about PyO3 or CPython is a cost only where it is
//! measured as one: where the comparison (candidate / baseline: the fact's path over the cheaper
//! one) lies above 1.0 beyond the noise floor. Elsewhere it was checked and cost nothing
//! measurable, which the page says in those words, with the same numbers.

use crate::analysis::cells::Analysis;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::scenario::Finding;

/// One interpreter and mode the fact concerns, and the comparison's ratio there.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub interpreter: String,
    pub mode: Mode,
    pub ratio: Estimate,
    /// The ratio's interval lies above 1.0 beyond the noise floor.
    pub costs: bool,
}

#[derive(Debug, Clone)]
pub struct Evidence {
    pub finding: Finding,
    pub here: Vec<Measurement>,
    /// The same comparison in the same modes on the run's other interpreters, for contrast: the
    /// range of its points, and how many.
    pub elsewhere: Option<(f64, f64, usize)>,
}

impl Evidence {
    /// Measured as a cost somewhere it applies: the page states it as one.
    pub fn is_cost(&self) -> bool {
        self.here.iter().any(|m| m.costs)
    }
}

pub fn evidence(r: &Results, a: &Analysis) -> Vec<Evidence> {
    let floor = a.noise.spread;
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
                .map(|c| Measurement {
                    interpreter: c.interpreter.clone(),
                    mode: c.mode,
                    ratio: c.ratio,
                    costs: c.ratio.low > 1.0 + floor,
                })
                .collect();
            let others: Vec<f64> = ratios.filter(|c| !concerns(&c.interpreter)).map(|c| c.ratio.point).collect();
            let elsewhere = (!others.is_empty()).then(|| {
                let (lo, hi) =
                    others.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
                (lo, hi, others.len())
            });
            Evidence { finding: f.clone(), here, elsewhere }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::results;
    use crate::model::version::PyVersion;

    fn finding(pythons: Vec<PyVersion>) -> Finding {
        Finding {
            fact: "F.".into(),
            comparison: "PyList_GetItem / PyList_GET_ITEM".into(),
            modes: vec![Mode::Unlimited],
            pythons,
            context: None,
            link: None,
        }
    }

    #[test]
    fn a_finding_is_a_cost_only_where_its_comparison_clears_the_noise_floor() {
        let mut r = results();
        r.groups[0].findings.push(finding(vec![PyVersion(3, 8)]));
        let ev = evidence(&r, &analyse(&r));
        let m = &ev[0].here[0];
        // GetItem (10 ns) over the macro (8 ns) on unlimited 3.8: 1.25x, a cost.
        assert_eq!((m.interpreter.as_str(), m.mode, ev[0].here.len()), ("3.8.18", Mode::Unlimited, 1));
        assert!((m.ratio.point - 1.25).abs() < 0.03 && m.costs && ev[0].is_cost(), "{m:?}");
        assert_eq!(ev[0].elsewhere.map(|e| e.2), Some(1), "3.12's ratio, for contrast");
        // The same comparison read the other way round (the macro over GetItem) is no cost.
        r.groups[0].comparisons[0] = crate::model::scenario::Comparison {
            label: r.groups[0].comparisons[0].label.clone(),
            baseline: "list_get".into(),
            candidate: "list_macro".into(),
        };
        let ev = evidence(&r, &analyse(&r));
        assert!(!ev[0].is_cost() && ev[0].here[0].ratio.point < 1.0, "{:?}", ev[0]);
    }
}
