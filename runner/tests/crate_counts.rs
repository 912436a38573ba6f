//! Instruction counts of a user's crate (issue 27): its module has no region function of its own,
//! so abibench's abi3-py38 build of bench-ext is loaded beside it as callgrind's marker. Counts are
//! deterministic: two runs of the oldpyo3 fixture give the same count in every cell.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{abibench, compare_args, only_results_file, pythons, run_ok};

use abibench::model::results::CellStatus;
use abibench::model::sampling::Measure;

/// Every cell's raw counts in a counting run of the fixture into `out`.
fn counts(out: &Path, py: &str) -> BTreeMap<String, Vec<f64>> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oldpyo3");
    let extra = ["--crate", fixture.to_str().unwrap(), "--measure", "instructions", "--python", py, "--no-report"];
    let modes = ["--mode", "unlimited", "--mode", "abi3-py38"];
    let args: Vec<&str> = compare_args(out.to_str().unwrap(), &extra).into_iter().chain(modes).collect();
    run_ok(&mut abibench(&args));
    let r = only_results_file(out);
    assert_eq!(r.run.sampling.measure, Measure::Instructions);
    r.cells
        .iter()
        .map(|c| {
            assert_eq!(c.status, CellStatus::Ok, "{}: {:?}", c.key(), c.reason);
            let values: Vec<f64> = c.processes.iter().flat_map(|p| p.values_s.iter().copied()).collect();
            assert!(!values.is_empty() && values.iter().all(|v| *v > 0.0), "{}: {values:?}", c.key());
            (c.key(), values)
        })
        .collect()
}

#[test]
fn a_crates_counts_are_the_same_in_two_runs() {
    let py = &pythons()[0];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = counts(a.path(), py);
    assert!(first.len() >= 4, "two modes of every scenario: {first:?}");
    assert_eq!(first, counts(b.path(), py));
}
