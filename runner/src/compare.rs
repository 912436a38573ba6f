//! The `compare` pipeline: discover → build → measure → analyse → export, saving as it goes.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::analysis;
use crate::baseline;
use crate::builds::{self, BuildOutcome, BuildRecord, BuildRequest};
use crate::cli::{CompareArgs, SelectArgs};
use crate::export::table;
use crate::gate;
use crate::history;
use crate::interpreters::{self, Interpreter};
use crate::measure::{self, Plan};
use crate::modes::Mode;
use crate::progress::Progress;
use crate::results::{self, Cell, CellStatus, Host, Results, RunInfo, RunStatus, SourceInfo};
use crate::scenarios::{self, Group};
use crate::shard::{self, Shard, ShardRecord};

/// What a selection resolves to, before anything is built.
pub struct Selection {
    pub groups: Vec<Group>,
    pub interpreters: Vec<Interpreter>,
    pub modes: Vec<Mode>,
    /// With `--shard`: the modes each interpreter of this shard runs.
    pub shard: Option<BTreeMap<String, Vec<Mode>>>,
}

impl Selection {
    /// Whether `interp` runs `mode` in this selection: the mode fits it, and the shard has it.
    pub fn runs(&self, interp: &Interpreter, mode: Mode) -> bool {
        mode.fits(interp).is_ok()
            && self.shard.as_ref().is_none_or(|s| s.get(&interp.name).is_some_and(|m| m.contains(&mode)))
    }

    /// Narrows the selection to shard `s` of its (interpreter, mode) matrix (see `shard::assign`).
    fn restrict_to(&mut self, s: Shard) -> Result<ShardRecord> {
        let matrix: Vec<Vec<Mode>> = self
            .interpreters
            .iter()
            .map(|i| self.modes.iter().copied().filter(|m| m.fits(i).is_ok()).collect())
            .collect();
        let record = ShardRecord {
            shard: s,
            interpreters: self.interpreters.iter().map(|i| i.name.clone()).collect(),
            modes: self.modes.clone(),
        };
        let mine: BTreeMap<String, Vec<Mode>> = self
            .interpreters
            .iter()
            .zip(shard::assign(&matrix, s))
            .filter(|(_, modes)| !modes.is_empty())
            .map(|(i, modes)| (i.name.clone(), modes))
            .collect();
        if mine.is_empty() {
            let cells: usize = matrix.iter().map(Vec::len).sum();
            bail!("--shard {s}: nothing to run; the matrix has {cells} (interpreter, mode) cell(s), so use at most {cells} shard(s)");
        }
        self.interpreters.retain(|i| mine.contains_key(&i.name));
        self.shard = Some(mine);
        Ok(record)
    }
}

pub fn select(args: &SelectArgs) -> Result<Selection> {
    // Scenario files first: a typo there should not cost an interpreter probe.
    let groups = scenarios::filter(scenarios::load_dir(&args.scenarios_dir)?, &args.scenario)?;
    let interpreters = interpreters::discover(&args.python)?;
    let modes = if args.mode.is_empty() { Mode::ALL.to_vec() } else { args.mode.clone() };
    Ok(Selection { groups, interpreters, modes, shard: None })
}

/// One build per mode, plus one unlimited build per interpreter ABI; modes no interpreter fits
/// are left out (and said so).
fn build_requests(sel: &Selection, note: &dyn Fn(String)) -> Vec<BuildRequest> {
    let mut requests = Vec::new();
    for &mode in &sel.modes {
        let fitting: Vec<&Interpreter> = sel.interpreters.iter().filter(|i| sel.runs(i, mode)).collect();
        match (mode, fitting.first()) {
            (_, None) if sel.shard.is_some() => note(format!("{mode}: not in this shard; not built")),
            (_, None) => note(format!("{mode}: no selected interpreter can load it; not built")),
            (Mode::Unlimited, _) => {
                requests.extend(fitting.iter().map(|i| BuildRequest { mode, interpreter: Some((*i).clone()) }))
            }
            (_, Some(_)) => requests.push(BuildRequest { mode, interpreter: None }),
        }
    }
    requests
}

/// The build an interpreter would load for `mode`, if that mode fits it.
fn build_for<'a>(builds: &'a [BuildRecord], mode: Mode, interp: &Interpreter) -> Option<&'a BuildRecord> {
    mode.fits(interp).ok()?;
    let tag = if mode == Mode::Unlimited { interp.soabi.clone() } else { mode.name() };
    builds.iter().find(|b| b.mode == mode && b.abi_tag == tag)
}

pub fn run(args: &CompareArgs) -> Result<i32> {
    let mut sel = select(&args.select)?;
    let shard = args.shard.map(|s| sel.restrict_to(s)).transpose()?;
    // Baseline flags are checked before the run spends any time.
    let baseline = args.baseline.as_deref().map(|b| baseline::load(b, &args.gate.baselines_dir)).transpose()?;
    if let Some(name) = &args.save_baseline {
        baseline::path_for_save(name, &args.gate.baselines_dir)?;
    }
    let workspace = builds::workspace_root();
    let cache = builds::cache_root();
    let level = args.level();
    let mut sampling = level.sampling();
    if let Some(t) = args.timeout {
        if t <= 0.0 {
            bail!("--timeout {t}: must be a positive number of seconds");
        }
        sampling.timeout_s = t;
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130); // a second Ctrl-C: leave at once
            }
            eprintln!("\ninterrupted: finishing up and saving what is done (Ctrl-C again to leave at once)");
        })
        .context("cannot install the Ctrl-C handler")?;
    }

    eprintln!(
        "abibench compare{}: {} interpreter(s) [{}], {} mode(s), {} scenario(s); level {:?} \
         ({} process(es) x {} values of >= {} ms per cell)",
        shard.as_ref().map_or(String::new(), |s| format!(" (shard {})", s.shard)),
        sel.interpreters.len(),
        sel.interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
        sel.modes.len(),
        sel.groups.iter().map(|g| g.scenarios.len()).sum::<usize>(),
        level,
        sampling.processes,
        sampling.values,
        sampling.min_time * 1e3,
    );

    // Build.
    let build_start = Instant::now();
    let requests = build_requests(&sel, &|l| eprintln!("{l}"));
    let progress = Progress::new(requests.len() as u64, "building");
    let builds = builds::build_all(&requests, &workspace, &cache, &|b| {
        progress.inc();
        let what = b.interpreter.as_ref().map_or(b.mode.name(), |i| format!("{} for {i}", b.mode));
        progress.note(match &b.outcome {
            BuildOutcome::Ok { cached: true, .. } => format!("  cached  {what}"),
            BuildOutcome::Ok { .. } => format!("  built   {what} in {:.1} s", b.seconds),
            BuildOutcome::Failed { error } => format!("  FAILED  {what}: {}", error.lines().last().unwrap_or_default()),
        });
        if let Some(a) = b.audit.as_ref().filter(|a| !a.passed()) {
            progress.note(format!(
                "  AUDIT   {what} imports symbols outside the Stable ABI {}.{}: {a:?}",
                a.floor.0, a.floor.1
            ));
        }
    })?;
    progress.finish();
    let build_seconds = build_start.elapsed().as_secs_f64();
    eprintln!("builds: {:.1} s", build_seconds);

    // Results skeleton, saved before measuring so even a killed run leaves its builds on record.
    let started_at = results::now_rfc3339();
    let id = results::run_id(&started_at);
    let (git_revision, git_dirty) = results::git_state(&workspace);
    let mut res = Results {
        schema: results::SCHEMA.into(),
        schema_version: results::SCHEMA_VERSION,
        tool: format!("abibench {}", env!("CARGO_PKG_VERSION")),
        run: RunInfo {
            id: id.clone(),
            started_at,
            finished_at: None,
            status: RunStatus::Running,
            argv: std::env::args().collect(),
            level,
            measure: "wall-time".into(),
            sampling: sampling.clone(),
            seed,
            build_seconds,
            measure_seconds: 0.0,
            shard,
            merged_from: Vec::new(),
        },
        host: Host::current(),
        source: SourceInfo { git_revision, git_dirty, ext_source_hash: builds::source_hash(&workspace)? },
        interpreters: sel.interpreters.clone(),
        builds: builds.clone(),
        groups: sel.groups.clone(),
        cells: Vec::new(),
        workers: Vec::new(),
    };
    let path = results::results_path(&args.out, &id);
    res.write_atomic(&path)?;

    // Measure, one interpreter at a time (never in parallel: the cores are the instrument).
    let measure_start = Instant::now();
    let scenarios: Vec<&scenarios::Scenario> = sel.groups.iter().flat_map(|g| &g.scenarios).collect();
    let plans: Vec<(Plan, Vec<Cell>)> = sel
        .interpreters
        .iter()
        .map(|interp| {
            let mut plan = Plan { interpreter: interp, builds: Vec::new(), scenarios: scenarios.clone() };
            let mut unbuilt = Vec::new();
            for mode in sel.modes.iter().copied().filter(|&m| sel.runs(interp, m)) {
                match build_for(&builds, mode, interp) {
                    Some(BuildRecord { outcome: BuildOutcome::Ok { artifact, .. }, .. }) => {
                        plan.builds.push((mode, artifact.clone()))
                    }
                    Some(BuildRecord { outcome: BuildOutcome::Failed { error }, .. }) => {
                        for s in &scenarios {
                            let mut c = Cell::pending(&interp.id(), mode, &s.name, s.n);
                            c.fail(CellStatus::BuildFailed, error.clone());
                            unbuilt.push(c);
                        }
                    }
                    None => {}
                }
            }
            (plan, unbuilt)
        })
        .collect();
    let total: usize = plans.iter().map(|(p, _)| p.builds.len() * p.scenarios.len() * sampling.processes).sum();
    let progress = Progress::new(total as u64, "measuring");
    let mut interrupted = false;
    for (plan, unbuilt) in plans {
        res.cells.extend(unbuilt);
        if interrupted || plan.builds.is_empty() {
            continue;
        }
        let name = &plan.interpreter.name;
        progress.set_message(name.clone());
        let m = measure::measure(&plan, &sampling, seed, &stop, &|s, mode| {
            progress.inc();
            progress.set_message(format!("{name}: {s} [{mode}]"));
        })?;
        let failed =
            m.cells.iter().filter(|c| c.status.is_final_failure() && c.status != CellStatus::NotAvailable).count();
        progress.note(format!(
            "  {name}: {} cells{}",
            m.cells.len(),
            if failed > 0 { format!(", {failed} failed (see table notes)") } else { String::new() }
        ));
        res.cells.extend(m.cells);
        res.workers.extend(m.workers);
        interrupted = m.interrupted;
        res.run.measure_seconds = measure_start.elapsed().as_secs_f64();
        res.write_atomic(&path)?;
    }
    progress.finish();

    res.run.finished_at = Some(results::now_rfc3339());
    res.run.status = if interrupted { RunStatus::Interrupted } else { RunStatus::Complete };
    res.run.measure_seconds = measure_start.elapsed().as_secs_f64();
    res.write_atomic(&path)?;

    let a = analysis::analyse(&res);
    print!("{}", table::render(&res, &a, args.style.ascii || !std::io::stdout().is_terminal()));
    eprintln!(
        "measurement: {:.1} s; results: {}{}",
        res.run.measure_seconds,
        path.display(),
        if interrupted { " (interrupted: finished cells kept)" } else { "" }
    );
    if interrupted {
        if baseline.is_some() || args.save_baseline.is_some() || args.gate.history.is_some() {
            eprintln!("interrupted: not gated, not recorded in the history, not saved as a baseline");
        }
        return Ok(130);
    }
    let code = match &baseline {
        Some(base) => gate::gate(&res, base, &args.gate)?,
        None => {
            if let Some(dir) = &args.gate.history {
                history::add(dir, &res, None)?;
                eprintln!("history: run {} recorded in {}", res.run.id, dir.display());
            }
            0
        }
    };
    if let Some(name) = &args.save_baseline {
        let saved = baseline::save(&res, &args.gate.baselines_dir, name)?;
        eprintln!("saved as baseline {name}: {}", saved.display());
    }
    Ok(code)
}

pub fn list(args: &SelectArgs) -> Result<()> {
    let sel = select(args)?;
    println!("interpreters:");
    for i in &sel.interpreters {
        println!(
            "  {:<10} {:<28} {:?}{} {}",
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

/// The newest results file in `dir` (run ids sort by time).
pub fn latest(dir: &Path) -> Result<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.pop().with_context(|| format!("no results files in {}", dir.display()))
}

pub fn show(file: Option<PathBuf>, ascii: bool) -> Result<()> {
    let path = match file {
        Some(p) => p,
        None => latest(Path::new("results"))?,
    };
    let r = Results::read(&path)?;
    let a = analysis::analyse(&r);
    print!("{}", table::render(&r, &a, ascii || !std::io::stdout().is_terminal()));
    Ok(())
}
