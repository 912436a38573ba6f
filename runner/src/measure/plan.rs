//! What one interpreter's measurement is to do: its builds, under the labels the worker knows
//! them by and the cells their values go to, and its scenarios.

use std::path::{Path, PathBuf};

use crate::measure::pytest::PlanPytest;
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::scenario::Scenario;

/// Everything one interpreter's measurement needs.
pub struct Plan<'a> {
    pub interpreter: &'a Interpreter,
    /// The module's import name, and whether it is bench-ext (see `protocol::Job`).
    pub module: &'a str,
    pub builtin: bool,
    /// Each build this interpreter should load, under a label unique in this plan.
    pub builds: Vec<PlannedBuild>,
    pub scenarios: Vec<&'a Scenario>,
    /// Counting a crate's module: the bench-ext build that marks callgrind's region.
    pub marker: Option<&'a Path>,
    /// The crate's benchmark tests, when they are the scenarios (`compare --pytest`).
    pub pytest: Option<PlanPytest<'a>>,
}

/// One build in a plan, and the cell its values go to. The cell is normally the mode's name (an
/// A/A test loads one mode twice, as cells "A" and "B"); each layout variant of a build is a build
/// of its own, under its own label, whose values join the same cell.
#[derive(Debug, Clone)]
pub struct PlannedBuild {
    /// Unique in the plan: what the worker calls this build.
    pub label: String,
    pub cell: String,
    pub mode: Mode,
    pub layout: u32,
    pub path: PathBuf,
    /// The SHA-256 recorded when the build was made and verified, checked again before the
    /// measurement uses it (`None` where no record has one).
    pub sha256: Option<String>,
}

impl PlannedBuild {
    pub fn new(cell: String, mode: Mode, layout: u32, (path, sha256): (PathBuf, Option<String>)) -> PlannedBuild {
        let label = if layout == 0 { cell.clone() } else { format!("{cell}@L{layout}") };
        PlannedBuild { label, cell, mode, layout, path, sha256 }
    }
}

/// Plans for unit tests of what runs them: bench-ext builds that are never loaded.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    /// A scenario of group "g" timing `f()`.
    pub fn scenario(name: &str) -> Scenario {
        let fields = serde_json::json!({
            "name": name, "group": "g", "description": "", "function": "f", "setup": "", "stmt": "f()", "n": 1
        });
        serde_json::from_value(fields).unwrap()
    }

    /// `interpreter`'s plan of `scenarios` in builds `(cell, mode, layout)`.
    pub fn plan<'a>(interpreter: &'a Interpreter, scenarios: &'a [Scenario], builds: &[(&str, Mode, u32)]) -> Plan<'a> {
        Plan {
            interpreter,
            module: "bench_ext",
            builtin: true,
            builds: builds
                .iter()
                .map(|&(cell, mode, layout)| {
                    PlannedBuild::new(cell.into(), mode, layout, (PathBuf::from("/nonexistent"), None))
                })
                .collect(),
            scenarios: scenarios.iter().collect(),
            marker: None,
            pytest: None,
        }
    }
}
