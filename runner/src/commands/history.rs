//! `abibench history`: list the recorded runs, add one, draw trend plots across them.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::analysis::trends::trends;
use crate::export::trend;
use crate::model::history::{self, Index};
use crate::model::io::write_atomic;
use crate::model::results::Results;

/// `history add FILE`.
pub fn add(file: &Path, dir: &Path) -> Result<()> {
    let r = Results::read(file)?;
    history::add(dir, &r, None)?;
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
            write_atomic(&path, trend::svg(scenario, &t, series)?.as_bytes())?;
            written += 1;
        }
    }
    eprintln!("{written} trend plot(s) from {} run(s) in {}", index.runs.len(), out.display());
    Ok(())
}
