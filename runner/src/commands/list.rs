//! `abibench list`: what `compare` would use — interpreters, modes and where they fit, scenarios —
//! without building anything.

use std::fmt::Write;

use anyhow::Result;

use crate::commands::args::SelectArgs;
use crate::export::format::printable;
use crate::setup::selection;

pub fn run(args: &SelectArgs) -> Result<()> {
    let recipe = args.targets.recipe()?;
    let sel = selection::select(&args.choice(&recipe)?, None)?;
    // Names, titles and descriptions come from scenario files: shown, never obeyed (`printable`).
    let mut out = String::new();
    if let Some(s) = &recipe.subject {
        let _ = writeln!(out, "crate: {} at {}; module {}", s.title(), s.path.display(), s.module);
        if let Some(f) = s.forced_floor {
            let _ = writeln!(out, "  its Cargo.toml turns on abi3 from {f}: lower modes cannot be built");
        }
    }
    let _ = writeln!(out, "interpreters:");
    for i in &sel.interpreters {
        let _ = writeln!(
            out,
            "  {:<10} {:<28} {}{} {}",
            i.name,
            i.soabi,
            i.provenance,
            if i.gil_disabled { " free-threaded" } else { "" },
            i.argv.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(" ")
        );
    }
    let _ = writeln!(out, "modes:");
    for m in &sel.modes {
        let fits: Vec<&str> = sel.interpreters.iter().filter(|i| m.fits(i).is_ok()).map(|i| i.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  {:<12} fits: {}",
            m.name(),
            if fits.is_empty() { "none of the selected".into() } else { fits.join(", ") }
        );
    }
    let _ = writeln!(out, "scenarios:");
    for g in &sel.groups {
        let _ = writeln!(out, "  {} ({}, {:?}): {}", g.name, g.file.display(), g.kind, g.title);
        for s in &g.scenarios {
            let _ = writeln!(out, "    {:<36} {}", s.name, s.description);
        }
    }
    print!("{}", printable(&out));
    Ok(())
}
