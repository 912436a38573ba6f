//! A user's PyO3 crate (`--crate PATH`): a Cargo crate with a `cdylib`, or a maturin project
//! (`pyproject.toml` with `[tool.maturin]`, `module-name = "pkg._core"`, `python-source`), built
//! by cargo alone with the mode as a feature of the crate's own PyO3 dependency.
//!
//! Resolved in steps, each reading only what it needs: `Project::locate` reads pyproject.toml and
//! finds the manifest; `Project::results_dirs` reads the manifest's package name besides, and no
//! more (`report --crate` runs nothing else); `resolve_crate` then asks cargo (`read_cargo`),
//! checks the module (`module_of`), lists the sources, builds from a copy without forced abi3
//! features (`unforce`, into the cache), reads git and the supported Python versions.
//!
//! Nothing is written into the user's crate: cargo writes a `Cargo.lock` where there is none (and
//! updates a stale one) when it resolves, so it reads and builds a copy in the cache (`copy_of`;
//! verbatim but for path dependencies outside the crate, made absolute), found first with a
//! `cargo metadata --no-deps`, which resolves nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};
use serde::Deserialize;

use crate::model::host::git_state;
use crate::model::mode::Mode;
use crate::model::subject::{crate_results_dir, CrateInfo, Subject};
use crate::model::supported::{Pyo3Range, Supported};
use crate::model::version::PyVersion;
use crate::setup::paths::cache_root;
use crate::setup::pyo3_range::pyo3_range;
use crate::setup::recipe::{hash_files, walk, Recipe};
use crate::setup::unforce::copy_tree;

#[derive(Deserialize, Default)]
struct Pyproject {
    project: Option<ProjectTable>,
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct ProjectTable {
    name: Option<String>,
    requires_python: Option<String>,
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

/// A crate's directory as found: its pyproject.toml (if any) read, its manifest located.
pub struct Project {
    /// Canonical.
    pub dir: PathBuf,
    pyproject_path: PathBuf,
    pyproject: Option<Pyproject>,
    maturin: Maturin,
    pub manifest: PathBuf,
}

impl Project {
    /// The project at `path` (its directory, or a file in it). Every refusal names the file and
    /// what is missing.
    pub fn locate(path: &Path) -> Result<Project> {
        let dir = if path.is_file() { path.parent().unwrap_or(Path::new(".")) } else { path };
        let dir = dir.canonicalize().with_context(|| format!("--crate {}: no such directory", path.display()))?;
        let pyproject_path = dir.join("pyproject.toml");
        let pyproject: Option<Pyproject> = match std::fs::read_to_string(&pyproject_path) {
            Ok(text) => {
                Some(toml::from_str(&text).with_context(|| format!("{}: not valid TOML", pyproject_path.display()))?)
            }
            Err(_) => None,
        };
        let maturin = pyproject.as_ref().and_then(|p| p.tool.as_ref()).and_then(|t| t.maturin.clone());
        if let Some(b) = maturin.as_ref().and_then(|m| m.bindings.as_deref()).filter(|b| *b != "pyo3") {
            bail!("{}: [tool.maturin] bindings = \"{b}\"; abibench builds PyO3 extensions", pyproject_path.display());
        }
        let manifest =
            dir.join(maturin.as_ref().and_then(|m| m.manifest_path.clone()).unwrap_or_else(|| "Cargo.toml".into()));
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
        let maturin = maturin.unwrap_or_default();
        Ok(Project { dir, pyproject_path, pyproject, maturin, manifest })
    }

    fn project(&self) -> Option<&ProjectTable> {
        self.pyproject.as_ref().and_then(|p| p.project.as_ref())
    }

    /// The cargo package's name, read from the manifest's `[package]` table (a name cannot be
    /// inherited from a workspace, so nothing else need be read).
    fn package_name(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Manifest {
            package: Option<NameOnly>,
        }
        #[derive(Deserialize)]
        struct NameOnly {
            name: String,
        }
        let text = std::fs::read_to_string(&self.manifest)
            .with_context(|| format!("cannot read {}", self.manifest.display()))?;
        let m: Manifest =
            toml::from_str(&text).with_context(|| format!("{}: not valid TOML", self.manifest.display()))?;
        m.package.map(|p| p.name).with_context(|| {
            format!(
                "{} has no [package]: point --crate at the member that builds the extension",
                self.manifest.display()
            )
        })
    }

    /// The Python distribution: pyproject's `[project] name`, else the cargo package's.
    fn distribution(&self, package: &str) -> String {
        self.project().and_then(|p| p.name.clone()).unwrap_or_else(|| package.to_string())
    }

    /// Where the crate's runs are: results/crates/<distribution>/, and where runs from before
    /// results were named by distribution went (results/crates/<cargo package>/), if that differs.
    pub fn results_dirs(&self) -> Result<Vec<PathBuf>> {
        let package = self.package_name()?;
        let mut dirs = vec![crate_results_dir(&self.distribution(&package))];
        let old = PathBuf::from("results/crates").join(&package);
        if !dirs.contains(&old) {
            dirs.push(old);
        }
        Ok(dirs)
    }

    /// The module's import name and the directory of its Python package, if it has one, checked.
    fn module_of(&self, lib: &str) -> Result<(String, Option<PathBuf>)> {
        let python_source = self.dir.join(self.maturin.python_source.clone().unwrap_or_default());
        // maturin's mixed layout: beside a Python package of the library's name, the extension is
        // installed inside it, as `<lib>/<lib>.so`.
        let mixed = python_source.join(lib).join("__init__.py").is_file();
        let module = match (&self.maturin.module_name, mixed) {
            (Some(m), _) => m.clone(),
            (None, true) => format!("{lib}.{lib}"),
            (None, false) => lib.to_string(),
        };
        let identifier = |p: &str| {
            !p.is_empty()
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        };
        if !module.split('.').all(identifier) {
            bail!("{}: module-name '{module}' is not a Python import name", self.pyproject_path.display());
        }
        let top = module.split('.').next().unwrap_or_default().to_string();
        let python_package = Some(python_source.join(&top)).filter(|p| p.join("__init__.py").is_file());
        if self.maturin.python_source.is_some() && python_package.is_none() {
            bail!(
                "{}: python-source is {}, but there is no package {top}/__init__.py in it for module '{module}'",
                self.pyproject_path.display(),
                python_source.display()
            );
        }
        Ok((module, python_package))
    }

    /// The supported Python versions: `requires-python` within `pyo3`'s range.
    fn supported(&self, pyo3: &Pyo3Range) -> Result<Supported> {
        let requires = self.project().and_then(|p| p.requires_python.as_deref());
        Supported::new(requires, pyo3).map_err(|e| anyhow::anyhow!("{}: {e}", self.pyproject_path.display()))
    }

    /// Only a crate its repository tracks has a revision: an unpacked sdist inside some other
    /// checkout would otherwise be recorded at that checkout's revision.
    fn git_state(&self) -> (Option<String>, bool) {
        let tracked = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(["ls-files", "--error-unmatch"])
            .arg(&self.manifest)
            .output()
            .is_ok_and(|o| o.status.success());
        if tracked {
            git_state(&self.dir)
        } else {
            (None, false)
        }
    }
}

/// What cargo says of the crate: its package, library, PyO3 dependency and what that offers.
struct CargoSide {
    package: String,
    version: String,
    manifest: PathBuf,
    workspace_root: PathBuf,
    lib: String,
    /// The PyO3 dependency's name in the manifest (`pyo3`, or a rename).
    pyo3_name: String,
    pyo3_version: String,
    pyo3_features: Vec<String>,
    /// The package's own features, and what each turns on.
    features: BTreeMap<String, Vec<String>>,
    forced_floor: Option<PyVersion>,
    pyo3_range: Pyo3Range,
}

/// What `cargo metadata` says of the crate at `manifest` (which resolves, and may download, its
/// dependencies), checked: a cdylib that depends on pyo3. Errors name `shown`, the user's own
/// manifest, of which `manifest` is the cache's copy.
fn read_cargo(manifest: &Path, shown: &Path) -> Result<CargoSide> {
    let meta = metadata(manifest).with_context(|| format!("cannot resolve {}", shown.display()))?;
    let package = root_package(&meta, manifest)?;
    let no = |what: &str| format!("{}: crate {} {what}", shown.display(), package.name);
    let lib = package
        .targets
        .iter()
        .find(|t| t.is_cdylib())
        .with_context(|| no("has no cdylib library; a PyO3 extension needs [lib] crate-type = [\"cdylib\"]"))?;
    let dep = package
        .dependencies
        .iter()
        .find(|d| d.name == "pyo3" && d.kind == DependencyKind::Normal)
        .with_context(|| no("does not depend on pyo3; abibench builds PyO3 extensions"))?;
    let (pyo3, forced_floor) = pyo3_of(&meta, package)?;
    let ffi = dependency(&meta, &pyo3.id, "pyo3-ffi");
    let ffi_build_rs = ffi.map(|f| (f.manifest_path.as_std_path().with_file_name("build.rs"), f.version.to_string()));
    Ok(CargoSide {
        package: package.name.to_string(),
        version: package.version.to_string(),
        manifest: PathBuf::from(package.manifest_path.as_std_path()),
        workspace_root: PathBuf::from(meta.workspace_root.as_std_path()),
        lib: lib.name.clone(),
        pyo3_name: dep.rename.clone().unwrap_or_else(|| "pyo3".into()),
        pyo3_version: pyo3.version.to_string(),
        pyo3_features: pyo3.features.keys().cloned().collect(),
        features: package.features.clone().into_iter().collect(),
        forced_floor,
        pyo3_range: pyo3_range(
            &pyo3.version.to_string(),
            ffi_build_rs.as_ref().map(|(p, v)| (p.as_path(), v.as_str())),
        ),
    })
}

/// The recipe of the crate or maturin project at `path` (see the module docs).
pub fn resolve_crate(path: &Path) -> Result<Recipe> {
    let project = Project::locate(path)?;
    let (root, package) = workspace_of(&project.manifest)?;
    let cache_dir = format!("crates/{package}");
    let copied = copy_of(&project.manifest, &root, &cache_dir)?;
    let shown = project.manifest.canonicalize().unwrap_or_else(|_| project.manifest.clone());
    let cargo = read_cargo(&copied, &shown)?;
    let (module, python_package) = project.module_of(&cargo.lib)?;
    let supported = project.supported(&cargo.pyo3_range)?;
    // A stable-ABI feature in maturin's list (directly, or through one of the crate's features)
    // is the choice abibench makes per build, so it is not passed to every build.
    let sets_abi = |f: &str| {
        let direct = f.split_once('/').is_some_and(|(_, x)| x.starts_with("abi3"));
        direct || cargo.features.get(f).is_some_and(|on| on.iter().any(|x| x.contains("/abi3")))
    };
    let features: Vec<String> = project.maturin.features.iter().filter(|f| !sets_abi(f)).cloned().collect();
    // The copy's files (named relative to it, so the hash does not depend on where the crate is
    // checked out), and the module's Python package where it lies outside the workspace.
    let copied_files = walk(&cargo.workspace_root, &[])?;
    let built = unforce(&cargo, &copied_files, &cache_dir)?;
    let mut sources = copied_files;
    if let Some(p) = python_package.as_ref().filter(|p| !p.starts_with(&root)) {
        sources.extend(walk(p, &[])?);
    }
    let (git_revision, git_dirty) = project.git_state();
    let floors: Vec<Mode> =
        Mode::ALL.into_iter().filter(|m| m.floor().is_some() && cargo.pyo3_features.contains(&m.name())).collect();
    let subject = CrateInfo {
        name: cargo.package.clone(),
        version: cargo.version.clone(),
        distribution: project.distribution(&cargo.package),
        module: module.clone(),
        pyo3_version: cargo.pyo3_version.clone(),
        features: features.clone(),
        path: project.dir.clone(),
        git_revision,
        git_dirty,
        floors,
        forced_floor: cargo.forced_floor,
        unforced: built.unforced,
        supported: Some(supported),
    };
    let pyo3 = &cargo.pyo3_name;
    Ok(Recipe {
        manifest: built.manifest,
        package: cargo.package.clone(),
        lib_target: cargo.lib.clone(),
        module,
        python_package,
        features,
        feature_prefix: format!("{pyo3}/"),
        extension_module_feature: cargo
            .pyo3_features
            .iter()
            .any(|f| f == "extension-module")
            .then(|| format!("{pyo3}/extension-module")),
        sources,
        source_base: built.source_base,
        cache_dir,
        subject: Subject::Crate(subject),
    })
}

/// Where the builds come from: the crate itself, or a copy without what forces abi3.
struct Built {
    manifest: PathBuf,
    source_base: PathBuf,
    unforced: Vec<String>,
}

/// A crate whose manifest forces a stable-ABI floor is built from a copy without the forcing
/// features (`setup::unforce`), kept in the cache per source hash; any other, from where it is.
fn unforce(cargo: &CargoSide, sources: &[PathBuf], cache_dir: &str) -> Result<Built> {
    let root = &cargo.workspace_root;
    let own = Built { manifest: cargo.manifest.clone(), source_base: root.clone(), unforced: Vec::new() };
    if cargo.forced_floor.is_none() {
        return Ok(own);
    }
    let copy = copy_dir(cache_dir, "unforced", &hash_files(sources, root)?)?;
    let removed = copy_tree(root, sources, &copy.join("src"), Some(&cargo.pyo3_name))?;
    let copied_manifest = copy.join("src").join(cargo.manifest.strip_prefix(root).unwrap_or(&cargo.manifest));
    let copied = metadata(&copied_manifest)?;
    // Still forced (a way of turning the feature on that abibench does not edit): refused per mode.
    if pyo3_of(&copied, root_package(&copied, &copied_manifest)?)?.1.is_some() {
        return Ok(own);
    }
    Ok(Built { manifest: copied_manifest, source_base: copy.join("src"), unforced: removed })
}

/// The workspace root of the crate at `manifest` and its package's name, from a `cargo metadata
/// --no-deps` (which writes nothing); a virtual manifest is refused here, naming its members.
fn workspace_of(manifest: &Path) -> Result<(PathBuf, String)> {
    let meta = MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .map_err(|e| anyhow::anyhow!("cargo metadata failed for {}: {e}", manifest.display()))?;
    let package = root_package(&meta, manifest)?.name.to_string();
    Ok((PathBuf::from(meta.workspace_root.as_std_path()), package))
}

/// A copy of the workspace at `root` in the cache (one per source hash; one cache per
/// crate name, wherever it is checked out, so copies of one crate in several places share one
/// target), and the path of `manifest` in it.
fn copy_of(manifest: &Path, root: &Path, cache_dir: &str) -> Result<PathBuf> {
    let files = walk(root, &[])?;
    let copy = copy_dir(cache_dir, "copy", &hash_files(&files, root)?)?;
    copy_tree(root, &files, &copy, None)?;
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    Ok(copy.join(manifest.strip_prefix(root).unwrap_or(&manifest)))
}

/// Where a copy of the crate (`kind`: verbatim or unforced) of source hash `hash` is kept. The
/// `2`: copies made before path dependencies outside the crate were made absolute lead nowhere,
/// and are not reused.
fn copy_dir(cache_dir: &str, kind: &str, hash: &str) -> Result<PathBuf> {
    Ok(cache_root()?.join(cache_dir).join(format!("{kind}2-{hash}")))
}

fn metadata(manifest: &Path) -> Result<Metadata> {
    MetadataCommand::new()
        .manifest_path(manifest)
        .exec()
        .map_err(|e| anyhow::anyhow!("cargo metadata failed for {}: {e}", manifest.display()))
}

/// The package named `name` that package `id` depends on, as resolved.
fn dependency<'m>(meta: &'m Metadata, id: &cargo_metadata::PackageId, name: &str) -> Option<&'m Package> {
    let node = meta.resolve.as_ref()?.nodes.iter().find(|n| &n.id == id)?;
    node.deps.iter().map(|d| &meta[&d.pkg]).find(|p| p.name.as_str() == name)
}

/// The PyO3 package `package` resolves to, and the lowest stable-ABI floor its manifest turns on.
fn pyo3_of<'m>(meta: &'m Metadata, package: &Package) -> Result<(&'m Package, Option<PyVersion>)> {
    let resolve = meta.resolve.as_ref().context("cargo metadata resolved no dependency graph")?;
    let pyo3 = dependency(meta, &package.id, "pyo3").context("pyo3 is not resolved")?;
    let features = resolve.nodes.iter().find(|n| n.id == pyo3.id).map(|n| n.features.as_slice()).unwrap_or_default();
    let forced = features.iter().filter_map(|f| f.parse::<Mode>().ok()?.floor()).min();
    Ok((pyo3, forced))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    const MANIFEST: &str = "[package]\nname = \"jiter-python\"\nversion = \"0.1.0\"\n";

    #[test]
    fn results_go_by_distribution_and_the_old_folder_of_the_package_name_is_still_found() {
        let dir = project(&[
            ("Cargo.toml", MANIFEST),
            ("pyproject.toml", "[project]\nname = \"Jiter\"\nrequires-python = \">=3.11\"\n\n[tool.maturin]\n"),
        ]);
        let p = Project::locate(dir.path()).unwrap();
        let dirs: Vec<String> = p.results_dirs().unwrap().iter().map(|d| d.display().to_string()).collect();
        assert_eq!(dirs, ["results/crates/jiter", "results/crates/jiter-python"]);
        // No pyproject: the package names both, once.
        let plain = project(&[("Cargo.toml", MANIFEST)]);
        let dirs = Project::locate(plain.path()).unwrap().results_dirs().unwrap();
        assert_eq!(dirs, [PathBuf::from("results/crates/jiter-python")]);
    }

    #[test]
    fn locating_reads_the_two_files_and_names_the_culprit() {
        let bad = project(&[("Cargo.toml", MANIFEST), ("pyproject.toml", "[tool.maturin]\nbindings = \"cffi\"\n")]);
        let e = Project::locate(bad.path()).err().unwrap().to_string();
        assert!(e.contains("pyproject.toml") && e.contains("bindings = \"cffi\""), "{e}");
        let virtual_ws = project(&[("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n")]);
        let e = Project::locate(virtual_ws.path()).unwrap().results_dirs().unwrap_err().to_string();
        assert!(e.contains("Cargo.toml has no [package]"), "{e}");
        let spec =
            project(&[("Cargo.toml", MANIFEST), ("pyproject.toml", "[project]\nrequires-python = \">=3.99\"\n")]);
        let (oldest, newest, free_threaded_from) = (PyVersion(3, 8), Some(PyVersion(3, 15)), Some(PyVersion(3, 14)));
        let pyo3 = Pyo3Range { oldest, newest, free_threaded_from, source: "PyO3 0.29.3".into() };
        let e = Project::locate(spec.path()).unwrap().supported(&pyo3).unwrap_err().to_string();
        assert!(e.contains("pyproject.toml: requires-python >=3.99 allows none"), "{e}");
    }
}
