//! `abibench calibrate`: an A/A test of this machine. The same build is loaded twice in one
//! worker, as "A" and "B" (or, `--across-layouts`, two layout variants of it), and measured
//! exactly as `compare` measures modes (interleaved, paired); `analysis::aa` judges it.

use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::analysis::aa;
use crate::analysis::settle::Ratios;
use crate::commands::args::{BuildArgs, LevelArgs, SelectArgs};
use crate::commands::ascii;
use crate::commands::progress::Progress;
use crate::commands::system;
use crate::export::format::printable;
use crate::export::table::render_aa;
use crate::measure::driver;
use crate::measure::plan::{Plan, PlannedBuild};
use crate::model::mode::Mode;
use crate::model::sampling::Measure;
use crate::model::scenario::Kind;
use crate::model::system::Readings;
use crate::setup::builds::{build_all, layout_variants, BuildRequest};
use crate::setup::paths::cache_root;
use crate::setup::selection::{self, Choice};
use crate::setup::toolchain;

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub level: LevelArgs,
    #[command(flatten)]
    pub build: BuildArgs,
    /// Seed for the interleaving order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Compare two layout variants of the unlimited build (functions shuffled with seeds 1 and 2)
    /// instead of one build with itself: the false-difference rate that code placement adds.
    #[arg(long)]
    pub across_layouts: bool,
}

pub fn run(args: &CalibrateArgs) -> Result<i32> {
    let recipe = args.select.targets.recipe()?;
    if !recipe.subject.is_bench_ext() {
        bail!("calibrate is an A/A test of this machine with abibench's own extension; drop --crate");
    }
    let choice = Choice { modes: vec![Mode::Unlimited], ..args.select.choice(&recipe)? };
    let mut sel = selection::select(&choice, None)?;
    if args.select.scenario.is_empty() {
        // By default the chatty scenarios: the ones whose small differences matter.
        sel.groups.retain(|g| g.kind == Kind::Chatty);
    }
    let sampling = args.level.sampling(Measure::WallTime);
    // Same build: each layout variant loaded twice. Across layouts: A and B are disjoint sets of
    // shuffled variants, as two modes' builds are disjoint binaries.
    let (a, b): (Vec<u32>, Vec<u32>) = if args.across_layouts {
        let k = sampling.layouts;
        ((1..=k).collect(), (k + 1..=2 * k).collect())
    } else {
        (layout_variants(sampling.layouts), layout_variants(sampling.layouts))
    };
    let mut variants = [a.clone(), b.clone()].concat();
    variants.sort();
    variants.dedup();
    let requests: Vec<BuildRequest> = sel
        .interpreters
        .iter()
        .flat_map(|i| {
            variants.iter().map(|&layout| BuildRequest { mode: Mode::Unlimited, interpreter: Some(i.clone()), layout })
        })
        .collect();
    let records = build_all(&requests, &toolchain::probe()?, &recipe, &cache_root()?, args.build.limit(), &|_| {})?;
    // After the builds, which load the machine themselves.
    system::warn(&Readings::sampled(std::time::Duration::from_secs(1)).judge());
    let scratch = tempfile::tempdir()?;
    // B measured against A until settled, as `compare` measures modes against unlimited.
    let settle = Ratios::of(&sampling);
    let scenarios: Vec<_> = sel.groups.iter().flat_map(|g| &g.scenarios).collect();
    let stop = AtomicBool::new(false);
    let per_interpreter = scenarios.len() * (a.len() + b.len()) * sampling.processes;
    let progress = Progress::new((sel.interpreters.len() * per_interpreter) as u64, "A/A");
    let mut results = Vec::new();
    'interpreters: for interp in &sel.interpreters {
        let mut planned = Vec::new();
        for (cell, layouts) in [("A", &a), ("B", &b)] {
            for &layout in layouts {
                let record = records
                    .iter()
                    .find(|r| r.abi_tag == interp.soabi && r.layout == layout)
                    .context("no build record")?;
                let artifact = record.artifact();
                let Some(artifact) = artifact else {
                    progress.note(format!("  {}: build failed, skipped", interp.name));
                    continue 'interpreters;
                };
                // Copies: the importer and the dynamic loader must see distinct extensions.
                let dir = scratch.path().join(&interp.name).join(format!("{cell}-{layout}"));
                std::fs::create_dir_all(&dir)?;
                let path = dir.join(artifact.file_name().context("artifact has a file name")?);
                std::fs::copy(artifact, &path)?;
                let sha256 = record.sha256().map(String::from);
                planned.push(PlannedBuild::new(cell.into(), Mode::Unlimited, layout, (path, sha256)));
            }
        }
        let plan = Plan {
            interpreter: interp,
            module: &recipe.module,
            builtin: true,
            builds: planned,
            scenarios: scenarios.clone(),
            marker: None,
            pytest: None,
        };
        let m = driver::measure(&plan, (&sampling, &settle), args.seed.unwrap_or(1), &stop, &|s, b| {
            progress.inc();
            progress.set_message(format!("{}: {s} [{b}]", interp.name));
        })?;
        results.extend(aa::judge(&interp.name, &scenarios, &m.cells));
    }
    progress.finish();
    print!("{}", printable(&render_aa(&results, &sampling, args.across_layouts, ascii(false))));
    Ok(0)
}
