//! The `compare` pipeline: provision → discover (→ shard) → build → measure → analyse → export
//! (tables, report), saving as it goes; then, for a nightly job, the gate, history and baseline.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::analysis;
use crate::baseline;
use crate::build_flags;
use crate::builds::{self, BuildOutcome, BuildRecord, BuildRequest};
use crate::cli::{CompareArgs, SelectArgs};
use crate::export::table;
use crate::gate;
use crate::history;
use crate::interpreters::{self, Interpreter};
use crate::measure::{self, Measure, Plan, PlannedBuild};
use crate::modes::Mode;
use crate::native;
use crate::progress::Progress;
use crate::provision;
use crate::report;
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

/// `provision`: first get the interpreters the selection lacks (see `provision::for_selection`).
pub fn select(args: &SelectArgs, provision: bool) -> Result<Selection> {
    // Scenario files first: a typo there should not cost an interpreter probe.
    let groups = scenarios::filter(scenarios::load_dir(&args.scenarios_dir)?, &args.scenario)?;
    if provision {
        provision::for_selection(&args.targets.python, &builds::cache_root());
    }
    let interpreters = interpreters::discover(&args.targets.python)?;
    let modes = args.targets.modes();
    Ok(Selection { groups, interpreters, modes, shard: None })
}

/// The builds `compare` needs: every selected mode that some selected interpreter can load (the
/// others are left out, and said so).
fn build_requests(sel: &Selection, note: &dyn Fn(String)) -> Vec<BuildRequest> {
    let mut requests = Vec::new();
    for &mode in &sel.modes {
        let fitting: Vec<Interpreter> = sel.interpreters.iter().filter(|i| sel.runs(i, mode)).cloned().collect();
        match (fitting.is_empty(), sel.shard.is_some()) {
            (true, true) => note(format!("{mode}: not in this shard; not built")),
            (true, false) => note(format!("{mode}: no selected interpreter can load it; not built")),
            (false, _) => requests.extend(builds::requests(&[mode], &fitting)),
        }
    }
    requests
}

pub fn run(args: &CompareArgs) -> Result<i32> {
    // Flags first, before provisioning or building spends any time.
    if args.native.is_some() && args.measure == Measure::Instructions {
        bail!("--native: native floors are criterion times and cannot sit beside instruction counts; drop --native or --measure instructions");
    }
    let level = args.level.level();
    let mut sampling = args.level.sampling(args.measure);
    if let Some(t) = args.timeout {
        if t <= 0.0 {
            bail!("--timeout {t}: must be a positive number of seconds");
        }
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
    let mut sel = select(&args.select, !args.no_provision)?;
    let shard = args.shard.map(|s| sel.restrict_to(s)).transpose()?;
    let native =
        args.native.as_ref().map(|file| native::section(file.as_deref(), &args.out, &sel.groups)).transpose()?;
    if let Some(n) = &native {
        eprintln!("native floors: {} ({} scenarios)", n.file.display(), n.floors.len());
    }
    let workspace = builds::workspace_root();
    let cache = builds::cache_root();
    // Instruction counts must not depend on anything random, including the job a worker reads.
    let seed = args.seed.unwrap_or_else(|| match args.measure {
        Measure::Instructions => 0,
        Measure::WallTime => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        }
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
        "abibench compare{}: {} interpreter(s) [{}], {} mode(s), {} scenario(s); level {:?}, {}",
        shard.as_ref().map_or(String::new(), |s| format!(" (shard {})", s.shard)),
        sel.interpreters.len(),
        sel.interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
        sel.modes.len(),
        sel.groups.iter().map(|g| g.scenarios.len()).sum::<usize>(),
        level,
        match sampling.measure {
            Measure::WallTime => format!(
                "wall time: {} process(es) x {} interleaved values of >= {} ms per cell",
                sampling.processes,
                sampling.values,
                sampling.min_time * 1e3
            ),
            Measure::Instructions => format!(
                "instructions (callgrind): {} (L, 2L) region pair(s) of ~{} instructions per cell",
                sampling.values, sampling.target_instructions
            ),
        },
    );

    // Build.
    let build_start = Instant::now();
    let requests = build_requests(&sel, &|l| eprintln!("{l}"));
    let builds = builds::build_all_reporting(&requests, &workspace, &cache)?;
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
            sampling: sampling.clone(),
            seed,
            build_seconds,
            measure_seconds: 0.0,
            load_average_at_end: None,
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
        native,
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
                match builds::build_for(&builds, mode, interp) {
                    Some(BuildRecord { outcome: BuildOutcome::Ok { artifact, .. }, .. }) => {
                        plan.builds.push(PlannedBuild::of_mode(mode, artifact.clone()))
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
            m.cells.iter().filter(|(_, c)| c.status.is_final_failure() && c.status != CellStatus::NotAvailable).count();
        progress.note(format!(
            "  {name}: {} cells{}",
            m.cells.len(),
            if failed > 0 { format!(", {failed} failed (see table notes)") } else { String::new() }
        ));
        res.cells.extend(m.cells.into_iter().map(|(_, c)| c));
        res.workers.extend(m.workers);
        interrupted = m.interrupted;
        res.run.measure_seconds = measure_start.elapsed().as_secs_f64();
        res.write_atomic(&path)?;
    }
    progress.finish();

    res.run.finished_at = Some(results::now_rfc3339());
    res.run.load_average_at_end = results::load_average();
    res.run.status = if interrupted { RunStatus::Interrupted } else { RunStatus::Complete };
    res.run.measure_seconds = measure_start.elapsed().as_secs_f64();
    res.write_atomic(&path)?;

    let a = analysis::analyse(&res);
    print_tables(&res, &a, args.style.ascii);
    eprintln!(
        "measurement: {:.1} s; results: {}{}",
        res.run.measure_seconds,
        path.display(),
        if interrupted { " (interrupted: finished cells kept)" } else { "" }
    );
    if !args.no_report {
        // The results are safe and the gate still to come: a report that fails is a warning.
        match write_report(&res, &a, &path, &args.out) {
            Ok(html) => eprintln!("report: {}", html.display()),
            Err(e) => eprintln!("warning: the report failed (results are saved in {}): {e:#}", path.display()),
        }
    }
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
    match &args.save_baseline {
        // A run the gate failed must not become the yardstick it failed against.
        Some(name) if code != 0 => eprintln!("--save-baseline {name}: not saved, the gate fired"),
        Some(name) => {
            let saved = baseline::save(&res, &args.gate.baselines_dir, name)?;
            eprintln!("saved as baseline {name}: {}", saved.display());
        }
        None => {}
    }
    Ok(code)
}

/// The run's report beside its results, with the newest `abibench matrix` of `out` as its
/// matrix section if one was run (a matrix file that cannot be read is skipped, said so).
fn write_report(res: &Results, a: &analysis::Analysis, path: &Path, out: &Path) -> Result<PathBuf> {
    let matrix = report::newest_matrix(out).and_then(|m| match report::read_matrix(&m) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("warning: newest matrix in {} left out of the report: {e:#}", out.display());
            None
        }
    });
    report::write(res, a, path, &report::default_dir(path), matrix.as_ref())
}

pub fn list(args: &SelectArgs) -> Result<()> {
    let sel = select(args, false)?;
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

pub fn show(file: Option<PathBuf>, ascii: bool) -> Result<()> {
    let path = match file {
        Some(p) => p,
        None => results::latest(Path::new("results"), "")?,
    };
    let r = Results::read(&path)?;
    print_tables(&r, &analysis::analyse(&r), ascii);
    Ok(())
}

/// The tables, preceded by the build-flag warning when the interpreters were built differently.
fn print_tables(r: &Results, a: &analysis::Analysis, ascii: bool) {
    if let Some(w) = build_flags::warning(&r.interpreters) {
        println!("{w}");
    }
    print!("{}", table::render(r, a, ascii || !std::io::stdout().is_terminal()));
}
