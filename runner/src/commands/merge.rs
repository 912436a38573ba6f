//! `abibench merge`: the results of `compare --shard` runs combined into one results file.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::model::io::create_run_file;
use crate::model::merge::merge;
use crate::model::results::Results;

pub fn run(files: &[PathBuf], out_dir: &Path) -> Result<()> {
    let inputs: Vec<(PathBuf, Results)> =
        files.iter().map(|p| Ok((p.clone(), Results::read(p)?))).collect::<Result<_>>()?;
    let (mut merged, warnings) = merge(&inputs)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    // A new file under a new id: no input, and no other merge, is ever overwritten.
    let (_, path) = create_run_file(out_dir, "", |id| {
        merged.run.id = id.into();
        Ok(serde_json::to_vec_pretty(&merged)?)
    })?;
    eprintln!("merged {} run(s), {} cells", inputs.len(), merged.cells.len());
    println!("{}", path.display());
    Ok(())
}
