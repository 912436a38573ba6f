//! `abibench compare`: provision → select (→ shard) → build → measure → analyse → export
//! (tables, report), saving the results after each interpreter; then, for a nightly job, the
//! gate, the history and the baseline.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::analysis::cells::analyse;
use crate::analysis::compat;
use crate::analysis::floors;
use crate::analysis::settle::Ratios;
use crate::commands::args::{check_out, results_dir};
use crate::commands::check::gate_and_record;
use crate::commands::cli::CompareArgs;
use crate::commands::interrupt;
use crate::commands::progress::{build_with_progress, Progress};
use crate::commands::pytest;
use crate::commands::report::print_answer;
use crate::commands::show::print_tables;
use crate::commands::{export, system};
use crate::export::format::{pinning, printable};
use crate::export::page::Report;
use crate::export::report;
use crate::measure::session::{Note, Session, Store};
use crate::model::baseline;
use crate::model::build::failure_headline;
use crate::model::history;
use crate::model::host::{git_state, Host, SourceInfo};
use crate::model::io::{create_run_file, now_rfc3339};
use crate::model::mode::Mode;
use crate::model::native::NativeSection;
use crate::model::results::Writer;
use crate::model::results::{Results, RunInfo, RunStatus};
use crate::model::sampling::{Measure, Sampling};
use crate::model::shard::ShardRecord;
use crate::model::system::Readings;
use crate::model::version::PyVersion;
use crate::model::writer::mark_abandoned;
use crate::setup::builds::{source_hash, BuildRequest};
use crate::setup::paths::{cache_root, workspace_root};
use crate::setup::recipe::Recipe;
use crate::setup::selection::{self, Selection};
use crate::setup::toolchain;

pub fn run(args: &CompareArgs) -> Result<i32> {
    let recipe = args.select.targets.recipe()?;
    let out = results_dir(args.out.as_deref(), &recipe);
    let (mut sampling, baseline) = check_flags(args, &out)?;
    let provision_note = |l: String| eprintln!("provision: {l}");
    sampling.isolation = args.level.isolation.unwrap_or_else(|| recipe.subject.default_isolation());
    let choice = match args.pytest.tests.is_empty() {
        true => args.select.choice(&recipe)?,
        false => args.select.pytest_choice(&recipe),
    };
    pytest::check(&args.pytest, &recipe)?;
    // A workload that counts an operation these scenarios do not time is refused before anything
    // is provisioned or built.
    args.goal.check(&choice.groups()?)?;
    let mut sel = selection::select(&choice, (!args.no_provision).then_some(&provision_note as _))?;
    for n in &sel.notes {
        eprintln!("{n}");
    }
    let shard = args.shard.map(|s| sel.restrict_to(s)).transpose()?;
    let native = args.native.as_ref().map(|file| floors::section(file.as_deref(), &out, &sel.groups)).transpose()?;
    if let Some(n) = &native {
        eprintln!("native floors: {} ({} scenarios)", n.file.display(), n.floors.len());
    }
    let seed = args.seed.unwrap_or_else(|| match args.measure {
        // Instruction counts must not depend on anything random, including the job a worker reads.
        Measure::Instructions => 0,
        Measure::WallTime => SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64),
    });
    let marker = region_marker(args, &mut sel, &recipe)?;
    eprintln!("{}", banner(&sel, &sampling, shard.as_ref().map(|s| s.shard.to_string())));

    let mut res = build_and_record(args, (&mut sel, &recipe), &sampling, seed, (shard, native))?;
    res.subject = recipe.subject.clone();
    // Judged now, from a second of the machine's own business: the load average still
    // remembers the builds of the minute before.
    res.host.system = Readings::sampled(Duration::from_secs(1)).judge();
    res.pytest = sel.pytest.clone();
    system::warn(&res.host.system);
    // Until now a signal leaves at once (nothing is measured); from here the first one stops the
    // measurement and saves what is done.
    let stop = interrupt::graceful();
    for (file, id) in mark_abandoned(&out) {
        eprintln!(
            "note: {}: run {} was left running by an abibench that is gone: marked abandoned",
            file.display(),
            printable(&id)
        );
    }
    let (_, path) = create_run_file(&out, "", |id| {
        res.run.id = id.into();
        Ok(serde_json::to_vec_pretty(&res)?)
    })
    .context("--out: cannot save the results file (nothing is measured yet)")?;
    let mut store = Store::new(path);

    let settle = Ratios::of(&sampling);
    let session =
        Session::new((&sel, &recipe, marker.as_deref()), &res.builds, (&sampling, &settle), (seed, args.jobs));
    let progress = Progress::new(session.steps() as u64, "measuring");
    let interrupted = session.run(&mut res, stop, &mut store, &|note| show(&progress, note))?;
    progress.finish();
    interrupt::saved();

    deliver(args, &res, &store, &out, interrupted, baseline.as_ref())
}

/// Counting a crate's module: the build of bench-ext whose region function marks what callgrind
/// counts (abi3-py38, which every GIL interpreter loads; a crate's own module has no such
/// symbol). `None` for wall time, or for bench-ext itself, which is its own marker.
fn region_marker(args: &CompareArgs, sel: &mut Selection, recipe: &Recipe) -> Result<Option<PathBuf>> {
    if args.measure != Measure::Instructions || recipe.subject.is_bench_ext() {
        return Ok(None);
    }
    let free_threaded: Vec<String> =
        sel.interpreters.iter().filter(|i| i.gil_disabled).map(|i| i.name.clone()).collect();
    if !free_threaded.is_empty() {
        sel.interpreters.retain(|i| !i.gil_disabled);
        if sel.interpreters.is_empty() {
            bail!("--measure instructions: a crate's counts are marked by an abi3 build of abibench's own extension, which a free-threaded interpreter ({}) cannot load; time it instead (wall time)", free_threaded.join(", "));
        }
        eprintln!(
            "{}: left out of the count, which an abi3 build of abibench's extension marks and a free-threaded \
             interpreter cannot load (time it instead)",
            free_threaded.join(", ")
        );
    }
    let request = BuildRequest { mode: Mode::Abi3(PyVersion(3, 8)), interpreter: None, layout: 0 };
    let bench_ext = Recipe::bench_ext(&workspace_root())?;
    let built = build_with_progress(&[request], &toolchain::probe()?, &bench_ext, &cache_root()?, args.build.limit())?;
    match built.first().map(|b| (b.artifact(), b.failure())) {
        Some((Some(path), _)) => Ok(Some(path.to_path_buf())),
        Some((None, Some(why))) => {
            bail!("--measure instructions: the region marker (bench-ext abi3-py38) did not build: {why}")
        }
        _ => bail!("--measure instructions: the region marker (bench-ext abi3-py38) did not build"),
    }
}

/// Builds every mode the selection needs, and the results of the run to measure: everything
/// but its id, cells and workers.
fn build_and_record(
    args: &CompareArgs,
    (sel, recipe): (&mut Selection, &Recipe),
    sampling: &Sampling,
    seed: u64,
    (shard, native): (Option<ShardRecord>, Option<NativeSection>),
) -> Result<Results> {
    let build_start = Instant::now();
    let toolchain = toolchain::probe()?;
    let requests = selection::build_requests(sel, sampling.layouts, &|l| eprintln!("{l}"));
    let mut builds = build_with_progress(&requests, &toolchain, recipe, &cache_root()?, args.build.limit())?;
    for b in &mut builds {
        if b.refuse_outside_floor() {
            let why = failure_headline(b.failure().unwrap_or_default());
            eprintln!("  REFUSED {}: {}", printable(&b.label()), printable(why));
        }
    }
    let build_seconds = build_start.elapsed().as_secs_f64();
    eprintln!("builds: {build_seconds:.1} s");
    if !args.pytest.tests.is_empty() {
        pytest::collect_tests(&args.pytest, &args.select.scenario, (sel, recipe), &builds, sampling)?;
    }

    // Saved before measuring, so even a killed run leaves its builds on record.
    let started_at = now_rfc3339();
    let (git_revision, git_dirty) = git_state(&workspace_root());
    Ok(Results::new(
        RunInfo {
            // Given when the file is claimed: an id no other run in --out has.
            id: String::new(),
            started_at,
            finished_at: None,
            status: RunStatus::Running,
            argv: std::env::args().collect(),
            level: args.level.level(),
            sampling: sampling.clone(),
            seed,
            build_seconds,
            measure_seconds: 0.0,
            load_average_at_end: None,
            shard,
            merged_from: Vec::new(),
            writer: Writer::current(),
        },
        Host::current(),
        SourceInfo { git_revision, git_dirty, ext_source_hash: source_hash(recipe)? },
        sel.interpreters.clone(),
        sel.groups.clone(),
        (toolchain, builds),
        native,
    ))
}

/// What follows the measurement: the tables and the answer, the results rescued if they could
/// not be saved, the report and exports, and for a complete run the gate, history and baseline.
fn deliver(
    args: &CompareArgs,
    res: &Results,
    store: &Store,
    out: &Path,
    interrupted: bool,
    baseline: Option<&Results>,
) -> Result<i32> {
    let a = analyse(res);
    print_tables(res, &a, args.style.ascii);
    let rep = Report::new(res, &a, &args.goal.checked_goal(res)?);
    print_answer(&rep, args.style.ascii);
    let path = store.path().to_path_buf();
    if let Some(lost) = store.rescue(res) {
        // The tables are out and the data is safe elsewhere, or said lost: nothing else may
        // write into a directory that could not take the results.
        eprintln!("{lost}");
        return Ok(2);
    }
    eprintln!(
        "measurement: {:.1} s; results: {}{}",
        res.run.measure_seconds,
        path.display(),
        if interrupted { " (interrupted: finished cells kept)" } else { "" }
    );
    // The results are safe and the gate still to come: a report or export that fails is a warning.
    if !args.no_report {
        match write_report(rep, &path, out) {
            Ok(html) => eprintln!("report: {}", html.display()),
            Err(e) => eprintln!("warning: the report failed (results are saved in {}): {e:#}", path.display()),
        }
    }
    if let Err(e) = export::write_all(res, &a, &args.exports, &report::default_dir(&path)) {
        eprintln!("warning: an export failed (results are saved in {}): {e:#}", path.display());
    }
    if interrupted {
        if baseline.is_some() || args.save_baseline.is_some() || args.gate.history.is_some() {
            eprintln!("interrupted: not gated, not recorded in the history, not saved as a baseline");
        }
        return Ok(130);
    }
    gate_record_save(args, res, baseline)
}

/// The flags, checked before provisioning or building spends any time: the sampling they ask
/// for, and the baseline to gate on, if any.
fn check_flags(args: &CompareArgs, out: &Path) -> Result<(Sampling, Option<Results>)> {
    if args.native.is_some() && args.measure == Measure::Instructions {
        bail!("--native: native floors are criterion times and cannot sit beside instruction counts; drop --native or --measure instructions");
    }
    check_out(out)?;
    let mut sampling = args.level.sampling(args.measure);
    if let Some(t) = args.timeout {
        sampling.timeout_s = t;
    }
    // Measured until clear of the plan's own threshold too.
    if let Some(u) =
        sampling.until.as_mut().filter(|u| !u.thresholds.iter().any(|t| (t - args.goal.threshold).abs() < 1e-9))
    {
        u.thresholds.push(args.goal.threshold);
        u.thresholds.sort_by(f64::total_cmp);
    }
    let baseline = args.baseline.as_deref().map(|b| baseline::load(b, &args.gate.baselines_dir)).transpose()?;
    if let Some(base) = baseline.as_ref().filter(|b| b.run.sampling.measure != args.measure) {
        bail!(
            "--baseline {}: run {} measured {}, this run measures {}; gate on a baseline of the same measure",
            args.baseline.as_deref().unwrap_or_default(),
            base.run.id,
            base.run.sampling.measure.name(),
            args.measure.name()
        );
    }
    if let Some(name) = &args.save_baseline {
        baseline::path_for_save(name, &args.gate.baselines_dir)?;
    }
    Ok((sampling, baseline))
}

/// The nightly steps after a complete run: gate it on the baseline (or else record it in the
/// history, if asked), then save it as the new baseline unless the gate fired.
fn gate_record_save(args: &CompareArgs, res: &Results, baseline: Option<&Results>) -> Result<i32> {
    let code = match baseline {
        Some(base) => gate_and_record(res, base, &args.gate)?,
        None => {
            if let Some(dir) = &args.gate.history {
                history::add(dir, res, None)?;
                eprintln!("history: run {} recorded in {}", res.run.id, dir.display());
            }
            0
        }
    };
    match &args.save_baseline {
        // A run the gate failed must not become the yardstick it failed against.
        Some(name) if code != 0 => eprintln!("--save-baseline {name}: not saved, the gate fired"),
        Some(name) => {
            let saved = baseline::save(res, &args.gate.baselines_dir, name)?;
            eprintln!("saved as baseline {name}: {}", saved.display());
        }
        None => {}
    }
    Ok(code)
}

/// One line saying what the run covers and how much it samples.
fn banner(sel: &Selection, sampling: &Sampling, shard: Option<String>) -> String {
    format!(
        "abibench compare{}: {} interpreter(s) [{}], {} mode(s), {}; {}{}{}",
        shard.map_or(String::new(), |s| format!(" (shard {s})")),
        sel.interpreters.len(),
        sel.interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
        sel.modes.len(),
        match sel.groups.iter().map(|g| g.scenarios.len()).sum::<usize>() {
            // --pytest: the tests become scenarios once the builds are made and the tests run.
            0 => "the crate's benchmark tests (collected after the builds)".to_string(),
            n => format!("{n} scenario(s)"),
        },
        match sampling.measure {
            Measure::WallTime => "wall time: ",
            Measure::Instructions => "instructions (callgrind): ",
        },
        sampling.design(),
        pinning(&sampling.affinity)
    )
}

/// What the measurement tells, on the progress bar (or in the log).
fn show(progress: &Progress, note: Note) {
    match note {
        Note::Cell { interpreter, scenario, build } => {
            progress.inc();
            progress.set_message(format!("{interpreter}: {scenario} [{build}]"));
        }
        Note::Interpreter { name, cells, failed, unneeded } => {
            (0..unneeded).for_each(|_| progress.inc_instant());
            progress.note(format!(
                "  {name}: {cells} cells{}",
                if failed > 0 { format!(", {failed} failed (see table notes)") } else { String::new() }
            ))
        }
        Note::SaveFailed { error, measured, kept } => progress.note(format!(
            "warning: {error:#}; measuring on with everything kept in memory ({measured} cells measured, {kept} in that file)"
        )),
    }
}

/// The run's report beside its results, with the newest `abibench matrix` of `out` as its
/// matrix section if one was run (a matrix file that cannot be read is skipped, said so).
fn write_report(rep: Report, path: &Path, out: &Path) -> Result<PathBuf> {
    let matrix = compat::newest(out).and_then(|m| match compat::read(&m) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("warning: newest matrix in {} left out of the report: {e:#}", out.display());
            None
        }
    });
    report::write(Report { matrix: matrix.as_ref(), ..rep }, path, &report::default_dir(path), None)
}
