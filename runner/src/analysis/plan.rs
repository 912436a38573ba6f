//! The wheel plan: for a workload and a threshold set in advance, the fewest wheels per platform —
//! at most one abi3 (or abi3t) wheel from some floor up, and a version-specific wheel for every
//! Python it does not serve — over every Python the package supports, measured or not.
//!
//! The rules, in the order they apply:
//! 1. A floor serves a Python when every interpreter of it, on every machine, has its cost's upper
//!    bound within the threshold; it does not when some lower bound lies above. In between the
//!    run cannot tell, and the tie rule is the safe side: a version-specific wheel, marked
//!    undecided. A verdict that turns when the threshold moves by the noise floor is marked too.
//! 2. Among floors, the plan with the fewest wheels; on a tie, one with an abi3 wheel (it also
//!    serves Pythons newer than the run's); between floors alike, the one whose worst upper bound
//!    is lower by more than the noise floor, else the lower floor (so noise does not pick it).
//! 3. A Python with no version-specific build (PyO3 too old for it) gets the abi3 wheel if that
//!    runs there (its cost cannot be measured: nothing to compare it with); a Python the package
//!    supports but no run measured gets the abi3 wheel if it covers it, else a version-specific
//!    one, each said to be unmeasured.

use crate::analysis::fleet::Fleet;
use crate::analysis::judge::{gather, judge, ran, target_of, Fit, Judged};
use crate::analysis::pricing::CallCost;
use crate::analysis::shapes::Workload;
use crate::model::estimate::median;
use crate::model::mode::Mode;
use crate::model::results::CellStatus;
use crate::model::version::Target;

/// What a user decides against, set before looking: their workload and the cost they accept.
#[derive(Debug, Clone)]
pub struct Goal {
    pub workload: Workload,
    /// A fraction: 0.05 accepts 5 %.
    pub threshold: f64,
}

impl Default for Goal {
    /// The balanced mix of named calls, within 5 %.
    fn default() -> Goal {
        Goal { workload: Workload::parse("balanced").expect("a named workload"), threshold: 0.05 }
    }
}

/// The wheel a Python gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wheel {
    Stable(Mode),
    Specific,
    /// None can be built for it.
    None,
}

/// Why a Python gets its wheel.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The abi3 wheel's cost there is within the threshold.
    Served,
    /// The judged floor (the plan's abi3 wheel, or without one the cheapest) costs more there.
    Over,
    /// The judged floor's interval straddles the threshold: version-specific, by the tie rule.
    Undecided,
    /// The judged floor cannot express an operation of the workload there.
    NotAvailable,
    /// The plan's abi3 wheel does not cover it (below its floor).
    Uncovered,
    /// No stable-ABI build ran there.
    NoStableMode,
    /// Free-threaded: an abi3 wheel does not load there.
    FreeThreaded,
    /// No version-specific build could be made there (why); the abi3 wheel runs there, cost unknown.
    Unbuildable(String),
    /// Nothing ran there (why).
    Unmeasured(String),
    /// Supported by the package, but no run had an interpreter of it.
    NotInRun,
}

/// One Python's part of the plan.
#[derive(Debug, Clone)]
pub struct TargetPlan {
    pub target: Target,
    pub wheel: Wheel,
    pub reason: Reason,
    /// The judgement behind it: the abi3 wheel's floor there, or without one the cheapest floor.
    pub judged: Option<Judged>,
}

impl TargetPlan {
    /// A Python whose wheel the run cannot settle firmly: undecided, a knife edge, or judged
    /// differently by the fleet's machines.
    pub fn marked(&self) -> bool {
        self.judged.as_ref().is_some_and(|j| j.near || j.cpu_dependent)
    }
}

#[derive(Debug, Clone)]
pub struct WheelPlan {
    pub goal: Goal,
    pub stable: Option<Mode>,
    pub targets: Vec<TargetPlan>,
    /// Every floor on every Python, for the page's evidence.
    pub judged: Vec<Judged>,
    pub noise_floor: f64,
}

impl WheelPlan {
    pub fn wheels(&self) -> usize {
        let stable = self.targets.iter().any(|t| matches!(t.wheel, Wheel::Stable(_)));
        stable as usize + self.targets.iter().filter(|t| t.wheel == Wheel::Specific).count()
    }

    /// Per Python, the wheel it gets (`abi3-py310`, `version-specific`, `undecided`, …): what two
    /// runs of one configuration should agree on.
    pub fn decisions(&self) -> Vec<(String, String)> {
        self.targets
            .iter()
            .map(|t| {
                let wheel = match (t.wheel, &t.reason) {
                    (_, Reason::Undecided) => "undecided".to_string(),
                    (Wheel::Stable(m), Reason::Unbuildable(_) | Reason::NotInRun) => format!("{m} (cost unknown)"),
                    (Wheel::Stable(m), _) => m.name(),
                    (Wheel::Specific, Reason::NotInRun) => "version-specific (not measured)".into(),
                    (Wheel::Specific, _) => "version-specific".into(),
                    (Wheel::None, Reason::Unmeasured(_)) => "not measured".into(),
                    (Wheel::None, _) => "no wheel".into(),
                };
                (t.target.to_string(), wheel)
            })
            .collect()
    }
}

/// What each Python of the fleet (and of `supported`) is, before any floor is chosen.
#[derive(Debug, Clone)]
enum Kind {
    Measured,
    Unbuildable(String),
    Unmeasured(String),
    NotInRun,
}

fn kinds(fleet: &Fleet, supported: &[Target]) -> Vec<(Target, Kind)> {
    let mut out: Vec<(Target, Kind)> = Vec::new();
    for run in &fleet.runs {
        let r = run.results;
        for i in &r.interpreters {
            let t = target_of(i);
            let cells: Vec<_> = r.cells.iter().filter(|c| c.interpreter == i.name).collect();
            let first_reason = || {
                let why = cells.iter().find_map(|c| c.reason.clone()).unwrap_or_else(|| "nothing was run".into());
                why.lines().next().unwrap_or_default().to_string()
            };
            let unlimited: Vec<_> = cells.iter().filter(|c| c.mode == Mode::Unlimited).collect();
            let kind = if !cells.iter().any(|c| c.status == CellStatus::Ok) {
                Kind::Unmeasured(first_reason())
            } else if !unlimited.is_empty() && unlimited.iter().all(|c| c.status == CellStatus::BuildFailed) {
                let why = unlimited[0].reason.as_deref().unwrap_or_default();
                Kind::Unbuildable(why.lines().next().unwrap_or_default().to_string())
            } else {
                Kind::Measured
            };
            match out.iter_mut().find(|(x, _)| *x == t) {
                // Measured on any machine beats failing on another.
                Some((_, Kind::Measured)) => {}
                Some((_, k)) => *k = kind,
                None => out.push((t, kind)),
            }
        }
    }
    for t in supported {
        if !out.iter().any(|(x, _)| x == t) {
            out.push((*t, Kind::NotInRun));
        }
    }
    out.sort_by_key(|(t, _)| *t);
    out
}

/// Whether an abi3 wheel of `mode` installs on `t` (abi3t covers both builds from its floor).
fn covers(mode: Mode, t: Target) -> bool {
    match mode {
        Mode::Abi3(f) => !t.free_threaded && t.version >= f,
        Mode::Abi3t(f) => t.version >= f,
        Mode::Unlimited => false,
    }
}

/// What a plan is made from: the workload's costs on every (Python, floor) of the fleet, priced
/// once, and what each Python is; a plan for any threshold is then only judgement.
pub struct Planner<'f> {
    fleet: &'f Fleet<'f>,
    gathered: Vec<Judged>,
    kinds: Vec<(Target, Kind)>,
    noise_floor: f64,
}

impl<'f> Planner<'f> {
    pub fn new(fleet: &'f Fleet<'f>, workload: &Workload, supported: &[Target], noise_floor: f64) -> Planner<'f> {
        Planner { fleet, gathered: gather(fleet, workload), kinds: kinds(fleet, supported), noise_floor }
    }

    /// The workload's cost of one call on each interpreter in each mode, by machine.
    pub fn costs(&self) -> impl Iterator<Item = (usize, &CallCost)> {
        self.gathered.iter().flat_map(|j| j.measured.iter().map(|m| (m.machine, &m.cost)))
    }

    /// The plan for `goal` (whose workload this planner priced).
    pub fn plan(&self, goal: &Goal) -> WheelPlan {
        let (fleet, noise_floor) = (self.fleet, self.noise_floor);
        let judged = judge(&self.gathered, goal.threshold, noise_floor, fleet.runs.len());
        let runs_on = |m: Mode, t: Target| {
            fleet
                .runs
                .iter()
                .any(|run| run.results.interpreters.iter().any(|i| target_of(i) == t && ran(run.results, &i.name, m)))
        };
        let assign = |floor: Option<Mode>| -> Vec<TargetPlan> {
            self.kinds.iter().map(|(t, kind)| assign_one(*t, kind, floor, &judged, &runs_on)).collect()
        };
        let mut candidates: Vec<Mode> = judged.iter().map(|j| j.mode).collect();
        candidates.extend(fleet.runs.iter().flat_map(|r| r.results.modes()).filter(|m| *m != Mode::Unlimited));
        candidates.sort();
        candidates.dedup();
        let mut best = assign(None);
        let mut best_floor = None;
        let faster = |a: Mode, b: Mode| blind_speed(fleet, a) < blind_speed(fleet, b) - noise_floor;
        for m in candidates {
            let option = assign(Some(m));
            // An abi3 wheel is chosen for what it was measured to serve (or for Pythons nothing
            // else can serve), never for Pythons no run measured.
            let earns = option
                .iter()
                .any(|t| matches!((t.wheel, &t.reason), (Wheel::Stable(_), Reason::Served | Reason::Unbuildable(_))));
            if earns && better(&option, &best, noise_floor, &faster) {
                best = option;
                best_floor = Some(m);
            }
        }
        WheelPlan { goal: goal.clone(), stable: best_floor, targets: best, judged, noise_floor }
    }
}

/// The plan for `goal` over the fleet and every Python in `supported`.
pub fn plan(fleet: &Fleet, goal: &Goal, supported: &[Target], noise_floor: f64) -> WheelPlan {
    Planner::new(fleet, &goal.workload, supported, noise_floor).plan(goal)
}

fn assign_one(
    t: Target,
    kind: &Kind,
    floor: Option<Mode>,
    judged: &[Judged],
    runs_on: &dyn Fn(Mode, Target) -> bool,
) -> TargetPlan {
    let plan =
        |wheel, reason, judged: Option<&Judged>| TargetPlan { target: t, wheel, reason, judged: judged.cloned() };
    let stable_here = floor.filter(|m| covers(*m, t));
    match kind {
        Kind::Unmeasured(why) => return plan(Wheel::None, Reason::Unmeasured(why.clone()), None),
        Kind::NotInRun => {
            let wheel = stable_here.map_or(Wheel::Specific, Wheel::Stable);
            return plan(wheel, Reason::NotInRun, None);
        }
        Kind::Unbuildable(why) => {
            let wheel = stable_here.filter(|m| runs_on(*m, t)).map_or(Wheel::None, Wheel::Stable);
            return plan(wheel, Reason::Unbuildable(why.clone()), None);
        }
        Kind::Measured => {}
    }
    let here: Vec<&Judged> = judged.iter().filter(|j| j.target == t).collect();
    if let Some(j) = stable_here.and_then(|m| here.iter().find(|j| j.mode == m)) {
        let reason = match j.fit {
            Fit::Within => return plan(Wheel::Stable(j.mode), Reason::Served, Some(j)),
            Fit::Over => Reason::Over,
            Fit::Undecided => Reason::Undecided,
            Fit::NotAvailable => Reason::NotAvailable,
        };
        return plan(Wheel::Specific, reason, Some(j));
    }
    // The abi3 wheel does not reach here: the cheapest floor shows what one would have cost.
    let cheapest = here.iter().min_by(|a, b| a.worst_high().total_cmp(&b.worst_high())).copied();
    let reason = match cheapest {
        None if t.free_threaded => Reason::FreeThreaded,
        None => Reason::NoStableMode,
        Some(_) if floor.is_some() => Reason::Uncovered,
        Some(j) => match j.fit {
            Fit::Over => Reason::Over,
            Fit::Undecided => Reason::Undecided,
            Fit::NotAvailable => Reason::NotAvailable,
            // A plan without an abi3 wheel is never chosen while some floor serves a Python.
            Fit::Within => Reason::Uncovered,
        },
    };
    plan(Wheel::Specific, reason, cheapest)
}

/// Rule 2: fewer Pythons left without a wheel, then fewer wheels, then (on a tie) an abi3 wheel,
/// then between floors a worst upper bound lower by more than the noise floor, then the floor
/// that runs faster where nothing can be compared with unlimited; else the one found first (the
/// lower floor).
fn better(
    option: &[TargetPlan],
    best: &[TargetPlan],
    noise_floor: f64,
    faster_blind: &dyn Fn(Mode, Mode) -> bool,
) -> bool {
    let unserved = |p: &[TargetPlan]| p.iter().filter(|t| t.wheel == Wheel::None).count();
    let count = |p: &[TargetPlan]| {
        p.iter().filter(|t| t.wheel == Wheel::Specific).count()
            + p.iter().any(|t| matches!(t.wheel, Wheel::Stable(_))) as usize
    };
    let floor = |p: &[TargetPlan]| p.iter().find_map(|t| if let Wheel::Stable(m) = t.wheel { Some(m) } else { None });
    let worst = |p: &[TargetPlan]| {
        p.iter()
            .filter(|t| t.reason == Reason::Served)
            .filter_map(|t| t.judged.as_ref().map(Judged::worst_high))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    if unserved(option) != unserved(best) {
        return unserved(option) < unserved(best);
    }
    if count(option) != count(best) {
        return count(option) < count(best);
    }
    match (floor(option), floor(best)) {
        (Some(_), None) => true,
        (Some(a), Some(b)) => {
            let (wa, wb) = (worst(option), worst(best));
            wa < wb - noise_floor || ((wa - wb).abs() <= noise_floor && faster_blind(a, b))
        }
        _ => false,
    }
}

/// Where no version-specific build exists, floors can still be set against each other: each
/// scenario's median time in `mode` over the fastest floor's there, averaged (1.0: as fast as any).
fn blind_speed(fleet: &Fleet, mode: Mode) -> f64 {
    let mut relative = Vec::new();
    for run in &fleet.runs {
        let r = run.results;
        let median_of = |interp: &str, scenario: &str, m: Mode| {
            let c = r.cell(interp, m, scenario).filter(|c| c.status == CellStatus::Ok)?;
            Some(median(&c.per_op(1.0).into_iter().map(|(_, v)| v).collect::<Vec<_>>()))
        };
        let unbuilt = r.interpreters.iter().filter(|i| {
            let u: Vec<_> = r.cells.iter().filter(|c| c.interpreter == i.name && c.mode == Mode::Unlimited).collect();
            !u.is_empty() && u.iter().all(|c| c.status == CellStatus::BuildFailed)
        });
        for i in unbuilt {
            for s in r.groups.iter().flat_map(|g| &g.scenarios) {
                let best =
                    r.modes().into_iter().filter_map(|m| median_of(&i.name, &s.name, m)).fold(f64::INFINITY, f64::min);
                relative.extend(median_of(&i.name, &s.name, mode).map(|x| x / best));
            }
        }
    }
    if relative.is_empty() {
        f64::INFINITY
    } else {
        relative.iter().sum::<f64>() / relative.len() as f64
    }
}

/// The thresholds the page sweeps to show where the plan turns (fractions).
pub const SWEEP: [f64; 12] = [0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15, 0.20, 0.25, 0.35, 0.50, 1.00];

/// The plan at each threshold of `SWEEP` (and the goal's own), for the same workload.
pub fn sweep(planner: &Planner, goal: &Goal) -> Vec<WheelPlan> {
    let mut ts: Vec<f64> = SWEEP.to_vec();
    if !ts.iter().any(|t| (t - goal.threshold).abs() < 1e-9) {
        ts.push(goal.threshold);
        ts.sort_by(f64::total_cmp);
    }
    ts.into_iter().map(|threshold| planner.plan(&Goal { threshold, ..goal.clone() })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::results;
    use crate::model::version::PyVersion;

    fn goal(workload: &str, threshold: f64) -> Goal {
        Goal { workload: Workload::parse(workload).unwrap(), threshold }
    }

    fn py(minor: u8) -> Target {
        Target { version: PyVersion(3, minor), free_threaded: false }
    }

    #[test]
    fn the_plan_takes_the_fewest_wheels_within_the_threshold() {
        // list_get: abi3-py38 costs +50 % on 3.8 and 3.12, abi3-py312 +10 % on 3.12.
        let r = results();
        let a = analyse(&r);
        let fleet = Fleet::single(&r, &a);
        let p = plan(&fleet, &goal("list_get=1", 0.05), &[], 0.0);
        assert_eq!((p.stable, p.wheels()), (None, 2), "{:?}", p.decisions());
        assert!(p.targets.iter().all(|t| t.reason == Reason::Over), "{:?}", p.targets);
        // Without an abi3 wheel each Python is judged by its cheapest floor: abi3-py312 on 3.12.
        assert_eq!(p.targets[1].judged.as_ref().unwrap().mode.name(), "abi3-py312");
        let p = plan(&fleet, &goal("list_get=1", 0.15), &[], 0.0);
        assert_eq!(p.decisions(), [("3.8".into(), "version-specific".into()), ("3.12".into(), "abi3-py312".into())]);
        assert_eq!(p.targets[0].reason, Reason::Uncovered);
        let p = plan(&fleet, &goal("list_get=1", 0.60), &[], 0.0);
        assert_eq!((p.stable.map(Mode::name), p.wheels()), (Some("abi3-py38".into()), 1));
        // Work the ABI does not touch: the lowest floor, one wheel.
        let p = plan(&fleet, &goal("kernel=1", 0.05), &[], 0.0);
        assert_eq!(p.stable.map(Mode::name), Some("abi3-py38".into()));
    }

    #[test]
    fn a_knife_edge_is_marked_and_takes_the_safe_side() {
        let r = results();
        let a = analyse(&r);
        let fleet = Fleet::single(&r, &a);
        // abi3-py312 adds 10 % on 3.12: at a 10 % threshold its interval straddles.
        let p = plan(&fleet, &goal("list_get=1", 0.10), &[], 0.0);
        let t312 = &p.targets[1];
        assert_eq!((t312.wheel, &t312.reason), (Wheel::Specific, &Reason::Undecided), "{:?}", p.decisions());
        assert!(t312.marked() && p.decisions()[1].1 == "undecided");
        // Moved by more than its interval, it is settled; within the noise floor of it, marked.
        let clear = plan(&fleet, &goal("list_get=1", 0.14), &[], 0.0);
        assert!(!clear.targets[1].marked() && clear.targets[1].reason == Reason::Served, "{:?}", clear.targets[1]);
        let near = plan(&fleet, &goal("list_get=1", 0.14), &[], 0.05);
        assert!(near.targets[1].marked(), "within the noise floor of the threshold");
    }

    #[test]
    fn every_supported_python_gets_a_wheel_or_a_reason() {
        let r = results();
        let a = analyse(&r);
        let fleet = Fleet::single(&r, &a);
        let ft = Target { version: PyVersion(3, 14), free_threaded: true };
        let p = plan(&fleet, &goal("list_get=1", 0.15), &[py(8), py(12), py(13), ft], 0.0);
        let d = p.decisions();
        assert_eq!(d[2], ("3.13".into(), "abi3-py312 (cost unknown)".into()), "{d:?}");
        assert_eq!(d[3], ("3.14t".into(), "version-specific (not measured)".into()), "{d:?}");
        assert_eq!(p.wheels(), 3, "cp38, abi3 from 3.12, cp314t");
    }

    #[test]
    fn a_python_is_served_only_if_it_is_on_every_machine_and_the_deciding_one_is_named() {
        let r = results();
        let mut slow = results();
        slow.run.id = "20260102T000000Z".into();
        slow.host.cpu_model = "Intel(R) Xeon(R) CPU @ 2.20GHz".into();
        // abi3-py312 costs 30 % on 3.12 on the other machine.
        for c in slow.cells.iter_mut().filter(|c| c.mode.name() == "abi3-py312" && c.scenario == "list_get") {
            for p in &mut c.processes {
                p.values_s.iter_mut().for_each(|v| *v *= 26.0 / 22.0);
            }
        }
        let (a, b) = (analyse(&r), analyse(&slow));
        let fleet = Fleet::new(&[(&r, &a), (&slow, &b)]).unwrap();
        let p = plan(&fleet, &goal("list_get=1", 0.15), &[], 0.0);
        let t = &p.targets[1];
        assert_eq!((t.wheel, &t.reason), (Wheel::Specific, &Reason::Over), "{:?}", p.decisions());
        let j = t.judged.as_ref().unwrap();
        assert!(j.cpu_dependent && t.marked());
        assert_eq!(fleet.runs[j.decisive().unwrap().machine].machine, "Intel Xeon");
    }

    #[test]
    fn the_sweep_shows_where_the_plan_turns() {
        let r = results();
        let a = analyse(&r);
        let fleet = Fleet::single(&r, &a);
        let g = goal("list_get=1", 0.12);
        let plans = sweep(&Planner::new(&fleet, &g.workload, &[], 0.0), &g);
        assert!(plans.iter().any(|p| (p.goal.threshold - 0.12).abs() < 1e-12), "the goal's own threshold is in");
        let wheels: Vec<usize> = plans.iter().map(WheelPlan::wheels).collect();
        assert_eq!((wheels[0], *wheels.last().unwrap()), (2, 1), "{wheels:?}");
    }
}
