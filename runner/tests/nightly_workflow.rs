//! The nightly workflow's jobs on one machine, through the scripts its steps call: two shard jobs
//! (scripts/ci/nightly-shard.sh), then the gate job (nightly-data.sh fetch, nightly-gate.sh,
//! nightly-data.sh save) against a local origin, night after night. Only the actions' own steps
//! (checkout, artifacts, Pages) are left to a GitHub runner.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{python_flags, pythons};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/ci").join(name)
}

/// Runs `cmd` in `dir` with the runner as ABIBENCH and no GitHub environment; panics on failure.
fn run(dir: &Path, cmd: &mut Command) -> Output {
    cmd.current_dir(dir)
        .env("ABIBENCH", env!("CARGO_BIN_EXE_abibench"))
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GH_TOKEN");
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    out
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, Command::new("git").args(["-c", "user.name=t", "-c", "user.email=t@t.invalid"]).args(args));
    String::from_utf8(out.stdout).unwrap()
}

/// The gate job in a fresh checkout of `origin` (as on a new runner): fetch the data branch, merge
/// and gate `shards`, save. Returns the checkout, the gate's exit code and the verdicts.
fn gate_job(tmp: &Path, origin: &Path, shards: &Path, night: &str) -> (PathBuf, i32, String) {
    let work = tmp.join(night);
    git(tmp, &["clone", "-q", origin.to_str().unwrap(), work.to_str().unwrap()]);
    run(&work, Command::new(script("nightly-data.sh")).args(["fetch", "data"]));
    let out = run(&work, Command::new(script("nightly-gate.sh")).arg(shards).args(["data", "out"]));
    run(&work, Command::new(script("nightly-data.sh")).args(["save", "data"]));
    let code = std::fs::read_to_string(work.join("out/gate-code")).unwrap().trim().parse().unwrap();
    (work, code, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn nightly_jobs_shards_gate_and_data_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    // The repository: a bare origin with one commit on main, as the checkout sees it.
    let origin = tmp.join("origin.git");
    git(tmp, &["init", "-q", "--bare", "-b", "main", origin.to_str().unwrap()]);
    let seed = tmp.join("seed");
    git(tmp, &["clone", "-q", origin.to_str().unwrap(), seed.to_str().unwrap()]);
    git(&seed, &["commit", "-q", "--allow-empty", "-m", "the project"]);
    git(&seed, &["push", "-q", "origin", "HEAD:main"]);

    // Two shard jobs, laid out as download-artifact puts them: shards/shard-<i>/<measure>/.
    let pythons = pythons();
    let mut select = python_flags(&pythons);
    select.extend(["--mode", "unlimited", "--mode", "abi3-py38", "--scenario", "calls_in"]);
    let shards = tmp.join("shards");
    for i in 1..=2 {
        let out = shards.join(format!("shard-{i}"));
        run(tmp, Command::new(script("nightly-shard.sh")).arg(format!("{i}/2")).arg(&out).arg("--quick").args(&select));
    }

    // First night: each measure's run becomes its baseline; the site has both verdicts, the report,
    // the trends; the data branch on origin has the baselines and the history.
    let (work, code, verdicts) = gate_job(tmp, &origin, &shards, "night1");
    assert_eq!(code, 0, "{verdicts}");
    assert!(verdicts.contains("First night for baseline `nightly`"), "{verdicts}");
    assert!(verdicts.contains("First night for baseline `nightly-instructions`"), "{verdicts}");
    let site = work.join("out/site");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    for needle in ["instructions.verdict.md", "wall-time.verdict.md", "<a href=report/>", "trends/wall-time/"] {
        assert!(index.contains(needle), "{needle} not in index.html:\n{index}");
    }
    assert!(site.join("report/report.html").is_file() && work.join("out/merged/instructions").is_dir());
    let saved = git(&seed, &["ls-remote", "origin", "nightly-data"]);
    assert!(!saved.is_empty(), "nothing pushed to nightly-data");
    git(&seed, &["fetch", "-q", "origin", "nightly-data"]);
    let files = git(&seed, &["ls-tree", "-r", "--name-only", "FETCH_HEAD"]);
    for f in ["baselines/nightly.json", "baselines/nightly-instructions.json", "history/index.json"] {
        assert!(files.lines().any(|l| l == f), "{f} not on nightly-data:\n{files}");
    }

    // Second night, on another machine: the baselines come from the data branch, and the same
    // shards are gated on them (identical values: no regression).
    let (_, code, verdicts) = gate_job(tmp, &origin, &shards, "night2");
    assert_eq!(code, 0, "{verdicts}");
    assert!(!verdicts.contains("First night") && !verdicts.contains("not in this run"), "{verdicts}");
    assert_eq!(verdicts.matches("**Gate: no regression**").count(), 2, "{verdicts}");

    // A shard job that failed left no results: its cells are missing, and the gate fails (1)
    // while the job still publishes its report.
    let partial = tmp.join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::rename(shards.join("shard-1"), partial.join("shard-1")).unwrap();
    let (work, code, verdicts) = gate_job(tmp, &origin, &partial, "night3");
    assert_eq!(code, 1, "{verdicts}");
    assert!(verdicts.contains("| missing |") && verdicts.contains("not in this run"), "{verdicts}");
    assert!(work.join("out/site/report/report.html").is_file());
}
