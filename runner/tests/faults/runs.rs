//! Issue 26, what a run reads and writes: a build that dies at import, long events, long planned
//! values, a SIGKILLed abibench, valgrind's leftovers, floods of output, and `--out` paths that
//! cannot be.

use std::process::{Command, Stdio};
use std::time::Duration;

use abibench::model::mode::Mode;
use abibench::model::results::{CellStatus, Results, RunStatus};
use abibench::model::version::PyVersion;

use crate::common::{only_results_file, only_results_path, results_paths, run_code};
use crate::{assert_measured, compare_cmd, output, reason, running, scenarios, wait_until, FINE, GROUP, SPIN};

/// A `sitecustomize` that makes every process that imports an `.abi3.so` die of SIGSEGV, as a
/// build that crashes in its module's initialisation would.
const SEGV_AT_ABI3_IMPORT: &str = "import importlib.machinery, os, signal
create = importlib.machinery.ExtensionFileLoader.create_module
def crash_on_abi3(self, spec):
    # The worker loads a private copy (a memfd named after the file): the link says which.
    if os.path.realpath(spec.origin).split(' ')[0].endswith('.abi3.so'):
        os.kill(os.getpid(), signal.SIGSEGV)
    return create(self, spec)
importlib.machinery.ExtensionFileLoader.create_module = crash_on_abi3
";

/// Issue 26 case 2: under process isolation, the abi3-py38 build's process dies of SIGSEGV while
/// it imports the build: its cells say so, and the unlimited build's are measured (they were
/// recorded crashed with a BrokenPipeError).
#[test]
fn case_02_a_build_that_dies_at_import_fails_only_its_own_cells() {
    let scen = scenarios(&format!("{FINE}{}", FINE.replace("\"fine\"", "\"fine_too\"")));
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sitecustomize.py"), SEGV_AT_ABI3_IMPORT).unwrap();
    let out = tempfile::tempdir().unwrap();
    let extra = ["--mode", "abi3-py38", "--isolation", "process", "--no-report"];
    let mut cmd = compare_cmd(out.path(), scen.path(), &extra);
    cmd.env("PYTHONPATH", site.path());
    let (code, _, stderr) = output(cmd);
    assert_eq!(code, 0, "{stderr}");
    let r = only_results_file(out.path());
    for s in ["fine", "fine_too"] {
        assert_measured(&r, s);
        let c = r.cell(&r.interpreters[0].name, Mode::Abi3(PyVersion(3, 8)), s).unwrap();
        let why = c.reason.as_deref().unwrap_or_default();
        assert_eq!(c.status, CellStatus::NotLoadable, "{s}: {why}");
        assert!(why.contains("its process died while loading it (killed by SIGSEGV)"), "{s}: {why}");
    }
}

/// Issue 26 case 3 (the runner's side): an event longer than 1 MiB — a cell of 50 000 values, an
/// exception with a 3 MiB message — is read whole. The values are all kept; the message is kept
/// by its start, with a note of what was cut, so the results stay small.
#[test]
fn case_03_an_event_over_a_mebibyte_keeps_its_cell() {
    let scen = scenarios(&format!(
        "{FINE}\n[[scenario]]\nname = \"huge_message\"\nfunction = \"MODE\"\nstmt = \"raise ValueError('x' * (3 << 20))\"\n"
    ));
    let out = tempfile::tempdir().unwrap();
    let extra = ["--values", "50000", "--min-time", "0.01", "--no-report"];
    let (code, _, stderr) = output(compare_cmd(out.path(), scen.path(), &extra));
    assert_eq!(code, 0, "{stderr}");
    let r = only_results_file(out.path());
    let fine = r.cell(&r.interpreters[0].name, Mode::Unlimited, "fine").unwrap();
    assert_eq!(fine.status, CellStatus::Ok, "{:?}", fine.reason);
    assert_eq!(fine.processes[0].values_s.len(), 50_000);
    let (status, why) = reason(&r, "huge_message");
    assert_eq!(status, CellStatus::Error);
    assert!(why.starts_with("ValueError: xxxx") && why.contains("more bytes cut)"), "{}", &why[..200.min(why.len())]);
    assert!(why.len() < 16 * 1024, "{} bytes", why.len());
}

/// Issue 26 case 4: values × min-time past `--timeout` (5 values of 1.5 s, the empty loop's 7.5 s
/// in one step, against 5 s) is measured, not reported hung "during overhead".
#[test]
fn case_04_a_value_planned_past_the_timeout_is_not_a_hang() {
    let scen = scenarios(FINE);
    let out = tempfile::tempdir().unwrap();
    let extra = ["--min-time", "1500", "--timeout", "5", "--no-report"];
    let (code, _, stderr) = output(compare_cmd(out.path(), scen.path(), &extra));
    assert_eq!(code, 0, "{stderr}");
    let r = only_results_file(out.path());
    assert_measured(&r, "fine");
    // The values did take longer than --timeout together (each aims past 1.5 s; loop sizing on a
    // loaded machine may fall a little short of that, which is not what this case is about).
    let values = &r.cell(&r.interpreters[0].name, Mode::Unlimited, "fine").unwrap().processes[0].values_s;
    assert!(values.iter().sum::<f64>() > 5.0, "{values:?}");
}

/// Issue 26 case 6: SIGKILL (and SIGUSR1, which abibench does not handle) while a worker spins:
/// the worker dies with abibench, and the next run in the directory marks the file it left
/// "running" as abandoned.
#[test]
fn case_06_a_killed_abibench_leaves_no_worker_and_its_run_is_marked_abandoned() {
    let scen = scenarios(FINE);
    std::fs::write(scen.path().join("spin.toml"), format!("{}\n{SPIN}", GROUP.replace("faults", "spinning"))).unwrap();
    let fine_only = scenarios(FINE);
    for signal in ["-KILL", "-USR1"] {
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
        Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
        child.wait().unwrap();
        wait_until("the worker to die", Duration::from_secs(5), || !running(worker));
        let left = only_results_path(out.path());
        assert_eq!(Results::read(&left).unwrap().run.status, RunStatus::Running, "{signal}");

        let (code, _, stderr) = output(compare_cmd(out.path(), fine_only.path(), &["--no-report"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("was left running by an abibench that is gone: marked abandoned"), "{stderr}");
        assert_eq!(Results::read(&left).unwrap().run.status, RunStatus::Abandoned, "{signal}");
        let (_, _, stderr) = run_code(&["show", left.to_str().unwrap(), "--ascii"]);
        assert!(stderr.contains("was abandoned") && stderr.contains("status \"abandoned\""), "{stderr}");
    }
}

/// Issue 26 case 12: counting instructions leaves none of valgrind's gdbserver FIFOs
/// (`vgdb-pipe-*`, in the temporary directory) behind.
#[test]
fn case_12_counting_instructions_leaves_no_valgrind_files() {
    let scen = scenarios(FINE);
    let (out, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut cmd = compare_cmd(out.path(), scen.path(), &["--measure", "instructions", "--no-report"]);
    let (code, _, stderr) = output({
        cmd.env("TMPDIR", tmp.path());
        cmd
    });
    assert_eq!(code, 0, "{stderr}");
    let r = only_results_file(out.path());
    assert_eq!(reason(&r, "fine").0, CellStatus::Ok);
    let left: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|n| !n.starts_with("vgdb-pipe")), "{left:?}");
}

/// Issue 26 case 13: timed code that floods its output without newlines, then crashes: the cell
/// is recorded with the crash and a bounded stderr tail, not 30 MB of it.
#[test]
fn case_13_a_flood_of_output_keeps_the_results_small() {
    let scen = scenarios(&format!(
        r#"[[scenario]]
name = "flood"
function = "MODE"
setup = "import os, sys"
stmt = '''
for _ in range(30):
    sys.stdout.write('x' * (1 << 20))
sys.stdout.flush()
os.abort()
'''

{FINE}"#
    ));
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = output(compare_cmd(out.path(), scen.path(), &["--no-report"]));
    assert_eq!(code, 0, "{stderr}");
    let path = only_results_path(out.path());
    let r = Results::read(&path).unwrap();
    let (status, why) = reason(&r, "flood");
    assert_eq!(status, CellStatus::Crashed);
    assert!(why.starts_with("worker killed by signal 6 (SIGABRT) during") && why.contains("more bytes cut)"), "{why}");
    assert_measured(&r, "fine");
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 100_000, "{size} bytes");
}

/// Issue 26 case 14: `--out` a dangling symbolic link, or inside abibench's cache: refused before
/// anything is built, saying what is wrong.
#[test]
fn case_14_out_errors_say_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("results");
    std::os::unix::fs::symlink(tmp.path().join("gone"), &link).unwrap();
    let (code, _, stderr) = run_code(&["compare", "--no-provision", "--out", link.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    let said = format!("is a symbolic link to {}, which does not exist", tmp.path().join("gone").display());
    assert!(stderr.contains(&said) && !stderr.contains("File exists") && !stderr.contains("builds:"), "{stderr}");

    let cache = tmp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let inside = cache.join("results");
    let mut cmd = crate::common::abibench(&["compare", "--no-provision", "--out", inside.to_str().unwrap()]);
    let (code, _, stderr) = output({
        cmd.env("ABIBENCH_CACHE_DIR", &cache);
        cmd
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("inside abibench's cache") && !stderr.contains("builds:"), "{stderr}");
    assert!(results_paths(&cache).is_empty() && !inside.exists(), "nothing written there");
}
