//! The runner's architecture, checked: `runner/src` is a pipeline of layers, each importing only
//! the layers before it, and no group of modules imports itself in a circle.
//!
//! Imports are the `crate::…` and `super::…` paths of non-test code (a `use` line or a path
//! inline). A module reaching its own parent (`super::` helpers) or its own submodules (`mod`)
//! is not an import between modules; a sibling reached by `super::` is. Test code (`#[cfg(test)]`
//! items) may import anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The pipeline, bottom to top: the one place its order is written.
const LAYERS: [&str; 6] = ["model", "setup", "measure", "analysis", "export", "commands"];

/// A module path inside the crate, e.g. `["export", "plots", "group"]`.
type Module = Vec<String>;

/// Every module of the tree under `src` with the source text of its file.
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut m: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if m.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
                    m.pop();
                }
                found.insert(m, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    found
}

/// The text without comments and without `#[cfg(test)]` items (an item ends at its first `;`
/// or, if a `{` comes first, at the matching `}`).
fn production_code(text: &str) -> String {
    let text: String = text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                let mut depth = 0;
                let mut end = item.len();
                for (i, c) in item.char_indices().skip(open) {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                end
            }
            (_, Some(semi)) => semi + 1,
            _ => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The paths after `prefix` (`crate::`, `super::`) in `code`, with `use crate::a::{b, c::d}`
/// groups expanded.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        // `super::super::x` is one path, not two.
        if rest[..at].ends_with("super::") {
            rest = &rest[at + prefix.len()..];
            continue;
        }
        let tail = &rest[at + prefix.len()..];
        let head_len = tail.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
        let head: Vec<String> = tail[..head_len].split("::").filter(|s| !s.is_empty()).map(String::from).collect();
        if tail[head_len..].starts_with('{') {
            let group_end = tail[head_len..].find('}').map_or(tail.len(), |e| head_len + e);
            for part in tail[head_len + 1..group_end].split([',', '{', '}']) {
                let part = part.trim();
                if !part.is_empty() && part != "self" {
                    paths.push(head.iter().cloned().chain(part.split("::").map(|s| s.trim().to_string())).collect());
                }
            }
            paths.push(head);
        } else {
            paths.push(head);
        }
        rest = &tail[head_len..];
    }
    paths
}

/// Module → the other modules it imports (the longest module prefix of each path), leaving out
/// its own ancestors.
fn imports(mods: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    mods.iter()
        .map(|(m, text)| {
            let code = production_code(text);
            let parent = &m[..m.len().saturating_sub(1)];
            let relative =
                paths_after(&code, "super::").into_iter().map(|p| parent.iter().cloned().chain(p).collect::<Vec<_>>());
            let targets = paths_after(&code, "crate::")
                .into_iter()
                .chain(relative)
                .filter_map(|p| (1..=p.len()).rev().map(|k| p[..k].to_vec()).find(|prefix| mods.contains_key(prefix)))
                .filter(|t| t != m && !m.starts_with(t))
                .collect();
            (m.clone(), targets)
        })
        .collect()
}

fn layer(m: &Module) -> Option<usize> {
    LAYERS.iter().position(|l| m.first().is_some_and(|f| f == l))
}

/// What breaks the architecture: imports from a later layer, modules outside every layer, and
/// cycles (each as the modules in it).
fn violations(src: &Path) -> Vec<String> {
    let mods = modules(src);
    let graph = imports(&mods);
    let name = |m: &Module| m.join("::");
    let mut out = Vec::new();
    for (m, targets) in &graph {
        // The crate root only declares the layers.
        if m.is_empty() {
            continue;
        }
        let Some(own) = layer(m) else {
            out.push(format!("{} is in no layer (put it under one of {LAYERS:?})", name(m)));
            continue;
        };
        for t in targets {
            if layer(t).is_some_and(|l| l > own) {
                out.push(format!(
                    "{} (layer {}) imports {} from the later layer {}",
                    name(m),
                    LAYERS[own],
                    name(t),
                    LAYERS[layer(t).unwrap()]
                ));
            }
        }
    }
    for cycle in cycles(&graph) {
        out.push(format!("import cycle among: {}", cycle.iter().map(name).collect::<Vec<_>>().join(", ")));
    }
    out
}

/// Strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(v: &'a Module, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let Some((w, _)) = s.graph.get_key_value(w) else { continue };
            if !s.index.contains_key(w) {
                visit(w, s);
                let lw = s.low[w];
                s.low.insert(v, s.low[v].min(lw));
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                s.low.insert(v, s.low[v].min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(v, &mut s);
        }
    }
    s.found
}

#[test]
fn the_runner_imports_only_earlier_layers_and_has_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "the layers are {LAYERS:?}, bottom to top:\n{}", found.join("\n"));
    // Every layer is a folder of src/, in the order lib.rs documents.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let positions: Vec<usize> =
        LAYERS.iter().map(|l| lib.find(&format!("`{l}`")).unwrap_or_else(|| panic!("lib.rs omits {l}"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "lib.rs lists the layers out of order");
}

/// A tree written for the test: (path under src, text).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

#[test]
fn a_planted_upward_import_or_cycle_is_caught_and_test_code_is_not() {
    let good = [
        ("lib.rs", "pub mod model;\npub mod commands;"),
        ("model/mod.rs", "pub mod io;\npub mod results;"),
        ("model/io.rs", "use std::path::Path;"),
        ("model/results.rs", "use crate::model::io;\n#[cfg(test)]\nmod tests {\n    use crate::commands::run;\n}"),
        ("commands/mod.rs", "use crate::model::{io, results::Results};\npub fn run() {}"),
    ];
    assert_eq!(violations(tree(&good).path()), Vec::<String>::new());

    let mut upward = good.to_vec();
    upward[2] = ("model/io.rs", "use std::path::Path;\nfn f() { crate::commands::run() }");
    let found = violations(tree(&upward).path());
    assert!(
        found.iter().any(|v| v == "model::io (layer model) imports commands from the later layer commands"),
        "{found:?}"
    );

    let mut cycle = good.to_vec();
    cycle[2] = ("model/io.rs", "use crate::model::{results::Results};");
    let found = violations(tree(&cycle).path());
    assert!(found.iter().any(|v| v == "import cycle among: model::io, model::results"), "{found:?}");

    // A sibling reached by `super::` counts; a module's own parent does not.
    let mut sibling = good.to_vec();
    sibling[2] = ("model/io.rs", "use super::results::Results;");
    sibling[3] = ("model/results.rs", "use super::io::write;\nuse super::*;");
    let found = violations(tree(&sibling).path());
    assert!(found.iter().any(|v| v == "import cycle among: model::io, model::results"), "{found:?}");

    let mut stray = good.to_vec();
    stray.push(("util.rs", "use crate::model::io;"));
    let found = violations(tree(&stray).path());
    assert!(found.iter().any(|v| v.starts_with("util is in no layer")), "{found:?}");
}
