use clap::Parser;

use abibench::cli::{Cli, Command, HistoryCommand};
use abibench::{compare, gate, history, merge};

fn main() {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Compare(args) => compare::run(&args),
        Command::List(args) => compare::list(&args).map(|()| 0),
        Command::Show { file, style } => compare::show(file, style.ascii).map(|()| 0),
        Command::Check(args) => gate::check(&args),
        Command::Merge { files, out } => merge::command(&files, &out).map(|()| 0),
        Command::History(HistoryCommand::List { dir }) => history::list(&dir).map(|()| 0),
        Command::History(HistoryCommand::Add { file, dir }) => history::add_command(&file, &dir).map(|()| 0),
        Command::History(HistoryCommand::Plot { dir, out }) => history::plot(&dir, &out).map(|()| 0),
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
