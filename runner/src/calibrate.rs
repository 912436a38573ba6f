//! `calibrate`: an A/A test of this machine. The same build is loaded twice in one worker, as
//! "A" and "B", and measured exactly as `compare` measures modes (interleaved, paired). Any
//! difference it reports is noise, so the rate of "differences" is the harness's false-positive
//! rate here, and the widths of the intervals are its resolution.

use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use comfy_table::{presets, Table};

use crate::builds::{self, BuildOutcome, BuildRequest};
use crate::cli::CalibrateArgs;
use crate::compare::select;
use crate::measure::{self, Measure, Plan, PlannedBuild};
use crate::modes::Mode;
use crate::progress::Progress;
use crate::scenarios::Kind;
use crate::stats::{self, Estimate};

/// The target the harness should meet on a machine it can be trusted on: |ratio - 1| within this.
const TOLERANCE: f64 = 0.01;

/// One scenario's A/A outcome on one interpreter.
pub struct AaResult {
    pub interpreter: String,
    pub scenario: String,
    pub ratio: Estimate,
}

impl AaResult {
    /// The interval excludes 1.0: the harness would have reported a difference that is not there.
    pub fn false_difference(&self) -> bool {
        !self.ratio.contains(1.0)
    }

    pub fn within_tolerance(&self) -> bool {
        (self.ratio.point - 1.0).abs() <= TOLERANCE
    }
}

pub fn run(args: &CalibrateArgs) -> Result<i32> {
    let mut select_args = args.select.clone();
    select_args.targets.mode = vec![Mode::Unlimited];
    let mut sel = select(&select_args, false)?;
    if args.select.scenario.is_empty() {
        // By default the chatty scenarios: the ones whose small differences matter.
        sel.groups.retain(|g| g.kind == Kind::Chatty);
    }
    let sampling = args.level.sampling(Measure::WallTime);
    let workspace = builds::workspace_root();
    let requests: Vec<BuildRequest> =
        sel.interpreters.iter().map(|i| BuildRequest { mode: Mode::Unlimited, interpreter: Some(i.clone()) }).collect();
    let records = builds::build_all(&requests, &workspace, &builds::cache_root(), &|_| {})?;
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
        let m = measure::measure(&plan, &sampling, args.seed.unwrap_or(1), &stop, &|s, b| {
            progress.inc();
            progress.set_message(format!("{}: {s} [{b}]", interp.name));
        })?;
        for s in &scenarios {
            let values = |label: &str| {
                m.cells
                    .iter()
                    .find(|(l, c)| l == label && c.scenario == s.name)
                    .map(|(_, c)| c.per_op(1.0))
                    .filter(|v| !v.is_empty())
            };
            if let (Some(a), Some(b)) = (values("A"), values("B")) {
                let ratios = stats::paired_ratios(&a, &b);
                results.push(AaResult {
                    interpreter: interp.name.clone(),
                    scenario: s.name.clone(),
                    ratio: stats::median_ci_grouped(&ratios, 7),
                });
            }
        }
    }
    progress.finish();
    print!("{}", render(&results, &sampling, !std::io::stdout().is_terminal()));
    Ok(0)
}

fn render(results: &[AaResult], sampling: &measure::Sampling, ascii: bool) -> String {
    let mut t = Table::new();
    t.load_preset(if ascii { presets::ASCII_BORDERS_ONLY_CONDENSED } else { presets::UTF8_BORDERS_ONLY });
    t.set_header(vec!["scenario", "python", "B/A (same build)", "95 % interval", "verdict"]);
    for r in results {
        let verdict = match (r.false_difference(), r.within_tolerance()) {
            (true, _) => "FALSE DIFFERENCE",
            (false, false) => "ok, but |ratio-1| > 1 %",
            (false, true) => "ok",
        };
        t.add_row(vec![
            r.scenario.clone(),
            r.interpreter.clone(),
            format!("{:.4}", r.ratio.point),
            format!("[{:.4}, {:.4}]", r.ratio.low, r.ratio.high),
            verdict.into(),
        ]);
    }
    let n = results.len();
    let false_diffs = results.iter().filter(|r| r.false_difference()).count();
    let outside = results.iter().filter(|r| !r.within_tolerance()).count();
    let worst = results.iter().map(|r| (r.ratio.point - 1.0).abs()).fold(0.0, f64::max);
    let widest = results.iter().map(|r| r.ratio.rel_half_width()).fold(0.0, f64::max);
    format!(
        "A/A test: one build loaded twice, measured as `compare` measures modes \
         ({} process(es) x {} interleaved values of >= {} ms).\n{t}\n\
         false differences (interval excludes 1.0): {false_diffs} of {n} ({:.1} %)\n\
         |ratio - 1| > {:.0} %: {outside} of {n}; largest |ratio - 1|: {:.2} %; widest interval: ±{:.2} %\n",
        sampling.processes,
        sampling.values,
        sampling.min_time * 1e3,
        100.0 * false_diffs as f64 / n.max(1) as f64,
        TOLERANCE * 100.0,
        worst * 100.0,
        widest * 100.0,
    )
}
