//! What a built module offers its users: its public functions and classes, read by importing the
//! build (with its package) in the interpreter it was built for. `abibench init` starts a
//! scenario file from them.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::model::child;
use crate::model::interpreter::Interpreter;

/// One public attribute of the module that a scenario can call.
#[derive(Debug, Clone, Deserialize)]
pub struct Callable {
    pub name: String,
    pub class: bool,
    /// The first line of its docstring, or its text signature.
    pub doc: String,
}

const LIST: &str = r#"
import importlib, inspect, json, sys
root, name = sys.argv[1:3]
sys.path.insert(0, root)
m = importlib.import_module(name)
out = []
for k in sorted(dir(m)):
    v = getattr(m, k)
    if k.startswith("_") or not callable(v) or inspect.ismodule(v):
        continue
    doc = (getattr(v, "__text_signature__", None) or (inspect.getdoc(v) or "").strip().split("\n")[0])
    out.append({"name": k, "class": inspect.isclass(v), "doc": doc[:100]})
print(json.dumps(out))
"#;

/// The public callables of module `name` as built under `root` (the build's sys.path entry).
pub fn callables(interp: &Interpreter, root: &Path, name: &str) -> Result<Vec<Callable>> {
    let mut cmd = interp.command();
    cmd.args(["-I", "-B", "-c", LIST]).arg(root).arg(name);
    let end = child::run(cmd, Duration::from_secs(60)).with_context(|| format!("cannot start {}", interp.name))?;
    if !end.status.is_some_and(|s| s.success()) {
        bail!("importing {name} in {} failed:\n{}", interp.name, child::tail(&end.stderr, 15));
    }
    let line = end.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("{} printed no list of {name}'s callables", interp.name))
}
