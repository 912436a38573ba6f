//! Fault injection, as a hostile but fair user would try it (issue 12): timed code that prints,
//! forges, hangs or closes its output; signals at bad moments; a full disk; runs started together;
//! bad flags and old interpreters; no HOME. Each test asserts that nothing measured is lost and that
//! the message names the culprit. Real builds and interpreters (the first of ABIBENCH_TEST_PYTHONS),
//! `--quick`, one mode, scenarios from a temporary TOML. Round three (issue 26), one test per case
//! named after it: builds (`builds`), what a run reads and writes (`runs`), and what reaches a
//! terminal, an SVG or a spreadsheet (`outputs`).

mod builds;
#[path = "../common/mod.rs"]
mod common;
mod outputs;
mod runs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    abibench, compare_args, only_results_file, only_results_path, pythons, results_paths, run_code, scenario_dir,
};

use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results, RunStatus};

const GROUP: &str = "[group]\nname = \"faults\"\ntitle = \"Faults\"\nkind = \"chatty\"\n";

/// A scenario file: the group header, then `[[scenario]]` tables.
fn scenarios(tables: &str) -> tempfile::TempDir {
    scenario_dir(&format!("{GROUP}\n{tables}"))
}

const FINE: &str = "[[scenario]]\nname = \"fine\"\nfunction = \"MODE\"\nstmt = \"len(f)\"\n";

/// `compare` on the first test interpreter, unlimited mode only, scenarios from `scen`.
fn compare_cmd(out: &Path, scen: &Path, extra: &[&str]) -> Command {
    let py = &pythons()[0];
    let mut args = compare_args(out.to_str().unwrap(), &["--python", py, "--mode", "unlimited"]);
    args.extend(["--scenarios-dir", scen.to_str().unwrap()]);
    args.extend_from_slice(extra);
    abibench(&args)
}

fn output(mut cmd: Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("abibench starts");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (status.code().unwrap_or(-1), text(stdout), text(stderr))
}

/// Asserts a cell was measured in full: every value of each process the quick level gave it.
fn assert_measured(r: &Results, scenario: &str) {
    let c = r.cell(&r.interpreters[0].name, Mode::Unlimited, scenario).unwrap();
    assert_eq!(c.status, CellStatus::Ok, "{scenario}: {:?}", c.reason);
    let s = &r.run.sampling;
    assert!((s.min_processes()..=s.processes).contains(&c.processes.len()), "{scenario}: {:?}", c.processes);
    assert!(c.processes.iter().all(|p| p.values_s.len() == r.run.sampling.values), "{scenario}: {:?}", c.processes);
}

fn reason<'a>(r: &'a Results, scenario: &str) -> (CellStatus, &'a str) {
    let c = r.cell(&r.interpreters[0].name, Mode::Unlimited, scenario).unwrap();
    (c.status, c.reason.as_deref().unwrap_or_default())
}

/// Whether `pid` runs (a zombie waiting for init to reap it does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_child(child: &mut Child, limit: Duration) -> i32 {
    let mut code = None;
    wait_until("abibench to exit", limit, || {
        code = child.try_wait().unwrap().map(|s| s.code().unwrap_or(-1));
        code.is_some()
    });
    code.unwrap()
}

/// Issue 12 case 2 and 6: what the timed code prints cannot end, forge or drop an event, not even
/// written straight to the event stream's descriptor; an exception's type and message reach the
/// table, report.md and report.html.
#[test]
fn timed_code_cannot_forge_or_drop_events_and_exceptions_are_named() {
    let scen = scenarios(&format!(
        r#"{FINE}
[[scenario]]
name = "fake_done"
function = "MODE"
stmt = '''print('{{"ev": "done"}}')'''

[[scenario]]
name = "fake_cell"
function = "MODE"
stmt = '''print('{{"ev": "cell", "scenario": "fine", "build": "unlimited", "status": "ok", "loops": 1, "values": [123.0], "gil": true}}')'''

[[scenario]]
name = "no_newline"
function = "MODE"
setup = "import sys"
stmt = "sys.stdout.write('x')"

[[scenario]]
name = "bad_bytes"
function = "MODE"
setup = "import os, sys"
stmt = '''os.write(1, b'\xff\xfe'); sys.stdout.buffer.write(b'\xff\n'); os.write(2, b'\xc3')'''

[[scenario]]
name = "forge_on_channel"
function = "MODE"
setup = '''
import os, stat
pipes = [fd for fd in range(3, 64) if fd != 2 and os.path.exists('/proc/self/fd/%d' % fd) and stat.S_ISFIFO(os.fstat(fd).st_mode)]
'''
stmt = '''
for fd in pipes:
    os.write(fd, b'{{"ev": "done"}}\n')
'''

[[scenario]]
name = "raises"
function = "MODE"
stmt = "1 / 0"
"#
    ));
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = output(compare_cmd(out.path(), scen.path(), &[]));
    assert_eq!(code, 0, "{stderr}");
    let r = only_results_file(out.path());
    assert_eq!(r.run.status, RunStatus::Complete);
    for s in ["fine", "fake_done", "fake_cell", "no_newline", "bad_bytes", "forge_on_channel"] {
        assert_measured(&r, s);
    }
    // The forged cell's 123 s values are not in "fine".
    let fine = r.cell(&r.interpreters[0].name, Mode::Unlimited, "fine").unwrap();
    assert!(fine.processes.iter().flat_map(|p| &p.values_s).all(|v| *v < 1.0), "{fine:?}");
    // One worker per process did it all: none was restarted.
    let processes: Vec<usize> = r.workers.iter().map(|w| w.process).collect();
    assert_eq!(processes, (0..r.workers.len()).collect::<Vec<_>>(), "{:?}", r.workers);
    for ending in r.workers.iter().map(|w| &w.ending) {
        assert!(ending.starts_with("done;") && ending.contains("not events of this job, ignored"), "{ending}");
    }

    let (status, why) = reason(&r, "raises");
    assert_eq!(status, CellStatus::Error);
    let named = "ZeroDivisionError: division by zero";
    assert!(why.starts_with(named), "{why}");
    assert!(stdout.contains(named), "{stdout}");
    let report = out.path().join(&r.run.id);
    for page in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(report.join(page)).unwrap();
        assert!(text.contains(named), "{page}");
    }
}

/// Issue 12 case 3: a stmt that hangs while printing, one that closes its stdout, and one that
/// closes every descriptor are each recorded as hung within the timeout, and the run goes on.
#[test]
fn hangs_are_caught_on_progress_not_output() {
    let scen = scenarios(&format!(
        r#"[[scenario]]
name = "chatty_hang"
function = "MODE"
setup = "import time"
stmt = '''
while True:
    print('still working', flush=True)
    time.sleep(0.2)
'''

[[scenario]]
name = "closes_stdout"
function = "MODE"
setup = "import os, time"
stmt = "os.close(1); time.sleep(3600)"

[[scenario]]
name = "closes_everything"
function = "MODE"
setup = "import os, time"
stmt = "os.closerange(0, 4096); time.sleep(3600)"

{FINE}"#
    ));
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = output(compare_cmd(out.path(), scen.path(), &["--timeout", "5", "--no-report"]));
    assert_eq!(code, 0, "{stderr}");
    let r = only_results_file(out.path());
    // Three hangs of 5 s each, plus start-up: nowhere near the 3600 s they ask for. (Measurement
    // time only: builds, slow on a cold cache, are not what this is about.)
    assert!(r.run.measure_seconds < 60.0, "{}", r.run.measure_seconds);
    for s in ["chatty_hang", "closes_stdout", "closes_everything"] {
        let (status, why) = reason(&r, s);
        assert_eq!(status, CellStatus::Timeout, "{s}: {why}");
        assert!(why.starts_with("worker made no progress for") && why.contains("--timeout 5 s"), "{s}: {why}");
    }
    assert_measured(&r, "fine");
}

const SPIN: &str = r#"
[[scenario]]
name = "spin"
function = "MODE"
setup = "import os; open(os.environ['PID_FILE'], 'w').write(str(os.getpid()))"
stmt = "while True: pass"
"#;

/// Issue 12 case 3: SIGTERM, or two Ctrl-C 20 ms apart, while a worker spins: abibench exits 130,
/// the worker is gone (not reparented to init at 100 % CPU), and the cells done are saved.
#[test]
fn signals_leave_no_worker_behind() {
    // The scenarios of one group are timed interleaved, so the one to finish first is in a group
    // (file) of its own, read before the spinning one's.
    let scen = scenarios(FINE);
    std::fs::write(scen.path().join("spin.toml"), format!("{}\n{SPIN}", GROUP.replace("faults", "spinning"))).unwrap();
    for signals in [&["-TERM"][..], &["-INT", "-INT"]] {
        let out = tempfile::tempdir().unwrap();
        let pid_file = out.path().join("worker.pid");
        let mut child = compare_cmd(out.path(), scen.path(), &["--no-report"])
            .env("PID_FILE", &pid_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the worker to spin", Duration::from_secs(120), || pid_file.exists());
        std::thread::sleep(Duration::from_millis(200));
        let worker: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        for sig in signals {
            Command::new("kill").args([*sig, &child.id().to_string()]).status().unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(wait_child(&mut child, Duration::from_secs(30)), 130, "{signals:?}");
        wait_until("the worker to die", Duration::from_secs(5), || !running(worker));
        // Even a second signal leaves only once the finished cells are saved.
        let r = Results::read(&only_results_path(out.path())).unwrap();
        assert_eq!(r.run.status, RunStatus::Interrupted, "{signals:?}");
        // Saved: the processes that finished it, each whole (an interrupted run may stop before
        // the first stage is over).
        let fine = r.cell(&r.interpreters[0].name, Mode::Unlimited, "fine").unwrap();
        assert_eq!(fine.status, CellStatus::Ok, "{:?}", fine.reason);
        assert!(fine.processes.iter().all(|p| p.values_s.len() == r.run.sampling.values), "{:?}", fine.processes);
        assert_eq!(reason(&r, "spin").0, CellStatus::Interrupted);
    }
}

/// Issue 12 case 4: the disk fills while the second interpreter is measured. The last good file
/// stays in --out with the first interpreter's cells, the tables are printed, and every measured
/// cell is saved elsewhere, said where; the report is not half-written. `--out` that cannot be
/// written is refused before anything is built.
#[test]
fn a_full_disk_loses_no_measured_cell() {
    let (code, _, stderr) = run_code(&["compare", "--out", "/proc/version/results"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--out: cannot write in /proc/version/results") && !stderr.contains("builds:"), "{stderr}");

    if !Command::new("unshare").args(["-rm", "true"]).status().is_ok_and(|s| s.success()) {
        eprintln!("skipped the full disk: `unshare -rm` (a private tmpfs) is not allowed here");
        return;
    }
    // Fills --out once it holds measured cells: while the second interpreter is measured.
    let scen = scenarios(&format!(
        r#"{FINE}
[[scenario]]
name = "fill"
function = "MODE"
setup = '''
import glob, os
out = os.environ['OUT']
saved = any('"values_s"' in open(p).read() for p in glob.glob(out + '/*.json'))
if saved and not os.path.exists(out + '/filler'):
    fd = os.open(out + '/filler', os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b'x' * 4096)
    except OSError:
        pass
    os.close(fd)
'''
stmt = "len(f)"
"#
    ));
    let (work, rescue) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (out, copy) = (work.path().join("out"), work.path().join("copy"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&copy).unwrap();
    let pys = pythons();
    assert!(pys.len() >= 2, "this test needs two interpreters (ABIBENCH_TEST_PYTHONS)");
    let mut args = compare_args(out.to_str().unwrap(), &["--mode", "unlimited"]);
    args.extend(["--python", &pys[0], "--python", &pys[1], "--scenarios-dir", scen.path().to_str().unwrap()]);
    let script = r#"mount -t tmpfs -o size=256k abibench-full "$OUT" || exit 99
"$ABIBENCH" "$@"; code=$?; cp -a "$OUT/." "$COPY/"; exit $code"#;
    let mut cmd = Command::new("unshare");
    cmd.args(["-rm", "sh", "-c", script, "sh"])
        .args(&args)
        .env("ABIBENCH", env!("CARGO_BIN_EXE_abibench"))
        .env("OUT", &out)
        .env("COPY", &copy)
        .env("TMPDIR", rescue.path());
    let (code, stdout, stderr) = output(cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("No space left on device") && stderr.contains("nothing measured is lost"), "{stderr}");
    assert!(stdout.contains("fine") && stdout.contains("fill"), "the tables are printed: {stdout}");

    // Everything measured, in the file named in the message.
    let rescued = results_paths(rescue.path());
    assert_eq!(rescued.len(), 1, "{stderr}");
    assert!(stderr.contains(&rescued[0].display().to_string()), "{stderr}");
    let all = Results::read(&rescued[0]).unwrap();
    assert_eq!(all.run.status, RunStatus::Complete);
    assert_eq!(all.cells.len(), 4);
    assert!(all.cells.iter().all(|c| c.status == CellStatus::Ok && !c.processes.is_empty()), "{:?}", all.cells);

    // The last good file in --out: the first interpreter's cells, still "running"; nothing partial.
    let kept = Results::read(&only_results_path(&copy)).unwrap();
    assert_eq!(kept.run.status, RunStatus::Running);
    assert_eq!(kept.cells.iter().filter(|c| c.status == CellStatus::Ok).count(), 2);
    assert!(stderr.contains("holds 2 of the 4 measured cells"), "{stderr}");
    // No temporary file, and no report begun in a directory that could not take the results.
    let mut names: Vec<String> =
        std::fs::read_dir(&copy).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [format!("{}.json", kept.run.id), "filler".into()]);
}

/// Issue 12 cases 5 and 7: bad timeouts and interpreters below the floor, by version or by path,
/// are refused before anything is built, naming the flag.
#[test]
fn bad_timeouts_and_old_interpreters_are_refused_before_any_build() {
    let refused = |args: &[&str], needle: &str| {
        let start = Instant::now();
        let (code, _, stderr) = run_code(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle) && !stderr.contains("builds:"), "{args:?}: {needle} in {stderr}");
        assert!(start.elapsed() < Duration::from_secs(30), "{args:?} took {:?}", start.elapsed());
    };
    for t in ["nan", "inf", "1e20", "0", "-1"] {
        let flag = format!("--timeout={t}");
        refused(&["compare", "--no-provision", &flag], "for '--timeout <SECONDS>'");
        refused(&["matrix", &flag], "for '--timeout <SECONDS>'");
    }
    refused(&["compare", "--no-provision", "--python", "2.7"], "Python 2.7 is older than 3.8");
    refused(&["provision", "--only", "3.7"], "Python 3.7 is older than 3.8");
    // A real interpreter below the floor, by path, if pyenv has one.
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    let old = pyenv.and_then(|root| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("3.6") || n.to_string_lossy().starts_with("3.7"))
            })
            .map(|p| p.join("bin/python3"))
            .filter(|p| p.is_file())
            .collect();
        found.pop()
    });
    match old {
        Some(exe) => {
            let exe = exe.to_str().unwrap();
            refused(&["compare", "--no-provision", "--python", exe], &format!("--python {exe}: Python 3."));
            refused(&["compare", "--no-provision", "--python", exe], "older than 3.8");
        }
        None => eprintln!("skipped --python PATH below the floor: no pyenv 3.6 or 3.7 here"),
    }
}

/// Issue 12 case 8: with HOME and XDG_CACHE_HOME unset, the cache is a private directory of this
/// user's (0700), and one that others could write is refused.
#[test]
fn without_home_the_cache_is_private() {
    let tmp = tempfile::tempdir().unwrap();
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let pyenv = std::env::var_os("PYENV_ROOT").map(PathBuf::from).unwrap_or_else(|| home.join(".pyenv"));
    let list = || {
        let mut cmd = abibench(&["list", "--python", &pythons()[0]]);
        cmd.env_remove("HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("ABIBENCH_CACHE_DIR")
            .env("PYENV_ROOT", &pyenv)
            .env("TMPDIR", tmp.path());
        output(cmd)
    };
    let (code, _, stderr) = list();
    assert_eq!(code, 0, "{stderr}");
    // SAFETY: geteuid(2) cannot fail.
    let cache = tmp.path().join(format!("abibench-{}", unsafe { libc::geteuid() }));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, stderr) = list();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&cache.display().to_string()) && stderr.contains("mode 777"), "{stderr}");
}

/// Issue 12 cases 1 and 9: two runs started together (and two merges) keep a file each, with
/// their own reports; results and reports are alike readable; show and check say a file's run
/// did not finish; `--baseline DIR` and duplicate scenario names are reported as such; a
/// temporary file that a killed writer left is swept.
#[test]
fn runs_started_together_keep_their_own_files() {
    let scen = scenarios(FINE);
    let out = tempfile::tempdir().unwrap();
    let stale = out.path().join(".abibench-999999999-x.tmp");
    std::fs::write(&stale, "left by a SIGKILL").unwrap();
    // Swept only once old: a fresh one may be another host's live writer in a shared directory.
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(two_hours_ago).unwrap();
    let start =
        || compare_cmd(out.path(), scen.path(), &[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (start(), start());
    for c in [a, b] {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let files = results_paths(out.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let runs: Vec<Results> = files.iter().map(|f| Results::read(f).unwrap()).collect();
    assert_ne!(runs[0].run.id, runs[1].run.id);
    for r in &runs {
        assert_measured(r, "fine");
        let md = std::fs::read_to_string(out.path().join(&r.run.id).join("report.md")).unwrap();
        assert!(md.contains(&r.run.id));
    }
    assert!(!stale.exists(), "a dead writer's temporary file is swept");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&files[0]), mode(&out.path().join(&runs[0].run.id).join("report.md")));

    // Two merges at once: two files, neither replacing the other or an input.
    let merged = out.path().join("merged");
    let merge =
        || abibench(&["merge", files[0].to_str().unwrap(), "--out", merged.to_str().unwrap()]).output().unwrap();
    let (m1, m2) = std::thread::scope(|s| {
        let h = s.spawn(merge);
        (merge(), h.join().unwrap())
    });
    assert!(m1.status.success() && m2.status.success(), "{}", String::from_utf8_lossy(&m1.stderr));
    assert_ne!(m1.stdout, m2.stdout);
    assert_eq!(results_paths(&merged).len(), 2);

    // A run that never finished is said to be so.
    let mut running = runs[0].clone();
    running.run.status = RunStatus::Running;
    let unfinished = out.path().join("unfinished.json");
    running.write_atomic(&unfinished).unwrap();
    let (code, _, stderr) = run_code(&["show", unfinished.to_str().unwrap(), "--ascii"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("never finished") && stderr.contains("status \"running\""), "{stderr}");
    let (_, _, stderr) = run_code(&["check", unfinished.to_str().unwrap(), "--baseline", files[1].to_str().unwrap()]);
    assert!(stderr.contains("status \"running\""), "{stderr}");

    let (code, _, stderr) =
        run_code(&["check", files[0].to_str().unwrap(), "--baseline", out.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is a directory") && !stderr.contains("does not exist"), "{stderr}");

    std::fs::write(scen.path().join("again.toml"), format!("{}\n{FINE}", GROUP.replace("faults", "again"))).unwrap();
    let (code, _, stderr) = output(compare_cmd(out.path(), scen.path(), &[]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("faults.toml:7: scenario fine is already defined at") && stderr.contains("again.toml:7"),
        "{stderr}"
    );
}

/// What held before (issue 12): SIGKILL at any moment never leaves a half-written results file.
#[test]
fn sigkill_never_leaves_a_half_written_file() {
    let scen = scenarios(&format!("{FINE}{}", FINE.replace("\"fine\"", "\"fine_too\"")));
    let out = tempfile::tempdir().unwrap();
    for delay_ms in [300, 1200, 2500] {
        let mut child =
            compare_cmd(out.path(), scen.path(), &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        for f in results_paths(out.path()) {
            Results::read(&f).unwrap_or_else(|e| panic!("{} after SIGKILL at {delay_ms} ms: {e:#}", f.display()));
        }
    }
}
