//! Provisioning for real, nothing mocked: 3.14 and 3.15 from Debian sid packages, 3.13t built from
//! Debian's python3.13 source. The cache (ABIBENCH_CACHE_DIR or ~/.cache/abibench) is used as it
//! is: scripts/test.sh provisions before the tests; from nothing the 3.13t build takes minutes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use abibench::model::interpreter::Provenance;
use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results};
use abibench::model::version::{PyVersion, Selector};
use abibench::setup::interpreters;
use abibench::setup::interpreters::interpreters_dir;
use abibench::setup::paths::cache_root;

mod common;
use common::{abibench, run_ok};

/// Modification times of every file under `dir`: what a download or an install would change.
fn mtimes(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                found.insert(e.path(), meta.modified().unwrap());
            }
        }
    }
    found
}

#[test]
fn provisioned_interpreters_are_discovered_and_provisioning_again_is_a_no_op() {
    run_ok(&mut abibench(&["provision", "--only", "3.14,3.15,3.13t"]));

    let selectors: Vec<Selector> = ["3.14", "3.15", "3.13t"].iter().map(|s| s.parse().unwrap()).collect();
    let found = interpreters::discover(&selectors).unwrap();
    let one = |minor: u8, ft: bool| {
        let of: Vec<_> = found.iter().filter(|i| i.version == PyVersion(3, minor) && i.gil_disabled == ft).collect();
        assert!(!of.is_empty(), "3.{minor}{} not discovered", if ft { "t" } else { "" });
        of.into_iter().find(|i| i.argv[0].starts_with(interpreters_dir(&cache_root().unwrap()))).cloned().unwrap()
    };
    for minor in [14, 15] {
        let i = one(minor, false);
        assert!(i.full_version.starts_with(&format!("3.{minor}.")), "{}", i.full_version);
        let Provenance::DebianPackages { suite, packages } = &i.provenance else { panic!("{:?}", i.provenance) };
        assert_eq!(suite, "sid");
        let python =
            packages.iter().find(|p| p.name == format!("python3.{minor}-minimal")).expect("the interpreter package");
        assert!(i.name.starts_with(python.version.split('-').next().unwrap()), "{} vs {python:?}", i.name);
        assert!(packages.iter().any(|p| p.name == "libc6"), "sid's libc comes with it: {packages:?}");
        // Debian's binary is linked statically, whatever its sysconfig says.
        assert!(i.build.debian && !i.build.shared, "{:?}", i.build);
        assert!(i.argv[0].ends_with(format!("abibench-python3.{minor}")), "{:?}", i.argv);
    }
    let ft = one(13, true);
    assert!(ft.name.ends_with('t'), "{}", ft.name);
    let Provenance::SourceBuild { source_package, source_version, suite, configure_args, .. } = &ft.provenance else {
        panic!("{:?}", ft.provenance)
    };
    assert_eq!((source_package.as_str(), suite.as_str()), ("python3.13", "trixie"));
    assert!(source_version.starts_with("3.13.5-"), "{source_version}");
    assert!(configure_args.iter().any(|a| a == "--disable-gil"), "{configure_args:?}");
    assert!(ft.build.shared && !ft.build.debian, "{:?}", ft.build);

    // Again: nothing is fetched, built or rewritten, and it takes seconds.
    let root = interpreters_dir(&cache_root().unwrap());
    let before = mtimes(&root);
    let start = Instant::now();
    let again = run_ok(&mut abibench(&["provision", "--only", "3.14,3.15,3.13t"]));
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(stdout.lines().filter(|l| l.contains(" present ")).count(), 3, "{stdout}");
    assert!(!stdout.contains("provisioned"), "{stdout}");
    assert!(String::from_utf8_lossy(&again.stderr).trim().is_empty(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(elapsed < Duration::from_secs(30), "a provisioned cache took {elapsed:?}");
    let after = mtimes(&root);
    let changed: Vec<_> = after.iter().filter(|(p, t)| before.get(*p) != Some(t)).map(|(p, _)| p).collect();
    assert!(changed.is_empty(), "files written by a no-op provisioning: {changed:?}");
}

/// A directory without a stamp is a half-done install: it is redone, not trusted.
#[test]
fn a_half_done_install_is_redone() {
    let cache = tempfile::tempdir().unwrap();
    let dir = interpreters_dir(cache.path()).join("3.15");
    std::fs::create_dir_all(dir.join("root")).unwrap();
    std::fs::write(dir.join("root/leftover"), "from an interrupted run").unwrap();
    let out = run_ok(abibench(&["provision", "--only", "3.15"]).env("ABIBENCH_CACHE_DIR", cache.path()));
    assert!(String::from_utf8_lossy(&out.stdout).contains("provisioned"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(!dir.join("root/leftover").exists());
    assert!(dir.join("abibench-provisioned.json").is_file());
}

/// What each mode does on the provisioned interpreters: 3.15 loads unlimited, abi3 and abi3t
/// builds; the free-threaded 3.13t, for which bench-ext's PyO3 0.29 builds nothing (free-threaded
/// 3.14+ only), is left out in one line that says so, and no cell of it is recorded.
#[test]
fn every_mode_is_tried_on_provisioned_interpreters_and_a_free_threaded_one_nothing_builds_for_is_left_out() {
    run_ok(&mut abibench(&["provision", "--only", "3.15,3.13t"]));
    let out = tempfile::tempdir().unwrap();
    let done = run_ok(&mut abibench(&[
        "compare",
        "--quick",
        "--ascii",
        "--no-provision",
        "--out",
        out.path().to_str().unwrap(),
        "--python",
        "3.15",
        "--python",
        "3.13t",
        "--scenario",
        "call_no_args",
        "--mode",
        "unlimited",
        "--mode",
        "abi3-py38",
        "--mode",
        "abi3t-py315",
    ]));
    let file = abibench::model::io::latest(out.path(), "").unwrap();
    let r = Results::read(&file).unwrap();
    let py315 = r.interpreters.iter().find(|i| i.version == PyVersion(3, 15)).unwrap();
    for mode in [Mode::Unlimited, Mode::Abi3(PyVersion(3, 8)), Mode::Abi3t(PyVersion(3, 15))] {
        let c = r.cell(&py315.name, mode, "call_no_args").unwrap();
        assert_eq!(c.status, CellStatus::Ok, "{mode} on {}: {:?}", py315.name, c.reason);
        assert_eq!(c.gil_enabled, Some(true), "{mode} on a GIL build");
    }
    assert!(!r.interpreters.iter().any(|i| i.gil_disabled), "3.13t is not measured");
    let stderr = String::from_utf8_lossy(&done.stderr);
    let said: Vec<&str> = stderr.lines().filter(|l| l.contains("13") && l.contains("t:")).collect();
    assert_eq!(said.len(), 1, "said once: {stderr}");
    assert!(said[0].contains("left out") && said[0].contains("no free-threaded CPython below 3.14"), "{}", said[0]);
}
