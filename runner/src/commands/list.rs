//! `abibench list`: what `compare` would use — interpreters, modes and where they fit, scenarios —
//! without building anything.

use anyhow::Result;

use crate::commands::args::SelectArgs;
use crate::setup::selection;

pub fn run(args: &SelectArgs) -> Result<()> {
    let recipe = args.targets.recipe()?;
    let sel = selection::select(&args.choice(&recipe)?, None)?;
    if let Some(s) = &recipe.subject {
        println!("crate: {} at {}; module {}", s.title(), s.path.display(), s.module);
        if let Some(f) = s.forced_floor {
            println!("  its Cargo.toml turns on abi3 from {f}: lower modes cannot be built");
        }
    }
    println!("interpreters:");
    for i in &sel.interpreters {
        println!(
            "  {:<10} {:<28} {}{} {}",
            i.name,
            i.soabi,
            i.provenance,
            if i.gil_disabled { " free-threaded" } else { "" },
            i.argv.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(" ")
        );
    }
    println!("modes:");
    for m in &sel.modes {
        let fits: Vec<&str> = sel.interpreters.iter().filter(|i| m.fits(i).is_ok()).map(|i| i.name.as_str()).collect();
        println!(
            "  {:<12} fits: {}",
            m.name(),
            if fits.is_empty() { "none of the selected".into() } else { fits.join(", ") }
        );
    }
    println!("scenarios:");
    for g in &sel.groups {
        println!("  {} ({}, {:?}): {}", g.name, g.file.display(), g.kind, g.title);
        for s in &g.scenarios {
            println!("    {:<36} {}", s.name, s.description);
        }
    }
    Ok(())
}
