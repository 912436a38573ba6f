//! `--crate PATH` end to end: a user's own PyO3 crate (the oldpyo3 fixture, on PyO3 0.23) and a
//! real maturin project from PyPI (uuid_utils 1.2.0, PyO3 0.29, abi3-py310 forced in its manifest)
//! built by cargo in each mode and timed in real interpreters: pyenv's 3.8, 3.12 and 3.13, and
//! the 3.15 that `abibench provision` (run by scripts/test.sh first) puts in abibench's cache.
//! Bad input: a clear error naming the culprit, before anything is built; a failure of one build
//! or one scenario is recorded against its cells while the rest of the matrix completes.
//!
//! Builds go to abibench's cache, keyed by the crate's directory, so the crates this test makes
//! live at fixed places under cargo's test tmpdir (`crate-tests/`): a second run rebuilds nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use common::{abibench, compare_args, only_results_file, run_code, run_ok};

use abibench::model::build::BuildRecord;
use abibench::model::matrix::{Load, Matrix, MatrixCell, Step};
use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results, RunStatus};
use abibench::model::sampling::Isolation;
use abibench::model::version::PyVersion;

const ABI3_PY38: Mode = Mode::Abi3(PyVersion(3, 8));
const ABI3_PY310: Mode = Mode::Abi3(PyVersion(3, 10));

/// The oldpyo3 fixture: crate `oldfix` on PyO3 0.23.5, its scenarios in benches/abibench/.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oldpyo3")
}

/// A fixed directory of this test under cargo's test tmpdir.
fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("crate-tests").join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Writes `bytes` to `path` unless it already holds them: an unchanged file keeps its mtime, so
/// cargo does not rebuild a crate this test copies again on every run. Atomically, so a test
/// running at the same time never reads half a file.
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let mut tmp = tempfile::NamedTempFile::new_in(dir).unwrap();
    std::io::Write::write_all(&mut tmp, bytes).unwrap();
    tmp.persist(path).unwrap();
}

/// The files under `dir` (build output left out), by path relative to `base`.
fn files(dir: &Path, base: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().unwrap() != "target" {
                files(&p, base, into);
            }
        } else {
            into.insert(p.strip_prefix(base).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
        }
    }
}

/// A copy of the fixture at `tmp(name)`, with the files of `extra` (relative path, contents) added
/// or replaced.
fn fixture_copy(name: &str, extra: &[(&str, String)]) -> PathBuf {
    let dir = tmp(name);
    let mut all = BTreeMap::new();
    files(&fixture(), &fixture(), &mut all);
    all.extend(extra.iter().map(|(rel, text)| (PathBuf::from(rel), text.as_bytes().to_vec())));
    for (rel, bytes) in &all {
        write_if_changed(&dir.join(rel), bytes);
    }
    dir
}

/// `compare --quick --ascii --no-provision --out OUT --crate CRATE` and `extra`; exit code 0.
fn compare_crate(out: &Path, krate: &Path, extra: &[&str]) -> Output {
    let mut args = compare_args(s(out), &["--crate", s(krate)]);
    args.extend_from_slice(extra);
    run_ok(&mut abibench(&args))
}

fn only_build(r: &Results, mode: Mode) -> &BuildRecord {
    let b: Vec<&BuildRecord> = r.builds.iter().filter(|b| b.mode == mode).collect();
    assert_eq!(b.len(), 1, "one {mode} build: {:?}", r.builds);
    b[0]
}

fn interpreter(r: &Results, minor: u8) -> &str {
    let i: Vec<_> = r.interpreters.iter().filter(|i| i.version.1 == minor && !i.gil_disabled).collect();
    assert_eq!(i.len(), 1, "one 3.{minor}: {:?}", r.interpreters.iter().map(|i| &i.name).collect::<Vec<_>>());
    &i[0].name
}

fn unlimited_for<'a>(r: &'a Results, interp: &str) -> &'a BuildRecord {
    r.builds
        .iter()
        .find(|b| b.mode == Mode::Unlimited && b.interpreter.as_deref() == Some(interp))
        .unwrap_or_else(|| panic!("no unlimited build for {interp}: {:?}", r.builds))
}

fn scenario_names(r: &Results) -> Vec<String> {
    r.groups.iter().flat_map(|g| g.scenarios.iter().map(|s| s.name.clone())).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. The fixture crate, on an older PyO3 line.

struct Run {
    results: Results,
    stdout: String,
}

/// One `compare --crate oldpyo3` on 3.8, 3.12 and 3.15 in unlimited, abi3-py38 and abi3-py310,
/// shared by the tests that look at it (it is run once per test process).
fn oldfix_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = tmp("oldfix-results");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let mut args = vec!["--mode", "unlimited", "--mode", "abi3-py38", "--mode", "abi3-py310"];
        args.extend(["--python", "3.8", "--python", "3.12", "--python", "3.15"]);
        let o = compare_crate(&out, &fixture(), &args);
        Run { results: only_results_file(&out), stdout: String::from_utf8_lossy(&o.stdout).into_owned() }
    })
}

/// Every cell recorded: ok where the mode fits and builds; the 3.15 unlimited build refused by
/// PyO3 0.23's own build script while both floors run there; the subject names the crate.
#[test]
fn fixture_crate_on_pyo3_0_23_every_cell_recorded() {
    let r = &oldfix_run().results;
    assert_eq!(r.run.status, RunStatus::Complete);
    let subject = r.subject.krate().expect("the results name the crate");
    assert_eq!((subject.name.as_str(), subject.module.as_str()), ("oldfix", "oldfix"), "{subject:?}");
    // No pyproject: PyO3 0.23's own range (3.7–3.13), read from the resolved pyo3-ffi's build.rs.
    let supported = subject.supported.as_ref().expect("the supported versions are recorded");
    assert_eq!((supported.oldest(), supported.newest()), (PyVersion(3, 7), PyVersion(3, 13)), "{supported:?}");
    assert_eq!(supported.oldest_from, "PyO3 0.23.5 (SUPPORTED_VERSIONS_CPYTHON in pyo3-ffi 0.23.5's build.rs)");
    assert!(subject.pyo3_version.starts_with("0.23"), "{subject:?}");
    assert_eq!(subject.path, fixture().canonicalize().unwrap());
    // PyO3 0.23 offers abi3-py37..abi3-py312; abibench knows 3.8 up.
    let floors: Vec<String> = subject.floors.iter().map(|m| m.name()).collect();
    assert_eq!(floors, ["abi3-py38", "abi3-py39", "abi3-py310", "abi3-py311", "abi3-py312"]);
    // Nothing to unforce: the fixture's manifest turns on no abi3 feature.
    assert!(subject.forced_floor.is_none() && subject.unforced.is_empty(), "{subject:?}");
    // A top-level module shares one worker per interpreter.
    assert_eq!(r.run.sampling.isolation, Isolation::InProcess);

    let (py38, py312, py315) = (interpreter(r, 8), interpreter(r, 12), interpreter(r, 15));
    // The builds: unlimited for 3.8 and 3.12 and both floors made, named as CPython imports them
    // and the floors audited against their Stable ABI; unlimited for 3.15 refused by PyO3.
    for interp in [py38, py312] {
        let b = unlimited_for(r, interp);
        let suffix = &r.interpreters.iter().find(|i| i.name == interp).unwrap().ext_suffix;
        let artifact = b.artifact().unwrap_or_else(|| panic!("unlimited for {interp}: {:?}", b.failure()));
        assert_eq!(artifact.file_name().unwrap().to_str().unwrap(), format!("oldfix{suffix}"));
    }
    for mode in [ABI3_PY38, ABI3_PY310] {
        let b = only_build(r, mode);
        let artifact = b.artifact().unwrap_or_else(|| panic!("{mode}: {:?}", b.failure()));
        assert_eq!(artifact.file_name().unwrap(), "oldfix.abi3.so");
        let audit = b.audit.as_ref().unwrap_or_else(|| panic!("{mode} is audited"));
        assert!(audit.passed(), "{mode}: {audit:?}");
    }
    let refused = unlimited_for(r, py315);
    let error = refused.failure().expect("PyO3 0.23 cannot build for 3.15");
    assert!(error.contains("newer than PyO3's maximum supported version"), "{error}");

    // Every cell: 5 scenarios on (3.8: 2 modes) + (3.12: 3) + (3.15: 3); abi3-py310 has none on 3.8.
    let scenarios = scenario_names(r);
    assert_eq!(scenarios.len(), 5, "{scenarios:?}");
    let expected = [
        (py38, Mode::Unlimited, CellStatus::Ok),
        (py38, ABI3_PY38, CellStatus::Ok),
        (py312, Mode::Unlimited, CellStatus::Ok),
        (py312, ABI3_PY38, CellStatus::Ok),
        (py312, ABI3_PY310, CellStatus::Ok),
        (py315, Mode::Unlimited, CellStatus::BuildFailed),
        (py315, ABI3_PY38, CellStatus::Ok),
        (py315, ABI3_PY310, CellStatus::Ok),
    ];
    for (interp, mode, status) in expected {
        for s in &scenarios {
            let c = r.cell(interp, mode, s).unwrap_or_else(|| panic!("no cell {interp} {mode} {s}"));
            assert_eq!(c.status, status, "{interp} {mode} {s}: {:?}", c.reason);
            match status {
                CellStatus::Ok => assert!(
                    (r.run.sampling.min_processes()..=r.run.sampling.processes).contains(&c.processes.len())
                        && c.processes.iter().all(|p| p.values_s.len() == r.run.sampling.values),
                    "{interp} {mode} {s}: {:?}",
                    c.processes
                ),
                _ => {
                    let why = c.reason.as_deref().unwrap_or_default();
                    assert!(why.contains("newer than PyO3's maximum supported version"), "{why}");
                }
            }
        }
    }
    assert!(r.cell(py38, ABI3_PY310, &scenarios[0]).is_none(), "abi3-py310 does not fit 3.8");
    assert_eq!(r.cells.len(), expected.len() * scenarios.len());
}

/// The wheel plan recommends only wheels the crate can be built into: PyO3 0.23 refuses an
/// unlimited build for 3.15, so no cp315-cp315 wheel may be proposed (3.15 is served by abi3).
#[test]
fn fixture_crate_wheel_plan_proposes_no_wheel_that_cannot_be_built() {
    let run = oldfix_run();
    let plan: Vec<&str> = run.stdout.lines().skip_while(|l| !l.starts_with("Wheel plan")).collect();
    assert!(!plan.is_empty(), "no wheel plan in:\n{}", run.stdout);
    let impossible: Vec<&&str> = plan.iter().filter(|l| l.contains("cp315-cp315")).collect();
    assert!(impossible.is_empty(), "a version-specific 3.15 wheel PyO3 0.23 cannot build: {impossible:?}");
}

// ---------------------------------------------------------------------------------------------
// 2. A real project from PyPI.

const UUID_UTILS_URL: &str = "https://files.pythonhosted.org/packages/fd/01/baff7ef80f30885cca5ecfc0d9ea660b3d20c34dfaf0d17a79a95ec342d7/uuid_utils-1.2.0.tar.gz";
const UUID_UTILS_SHA256: &str = "8a8bd1120a8bc5a6656a1c580d66a050af430b05d017da526ec0b0a06715bf70";

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// uuid_utils 1.2.0's sdist, downloaded once into cargo's test tmpdir (checked against its
/// SHA-256 on every use) and unpacked there once; returns the project's directory.
///
/// The one change to it: an empty `[workspace]` table appended to Cargo.toml, which cargo asks of
/// a standalone crate that lies inside another workspace's tree (here abibench's, through
/// target/tmp); as unpacked anywhere else, the project needs none.
fn uuid_utils() -> PathBuf {
    static FETCHING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = FETCHING.lock().unwrap_or_else(|e| e.into_inner());
    let tarball = tmp("uuid_utils-1.2.0.tar.gz");
    if !std::fs::read(&tarball).is_ok_and(|b| sha256_hex(&b) == UUID_UTILS_SHA256) {
        std::fs::create_dir_all(tarball.parent().unwrap()).unwrap();
        let partial = tarball.with_extension(format!("partial-{}", std::process::id()));
        run_ok(Command::new("curl").args(["-sSfL", "--retry", "3", "-o", s(&partial), UUID_UTILS_URL]));
        let bytes = std::fs::read(&partial).unwrap();
        assert_eq!(bytes.len(), 43_765, "{UUID_UTILS_URL}: size");
        assert_eq!(sha256_hex(&bytes), UUID_UTILS_SHA256, "{UUID_UTILS_URL}: SHA-256");
        std::fs::rename(&partial, &tarball).unwrap();
    }
    let project = tmp("uuid_utils-1.2.0");
    if !project.join("Cargo.toml").is_file() {
        // Unpacked aside and renamed, so an interrupted unpack is never taken for a finished one.
        let partial = tmp(&format!("uuid_utils.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).unwrap();
        run_ok(Command::new("tar").args(["-xzf", s(&tarball), "-C", s(&partial)]));
        let manifest = partial.join("uuid_utils-1.2.0/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
        let _ = std::fs::remove_dir_all(&project);
        std::fs::rename(partial.join("uuid_utils-1.2.0"), &project).unwrap();
        let _ = std::fs::remove_dir_all(&partial);
    }
    project
}

/// uuid_utils forces abi3-py310 in its own Cargo.toml, so its unlimited builds come from a copy
/// without that feature; its module lives in a package, so each build gets its own process.
/// Both modes run every scenario on 3.12 and 3.13.
#[test]
fn pypi_project_uuid_utils_in_both_modes() {
    let project = uuid_utils();
    let manifest_before = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pypi");
    compare_crate(
        out.path(),
        &project,
        &[
            "--scenarios-dir",
            s(&scenarios),
            "--python",
            "3.12",
            "--python",
            "3.13",
            "--mode",
            "unlimited",
            "--mode",
            "abi3-py310",
        ],
    );
    let r = only_results_file(out.path());
    assert_eq!(r.run.status, RunStatus::Complete);
    let subject = r.subject.krate().expect("the results name the project");
    assert_eq!(subject.module, "uuid_utils._uuid_utils");
    assert_eq!((subject.name.as_str(), subject.distribution.as_str()), ("uuid-utils", "uuid_utils"));
    // requires-python >=3.10 (its pyproject) within PyO3 0.29's 3.8–3.15.
    let supported = subject.supported.as_ref().expect("the supported versions are recorded");
    assert_eq!(supported.to_string(), "3.10–3.15");
    assert_eq!(supported.oldest_from, "requires-python >=3.10");
    assert!(subject.pyo3_version.starts_with("0.29"), "{subject:?}");
    assert_eq!(subject.forced_floor, Some(PyVersion(3, 10)));
    assert!(subject.unforced.iter().any(|u| u.contains("abi3-py310")), "{:?}", subject.unforced);
    // The copy was edited, never the user's manifest.
    assert_eq!(std::fs::read_to_string(project.join("Cargo.toml")).unwrap(), manifest_before);
    assert_eq!(r.run.sampling.isolation, Isolation::Process);

    let (py312, py313) = (interpreter(&r, 12), interpreter(&r, 13));
    // Each build is the package's module, beside a copy of the package's Python code; the
    // unlimited ones really use the full API (the forced feature is gone), the abi3 one does not.
    for interp in [py312, py313] {
        let artifact = unlimited_for(&r, interp).artifact().unwrap().to_path_buf();
        let suffix = &r.interpreters.iter().find(|i| i.name == interp).unwrap().ext_suffix;
        assert_eq!(artifact.file_name().unwrap().to_str().unwrap(), format!("_uuid_utils{suffix}"));
        assert!(artifact.parent().unwrap().ends_with("uuid_utils"), "{}", artifact.display());
        assert!(artifact.with_file_name("__init__.py").is_file(), "{}", artifact.display());
        let audit = abibench::setup::audit::audit(&artifact, (3, 10)).unwrap();
        assert!(!audit.passed(), "the unlimited build for {interp} is abi3 after all: {audit:?}");
    }
    let abi3 = only_build(&r, ABI3_PY310);
    let artifact = abi3.artifact().unwrap_or_else(|| panic!("{:?}", abi3.failure()));
    assert_eq!(artifact.file_name().unwrap(), "_uuid_utils.abi3.so");
    assert!(abi3.audit.as_ref().is_some_and(|a| a.passed()), "{:?}", abi3.audit);

    let scenarios = scenario_names(&r);
    assert_eq!(scenarios.len(), 4, "{scenarios:?}");
    for interp in [py312, py313] {
        for mode in [Mode::Unlimited, ABI3_PY310] {
            for s in &scenarios {
                let c = r.cell(interp, mode, s).unwrap_or_else(|| panic!("no cell {interp} {mode} {s}"));
                assert_eq!(c.status, CellStatus::Ok, "{interp} {mode} {s}: {:?}", c.reason);
            }
        }
    }
    assert_eq!(r.cells.len(), 16);
}

/// `matrix --crate` on the same project: each build, under the name an installer gives it and
/// beside its package's Python code, is found by the importer and imports on the interpreters it
/// is for (the builds are the ones the compare above made, from the cache).
#[test]
fn pypi_project_uuid_utils_matrix_imports_every_build() {
    let project = uuid_utils();
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["matrix", "--ascii", "--crate", s(&project), "--out", s(out.path())];
    args.extend(["--python", "3.12", "--python", "3.13", "--mode", "unlimited", "--mode", "abi3-py310"]);
    run_ok(&mut abibench(&args));
    let files: Vec<PathBuf> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let m = Matrix::read(&files[0]).unwrap();
    assert_eq!(m.builds.len(), 3, "{:?}", m.builds);
    assert!(m.builds.iter().all(|b| b.artifact().is_some()), "{:?}", m.builds);
    // 3 builds x 2 interpreters; each unlimited build is installable on its own interpreter only.
    assert_eq!(m.cells.len(), 6);
    let installable: Vec<&MatrixCell> = m.cells.iter().filter(|c| c.installable).collect();
    assert_eq!(installable.len(), 4, "{:?}", m.cells);
    for c in installable {
        let what = format!("{} {} on {}", c.mode, c.abi_tag, c.interpreter);
        assert_eq!(c.canonical.found, Some(true), "{what}: {:?}", c.canonical);
        assert!(c.canonical.file_name.starts_with("_uuid_utils."), "{what}: {:?}", c.canonical);
        assert_eq!(c.forced, Step::Done { result: Load::Ok }, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input.

/// `abibench ARGS`: exit code 2, and stderr holding every one of `needles`.
fn refused(args: &[&str], needles: &[&str]) {
    let (code, _, err) = run_code(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected '{n}' in: {err}");
    }
}

/// Whole-run errors, each naming the path and what is wrong with it, before anything is built.
#[test]
fn bad_crates_get_a_clear_error() {
    refused(&["list", "--crate", "/no/such/crate"], &["--crate /no/such/crate", "no such directory"]);
    refused(
        &["compare", "--no-provision", "--crate", "/no/such/crate"],
        &["--crate /no/such/crate", "no such directory"],
    );

    let readme = tempfile::tempdir().unwrap();
    std::fs::write(readme.path().join("README.md"), "Not a crate.\n").unwrap();
    let dir = s(readme.path());
    refused(&["list", "--crate", dir], &[dir, "not a Cargo crate or maturin project", "Cargo.toml does not exist"]);

    let plain = tempfile::tempdir().unwrap();
    let manifest = plain.path().join("Cargo.toml");
    std::fs::write(
        &manifest,
        "[package]\nname = \"nopyo3\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(plain.path().join("src")).unwrap();
    std::fs::write(plain.path().join("src/lib.rs"), "pub fn answer() -> u32 { 42 }\n").unwrap();
    refused(
        &["list", "--crate", s(plain.path())],
        &[s(&manifest.canonicalize().unwrap()), "nopyo3 does not depend on pyo3"],
    );
}

/// A copy of the fixture without its scenarios.
fn crate_without_scenarios() -> PathBuf {
    let dir = tmp("no-scenarios");
    for file in ["Cargo.toml", "Cargo.lock", "src/lib.rs"] {
        write_if_changed(&dir.join(file), &std::fs::read(fixture().join(file)).unwrap());
    }
    assert!(!dir.join("benches").exists());
    dir
}

/// A crate without benches/abibench/: the error says where scenarios were looked for and how to
/// get them, for list and for compare (before building anything).
#[test]
fn crate_without_scenarios_says_where_they_go() {
    let dir = crate_without_scenarios();
    let canonical = dir.canonicalize().unwrap();
    let expected = canonical.join("benches/abibench");
    let needles = ["oldfix has no scenarios", s(&expected), "--scenarios-dir", "abibench init"];
    refused(&["list", "--crate", s(&dir)], &needles);
    refused(&["compare", "--no-provision", "--python", "3.12", "--crate", s(&dir)], &needles);
}

/// The command the missing-scenarios error suggests (`abibench init --crate PATH`) must exist.
#[test]
fn the_suggested_init_command_exists() {
    let dir = crate_without_scenarios();
    let (_, _, err) = run_code(&["list", "--crate", s(&dir)]);
    assert!(err.contains("abibench init --crate"), "{err}");
    let (code, out, err) = run_code(&["init", "--help"]);
    assert_eq!(code, 0, "the error suggests `abibench init`, which does not exist:\n{out}{err}");
}

/// A crate whose stable-ABI build does not compile (it reaches for PyList_GET_ITEM, which the
/// limited API lacks): the abi3 cells say build failed with the compiler's error, and the
/// unlimited cells are timed.
#[test]
fn a_failed_build_fails_its_cells_only() {
    let lib = std::fs::read_to_string(fixture().join("src/lib.rs")).unwrap()
        + "\n/// The full API only: the stable ABI has no PyList_GET_ITEM macro.\n\
           pub fn full_api_only() -> usize {\n    pyo3::ffi::PyList_GET_ITEM as usize\n}\n";
    let dir = fixture_copy("abi3-fails", &[("src/lib.rs", lib)]);
    let out = tempfile::tempdir().unwrap();
    let o = compare_crate(
        out.path(),
        &dir,
        &["--python", "3.12", "--mode", "unlimited", "--mode", "abi3-py38", "--scenario", "oldfix_add"],
    );
    let r = only_results_file(out.path());
    assert_eq!(r.run.status, RunStatus::Complete);
    let py312 = interpreter(&r, 12);
    // The terminal says it once per build, not per cell, and what it means when no stable-ABI
    // build compiled: changes to the code, not another floor.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.contains("oldfix_add / abi3-py38"), "a line per failed cell:\n{stdout}");
    let failures: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("Builds that failed (1;")).collect();
    assert!(
        failures.get(1).is_some_and(|l| l.starts_with("  abi3-py38: cargo build") && l.contains("PyList_GET_ITEM")),
        "{stdout}"
    );
    assert!(stdout.contains("abi3 needs code changes in oldfix: every stable-ABI build failed"), "{stdout}");
    let error = only_build(&r, ABI3_PY38).failure().expect("the abi3 build fails").to_string();
    // A failure is never cached: cargo ran, and the record says for how long.
    assert!(only_build(&r, ABI3_PY38).seconds > 0.0, "{:?}", only_build(&r, ABI3_PY38));
    assert!(error.lines().next().unwrap().contains("PyList_GET_ITEM"), "the headline names the culprit: {error}");
    assert!(error.contains("error[E0425]") && error.contains("src/lib.rs"), "{error}");
    assert!(unlimited_for(&r, py312).artifact().is_some(), "{:?}", r.builds);

    let failed = r.cell(py312, ABI3_PY38, "oldfix_add").unwrap();
    assert_eq!(failed.status, CellStatus::BuildFailed);
    assert!(failed.reason.as_deref().unwrap_or_default().contains("PyList_GET_ITEM"), "{:?}", failed.reason);
    let ok = r.cell(py312, Mode::Unlimited, "oldfix_add").unwrap();
    assert_eq!(ok.status, CellStatus::Ok, "{:?}", ok.reason);
}

/// module-name in pyproject.toml that the #[pymodule] does not define: the build is recorded as
/// failed, saying which PyInit_ the import name needs and which the library has.
#[test]
fn a_module_name_that_does_not_match_fails_the_build() {
    let pyproject = "[build-system]\nrequires = [\"maturin>=1,<2\"]\nbuild-backend = \"maturin\"\n\n\
                     [project]\nname = \"oldfix\"\n\n[tool.maturin]\nmodule-name = \"wrongname\"\n";
    let dir = fixture_copy("wrong-module", &[("pyproject.toml", pyproject.into())]);
    let out = tempfile::tempdir().unwrap();
    compare_crate(out.path(), &dir, &["--python", "3.12", "--mode", "abi3-py38", "--scenario", "oldfix_add"]);
    let r = only_results_file(out.path());
    assert_eq!(r.subject.module(), "wrongname");
    let error = only_build(&r, ABI3_PY38).failure().expect("the build is refused").to_string();
    for needle in ["PyInit_wrongname", "PyInit_oldfix", "module-name"] {
        assert!(error.contains(needle), "'{needle}' in: {error}");
    }
    let c = r.cell(interpreter(&r, 12), ABI3_PY38, "oldfix_add").unwrap();
    assert_eq!(c.status, CellStatus::BuildFailed);
    assert!(c.reason.as_deref().unwrap_or_default().contains("PyInit_wrongname"), "{:?}", c.reason);
}

/// A scenario whose setup imports a module that is not there: its cells are errors naming the
/// exception, and the other scenario's cells are timed, whether the builds share a worker or
/// each has its own process.
#[test]
fn a_scenario_that_cannot_set_up_fails_its_cells_only() {
    let scenarios = tempfile::tempdir().unwrap();
    std::fs::write(
        scenarios.path().join("mixed.toml"),
        r#"
[group]
name = "mixed"
title = "One scenario that runs, one that cannot set up"
kind = "chatty"

[[scenario]]
name = "good_add"
setup = "import oldfix\nf = oldfix.add"
stmt = "f(1, 2)"

[[scenario]]
name = "missing_import"
setup = "import oldfix\nimport no_such_module_abibench_test"
stmt = "oldfix.add(1, 2)"
"#,
    )
    .unwrap();
    for isolation in ["in-process", "process"] {
        let out = tempfile::tempdir().unwrap();
        compare_crate(
            out.path(),
            &fixture(),
            &[
                "--scenarios-dir",
                s(scenarios.path()),
                "--python",
                "3.12",
                "--mode",
                "unlimited",
                "--mode",
                "abi3-py38",
                "--isolation",
                isolation,
            ],
        );
        let r = only_results_file(out.path());
        assert_eq!(r.run.sampling.isolation.name(), isolation);
        let py312 = interpreter(&r, 12);
        for mode in [Mode::Unlimited, ABI3_PY38] {
            let bad = r.cell(py312, mode, "missing_import").unwrap();
            assert_eq!(bad.status, CellStatus::Error, "{isolation} {mode}: {:?}", bad.reason);
            let why = bad.reason.as_deref().unwrap_or_default();
            assert!(why.contains("ModuleNotFoundError") && why.contains("no_such_module_abibench_test"), "{why}");
            let good = r.cell(py312, mode, "good_add").unwrap();
            assert_eq!(good.status, CellStatus::Ok, "{isolation} {mode}: {:?}", good.reason);
        }
        assert_eq!(r.cells.len(), 4);
    }
}

/// Scenarios share the module's state: a cache one scenario fills on the module is there for the
/// next, in every build and under either isolation, unless the next says `isolate = true`; then
/// its builds load in processes of its own, it finds no cache, and it is timed like the rest.
/// The results keep which scenario isolated.
#[test]
fn a_scenario_that_isolates_sees_no_state_the_others_left() {
    let scenarios = tempfile::tempdir().unwrap();
    let reader = "import oldfix\n\
                  assert not hasattr(oldfix, 'cache'), 'a cache of %d entries was left' % len(oldfix.cache)\n\
                  f = oldfix.add";
    let toml = format!(
        r#"
[group]
name = "state"
title = "A cache one scenario fills, and two that read the module after it"
kind = "chatty"

[[scenario]]
name = "fills_cache"
setup = "import oldfix\nif not hasattr(oldfix, 'cache'): oldfix.cache = {{}}"
stmt = "oldfix.cache[len(oldfix.cache)] = oldfix.add(1, 2)"

[[scenario]]
name = "shares_state"
setup = {reader:?}
stmt = "f(1, 2)"

[[scenario]]
name = "isolated"
setup = {reader:?}
stmt = "f(1, 2)"
isolate = true
"#
    );
    std::fs::write(scenarios.path().join("state.toml"), toml).unwrap();
    for isolation in ["in-process", "process"] {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["--scenarios-dir", s(scenarios.path()), "--isolation", isolation, "--python", "3.12"];
        args.extend(["--mode", "unlimited", "--mode", "abi3-py38"]);
        compare_crate(out.path(), &fixture(), &args);
        let r = only_results_file(out.path());
        let py312 = interpreter(&r, 12);
        for mode in [Mode::Unlimited, ABI3_PY38] {
            let cell = |name: &str| r.cell(py312, mode, name).unwrap();
            let shared = cell("shares_state");
            assert_eq!(shared.status, CellStatus::Error, "{isolation} {mode}: {:?}", shared.reason);
            let why = shared.reason.as_deref().unwrap_or_default();
            assert!(why.starts_with("AssertionError: a cache of ") && why.contains(" entries was left"), "{why}");
            for name in ["fills_cache", "isolated"] {
                assert_eq!(cell(name).status, CellStatus::Ok, "{isolation} {mode} {name}: {:?}", cell(name).reason);
            }
        }
        let isolates: Vec<bool> = r.groups[0].scenarios.iter().map(|s| s.isolate).collect();
        assert_eq!(isolates, [false, false, true]);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. The Python versions a crate supports, and where its results go.

/// The fixture with a pyproject naming the distribution `Old_Fix` (the cargo package is
/// `oldfix`) and requiring Python >= 3.9, and a manifest that forces abi3-py39 in PyO3 (so that
/// resolving it in full copies it into the cache, which finding its results must not do).
fn old_fix() -> PathBuf {
    let manifest = std::fs::read_to_string(fixture().join("Cargo.toml"))
        .unwrap()
        .replace("pyo3 = \"=0.23.5\"", "pyo3 = { version = \"=0.23.5\", features = [\"abi3-py39\"] }");
    assert!(manifest.contains("abi3-py39"), "{manifest}");
    let pyproject = "[project]\nname = \"Old_Fix\"\nrequires-python = \">=3.9\"\n";
    fixture_copy("old-fix", &[("Cargo.toml", manifest), ("pyproject.toml", pyproject.into())])
}

/// requires-python >=3.9: 3.8 is left out and abi3-py38 not built, each said in one line; the
/// results record the supported versions and where each bound came from, and go to
/// results/crates/<distribution, PEP 503>/. `report --crate` finds them there, and in the cargo
/// package's folder where earlier runs went, reading no more than two files: no cargo, no cache.
#[test]
fn requires_python_bounds_the_run_and_results_go_by_distribution() {
    let krate = old_fix();
    let cwd = tempfile::tempdir().unwrap();
    let mut args = vec!["compare", "--quick", "--ascii", "--no-provision", "--crate", s(&krate)];
    args.extend(["--python", "3.8", "--python", "3.12", "--mode", "abi3-py38", "--mode", "abi3-py39"]);
    args.extend(["--scenario", "oldfix_add"]);
    let o = run_ok(abibench(&args).current_dir(cwd.path()));
    let err = String::from_utf8_lossy(&o.stderr);
    let range = "Old_Fix supports Python 3.9–3.13 (requires-python >=3.9): 3.8";
    assert!(err.lines().any(|l| l.starts_with(range) && l.ends_with(" left out")), "{err}");
    assert!(err.contains("abi3-py38: not built, below Old_Fix's oldest Python, 3.9 (requires-python >=3.9)"), "{err}");

    let folder = cwd.path().join("results/crates/old-fix");
    let r = only_results_file(&folder);
    assert!(r.interpreters.iter().all(|i| i.version >= PyVersion(3, 9)), "{:?}", r.interpreters);
    assert!(r.builds.iter().all(|b| b.mode == Mode::Abi3(PyVersion(3, 9))), "{:?}", r.builds);
    let c = r.subject.krate().expect("the results name the crate");
    assert_eq!((c.name.as_str(), c.distribution.as_str()), ("oldfix", "Old_Fix"));
    assert!(c.unforced.iter().any(|u| u.contains("abi3-py39")), "{:?}", c.unforced);
    let supported = c.supported.as_ref().unwrap();
    assert_eq!(supported.to_string(), "3.9–3.13");
    assert_eq!(supported.requires_python.as_deref(), Some(">=3.9"));
    assert!(supported.newest_from.starts_with("PyO3 0.23.5 ("), "{supported:?}");

    // Found without resolving the crate: a cargo that fails and a cache that does not exist.
    let no_cache = cwd.path().join("no-cache");
    let report = |expected: &Path| {
        let mut cmd = abibench(&["report", "--crate", s(&krate)]);
        cmd.current_dir(cwd.path()).env("ABIBENCH_CACHE_DIR", &no_cache).env("CARGO", "/bin/false");
        run_ok(&mut cmd);
        let id = &r.run.id;
        assert!(expected.join(id).join("report.html").is_file(), "no report in {}", expected.join(id).display());
        assert!(!no_cache.exists(), "report --crate created {}", no_cache.display());
    };
    report(&folder);
    // A run from before results were named by distribution, in the cargo package's folder.
    let old = cwd.path().join("results/crates/oldfix");
    std::fs::rename(&folder, &old).unwrap();
    report(&old);
}
