//! The one way abibench runs a child process (cargo, criterion, a worker, a matrix check): output
//! arrives line by line on a channel while the child runs, so a caller can show progress, notice
//! silence, or give up at a deadline, and a grandchild that keeps a pipe open never holds it up.
//! No child outlives abibench: every one is registered until reaped, and `kill_all` (on a signal
//! or a panic) or dropping its `Running` kills it with its group; a child in a group of its own
//! also has a watchdog that kills the group when abibench dies without doing so (SIGKILL).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::RawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How many trailing lines of a child's stderr an error or a record keeps.
pub const STDERR_TAIL: usize = 30;

/// The longest stdout line handed over whole: a worker's event, which carries every value of a
/// cell (about 20 bytes each), so a long line must not cut a measured cell in pieces.
const MAX_OUT_LINE: u64 = 64 << 20;

/// The longest stderr line handed over whole.
const MAX_ERR_LINE: u64 = 1 << 20;

/// How much of each stderr line is kept for `stderr_tail`: a record quotes the tail, and a flood
/// of output without newlines must not become megabytes of every failed cell.
const KEPT_LINE: usize = 512;

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

/// A started child whose stdout and stderr are read on threads of their own. Dropped before it
/// is reaped, it is killed (with its group) and reaped.
pub struct Running {
    child: Child,
    group: Group,
    lines: Receiver<Line>,
    open_pipes: usize,
    stderr: Vec<String>,
    reaped: bool,
}

/// The children started and not yet reaped, and whether abibench is on its way out.
struct Live {
    children: Vec<(u32, Group)>,
    closing: bool,
}

static LIVE: Mutex<Live> = Mutex::new(Live { children: Vec::new(), closing: false });

fn live() -> std::sync::MutexGuard<'static, Live> {
    // A panic while holding the lock leaves plain data behind; it is still right.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// SIGKILL to `pid`, and to its whole group if it leads one (a launcher script's interpreter,
/// valgrind's client, whatever the timed code started).
fn kill_pid(pid: u32, group: Group) {
    // SAFETY: kill(2) on a pid we started and have not reaped (a negative pid: its group only).
    unsafe {
        if group == Group::Own {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// Kills every child still running, with its group; children started afterwards are killed at
/// once. For a process about to exit (a second Ctrl-C, SIGTERM, a panic): without it, a worker in
/// its own group would outlive abibench, reparented to init and spinning. Each is reaped by its
/// owner's `wait`, or by init once abibench has exited (reaping here would race with the owner).
pub fn kill_all() {
    let mut live = live();
    live.closing = true;
    for (pid, group) in live.children.drain(..) {
        kill_pid(pid, group);
    }
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
        let read = watch_pipe()?;
        // SAFETY: `watchdog` makes only async-signal-safe calls (fork, close_range, read, kill,
        // _exit), as the time between fork and exec requires.
        unsafe { cmd.pre_exec(move || watchdog(read)) };
    }
    let mut child = {
        let mut live = live();
        let child = cmd.spawn().with_context(|| format!("cannot start {}", cmd.get_program().to_string_lossy()))?;
        if live.closing {
            kill_pid(child.id(), group);
        }
        live.children.push((child.id(), group));
        child
    };
    if let Some(input) = stdin {
        // On a thread: a child that does not read its input must not block abibench. One that
        // exits without reading it is reported by its status, not here.
        let (mut pipe, input) = (child.stdin.take().expect("piped"), input.to_vec());
        std::thread::spawn(move || pipe.write_all(&input));
    }
    let (tx, lines) = mpsc::channel();
    let forward = |pipe: Box<dyn Read + Send>, wrap: fn(String) -> Line, max_line: u64| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            // A longer line is handed over in pieces: output without newlines cannot grow without bound.
            while matches!((&mut reader).take(max_line).read_until(b'\n', &mut buf), Ok(1..)) {
                let text = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
                if tx.send(wrap(text)).is_err() {
                    break;
                }
                buf.clear();
            }
        });
    };
    forward(Box::new(child.stdout.take().expect("piped")), Line::Out, MAX_OUT_LINE);
    forward(Box::new(child.stderr.take().expect("piped")), Line::Err, MAX_ERR_LINE);
    Ok(Running { child, group, lines, open_pipes: 2, stderr: Vec::new(), reaped: false })
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
                    self.stderr.push(shorten(text, KEPT_LINE));
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
        self.kill_group_if_exited(false);
        let status = self.child.try_wait()?;
        if status.is_some() {
            self.reaped();
        }
        Ok(status)
    }

    /// Waits for the child to end.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        self.kill_group_if_exited(true);
        let status = self.child.wait()?;
        self.reaped();
        Ok(status)
    }

    /// Waits at most `limit` for the child to end (one that closed its output may live on).
    pub fn wait_for(&mut self, limit: Duration) -> Result<Option<ExitStatus>> {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= until {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Once a group leader has exited, kills what it left running in its group, before the
    /// leader is reaped: until then its pid, and so the group's id, cannot be reused, so the
    /// signal cannot reach another group (another worker, under `--jobs`).
    fn kill_group_if_exited(&self, block: bool) {
        if self.reaped || self.group != Group::Own {
            return;
        }
        let pid = self.child.id();
        // SAFETY: a zeroed siginfo_t is a valid out-parameter; WNOWAIT leaves the child unreaped.
        let exited = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let flags = libc::WEXITED | libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) == 0 && info.si_pid() != 0
        };
        if exited {
            // SAFETY: the group's id is held by the unreaped leader (see above).
            unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
        }
    }

    fn reaped(&mut self) {
        self.reaped = true;
        let pid = self.child.id();
        live().children.retain(|(p, _)| *p != pid);
    }

    /// Kills the child, with its whole process group if it leads one (a launcher script's
    /// interpreter, valgrind's client), and reaps it.
    pub fn kill(&mut self) {
        // A reaped leader's group was killed as it was reaped (`kill_group_if_exited`).
        if !self.reaped {
            kill_pid(self.child.id(), self.group);
            let _ = self.wait();
        }
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

impl Drop for Running {
    fn drop(&mut self) {
        // An error or a panic unwinding past a running child: it must not outlive its owner.
        if !self.reaped {
            self.kill();
        }
    }
}

/// The read end of the watchdogs' pipe. Nothing ever writes to it: abibench holds the write end
/// (close-on-exec, so no child keeps it) until it dies, and the end of file then tells every
/// watchdog that abibench is gone, however it went.
fn watch_pipe() -> Result<RawFd> {
    static PIPE: OnceLock<RawFd> = OnceLock::new();
    if let Some(&read) = PIPE.get() {
        return Ok(read);
    }
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot create the children's watchdog pipe");
    }
    // Both ends stay open for abibench's life; a racing first spawn's pair is closed again.
    let read = *PIPE.get_or_init(|| fds[0]);
    if read != fds[0] {
        // SAFETY: the pair was just created here and handed to no one.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
    Ok(read)
}

/// Runs in the child between fork and exec, in its new process group: forks a watchdog that
/// keeps no descriptor but the pipe's read end, waits for its end of file (abibench has died
/// without ending this group: `kill_all` and `Running::kill` end the watchdog with the group),
/// then kills the whole group, itself included. A worker spinning in timed code, and whatever
/// it started, so never outlives a SIGKILLed abibench. (PR_SET_PDEATHSIG would end the child
/// alone, and only when the thread that started it ends.)
///
/// # Safety
/// Only between fork and exec: the watchdog never returns into the forked copy of abibench.
unsafe fn watchdog(read: RawFd) -> std::io::Result<()> {
    match libc::fork() {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            // Another thread's child's pipes, abibench's files: held here, they would keep a
            // pipe from closing or a file from being freed. Everything but the read end goes.
            let (read, last) = (read as libc::c_uint, libc::c_uint::MAX);
            if read > 0 {
                libc::close_range(0, read - 1, 0);
            }
            libc::close_range(read + 1, last, 0);
            let mut byte = 0u8;
            loop {
                // A stray byte or EINTR: keep waiting. End of file, or any other error, ends it.
                match libc::read(read as RawFd, (&mut byte as *mut u8).cast(), 1) {
                    0 => break,
                    n if n < 0 && *libc::__errno_location() != libc::EINTR => break,
                    _ => {}
                }
            }
            libc::kill(0, libc::SIGKILL);
            libc::_exit(0)
        }
        _ => Ok(()),
    }
}

/// `text` cut to at most `max` bytes (at a character boundary), saying how much was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} … ({} more bytes cut)", &text[..end], text.len() - end)
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
        // 3 MiB without a newline: one line on stdout (an event may be that long), three of at
        // most MAX_ERR_LINE bytes on stderr.
        let f = run(sh("head -c 3145728 /dev/zero | tr '\\0' x | tee /dev/stderr"), Duration::from_secs(10)).unwrap();
        assert_eq!(f.stdout.lines().map(str::len).collect::<Vec<_>>(), [3 << 20]);
        assert_eq!(f.stderr.lines().map(str::len).collect::<Vec<_>>(), [MAX_ERR_LINE as usize; 3]);
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
        // A flood without newlines keeps a bounded tail.
        let mut c = spawn(sh("head -c 5000000 /dev/zero | tr '\\0' x >&2"), None, Group::Own).unwrap();
        while !matches!(c.next(Duration::from_secs(10)), Next::Closed) {}
        assert!(c.wait().unwrap().success());
        assert!(c.stderr_tail(STDERR_TAIL).len() < STDERR_TAIL * (KEPT_LINE + 40), "{}", c.stderr_tail(1).len());
        assert_eq!(shorten("abcdé", 4), "abcd … (2 more bytes cut)");
        assert_eq!(shorten("abcdé", 5), "abcd … (2 more bytes cut)");
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(tail("1\n2\n3", 2), "2\n3");
    }

    #[test]
    fn a_dropped_child_is_killed_with_its_group_and_reaped() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // The grandchild writes its pid, then both sleep: neither may survive the drop.
        let script = format!("sleep 600 & echo $! > {0}; echo $$ >> {0}; wait", pids.display());
        let c = spawn(sh(&script), None, Group::Own).unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&pids).map_or(true, |t| t.lines().count() < 2) {
            assert!(Instant::now() < until, "the child did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(c);
        // A killed grandchild may stay a zombie of init's for a while: dead all the same.
        let running = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
        };
        for pid in std::fs::read_to_string(&pids).unwrap().lines() {
            let until = Instant::now() + Duration::from_secs(5);
            while running(pid) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(!running(pid), "pid {pid} survived");
        }
    }
}
