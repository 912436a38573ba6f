use clap::Parser;

use abibench::cli::{Cli, Command, HistoryCommand};
use abibench::{builds, calibrate, compare, gate, history, matrix, merge, native, provision, report};

fn main() {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Compare(args) => compare::run(&args),
        Command::Report(args) => report::run(&args).map(|()| 0),
        Command::List(args) => compare::list(&args).map(|()| 0),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Provision(args) => provision::command(&args.only, args.list, &builds::cache_root()),
        Command::Show { file, style } => compare::show(file, style.ascii).map(|()| 0),
        Command::Matrix(args) => matrix::run(&args),
        Command::LinkCheck { libpython, build } => matrix::link_check_main(&libpython, &build).map(|()| 0),
        Command::Native(args) => native::run(&args).map(|_| 0),
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
