//! `abibench matrix` with real builds and real interpreters: whatever is discovered, with 3.8,
//! 3.12, 3.15 and a free-threaded 3.13 required (`scripts/test.sh` provisions the last two). Then the stable-ABI audit against an independent one, `abi3audit` from PyPI
//! (installed into a venv under cargo's test tmpdir, kept between runs), on every abi3 build and on
//! a test-only extension that calls a private API. Nothing is mocked.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use abibench::model::build::{Audit, BuildRecord};
use abibench::model::matrix::{Load, Matrix, MatrixCell, Step};
use abibench::model::mode::Mode;
use abibench::model::version::PyVersion;
use abibench::setup::audit;
use common::{pypi_venv, run_ok};
use object::{Object, ObjectSymbol};

fn tmp() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

/// One `abibench matrix` run shared by the tests of this file: (the saved file, the table).
fn matrix() -> &'static (Matrix, String) {
    static RUN: OnceLock<(Matrix, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = tmp().join("matrix-run");
        let _ = std::fs::remove_dir_all(&out);
        let stdout = run_ok(
            Command::new(env!("CARGO_BIN_EXE_abibench"))
                .args(["matrix", "--ascii", "--timeout", "120", "--out"])
                .arg(&out),
        )
        .stdout;
        let files: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "one matrix file in {}: {files:?}", out.display());
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("matrix-") && name.ends_with(".json"), "{name}");
        (Matrix::read(&files[0]).unwrap(), String::from_utf8(stdout).unwrap())
    })
}

fn build(m: &Matrix, pred: impl Fn(&BuildRecord) -> bool) -> &BuildRecord {
    m.builds.iter().find(|b| pred(b)).expect("such a build")
}

fn unlimited_for(m: &Matrix, version: PyVersion) -> &BuildRecord {
    let soabi = &m.interpreters.iter().find(|i| i.version == version && !i.gil_disabled).unwrap().soabi;
    build(m, |b| b.mode == Mode::Unlimited && &b.abi_tag == soabi)
}

fn on<'a>(m: &'a Matrix, b: &BuildRecord, version: PyVersion) -> &'a MatrixCell {
    let i = m.interpreters.iter().find(|i| i.version == version && !i.gil_disabled).unwrap();
    m.cell(b, &i.name).unwrap_or_else(|| panic!("no cell {} on {}", b.label(), i.name))
}

/// The Python symbols a shared library defines: the oracle for the link check's "missing".
fn defined_python_symbols(lib: &Path) -> BTreeSet<String> {
    let data = std::fs::read(lib).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.dynamic_symbols()
        .filter(|s| !s.is_undefined())
        .filter_map(|s| s.name().ok().map(String::from))
        .filter(|n| n.starts_with("Py") || n.starts_with("_Py"))
        .collect()
}

const V38: PyVersion = PyVersion(3, 8);
const V312: PyVersion = PyVersion(3, 12);
const V313: PyVersion = PyVersion(3, 13);
const V315: PyVersion = PyVersion(3, 15);

/// PyO3 0.29's refusal to build for a free-threaded CPython before 3.14.
const PYO3_FT_REFUSAL: &str = "PyO3 does not support the free-threaded build of CPython versions below 3.14";

/// Every build on every interpreter, each cell answered, and the answers agree with independent
/// facts: the importer's suffix list, libpython's own symbol table, the installers' rules.
#[test]
fn matrix_every_build_on_every_interpreter() {
    let (m, table) = matrix();
    let versions: BTreeSet<(PyVersion, bool)> = m.interpreters.iter().map(|i| (i.version, i.gil_disabled)).collect();
    for need in [(V38, false), (V312, false), (V315, false), (V313, true)] {
        assert!(versions.contains(&need), "3.8, 3.12, 3.15 and 3.13t are required; found {versions:?}");
    }
    assert_eq!(m.schema, abibench::model::matrix::SCHEMA);

    // Every mode is built, abi3t-py315 too (without a 3.15 interpreter), and one unlimited build
    // per interpreter ABI.
    for mode in Mode::ALL {
        assert!(m.builds.iter().any(|b| b.mode == mode), "no {mode} build");
    }
    let soabis: BTreeSet<&str> = m.interpreters.iter().map(|i| i.soabi.as_str()).collect();
    assert_eq!(m.builds.iter().filter(|b| b.mode == Mode::Unlimited).count(), soabis.len());
    assert_eq!(m.cells.len(), m.builds.len() * m.interpreters.len());
    // The one build allowed to fail: unlimited for a free-threaded interpreter PyO3 0.29 refuses.
    // Its failure is recorded with PyO3's message, and its cells say they were not run.
    for b in m.builds.iter().filter(|b| b.artifact().is_none()) {
        let for_ft = m.interpreters.iter().any(|i| {
            i.gil_disabled && i.version < PyVersion(3, 14) && b.interpreter.as_deref() == Some(i.name.as_str())
        });
        assert!(b.mode == Mode::Unlimited && for_ft, "{} failed to build: {:?}", b.label(), b.outcome);
        assert!(format!("{:?}", b.outcome).contains(PYO3_FT_REFUSAL), "{:?}", b.outcome);
        for i in &m.interpreters {
            assert_eq!(m.cell(b, &i.name).unwrap().verdict(), "not run", "{} on {}", b.label(), i.name);
        }
    }

    for b in m.builds.iter().filter(|b| b.artifact().is_some()) {
        let artifact = b.artifact().unwrap();
        let imports = audit::imported_python_symbols(artifact).unwrap();
        for i in &m.interpreters {
            let c = m.cell(b, &i.name).unwrap();
            let at = format!("{} on {}", b.label(), i.name);

            // a. Found exactly when the installed name is `bench_ext` + one of its suffixes.
            let by_suffix = i.extension_suffixes.iter().any(|s| c.canonical.file_name == format!("bench_ext{s}"));
            assert_eq!(c.canonical.found, Some(by_suffix), "{at}: {:?}", c.canonical);

            // An installer's choice loads, runs, and links.
            let fits = b.mode.fits(i).is_ok() && (b.mode != Mode::Unlimited || b.abi_tag == i.soabi);
            assert_eq!(c.installable, fits, "{at}");
            if c.installable {
                assert_eq!(c.verdict(), "ok", "{at}: {:?}", c.forced);
            }

            // c. Unresolved means: imported, and not defined by that libpython.
            let lib = i.libpython().unwrap_or_else(|e| panic!("{at}: {e}"));
            let Step::Done { result: link } = &c.link else { panic!("{at}: link check did not finish: {:?}", c.link) };
            assert_eq!(link.libpython, lib);
            assert_eq!(link.checked, imports.len(), "{at}");
            let defined = defined_python_symbols(&lib);
            let want: Vec<&String> = imports.iter().filter(|s| !defined.contains(*s)).collect();
            assert_eq!(link.missing.iter().collect::<Vec<_>>(), want, "{at}");
            // dlopen agrees that something is missing, and names one of them.
            match &link.dlopen_error {
                None => assert!(link.missing.is_empty(), "{at}: {link:?}"),
                Some(e) => assert!(link.missing.iter().any(|s| e.contains(s.as_str())), "{at}: {e}"),
            }

            // b. A symbol missing from libpython makes the real import fail, naming one of them;
            // on the GIL interpreters this test was written against, nothing else does.
            match &c.forced {
                Step::Done { result: Load::Raised { exception, message } } if exception == "ImportError" => {
                    assert!(
                        link.missing.iter().any(|s| message.contains(&format!("undefined symbol: {s}"))),
                        "{at}: {message}"
                    );
                }
                Step::Done { result: Load::Ok } => assert!(link.missing.is_empty(), "{at}: loaded despite {link:?}"),
                // 3.13t refuses a module built for the GIL ABI (another object header) at init.
                Step::Done { result: Load::Raised { exception, message } }
                    if i.gil_disabled && exception == "SystemError" =>
                {
                    assert!(!c.installable, "{at}: {message}")
                }
                other => panic!("{at}: {other:?}"),
            }

            // d. Unlimited builds carry the per-interpreter information audit, stable ones none.
            match (b.mode, &c.outside_stable_abi) {
                (Mode::Unlimited, Some(a)) => {
                    assert_eq!(a, &audit::audit_symbols(&imports, (i.version.0, i.version.1)), "{at}")
                }
                (Mode::Unlimited, None) => panic!("{at}: no information audit"),
                (_, a) => assert!(a.is_none(), "{at}"),
            }
        }
    }

    // The cells named in the issue, on the interpreters required here.
    let u312 = unlimited_for(m, V312);
    let c = on(m, u312, V38);
    assert_eq!(c.canonical.found, Some(false), "a cp312 file is not looked for by 3.8");
    assert!(c.verdict().starts_with("not found; forced: ImportError"), "{}", c.verdict());
    let u38 = unlimited_for(m, V38);
    assert_eq!(on(m, u38, V312).canonical.found, Some(false));
    // abi3-py312 on 3.8: found (3.8 accepts .abi3.so) but too old: the link check names what is missing.
    let a312 = build(m, |b| b.mode == Mode::Abi3(V312));
    let c = on(m, a312, V38);
    assert_eq!(c.canonical.found, Some(true));
    assert!(!c.installable);
    let Step::Done { result: link } = &c.link else { panic!("{:?}", c.link) };
    for s in ["PyObject_Vectorcall", "_Py_IncRef", "_Py_DecRef"] {
        assert!(link.missing.iter().any(|x| x == s), "{s} not reported missing: {link:?}");
    }
    // abi3t's file name is looked for by no interpreter before 3.15.
    let abi3t = build(m, |b| matches!(b.mode, Mode::Abi3t(_)));
    for i in m.interpreters.iter().filter(|i| i.version < PyVersion(3, 15)) {
        assert_eq!(m.cell(abi3t, &i.name).unwrap().canonical.found, Some(false), "{}", i.name);
    }
    // No abi3 build loads on a free-threaded interpreter (3.13t still looks for .abi3.so, then
    // refuses the module); abi3t-py315 loads on 3.15, as an installer would place it.
    for i in m.interpreters.iter().filter(|i| i.gil_disabled) {
        for b in m.builds.iter().filter(|b| matches!(b.mode, Mode::Abi3(_))) {
            let c = m.cell(b, &i.name).unwrap();
            assert!(!matches!(c.forced, Step::Done { result: Load::Ok }), "{} loads on {}", b.label(), i.name);
        }
    }
    assert_eq!(on(m, abi3t, V315).verdict(), "ok");

    // Stable-ABI builds pass their own audit; the table shows every interpreter and the details.
    for b in m.builds.iter().filter(|b| b.mode != Mode::Unlimited) {
        let a = b.audit.as_ref().unwrap_or_else(|| panic!("{}: no audit", b.label()));
        assert!(a.passed(), "{}: {a:?}", b.label());
    }
    for i in &m.interpreters {
        assert!(table.contains(&i.name), "{} missing from the table", i.name);
    }
    for needle in
        ["ok *", "ok (forced)", "not found", "unresolved", "PyErr_GetRaisedException", "not a stable-ABI build"]
    {
        assert!(table.contains(needle), "'{needle}' not in the table:\n{table}");
    }
}

/// The abi3audit virtual environment's python, which runs `-m abi3audit`.
fn abi3audit() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| pypi_venv("abi3audit"))
}

/// abi3audit's findings for `so`, assuming the limited API of `floor`: (symbols outside the
/// Stable ABI, Stable ABI symbols newer than the floor with their version).
fn abi3audit_findings(so: &Path, floor: PyVersion) -> (BTreeSet<String>, BTreeMap<String, (u8, u8)>) {
    // abi3audit goes by the file name: it must end in .abi3.so.
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("bench_ext.abi3.so");
    std::os::unix::fs::symlink(so, &named).unwrap();
    let report = dir.path().join("report.json");
    // Its exit status says "violations found"; the report says which.
    let out = Command::new(abi3audit())
        .args(["-m", "abi3audit", "--report", "--assume-minimum-abi3", &floor.to_string(), "--output"])
        .arg(&report)
        .arg(&named)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("abi3audit wrote no report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let result = &v["specs"][named.to_str().unwrap()]["object"]["result"];
    assert!(result.is_object(), "unexpected abi3audit report: {text}");
    let not_stable =
        result["non_abi3_symbols"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    let too_new = result["future_abi3_objects"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v: PyVersion = v.as_str().unwrap().parse().unwrap();
            (k.clone(), (v.0, v.1))
        })
        .collect();
    (not_stable, too_new)
}

fn ours(a: &Audit) -> (BTreeSet<String>, BTreeMap<String, (u8, u8)>) {
    (a.not_stable.iter().cloned().collect(), a.too_new.iter().cloned().collect())
}

/// Our audit and abi3audit agree on every abi3 build: at the build's floor (both pass), and at
/// 3.8, where the newer builds import symbols added later (both must name the same ones, with the
/// same versions).
#[test]
fn audit_agrees_with_abi3audit_on_every_abi3_build() {
    let (m, _) = matrix();
    let abi3: Vec<&BuildRecord> = m.builds.iter().filter(|b| matches!(b.mode, Mode::Abi3(_))).collect();
    assert_eq!(abi3.len(), Mode::ALL.iter().filter(|m| matches!(m, Mode::Abi3(_))).count());
    let mut disagreements = Vec::new();
    let mut compared_too_new = 0;
    for b in &abi3 {
        let so = b.artifact().unwrap();
        for floor in [b.mode.floor().unwrap(), V38] {
            let mine = ours(&audit::audit(so, (floor.0, floor.1)).unwrap());
            let theirs = abi3audit_findings(so, floor);
            compared_too_new += mine.1.len();
            if mine != theirs {
                disagreements.push(format!("{} at {floor}: ours {mine:?}, abi3audit {theirs:?}", b.label()));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(compared_too_new > 10, "the comparison at 3.8 should have had newer symbols to agree on");

    // abi3t: abi3audit also lists PyModExport_bench_ext, which the build *exports* (PEP 793's
    // module export hook), it does not import. A false positive of abi3audit; apart from it, we agree.
    let abi3t = build(m, |b| matches!(b.mode, Mode::Abi3t(_)));
    let so = abi3t.artifact().unwrap();
    let floor = abi3t.mode.floor().unwrap();
    let mine = ours(&audit::audit(so, (floor.0, floor.1)).unwrap());
    let (mut their_not_stable, their_too_new) = abi3audit_findings(so, floor);
    if their_not_stable.remove("PyModExport_bench_ext") {
        let exported = defined_python_symbols(so);
        assert!(exported.contains("PyModExport_bench_ext"), "abi3audit's extra symbol is not an export: {exported:?}");
    }
    assert_eq!(mine, (their_not_stable, their_too_new), "abi3t-py315 apart from PyModExport_bench_ext");
}

/// A test-only abi3-py38 extension that calls `_PyObject_GetDictPtr`: both audits must flag it.
#[test]
fn private_api_call_is_flagged() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/private-api");
    let target = tmp().join("private-api-target");
    run_ok(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--locked", "--quiet", "--manifest-path"])
            .arg(fixture.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            // How an extension module is built without any interpreter (as builds.rs does for abi3).
            .env("PYO3_BUILD_EXTENSION_MODULE", "1")
            .env("PYO3_NO_PYTHON", "1")
            .env_remove("PYO3_PYTHON")
            .env_remove("PYO3_CONFIG_FILE"),
    );
    let so = target.join("debug/libprivate_api.so");

    let a = audit::audit(&so, (3, 8)).unwrap();
    assert_eq!(a.not_stable, ["_PyObject_GetDictPtr"], "{a:?}");
    assert!(!a.passed());
    assert!(a.checked > 20, "{a:?}");

    let (their_not_stable, _) = abi3audit_findings(&so, V38);
    assert!(their_not_stable.contains("_PyObject_GetDictPtr"), "abi3audit missed it: {their_not_stable:?}");
    assert_eq!(ours(&a), abi3audit_findings(&so, V38));
}
