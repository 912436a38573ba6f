//! Commands: one module per subcommand, wiring the stages together. The only layer that prints
//! (stdout for results, stderr for progress and notes) and the only one that knows clap (`cli`).

mod args;
pub mod calibrate;
pub mod check;
pub mod cli;
pub mod compare;
pub mod export;
pub mod history;
pub mod init;
mod interrupt;
pub mod list;
pub mod matrix;
pub mod merge;
pub mod native;
mod progress;
pub mod provision;
mod pytest;
pub mod report;
pub mod reproduce;
pub mod show;
pub mod system;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::export::format::printable;
use crate::model::io::latest;
use crate::model::results::{Results, RunStatus};
use cli::{Cli, Command, HistoryCommand};

/// Runs one parsed command line; the exit code (see each command's `--help`).
pub fn run(cli: Cli) -> Result<i32> {
    interrupt::install()?;
    let done = |r: Result<()>| r.map(|()| 0);
    match cli.command {
        Command::Compare(args) => compare::run(&args),
        Command::Report(args) => done(report::run(&args)),
        Command::Reproduce(args) => done(reproduce::run(&args)),
        Command::List(args) => done(list::run(&args)),
        Command::Init(args) => done(init::run(&args)),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Provision(args) => provision::run(&args),
        Command::Export(args) => done(export::run(&args)),
        Command::System(style) => done(system::run(&style)),
        Command::Show { file, style } => done(show::run(file, style.ascii)),
        Command::Matrix(args) => matrix::run(&args),
        Command::LinkCheck { libpython, build } => done(matrix::link_check(&libpython, &build)),
        Command::Native(args) => done(native::run(&args)),
        Command::Check(args) => check::run(&args),
        Command::Merge { files, out } => done(merge::run(&files, &out)),
        Command::History(HistoryCommand::List { dir }) => done(history::list(&dir)),
        Command::History(HistoryCommand::Add { file, dir }) => done(history::add(&file, &dir)),
        Command::History(HistoryCommand::Plot { dir, out }) => done(history::plot(&dir, &out)),
    }
}

/// Plain ASCII tables when asked, or when stdout is not a terminal (logs, CI).
fn ascii(asked: bool) -> bool {
    asked || !std::io::stdout().is_terminal()
}

/// The results file a command reads when none is named: the newest under `results/`.
fn results_file(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => latest(Path::new("results"), ""),
    }
}

/// Reads a results file, saying so when its run did not finish: its missing cells are not
/// regressions or gaps of the tool, and the reader should know before reading the tables.
fn read_results(path: &Path) -> Result<Results> {
    let r = Results::read(path)?;
    let why = match r.run.status {
        RunStatus::Complete => return Ok(r),
        RunStatus::Interrupted => "was interrupted",
        RunStatus::Running => "never finished (it is still running, or was killed)",
        RunStatus::Abandoned => "was abandoned (its abibench was killed)",
    };
    let note = format!(
        "note: {}: run {} {why}; status \"{}\": cells it did not reach are missing",
        path.display(),
        r.run.id,
        r.run.status.name()
    );
    eprintln!("{}", printable(&note));
    Ok(r)
}
