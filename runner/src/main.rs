use clap::Parser;

use abibench::commands::{self, cli::Cli};
use abibench::export::format::printable;

fn main() {
    let code = commands::run(Cli::parse()).unwrap_or_else(|e| {
        eprintln!("error: {}", printable(&format!("{e:#}")));
        2
    });
    std::process::exit(code);
}
