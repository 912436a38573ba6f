//! `abibench export` read by the real consumers: pyperf from PyPI reads the pyperf files (`stats`,
//! `compare_to`, and its own medians match the raw values), the BMF file validates against
//! Bencher's published schema (`fixtures/bencher/`), the github-action-benchmark file has the
//! shape that tool reads, and the CSV round-trips through Python's csv module. The data is the
//! committed reference run, cut to two interpreters and a few scenarios (the debug build's
//! bootstrap is slow), with hostile names planted wherever a name reaches an export.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use abibench::export::format::spreadsheet_text;
use abibench::model::interpreter::Provenance;
use abibench::model::io::latest;
use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results};
use common::{abibench, pypi_venv, run_ok};
use serde_json::Value;

/// The report tests' hostile strings, and CSV's and spreadsheets' own.
const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>",
    "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">&'\"",
    "we<i>rd &\"dir' #1",
    "a,b;c\td\r\ne\n\"f\"\"",
    "=HYPERLINK(\"x\") ünï ✓",
    " padded ",
];

/// The reference run with two interpreters, the first renamed and given a hostile source, and
/// scenarios renamed to the hostile strings: (the results, the file it is saved in).
fn hostile_run(dir: &Path) -> (Results, PathBuf) {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/reference");
    let mut r = Results::read(&latest(&reference, "").unwrap()).unwrap();
    let keep = ["3.8.18", "3.12.1"];
    let scenarios =
        ["call_no_args", "call_three_ints_keywords", "list_sum_get_item_fn", "type_macro", "size_fn", "nbody_small"];
    r.interpreters.retain(|i| keep.contains(&i.name.as_str()));
    r.cells.retain(|c| keep.contains(&c.interpreter.as_str()) && scenarios.contains(&c.scenario.as_str()));
    r.workers.clear();
    let renamed = |s: &str| HOSTILE[scenarios.iter().position(|x| *x == s).unwrap()].to_string();
    for c in &mut r.cells {
        c.scenario = renamed(&c.scenario);
        if c.interpreter == keep[0] {
            c.interpreter = HOSTILE[1].into();
        }
    }
    r.interpreters[0].name = HOSTILE[1].into();
    r.interpreters[0].provenance = Provenance::DebianPackages { suite: HOSTILE[3].into(), packages: Vec::new() };
    let file = dir.join("run.json");
    r.write_atomic(&file).unwrap();
    (r, file)
}

fn python(args: &[&str]) -> String {
    String::from_utf8(run_ok(Command::new(pypi_venv("pyperf")).args(args)).stdout).unwrap()
}

#[test]
fn exports_are_read_by_pyperf_bencher_and_python_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let (r, file) = hostile_run(tmp.path());
    let out = tmp.path().join("export");
    let mut args = vec!["export", file.to_str().unwrap(), "--out", out.to_str().unwrap()];
    for f in ["pyperf", "bmf", "github-action-benchmark", "csv"] {
        args.extend(["--format", f]);
    }
    run_ok(&mut abibench(&args));
    let ok_cells: Vec<_> = r.cells.iter().filter(|c| c.status == CellStatus::Ok).collect();
    let stable_ok = ok_cells.iter().filter(|c| c.mode != Mode::Unlimited).count();
    assert!(ok_cells.len() >= 20 && stable_ok >= 10, "{} cells", ok_cells.len());

    // pyperf: stats and compare_to read the files and name every scenario (on one line, as
    // pyperf keeps metadata), and pyperf's medians are abibench's raw values per operation.
    let pyperf_dir = out.join("pyperf");
    // The hostile interpreter's files: named safely, after the one other interpreter's.
    let evil_file = |mode: &str| {
        let suffix = format!("-{mode}.json");
        std::fs::read_dir(&pyperf_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|n| n.ends_with(&suffix) && !n.starts_with("3.12.1-"))
            .map(|n| pyperf_dir.join(n))
            .unwrap_or_else(|| panic!("no pyperf file for the hostile interpreter's {mode}"))
    };
    let pyperf_name = |s: &str| s.replace(['\r', '\n'], " ").trim().to_string();
    for f in [evil_file("unlimited"), pyperf_dir.join("3.12.1-abi3-py312.json")] {
        let stats = python(&["-m", "pyperf", "stats", f.to_str().unwrap()]);
        for h in HOSTILE {
            assert!(stats.contains(&pyperf_name(h)), "{h:?} not in pyperf stats of {}:\n{stats}", f.display());
        }
    }
    let (base, abi3) = (evil_file("unlimited"), evil_file("abi3-py38"));
    let compared = python(&["-m", "pyperf", "compare_to", base.to_str().unwrap(), abi3.to_str().unwrap(), "--table"]);
    assert!(compared.contains("slower") && compared.contains(&pyperf_name(HOSTILE[0])), "{compared}");
    let medians = python(&[
        "-c",
        "import json, sys, pyperf; print(json.dumps({b.get_name(): b.median() for b in pyperf.BenchmarkSuite.load(sys.argv[1])}))",
        base.to_str().unwrap(),
    ]);
    let medians: BTreeMap<String, f64> = serde_json::from_str(&medians).unwrap();
    for c in ok_cells.iter().filter(|c| c.interpreter == HOSTILE[1] && c.mode == Mode::Unlimited) {
        let mut raw: Vec<f64> =
            c.processes.iter().flat_map(|p| p.values_s.iter().map(move |v| v / (p.loops * c.n) as f64)).collect();
        raw.sort_by(f64::total_cmp);
        let ours = (raw[(raw.len() - 1) / 2] + raw[raw.len() / 2]) / 2.0;
        let theirs = medians[&pyperf_name(&c.scenario)];
        assert!((theirs / ours - 1.0).abs() < 1e-9, "{}: pyperf {theirs}, abibench {ours}", c.scenario);
    }

    // Bencher: the published schema, and the documented limits it leaves out.
    let bmf: Value = serde_json::from_str(&std::fs::read_to_string(out.join("bmf.json")).unwrap()).unwrap();
    let schema_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bencher/bmf.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_file).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&bmf).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "BMF invalid: {errors:?}");
    let benchmarks = bmf.as_object().unwrap();
    assert_eq!(benchmarks.len(), ok_cells.len());
    assert_eq!(benchmarks.values().filter(|m| m.get("ratio-to-unlimited").is_some()).count(), stable_ok);
    for (name, measures) in benchmarks {
        assert!(!name.is_empty() && name.chars().count() <= 1024, "{name}");
        for (slug, m) in measures.as_object().unwrap() {
            assert!(slug.len() <= 64);
            let (lo, v, hi) = (&m["lower_value"], &m["value"], &m["upper_value"]);
            assert!(lo.as_f64() <= v.as_f64() && v.as_f64() <= hi.as_f64(), "{name} {slug}: {m}");
        }
    }

    // github-action-benchmark (customSmallerIsBetter): a list of {name, unit, value, range, extra}.
    let gab: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("github-action-benchmark.json")).unwrap()).unwrap();
    let entries = gab.as_array().unwrap();
    assert_eq!(entries.len(), ok_cells.len() + stable_ok);
    for e in entries {
        assert!(e["value"].is_f64() && ["name", "unit", "range", "extra"].iter().all(|k| e[k].is_string()), "{e}");
    }

    // CSV: Python's csv module gets back every cell, every hostile name as a spreadsheet's text
    // (`spreadsheet_text`: control characters shown, no leading formula), and the medians.
    let rows = python(&[
        "-c",
        "import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))))",
        out.join("cells.csv").to_str().unwrap(),
    ]);
    let rows: Vec<BTreeMap<String, String>> = serde_json::from_str(&rows).unwrap();
    let text = spreadsheet_text;
    assert_eq!(rows.len(), r.cells.len());
    for (row, c) in rows.iter().zip(&r.cells) {
        assert_eq!((&row["interpreter"], &row["scenario"]), (&text(&c.interpreter), &text(&c.scenario)));
        assert_eq!(row["mode"], c.mode.name());
        if c.interpreter == HOSTILE[1] {
            assert_eq!(row["source"], text(&format!("Debian {} packages", HOSTILE[3])));
        }
        let key = format!("{}/{}/{}", c.interpreter, c.mode, c.scenario);
        match bmf.get(&key) {
            Some(m) => assert_eq!(row["median"].parse::<f64>().ok(), m["latency"]["value"].as_f64(), "{key}"),
            None => assert_eq!(row["median"], "", "{key}"),
        }
    }
    for h in HOSTILE {
        assert!(rows.iter().any(|row| row["scenario"] == text(h)), "{h:?} did not survive the CSV");
    }
}
