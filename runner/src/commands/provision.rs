//! `abibench provision`: get the interpreters a comparison needs but this machine lacks into
//! abibench's cache, and say where each version stands.

use anyhow::Result;
use clap::Args;

use crate::commands::args::parse_target;
use crate::model::interpreter::Interpreter;
use crate::model::version::Target;
use crate::setup::interpreters;
use crate::setup::paths::cache_root;
use crate::setup::provision::{condensed, default_range, extras, provision, Outcome};

#[derive(Args, Debug)]
pub struct ProvisionArgs {
    /// Only these versions, comma-separated or repeated: 3.15, or 3.13t for free-threaded.
    /// Default: 3.8 to 3.15 and 3.13t, plus 3.14t and 3.15t where this machine can get them.
    #[arg(long, value_name = "VERSIONS", value_delimiter = ',', value_parser = parse_target)]
    pub only: Vec<Target>,
    /// Show which versions are present and which missing; change nothing.
    #[arg(long)]
    pub list: bool,
}

/// Provisions `--only` (default: the default range and the extras) and prints where each target
/// stands. Exit code 1 when a target asked for (not an extra) is missing.
pub fn run(args: &ProvisionArgs) -> Result<i32> {
    let (only, list) = (&args.only, args.list);
    let targets: Vec<Target> =
        if only.is_empty() { default_range().into_iter().chain(extras()).collect() } else { only.to_vec() };
    let optional = |t: &Target| only.is_empty() && extras().contains(t);
    let outcomes = if list {
        let present = interpreters::discover_all()?;
        targets
            .iter()
            .map(|t| match present.iter().find(|i| i.is(t)) {
                Some(i) => (*t, Outcome::Present(i.clone())),
                None => (*t, Outcome::Failed(Vec::new())),
            })
            .collect()
    } else {
        provision(&targets, &cache_root()?, &|l| eprintln!("{l}"))?
    };
    let mut failed_required = false;
    let mut unavailable = Vec::new();
    for (t, outcome) in &outcomes {
        let shown = |i: &Interpreter| {
            let argv: Vec<String> = i.argv.iter().map(|a| a.display().to_string()).collect();
            format!("{:<10} {:<40} {}", i.name, i.provenance.to_string(), argv.join(" "))
        };
        match outcome {
            Outcome::Present(i) => println!("{:<6} present      {}", t.to_string(), shown(i)),
            Outcome::Provisioned { interpreter, seconds } => {
                println!("{:<6} provisioned  {} ({seconds:.0} s)", t.to_string(), shown(interpreter))
            }
            Outcome::Failed(reasons) => {
                println!(
                    "{:<6} {}  {}",
                    t.to_string(),
                    if list { "missing    " } else { "unavailable" },
                    condensed(reasons)
                );
                failed_required |= !optional(t);
                unavailable.push(t.to_string());
            }
        }
    }
    if !list && !unavailable.is_empty() {
        println!("cannot be had on this machine: {} (every route failed, as shown above)", unavailable.join(", "));
    }
    Ok(if failed_required && !list { 1 } else { 0 })
}
