//! What to build, and how: abibench's own `bench-ext`, or a user's PyO3 crate (`--crate PATH`,
//! resolved by `setup::krate`). A crate is built by cargo alone, with the mode as a feature of the
//! crate's own PyO3 dependency, whatever PyO3 version it pins.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::model::mode::Mode;
use crate::model::subject::Subject;

/// How to build the extension under test and where its Python side lives.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub manifest: PathBuf,
    pub package: String,
    /// The cdylib's cargo target name: cargo writes `lib<lib_target>.so`.
    pub lib_target: String,
    /// The module's import name (`bench_ext`, `pkg._core`).
    pub module: String,
    /// The Python package the module lives in, if any: the directory of its top-level package
    /// (`python/pkg`), copied beside each build (`None` with a dotted module: maturin's generated one).
    pub python_package: Option<PathBuf>,
    /// Features of every build besides the mode's.
    pub features: Vec<String>,
    /// How a mode's feature is spelled: bench-ext's own `abi3-py38`, or `pyo3/abi3-py38`.
    pub feature_prefix: String,
    /// Whether PyO3 has an `extension-module` feature (older lines need it not to link libpython).
    pub extension_module_feature: Option<String>,
    /// The files whose bytes make the source hash, and the directory their names are relative to.
    pub sources: Vec<PathBuf>,
    pub source_base: PathBuf,
    /// The cache directory of this extension's builds and cargo target dirs.
    pub cache_dir: String,
    pub subject: Subject,
}

impl Recipe {
    /// abibench's own extension, from the workspace.
    pub fn bench_ext(workspace: &Path) -> Result<Recipe> {
        let ext = workspace.join("bench-ext");
        let native = ext.join("native");
        let mut sources = vec![
            workspace.join("Cargo.toml"),
            workspace.join("Cargo.lock"),
            ext.join("Cargo.toml"),
            ext.join("build.rs"),
            native.join("Cargo.toml"),
        ];
        sources.extend(walk(&ext.join("src"), &[])?);
        sources.extend(walk(&native.join("src"), &[])?);
        Ok(Recipe {
            manifest: workspace.join("Cargo.toml"),
            package: "bench-ext".into(),
            lib_target: "bench_ext".into(),
            module: "bench_ext".into(),
            python_package: None,
            features: Vec::new(),
            feature_prefix: String::new(),
            extension_module_feature: None,
            sources,
            source_base: workspace.to_path_buf(),
            cache_dir: "builds".into(),
            subject: Subject::BenchExt,
        })
    }

    /// The module's own name (what `PyInit_<leaf>` carries).
    pub fn module_leaf(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }

    /// The cargo features of a build in `mode`.
    pub fn features_for(&self, mode: Mode) -> Vec<String> {
        let mut f = self.features.clone();
        f.extend(self.extension_module_feature.clone());
        f.extend(mode.cargo_feature().map(|m| format!("{}{m}", self.feature_prefix)));
        f
    }
}

/// Files under `dir`, recursively, in no particular order, skipping build output, VCS metadata,
/// caches and compiled extensions (a stale one there is not source, and must not be shipped), but
/// keeping `.cargo/` (its config can change a build).
pub(crate) fn walk(dir: &Path, skip_dirs: &[&Path]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let p = e?.path();
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if p.is_dir() {
                let skipped = (name.starts_with('.') && name != ".cargo")
                    || ["target", "__pycache__", "node_modules"].contains(&name.as_str());
                if !skipped && !skip_dirs.contains(&p.as_path()) {
                    stack.push(p);
                }
            } else if !is_compiled_extension(&name) {
                files.push(p);
            }
        }
    }
    Ok(files)
}

/// `*.so`, `*.pyd`, `*.dylib`: what an earlier build may have left in a source tree.
pub fn is_compiled_extension(name: &str) -> bool {
    [".so", ".pyd", ".dylib"].iter().any(|x| name.ends_with(x))
}

/// A hash of `files`' names (relative to `base`) and bytes.
pub fn hash_files(files: &[PathBuf], base: &Path) -> Result<String> {
    let mut files = files.to_vec();
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        h.update(f.strip_prefix(base).unwrap_or(f).to_string_lossy().as_bytes());
        h.update(std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    Ok(h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect())
}
