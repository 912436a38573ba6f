//! What to build, and how: abibench's own `bench-ext`, or a user's PyO3 crate (`--crate PATH`): a
//! Cargo crate with a `cdylib`, or a maturin project (`pyproject.toml` with `[tool.maturin]`,
//! `module-name = "pkg._core"`, `python-source`). A crate is built by cargo alone, with the mode
//! as a feature of the crate's own PyO3 dependency, whatever PyO3 version it pins.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::host::git_state;
use crate::model::mode::Mode;
use crate::model::sampling::Isolation;
use crate::model::subject::Subject;
use crate::model::version::PyVersion;
use crate::setup::paths::cache_root;
use crate::setup::unforce::copy_without_abi3;

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
    /// `None` for bench-ext.
    pub subject: Option<Subject>,
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
            subject: None,
        })
    }

    /// The module's own name (what `PyInit_<leaf>` carries).
    pub fn module_leaf(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }

    /// A module inside a package gets a process per build: its package's Python code runs at
    /// import, and what it does there need not survive a second copy in one process.
    pub fn default_isolation(&self) -> Isolation {
        if self.module.contains('.') {
            Isolation::Process
        } else {
            Isolation::InProcess
        }
    }

    /// The modes this extension can be asked for: every mode for bench-ext, the floors its PyO3
    /// offers (and unlimited) for a crate.
    pub fn modes(&self) -> Vec<Mode> {
        match &self.subject {
            None => Mode::ALL.to_vec(),
            Some(s) => std::iter::once(Mode::Unlimited).chain(s.floors.iter().copied()).collect(),
        }
    }

    /// Why `mode` cannot be built from this source at all, if it cannot: the crate turns on a
    /// higher stable-ABI floor in PyO3 itself, and cargo features only add.
    pub fn refuses(&self, mode: Mode) -> Option<String> {
        let s = self.subject.as_ref().filter(|s| s.unforced.is_empty())?;
        let forced = s.forced_floor?;
        (mode.floor().is_none_or(|f| f < forced)).then(|| {
            format!(
                "{} enables PyO3's abi3-py{}{} feature in its own Cargo.toml, so every build of it is abi3 from {forced} \
                 up; {mode} cannot be built without changing that manifest",
                s.name, forced.0, forced.1
            )
        })
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
/// caches and compiled extensions (a stale one there is not source, and must not be shipped).
fn walk(dir: &Path, skip_dirs: &[&Path]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let p = e?.path();
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if p.is_dir() {
                let skipped =
                    name.starts_with('.') || ["target", "__pycache__", "node_modules"].contains(&name.as_str());
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

#[derive(Deserialize, Default)]
struct Pyproject {
    project: Option<Project>,
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Project {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct Tool {
    maturin: Option<Maturin>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "kebab-case")]
struct Maturin {
    module_name: Option<String>,
    python_source: Option<PathBuf>,
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    features: Vec<String>,
    bindings: Option<String>,
}

/// The recipe of the crate or maturin project at `path` (see the module docs). Every refusal
/// names the file and what is missing.
pub fn resolve_crate(path: &Path) -> Result<Recipe> {
    let dir = if path.is_file() { path.parent().unwrap_or(Path::new(".")) } else { path };
    let dir = dir.canonicalize().with_context(|| format!("--crate {}: no such directory", path.display()))?;
    let pyproject_path = dir.join("pyproject.toml");
    let pyproject: Option<Pyproject> = match std::fs::read_to_string(&pyproject_path) {
        Ok(text) => {
            Some(toml::from_str(&text).with_context(|| format!("{}: not valid TOML", pyproject_path.display()))?)
        }
        Err(_) => None,
    };
    let maturin = pyproject.as_ref().and_then(|p| p.tool.as_ref()).and_then(|t| t.maturin.as_ref());
    if let Some(b) = maturin.and_then(|m| m.bindings.as_deref()).filter(|b| *b != "pyo3") {
        bail!("{}: [tool.maturin] bindings = \"{b}\"; abibench builds PyO3 extensions", pyproject_path.display());
    }
    let manifest = dir.join(maturin.and_then(|m| m.manifest_path.clone()).unwrap_or_else(|| "Cargo.toml".into()));
    if !manifest.is_file() {
        bail!(match &pyproject {
            Some(_) if maturin.is_none() => format!(
                "--crate {}: {} has no [tool.maturin] table and there is no Cargo.toml: not a PyO3 project",
                path.display(),
                pyproject_path.display()
            ),
            _ => format!(
                "--crate {}: not a Cargo crate or maturin project ({} does not exist)",
                path.display(),
                manifest.display()
            ),
        });
    }
    let meta = metadata(&manifest)?;
    let package = root_package(&meta, &manifest)?;
    let lib = package.targets.iter().find(|t| t.is_cdylib()).with_context(|| {
        format!(
            "{}: crate {} has no cdylib library; a PyO3 extension needs [lib] crate-type = [\"cdylib\"]",
            manifest.display(),
            package.name
        )
    })?;
    let dep = package.dependencies.iter().find(|d| d.name == "pyo3" && d.kind == DependencyKind::Normal).with_context(
        || {
            format!(
                "{}: crate {} does not depend on pyo3; abibench builds PyO3 extensions",
                manifest.display(),
                package.name
            )
        },
    )?;
    let pyo3_name = dep.rename.clone().unwrap_or_else(|| "pyo3".into());
    let (pyo3, forced_floor) = pyo3_of(&meta, package)?;
    let floors: Vec<Mode> =
        Mode::ALL.into_iter().filter(|m| m.floor().is_some() && pyo3.features.contains_key(&m.name())).collect();

    let maturin = maturin.cloned().unwrap_or_default();
    // A stable-ABI feature in maturin's list (directly, or through one of the crate's features)
    // is the choice abibench makes per build, so it is not passed to every build.
    let sets_abi = |f: &str| {
        let direct = f.split_once('/').is_some_and(|(_, x)| x.starts_with("abi3"));
        direct || package.features.get(f).is_some_and(|on| on.iter().any(|x| x.contains("/abi3")))
    };
    let features: Vec<String> = maturin.features.iter().filter(|f| !sets_abi(f)).cloned().collect();
    let python_source = dir.join(maturin.python_source.clone().unwrap_or_default());
    // maturin's mixed layout: beside a Python package of the library's name, the extension is
    // installed inside it, as `<lib>/<lib>.so`.
    let mixed = python_source.join(&lib.name).join("__init__.py").is_file();
    let module = match (&maturin.module_name, mixed) {
        (Some(m), _) => m.clone(),
        (None, true) => format!("{0}.{0}", lib.name),
        (None, false) => lib.name.clone(),
    };
    if !module.split('.').all(|p| {
        !p.is_empty()
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !p.starts_with(|c: char| c.is_ascii_digit())
    }) {
        bail!("{}: module-name '{module}' is not a Python import name", pyproject_path.display());
    }
    let top = module.split('.').next().unwrap_or_default().to_string();
    let python_package = Some(python_source.join(&top)).filter(|p| p.join("__init__.py").is_file());
    if maturin.python_source.is_some() && python_package.is_none() {
        bail!(
            "{}: python-source is {}, but there is no package {top}/__init__.py in it for module '{module}'",
            pyproject_path.display(),
            python_source.display()
        );
    }
    let workspace_root = PathBuf::from(meta.workspace_root.as_std_path());
    let mut sources = walk(&workspace_root, &[])?;
    if let Some(p) = python_package.as_ref().filter(|p| !p.starts_with(&workspace_root)) {
        sources.extend(walk(p, &[])?);
    }
    // One cache per crate name, wherever it is checked out: artifacts are keyed by source hash,
    // and copies of one crate in several places (a test's temporary directories) share one target.
    let cache_dir = format!("crates/{}", package.name);
    let mut manifest_path = PathBuf::from(package.manifest_path.as_std_path());
    let (mut source_base, mut unforced) = (workspace_root.clone(), Vec::new());
    if forced_floor.is_some() {
        // Built from a copy without the forcing features (`setup::unforce`), kept per source hash.
        let copy = cache_root()?.join(&cache_dir).join(format!("unforced-{}", hash_files(&sources, &workspace_root)?));
        let removed = copy_without_abi3(&workspace_root, &sources, &copy.join("src"), &pyo3_name)?;
        let copied_manifest =
            copy.join("src").join(manifest_path.strip_prefix(&workspace_root).unwrap_or(&manifest_path));
        let copied = metadata(&copied_manifest)?;
        // Still forced (a way of turning the feature on that abibench does not edit): refused per mode.
        if pyo3_of(&copied, root_package(&copied, &copied_manifest)?)?.1.is_none() {
            (manifest_path, source_base, unforced) = (copied_manifest, copy.join("src"), removed);
        }
    }
    // Only a crate its repository tracks has a revision: an unpacked sdist inside some other
    // checkout would otherwise be recorded at that checkout's revision.
    let tracked = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["ls-files", "--error-unmatch"])
        .arg(&manifest)
        .output()
        .is_ok_and(|o| o.status.success());
    let (git_revision, git_dirty) = if tracked { git_state(&dir) } else { (None, false) };
    let distribution = pyproject.as_ref().and_then(|p| p.project.as_ref()).and_then(|p| p.name.clone());
    let subject = Subject {
        name: package.name.to_string(),
        version: package.version.to_string(),
        distribution: distribution.unwrap_or_else(|| package.name.to_string()),
        module: module.clone(),
        pyo3_version: pyo3.version.to_string(),
        features: features.clone(),
        path: dir.clone(),
        git_revision,
        git_dirty,
        floors,
        forced_floor,
        unforced,
    };
    Ok(Recipe {
        manifest: manifest_path,
        package: package.name.to_string(),
        lib_target: lib.name.clone(),
        module,
        python_package,
        features,
        feature_prefix: format!("{pyo3_name}/"),
        extension_module_feature: pyo3
            .features
            .contains_key("extension-module")
            .then(|| format!("{pyo3_name}/extension-module")),
        sources,
        source_base,
        cache_dir,
        subject: Some(subject),
    })
}

fn metadata(manifest: &Path) -> Result<Metadata> {
    MetadataCommand::new()
        .manifest_path(manifest)
        .exec()
        .map_err(|e| anyhow::anyhow!("cargo metadata failed for {}: {e}", manifest.display()))
}

/// The PyO3 package `package` resolves to, and the lowest stable-ABI floor its manifest turns on.
fn pyo3_of<'m>(meta: &'m Metadata, package: &Package) -> Result<(&'m Package, Option<PyVersion>)> {
    let resolve = meta.resolve.as_ref().context("cargo metadata resolved no dependency graph")?;
    let node =
        resolve.nodes.iter().find(|n| n.id == package.id).context("the crate is not in its own dependency graph")?;
    let id = &node.deps.iter().find(|d| meta[&d.pkg].name.as_str() == "pyo3").context("pyo3 is not resolved")?.pkg;
    let features = resolve.nodes.iter().find(|n| &n.id == id).map(|n| n.features.as_slice()).unwrap_or_default();
    let forced = features.iter().filter_map(|f| f.parse::<Mode>().ok()?.floor()).min();
    Ok((&meta[id], forced))
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

/// The package `manifest` defines; a virtual workspace is refused with its PyO3 members named.
fn root_package<'m>(meta: &'m Metadata, manifest: &Path) -> Result<&'m Package> {
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    if let Some(p) = meta.packages.iter().find(|p| p.manifest_path.as_std_path() == manifest) {
        return Ok(p);
    }
    let members: Vec<String> = meta
        .workspace_packages()
        .iter()
        .filter(|p| p.dependencies.iter().any(|d| d.name == "pyo3"))
        .map(|p| format!("--crate {}", p.manifest_path.parent().map_or(String::new(), |d| d.to_string())))
        .collect();
    bail!(
        "{} is a virtual workspace manifest; point --crate at the member that builds the extension{}",
        manifest.display(),
        if members.is_empty() { String::new() } else { format!(": {}", members.join(", ")) }
    )
}
