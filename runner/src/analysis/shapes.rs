//! What a maintainer's calls are made of (`--workload`): call shapes, each a count of operations
//! (`args=3,str-args=1,items-read=100`, the keys of the scenario files' `[[operation]]`s) and the
//! call's own work (`work=500ns`), with its share of the calls. Under a floor a call costs the sum
//! of count × the time each operation adds, relative to the same call in the unlimited build (the
//! sum of count × each operation's unlimited time, plus its own work, which no ABI touches).
//! Additive by design: each operation is timed on its own, so what operations of one call share
//! (one argument tuple per call under METH_VARARGS) is counted once per operation.

use std::fmt;
use std::path::Path;

use crate::model::scenario::Operation;

/// One kind of call and its share of the calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub name: String,
    /// Relative weight among the workload's shapes (any positive scale).
    pub share: f64,
    /// Operations per call, by operation key, in the order given.
    pub counts: Vec<(String, f64)>,
    /// The call's own work, in ns.
    pub work_ns: f64,
}

/// The calls a plan is made for.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub name: String,
    pub description: String,
    pub shapes: Vec<Shape>,
    /// Every scenario of the run called once: a crate's statements are its users' calls.
    pub statements: bool,
}

/// The workload name that calls each scenario once.
pub const STATEMENTS: &str = "statements";

/// The named workloads (`runner/data/workloads.toml`).
const BUILTIN: &str = include_str!("../../data/workloads.toml");

/// The operations that are a way into the extension; a shape without one is a function call.
const DEFAULT_ENTRY: &str = "call";

impl Workload {
    /// A named workload, `statements`, a shape written out (`args=3,work=200ns`), or a TOML file
    /// of `[[shape]]` tables.
    pub fn parse(s: &str) -> Result<Workload, String> {
        if s == STATEMENTS {
            let description = "every scenario of the run called once".to_string();
            return Ok(Workload { name: s.into(), description, shapes: Vec::new(), statements: true });
        }
        if let Some(w) = Workload::builtin().into_iter().find(|w| w.name == s) {
            return Ok(w);
        }
        if s.ends_with(".toml") {
            return Workload::from_file(Path::new(s));
        }
        if !s.contains('=') {
            let names: Vec<String> = Workload::builtin().into_iter().map(|w| w.name).collect();
            return Err(format!(
                "unknown workload '{s}': one of {}, {STATEMENTS}, a call like args=3,work=200ns, or a FILE.toml",
                names.join(", ")
            ));
        }
        let mut table = toml::Table::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("'{part}' is not operation=count"))?;
            let value = match v.trim().parse::<f64>() {
                Ok(x) => toml::Value::Float(x),
                Err(_) => toml::Value::String(v.trim().to_string()),
            };
            table.insert(k.trim().to_string(), value);
        }
        let shape = shape(&table, s)?;
        Ok(Workload {
            name: s.into(),
            description: format!("one kind of call: {s}"),
            shapes: vec![shape],
            statements: false,
        })
    }

    /// Every named workload, in file order.
    pub fn builtin() -> Vec<Workload> {
        let doc: toml::Table = toml::from_str(BUILTIN).expect("runner/data/workloads.toml parses");
        doc.iter()
            .map(|(name, w)| {
                let description = w.get("description").and_then(|d| d.as_str()).unwrap_or_default().to_string();
                let shapes = w.get("shape").and_then(|s| s.as_array()).expect("a named workload has shapes");
                let shapes = shapes_of(shapes, name).expect("runner/data/workloads.toml is valid");
                Workload { name: name.clone(), description, shapes, statements: false }
            })
            .collect()
    }

    fn from_file(path: &Path) -> Result<Workload, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(k) = doc.keys().find(|k| *k != "shape" && *k != "description") {
            return Err(format!("{}: unknown key '{k}' (a workload file has [[shape]] tables)", path.display()));
        }
        let shapes = doc.get("shape").and_then(|s| s.as_array()).filter(|a| !a.is_empty());
        let shapes = shapes.ok_or_else(|| format!("{}: no [[shape]] table", path.display()))?;
        let description = doc.get("description").and_then(|d| d.as_str()).unwrap_or("shapes from a file").to_string();
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Workload { name, description, shapes: shapes_of(shapes, &path.display().to_string())?, statements: false })
    }

    /// The workload's shapes as the run prices them: with `ops` (a crate's scenarios) for
    /// `statements`, a function call added to a shape that has no way in, shares summing to 1.
    pub fn shapes(&self, ops: &[Operation]) -> Vec<Shape> {
        if self.statements {
            let counts = ops.iter().map(|o| (o.key.clone(), 1.0)).collect();
            return vec![Shape { name: STATEMENTS.into(), share: 1.0, counts, work_ns: 0.0 }];
        }
        let total: f64 = self.shapes.iter().map(|s| s.share).sum();
        self.shapes
            .iter()
            .map(|s| {
                let mut s = Shape { share: s.share / total, ..s.clone() };
                let has_entry = s.counts.iter().any(|(k, n)| *n > 0.0 && ops.iter().any(|o| o.key == *k && o.entry));
                if !has_entry && ops.iter().any(|o| o.key == DEFAULT_ENTRY) {
                    s.counts.insert(0, (DEFAULT_ENTRY.into(), 1.0));
                }
                s
            })
            .collect()
    }

    /// Every operation a shape counts must be one the run's scenarios declare.
    pub fn check(&self, ops: &[Operation]) -> Result<(), String> {
        let unknown: Vec<&str> = self
            .shapes
            .iter()
            .flat_map(|s| &s.counts)
            .map(|(k, _)| k.as_str())
            .filter(|k| !ops.iter().any(|o| o.key == *k))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = ops.iter().map(|o| o.key.as_str()).collect();
        Err(format!(
            "workload '{}' counts {}, which this run's scenarios do not declare (operations: {})",
            self.name,
            unknown.join(", "),
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ))
    }
}

fn shapes_of(values: &[toml::Value], origin: &str) -> Result<Vec<Shape>, String> {
    values
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let t = v.as_table().ok_or_else(|| format!("{origin}: shape {} is not a table", k + 1))?;
            let mut s = shape(t, origin)?;
            if s.name.is_empty() {
                s.name = if values.len() == 1 { origin.to_string() } else { format!("shape {}", k + 1) };
            }
            Ok(s)
        })
        .collect()
}

fn shape(t: &toml::Table, origin: &str) -> Result<Shape, String> {
    let mut s = Shape { name: String::new(), share: 1.0, counts: Vec::new(), work_ns: 0.0 };
    for (k, v) in t {
        let number = || v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        match k.as_str() {
            "name" => s.name = v.as_str().ok_or_else(|| format!("{origin}: name must be a string"))?.to_string(),
            "share" => {
                s.share = number()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| format!("{origin}: share must be a positive number"))?
            }
            "work" => s.work_ns = work_ns(v).map_err(|e| format!("{origin}: work: {e}"))?,
            key => {
                let n = number()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| format!("{origin}: {key} must be a count of zero or more, not {v}"))?;
                s.counts.push((key.to_string(), n));
            }
        }
    }
    if s.counts.iter().all(|(_, n)| *n == 0.0) && s.work_ns == 0.0 {
        return Err(format!("{origin}: a call of nothing (count some operations, or give it work)"));
    }
    Ok(s)
}

/// `500ns`, `2us`, `1.5µs`, `3ms`, or a number of ns.
fn work_ns(v: &toml::Value) -> Result<f64, String> {
    if let Some(x) = v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
        return (x.is_finite() && x >= 0.0).then_some(x).ok_or_else(|| format!("{x} is not a duration"));
    }
    let s = v.as_str().ok_or_else(|| format!("{v} is not a duration"))?.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let x: f64 = number.parse().map_err(|_| format!("'{s}' is not a duration like 500ns or 2us"))?;
    let scale = match unit.trim() {
        "ns" | "" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        u => return Err(format!("unknown unit '{u}' in '{s}' (ns, us, ms, s)")),
    };
    Ok(x * scale)
}

impl fmt::Display for Shape {
    /// `call + 3 args + 200 ns of work`: what the page prints as the shape's composition.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .filter(|(_, n)| *n > 0.0)
            .map(|(k, n)| if *n == 1.0 { k.clone() } else { format!("{} {k}", fmt_count(*n)) })
            .collect();
        if self.work_ns > 0.0 {
            parts.push(format!("{} of work", fmt_ns(self.work_ns)));
        }
        write!(f, "{}", parts.join(" + "))
    }
}

fn fmt_count(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// `50 ns`, `1.5 µs`, `100 µs`.
pub fn fmt_ns(ns: f64) -> String {
    match ns.abs() {
        x if x >= 1e6 => format!("{} ms", trim(ns / 1e6)),
        x if x >= 1e3 => format!("{} µs", trim(ns / 1e3)),
        _ => format!("{} ns", trim(ns)),
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(keys: &[(&str, bool)]) -> Vec<Operation> {
        keys.iter()
            .map(|(k, entry)| Operation {
                key: k.to_string(),
                label: k.to_string(),
                path: k.to_string(),
                minus: None,
                per: 1,
                instead: None,
                entry: *entry,
                times: 1,
            })
            .collect()
    }

    #[test]
    fn a_call_is_written_out_named_or_read_from_a_file() {
        let w = Workload::parse("args=3, str-args=1, items-read=100, callouts=0, work=500ns").unwrap();
        let s = &w.shapes[0];
        assert_eq!(
            s.counts.iter().map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
            [("args", 3.0), ("str-args", 1.0), ("items-read", 100.0), ("callouts", 0.0)]
        );
        assert_eq!(s.work_ns, 500.0);
        assert_eq!(Workload::parse("work=1.5us").unwrap().shapes[0].work_ns, 1500.0);
        for bad in ["nope", "args=-1", "args=x", "work=5 parsecs", "args=0", "work=0"] {
            assert!(Workload::parse(bad).is_err(), "{bad}");
        }
        let names: Vec<String> = Workload::builtin().into_iter().map(|w| w.name).collect();
        assert!(names.contains(&"balanced".to_string()) && names.len() >= 5, "{names:?}");
        for n in &names {
            assert_eq!(&Workload::parse(n).unwrap().name, n);
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("mine.toml");
        std::fs::write(&f, "[[shape]]\nname = \"get\"\nshare = 3\ngetter = 1\nwork = 50\n\n[[shape]]\nargs = 2\n")
            .unwrap();
        let w = Workload::parse(f.to_str().unwrap()).unwrap();
        assert_eq!(
            (w.name.as_str(), w.shapes.len(), w.shapes[0].share, w.shapes[1].name.as_str()),
            ("mine", 2, 3.0, "shape 2")
        );
        std::fs::write(&f, "[[shap]]\nargs = 2\n").unwrap();
        assert!(Workload::parse(f.to_str().unwrap()).unwrap_err().contains("shap"));
    }

    #[test]
    fn shapes_get_a_way_in_normalised_shares_and_known_operations_only() {
        let known = ops(&[("call", true), ("getter", true), ("args", false)]);
        let w = Workload::parse("args=3,work=200ns").unwrap();
        let s = &w.shapes(&known)[0];
        assert_eq!(s.to_string(), "call + 3 args + 200 ns of work");
        let g = &Workload::parse("getter=1,work=50ns").unwrap().shapes(&known)[0];
        assert_eq!(g.to_string(), "getter + 50 ns of work", "a getter is its own way in");
        let mixed = Workload::parse("balanced").unwrap();
        let total: f64 = mixed.shapes(&known).iter().map(|s| s.share).sum();
        assert!((total - 1.0).abs() < 1e-12);
        let e = Workload::parse("teleports=2").unwrap().check(&known).unwrap_err();
        assert!(e.contains("teleports") && e.contains("call, getter, args"), "{e}");
        let st = Workload::parse(STATEMENTS).unwrap().shapes(&known);
        assert_eq!(st[0].counts.len(), 3);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(
            (fmt_ns(50.0), fmt_ns(1500.0), fmt_ns(100_000.0), fmt_ns(2.25)),
            ("50 ns".to_string(), "1.5 µs".to_string(), "100 µs".to_string(), "2.2 ns".to_string())
        );
    }
}
