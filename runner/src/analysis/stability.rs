//! Do runs of one configuration decide alike? Each run's wheel plan for each workload and
//! threshold, Python by Python: identical, or differing only where a run marks the Python (a knife
//! edge, an undecided interval, machines that disagree), or differing where no run warned.

use crate::analysis::fleet::Fleet;
use crate::analysis::plan::{Goal, Planner, WheelPlan};
use crate::analysis::shapes::Workload;
use crate::model::version::Target;

/// One workload at one threshold, across runs.
#[derive(Debug, Clone)]
pub struct PlanRow {
    pub workload: String,
    pub threshold: f64,
    /// Per run: Python → (its wheel, marked by that run).
    pub runs: Vec<Vec<(String, String, bool)>>,
}

impl PlanRow {
    /// Pythons whose wheel differs between runs, and whether some run marked each.
    pub fn differences(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let Some(first) = self.runs.first() else { return out };
        for (k, (target, _, _)) in first.iter().enumerate() {
            let wheels: Vec<&str> = self.runs.iter().filter_map(|r| r.get(k).map(|x| x.1.as_str())).collect();
            if wheels.windows(2).any(|w| w[0] != w[1]) {
                out.push((target.clone(), self.runs.iter().any(|r| r.get(k).is_some_and(|x| x.2))));
            }
        }
        out
    }
}

/// Each run (a fleet of one) planned for every workload at every threshold.
pub fn plan_rows(fleets: &[Fleet], workloads: &[Workload], thresholds: &[f64], supported: &[Target]) -> Vec<PlanRow> {
    let floor = |f: &Fleet| f.runs.iter().map(|r| r.analysis.noise.spread).fold(0.0, f64::max);
    let mut rows = Vec::new();
    for w in workloads {
        let planners: Vec<Planner> = fleets.iter().map(|f| Planner::new(f, w, supported, floor(f))).collect();
        for &threshold in thresholds {
            let goal = Goal { workload: w.clone(), threshold };
            let runs = planners.iter().map(|p| decisions(&p.plan(&goal))).collect();
            rows.push(PlanRow { workload: w.name.clone(), threshold, runs });
        }
    }
    rows
}

fn decisions(p: &WheelPlan) -> Vec<(String, String, bool)> {
    p.decisions().into_iter().zip(&p.targets).map(|((t, w), tp)| (t, w, tp.marked())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::results;

    #[test]
    fn plans_of_two_runs_are_set_side_by_side_and_differences_say_whether_they_were_marked() {
        let a = results();
        let mut b = results();
        // In the second run abi3-py312 costs 13 % on 3.12, not 10 %.
        for c in b.cells.iter_mut().filter(|c| c.mode.name() == "abi3-py312" && c.scenario == "list_get") {
            for p in &mut c.processes {
                p.values_s.iter_mut().for_each(|v| *v *= 22.6 / 22.0);
            }
        }
        let (aa, ab) = (analyse(&a), analyse(&b));
        let fleets = [Fleet::single(&a, &aa), Fleet::single(&b, &ab)];
        let w = Workload::parse("list_get=1").unwrap();
        let rows = plan_rows(&fleets, &[w], &[0.05, 0.60], &[]);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.differences().is_empty()), "{rows:?}");
        let rows = plan_rows(&fleets, &[Workload::parse("list_get=1").unwrap()], &[0.12], &[]);
        let d = rows[0].differences();
        assert_eq!(d, [("3.12".to_string(), true)], "{rows:?}");
    }
}
