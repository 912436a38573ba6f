//! The run history: each recorded run is copied to `<dir>/runs/<id>.json`, and `<dir>/index.json`
//! lists them with revision, date and what the gate said. Trends across runs (`analysis::trends`)
//! are read from it. Runs are recorded by `--history DIR` on `compare` and
//! `check`, or by `history add`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::io::write_json_atomic;
use crate::model::results::{Results, RunStatus};
use crate::model::sampling::{Level, Measure};

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
pub fn add(dir: &Path, r: &Results, gate: Option<GateRecord>) -> Result<()> {
    if matches!(r.run.status, RunStatus::Running | RunStatus::Abandoned) {
        bail!("run {} never finished (status {}): not recorded in {}", r.run.id, r.run.status.name(), dir.display());
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
        measured_cells: r.cells.iter().filter(|c| c.values(r.run.sampling.measure.scale()).is_some()).count(),
        gate: gate.or(old_gate),
    });
    index.runs.sort_by(|a, b| (&a.started_at, &a.id).cmp(&(&b.started_at, &b.id)));
    write_json_atomic(&index, &index_path(dir))
}
