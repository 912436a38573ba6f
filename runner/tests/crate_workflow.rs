//! The reusable crate workflow's jobs (`.github/workflows/crate.yml`) run here as its runners would
//! run them, for two runner labels on this one machine (the honest limit: GitHub's runners cannot
//! be reached from here): `scripts/ci/crate-measure.sh` once per label on the oldpyo3 fixture, then
//! `scripts/ci/crate-decide.sh` over both, one page and one plan with each machine named by its label.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::{pythons, run_ok};

fn script(name: &str) -> Command {
    let mut cmd = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/ci").join(name));
    cmd.env("ABIBENCH", env!("CARGO_BIN_EXE_abibench"));
    cmd
}

#[test]
fn two_runners_measure_and_one_plan_names_both() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oldpyo3");
    let runs = tempfile::tempdir().unwrap();
    let py = &pythons()[0];
    for label in ["runner-a", "runner-b"] {
        run_ok(script("crate-measure.sh").arg(&fixture).arg(label).arg(runs.path()).args([
            "--python",
            py,
            "--quick",
            "--no-provision",
            "--mode",
            "unlimited",
            "--mode",
            "abi3-py38",
        ]));
        let files: Vec<_> = std::fs::read_dir(runs.path().join(label)).unwrap().collect();
        assert_eq!(files.len(), 1, "{label}: one results file");
    }
    // As download-artifact lays them out: RUNS/<artifact>/<run id>.json.
    let page = tempfile::tempdir().unwrap();
    let summary = page.path().join("step-summary.md");
    run_ok(
        script("crate-decide.sh")
            .arg(runs.path())
            .arg(page.path().join("page"))
            .args(["--threshold", "50"])
            .env("GITHUB_STEP_SUMMARY", &summary),
    );
    let md = std::fs::read_to_string(page.path().join("page/report.md")).unwrap();
    assert!(md.contains("Planned together with the run of another machine"), "{md}");
    assert!(md.contains("### Wheel plan for oldfix"), "{md}");
    let machines = ["runner-a (", "runner-b ("];
    assert!(machines.iter().all(|m| md.contains(m)), "both machines named by their labels: {md}");
    let first_screen = std::fs::read_to_string(&summary).unwrap();
    assert!(first_screen.contains("## The answer") && first_screen.contains("### Wheel plan"), "{first_screen}");
    assert!(!first_screen.contains("## The evidence"), "the step summary is the first screen only");

    // No results at all (every measure job failed): said, not an empty page.
    let empty = tempfile::tempdir().unwrap();
    let out = script("crate-decide.sh").arg(empty.path()).arg(page.path().join("none")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no results under"));
}
