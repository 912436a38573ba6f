//! `abibench compare`: provision → select (→ shard) → build → measure → analyse → export
//! (tables, report), saving the results after each interpreter; then, for a nightly job, the
//! gate, the history and the baseline.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::analysis::cells::{analyse, Analysis};
use crate::analysis::compat;
use crate::analysis::floors;
use crate::analysis::plan::Goal;
use crate::commands::args::results_dir;
use crate::commands::check::gate_and_record;
use crate::commands::cli::CompareArgs;
use crate::commands::interrupt;
use crate::commands::progress::{build_with_progress, Progress};
use crate::commands::report::print_answer;
use crate::commands::show::print_tables;
use crate::commands::{export, system};
use crate::export::format::pinning;
use crate::export::report;
use crate::measure::driver::{self, Measured, Plan};
use crate::model::baseline;
use crate::model::history;
use crate::model::host::{git_state, load_average, Host, SourceInfo};
use crate::model::io::{check_writable, create_run_file, now_rfc3339, write_atomic};
use crate::model::results::{Cell, CellStatus, Results, RunInfo, RunStatus};
use crate::model::sampling::{Measure, Sampling};
use crate::setup::builds::source_hash;
use crate::setup::paths::{cache_root, workspace_root};
use crate::setup::recipe::Recipe;
use crate::setup::selection::{self, Selection};
use crate::setup::toolchain;

pub fn run(args: &CompareArgs) -> Result<i32> {
    let recipe = args.select.targets.recipe()?;
    let out = results_dir(args.out.as_deref(), &recipe);
    let (mut sampling, baseline) = check_flags(args, &out)?;
    let provision_note = |l: String| eprintln!("provision: {l}");
    if !recipe.subject.counts_instructions() && args.measure == Measure::Instructions {
        bail!("--measure instructions: counting needs abibench's region marker inside the extension, which a crate of your own lacks; time it with wall time (the default)");
    }
    sampling.isolation = args.level.isolation.unwrap_or_else(|| recipe.subject.default_isolation());
    let choice = args.select.choice(&recipe)?;
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
    eprintln!("{}", banner(&sel, &sampling, shard.as_ref().map(|s| s.shard.to_string())));

    let build_start = Instant::now();
    let toolchain = toolchain::probe()?;
    let requests = selection::build_requests(&sel, sampling.layouts, &|l| eprintln!("{l}"));
    let builds = build_with_progress(&requests, &toolchain, &recipe, &cache_root()?)?;
    let build_seconds = build_start.elapsed().as_secs_f64();
    eprintln!("builds: {build_seconds:.1} s");

    // Saved before measuring, so even a killed run leaves its builds on record.
    let started_at = now_rfc3339();
    let (git_revision, git_dirty) = git_state(&workspace_root());
    let mut res = Results::new(
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
        },
        Host::current(),
        SourceInfo { git_revision, git_dirty, ext_source_hash: source_hash(&recipe)? },
        sel.interpreters.clone(),
        sel.groups.clone(),
        (toolchain, builds),
        native,
    );
    res.subject = recipe.subject.clone();
    system::warn(&res.host.system);
    // Until now a signal leaves at once (nothing is measured); from here the first one stops the
    // measurement and saves what is done.
    let stop = interrupt::graceful();
    let (_, path) = create_run_file(&out, "", |id| {
        res.run.id = id.into();
        Ok(serde_json::to_vec_pretty(&res)?)
    })
    .context("--out: cannot save the results file (nothing is measured yet)")?;
    let mut store = Store { path, kept: 0, failure: None };

    let interrupted = measure_all(&mut res, (&sel, &recipe), &sampling, (seed, args.jobs), stop, &mut store)?;
    res.run.finished_at = Some(now_rfc3339());
    res.run.load_average_at_end = load_average();
    res.run.status = if interrupted { RunStatus::Interrupted } else { RunStatus::Complete };
    store.save(&res);
    interrupt::saved();

    let a = analyse(&res);
    print_tables(&res, &a, args.style.ascii);
    print_answer(&res, &a, &args.goal.goal(&res));
    let path = store.path.clone();
    if let Some(lost) = store.rescue(&res) {
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
        match write_report(&res, &a, &path, &out, &args.goal.goal(&res)) {
            Ok(html) => eprintln!("report: {}", html.display()),
            Err(e) => eprintln!("warning: the report failed (results are saved in {}): {e:#}", path.display()),
        }
    }
    if let Err(e) = export::write_all(&res, &a, &args.exports, &report::default_dir(&path)) {
        eprintln!("warning: an export failed (results are saved in {}): {e:#}", path.display());
    }
    if interrupted {
        if baseline.is_some() || args.save_baseline.is_some() || args.gate.history.is_some() {
            eprintln!("interrupted: not gated, not recorded in the history, not saved as a baseline");
        }
        return Ok(130);
    }
    gate_record_save(args, &res, baseline.as_ref())
}

/// The flags, checked before provisioning or building spends any time: the sampling they ask
/// for, and the baseline to gate on, if any.
fn check_flags(args: &CompareArgs, out: &Path) -> Result<(Sampling, Option<Results>)> {
    if args.native.is_some() && args.measure == Measure::Instructions {
        bail!("--native: native floors are criterion times and cannot sit beside instruction counts; drop --native or --measure instructions");
    }
    check_writable(out).context("--out")?;
    let mut sampling = args.level.sampling(args.measure);
    if let Some(t) = args.timeout {
        sampling.timeout_s = t;
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
        "abibench compare{}: {} interpreter(s) [{}], {} mode(s), {} scenario(s); {}",
        shard.map_or(String::new(), |s| format!(" (shard {s})")),
        sel.interpreters.len(),
        sel.interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
        sel.modes.len(),
        sel.groups.iter().map(|g| g.scenarios.len()).sum::<usize>(),
        match sampling.measure {
            Measure::WallTime => format!(
                "wall time: {} process(es) x {} interleaved values of >= {} ms per cell{}",
                sampling.processes,
                sampling.values,
                sampling.min_time * 1e3,
                pinning(&sampling.affinity)
            ),
            Measure::Instructions => format!(
                "instructions (callgrind): {} (L, 2L) region pair(s) of ~{} instructions per cell{}",
                sampling.values,
                sampling.target_instructions,
                pinning(&sampling.affinity)
            ),
        },
    )
}

/// Measures the interpreters, saving the results after each. Wall time: one at a time, never in
/// parallel (the cores are the instrument). Instruction counts do not depend on what else runs, so
/// `jobs` interpreters are counted at once; the file lists cells in interpreter order either way.
/// Returns whether the run was interrupted.
fn measure_all(
    res: &mut Results,
    (sel, recipe): (&Selection, &Recipe),
    sampling: &Sampling,
    (seed, jobs): (u64, usize),
    stop: &AtomicBool,
    store: &mut Store,
) -> Result<bool> {
    let start = Instant::now();
    let plans: Vec<(Plan, Vec<Cell>)> = driver::plans(sel, &res.builds, recipe);
    let total: usize = plans.iter().map(|(p, _)| p.builds.len() * p.scenarios.len() * sampling.processes).sum();
    let progress = Progress::new(total as u64, "measuring");
    let jobs = if sampling.measure == Measure::Instructions { jobs.max(1) } else { 1 };
    let mut order: Vec<usize> = (0..plans.len()).filter(|&k| !plans[k].0.builds.is_empty()).collect();
    if jobs > 1 {
        // Largest first (builds × scenarios), so the last interpreter counted is a small one and
        // no core idles while another finishes 3.15's nine modes alone.
        order.sort_by_key(|&k| std::cmp::Reverse(plans[k].0.builds.len() * plans[k].0.scenarios.len()));
    }
    let queue = Mutex::new(order.into_iter());
    let (done_tx, done_rx) = mpsc::channel::<(usize, Result<Measured>)>();
    let first_cells = res.cells.len();
    let mut measured: Vec<Option<Measured>> = plans.iter().map(|_| None).collect();
    let mut interrupted = false;
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs {
            let (queue, done_tx, plans, progress) = (&queue, done_tx.clone(), &plans, &progress);
            scope.spawn(move || {
                loop {
                    // Taken in a statement of its own: a guard in the `while let` condition would
                    // live through the loop body and hold the queue while measuring, one job at a time.
                    let next = queue.lock().expect("no panics while held").next();
                    let Some(k) = next else { break };
                    let plan = &plans[k].0;
                    let name = &plan.interpreter.name;
                    let m = driver::measure(plan, sampling, seed, stop, &|s, mode| {
                        progress.inc();
                        progress.set_message(format!("{name}: {s} [{mode}]"));
                    });
                    let stopped = m.as_ref().map_or(true, |m| m.interrupted);
                    if done_tx.send((k, m)).is_err() || stopped {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        for (k, m) in done_rx {
            let m = m?;
            let name = &plans[k].0.interpreter.name;
            let failed = m
                .cells
                .iter()
                .filter(|(_, c)| c.status.is_final_failure() && c.status != CellStatus::NotAvailable)
                .count();
            progress.note(format!(
                "  {name}: {} cells{}",
                m.cells.len(),
                if failed > 0 { format!(", {failed} failed (see table notes)") } else { String::new() }
            ));
            interrupted |= m.interrupted;
            measured[k] = Some(m);
            // Saved after each interpreter, in interpreter order, whatever order they finish in.
            assemble(res, first_cells, &plans, &measured);
            res.run.measure_seconds = start.elapsed().as_secs_f64();
            let first_failure = store.failure.is_none();
            store.save(res);
            if let Some(e) = store.failure.as_ref().filter(|_| first_failure) {
                progress.note(format!(
                    "warning: {e:#}; measuring on with everything kept in memory ({} cells measured, {} in that file)",
                    measured_cells(res),
                    store.kept
                ));
            }
        }
        Ok(())
    })?;
    // Interpreters with nothing to measure (every build failed) still have their cells recorded.
    assemble(res, first_cells, &plans, &measured);
    progress.finish();
    Ok(interrupted)
}

/// The run's cells and workers: each interpreter's unbuilt cells and what was measured of it,
/// in interpreter order, after the `first` cells the run already had.
fn assemble(res: &mut Results, first: usize, plans: &[(Plan, Vec<Cell>)], measured: &[Option<Measured>]) {
    res.cells.truncate(first);
    res.workers.clear();
    for ((_, unbuilt), m) in plans.iter().zip(measured) {
        res.cells.extend(unbuilt.iter().cloned());
        if let Some(m) = m {
            res.cells.extend(m.cells.iter().map(|(_, c)| c.clone()));
            res.workers.extend(m.workers.iter().cloned());
        }
    }
}

/// Cells with values: what a lost write would lose.
fn measured_cells(res: &Results) -> usize {
    res.cells.iter().filter(|c| c.status == CellStatus::Ok && !c.processes.is_empty()).count()
}

/// The results file and what it holds. A failed save (a full disk) leaves the last good file
/// there, keeps everything in memory, and is tried again at the next save.
struct Store {
    path: PathBuf,
    /// Measured cells in the last good file.
    kept: usize,
    failure: Option<anyhow::Error>,
}

impl Store {
    fn save(&mut self, res: &Results) {
        match res.write_atomic(&self.path) {
            Ok(()) => (self.kept, self.failure) = (measured_cells(res), None),
            Err(e) => self.failure = Some(e),
        }
    }

    /// After a final save that failed: the results written where there is room (the temporary
    /// directory, else the cache), and the message saying where the data is and what is lost.
    /// `None` when the results are safe where asked.
    fn rescue(&self, res: &Results) -> Option<String> {
        let e = self.failure.as_ref()?;
        let (total, name) = (measured_cells(res), format!("abibench-rescued-{}.json", res.run.id));
        let last_good =
            format!("the last good copy there holds {} of the {total} measured cells (status \"running\")", self.kept);
        let rescued = serde_json::to_vec_pretty(res).ok().and_then(|bytes| {
            [Some(std::env::temp_dir()), cache_root().ok()]
                .into_iter()
                .flatten()
                .map(|dir| dir.join(&name))
                .find(|file| write_atomic(file, &bytes).is_ok())
        });
        if let Some(file) = rescued {
            return Some(format!(
                "error: the results could not be saved: {e:#}; {last_good}. All {total} measured cells are \
                 saved in {} instead: nothing measured is lost (`abibench show` or `report` reads it).",
                file.display()
            ));
        }
        Some(format!(
            "error: the results could not be saved: {e:#}; {last_good}, and nowhere else had room: the tables above \
             are all that is left of the other {} cells.",
            total - self.kept
        ))
    }
}

/// The run's report beside its results, with the newest `abibench matrix` of `out` as its
/// matrix section if one was run (a matrix file that cannot be read is skipped, said so).
fn write_report(res: &Results, a: &Analysis, path: &Path, out: &Path, goal: &Goal) -> Result<PathBuf> {
    let matrix = compat::newest(out).and_then(|m| match compat::read(&m) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("warning: newest matrix in {} left out of the report: {e:#}", out.display());
            None
        }
    });
    report::write(res, a, path, &report::default_dir(path), matrix.as_ref(), goal, None)
}
