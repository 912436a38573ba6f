//! The gate: a run against a baseline, cell by cell, with a verdict a CI job can act on.
//!
//! Wall-time cells carry noise, and on a shared machine two runs differ by more than either
//! run's own interval shows. So a wall-time cell counts as changed only when the 95 % interval of
//! run/baseline (bootstrap over both runs' values, `stats::unpaired_ratio`) lies entirely beyond
//! a minimum effect: noise in either run widens the interval, and the minimum effect absorbs the
//! drift between runs that no interval sees. Instruction counts are near deterministic, so an
//! instruction cell needs only a small relative threshold.
//! Both thresholds are symmetric in ratio: swapping run and baseline swaps regressed and improved.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::analysis::provenance;
use crate::analysis::stats::{self, seed_of};
use crate::model::estimate::Estimate;
use crate::model::history::GateRecord;
use crate::model::mode::Mode;
use crate::model::results::{key_string, Cell, CellStatus, Results};
use crate::model::sampling::Measure;

/// Smallest changes that count, as fractions (0.05 = 5 %).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub min_effect: f64,
    pub instr_threshold: f64,
}

/// In the order the verdict table lists them: what needs attention first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Slower beyond noise and minimum effect, or failing (crash, hang, error) where the baseline had values.
    Regressed,
    /// The baseline has values, the run has none (not selected, not measured, interrupted).
    Missing,
    /// The run has values, the baseline has none.
    New,
    Improved,
    Unchanged,
}

impl Verdict {
    pub const ALL: [Verdict; 5] =
        [Verdict::Regressed, Verdict::Improved, Verdict::Unchanged, Verdict::New, Verdict::Missing];

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Missing => "missing",
            Verdict::New => "new",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CellVerdict {
    pub interpreter: String,
    pub mode: Mode,
    pub scenario: String,
    pub verdict: Verdict,
    /// Median per operation, where that side has values.
    pub baseline: Option<f64>,
    pub run: Option<f64>,
    /// run / baseline, with its 95 % interval for wall-time (a point for instructions).
    pub change: Option<Estimate>,
    /// Why a cell has no value on one side (`CRASHED`, `not in this run`, ...).
    pub note: Option<String>,
}

impl CellVerdict {
    pub fn key(&self) -> String {
        key_string(&self.interpreter, self.mode, &self.scenario)
    }
}

#[derive(Debug, Clone)]
pub struct GateReport {
    pub run_id: String,
    pub run_revision: Option<String>,
    pub baseline_id: String,
    pub baseline_revision: Option<String>,
    pub measure: Measure,
    pub thresholds: Thresholds,
    /// Sorted by verdict (regressed first), then scenario, interpreter, mode.
    pub cells: Vec<CellVerdict>,
    /// Differences between the two runs that bear on the comparison (level, host).
    pub notes: Vec<String>,
}

impl GateReport {
    pub fn count(&self, v: Verdict) -> usize {
        self.cells.iter().filter(|c| c.verdict == v).count()
    }

    pub fn keys(&self, v: Verdict) -> Vec<String> {
        self.cells.iter().filter(|c| c.verdict == v).map(CellVerdict::key).collect()
    }

    /// What the history keeps of this verdict: which cells it fired on.
    pub fn record(&self) -> GateRecord {
        GateRecord {
            baseline: self.baseline_id.clone(),
            baseline_revision: self.baseline_revision.clone(),
            regressed: self.keys(Verdict::Regressed),
            improved: self.keys(Verdict::Improved),
            missing: self.count(Verdict::Missing),
        }
    }

    /// 1 when the gate fires, else 0 (see the exit codes of `check`).
    pub fn exit_code(&self, fail_on_missing: bool) -> i32 {
        let fired = self.count(Verdict::Regressed) > 0 || (fail_on_missing && self.count(Verdict::Missing) > 0);
        i32::from(fired)
    }
}

fn values(c: &Cell, measure: Measure) -> Option<Vec<f64>> {
    Some(c.values(measure.scale())?.into_iter().map(|(_, v)| v).collect())
}

/// A run cell without values, where the baseline had some: a failure of the code under test
/// regresses; anything else (not measured, not available) is missing.
fn without_values(c: Option<&Cell>) -> (Verdict, String) {
    match c.map(|c| c.status) {
        None => (Verdict::Missing, "not in this run".into()),
        Some(
            s @ (CellStatus::Crashed
            | CellStatus::Timeout
            | CellStatus::Error
            | CellStatus::NotLoadable
            | CellStatus::BuildFailed),
        ) => (Verdict::Regressed, format!("now {}", s.label())),
        Some(s) => (Verdict::Missing, s.label().to_string()),
    }
}

/// Most cells of a run do not change, so the spread of their run/baseline ratios is the drift
/// between the two runs that no within-run interval sees (load on a shared machine). When the
/// middle half of the cells already drifts beyond the minimum effect, verdicts on this pair say
/// more about the machine than about the code, and the table says so.
fn drift_note(cells: &[CellVerdict], measure: Measure, up: f64) -> Option<String> {
    let mut points: Vec<f64> = cells.iter().filter_map(|c| c.change.map(|e| e.point)).collect();
    if measure != Measure::WallTime || points.len() < 4 {
        return None;
    }
    points.sort_by(f64::total_cmp);
    let (q1, q3) = (stats::quantile_sorted(&points, 0.25), stats::quantile_sorted(&points, 0.75));
    (q1 < 1.0 / up || q3 > up).then(|| {
        format!(
            "the middle half of the cells moved by {q1:.2}x to {q3:.2}x between the runs, beyond the minimum \
             effect: the two runs differ as a whole (machine load?), so wall-time verdicts here are unreliable; \
             gate on instruction counts, or rerun on a quiet machine"
        )
    })
}

/// Compares `run` with `baseline`, cell by cell. Errors when the two cannot be compared at all.
pub fn judge(baseline: &Results, run: &Results, t: Thresholds) -> Result<GateReport> {
    let measure = run.run.sampling.measure;
    if baseline.run.sampling.measure != measure {
        bail!(
            "run {} measures {}, baseline {} measures {}: gate a run on a baseline of the same measure",
            run.run.id,
            measure.name(),
            baseline.run.id,
            baseline.run.sampling.measure.name()
        );
    }
    let up = 1.0 + if measure == Measure::WallTime { t.min_effect } else { t.instr_threshold };
    let mut cells = cell_verdicts(baseline, run, up);
    if !cells.iter().any(|c| c.change.is_some()) {
        let names = |r: &Results| r.interpreters.iter().map(|i| i.name.clone()).collect::<Vec<_>>().join(", ");
        bail!(
            "run {} and baseline {} have no measured cell in common (interpreters: run [{}], baseline [{}])",
            run.run.id,
            baseline.run.id,
            names(run),
            names(baseline)
        );
    }
    cells.sort_by(|a, b| {
        (a.verdict, &a.scenario, &a.interpreter, a.mode).cmp(&(b.verdict, &b.scenario, &b.interpreter, b.mode))
    });
    let notes = notes(baseline, run, &cells, up);
    Ok(GateReport {
        run_id: run.run.id.clone(),
        run_revision: run.source.git_revision.clone(),
        baseline_id: baseline.run.id.clone(),
        baseline_revision: baseline.source.git_revision.clone(),
        measure,
        thresholds: t,
        cells,
        notes,
    })
}

/// Every cell either run has, judged: `run / baseline` against `up` (1 + the minimum effect).
fn cell_verdicts(baseline: &Results, run: &Results, up: f64) -> Vec<CellVerdict> {
    let measure = run.run.sampling.measure;
    let keys: BTreeSet<(String, Mode, String)> =
        baseline.cells.iter().chain(&run.cells).map(|c| (c.interpreter.clone(), c.mode, c.scenario.clone())).collect();
    let mut cells = Vec::new();
    for (interp, mode, scenario) in keys {
        let (b, r) = (baseline.cell(&interp, mode, &scenario), run.cell(&interp, mode, &scenario));
        let (bv, rv) = (b.and_then(|c| values(c, measure)), r.and_then(|c| values(c, measure)));
        let (verdict, change, note) = match (&bv, &rv) {
            (Some(bv), Some(rv)) => {
                let change = match measure {
                    Measure::WallTime => stats::unpaired_ratio(bv, rv, seed_of(&key_string(&interp, mode, &scenario))),
                    Measure::Instructions => {
                        let point = stats::median(rv) / stats::median(bv);
                        Estimate { point, low: point, high: point }
                    }
                };
                let verdict = if change.low > up {
                    Verdict::Regressed
                } else if change.high < 1.0 / up {
                    Verdict::Improved
                } else {
                    Verdict::Unchanged
                };
                (verdict, Some(change), None)
            }
            (Some(_), None) => {
                let (v, note) = without_values(r);
                (v, None, Some(note))
            }
            (None, Some(_)) => {
                (Verdict::New, None, Some(b.map_or("not in baseline".into(), |c| format!("was {}", c.status.label()))))
            }
            // Neither side measured it (n/a in mode, or failing in both): nothing to compare.
            (None, None) => continue,
        };
        cells.push(CellVerdict {
            interpreter: interp,
            mode,
            scenario,
            verdict,
            baseline: bv.as_deref().map(stats::median),
            run: rv.as_deref().map(stats::median),
            change,
            note,
        });
    }
    cells
}

/// What the reader must know beside the verdicts: drift between the runs, other interpreters,
/// levels or provenance.
fn notes(baseline: &Results, run: &Results, cells: &[CellVerdict], up: f64) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(n) = drift_note(cells, run.run.sampling.measure, up) {
        notes.push(n);
    }
    let names = |r: &Results| r.interpreters.iter().map(|i| i.name.clone()).collect::<BTreeSet<_>>();
    let (old, new) = (names(baseline), names(run));
    if old != new {
        let list = |s: BTreeSet<&String>| s.into_iter().cloned().collect::<Vec<_>>().join(", ");
        notes.push(format!(
            "interpreters differ (only in baseline: [{}]; only in run: [{}]): cells are keyed by full version, \
             so a patch upgrade shows as missing + new until the baseline is saved again",
            list(old.difference(&new).collect()),
            list(new.difference(&old).collect())
        ));
    }
    if baseline.run.level != run.run.level {
        notes.push(format!(
            "levels differ (baseline {:?}, run {:?}): loops are sized differently, small shifts are expected",
            baseline.run.level, run.run.level
        ));
    }
    notes.extend(provenance::differences(baseline, run).into_iter().map(|d| format!("baseline against run: {d}")));
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::fixture;
    use crate::model::version::PyVersion;

    const ABI3: Mode = Mode::Abi3(PyVersion(3, 8));
    const T: Thresholds = Thresholds { min_effect: 0.05, instr_threshold: 0.005 };

    /// `n` values around `center` with +-`spread` relative uniform noise, seeded.
    fn noisy(center: f64, spread: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n).map(|_| center * (1.0 + spread * (2.0 * rng.f64() - 1.0))).collect()
    }

    /// A run of 2 interpreters x 2 modes x 10 scenarios, 10 values per cell with 3 % noise; `factor`
    /// scales one cell's values.
    fn run(id: &str, seed: u64, factor: Option<(&str, Mode, &str, f64)>) -> Results {
        let names: Vec<String> = (0..10).map(|s| format!("s{s}")).collect();
        let mut cells = Vec::new();
        for (k, interp) in ["3.8.18", "3.13.0"].into_iter().enumerate() {
            for (l, mode) in [Mode::Unlimited, ABI3].into_iter().enumerate() {
                for (s, name) in names.iter().enumerate() {
                    let name = name.as_str();
                    let f = factor.filter(|f| (f.0, f.1, f.2) == (interp, mode, name)).map_or(1.0, |f| f.3);
                    let center = 30.0 + 10.0 * s as f64;
                    cells.push((
                        interp,
                        mode,
                        name,
                        noisy(center * f, 0.03, 10, seed * 1000 + (k * 100 + l * 10 + s) as u64),
                    ));
                }
            }
        }
        fixture::run(id, Measure::WallTime, &cells)
    }

    fn verdicts(r: &GateReport) -> Vec<(String, Verdict)> {
        r.cells.iter().filter(|c| c.verdict != Verdict::Unchanged).map(|c| (c.key(), c.verdict)).collect()
    }

    #[test]
    fn an_injected_regression_is_found_and_nothing_else() {
        let base = run("base", 1, None);
        let slow = run("slow", 2, Some(("3.13.0", ABI3, "s3", 1.20)));
        let r = judge(&base, &slow, T).unwrap();
        assert_eq!(verdicts(&r), vec![("3.13.0/abi3-py38/s3".to_string(), Verdict::Regressed)]);
        assert_eq!(r.count(Verdict::Unchanged), 39);
        assert_eq!(r.exit_code(false), 1);
        let c = &r.cells[0];
        assert!(c.change.unwrap().contains(1.20) && c.run.unwrap() > c.baseline.unwrap(), "{c:?}");
        // Symmetric: the other way round the same cell improved.
        let back = judge(&slow, &base, T).unwrap();
        assert_eq!(verdicts(&back), vec![("3.13.0/abi3-py38/s3".to_string(), Verdict::Improved)]);
        assert_eq!(back.exit_code(false), 0);
    }

    #[test]
    fn aa_pairs_fire_nothing() {
        for seed in 2..8 {
            let r = judge(&run("a", 1, None), &run("b", seed, None), T).unwrap();
            assert_eq!(verdicts(&r), vec![], "seed {seed}");
            assert_eq!(r.exit_code(true), 0);
        }
    }

    #[test]
    fn a_change_within_the_minimum_effect_is_unchanged_however_sure() {
        // 3 % slower, with noise so low that the interval clearly excludes 1.
        let base =
            fixture::run("a", Measure::WallTime, &[("3.13.0", Mode::Unlimited, "s", noisy(100.0, 0.001, 20, 1))]);
        let run = fixture::run("b", Measure::WallTime, &[("3.13.0", Mode::Unlimited, "s", noisy(103.0, 0.001, 20, 2))]);
        let r = judge(&base, &run, T).unwrap();
        assert!(!r.cells[0].change.unwrap().contains(1.0));
        assert_eq!(r.cells[0].verdict, Verdict::Unchanged);
        let strict = judge(&base, &run, Thresholds { min_effect: 0.01, ..T }).unwrap();
        assert_eq!(strict.cells[0].verdict, Verdict::Regressed);
    }

    #[test]
    fn missing_new_and_failed_cells_are_reported() {
        let base = run("base", 1, None);
        let mut r = run("run", 2, None);
        r.cells.retain(|c| !(c.scenario == "s0" && c.interpreter == "3.8.18" && c.mode == ABI3));
        r.cells
            .iter_mut()
            .find(|c| c.scenario == "s1" && c.interpreter == "3.8.18")
            .unwrap()
            .fail(CellStatus::Crashed, "SIGSEGV".into());
        let extra = fixture::run("x", Measure::WallTime, &[("3.13.0", Mode::Unlimited, "brand_new", vec![5.0, 5.1])]);
        r.cells.extend(extra.cells);
        let rep = judge(&base, &r, T).unwrap();
        assert_eq!(
            verdicts(&rep),
            vec![
                ("3.8.18/unlimited/s1".to_string(), Verdict::Regressed),
                ("3.8.18/abi3-py38/s0".to_string(), Verdict::Missing),
                ("3.13.0/unlimited/brand_new".to_string(), Verdict::New),
            ]
        );
        assert_eq!(rep.cells[0].note.as_deref(), Some("now CRASHED"));
        assert_eq!(rep.cells[1].note.as_deref(), Some("not in this run"));
        // Missing alone passes, unless asked to fail.
        let only_missing = {
            let mut r = run("run", 2, None);
            r.cells.retain(|c| c.scenario != "s0");
            judge(&base, &r, T).unwrap()
        };
        assert_eq!(only_missing.count(Verdict::Missing), 4);
        assert!(only_missing.notes.is_empty(), "{:?}", only_missing.notes);
        // A whole interpreter gone (a patch upgrade, a failed shard) is said once, not only cell by cell.
        let mut one = run("run", 2, None);
        one.cells.retain(|c| c.interpreter == "3.13.0");
        one.interpreters.retain(|i| i.name == "3.13.0");
        let rep = judge(&base, &one, T).unwrap();
        assert_eq!(rep.count(Verdict::Missing), 20);
        assert!(rep.notes.iter().any(|n| n.contains("only in baseline: [3.8.18]; only in run: []")), "{:?}", rep.notes);
        assert_eq!((only_missing.exit_code(false), only_missing.exit_code(true)), (0, 1));
    }

    #[test]
    fn drift_of_the_whole_run_is_called_out() {
        let base = run("base", 1, None);
        assert!(judge(&base, &run("aa", 2, None), T).unwrap().notes.is_empty());
        let mut slow = run("slow", 2, None);
        for c in &mut slow.cells {
            c.processes[0].values_s.iter_mut().for_each(|v| *v *= 1.3);
        }
        let r = judge(&base, &slow, T).unwrap();
        assert!(r.notes.iter().any(|n| n.contains("unreliable")), "{:?}", r.notes);
    }

    #[test]
    fn instruction_cells_use_the_relative_threshold() {
        let cell = |v: f64| fixture::run("i", Measure::Instructions, &[("3.13.0", Mode::Unlimited, "s", vec![v])]);
        let judge1 = |v: f64| judge(&cell(1000.0), &cell(v), T).unwrap().cells[0].verdict;
        assert_eq!(judge1(1004.0), Verdict::Unchanged);
        assert_eq!(judge1(1006.0), Verdict::Regressed);
        assert_eq!(judge1(994.0), Verdict::Improved);
    }

    #[test]
    fn runs_that_cannot_be_compared_are_errors() {
        let wall = run("w", 1, None);
        let instr = fixture::run("i", Measure::Instructions, &[("3.13.0", Mode::Unlimited, "s0", vec![1.0])]);
        let err = judge(&wall, &instr, T).unwrap_err().to_string();
        assert!(err.contains("measures instructions") && err.contains("wall-time"), "{err}");
        let other = fixture::run("o", Measure::WallTime, &[("3.12.1", Mode::Unlimited, "s0", vec![1.0])]);
        let err = judge(&wall, &other, T).unwrap_err().to_string();
        assert!(err.contains("no measured cell in common") && err.contains("3.12.1"), "{err}");
    }
}
