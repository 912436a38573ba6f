//! Where abibench finds its workspace and keeps its cache, and which cargo it runs.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Where builds and provisioned interpreters live between runs: `$ABIBENCH_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/abibench` or `~/.cache/abibench`; with no home, a private directory of this
/// user's in the temporary directory (see `private_dir`).
pub fn cache_root() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(dir) = std::env::var_os("ABIBENCH_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))) {
        Some(base) => Ok(base.join("abibench")),
        // SAFETY: geteuid(2) cannot fail.
        None => private_dir(&std::env::temp_dir().join(format!("abibench-{}", unsafe { libc::geteuid() }))),
    }
}

/// `dir`, created 0700 if need be, and refused unless it is a real directory of this user's that
/// no one else can write: abibench runs the interpreters and loads the builds it finds in its
/// cache, so a shared, predictable path (the old `/tmp/abibench`) would let another user plant them.
fn private_dir(dir: &Path) -> Result<PathBuf> {
    if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(dir) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(e).with_context(|| format!("cannot create the cache directory {}", dir.display()));
        }
    }
    let meta = std::fs::symlink_metadata(dir).with_context(|| format!("cannot inspect {}", dir.display()))?;
    // SAFETY: geteuid(2) cannot fail.
    let me = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o077 != 0 {
        bail!(
            "{}: with HOME and XDG_CACHE_HOME unset, abibench keeps its cache here, but this is {} owned by \
             uid {} with mode {:o}, not a directory of yours (uid {me}) with mode 700; remove it, or set \
             HOME or ABIBENCH_CACHE_DIR",
            dir.display(),
            if meta.file_type().is_symlink() {
                "a symlink"
            } else if meta.is_dir() {
                "a directory"
            } else {
                "a file"
            },
            meta.uid(),
            meta.mode() & 0o7777
        );
    }
    Ok(dir.to_path_buf())
}

/// The workspace this runner was compiled from: it holds `bench-ext` and `scenarios`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("runner lives in the workspace").to_path_buf()
}

/// The cargo that runs us (`cargo run` sets `$CARGO`), else the one on PATH.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_private_dir_is_made_0700_and_a_shared_one_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("abibench-1");
        assert_eq!(private_dir(&dir).unwrap(), dir);
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(private_dir(&dir).unwrap(), dir, "reused as it is");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = private_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("abibench-1") && e.contains("mode 777"), "{e}");
        let link = tmp.path().join("abibench-2");
        std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
        assert!(private_dir(&link).unwrap_err().to_string().contains("a symlink"));
    }
}
