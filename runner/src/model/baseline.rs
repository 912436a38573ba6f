//! Baselines: a results file that later runs are gated on, kept as `<dir>/NAME.json`. It is a
//! plain copy of the run, so `show`, `check` and `report` read it like any other results file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::model::results::{Results, RunStatus};

pub const DEFAULT_DIR: &str = "results/baselines";

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        bail!("baseline name '{name}': use letters, digits, '-', '_' or '.' (not first), e.g. nightly");
    }
    Ok(())
}

/// `--baseline NAME|FILE`: a value with a `/` or ending in `.json` is a file, anything else a name
/// under `dir`. The file must exist; it is read (and its schema checked) by the caller.
pub fn resolve(spec: &str, dir: &Path) -> Result<PathBuf> {
    let path = if spec.contains('/') || spec.ends_with(".json") {
        PathBuf::from(spec)
    } else {
        check_name(spec)?;
        dir.join(format!("{spec}.json"))
    };
    if path.is_dir() {
        bail!(
            "--baseline {spec}: {} is a directory; give a results file, or a baseline name (looked up in \
             --baselines-dir, now {})",
            path.display(),
            dir.display()
        );
    }
    if !path.is_file() {
        bail!(
            "--baseline {spec}: {} does not exist (save one with `compare --save-baseline NAME`, or pass a results file)",
            path.display()
        );
    }
    Ok(path)
}

/// Whether `--baseline` names a baseline under `dir` (not a file) that does not exist yet: the
/// first night of a nightly job.
pub fn is_missing_name(spec: &str, dir: &Path) -> bool {
    !(spec.contains('/') || spec.ends_with(".json"))
        && check_name(spec).is_ok()
        && !dir.join(format!("{spec}.json")).exists()
}

/// `--baseline NAME|FILE`, resolved and read.
pub fn load(spec: &str, dir: &Path) -> Result<Results> {
    Results::read(&resolve(spec, dir)?)
}

/// Validates `--save-baseline NAME` before a run spends any time.
pub fn path_for_save(name: &str, dir: &Path) -> Result<PathBuf> {
    check_name(name).map_err(|e| anyhow::anyhow!("--save-baseline: {e}"))?;
    Ok(dir.join(format!("{name}.json")))
}

/// Saves `r` as baseline `name`, replacing an older one. Only a complete run qualifies: an
/// interrupted one would turn its unmeasured cells into "missing" in every later check.
pub fn save(r: &Results, dir: &Path, name: &str) -> Result<PathBuf> {
    let path = path_for_save(name, dir)?;
    if r.run.status != RunStatus::Complete {
        bail!("--save-baseline {name}: run {} is {:?}, not complete; not saved", r.run.id, r.run.status);
    }
    r.write_atomic(&path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mode::Mode;
    use crate::model::results::fixture;
    use crate::model::sampling::Measure;

    #[test]
    fn names_resolve_under_the_dir_and_paths_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let r = fixture::run("a", Measure::WallTime, &[("3.13.0", Mode::Unlimited, "s", vec![1.0, 1.1])]);
        let saved = save(&r, dir.path(), "nightly").unwrap();
        assert_eq!(saved, dir.path().join("nightly.json"));
        assert_eq!(resolve("nightly", dir.path()).unwrap(), saved);
        assert_eq!(resolve(saved.to_str().unwrap(), Path::new("/nowhere")).unwrap(), saved);
        assert_eq!(Results::read(&saved).unwrap().run.id, "a");

        let err = resolve(dir.path().to_str().unwrap(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory") && !err.contains("does not exist"), "{err}");
        let err = resolve("nightly-2", dir.path()).unwrap_err().to_string();
        assert!(err.contains("--baseline nightly-2") && err.contains("nightly-2.json"), "{err}");
        assert!(path_for_save("../x", dir.path()).unwrap_err().to_string().contains("--save-baseline"));
    }

    #[test]
    fn an_interrupted_run_is_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = fixture::run("a", Measure::WallTime, &[("3.13.0", Mode::Unlimited, "s", vec![1.0])]);
        r.run.status = RunStatus::Interrupted;
        assert!(save(&r, dir.path(), "nightly").unwrap_err().to_string().contains("not complete"));
        assert!(!dir.path().join("nightly.json").exists());
    }
}
