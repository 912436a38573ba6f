//! The decision, as numbers: what each operation adds under each floor (`costs`), what the
//! workload's calls cost (`pricing`), the wheel plan and how it turns with the threshold
//! (`wheels`), what raising the floor gains or loses (`steps`), the findings as measured, what
//! compute-bound calls say of the model, and the paths a mode cannot express. The report words
//! it; every number in a sentence is a field here.

use crate::analysis::costs::Claim;
use crate::analysis::findings::{evidence, Evidence};
use crate::analysis::fleet::Fleet;
use crate::analysis::judge::target_of;
use crate::analysis::plan::{sweep, Goal, Planner, WheelPlan};
use crate::analysis::pricing::CallCost;
use crate::analysis::shapes::{Shape, Workload};
use crate::analysis::steps::{steps, Step};
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::scenario::Kind;
use crate::model::version::Target;

/// A workload's cost on each interpreter in each mode, on each machine.
#[derive(Debug, Clone)]
pub struct WorkloadCosts {
    pub workload: Workload,
    /// Its shapes as priced (a way in added, shares summing to 1).
    pub shapes: Vec<Shape>,
    /// (machine, cost of one call of the mix) on every interpreter, in every mode.
    pub mix: Vec<(usize, CallCost)>,
}

/// Compute-bound scenarios in one stable-ABI mode: the check that a call's own work costs the same
/// in every build, which pricing a workload's `work` at nothing added assumes.
#[derive(Debug, Clone)]
pub struct ComputeCheck {
    pub mode: Mode,
    /// The lowest and highest ratio point, over scenarios and interpreters, and how many.
    pub min: f64,
    pub max: f64,
    pub count: usize,
    /// Ratios measurably slower / faster beyond the noise floor.
    pub slower: usize,
    pub faster: usize,
    /// The scenarios measurably slower somewhere, each with its highest ratio, highest first.
    pub slowest: Vec<(String, f64)>,
}

/// Scenarios a stable-ABI mode cannot express at all (their cells are `not_available`).
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub mode: Mode,
    pub scenarios: Vec<String>,
}

pub struct Decision<'a> {
    pub fleet: Fleet<'a>,
    /// The widest noise floor of the fleet's runs: no difference inside it is claimed.
    pub noise_floor: f64,
    /// Every Python the package supports (measured or not).
    pub supported: Vec<Target>,
    pub plan: WheelPlan,
    /// The plan at each threshold of `wheels::SWEEP` and the goal's.
    pub sweep: Vec<WheelPlan>,
    /// The goal's workload first, then (for abibench's own extension) every named one.
    pub workloads: Vec<WorkloadCosts>,
    pub steps: Vec<Step>,
    pub findings: Vec<Evidence>,
    pub compute: Vec<ComputeCheck>,
    pub unavailable: Vec<Unavailable>,
}

impl<'a> Decision<'a> {
    pub fn new(fleet: Fleet<'a>, goal: &Goal, supported: Vec<Target>, others: &[Workload]) -> Decision<'a> {
        let noise_floor = fleet.runs.iter().map(|r| r.analysis.noise.spread).fold(0.0, f64::max);
        let planner = Planner::new(&fleet, &goal.workload, &supported, noise_floor);
        let plan = planner.plan(goal);
        let sweep = sweep(&planner, goal);
        let mut workloads = vec![workload_costs(&planner, &fleet, &goal.workload)];
        for w in others.iter().filter(|w| w.name != goal.workload.name) {
            workloads.push(workload_costs(&Planner::new(&fleet, w, &supported, noise_floor), &fleet, w));
        }
        drop(planner);
        let p = fleet.primary();
        let steps = steps(p.results, &p.ops, &p.costs, noise_floor);
        let findings = evidence(p.results, p.analysis);
        let compute = compute_checks(p.results, p.analysis, noise_floor);
        let unavailable = unavailable(p.results);
        Decision { fleet, noise_floor, supported, plan, sweep, workloads, steps, findings, compute, unavailable }
    }

    /// The goal's workload and its costs.
    pub fn goal_costs(&self) -> &WorkloadCosts {
        &self.workloads[0]
    }
}

fn workload_costs(planner: &Planner, fleet: &Fleet, w: &Workload) -> WorkloadCosts {
    let shapes = w.shapes(&fleet.primary().ops);
    let mix = planner.costs().map(|(k, c)| (k, c.clone())).collect();
    WorkloadCosts { workload: w.clone(), shapes, mix }
}

fn compute_checks(r: &Results, a: &crate::analysis::cells::Analysis, floor: f64) -> Vec<ComputeCheck> {
    let compute = |scenario: &str| {
        r.groups.iter().any(|g| g.scenarios.iter().any(|s| s.name == scenario && g.kind_of(s) == Kind::Compute))
    };
    let mut out = Vec::new();
    for mode in r.modes().into_iter().filter(|m| *m != Mode::Unlimited) {
        let here: Vec<_> = a.mode_ratios.iter().filter(|x| x.mode == mode && compute(&x.scenario)).collect();
        let ratios: Vec<_> = here.iter().map(|x| x.ratio).collect();
        if ratios.is_empty() {
            continue;
        }
        let claims: Vec<Claim> = ratios.iter().map(|e| Claim::of(&e.shifted(-1.0), floor)).collect();
        let mut slowest: Vec<(String, f64)> = Vec::new();
        for (x, _) in here.iter().zip(&claims).filter(|(_, c)| **c == Claim::Slower) {
            match slowest.iter_mut().find(|(s, _)| *s == x.scenario) {
                Some((_, hi)) => *hi = hi.max(x.ratio.point),
                None => slowest.push((x.scenario.clone(), x.ratio.point)),
            }
        }
        slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.push(ComputeCheck {
            mode,
            min: ratios.iter().map(|e| e.point).fold(f64::INFINITY, f64::min),
            max: ratios.iter().map(|e| e.point).fold(f64::NEG_INFINITY, f64::max),
            count: ratios.len(),
            slower: claims.iter().filter(|c| **c == Claim::Slower).count(),
            faster: claims.iter().filter(|c| **c == Claim::Faster).count(),
            slowest,
        });
    }
    out
}

fn unavailable(r: &Results) -> Vec<Unavailable> {
    r.modes()
        .into_iter()
        .filter(|m| *m != Mode::Unlimited)
        .filter_map(|mode| {
            let mut scenarios: Vec<String> = r
                .cells
                .iter()
                .filter(|c| c.mode == mode && c.status == CellStatus::NotAvailable)
                .map(|c| c.scenario.clone())
                .collect();
            scenarios.sort();
            scenarios.dedup();
            (!scenarios.is_empty()).then_some(Unavailable { mode, scenarios })
        })
        .collect()
}

/// Interpreters in version order (free-threaded ones after the rest), the run's own order otherwise.
pub fn ordered_interpreters(r: &Results) -> Vec<&crate::model::interpreter::Interpreter> {
    let mut v: Vec<_> = r.interpreters.iter().collect();
    v.sort_by_key(|i| (i.gil_disabled, i.version));
    v
}

/// Stable-ABI modes that have cells in this run, in table order.
pub fn stable_modes(r: &Results) -> Vec<Mode> {
    r.modes().into_iter().filter(|m| *m != Mode::Unlimited).collect()
}

/// Every Python a run measured: the range a plan covers when nothing better is known.
pub fn measured_targets(r: &Results) -> Vec<Target> {
    let mut v: Vec<Target> = r.interpreters.iter().map(target_of).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::plan::{Reason, Wheel};
    use crate::analysis::testdata::free_threaded_results;
    use crate::model::version::PyVersion;

    /// PEP 803's case: on 3.15t the abi3t wheel against the cp315t one, and 3.14t, where no
    /// stable ABI loads, with a version-specific wheel of its own.
    #[test]
    fn a_plan_over_free_threaded_pythons_weighs_abi3t_against_cp315t() {
        let target = |minor, free_threaded| Target { version: PyVersion(3, minor), free_threaded };
        let supported = vec![target(14, true), target(15, false), target(15, true)];
        let goal = Goal { workload: Workload::parse("list_get=1").unwrap(), threshold: 0.15 };
        let decide = |ft_ns: f64| {
            let r = free_threaded_results(ft_ns);
            assert!(r.cells.iter().filter(|c| c.interpreter.ends_with('t')).all(|c| c.gil_enabled == Some(false)));
            let a = analyse(&r);
            let d = Decision::new(Fleet::single(&r, &a), &goal, supported.clone(), &[]);
            let reasons: Vec<_> = d.plan.targets.iter().map(|t| (t.wheel, t.reason.clone())).collect();
            (d.plan.decisions(), reasons, d.plan.wheels())
        };
        let abi3t = Wheel::Stable(Mode::Abi3t(PyVersion(3, 15)));
        // abi3t-py315 adds 5 % on 3.15t and 10 % on 3.15: one abi3t wheel serves both.
        let (decisions, reasons, wheels) = decide(10.5);
        assert_eq!(
            decisions,
            [
                ("3.14t".into(), "version-specific".into()),
                ("3.15".into(), "abi3t-py315".into()),
                ("3.15t".into(), "abi3t-py315".into())
            ]
        );
        assert_eq!(reasons[0], (Wheel::Specific, Reason::FreeThreaded));
        assert_eq!(reasons[2], (abi3t, Reason::Served));
        assert_eq!(wheels, 2, "cp314t and one abi3t-py315");
        // It adds 50 % on 3.15t: 3.15t gets its cp315t wheel, the abi3t wheel still serves 3.15.
        let (decisions, reasons, wheels) = decide(15.0);
        assert_eq!(decisions[2], ("3.15t".into(), "version-specific".into()));
        assert_eq!(reasons[2], (Wheel::Specific, Reason::Over));
        assert_eq!((reasons[1].0, wheels), (abi3t, 3));
    }
}
