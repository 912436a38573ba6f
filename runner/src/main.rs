use clap::Parser;

use abibench::commands::{self, cli::Cli};

fn main() {
    let code = commands::run(Cli::parse()).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        2
    });
    std::process::exit(code);
}
