//! `compare --pytest`: once the builds are made, the crate's benchmark tests are collected (run
//! once with abibench's plugin in one build of each interpreter) and become the run's scenarios;
//! which pytest each interpreter runs, and the tests left out, are said here and recorded.

use anyhow::{bail, Result};

use crate::commands::args::PytestArgs;
use crate::export::format::printable;
use crate::measure::pytest::{collect, PlanPytest};
use crate::model::build::{builds_for, BuildRecord};
use crate::model::pytest::{assemble, groups, PytestRecord};
use crate::model::sampling::Sampling;
use crate::model::scenario;
use crate::setup::paths::cache_root;
use crate::setup::pytest_env::{environment, resolve_tests};
use crate::setup::recipe::Recipe;
use crate::setup::selection::Selection;

/// The tests as pytest will be given them, checked before anything is built.
pub fn check(args: &PytestArgs, recipe: &Recipe) -> Result<()> {
    match recipe.subject.krate() {
        Some(krate) if !args.tests.is_empty() => resolve_tests(&krate.path, &args.tests).map(drop),
        _ => Ok(()),
    }
}

/// Sets `sel`'s groups to the crate's benchmarks (filtered by `--scenario`) and its `pytest`
/// to what the results record of them. An error if no test is a benchmark anywhere.
pub fn collect_tests(
    args: &PytestArgs,
    globs: &[String],
    (sel, recipe): (&mut Selection, &Recipe),
    builds: &[BuildRecord],
    sampling: &Sampling,
) -> Result<()> {
    let Some(krate) = recipe.subject.krate() else { bail!("--pytest needs --crate") };
    let mut record = PytestRecord {
        tests: resolve_tests(&krate.path, &args.tests)?,
        root: krate.path.clone(),
        with: args.with.clone(),
        environments: Vec::new(),
        left_out: Vec::new(),
    };
    let cache = cache_root()?;
    for interp in &sel.interpreters {
        let env = environment(interp, &args.with, &cache, &|l| eprintln!("pytest: {}", printable(&l)))?;
        eprintln!("pytest: {}: {}", interp.name, printable(&env.origin()));
        record.environments.push(env);
    }
    let mut outcomes = Vec::new();
    for interp in &sel.interpreters {
        // The first build of this interpreter's modes that built: the tests run in it once.
        let first = sel.modes.iter().filter(|&&m| sel.runs(interp, m)).find_map(|&m| {
            builds_for(builds, m, interp).into_iter().find_map(|b| b.artifact().map(|a| (m, a.to_path_buf())))
        });
        let (Some((mode, path)), Some(pytest)) = (first, PlanPytest::of(&record, interp)) else { continue };
        match collect(interp, (&recipe.module, mode, &path), pytest, sampling) {
            Ok(o) => outcomes.push(o),
            Err(e) => eprintln!("warning: pytest: {}", printable(&format!("{e:#}"))),
        }
    }
    let (benchmarks, left_out) = assemble(&outcomes);
    for t in &left_out {
        let reason = t.reason.lines().next().unwrap_or_default();
        eprintln!("pytest: left out {} ({}: {})", printable(&t.node), t.status.replace('_', " "), printable(reason));
    }
    if benchmarks.is_empty() {
        bail!(
            "--pytest {}: no test hands a call to `benchmark` or is marked `benchmark` (see above)",
            args.tests.join(" ")
        );
    }
    sel.groups = scenario::filter(groups(&benchmarks), globs)?;
    eprintln!(
        "pytest: {} benchmark(s) are the scenarios, {} test(s) left out",
        sel.groups.iter().map(|g| g.scenarios.len()).sum::<usize>(),
        left_out.len()
    );
    record.left_out = left_out;
    sel.pytest = Some(record);
    Ok(())
}
