//! `abibench merge`: the results of `compare --shard` runs combined into one results file.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::analysis::provenance;
use crate::export::format::printable;
use crate::model::io::create_run_file;
use crate::model::merge::merge;
use crate::model::results::Results;

pub fn run(files: &[PathBuf], out_dir: &Path) -> Result<()> {
    let inputs: Vec<(PathBuf, Results)> =
        files.iter().map(|p| Ok((p.clone(), Results::read(p)?))).collect::<Result<_>>()?;
    let (mut merged, warnings) = merge(&inputs)?;
    for w in warnings {
        eprintln!("warning: {}", printable(&w));
    }
    // Shards on unlike machines or binaries merge, but their figures do not compare as equals.
    let (first_path, first) = &inputs[0];
    for (path, r) in &inputs[1..] {
        for d in provenance::differences(first, r) {
            eprintln!("warning: {} against {}: {d}", first_path.display(), path.display());
        }
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
