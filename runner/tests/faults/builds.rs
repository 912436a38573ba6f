//! Issue 26, builds: a poisoned cache and a build that never ends. These run in a cache of their
//! own (`private_cache`, kept between runs so only the first is cold): a poisoned slot must never
//! reach the shared cache the other tests use, whatever the code under test does with it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use abibench::model::build::BuildRecord;
use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results};
use abibench::model::version::PyVersion;

use crate::common::{abibench, compare_args, only_results_file, pythons, results_paths};
use crate::{output, running, scenarios, wait_child, wait_until, FINE};

const ABI3_PY38: Mode = Mode::Abi3(PyVersion(3, 8));

/// abibench's cache for these tests.
fn private_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults-cache")
}

/// Writes `bytes` to `path` unless it holds them already: an unchanged file keeps its mtime, so
/// cargo rebuilds nothing on the next run.
fn put(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A fixed place for a crate of these tests.
fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults-crates").join(name)
}

/// A copy of the oldpyo3 fixture (crate `oldfix`, PyO3 0.23) at a fixed place, with `extra`
/// files (relative path, contents) added.
fn fixture_copy(name: &str, extra: &[(&str, &str)]) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oldpyo3");
    let to = crate_dir(name);
    for rel in ["Cargo.toml", "Cargo.lock", "src/lib.rs", "benches/abibench/oldfix.toml"] {
        put(&to.join(rel), &std::fs::read(from.join(rel)).unwrap());
    }
    for (rel, text) in extra {
        put(&to.join(rel), text.as_bytes());
    }
    to
}

/// `compare --quick` in the private cache on the first test interpreter, `modes`, then `extra`.
fn compare(out: &Path, modes: &[Mode], extra: &[&str]) -> Command {
    let py = &pythons()[0];
    let mut args = compare_args(out.to_str().unwrap(), &["--python", py, "--no-report"]);
    let names: Vec<String> = modes.iter().map(|m| m.name()).collect();
    args.extend(names.iter().flat_map(|m| ["--mode", m.as_str()]));
    args.extend_from_slice(extra);
    let mut cmd = abibench(&args);
    cmd.env("ABIBENCH_CACHE_DIR", private_cache());
    cmd
}

fn newest(out: &Path) -> Results {
    Results::read(results_paths(out).last().expect("a results file")).unwrap()
}

fn build(r: &Results, mode: Mode) -> &BuildRecord {
    r.builds.iter().find(|b| b.mode == mode).unwrap_or_else(|| panic!("no {mode} build: {:?}", r.builds))
}

fn run_ok(cmd: Command) -> String {
    let (code, _, stderr) = output(cmd);
    assert_eq!(code, 0, "{stderr}");
    stderr
}

/// Issue 26 case 1: the abi3-py38 slot of a crate's cache holds the unlimited build (a copied
/// `.so`, then with a forged identity record too), or abibench's own abi3-py38 build truncated:
/// each is rebuilt, said why, and timed as what it is; a fresh stable-ABI build that imports a
/// symbol newer than its floor is refused as that mode, in its build record and its cells.
#[test]
fn case_01_a_poisoned_cache_is_rebuilt_and_a_build_outside_its_floor_refused() {
    let krate = fixture_copy("oldpyo3", &[]);
    let out = tempfile::tempdir().unwrap();
    let modes = [Mode::Unlimited, ABI3_PY38];
    let crate_args = ["--crate", krate.to_str().unwrap(), "--scenario", "oldfix_total"];
    run_ok(compare(out.path(), &modes, &crate_args));
    let first = newest(out.path());
    let (unlimited, abi3) = (build(&first, Mode::Unlimited), build(&first, ABI3_PY38));
    let (slot, source) = (abi3.artifact().unwrap().to_path_buf(), unlimited.artifact().unwrap().to_path_buf());

    // The unlimited .so copied into the abi3-py38 slot: its digest is not the one recorded.
    std::fs::copy(&source, &slot).unwrap();
    let stderr = run_ok(compare(out.path(), &modes, &crate_args));
    assert!(stderr.contains("REBUILD abi3-py38: the cached file's SHA-256"), "{stderr}");
    let second = newest(out.path());
    let rebuilt = build(&second, ABI3_PY38);
    assert!(rebuilt.rebuilt.as_deref().is_some_and(|w| w.contains("replaced or damaged")), "{rebuilt:?}");
    assert_ne!(rebuilt.sha256(), build(&second, Mode::Unlimited).sha256(), "timed as itself, not as unlimited");
    assert_eq!(rebuilt.sha256(), abi3.sha256(), "the build made the first time");
    // PyO3's list iteration under abi3-py38 is twice as dear: a ratio the copy read as 1.00×.
    let median = |mode| {
        let c = second.cell(&second.interpreters[0].name, mode, "oldfix_total").unwrap();
        assert_eq!(c.status, CellStatus::Ok, "{:?}", c.reason);
        let mut v: Vec<f64> = c.per_op(1.0).into_iter().map(|(_, x)| x).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = median(ABI3_PY38) / median(Mode::Unlimited);
    assert!(ratio > 1.3, "abi3-py38 / unlimited = {ratio:.2}");

    // With its identity record forged as well, the audit still tells: 2 symbols past 3.8.
    std::fs::copy(&source, &slot).unwrap();
    let identity = slot.with_file_name("oldfix.abi3.so.identity.json");
    let mut id: serde_json::Value = serde_json::from_slice(&std::fs::read(&identity).unwrap()).unwrap();
    id["sha256"] = unlimited.sha256().unwrap().into();
    id["size"] = std::fs::metadata(&source).unwrap().len().into();
    std::fs::write(&identity, id.to_string()).unwrap();
    let stderr = run_ok(compare(out.path(), &modes, &crate_args));
    assert!(stderr.contains("REBUILD abi3-py38: the cached build imports"), "{stderr}");
    assert_eq!(build(&newest(out.path()), ABI3_PY38).sha256(), abi3.sha256());

    // abibench's own extension, its abi3-py38 build truncated: rebuilt once, then reused.
    let scen = scenarios(FINE);
    let own = ["--scenarios-dir", scen.path().to_str().unwrap()];
    let own_out = tempfile::tempdir().unwrap();
    run_ok(compare(own_out.path(), &modes, &own));
    let own_slot = build(&newest(own_out.path()), ABI3_PY38).artifact().unwrap().to_path_buf();
    std::fs::File::options().write(true).open(&own_slot).unwrap().set_len(100_000).unwrap();
    let stderr = run_ok(compare(own_out.path(), &modes, &own));
    assert!(stderr.contains("REBUILD abi3-py38: the cached file's SHA-256"), "{stderr}");
    let stderr = run_ok(compare(own_out.path(), &modes, &own));
    assert!(stderr.contains("cached  abi3-py38") && !stderr.contains("REBUILD"), "{stderr}");
    let r = newest(own_out.path());
    let c = r.cell(&r.interpreters[0].name, ABI3_PY38, "fine").unwrap();
    assert_eq!(c.status, CellStatus::Ok, "{:?}", c.reason);

    // A crate whose code itself calls PyUnicode_AsUTF8AndSize (3.10) under abi3-py38.
    let newer = "\n#[allow(non_snake_case)]\nextern \"C\" {\n    fn PyUnicode_AsUTF8AndSize(o: *mut pyo3::ffi::PyObject, n: *mut isize) -> *const u8;\n}\n\
                 /// Keeps the import: its address, exported.\n#[no_mangle]\npub extern \"C\" fn oldfix_newer() -> usize {\n    PyUnicode_AsUTF8AndSize as usize\n}\n";
    let lib = std::fs::read_to_string(krate.join("src/lib.rs")).unwrap() + newer;
    let bad = fixture_copy("oldpyo3-newer", &[("src/lib.rs", &lib)]);
    let bad_out = tempfile::tempdir().unwrap();
    let stderr =
        run_ok(compare(bad_out.path(), &modes, &["--crate", bad.to_str().unwrap(), "--scenario", "oldfix_add"]));
    let r = newest(bad_out.path());
    let refused = build(&r, ABI3_PY38).failure().expect("refused");
    assert!(
        refused.starts_with("refused as abi3-py38:") && refused.contains("PyUnicode_AsUTF8AndSize (3.10)"),
        "{refused}"
    );
    assert!(stderr.contains("REFUSED abi3-py38"), "{stderr}");
    let c = r.cell(&r.interpreters[0].name, ABI3_PY38, "oldfix_add").unwrap();
    assert_eq!(c.status, CellStatus::BuildFailed);
    assert!(c.reason.as_deref().unwrap().starts_with("refused as abi3-py38"), "{:?}", c.reason);
    assert_eq!(r.cell(&r.interpreters[0].name, Mode::Unlimited, "oldfix_add").unwrap().status, CellStatus::Ok);
}

/// A build script that writes its pid to $BUILD_PID_FILE, then sleeps for ever.
const SLEEPING_BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-env-changed=NEVER\");\n    \
    if let Ok(f) = std::env::var(\"BUILD_PID_FILE\") {\n        std::fs::write(f, std::process::id().to_string()).unwrap();\n    }\n    \
    loop {\n        std::thread::sleep(std::time::Duration::from_secs(3600));\n    }\n}\n";

/// Issue 26 case 5: a crate whose build.rs never ends. `--build-timeout` bounds the build, which
/// is recorded as failed, and the rest goes on; SIGTERM during it leaves no build script behind.
#[test]
fn case_05_a_build_script_that_never_ends_is_bounded_and_killed() {
    let manifest = std::fs::read_to_string(fixture_copy("oldpyo3", &[]).join("Cargo.toml")).unwrap();
    // A package of its own name: a cache (and cargo target directory) of its own, so that the
    // clock does not run while it waits for case 1's builds of oldfix.
    let manifest = manifest.replace("name = \"oldfix\"\nversion", "name = \"sleeper\"\nversion");
    let manifest = manifest.replace("[lib]", "build = \"build.rs\"\n\n[lib]");
    let krate = fixture_copy("oldpyo3-sleeps", &[("Cargo.toml", &manifest), ("build.rs", SLEEPING_BUILD_RS)]);
    let crate_args = ["--crate", krate.to_str().unwrap(), "--scenario", "oldfix_add"];
    for signal in [None, Some("-TERM")] {
        let out = tempfile::tempdir().unwrap();
        let pid_file = out.path().join("build-script.pid");
        let mut extra = crate_args.to_vec();
        if signal.is_none() {
            extra.extend(["--build-timeout", "20"]);
        }
        let start = Instant::now();
        let mut cmd = compare(out.path(), &[ABI3_PY38], &extra);
        let mut child =
            cmd.env("BUILD_PID_FILE", &pid_file).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        wait_until("the build script to start", Duration::from_secs(300), || pid_file.exists());
        std::thread::sleep(Duration::from_millis(200));
        let script: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        if let Some(sig) = signal {
            Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap();
            assert_eq!(wait_child(&mut child, Duration::from_secs(30)), 130);
        } else {
            assert_eq!(wait_child(&mut child, Duration::from_secs(300)), 0);
            // The timeout counts from cargo's start: no longer than the 20 s plus the tail of the run.
            assert!(start.elapsed() < Duration::from_secs(120), "{:?}", start.elapsed());
            let r = only_results_file(out.path());
            let failure = build(&r, ABI3_PY38).failure().expect("the build failed");
            assert!(failure.starts_with("cargo build did not finish within --build-timeout 20 s"), "{failure}");
            let c = r.cell(&r.interpreters[0].name, ABI3_PY38, "oldfix_add").unwrap();
            assert_eq!(c.status, CellStatus::BuildFailed, "{:?}", c.reason);
        }
        wait_until("the build script to die", Duration::from_secs(5), || !running(script));
    }
}

/// Every file under `dir`, relative, with its bytes and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let modified = p.metadata().unwrap().modified().unwrap();
                files.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap(), modified));
            }
        }
    }
    files.sort();
    files
}

/// `compare --crate krate` measures `oldfix_add` in unlimited mode, and leaves every one of
/// `dirs` (the crate's among them) as it was.
fn measured_leaving_as_it_was(krate: &Path, dirs: &[&Path]) {
    let before: Vec<_> = dirs.iter().map(|d| snapshot(d)).collect();
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = output(compare(out.path(), &[Mode::Unlimited], &["--crate", krate.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let r = only_results_file(out.path());
    let c = r.cell(&r.interpreters[0].name, Mode::Unlimited, "oldfix_add").unwrap();
    assert_eq!(c.status, CellStatus::Ok, "{:?}", c.reason);
    let after: Vec<_> = dirs.iter().map(|d| snapshot(d)).collect();
    assert!(after == before, "no Cargo.lock, target/ or anything else appeared in {dirs:?}");
}

/// Case 11: nothing is written into a user's crate, neither when it is refused (no pyo3) nor when
/// it is built and measured without a Cargo.lock of its own (cargo writes one where it resolves);
/// the copy cargo reads instead still finds a path dependency that lies outside the crate.
#[test]
fn case_11_nothing_is_written_into_the_users_crate() {
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(
        plain.path().join("Cargo.toml"),
        "[package]\nname = \"nopyo3\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nlibc = \"0.2\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(plain.path().join("src")).unwrap();
    std::fs::write(plain.path().join("src/lib.rs"), "pub fn answer() -> u32 { 42 }\n").unwrap();
    let before = snapshot(plain.path());
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = output(compare(out.path(), &[Mode::Unlimited], &["--crate", plain.path().to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nopyo3 does not depend on pyo3"), "{err}");
    assert_eq!(snapshot(plain.path()), before, "the refused crate is as it was");

    let krate = fixture_copy("no-lock", &[]);
    let _ = std::fs::remove_file(krate.join("Cargo.lock"));
    let _ = std::fs::remove_dir_all(krate.join("target"));
    measured_leaving_as_it_was(&krate, &[&krate]);

    let outside = crate_dir("outside-dep");
    let manifest = "[package]\nname = \"outside\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";
    put(&outside.join("Cargo.toml"), manifest.as_bytes());
    put(&outside.join("src/lib.rs"), b"pub const ANSWER: u32 = 42;\n");
    let manifest = std::fs::read_to_string(fixture_copy("oldpyo3", &[]).join("Cargo.toml")).unwrap();
    let with_dep = manifest.replace("[dependencies]\n", "[dependencies]\noutside = { path = \"../outside-dep\" }\n");
    assert_ne!(with_dep, manifest);
    let krate = fixture_copy("path-dep", &[("Cargo.toml", &with_dep)]);
    measured_leaving_as_it_was(&krate, &[&krate, &outside]);
}
