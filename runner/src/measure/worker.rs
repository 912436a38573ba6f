//! One worker child: `worker.py` in the interpreter under test (under callgrind when counting
//! instructions), fed a job, its events handed over as they come until it ends. The deadline is
//! on progress (the worker's events), never on output, and no wait is without one.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sched::{sched_setaffinity, CpuSet};
use nix::unistd::Pid;

use crate::measure::protocol::{self, Event, Job};
use crate::model::child::{self, Group, Line, Next, STDERR_TAIL};
use crate::model::interpreter::Interpreter;
use crate::model::sampling::{Measure, Sampling};

/// The worker script (which also starts copies of itself from this text, see `Isolation::Process`).
pub const SOURCE: &str = include_str!("worker.py");

/// How a worker child ended.
pub enum Ending {
    Done,
    Died {
        status: ExitStatus,
        stderr: String,
    },
    /// No progress for `waited`, past the step's allowance (`allowance`); `expected_s` is how long
    /// the step should have taken, when it was known (timed by loop sizing, or planned).
    Hung {
        waited: Duration,
        allowed: Duration,
        expected_s: Option<f64>,
        stderr: String,
    },
    Interrupted,
}

/// How often the loop looks at the stop flag, the deadline and the child's status.
const TICK: Duration = Duration::from_millis(100);

/// How long a worker that has exited may still take to hand over its last events.
const GRACE: Duration = Duration::from_secs(1);

/// A step that loop sizing has timed is a hang once it takes this many times its expected length
/// (but never less than `HANG_FLOOR`).
const HANG_FACTOR: f64 = 50.0;
const HANG_FLOOR: Duration = Duration::from_secs(10);

/// No step is a hang before it has taken this many times its expected length, whatever
/// `--timeout` says: a value planned to take longer than the timeout is not a hang.
const HANG_MARGIN: f64 = 2.0;

/// How long a step should take, as far as the runner knows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expect {
    /// Timed by loop sizing (the worker's `expect_s`): a value, the warm-up.
    Measured(f64),
    /// Planned from the sampling before anything was timed: the empty loop's values, loop sizing.
    Planned(f64),
    /// Start-up, loading a build, counting under callgrind.
    Unknown,
}

impl Expect {
    /// What the step that `ev` announces should take. Loop sizing ends once a run takes
    /// `min_time` (each probe aims 20 % past it), the empty loop is sized so and then takes
    /// `values` runs of it; instruction counting has no time to plan from.
    pub fn of(ev: &Event, sampling: &Sampling) -> Expect {
        let Event::At { phase, expect_s, .. } = ev else { return Expect::Unknown };
        let min_time = sampling.min_time;
        match (expect_s, phase.as_str(), sampling.measure) {
            (Some(e), _, _) => Expect::Measured(*e),
            (None, "loop sizing", Measure::WallTime) => Expect::Planned(3.0 * min_time),
            (None, "overhead", Measure::WallTime) => Expect::Planned((sampling.values as f64 + 3.0) * min_time),
            _ => Expect::Unknown,
        }
    }

    pub fn seconds(self) -> Option<f64> {
        match self {
            Expect::Measured(e) | Expect::Planned(e) => Some(e),
            Expect::Unknown => None,
        }
    }
}

/// How long a step may go without progress before the worker counts as hung. A step timed by
/// loop sizing is a hang past `HANG_FACTOR` times its length (at least `HANG_FLOOR`), sooner
/// than `--timeout`; any step is given `--timeout`, or `HANG_MARGIN` times its length where that
/// is longer, so a long planned value is never taken for a hang.
pub fn allowance(expect: Expect, timeout: Duration) -> Duration {
    let at_least = |e: f64| Duration::try_from_secs_f64(e * HANG_MARGIN).map_or(Duration::MAX, |d| d.max(timeout));
    match expect {
        Expect::Measured(e) => {
            let early = Duration::try_from_secs_f64(e * HANG_FACTOR).map_or(Duration::MAX, |d| d.max(HANG_FLOOR));
            early.min(at_least(e))
        }
        Expect::Planned(e) => at_least(e),
        Expect::Unknown => timeout,
    }
}

/// The command that runs the worker: the interpreter itself, or valgrind around it.
fn command(interp: &Interpreter, measure: Measure, job: &Job) -> Command {
    let mut cmd = match (measure, job.sampling.callgrind_out) {
        (Measure::Instructions, Some(out)) => {
            let mut cmd = Command::new("valgrind");
            // Collect only inside bench_ext's region function; one profile part per region.
            cmd.args([
                "--tool=callgrind",
                "--collect-atstart=no",
                "--toggle-collect=abibench_callgrind_region",
                "--dump-after=abibench_callgrind_region",
                // Interpreters behind a launcher script exec the real binary.
                "--trace-children=yes",
            ])
            // No gdbserver: it would leave its FIFOs (vgdb-pipe-*) in the temporary directory.
            .arg("--vgdb=no")
            .arg(format!("--callgrind-out-file={}/cg.%p", out.display()))
            .args(&interp.argv)
            // Same hashes, same dict layouts, same instruction counts.
            .env("PYTHONHASHSEED", "0");
            cmd
        }
        _ => interp.command(),
    };
    cmd.args(["-s", "-B", "-c", SOURCE]);
    cmd
}

/// Pins the child to `cpus` before it execs, so whatever it runs inherits the pin (a launcher
/// script's interpreter, valgrind's client): a worker moved between CPUs mid-value loses its
/// caches, and one that shares a CPU with other work loses time slices.
fn pin(cmd: &mut Command, cpus: &[usize]) -> Result<()> {
    let mut set = CpuSet::new();
    for &c in cpus {
        set.set(c).with_context(|| format!("CPU {c} is beyond what this system can address"))?;
    }
    // SAFETY: the closure runs between fork and exec, where only async-signal-safe calls are
    // allowed: sched_setaffinity is a plain system call, and the set was built before the fork.
    unsafe {
        cmd.pre_exec(move || sched_setaffinity(Pid::from_raw(0), &set).map_err(std::io::Error::from));
    }
    Ok(())
}

/// Starts one worker, feeds it `job` and hands each event to `on_event` until it ends: done,
/// died, no progress within the step's allowance (hung), or stopped by `stop` (Ctrl-C). Returns
/// how it ended and how many lines of its event stream were not events of this job (ignored).
/// The worker's process group is killed and reaped however it ends.
pub fn run(
    interp: &Interpreter,
    sampling: &Sampling,
    job: &Job,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event),
) -> Result<(Ending, usize)> {
    let input = serde_json::to_vec(job)?;
    let mut cmd = command(interp, sampling.measure, job);
    if !sampling.affinity.is_empty() {
        pin(&mut cmd, &sampling.affinity)?;
    }
    let mut child = child::spawn(cmd, Some(&input), Group::Own).with_context(|| match sampling.measure {
        Measure::Instructions => format!("cannot start valgrind for {} (is valgrind installed?)", interp.name),
        Measure::WallTime => format!("cannot start {}", interp.name),
    })?;
    let timeout = Duration::from_secs_f64(sampling.timeout_s);
    let (mut last, mut expect) = (Instant::now(), Expect::Unknown);
    let (mut closed, mut exited, mut ignored) = (false, None, 0);
    let ending = loop {
        if stop.load(Ordering::SeqCst) {
            break Ending::Interrupted;
        }
        if exited.is_none() {
            exited = child.try_wait()?.map(|status| (status, Instant::now()));
        }
        match exited {
            // Its last events may still be in the pipe; a grandchild holding it open is not waited for.
            Some((status, at)) if closed || at.elapsed() > GRACE => {
                break Ending::Died { status, stderr: child.stderr_tail(STDERR_TAIL) }
            }
            Some(_) => {}
            None if last.elapsed() > allowance(expect, timeout) => {
                break Ending::Hung {
                    waited: last.elapsed(),
                    allowed: allowance(expect, timeout),
                    expected_s: expect.seconds(),
                    stderr: child.stderr_tail(STDERR_TAIL),
                };
            }
            None => {}
        }
        if closed {
            // Its output closed but it runs on: only the deadline or its exit ends the wait.
            std::thread::sleep(TICK);
            continue;
        }
        match child.next(TICK) {
            Next::Line(Line::Out(line)) => match protocol::parse(&line, job.token) {
                Some(Event::Done) => break Ending::Done,
                Some(ev) => {
                    (last, expect) = (Instant::now(), Expect::of(&ev, sampling));
                    on_event(ev);
                }
                None => ignored += 1,
            },
            Next::Line(Line::Err(_)) | Next::Quiet => {}
            Next::Closed => closed = true,
        }
    };
    child.kill();
    Ok((ending, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hang_is_judged_against_the_steps_planned_length() {
        let t = Duration::from_secs(120);
        let secs = |e| allowance(e, t).as_secs_f64();
        // A 2 ms value: a hang past 10 s, long before --timeout.
        assert_eq!(secs(Expect::Measured(0.002)), 10.0);
        // A 1 s value: 50 s.
        assert_eq!(secs(Expect::Measured(1.0)), 50.0);
        // A 3 s value: 150 s is past --timeout, which it gets.
        assert_eq!(secs(Expect::Measured(3.0)), 120.0);
        // A 100 s value (values × min-time above --timeout): twice its length, not --timeout.
        assert_eq!(secs(Expect::Measured(100.0)), 200.0);
        // Planned steps are never cut short of --timeout, and get twice their length past it.
        assert_eq!(secs(Expect::Planned(0.01)), 120.0);
        assert_eq!(secs(Expect::Planned(300.0)), 600.0);
        assert_eq!(secs(Expect::Unknown), 120.0);
        assert_eq!(allowance(Expect::Measured(f64::INFINITY), t), Duration::MAX);

        let mut sampling = crate::model::sampling::Level::Quick.sampling(Measure::WallTime);
        (sampling.values, sampling.min_time) = (5, 1.5);
        let at = |phase: &str, expect_s| Event::At { scenario: None, build: None, phase: phase.into(), expect_s };
        assert_eq!(Expect::of(&at("overhead", None), &sampling), Expect::Planned(12.0));
        assert_eq!(Expect::of(&at("loop sizing", None), &sampling), Expect::Planned(4.5));
        assert_eq!(Expect::of(&at("value", Some(1.6)), &sampling), Expect::Measured(1.6));
        assert_eq!(Expect::of(&at("load", None), &sampling), Expect::Unknown);
        sampling.measure = Measure::Instructions;
        assert_eq!(Expect::of(&at("overhead", None), &sampling), Expect::Unknown);
    }

    #[test]
    fn a_pinned_child_and_what_it_execs_run_on_the_given_cpu_only() {
        let mut cmd = Command::new("sh");
        // The grep is exec'd by the shell: the pin is inherited, not only set on the first process.
        cmd.args(["-c", "exec grep Cpus_allowed_list /proc/self/status"]);
        pin(&mut cmd, &[0]).unwrap();
        let out = cmd.output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).split_whitespace().last(), Some("0"), "{out:?}");
    }
}
