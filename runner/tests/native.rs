//! The native floor end to end: a real (very short) criterion run of every floor, recorded by
//! `abibench native`, then carried by `compare --native` into the results and the table.

use std::path::{Path, PathBuf};
use std::process::Command;

use abibench::analysis::cells::analyse;
use abibench::model::io;
use abibench::model::mode::Mode;
use abibench::model::native::{self, NativeRun};
use abibench::model::results::Results;
use abibench::model::scenario;

mod common;
use common::run_ok;

fn abibench(args: &[&str], criterion_home: &Path) -> Command {
    let mut cmd = common::abibench(args);
    // A home of its own: the developer's own estimates under target/criterion stay untouched.
    cmd.env("CRITERION_HOME", criterion_home);
    cmd
}

/// The newest interpreter the end-to-end tests use.
fn python() -> String {
    common::pythons().pop().expect("at least one test interpreter")
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

#[test]
fn native_floors_are_recorded_and_shown_above_each_cell() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let outs = out.path().to_str().unwrap();

    // Asking for floors before any were recorded is an input error that says what to run.
    let early = abibench(&["compare", "--no-provision", "--out", outs, "--native"], home.path()).output().unwrap();
    let err = String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(2), "{err}");
    assert!(err.contains("abibench native"), "{err}");

    // Criterion's shortest honest settings: the figures are noisy, their plumbing is not.
    let quick = ["--warm-up-time", "0.05", "--measurement-time", "0.1", "--sample-size", "10"];
    let mut args = vec!["native", "--ascii", "--out", outs, "--"];
    args.extend(quick);
    let recorded = run_ok(&mut abibench(&args, home.path()));
    let table = String::from_utf8_lossy(&recorded.stdout);

    let native_files = files(out.path(), native::FILE_PREFIX);
    assert_eq!(native_files.len(), 1, "{native_files:?}");
    let run: NativeRun = io::read_json(&native_files[0], native::SCHEMA, native::SCHEMA_VERSION).unwrap();
    assert_eq!(run.criterion_home, home.path());
    assert!(run.command.as_ref().is_some_and(|c| c.iter().any(|a| a == "bench-native")), "{:?}", run.command);
    let groups = scenario::load_dir(&abibench::setup::paths::workspace_root().join("scenarios")).unwrap();
    for s in groups.iter().flat_map(|g| &g.scenarios) {
        let id = s.native.as_deref().unwrap_or_else(|| panic!("{} has no floor", s.name));
        let b = &run.benches[id];
        assert_eq!(b.elements, s.n, "{id} vs {}", s.name);
        assert!(b.per_iteration_ns.point > 0.0 && b.per_iteration_ns.low <= b.per_iteration_ns.high, "{id}: {b:?}");
        assert!(table.contains(id) && table.contains(&s.name), "{id} / {} not in:\n{table}", s.name);
    }

    // compare --native takes the newest native file in --out, and the results file beside it is
    // still what `show` finds.
    let py = python();
    let compare = run_ok(&mut abibench(
        &[
            "compare",
            "--quick",
            "--ascii",
            "--out",
            outs,
            "--python",
            &py,
            "--mode",
            "unlimited",
            "--scenario",
            "list_sum_*",
            "--native",
        ],
        home.path(),
    ));
    let stdout = String::from_utf8_lossy(&compare.stdout);
    let results_file = io::latest(out.path(), "").unwrap();
    let r = Results::read(&results_file).unwrap();
    let n = r.native.as_ref().expect("a native section");
    assert_eq!(n.file, native_files[0]);
    let a = analyse(&r);
    let interp = &r.interpreters[0].name;
    for s in r.groups.iter().flat_map(|g| &g.scenarios) {
        let floor = &n.floors[&s.name];
        assert_eq!(Some(floor.bench.as_str()), s.native.as_deref());
        // serde_json may move a float by its last bit on the way through a file.
        let want = run.benches[&floor.bench].per_op_ns();
        for (got, want) in
            [(floor.per_op_ns.point, want.point), (floor.per_op_ns.low, want.low), (floor.per_op_ns.high, want.high)]
        {
            assert!((got - want).abs() <= 1e-12 * want, "{}: {got} != {want}", s.name);
        }
        let time = a.summary(interp, Mode::Unlimited, &s.name).unwrap().median;
        let above = a.above_native(interp, Mode::Unlimited, &s.name).unwrap();
        assert_eq!(above.excess_ns.point, time.point - floor.per_op_ns.point);
    }
    assert!(stdout.contains("= the same work in pure Rust"), "{stdout}");
    // The report carries the floors too, a row per scenario and interpreter.
    let md = std::fs::read_to_string(results_file.with_extension("").join("report.md")).unwrap();
    assert!(md.contains("Above the native floor"), "{md}");
    for s in r.groups.iter().flat_map(|g| &g.scenarios) {
        assert!(md.contains(&format!("| {} | {interp} |", s.name)), "{} missing:\n{md}", s.name);
    }
    // The floor stands under the scenario's name, in the table's first column.
    let in_first_column =
        |l: &str| l.strip_prefix(['|', '│']).is_some_and(|rest| rest.trim_start().starts_with("native "));
    let header = stdout.lines().find(|l| in_first_column(l)).unwrap_or_else(|| panic!("no native row:\n{stdout}"));

    // The section is part of the file: `show` prints the column again.
    let show = run_ok(&mut abibench(&["show", "--ascii", &results_file.to_string_lossy()], home.path()));
    assert!(String::from_utf8_lossy(&show.stdout).contains(&format!("{header}\n")));
}
