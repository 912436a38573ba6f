//! Layout control and provenance with real builds: two shuffled layout variants per mode, their
//! values paired variant by variant, the negative controls, `reproduce` and the A/A test across
//! layouts. Nothing is mocked.

mod common;

use std::collections::BTreeSet;

use common::{abibench, pythons, run_ok};

use abibench::analysis::cells::analyse;
use abibench::model::build::BuildOutcome;
use abibench::model::io::latest;
use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results};

#[test]
fn two_layouts_per_build_are_distinct_binaries_timed_side_by_side() {
    let out = tempfile::tempdir().unwrap();
    let outs = out.path().to_str().unwrap();
    let py = &pythons()[1];
    run_ok(&mut abibench(&[
        "compare",
        "--quick",
        "--ascii",
        "--no-provision",
        "--no-report",
        "--out",
        outs,
        "--python",
        py,
        "--mode",
        "unlimited",
        "--mode",
        "abi3-py310",
        "--scenario",
        "size_fn",
        "--scenario",
        "list_sum_get_item_fn",
        "--layouts",
        "2",
    ]));
    let file = latest(out.path(), "").unwrap();
    let r = Results::read(&file).unwrap();
    assert_eq!(r.run.sampling.layouts, 2);
    assert!(r.toolchain.as_ref().is_some_and(|t| t.rustc.starts_with("rustc ")), "{:?}", r.toolchain);
    assert!(r.host.cpu.as_ref().is_some_and(|c| !c.vendor.is_empty()), "{:?}", r.host.cpu);

    // Each mode: variants 1 and 2, shuffled with seeds 1 and 2, different bytes.
    for mode in [Mode::Unlimited, "abi3-py310".parse().unwrap()] {
        let builds: Vec<_> = r.builds.iter().filter(|b| b.mode == mode).collect();
        let layouts: Vec<(u32, Option<u64>)> = builds.iter().map(|b| (b.layout, b.layout_seed)).collect();
        assert_eq!(layouts, [(1, Some(1)), (2, Some(2))], "{mode}");
        let hashes: BTreeSet<&str> = builds
            .iter()
            .map(|b| match &b.outcome {
                BuildOutcome::Ok { sha256, size, .. } => {
                    assert!(*size > 0 && sha256.len() == 64, "{sha256}");
                    sha256.as_str()
                }
                BuildOutcome::Failed { error } => panic!("{mode} failed: {error}"),
            })
            .collect();
        assert_eq!(hashes.len(), 2, "{mode}: the layouts are the same binary");
    }
    // Every cell has values from both layouts, and the ratio pairs them.
    for c in &r.cells {
        assert_eq!(c.status, CellStatus::Ok, "{c:?}");
        let layouts: BTreeSet<u32> = c.processes.iter().map(|p| p.layout).collect();
        assert_eq!(layouts, BTreeSet::from([1, 2]), "{}", c.key());
    }
    let a = analyse(&r);
    let ratio = a.mode_ratio(&r.interpreters[0].name, "abi3-py310".parse().unwrap(), "size_fn").unwrap();
    let cell = r.cell(&r.interpreters[0].name, "abi3-py310".parse().unwrap(), "size_fn").unwrap();
    let values: usize = cell.processes.iter().map(|p| p.values_s.len()).sum();
    assert_eq!(ratio.pairs, values, "every value of both layouts in every process is paired");
    assert!(values >= 2 * 5 * r.run.sampling.min_processes(), "2 layouts x 5 values x the first stage's processes");
    // size_fn runs the same code in both modes: a negative control, so the run has a noise floor.
    assert!(a.noise.ratios.iter().any(|c| c.scenario == "size_fn"), "{:?}", a.noise.ratios);

    // A run against itself: every interval overlaps, the same binaries.
    let same = run_ok(&mut abibench(&["reproduce", file.to_str().unwrap(), file.to_str().unwrap()]));
    let text = String::from_utf8_lossy(&same.stdout);
    assert!(text.contains("Intervals overlap: 2 of 2 (100.0 %)"), "{text}");
    assert!(text.contains("the same binaries"), "{text}");
}

#[test]
fn the_aa_test_across_layouts_compares_two_variants() {
    let py = &pythons()[0];
    let out =
        run_ok(&mut abibench(&["calibrate", "--quick", "--across-layouts", "--python", py, "--scenario", "size_fn"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("two layout variants of one build"), "{text}");
    assert!(text.contains("size_fn") && text.contains("false differences"), "{text}");
}
