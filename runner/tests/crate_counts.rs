//! Instruction counts of a user's crate (issue 27): its module has no region function of its own,
//! so abibench's abi3-py38 build of bench-ext is loaded beside it as callgrind's marker. Counts are
//! deterministic: two runs of the oldpyo3 fixture give the same count, and the same calls into the
//! interpreter, in every cell; the calls each floor adds are said under the tables.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{abibench, compare_args, only_results_file, pythons, run_ok};

use abibench::model::callgrind::Calls;
use abibench::model::mode::Mode;
use abibench::model::results::CellStatus;
use abibench::model::sampling::Measure;
use abibench::model::version::PyVersion;

/// A cell's raw counts, its calls and its operations per statement.
type Counted = (Vec<f64>, Calls, u64);

/// Every cell of a counting run of the fixture into `out`, by (mode, scenario); and its stdout.
fn counts(out: &Path, py: &str) -> (BTreeMap<(Mode, String), Counted>, String) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oldpyo3");
    let extra = ["--crate", fixture.to_str().unwrap(), "--measure", "instructions", "--python", py, "--no-report"];
    let modes = ["--mode", "unlimited", "--mode", "abi3-py38"];
    let args: Vec<&str> = compare_args(out.to_str().unwrap(), &extra).into_iter().chain(modes).collect();
    let stdout = String::from_utf8_lossy(&run_ok(&mut abibench(&args)).stdout).into_owned();
    let r = only_results_file(out);
    assert_eq!(r.run.sampling.measure, Measure::Instructions);
    let cells = r
        .cells
        .iter()
        .map(|c| {
            assert_eq!(c.status, CellStatus::Ok, "{}: {:?}", c.key(), c.reason);
            let values: Vec<f64> = c.processes.iter().flat_map(|p| p.values_s.iter().copied()).collect();
            assert!(!values.is_empty() && values.iter().all(|v| *v > 0.0), "{}: {values:?}", c.key());
            let calls = c.calls.clone().unwrap_or_else(|| panic!("{}: no calls recorded", c.key()));
            assert!(calls.loops > 0, "{}: {calls:?}", c.key());
            ((c.mode, c.scenario.clone()), (values, calls, c.n))
        })
        .collect();
    (cells, stdout)
}

/// A function's calls per operation in a cell.
fn per_operation((_, calls, n): &Counted, function: &str) -> f64 {
    calls.counts.get(function).copied().unwrap_or(0) as f64 / (calls.loops * n) as f64
}

#[test]
fn a_crates_counts_are_the_same_in_two_runs() {
    let py = &pythons()[0];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, stdout) = counts(a.path(), py);
    assert!(first.len() >= 4, "two modes of every scenario: {first:?}");
    assert_eq!(first, counts(b.path(), py).0);
    // Under abi3, PyO3 walks a list with PyList_GetItem, a call per item, where the unlimited
    // build reads the items with the macro; and the line under the tables says so.
    let total = |mode| &first[&(mode, "oldfix_total".to_string())];
    assert_eq!(per_operation(total(Mode::Abi3(PyVersion(3, 8))), "PyList_GetItem"), 1.0);
    assert_eq!(per_operation(total(Mode::Unlimited), "PyList_GetItem"), 0.0);
    let words = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = words
        .split_once("oldfix_total on ")
        .and_then(|(_, rest)| rest.split_once(" per operation"))
        .map(|(line, _)| line)
        .unwrap_or_else(|| panic!("no call line for oldfix_total:\n{stdout}"));
    assert!(line.contains("abi3-py38 (+") && line.contains("+1 PyList_GetItem"), "{line}");
}
