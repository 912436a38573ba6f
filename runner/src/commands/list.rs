//! `abibench list`: what `compare` would use — interpreters, modes and where they fit, scenarios —
//! without building anything.

use anyhow::Result;
use clap::Args;

use crate::commands::args::SelectArgs;
use crate::export::format::printable;
use crate::setup::selection;

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Accepted as `compare` takes it, so that one command line serves both; `list` never
    /// provisions: it shows the interpreters already there.
    #[arg(long)]
    pub no_provision: bool,
}

pub fn run(args: &ListArgs) -> Result<()> {
    let recipe = args.select.targets.recipe()?;
    let sel = selection::select(&args.select.choice(&recipe)?, None)?;
    // Names, titles and descriptions come from scenario files: shown, never obeyed (`printable`).
    let mut out: Vec<String> = Vec::new();
    if let Some(s) = recipe.subject.krate() {
        let package = if s.name == s.distribution { String::new() } else { format!(", cargo package {}", s.name) };
        out.push(format!("crate: {} at {}; module {}{package}", s.title(), s.path.display(), s.module));
        if let Some(v) = &s.supported {
            out.push(format!("  supports Python {v}: from {}; up to {}", v.oldest_from, v.newest_from));
        }
        if let Some(f) = s.forced_floor {
            out.push(format!("  its Cargo.toml turns on abi3 from {f}: lower modes cannot be built"));
        }
    }
    for n in &sel.notes {
        out.push(format!("note: {n}"));
    }
    out.push("interpreters:".to_string());
    for i in &sel.interpreters {
        out.push(format!(
            "  {:<10} {:<28} {}{} {}",
            i.name,
            i.soabi,
            i.provenance,
            if i.gil_disabled { " free-threaded" } else { "" },
            i.argv.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(" ")
        ));
    }
    out.push("modes:".to_string());
    for m in &sel.modes {
        let fits: Vec<&str> = sel.interpreters.iter().filter(|i| m.fits(i).is_ok()).map(|i| i.name.as_str()).collect();
        out.push(format!(
            "  {:<12} fits: {}",
            m.name(),
            if fits.is_empty() { "none of the selected".into() } else { fits.join(", ") }
        ));
    }
    out.push("scenarios:".to_string());
    for g in &sel.groups {
        out.push(format!("  {} ({}, {:?}): {}", g.name, g.file.display(), g.kind, g.title));
        for s in &g.scenarios {
            out.push(format!("    {:<36} {}", s.name, s.description));
        }
    }
    let ops = crate::analysis::costs::operations(&sel.groups);
    out.push("operations (what --workload counts a call in; a crate's scenarios are its own):".to_string());
    for o in &ops {
        let how = match &o.minus {
            Some(m) => {
                format!("{} less {}{}", o.path, m, if o.per > 1 { format!(", per {}", o.per) } else { String::new() })
            }
            None => o.path.clone(),
        };
        out.push(format!("  {:<18} {} ({how})", o.key, o.label));
    }
    for line in out {
        println!("{}", printable(&line));
    }
    Ok(())
}
