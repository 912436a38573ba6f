//! End to end with real builds and real interpreters (pyenv 3.8 and 3.13, or the two given in
//! ABIBENCH_TEST_PYTHONS="3.8 3.13"): build, load, measure, record, audit. Nothing is mocked.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    abibench, compare_args, only_results_file, only_results_path, python_flags, pythons, run_code, run_ok, scenario_dir,
};

use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results};
use abibench::model::version::PyVersion;
use abibench::setup::audit;

/// The whole path on two interpreters in unlimited and abi3-py38: every cell is there, the
/// n/a cells say why, a second run rebuilds nothing, and the builds pass/fail the audit as they must.
#[test]
fn compare_two_interpreters_every_cell_recorded_and_audited() {
    let out = tempfile::tempdir().unwrap();
    let outs = out.path().to_str().unwrap();
    let pys = pythons();
    let mut args = compare_args(outs, &["--mode", "unlimited", "--mode", "abi3-py38"]);
    args.extend(python_flags(&pys));
    let first = run_ok(&mut abibench(&args));
    let stdout = String::from_utf8_lossy(&first.stdout);
    let r = only_results_file(out.path());

    assert_eq!(r.interpreters.len(), 2, "{:?}", r.interpreters.iter().map(|i| &i.name).collect::<Vec<_>>());
    let scenarios: Vec<&str> = r.groups.iter().flat_map(|g| g.scenarios.iter().map(|s| s.name.as_str())).collect();
    assert!(scenarios.len() >= 20, "only {} scenarios", scenarios.len());
    let newest = r.interpreters.iter().map(|i| i.version).max().unwrap();
    for i in &r.interpreters {
        for mode in [Mode::Unlimited, Mode::Abi3(PyVersion(3, 8))] {
            for s in &scenarios {
                let c = r.cell(&i.name, mode, s).unwrap_or_else(|| panic!("no cell {} {mode} {s}", i.name));
                match c.status {
                    CellStatus::Ok => {
                        let s = &r.run.sampling;
                        assert!((s.min_processes()..=s.processes).contains(&c.processes.len()), "{:?}", c.processes);
                        assert!(c.processes.iter().all(|p| p.values_s.len() == r.run.sampling.values && p.loops >= 1));
                    }
                    CellStatus::NotAvailable => {
                        // The full API of the newest interpreter has every path; older ones may
                        // lack some (PyObject_CallNoArgs is 3.9+), always with a reason.
                        assert!(mode != Mode::Unlimited || i.version < newest, "{s} n/a in unlimited on {}", i.name);
                        assert!(c.reason.as_deref().is_some_and(|x| !x.is_empty()));
                    }
                    other => panic!("{} {mode} {s}: {other:?}: {:?}", i.name, c.reason),
                }
            }
        }
    }
    // The macro path exists only in the unlimited API, and the table says so rather than faking it.
    let macro_cells: Vec<_> = r.cells.iter().filter(|c| c.scenario.contains("get_item_macro")).collect();
    assert!(!macro_cells.is_empty());
    for c in macro_cells {
        let want = if c.mode == Mode::Unlimited { CellStatus::Ok } else { CellStatus::NotAvailable };
        assert_eq!(c.status, want, "{} {} {}", c.interpreter, c.mode, c.scenario);
    }
    assert!(stdout.contains("n/a in mode"), "{stdout}");
    assert_eq!(r.run.status, abibench::model::results::RunStatus::Complete);
    assert!(r.host.logical_cpus >= 1 && !r.source.ext_source_hash.is_empty());
    assert!(r.interpreters.iter().all(|i| !i.build.config_args.is_empty() || !i.build.cc.is_empty()));

    // A second run with nothing changed rebuilds nothing. Its workers are pinned, it records
    // what on the machine skews timings, and it exports beside its report.
    let again = tempfile::tempdir().unwrap();
    let mut args = compare_args(
        again.path().to_str().unwrap(),
        &["--mode", "unlimited", "--mode", "abi3-py38", "--scenario", "call_no_args", "--affinity", "0"],
    );
    args.extend(["--export", "pyperf", "--export", "csv"]);
    args.extend(python_flags(&pys));
    let second = run_ok(&mut abibench(&args));
    let r2 = only_results_file(again.path());
    assert!(
        r2.builds.iter().all(|b| matches!(b.outcome, abibench::model::build::BuildOutcome::Ok { cached: true, .. })),
        "{:?}",
        r2.builds
    );
    assert_eq!(r2.run.sampling.affinity, [0]);
    assert!(String::from_utf8_lossy(&second.stderr).contains("workers pinned to CPUs 0"));
    assert!(r2.host.system.iter().any(|f| f.check == "ASLR"), "{:?}", r2.host.system);
    let exported = again.path().join(&r2.run.id);
    assert!(exported.join("cells.csv").is_file());
    for i in &r2.interpreters {
        assert!(exported.join(format!("pyperf/{}-abi3-py38.json", i.name)).is_file(), "{}", i.name);
    }

    // The stable-ABI audit: the abi3-py38 build imports only Stable ABI symbols of 3.8; the
    // unlimited build for the oldest interpreter does not (e.g. PyUnicode_AsUTF8AndSize is 3.10+).
    let artifact =
        |mode: Mode| r.builds.iter().find(|b| b.mode == mode).and_then(|b| b.artifact()).unwrap().to_path_buf();
    let abi3 = audit::audit(&artifact(Mode::Abi3(PyVersion(3, 8))), (3, 8)).unwrap();
    assert!(abi3.passed(), "{abi3:?}");
    assert!(abi3.checked > 20, "too few symbols checked: {abi3:?}");
    let oldest = r.interpreters.iter().min_by_key(|i| i.version).unwrap();
    let unlimited = r
        .builds
        .iter()
        .find(|b| b.mode == Mode::Unlimited && b.abi_tag == oldest.soabi)
        .and_then(|b| b.artifact())
        .unwrap();
    let u = audit::audit(unlimited, (3, 8)).unwrap();
    assert!(!u.passed(), "the unlimited build must fail the floor-3.8 audit: {u:?}");
}

/// A segfault and a hang in the timed code are recorded against their cell, and the run goes on.
#[test]
fn crash_and_hang_are_recorded_and_the_run_goes_on() {
    let scen = scenario_dir(
        r#"
[group]
name = "faults"
title = "Faults"
kind = "chatty"

[[scenario]]
name = "segfault"
function = "MODE"
stmt = "ctypes.string_at(0)"
setup = "import ctypes"

[[scenario]]
name = "hang"
function = "MODE"
stmt = "time.sleep(3600)"
setup = "import time"

[[scenario]]
name = "fine"
function = "MODE"
stmt = "len(f)"
"#,
    );
    let out = tempfile::tempdir().unwrap();
    let py = &pythons()[0];
    let start = Instant::now();
    run_ok(&mut abibench(&compare_args(
        out.path().to_str().unwrap(),
        &[
            "--python",
            py,
            "--mode",
            "unlimited",
            "--mode",
            "abi3-py38",
            "--timeout",
            "3",
            "--scenarios-dir",
            scen.path().to_str().unwrap(),
        ],
    )));
    assert!(start.elapsed() < Duration::from_secs(120));
    let r = only_results_file(out.path());
    let i = &r.interpreters[0].name;
    for mode in [Mode::Unlimited, Mode::Abi3(PyVersion(3, 8))] {
        let seg = r.cell(i, mode, "segfault").unwrap();
        assert_eq!(seg.status, CellStatus::Crashed, "{seg:?}");
        assert!(seg.reason.as_deref().unwrap().contains("SIGSEGV"), "{:?}", seg.reason);
        assert_eq!(r.cell(i, mode, "hang").unwrap().status, CellStatus::Timeout);
        assert_eq!(r.cell(i, mode, "fine").unwrap().status, CellStatus::Ok);
    }
}

/// Ctrl-C keeps the finished cells: the results file says "interrupted" and loses nothing done.
#[test]
fn interrupt_keeps_finished_cells() {
    let out = tempfile::tempdir().unwrap();
    let pys = pythons();
    // Default level, so the second interpreter is still measuring when the signal comes.
    let mut args = vec![
        "compare",
        "--ascii",
        "--out",
        out.path().to_str().unwrap(),
        "--mode",
        "unlimited",
        "--scenario",
        "containers",
    ];
    args.extend(python_flags(&pys));
    let mut child =
        abibench(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    // Wait until the first interpreter's cells are saved, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let saved =
            std::fs::read_dir(out.path()).unwrap().filter_map(|e| e.ok()).find_map(|e| Results::read(&e.path()).ok());
        if saved.is_some_and(|r| r.cells.iter().any(|c| c.status == CellStatus::Ok)) {
            break;
        }
        assert!(Instant::now() < deadline, "no cell finished in time");
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let r = only_results_file(out.path());
    assert_eq!(r.run.status, abibench::model::results::RunStatus::Interrupted);
    assert!(r.cells.iter().any(|c| c.status == CellStatus::Ok));
    assert!(r.cells.iter().all(|c| c.status != CellStatus::Pending));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let check = |args: &[&str], needle: &str| {
        let out = abibench(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected '{needle}' in: {err}");
    };
    check(&["compare", "--python", "/no/such/python3"], "--python /no/such/python3: no such file");
    // clap lists the known modes, from the one list (`Mode::ALL`).
    check(&["compare", "--mode", "abi3-py37"], "invalid value 'abi3-py37' for '--mode <MODE>'");
    check(&["compare", "--mode", "abi3-py37"], "possible values: unlimited, abi3-py38,");
    check(&["compare", "--python", "2.7"], "Python 2.7 is older than 3.8");
    check(&["compare", "--scenario", "zzz*"], "--scenario zzz*");
    check(&["calibrate", "--affinity", "4096"], "CPU 4096 is not one this process may use");
    check(&["compare", "--affinity", "1-0"], "'1-0' is not a CPU list");
    check(&["export", "--format", "xml"], "possible values: pyperf, bmf, github-action-benchmark, csv");
    check(&["report", "/no/such/run.json"], "cannot read /no/such/run.json");
    let results = scenario_dir("{}");
    let not_results = results.path().join("faults.toml");
    check(&["report", not_results.to_str().unwrap()], "faults.toml is not an abibench-results file");
    check(
        &["report", not_results.to_str().unwrap(), "--matrix", "/no/such/m.json"],
        "--matrix /no/such/m.json: cannot read",
    );
    let bad = scenario_dir("[group]\nname = \"x\"\ntitle = \"x\"\nkind = \"chatty\"\n\n[[scenario]]\nname = \"a\"\nfunction = \"f\"\nstmt = \n");
    check(&["compare", "--scenarios-dir", bad.path().to_str().unwrap()], "faults.toml");
    check(&["compare", "--scenarios-dir", bad.path().to_str().unwrap()], "line 9");
}

/// Instruction mode counts the same instructions and calls on every run: two runs, identical values, whether
/// the interpreters are counted one after another or at once (`--jobs`).
#[test]
fn instruction_counts_are_reproducible() {
    let pys = pythons();
    let counts = |jobs: &str| {
        let out = tempfile::tempdir().unwrap();
        let mut args = compare_args(
            out.path().to_str().unwrap(),
            &[
                "--mode",
                "unlimited",
                "--mode",
                "abi3-py38",
                "--measure",
                "instructions",
                "--jobs",
                jobs,
                "--scenario",
                "call_three_ints_keywords",
                "--scenario",
                "list_sum_get_item_fn",
            ],
        );
        args.extend(python_flags(&pys));
        run_ok(&mut abibench(&args));
        let r = only_results_file(out.path());
        assert_eq!(r.run.sampling.measure, abibench::model::sampling::Measure::Instructions);
        // Which workers ran at once: with --jobs 2 the interpreters' workers overlap in time.
        let spans: Vec<(String, String)> =
            r.workers.iter().map(|w| (w.started_at.clone().unwrap(), w.ended_at.clone().unwrap())).collect();
        let overlap = spans.iter().enumerate().any(|(i, a)| spans[i + 1..].iter().any(|b| a.0 < b.1 && b.0 < a.1));
        // In interpreter order, as a sequential run writes them.
        let cells = r
            .cells
            .iter()
            .map(|c| (c.interpreter.clone(), c.mode, c.scenario.clone(), c.per_op(1.0), c.calls.clone()))
            .collect::<Vec<_>>();
        // Each cell's calls into the interpreter: list_sum_get_item_fn calls PyList_GetItem once
        // per item, in every mode.
        for c in r.cells.iter().filter(|c| c.scenario == "list_sum_get_item_fn") {
            let calls = c.calls.as_ref().unwrap_or_else(|| panic!("{} {}: no calls", c.interpreter, c.mode));
            let per_item = calls.counts.get("PyList_GetItem").copied().unwrap_or(0) as f64 / (calls.loops * c.n) as f64;
            assert_eq!(per_item, 1.0, "{} {}: {calls:?}", c.interpreter, c.mode);
        }
        (cells, overlap)
    };
    let ((a, one_at_a_time), (b, at_once)) = (counts("1"), counts("2"));
    assert!(!one_at_a_time && at_once, "--jobs 1 must count one interpreter at a time, --jobs 2 two at once");
    assert_eq!(a.len(), 8);
    assert!(a.iter().all(|(_, _, _, v, _)| !v.is_empty() && v.iter().all(|(_, x)| *x > 10.0)), "{a:?}");
    assert_eq!(a, b, "instruction counts or calls differ between a sequential and a parallel run");
    // The stable-ABI penalty of keyword calls below abi3-py310 shows in instructions too.
    let per_op = |mode: Mode| {
        a.iter().find(|(i, m, s, _, _)| *i == a[0].0 && *m == mode && s == "call_three_ints_keywords").unwrap().3[0].1
    };
    assert!(per_op(Mode::Abi3(PyVersion(3, 8))) > 1.2 * per_op(Mode::Unlimited));
}

/// The A/A self-check runs the same build against itself and reports a verdict per scenario.
#[test]
fn calibrate_reports_every_scenario() {
    let py = &pythons()[0];
    let out =
        run_ok(&mut abibench(&["calibrate", "--quick", "--python", py, "--scenario", "list_sum*", "--affinity", "0"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("workers pinned to CPUs 0"), "{text}");
    for s in ["list_sum_get_item_macro", "list_sum_get_item_fn", "list_sum_pyo3_get_item", "list_sum_pyo3_iter"] {
        assert!(text.contains(s), "{s} missing from:\n{text}");
    }
    assert!(text.contains("false differences (interval excludes 1.0):"), "{text}");
}

/// The nightly path on real result files: two shards merge into one run; the gate passes an
/// identical copy, finds a regression injected into another copy and reports a missing cell;
/// merge refuses a shard of another revision or schema version; the history records the gated
/// run and plots its trend.
#[test]
fn shards_merge_and_the_gate_judges_real_results() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let pys = pythons();
    let mut shards = Vec::new();
    for i in 1..=2 {
        let (dir, spec) = (w.join(format!("shard{i}")), format!("{i}/2"));
        let mut args = compare_args(
            dir.to_str().unwrap(),
            &["--mode", "unlimited", "--mode", "abi3-py38", "--scenario", "calls_in", "--shard", &spec],
        );
        args.extend(python_flags(&pys));
        run_ok(&mut abibench(&args));
        shards.push(only_results_path(&dir));
    }
    let parts: Vec<Results> = shards.iter().map(|p| Results::read(p).unwrap()).collect();
    // Two shards over two interpreters: one whole interpreter each.
    for r in &parts {
        let interps: std::collections::BTreeSet<&str> = r.cells.iter().map(|c| c.interpreter.as_str()).collect();
        assert_eq!(interps.len(), 1, "{interps:?}");
        assert!(r.run.shard.is_some());
    }
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (code, stdout, stderr) = run_code(&["merge", &s(&shards[0]), &s(&shards[1]), "--out", &s(&w.join("merged"))]);
    assert_eq!(code, 0, "{stderr}");
    let merged_path = PathBuf::from(stdout.trim());
    let merged = Results::read(&merged_path).unwrap();
    assert_eq!(merged.cells.len(), parts[0].cells.len() + parts[1].cells.len());
    assert_eq!(merged.interpreters.len(), 2);
    run_ok(&mut abibench(&["show", &s(&merged_path), "--ascii"]));

    let write = |name: &str, r: &Results| {
        let p = w.join(name);
        r.write_atomic(&p).unwrap();
        s(&p)
    };
    let base = s(&merged_path);
    // An identical copy: nothing fires.
    let (code, out, err) = run_code(&["check", &write("same.json", &merged), "--baseline", &base]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("| regressed | 0 |") && out.contains("| improved | 0 |"), "{out}");

    // The steadiest cell made twice as slow: found, and only it.
    let a = abibench::analysis::cells::analyse(&merged);
    let (key, _) =
        a.summaries.iter().min_by(|x, y| x.1.median.rel_half_width().total_cmp(&y.1.median.rel_half_width())).unwrap();
    let mut slow = merged.clone();
    let cell = slow.cells.iter_mut().find(|c| c.key() == *key).unwrap();
    for p in &mut cell.processes {
        p.values_s.iter_mut().for_each(|v| *v *= 2.0);
    }
    let row = format!("| **regressed** | {} | {} | {} |", cell.scenario, cell.interpreter, cell.mode);
    let scenario = cell.scenario.clone();
    let history = w.join("history");
    let (code, out, err) =
        run_code(&["check", &write("slow.json", &slow), "--baseline", &base, "--history", &s(&history)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&row) && out.contains("| regressed | 1 |"), "{row} in:\n{out}");

    // A missing cell is reported; it fails the gate only when asked.
    let mut missing = merged.clone();
    let gone = missing.cells.iter().position(|c| c.status == CellStatus::Ok).unwrap();
    let gone = missing.cells.remove(gone);
    let file = write("missing.json", &missing);
    let (code, out, _) = run_code(&["check", &file, "--baseline", &base]);
    assert_eq!(code, 0, "{out}");
    let row = format!("| missing | {} | {} | {} |", gone.scenario, gone.interpreter, gone.mode);
    assert!(out.contains(&row) && out.contains("not in this run"), "{row} in:\n{out}");
    assert_eq!(run_code(&["check", &file, "--baseline", &base, "--fail-on-missing"]).0, 1);

    // Merge refuses a shard of another revision, or of another schema version.
    let mut other = parts[1].clone();
    other.source.git_revision = Some("0000000000000000000000000000000000000000".into());
    let (code, _, err) = run_code(&["merge", &s(&shards[0]), &write("other-rev.json", &other), "--out", &s(w)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("source revision differs") && err.contains("other-rev.json"), "{err}");
    let text =
        std::fs::read_to_string(&shards[1]).unwrap().replacen("\"schema_version\": 1", "\"schema_version\": 99", 1);
    std::fs::write(w.join("v99.json"), text).unwrap();
    let (code, _, err) = run_code(&["merge", &s(&shards[0]), &s(&w.join("v99.json")), "--out", &s(w)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("v99.json") && err.contains("v99"), "{err}");

    // The gated run is in the history, with what the gate said, and its trend is drawn.
    let (code, out, _) = run_code(&["history", "list", "--dir", &s(&history)]);
    assert_eq!(code, 0);
    assert!(out.contains(&slow.run.id) && out.contains("1 regressed"), "{out}");
    let plots = w.join("plots");
    run_ok(&mut abibench(&["history", "plot", "--dir", &s(&history), "--out", &s(&plots)]));
    assert!(plots.join("wall-time").join(format!("{scenario}.svg")).is_file());
}

/// `scripts/nightly.sh --quick`, twice, as CI runs it: the first night saves the baseline, the
/// second is gated on it, and both land in the history with trend plots.
#[test]
fn nightly_script_quick_end_to_end() {
    let out = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nightly.sh");
    let night = || {
        Command::new(&script)
            .args(["--quick", "--out", out.path().to_str().unwrap()])
            .env("ABIBENCH", env!("CARGO_BIN_EXE_abibench"))
            .env("NIGHTLY_PYTHONS", pythons().join(" "))
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap()
    };
    let first = night();
    let (stdout, err) = (String::from_utf8_lossy(&first.stdout), String::from_utf8_lossy(&first.stderr));
    assert_eq!(first.status.code(), Some(0), "{err}");
    // The first night's policy (`check --save-if-missing`): each pass becomes its baseline.
    assert!(stdout.contains("First night for baseline `nightly`"), "{stdout}{err}");
    assert!(stdout.contains("First night for baseline `nightly-instructions`"), "{stdout}{err}");
    assert!(out.path().join("baselines/nightly.json").is_file(), "{err}");

    let second = night();
    let (stdout, err) = (String::from_utf8_lossy(&second.stdout), String::from_utf8_lossy(&second.stderr));
    // Quick wall-time runs on a shared machine may differ beyond the minimum effect (the A/A
    // false-positive rate is measured, not assumed), so a fired gate (1) is a valid outcome here.
    assert!(matches!(second.status.code(), Some(0 | 1)), "{stdout}{err}");
    assert!(stdout.contains("### abibench check (wall-time)") && stdout.contains("**Gate: "), "{stdout}");

    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("history/index.json")).unwrap()).unwrap();
    // Each night records an instruction pass, then a wall-time pass.
    let runs = index["runs"].as_array().unwrap();
    let measures: Vec<&str> = runs.iter().map(|r| r["measure"].as_str().unwrap()).collect();
    assert_eq!(measures, ["instructions", "wall-time", "instructions", "wall-time"], "{index}");
    assert!(runs[..2].iter().all(|r| r["gate"].is_null()) && runs[2..].iter().all(|r| r["gate"].is_object()));
    // Instruction counts repeat exactly, so the second night's instruction gate sees no change at all.
    let instr = &runs[2]["gate"];
    assert!(instr["regressed"].as_array().unwrap().is_empty() && instr["improved"].as_array().unwrap().is_empty());
    assert!(stdout.contains("### abibench check (instructions)"), "{stdout}");
    let nights: Vec<PathBuf> =
        std::fs::read_dir(out.path().join("nightly")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(nights.len(), 2);
    let last = nights.iter().max().unwrap();
    assert!(last.join("summary.md").is_file() && last.join("wall-time.verdict.md").is_file());
    assert!(last.join("instructions.verdict.md").is_file() && last.join("report/report.html").is_file());
    assert!(last.join("trends/wall-time/call_no_args.svg").is_file());
    assert!(last.join("trends/instructions/call_no_args.svg").is_file());
    let agreement = std::fs::read_to_string(last.join("agreement.txt")).unwrap();
    assert!(agreement.contains("Wall time (A) against instruction counts (B)"), "{agreement}");
}
