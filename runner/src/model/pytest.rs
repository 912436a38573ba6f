//! A crate's own benchmark tests run as scenarios (`compare --crate PATH --pytest TESTS`): what
//! the results record of them (which tests, which pytest from where, the tests left out and why),
//! and the scenario each benchmark becomes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::scenario::starter::slug;
use crate::model::scenario::{Group, Kind, Scenario};

/// What `--pytest` ran, as the results record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PytestRecord {
    /// What pytest was given (files, directories, node ids), relative to `root`.
    pub tests: Vec<String>,
    /// The crate's directory: pytest's rootdir (node ids are relative to it) and working directory.
    pub root: PathBuf,
    /// Packages installed beside pytest for the tests (`--pytest-with`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
    /// Which pytest each interpreter ran.
    pub environments: Vec<PytestEnv>,
    /// Tests that are no scenario, and why: no benchmark in them, skipped or failed in every
    /// interpreter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<TestOutcome>,
}

impl PytestRecord {
    /// The environment of the interpreter named `name`.
    pub fn environment(&self, name: &str) -> Option<&PytestEnv> {
        self.environments.iter().find(|e| e.interpreter == name)
    }
}

/// The pytest one interpreter ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PytestEnv {
    /// The interpreter's name (`Interpreter::name`).
    pub interpreter: String,
    pub pytest_version: String,
    /// Where its `pytest` package was imported from.
    pub pytest_file: PathBuf,
    /// The directory abibench installed pytest into and put first on the worker's `sys.path`;
    /// absent: the interpreter's own environment had pytest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<PathBuf>,
}

impl PytestEnv {
    /// Where this pytest comes from, in words.
    pub fn origin(&self) -> String {
        match &self.installed {
            Some(dir) => format!("pytest {}, installed by abibench into {}", self.pytest_version, dir.display()),
            None => format!("pytest {}, the interpreter's own ({})", self.pytest_version, self.pytest_file.display()),
        }
    }
}

/// What one test came to when abibench ran it with its plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// pytest's node id, relative to the crate's directory.
    pub node: String,
    /// `benchmark` (it handed a call to `benchmark`, or is marked and timed whole),
    /// `not_benchmark`, `skipped` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl TestOutcome {
    pub fn is_benchmark(&self) -> bool {
        self.status == "benchmark"
    }
}

/// The scenario name of a node id: the test's name and parameters (`test_parse[small]` →
/// `test_parse.small`), or with the file's stem in front where two files' tests share a name.
fn scenario_name(node: &str, qualified: bool) -> String {
    let (file, test) = node.split_once("::").unwrap_or(("", node));
    let clean = |s: &str| {
        s.chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '_' | '.' | '-') => c,
                '[' | ':' => '.',
                _ => '-',
            })
            .collect::<String>()
            .trim_matches(['-', '.'])
            .replace("..", ".")
    };
    let test = clean(test);
    if qualified {
        format!("{}.{test}", slug(&file_stem(file)))
    } else {
        test
    }
}

fn file_stem(file: &str) -> String {
    Path::new(file).file_stem().map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned())
}

/// The scenario groups of `benchmarks` (node ids, in the order pytest ran them): one group per
/// test file (named by its stem, or its path where an earlier file has that stem), one scenario
/// per node id, timing the call the test recorded.
pub fn groups(benchmarks: &[String]) -> Vec<Group> {
    let unqualified: Vec<String> = benchmarks.iter().map(|n| scenario_name(n, false)).collect();
    let mut groups: Vec<Group> = Vec::new();
    // Names as made, before numbering: the second of one is `-2`, the third `-3`.
    let mut names: Vec<String> = Vec::new();
    for (node, short) in benchmarks.iter().zip(&unqualified) {
        let file = node.split_once("::").map_or(node.as_str(), |(f, _)| f);
        if !groups.iter().any(|g| g.file == Path::new(file)) {
            let stem = slug(&file_stem(file));
            let name = if groups.iter().any(|g| g.name == stem) { slug(file.trim_end_matches(".py")) } else { stem };
            groups.push(Group {
                name,
                title: format!("{file}: its benchmarks"),
                kind: Kind::Chatty,
                description: format!("The benchmark tests of {file}, run by pytest with abibench's benchmark fixture"),
                file: PathBuf::from(file),
                comparisons: Vec::new(),
                scenarios: Vec::new(),
                findings: Vec::new(),
                operations: Vec::new(),
            });
        }
        let group = groups.iter_mut().find(|g| g.file == Path::new(file)).expect("made above");
        let mut name = scenario_name(node, unqualified.iter().filter(|n| *n == short).count() > 1);
        let taken = names.iter().filter(|n| **n == name).count();
        names.push(name.clone());
        if taken > 0 {
            name = format!("{name}-{}", taken + 1);
        }
        group.scenarios.push(Scenario {
            name,
            group: group.name.clone(),
            description: format!("pytest {node}: the call the test hands to benchmark"),
            function: None,
            setup: String::new(),
            stmt: "pass  # the test's recorded call".into(),
            n: 1,
            native: None,
            same_code_in: Vec::new(),
            channel: None,
            layer: None,
            task: None,
            isolate: false,
            pytest: Some(node.clone()),
        });
    }
    groups
}

/// The benchmarks (node ids, in the order first seen) and the tests left out, from each
/// interpreter's outcomes: a test is a benchmark if it is one anywhere (where it is not, its
/// cells say why); a test left out is reported as it came out first.
pub fn assemble(per_interpreter: &[Vec<TestOutcome>]) -> (Vec<String>, Vec<TestOutcome>) {
    let mut benchmarks: Vec<String> = Vec::new();
    let mut left_out: Vec<TestOutcome> = Vec::new();
    for o in per_interpreter.iter().flatten() {
        if o.is_benchmark() && !benchmarks.contains(&o.node) {
            benchmarks.push(o.node.clone());
        }
    }
    for o in per_interpreter.iter().flatten() {
        if !benchmarks.contains(&o.node) && !left_out.iter().any(|l| l.node == o.node) {
            left_out.push(o.clone());
        }
    }
    (benchmarks, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_is_a_benchmark_if_any_interpreter_timed_it() {
        let o =
            |node: &str, status: &str| TestOutcome { node: node.into(), status: status.into(), reason: String::new() };
        let first = vec![o("a", "benchmark"), o("b", "skipped"), o("c", "not_benchmark"), o("d", "failed")];
        let second = vec![o("b", "benchmark"), o("a", "benchmark"), o("c", "not_benchmark"), o("d", "skipped")];
        let (benchmarks, left_out) = assemble(&[first, second]);
        assert_eq!(benchmarks, ["a", "b"]);
        assert_eq!(left_out, [o("c", "not_benchmark"), o("d", "failed")]);
    }

    #[test]
    fn each_node_id_is_a_scenario_of_its_files_group() {
        let nodes: Vec<String> = [
            "tests/test_a.py::test_parse[small-1]",
            "tests/test_a.py::TestX::test_dump",
            "tests/test_a.py::test_dump",
            "tests/test_b.py::test_dump",
            "other/test_b.py::test_dump",
            "tests/test_b.py::test_Load[é]",
        ]
        .map(String::from)
        .into();
        let g = groups(&nodes);
        // A group per file, named by its stem, or its path where two files share a stem.
        assert_eq!(g.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["test_a", "test_b", "other_test_b"]);
        let names: Vec<&str> = g.iter().flat_map(|g| &g.scenarios).map(|s| s.name.as_str()).collect();
        // Tests that share a name get their files' stems in front (and where that is not enough,
        // a number), so every name is unique; a name shared by nobody stays short.
        assert_eq!(
            names,
            [
                "test_parse.small-1",
                "testx.test_dump",
                "test_a.test_dump",
                "test_b.test_dump",
                "test_load",
                "test_b.test_dump-2"
            ]
        );
        assert_eq!(g[0].scenarios[0].pytest.as_deref(), Some("tests/test_a.py::test_parse[small-1]"));
        assert!(g.iter().all(|g| g.scenarios.iter().all(|s| s.group == g.name)));
        for s in g.iter().flat_map(|g| &g.scenarios) {
            assert!(
                s.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)),
                "{}",
                s.name
            );
        }
    }
}
