//! The one way abibench runs a child process (cargo, criterion, a worker, a matrix check): output
//! arrives line by line on a channel while the child runs, so a caller can show progress, notice
//! silence, or give up at a deadline, and a grandchild that keeps a pipe open never holds it up.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How many trailing lines of a child's stderr an error or a record keeps.
pub const STDERR_TAIL: usize = 30;

/// One line of a child's output, without its newline. Bytes that are not UTF-8 are replaced,
/// so one bad byte spoils one line, not the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Out(String),
    Err(String),
}

/// What `Running::next` saw.
#[derive(Debug)]
pub enum Next {
    Line(Line),
    /// Nothing within the wait.
    Quiet,
    /// Both pipes are closed: the child has ended (or closed them); `wait` gives its status.
    Closed,
}

/// A started child whose stdout and stderr are read on threads of their own.
pub struct Running {
    child: Child,
    group: Group,
    lines: Receiver<Line>,
    open_pipes: usize,
    stderr: Vec<String>,
}

/// Which process group a child runs in, which decides who a Ctrl-C at the terminal reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Its own: Ctrl-C reaches abibench only, which then ends the child (and its group) itself,
    /// so an interrupted measurement keeps what it finished.
    Own,
    /// The terminal's: Ctrl-C ends the child with abibench (cargo, criterion).
    Terminal,
}

/// Starts `cmd` with piped output (and `stdin` written then closed, if given).
pub fn spawn(mut cmd: Command, stdin: Option<&[u8]>, group: Group) -> Result<Running> {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if group == Group::Own {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", cmd.get_program().to_string_lossy()))?;
    if let Some(input) = stdin {
        // A child that exits without reading its input is reported by its status, not here.
        let _ = child.stdin.take().expect("piped").write_all(input);
    }
    let (tx, lines) = mpsc::channel();
    let forward = |pipe: Box<dyn Read + Send>, wrap: fn(String) -> Line| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            while matches!(reader.read_until(b'\n', &mut buf), Ok(1..)) {
                let text = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
                if tx.send(wrap(text)).is_err() {
                    break;
                }
                buf.clear();
            }
        });
    };
    forward(Box::new(child.stdout.take().expect("piped")), Line::Out);
    forward(Box::new(child.stderr.take().expect("piped")), Line::Err);
    Ok(Running { child, group, lines, open_pipes: 2, stderr: Vec::new() })
}

impl Running {
    /// The next line within `wait`. Stderr lines are also kept for `stderr_tail`.
    pub fn next(&mut self, wait: Duration) -> Next {
        if self.open_pipes == 0 {
            return Next::Closed;
        }
        match self.lines.recv_timeout(wait) {
            Ok(line) => {
                if let Line::Err(text) = &line {
                    self.stderr.push(text.clone());
                    if self.stderr.len() > 4 * STDERR_TAIL {
                        self.stderr.drain(..self.stderr.len() - STDERR_TAIL);
                    }
                }
                Next::Line(line)
            }
            Err(RecvTimeoutError::Timeout) => Next::Quiet,
            Err(RecvTimeoutError::Disconnected) => {
                self.open_pipes = 0;
                Next::Closed
            }
        }
    }

    /// The last `n` lines the child wrote to stderr.
    pub fn stderr_tail(&self, n: usize) -> String {
        self.stderr[self.stderr.len().saturating_sub(n)..].join("\n")
    }

    /// The child's status, if it has ended.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Waits for the child to end.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        Ok(self.child.wait()?)
    }

    /// Kills the child, with its whole process group if it leads one (a launcher script's
    /// interpreter, valgrind's client), and reaps it.
    pub fn kill(&mut self) {
        if self.group == Group::Own {
            // SAFETY: kill(2) with a negative pid signals only the group this child leads.
            unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The rest of the output once the child has ended, waiting at most `grace` for pipes that a
    /// grandchild may hold open.
    pub fn drain(&mut self, grace: Duration) -> Vec<Line> {
        let until = Instant::now() + grace;
        let mut rest = Vec::new();
        while let Next::Line(l) = self.next(until.saturating_duration_since(Instant::now())) {
            rest.push(l);
        }
        rest
    }
}

/// A child run to its end: its status (`None` when killed at the deadline) and all it wrote.
pub struct Finished {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` in a group of its own to its end or until `timeout`, collecting its output.
pub fn run(cmd: Command, timeout: Duration) -> Result<Finished> {
    let mut child = spawn(cmd, None, Group::Own)?;
    let deadline = Instant::now() + timeout;
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let mut keep = |l: Line| {
        let (Line::Out(t) | Line::Err(t)) = &l;
        let into = if matches!(l, Line::Out(_)) { &mut stdout } else { &mut stderr };
        into.push_str(t);
        into.push('\n');
    };
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            child.kill();
            break None;
        }
        if let Next::Line(l) = child.next(Duration::from_millis(10)) {
            keep(l);
        }
    };
    child.drain(Duration::from_secs(1)).into_iter().for_each(&mut keep);
    Ok(Finished { status, stdout, stderr })
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `killed by signal 11 (SIGSEGV)` or `exited with exit status: 3`.
pub fn describe(status: &ExitStatus) -> String {
    match status.signal() {
        Some(sig) => format!("killed by signal {sig} ({})", signal_name(sig)),
        None => format!("exited with {status}"),
    }
}

/// The usual name of a signal that ends a crashing or killed child (`SIG<n>` for the rest).
pub fn signal_name(sig: i32) -> String {
    match sig {
        4 => "SIGILL".into(),
        5 => "SIGTRAP".into(),
        6 => "SIGABRT".into(),
        7 => "SIGBUS".into(),
        8 => "SIGFPE".into(),
        9 => "SIGKILL".into(),
        11 => "SIGSEGV".into(),
        15 => "SIGTERM".into(),
        _ => format!("SIG{sig}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn output_status_and_bad_bytes_are_kept_line_by_line() {
        let f = run(sh("printf 'a\\n\\377b\\n'; echo err >&2; exit 3"), Duration::from_secs(10)).unwrap();
        assert_eq!(f.status.and_then(|s| s.code()), Some(3));
        assert_eq!(f.stdout, "a\n\u{fffd}b\n");
        assert_eq!(f.stderr, "err\n");
    }

    #[test]
    fn a_child_past_its_deadline_is_killed_with_its_group() {
        let start = Instant::now();
        // The grandchild `sleep` holds the pipes open; killing the group ends it too.
        let f = run(sh("sleep 30 & sleep 30"), Duration::from_millis(200)).unwrap();
        assert!(f.status.is_none());
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }

    #[test]
    fn lines_stream_and_stderr_keeps_its_tail() {
        let script = "read x; echo \"got $x\"; for i in 1 2 3; do echo e$i >&2; done";
        let mut c = spawn(sh(script), Some(b"in\n"), Group::Terminal).unwrap();
        let mut out = Vec::new();
        loop {
            match c.next(Duration::from_secs(10)) {
                Next::Line(Line::Out(t)) => out.push(t),
                Next::Line(Line::Err(_)) | Next::Quiet => {}
                Next::Closed => break,
            }
        }
        assert!(c.wait().unwrap().success());
        assert_eq!(out, ["got in"]);
        assert_eq!(c.stderr_tail(2), "e2\ne3");
        assert_eq!(tail("1\n2\n3", 2), "2\n3");
    }
}
