//! The run history: each recorded run is copied to `<dir>/runs/<id>.json`, and `<dir>/index.json`
//! lists them with revision, date and what the gate said. Trend plots across runs
//! (`export::trend`) are drawn from it. Runs are recorded by `--history DIR` on `compare` and
//! `check`, or by `history add`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::analysis::{self, key_string};
use crate::export::trend;
use crate::gate::{Report, Verdict};
use crate::measure::{Level, Measure};
use crate::modes::Mode;
use crate::results::{self, Results, RunStatus};
use crate::stats;

pub const DEFAULT_DIR: &str = "results/history";
const SCHEMA: &str = "abibench-history";
/// Bump on any change a reader of an older index could misread.
const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub schema: String,
    pub schema_version: u32,
    /// Oldest first.
    pub runs: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub started_at: String,
    pub git_revision: Option<String>,
    pub git_dirty: bool,
    pub measure: Measure,
    pub level: Level,
    pub hostname: String,
    /// The copy of the results, relative to the history directory.
    pub file: PathBuf,
    /// Cells with values.
    pub measured_cells: usize,
    /// What the gate said about this run, if it was gated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateRecord>,
}

/// The gate's verdict on a run, as far as trends need it: which cells it fired on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GateRecord {
    pub baseline: String,
    pub baseline_revision: Option<String>,
    /// Cell keys (`interpreter/mode/scenario`).
    pub regressed: Vec<String>,
    pub improved: Vec<String>,
    pub missing: usize,
}

impl From<&Report> for GateRecord {
    fn from(r: &Report) -> GateRecord {
        GateRecord {
            baseline: r.baseline_id.clone(),
            baseline_revision: r.baseline_revision.clone(),
            regressed: r.keys(Verdict::Regressed),
            improved: r.keys(Verdict::Improved),
            missing: r.count(Verdict::Missing),
        }
    }
}

fn index_path(dir: &Path) -> PathBuf {
    dir.join("index.json")
}

impl Index {
    /// The history in `dir`; empty if nothing was recorded there yet.
    pub fn load(dir: &Path) -> Result<Index> {
        let path = index_path(dir);
        if !path.exists() {
            return Ok(Index { schema: SCHEMA.into(), schema_version: SCHEMA_VERSION, runs: Vec::new() });
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let index: Index = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an abibench history index", path.display()))?;
        if index.schema != SCHEMA || index.schema_version != SCHEMA_VERSION {
            bail!(
                "{}: schema {} v{} (this abibench reads {SCHEMA} v{SCHEMA_VERSION})",
                path.display(),
                index.schema,
                index.schema_version
            );
        }
        Ok(index)
    }

    /// The measures recorded, in order of first appearance.
    pub fn measures(&self) -> Vec<Measure> {
        let mut m: Vec<Measure> = Vec::new();
        for e in &self.runs {
            if !m.contains(&e.measure) {
                m.push(e.measure);
            }
        }
        m
    }
}

/// Records `r` (and the gate's verdict on it, if any) in the history at `dir`. Recording a run
/// again replaces its entry, keeping an earlier verdict when this call brings none.
pub fn add(dir: &Path, r: &Results, report: Option<&Report>) -> Result<()> {
    if r.run.status == RunStatus::Running {
        bail!("run {} is still running (or was killed): not recorded in {}", r.run.id, dir.display());
    }
    let mut index = Index::load(dir)?;
    let file = PathBuf::from("runs").join(format!("{}.json", r.run.id));
    r.write_atomic(&dir.join(&file))?;
    let old_gate = index.runs.iter().position(|e| e.id == r.run.id).and_then(|i| index.runs.remove(i).gate);
    index.runs.push(Entry {
        id: r.run.id.clone(),
        started_at: r.run.started_at.clone(),
        git_revision: r.source.git_revision.clone(),
        git_dirty: r.source.git_dirty,
        measure: r.run.sampling.measure,
        level: r.run.level,
        hostname: r.host.hostname.clone(),
        file,
        measured_cells: r
            .cells
            .iter()
            .filter(|c| analysis::ok_values(c, r.run.sampling.measure.scale()).is_some())
            .count(),
        gate: report.map(GateRecord::from).or(old_gate),
    });
    index.runs.sort_by(|a, b| (&a.started_at, &a.id).cmp(&(&b.started_at, &b.id)));
    results::write_json_atomic(&index, &index_path(dir))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position of the run in `Trends::runs`.
    pub run: usize,
    /// Median per operation.
    pub value: f64,
    /// The gate fired on this cell in this run.
    pub fired: Option<Verdict>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub interpreter: String,
    pub mode: Mode,
    pub points: Vec<Point>,
}

/// One measure's runs, and per scenario one series per (interpreter, mode) across them.
pub struct Trends {
    pub measure: Measure,
    pub runs: Vec<Entry>,
    pub scenarios: BTreeMap<String, Vec<Series>>,
}

/// Reads every run of `measure` once and collects each cell's median per operation.
pub fn trends(dir: &Path, index: &Index, measure: Measure) -> Result<Trends> {
    let runs: Vec<Entry> = index.runs.iter().filter(|e| e.measure == measure).cloned().collect();
    let mut by_cell: BTreeMap<(String, String, Mode), Vec<Point>> = BTreeMap::new();
    for (pos, e) in runs.iter().enumerate() {
        let r = Results::read(&dir.join(&e.file))?;
        for c in &r.cells {
            let Some(v) = analysis::ok_values(c, r.run.sampling.measure.scale()) else { continue };
            let key = key_string(&c.interpreter, c.mode, &c.scenario);
            let fired = e.gate.as_ref().and_then(|g| {
                if g.regressed.contains(&key) {
                    Some(Verdict::Regressed)
                } else if g.improved.contains(&key) {
                    Some(Verdict::Improved)
                } else {
                    None
                }
            });
            let value = stats::median(&v.into_iter().map(|(_, x)| x).collect::<Vec<_>>());
            by_cell.entry((c.scenario.clone(), c.interpreter.clone(), c.mode)).or_default().push(Point {
                run: pos,
                value,
                fired,
            });
        }
    }
    let mut scenarios: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    for ((scenario, interpreter, mode), points) in by_cell {
        scenarios.entry(scenario).or_default().push(Series { interpreter, mode, points });
    }
    Ok(Trends { measure, runs, scenarios })
}

/// `history add FILE`.
pub fn add_command(file: &Path, dir: &Path) -> Result<()> {
    let r = Results::read(file)?;
    add(dir, &r, None)?;
    eprintln!("history: run {} recorded in {}", r.run.id, dir.display());
    Ok(())
}

/// `history list`.
pub fn list(dir: &Path) -> Result<()> {
    let index = Index::load(dir)?;
    if index.runs.is_empty() {
        println!("no runs recorded in {}", dir.display());
        return Ok(());
    }
    println!(
        "{:<22} {:<20} {:<12} {:<12} {:<8} {:>6}  gate",
        "run", "started", "revision", "measure", "level", "cells"
    );
    for e in &index.runs {
        let rev = e
            .git_revision
            .as_deref()
            .map_or("?".to_string(), |r| format!("{}{}", &r[..r.len().min(10)], if e.git_dirty { "+" } else { "" }));
        let gate = e.gate.as_ref().map_or("not gated".to_string(), |g| {
            format!(
                "vs {}: {} regressed, {} improved, {} missing",
                g.baseline,
                g.regressed.len(),
                g.improved.len(),
                g.missing
            )
        });
        println!(
            "{:<22} {:<20} {:<12} {:<12} {:<8} {:>6}  {gate}",
            e.id,
            e.started_at,
            rev,
            e.measure.name(),
            format!("{:?}", e.level).to_lowercase(),
            e.measured_cells
        );
    }
    Ok(())
}

/// `history plot`: `<out>/<measure>/<scenario>.svg` for every scenario of every measure.
pub fn plot(dir: &Path, out: &Path) -> Result<()> {
    let index = Index::load(dir)?;
    if index.runs.is_empty() {
        bail!("no runs recorded in {} (record some with --history {} or `history add`)", dir.display(), dir.display());
    }
    let mut written = 0;
    for measure in index.measures() {
        let t = trends(dir, &index, measure)?;
        let sub = out.join(measure.name());
        std::fs::create_dir_all(&sub).with_context(|| format!("cannot create {}", sub.display()))?;
        for (scenario, series) in &t.scenarios {
            let path = sub.join(format!("{scenario}.svg"));
            std::fs::write(&path, trend::svg(scenario, &t, series)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written += 1;
        }
    }
    eprintln!("{written} trend plot(s) from {} run(s) in {}", index.runs.len(), out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{judge, Thresholds};
    use crate::measure::Measure;
    use crate::results::fixture;

    #[test]
    fn runs_accumulate_with_the_gates_firings_and_form_series() {
        let dir = tempfile::tempdir().unwrap();
        let cell = |v: f64| vec![("3.13.0", Mode::Unlimited, "s", vec![v, v * 1.001, v * 0.999])];
        let mut runs = Vec::new();
        for (k, v) in [10.0, 10.0, 20.0].into_iter().enumerate() {
            let mut r = fixture::run(&format!("2026112{k}T000000Z"), Measure::WallTime, &cell(v));
            r.run.started_at = format!("2026-11-2{k}T00:00:00Z");
            runs.push(r);
        }
        let t = Thresholds { min_effect: 0.05, instr_threshold: 0.005 };
        // Recorded out of order, the last one twice (the second time without a verdict).
        add(dir.path(), &runs[1], Some(&judge(&runs[0], &runs[1], t).unwrap())).unwrap();
        add(dir.path(), &runs[0], None).unwrap();
        add(dir.path(), &runs[2], Some(&judge(&runs[0], &runs[2], t).unwrap())).unwrap();
        add(dir.path(), &runs[2], None).unwrap();

        let index = Index::load(dir.path()).unwrap();
        let ids: Vec<&str> = index.runs.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["20261120T000000Z", "20261121T000000Z", "20261122T000000Z"]);
        assert_eq!(index.runs[2].gate.as_ref().unwrap().regressed, ["3.13.0/unlimited/s"]);
        assert_eq!(index.runs[2].git_revision.as_deref(), Some("abc123"));

        let tr = trends(dir.path(), &index, Measure::WallTime).unwrap();
        let s = &tr.scenarios["s"][0];
        let fired: Vec<Option<Verdict>> = s.points.iter().map(|p| p.fired).collect();
        assert_eq!(fired, [None, None, Some(Verdict::Regressed)]);
        assert!((s.points[2].value - 20.0).abs() < 1e-6, "{s:?}");
        let svg = trend::svg("s", &tr, &tr.scenarios["s"]).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("3.13.0 unlimited"), "{svg}");
    }
}
