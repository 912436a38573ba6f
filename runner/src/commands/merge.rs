//! `abibench merge`: the results of `compare --shard` runs combined into one results file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::analysis::provenance;
use crate::model::merge::merge;
use crate::model::results::{results_path, Results};

pub fn run(files: &[PathBuf], out_dir: &Path) -> Result<()> {
    let inputs: Vec<(PathBuf, Results)> =
        files.iter().map(|p| Ok((p.clone(), Results::read(p)?))).collect::<Result<_>>()?;
    let (merged, warnings) = merge(&inputs)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    // Shards on unlike machines or binaries merge, but their figures do not compare as equals.
    let (first_path, first) = &inputs[0];
    for (path, r) in &inputs[1..] {
        for d in provenance::differences(first, r) {
            eprintln!("warning: {} against {}: {d}", first_path.display(), path.display());
        }
    }
    let path = results_path(out_dir, &merged.run.id);
    if files.iter().any(|f| f == &path) {
        bail!("cannot merge: the output {} would overwrite an input", path.display());
    }
    merged.write_atomic(&path)?;
    eprintln!("merged {} run(s), {} cells", inputs.len(), merged.cells.len());
    println!("{}", path.display());
    Ok(())
}
