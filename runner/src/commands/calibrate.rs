//! `abibench calibrate`: an A/A test of this machine. The same build is loaded twice in one
//! worker, as "A" and "B", and measured exactly as `compare` measures modes (interleaved,
//! paired); `analysis::aa` judges it.

use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::analysis::aa;
use crate::commands::ascii;
use crate::commands::cli::CalibrateArgs;
use crate::commands::progress::Progress;
use crate::commands::system;
use crate::export::table::render_aa;
use crate::measure::driver::{self, Plan, PlannedBuild};
use crate::model::build::BuildOutcome;
use crate::model::mode::Mode;
use crate::model::sampling::Measure;
use crate::model::scenario::Kind;
use crate::model::system::Readings;
use crate::setup::builds::{build_all, BuildRequest};
use crate::setup::paths::{cache_root, workspace_root};
use crate::setup::selection::{self, Choice};

pub fn run(args: &CalibrateArgs) -> Result<i32> {
    let choice = Choice { modes: &[Mode::Unlimited], ..args.select.choice() };
    let mut sel = selection::select(&choice, None)?;
    if args.select.scenario.is_empty() {
        // By default the chatty scenarios: the ones whose small differences matter.
        sel.groups.retain(|g| g.kind == Kind::Chatty);
    }
    let sampling = args.level.sampling(Measure::WallTime);
    let requests: Vec<BuildRequest> =
        sel.interpreters.iter().map(|i| BuildRequest { mode: Mode::Unlimited, interpreter: Some(i.clone()) }).collect();
    let records = build_all(&requests, &workspace_root(), &cache_root(), &|_| {})?;
    // After the builds, which load the machine themselves.
    system::warn(&Readings::current().judge());
    let scratch = tempfile::tempdir()?;
    let scenarios: Vec<_> = sel.groups.iter().flat_map(|g| &g.scenarios).collect();
    let stop = AtomicBool::new(false);
    let progress = Progress::new((sel.interpreters.len() * scenarios.len() * 2 * sampling.processes) as u64, "A/A");
    let mut results = Vec::new();
    for interp in &sel.interpreters {
        let record = records.iter().find(|b| b.abi_tag == interp.soabi).context("no build record")?;
        let BuildOutcome::Ok { artifact, .. } = &record.outcome else {
            progress.note(format!("  {}: build failed, skipped", interp.name));
            continue;
        };
        // Two copies: the importer and the dynamic loader must see two distinct extensions.
        let mut planned = Vec::new();
        for label in ["A", "B"] {
            let dir = scratch.path().join(&interp.name).join(label);
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(artifact.file_name().context("artifact has a file name")?);
            std::fs::copy(artifact, &path)?;
            planned.push(PlannedBuild { label: label.into(), mode: Mode::Unlimited, path });
        }
        let plan = Plan { interpreter: interp, builds: planned, scenarios: scenarios.clone() };
        let m = driver::measure(&plan, &sampling, args.seed.unwrap_or(1), &stop, &|s, b| {
            progress.inc();
            progress.set_message(format!("{}: {s} [{b}]", interp.name));
        })?;
        results.extend(aa::judge(&interp.name, &scenarios, &m.cells));
    }
    progress.finish();
    print!("{}", render_aa(&results, &sampling, ascii(false)));
    Ok(0)
}
