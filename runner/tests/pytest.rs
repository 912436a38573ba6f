//! `compare --crate PATH --pytest TESTS`: the oldpyo3 fixture crate's own benchmark tests
//! (`tests/test_bench.py`: `benchmark(f, *args)`, `benchmark(f, name=...)` in a parametrised
//! test, a test with a fixture, `benchmark.pedantic` with a setup, a test marked
//! `@pytest.mark.benchmark` without the fixture, one that calls no benchmark and one skipped) run
//! with pytest on pyenv's 3.12 in two modes, in-process and with a process per build. pytest comes
//! from the interpreter or is installed by abibench into its cache (from PyPI on first use).

mod common;

use std::path::{Path, PathBuf};

use common::{abibench, compare_args, only_results_file, run_code};

use abibench::model::mode::Mode;
use abibench::model::version::PyVersion;

const ABI3_PY38: Mode = Mode::Abi3(PyVersion(3, 8));
use abibench::model::pytest::TestOutcome;
use abibench::model::results::{CellStatus, Results};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oldpyo3")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// One `compare --pytest` of the fixture on 3.12 in unlimited and abi3-py38 with `extra`: the
/// results, stderr, and each line the tests' `test_add` wrote (`<pid> <the module's file>`).
fn run(extra: &[&str]) -> (Results, String, Vec<(String, String)>) {
    let out = tempfile::tempdir().unwrap();
    let seen = out.path().join("seen.txt");
    let krate = fixture();
    let mut args = compare_args(s(out.path()), &["--crate", s(&krate), "--python", "3.12"]);
    args.extend(["--mode", "unlimited", "--mode", "abi3-py38", "--no-report"]);
    args.extend_from_slice(extra);
    let o = abibench(&args).env("OLDFIX_SEEN", &seen).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?}:\n{stderr}");
    let lines = std::fs::read_to_string(&seen).unwrap_or_default();
    let seen = lines.lines().map(|l| l.split_once(' ').unwrap()).map(|(p, f)| (p.into(), f.into())).collect();
    (only_results_file(out.path()), stderr, seen)
}

fn scenarios(r: &Results) -> Vec<(&str, &str)> {
    r.groups.iter().flat_map(|g| &g.scenarios).map(|s| (s.name.as_str(), s.pytest.as_deref().unwrap())).collect()
}

/// Every cell of every benchmark measured in both builds; the builds' artifacts, each as the
/// module the tests imported.
fn every_cell_ok(r: &Results) -> [String; 2] {
    let py312 = &r.interpreters[0].name;
    for (name, _) in scenarios(r) {
        for mode in [Mode::Unlimited, ABI3_PY38] {
            let c = r.cell(py312, mode, name).unwrap_or_else(|| panic!("no cell {mode} {name}"));
            assert_eq!(c.status, CellStatus::Ok, "{mode} {name}: {:?}", c.reason);
            assert!(c.processes.iter().all(|p| p.values_s.len() == r.run.sampling.values), "{mode} {name}");
        }
    }
    [Mode::Unlimited, ABI3_PY38].map(|m| {
        let b = r.builds.iter().find(|b| b.mode == m).unwrap();
        b.artifact().unwrap().canonicalize().unwrap().to_string_lossy().into_owned()
    })
}

#[test]
fn a_crates_benchmark_tests_are_its_scenarios_in_every_build() {
    let (r, stderr, seen) = run(&["--pytest", s(&fixture().join("tests"))]);
    assert_eq!(
        scenarios(&r),
        [
            ("test_add", "tests/test_bench.py::test_add"),
            ("test_total", "tests/test_bench.py::test_total"),
            ("test_greet.a", "tests/test_bench.py::test_greet[a]"),
            ("test_greet.abibench", "tests/test_bench.py::test_greet[abibench]"),
            ("test_incr", "tests/test_bench.py::test_incr"),
            ("test_counter_value", "tests/test_bench.py::test_counter_value"),
        ]
    );
    let pytest = r.pytest.as_ref().expect("the results record the tests");
    assert_eq!(
        (pytest.tests.as_slice(), pytest.root.as_path()),
        (["tests".to_string()].as_slice(), fixture().canonicalize().unwrap().as_path())
    );
    let env = pytest.environment(&r.interpreters[0].name).expect("3.12's pytest is recorded");
    assert!(
        env.pytest_version.starts_with(char::is_numeric) && env.pytest_file.ends_with("pytest/__init__.py"),
        "{env:?}"
    );
    let left = |node: &str, status: &str, reason: &str| TestOutcome {
        node: format!("tests/test_bench.py::{node}"),
        status: status.into(),
        reason: reason.into(),
    };
    assert_eq!(
        pytest.left_out,
        [
            left(
                "test_greet_is_polite",
                "not_benchmark",
                "uses neither the benchmark fixture nor the benchmark marker"
            ),
            left("test_skipped", "skipped", "Skipped: nothing to time here"),
        ]
    );
    assert!(
        stderr.contains("pytest: left out tests/test_bench.py::test_skipped (skipped: Skipped: nothing to time here)"),
        "{stderr}"
    );
    assert!(stderr.contains("pytest: 6 benchmark(s) are the scenarios, 2 test(s) left out"), "{stderr}");
    // In-process: the collecting worker ran the tests in the first build; each measuring worker
    // ran them again once per build, with that build as `oldfix`.
    let [unlimited, abi3] = every_cell_ok(&r);
    let runs = by_process(&seen);
    assert_eq!(runs[0].1, [&unlimited], "{seen:?}");
    assert!(runs.len() >= 2 && runs[1..].iter().all(|(_, files)| *files == [&unlimited, &abi3]), "{seen:?}");
}

/// Each process's lines of `seen`, in the order the processes first wrote.
fn by_process(seen: &[(String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (pid, file) in seen {
        match out.iter_mut().find(|(p, _)| p == pid) {
            Some((_, files)) => files.push(file),
            None => out.push((pid, vec![file])),
        }
    }
    out
}

#[test]
fn node_ids_under_process_isolation_run_in_each_builds_own_process() {
    let test = |name: &str| format!("{}::{name}", fixture().join("tests/test_bench.py").display());
    let (add, greet) = (test("test_add"), test("test_greet"));
    let (r, _, seen) = run(&["--isolation", "process", "--pytest", &add, &greet]);
    let names: Vec<&str> = scenarios(&r).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["test_add", "test_greet.a", "test_greet.abibench"]);
    assert!(r.pytest.as_ref().unwrap().left_out.is_empty());
    let [unlimited, abi3] = every_cell_ok(&r);
    // The collecting process, then a process per build for each measuring worker, each running
    // the tests in its build alone.
    let runs = by_process(&seen);
    assert!(runs.iter().all(|(_, files)| files.len() == 1), "{seen:?}");
    let files: Vec<&str> = runs.iter().map(|(_, files)| files[0]).collect();
    assert_eq!(files[0], unlimited, "{seen:?}");
    let measured = &files[1..];
    assert!(!measured.is_empty() && measured.chunks(2).all(|pair| pair == [&unlimited, &abi3]), "{seen:?}");
}

#[test]
fn tests_outside_the_crate_or_without_a_crate_are_refused() {
    let outside = std::env::temp_dir();
    let (code, _, stderr) = run_code(&[
        "compare",
        "--crate",
        s(&fixture()),
        "--pytest",
        s(&outside),
        "--no-provision",
        "--python",
        "3.12",
        "--mode",
        "unlimited",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not inside the crate's directory"), "{stderr}");
    let (code, _, stderr) = run_code(&["compare", "--pytest", "tests"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--crate"), "{stderr}");
}
