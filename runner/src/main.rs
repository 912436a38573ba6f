use clap::Parser;

use abibench::cli::{Cli, Command};
use abibench::{builds, calibrate, compare, matrix, native, provision, report};

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
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
