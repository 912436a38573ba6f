//! `abibench matrix`: which build can each interpreter load? Every selected mode is built and
//! every build is put on every interpreter (`measure::matrix` has the checks).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use crate::commands::args::{check_out, parse_seconds, results_dir, BuildArgs, StyleArgs, TargetArgs};
use crate::commands::ascii;
use crate::commands::progress::{build_with_progress, Progress};
use crate::export::format::printable;
use crate::export::matrix_table;
use crate::measure::matrix::{check_all, link_check_main};
use crate::model::host::{git_state, Host, SourceInfo};
use crate::model::io::{create_run_file, now_rfc3339};
use crate::model::matrix::{Matrix, MatrixRun, MATRIX_PREFIX, SCHEMA, SCHEMA_VERSION};
use crate::setup::audit::StableAbi;
use crate::setup::builds::{requests, source_hash};
use crate::setup::interpreters;
use crate::setup::paths::{cache_root, workspace_root};
use crate::setup::provision;
use crate::setup::toolchain;

#[derive(Args, Debug)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Directory for the matrix JSON (`matrix-<run id>.json`, beside compare's results: results/,
    /// or results/crates/<distribution>/ with --crate).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Kill a cell's child (import or link check) after this long, recording a timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    pub timeout: f64,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub style: StyleArgs,
    /// Do not provision what the range lacks (by default `matrix` first gets the versions of its
    /// range, 3.8 to 3.15 and 3.13t, or those given with --python, like `abibench provision`).
    #[arg(long)]
    pub no_provision: bool,
}

/// Runs the matrix: builds (cached), every cell's checks, the table, and the JSON file.
/// Must run in the `abibench` binary: the link check re-executes it.
pub fn run(args: &MatrixArgs) -> Result<i32> {
    let timeout = Duration::from_secs_f64(args.timeout);
    let started_at = now_rfc3339();
    let recipe = args.targets.recipe()?;
    let out = results_dir(args.out.as_deref(), &recipe);
    check_out(&out)?;
    if !args.no_provision {
        // The load check wants every interpreter of the range, 3.13t included, whatever builds for it.
        let range = provision::range_of(&args.targets.python);
        provision::for_targets(&range, &cache_root()?, &|l| eprintln!("provision: {l}"));
    }
    let interpreters = interpreters::discover(&args.targets.python)?;
    let modes = args.targets.modes(&recipe);
    let workspace = workspace_root();
    eprintln!(
        "abibench matrix: {} interpreter(s) [{}], {} mode(s)",
        interpreters.len(),
        interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
        modes.len()
    );

    // Every mode is built, fitting an interpreter or not: loading where it does not fit is the point.
    let build_start = Instant::now();
    // One layout: the matrix is about what loads, not about timing.
    let requests = requests(&modes, &interpreters, 1);
    let mut builds = build_with_progress(&requests, &toolchain::probe()?, &recipe, &cache_root()?, args.build.limit())?;
    // Unlimited rows in interpreter order: by tag text, cpython-310 would come before cpython-38.
    builds
        .sort_by_key(|b| (b.mode, b.interpreter.as_ref().and_then(|n| interpreters.iter().position(|i| &i.name == n))));
    let build_seconds = build_start.elapsed().as_secs_f64();

    let check_start = Instant::now();
    let exe = std::env::current_exe().context("cannot locate the abibench executable for the link check")?;
    let progress = Progress::new((builds.len() * interpreters.len()) as u64, "checking");
    let cells = check_all(
        &builds,
        &interpreters,
        &recipe,
        &exe,
        timeout,
        &|build, interp| progress.set_message(format!("{build} on {interp}")),
        &|| progress.inc(),
    )?;
    progress.finish();

    let mut matrix = Matrix {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        tool: format!("abibench {}", env!("CARGO_PKG_VERSION")),
        run: MatrixRun {
            id: String::new(),
            started_at,
            finished_at: now_rfc3339(),
            argv: std::env::args().collect(),
            timeout_s: args.timeout,
            build_seconds,
            check_seconds: check_start.elapsed().as_secs_f64(),
        },
        host: Host::current(),
        source: {
            let (git_revision, git_dirty) = git_state(&workspace);
            SourceInfo { git_revision, git_dirty, ext_source_hash: source_hash(&recipe)? }
        },
        stable_abi: StableAbi::embedded().source().to_string(),
        interpreters,
        builds,
        cells,
        subject: recipe.subject.clone(),
    };
    let (_, path) = create_run_file(&out, MATRIX_PREFIX, |id| {
        matrix.run.id = id.into();
        Ok(serde_json::to_vec_pretty(&matrix)?)
    })?;
    print!("{}", printable(&matrix_table::render(&matrix, ascii(args.style.ascii))));
    eprintln!(
        "matrix: builds {:.1} s, checks {:.1} s; saved {}",
        matrix.run.build_seconds,
        matrix.run.check_seconds,
        path.display()
    );
    Ok(0)
}

/// `abibench link-check` (hidden): the matrix's link check, in a child of its own.
pub fn link_check(libpython: &Path, build: &Path) -> Result<()> {
    println!("{}", serde_json::to_string(&link_check_main(libpython, build)?)?);
    Ok(())
}
