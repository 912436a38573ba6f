//! Crates that ship abi3 wheels usually turn the floor on in their own manifest
//! (`pyo3 = { features = ["abi3-py310"] }`). Cargo features only add, so no build of such a crate
//! is anything but abi3 from that floor up. To weigh that choice, abibench builds from a copy of
//! the crate whose manifests no longer turn on any of PyO3's stable-ABI features, and each build
//! then sets its own mode. The copy is made once per source hash, and the run says so.
//!
//! Every copy (the verbatim one cargo reads instead of the user's crate too) points a path
//! dependency outside the copied tree at where it is: relative to the copy it leads nowhere.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, Item, Value};

/// Copies `files` (all under `root`) to `to`, each manifest among them as `manifest_copy` edits
/// it, with `strip_pyo3` the name of the PyO3 dependency whose stable-ABI features are removed
/// (none: a verbatim copy but for outside paths); returns what was removed, as
/// `Cargo.toml: pyo3 feature abi3-py310`. A copy made before is kept (new mtimes would make cargo
/// rebuild the crate).
pub fn copy_tree(root: &Path, files: &[PathBuf], to: &Path, strip_pyo3: Option<&str>) -> Result<Vec<String>> {
    let record = to.with_extension("removed.json");
    if let Some(removed) = std::fs::read(&record).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
        if to.is_dir() {
            return Ok(removed);
        }
    }
    // Made aside and renamed, so a copy being made by another run is never taken for a whole one.
    let partial = to.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let real_root = root.canonicalize().with_context(|| format!("cannot read {}", root.display()))?;
    let mut removed = Vec::new();
    for f in files {
        let rel = f.strip_prefix(root).with_context(|| format!("{} is outside {}", f.display(), root.display()))?;
        let dest = partial.join(rel);
        std::fs::create_dir_all(dest.parent().expect("a file in a directory"))?;
        if f.file_name().is_some_and(|n| n == "Cargo.toml") {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            let dir = real_root.join(rel.parent().expect("a file in a directory"));
            let (patched, gone) = manifest_copy(&text, &dir, &real_root, strip_pyo3)
                .with_context(|| format!("{}: cannot edit", f.display()))?;
            removed.extend(gone.into_iter().map(|g| format!("{}: {g}", rel.display())));
            std::fs::write(&dest, patched)?;
        } else {
            std::fs::copy(f, &dest).with_context(|| format!("cannot copy {}", f.display()))?;
        }
    }
    if std::fs::rename(&partial, to).is_err() {
        // Another run finished the same copy first (same source hash, same bytes): keep theirs.
        let _ = std::fs::remove_dir_all(&partial);
        anyhow::ensure!(to.is_dir(), "cannot move the copy to {}", to.display());
    }
    std::fs::write(&record, serde_json::to_vec(&removed)?)?;
    Ok(removed)
}

/// The manifest at `dir` (under `root`, both canonical) as copied: path dependencies outside
/// `root` made absolute, and with `strip_pyo3`, PyO3's stable-ABI features removed (`strip`).
fn manifest_copy(text: &str, dir: &Path, root: &Path, strip_pyo3: Option<&str>) -> Result<(String, Vec<String>)> {
    let mut doc: DocumentMut = text.parse()?;
    outside_paths_absolute(&mut doc, dir, root);
    let removed = strip_pyo3.map(|pyo3| strip(&mut doc, pyo3)).unwrap_or_default();
    Ok((doc.to_string(), removed))
}

/// Every `path` of a dependency (of any kind, per target, the workspace's, a patch) that leads
/// outside `root`, made absolute.
fn outside_paths_absolute(doc: &mut DocumentMut, dir: &Path, root: &Path) {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut tables: Vec<&mut Item> = Vec::new();
    for (key, item) in doc.as_table_mut().iter_mut() {
        let name = key.get();
        if KINDS.contains(&name) {
            tables.push(item);
            continue;
        }
        let Some(t) = item.as_table_like_mut() else { continue };
        match name {
            // [target.'cfg(unix)'.dependencies]
            "target" => tables.extend(
                t.iter_mut()
                    .filter_map(|(_, c)| c.as_table_like_mut())
                    .flat_map(|c| c.iter_mut())
                    .filter_map(|(kind, deps)| KINDS.contains(&kind.get()).then_some(deps)),
            ),
            "workspace" => tables.extend(t.get_mut("dependencies")),
            // [patch.crates-io]
            "patch" => tables.extend(t.iter_mut().map(|(_, p)| p)),
            _ => {}
        }
    }
    for deps in tables.into_iter().filter_map(Item::as_table_like_mut) {
        for (_, dep) in deps.iter_mut() {
            let Some(path) = dep.as_table_like_mut().and_then(|d| d.get_mut("path")) else { continue };
            // One that does not exist is left for cargo to name.
            let Some(real) = path.as_str().and_then(|p| dir.join(p).canonicalize().ok()) else { continue };
            if !real.starts_with(root) {
                *path = toml_edit::value(real.to_string_lossy().as_ref());
            }
        }
    }
}

fn is_abi3(feature: &str) -> bool {
    feature.starts_with("abi3")
}

/// Removes PyO3's stable-ABI features from a manifest: in the dependency (plain, per target, or
/// the workspace's), and in the crate's own features that forward to them; returns what it removed.
fn strip(doc: &mut DocumentMut, pyo3: &str) -> Vec<String> {
    let mut removed = Vec::new();
    let mut tables: Vec<&mut Item> = Vec::new();
    let root = doc.as_table_mut();
    // Split borrows of the tables that may declare the dependency.
    let (mut deps, mut target, mut workspace, mut features) = (None, None, None, None);
    for (key, item) in root.iter_mut() {
        match key.get() {
            "dependencies" => deps = Some(item),
            "target" => target = Some(item),
            "workspace" => workspace = Some(item),
            "features" => features = Some(item),
            _ => {}
        }
    }
    tables.extend(deps);
    if let Some(t) = target.and_then(Item::as_table_like_mut) {
        tables.extend(t.iter_mut().filter_map(|(_, v)| v.as_table_like_mut()?.get_mut("dependencies")));
    }
    if let Some(w) = workspace.and_then(Item::as_table_like_mut) {
        tables.extend(w.get_mut("dependencies"));
    }
    for deps in tables {
        let Some(dep) = deps.as_table_like_mut().and_then(|d| d.get_mut(pyo3)) else { continue };
        let Some(list) = dep.as_table_like_mut().and_then(|d| d.get_mut("features")).and_then(Item::as_array_mut)
        else {
            continue;
        };
        list.retain(|v| {
            let keep = !v.as_str().is_some_and(is_abi3);
            if !keep {
                removed.push(format!("{pyo3} feature {}", v.as_str().unwrap_or_default()));
            }
            keep
        });
    }
    if let Some(f) = features.and_then(Item::as_table_like_mut) {
        for (name, list) in f.iter_mut() {
            let Some(list) = list.as_array_mut() else { continue };
            list.retain(|v: &Value| {
                let forwards = v
                    .as_str()
                    .and_then(|s| s.split_once('/'))
                    .is_some_and(|(dep, feat)| dep.trim_end_matches('?') == pyo3 && is_abi3(feat));
                if forwards {
                    removed.push(format!("{} in feature {}", v.as_str().unwrap_or_default(), name.get()));
                }
                !forwards
            });
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_abi_features_leave_every_place_a_manifest_turns_them_on() {
        let text = r#"
[package]
name = "x"

[dependencies]
pyo3 = { version = "0.29", features = ["abi3-py310", "extension-module"] }

[target.'cfg(unix)'.dependencies.pyo3]
version = "0.29"
features = ["abi3-py38"]

[workspace.dependencies]
pyo3 = { version = "0.29", features = ["abi3"] }

[features]
default = ["abi3"]
abi3 = ["pyo3/abi3-py39", "serde"]
"#;
        let unforced = |text: &str| manifest_copy(text, Path::new("/c"), Path::new("/c"), Some("pyo3")).unwrap();
        let (out, removed) = unforced(text);
        assert!(!out.contains("abi3-py"), "{out}");
        assert!(out.contains("\"extension-module\"") && out.contains("\"serde\""), "{out}");
        assert_eq!(removed.len(), 4, "{removed:?}");
        // A manifest without PyO3's features is left as it was.
        let plain = "[dependencies]\npyo3 = \"0.29\"\n";
        assert_eq!(unforced(plain), (plain.to_string(), Vec::new()));
    }

    #[test]
    fn path_dependencies_outside_the_copied_tree_are_made_absolute() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let (root, member, shared) = (base.join("ws"), base.join("ws/ext"), base.join("shared"));
        for d in [&member, &root.join("core"), &shared] {
            std::fs::create_dir_all(d).unwrap();
        }
        let text = r#"
[dependencies]
core = { path = "../core" }
shared = { path = "../../shared" }
gone = { path = "../../gone" }

[target.'cfg(unix)'.build-dependencies]
shared = { path = "../../shared", version = "1" }

[patch.crates-io]
shared = { path = "../../shared" }
"#;
        let (out, removed) = manifest_copy(text, &member, &root, None).unwrap();
        assert!(removed.is_empty());
        let absolute = format!("path = \"{}\"", shared.display());
        assert_eq!(out.matches(&absolute).count(), 3, "{out}");
        assert!(out.contains("path = \"../core\"") && out.contains("path = \"../../gone\""), "{out}");
        // Nothing outside: the manifest as it was, byte for byte.
        let inside = "[dependencies]\ncore = { path = \"../core\" } # ours\n";
        assert_eq!(manifest_copy(inside, &member, &root, None).unwrap().0, inside);
    }
}
