use clap::Parser;

use abibench::cli::{Cli, Command};
use abibench::{compare, report};

fn main() {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Compare(args) => compare::run(&args),
        Command::Report(args) => report::run(&args).map(|()| 0),
        Command::List(args) => compare::list(&args).map(|()| 0),
        Command::Show { file, style } => compare::show(file, style.ascii).map(|()| 0),
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
