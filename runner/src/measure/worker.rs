//! One worker child: `worker.py` in the interpreter under test (under callgrind when counting
//! instructions), fed a job, its events handed over as they come until it ends.

use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::measure::protocol::{Event, Job};
use crate::model::child::{self, Group, Line, Next, STDERR_TAIL};
use crate::model::interpreter::Interpreter;
use crate::model::sampling::{Measure, Sampling};

const WORKER: &str = include_str!("worker.py");

/// How a worker child ended.
pub enum Ending {
    Done,
    Died { status: ExitStatus, stderr: String },
    Hung { stderr: String },
    Interrupted,
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
            .arg(format!("--callgrind-out-file={}/cg.%p", out.display()))
            .args(&interp.argv)
            // Same hashes, same dict layouts, same instruction counts.
            .env("PYTHONHASHSEED", "0");
            cmd
        }
        _ => interp.command(),
    };
    cmd.args(["-s", "-B", "-c", WORKER]);
    cmd
}

/// Starts one worker, feeds it `job` and hands each event to `on_event` until it ends: done,
/// died, silent for `sampling.timeout_s` (hung), or stopped by `stop` (Ctrl-C).
pub fn run(
    interp: &Interpreter,
    sampling: &Sampling,
    job: &Job,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event),
) -> Result<Ending> {
    let input = serde_json::to_vec(job)?;
    let mut child = child::spawn(command(interp, sampling.measure, job), Some(&input), Group::Own).with_context(
        || match sampling.measure {
            Measure::Instructions => format!("cannot start valgrind for {} (is valgrind installed?)", interp.name),
            Measure::WallTime => format!("cannot start {}", interp.name),
        },
    )?;
    let timeout = Duration::from_secs_f64(sampling.timeout_s);
    let mut last = Instant::now();
    let ending = loop {
        if stop.load(Ordering::SeqCst) {
            break Ending::Interrupted;
        }
        match child.next(Duration::from_millis(200)) {
            Next::Line(Line::Out(line)) => {
                last = Instant::now();
                match serde_json::from_str::<Event>(&line) {
                    Ok(Event::Done) => break Ending::Done,
                    Ok(ev) => on_event(ev),
                    // Stray prints from the timed code are not events; they are ignored.
                    Err(_) => {}
                }
            }
            Next::Line(Line::Err(_)) => {}
            Next::Closed => {
                let status = child.wait()?;
                return Ok(Ending::Died { status, stderr: child.stderr_tail(STDERR_TAIL) });
            }
            Next::Quiet if last.elapsed() > timeout => {
                child.kill();
                return Ok(Ending::Hung { stderr: child.stderr_tail(STDERR_TAIL) });
            }
            Next::Quiet => {}
        }
    };
    child.kill();
    Ok(ending)
}
