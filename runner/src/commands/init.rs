//! `abibench init --crate PATH`: builds the crate once, lists what its module offers, and writes a
//! starter scenario file into PATH/benches/abibench/ for the user to fill in.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::commands::args::{parse_selector, BuildArgs, CRATE_SCENARIOS};
use crate::commands::progress::build_with_progress;
use crate::export::format::printable;
use crate::model::build::failure_headline;
use crate::model::scenario::starter::{self, Entry};
use crate::model::version::Selector;
use crate::setup::builds::BuildRequest;
use crate::setup::interpreters;
use crate::setup::introspect::callables;
use crate::setup::krate::resolve_crate;
use crate::setup::paths::cache_root;
use crate::setup::toolchain;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The crate or maturin project to write scenarios for.
    #[arg(long = "crate", value_name = "PATH")]
    pub krate: PathBuf,
    /// The interpreter to build and import the module with. Default: the newest found that is
    /// not free-threaded.
    #[arg(long, value_name = "PATH|VERSION", value_parser = parse_selector)]
    pub python: Option<Selector>,
    /// Where to write the file. Default: PATH/benches/abibench/<module>.toml. An existing file is
    /// never replaced.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub build: BuildArgs,
}

pub fn run(args: &InitArgs) -> Result<()> {
    let recipe = resolve_crate(&args.krate)?;
    let subject = recipe.subject.krate().expect("a crate's recipe names it");
    let out = args.out.clone().unwrap_or_else(|| {
        subject.path.join(CRATE_SCENARIOS).join(format!("{}.toml", starter::slug(recipe.module_leaf())))
    });
    if out.exists() {
        bail!("{} exists; init never replaces a scenario file (pass --out for another name)", out.display());
    }
    let mut found = interpreters::discover(args.python.as_slice())?;
    found.retain(|i| recipe.subject.supported().is_none_or(|s| s.admits(i.version)));
    // Newest first, free-threaded last: the first one this PyO3 version can build for is used.
    found.sort_by_key(|i| (!i.gil_disabled, i.version));
    found.reverse();
    let tc = toolchain::probe()?;
    let mut failures = Vec::new();
    let mut listed = None;
    for interp in &found {
        // The build users of this interpreter would get, or the crate's own floor if it forces one.
        let Some(mode) =
            recipe.subject.modes().into_iter().find(|m| recipe.subject.refuses(*m).is_none() && m.fits(interp).is_ok())
        else {
            continue;
        };
        eprintln!(
            "abibench init: building {} ({mode}) for {} to see what {} offers",
            subject.title(),
            interp.name,
            recipe.module
        );
        let request = BuildRequest { mode, interpreter: Some(interp.clone()), layout: 0 };
        let build = build_with_progress(&[request], &tc, &recipe, &cache_root()?, args.build.limit())?.remove(0);
        match build.artifact() {
            Some(artifact) => {
                let root = artifact.ancestors().nth(recipe.module.split('.').count()).expect("under its root");
                listed = Some(callables(interp, root, &recipe.module)?);
                break;
            }
            None => {
                failures.push(format!("{}: {}", interp.name, failure_headline(build.failure().unwrap_or_default())))
            }
        }
    }
    let Some(found) = listed else {
        bail!(
            "{} could not be built for any interpreter found that it supports:\n  {}",
            subject.distribution,
            failures.join("\n  ")
        );
    };
    if found.is_empty() {
        bail!("{} has no public function or class to time (nothing without a leading '_')", recipe.module);
    }
    let entries: Vec<Entry> = found.iter().map(|c| Entry { name: &c.name, class: c.class, doc: &c.doc }).collect();
    let text = starter::render(&subject.distribution, &recipe.module, &entries);
    std::fs::create_dir_all(out.parent().context("--out has a directory")?)?;
    std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} with {} scenario(s), one per public function and class of {}:",
        out.display(),
        found.len(),
        recipe.module
    );
    for c in &found {
        println!("  {}{}", printable(&c.name), if c.class { " (class)" } else { "" });
    }
    println!(
        "Now fill in, for each scenario: `stmt` (a call your users make, with real arguments; replace the TODO), \
         `setup` (the objects it needs), `n` if one stmt does several operations, and a `channel` if you want \
         costs by kind of call. Delete the ones you do not need. Then:\n  abibench compare --crate {}",
        subject.path.display()
    );
    Ok(())
}
