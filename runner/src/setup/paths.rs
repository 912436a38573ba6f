//! Where abibench finds its workspace and keeps its cache, and which cargo it runs.

use std::path::{Path, PathBuf};

/// Where builds (and later provisioned interpreters) live between runs.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("ABIBENCH_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("abibench")
}

/// The workspace this runner was compiled from: it holds `bench-ext` and `scenarios`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("runner lives in the workspace").to_path_buf()
}

/// The cargo that runs us (`cargo run` sets `$CARGO`), else the one on PATH.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}
