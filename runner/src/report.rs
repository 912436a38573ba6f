//! The `report` subcommand: from a results file to a page a user can link to — `report.html`
//! (self-contained), `report.md` (PR comments, CI summaries) and `plots/` (SVG and PNG).
//!
//! The decision summary is computed here as numbers ([`Decision`]) and phrased here too
//! ([`Decision::summary`]); the exporters only lay the sentences out, so every number in a sentence
//! comes from this run's analysis.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::analysis::{self, Analysis};
use crate::build_flags;
use crate::cli::ReportArgs;
use crate::export::table::format_value;
use crate::export::{html, markdown, plots};
use crate::interpreters::Interpreter;
use crate::matrix;
use crate::measure::Measure;
use crate::modes::Mode;
use crate::results::{CellStatus, Results, RunStatus};
use crate::scenarios::Kind;
use crate::stats::{self, Estimate};

/// Interpreters offered the same stable-ABI modes, in version order: within a band the user's
/// choice is the same, so its ratios are pooled.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// `3.8–3.9`, `3.12`, `3.13t`: the versions of this run's interpreters in the band.
    pub label: String,
    pub interpreters: Vec<String>,
}

/// Many paired ratios (one per scenario and interpreter) in one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub count: usize,
    /// Median of the ratios' points. Its interval is the median of their lower bounds and of their
    /// upper bounds: the median is monotone, so if every true ratio lies in its own interval, the
    /// median of the true ratios lies in this one.
    pub median: Estimate,
    pub min: f64,
    pub max: f64,
    /// Ratios whose interval lies wholly above 1.0 (measurably slower than unlimited) ...
    pub slower: usize,
    /// ... and wholly below it.
    pub faster: usize,
    /// The farthest any interval bound lies from 1.0: every ratio is within 1 ± `bound`.
    pub bound: f64,
}

impl Aggregate {
    pub fn of(estimates: &[Estimate]) -> Option<Aggregate> {
        if estimates.is_empty() {
            return None;
        }
        let col = |f: fn(&Estimate) -> f64| estimates.iter().map(f).collect::<Vec<f64>>();
        let points = col(|e| e.point);
        Some(Aggregate {
            count: estimates.len(),
            median: Estimate {
                point: stats::median(&points),
                low: stats::median(&col(|e| e.low)),
                high: stats::median(&col(|e| e.high)),
            },
            min: points.iter().copied().fold(f64::INFINITY, f64::min),
            max: points.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            slower: estimates.iter().filter(|e| e.low > 1.0).count(),
            faster: estimates.iter().filter(|e| e.high < 1.0).count(),
            bound: estimates.iter().map(|e| (e.low - 1.0).abs().max((e.high - 1.0).abs())).fold(0.0, f64::max),
        })
    }

    /// A difference is only stated when the median's interval excludes 1.0.
    pub fn measurable(&self) -> bool {
        !self.median.contains(1.0)
    }
}

/// One stable-ABI mode against unlimited over one kind of call (or one group) in one band.
#[derive(Debug, Clone)]
pub struct Cost {
    pub mode: Mode,
    pub band: usize,
    pub kind: Kind,
    /// `None`: every group of `kind`; otherwise that group's name.
    pub group: Option<String>,
    pub ratios: Aggregate,
}

/// How much of a low floor's chatty excess a higher floor removes, over the same ratios.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub from: Mode,
    pub to: Mode,
    pub band: usize,
    pub from_ratios: Aggregate,
    pub to_ratios: Aggregate,
    /// `(from − to) / (from − 1)` of the medians; `None` when `from` has no measurable excess.
    pub recovered: Option<f64>,
}

/// Scenarios a stable-ABI mode cannot express at all (their cells are `not_available`).
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub mode: Mode,
    pub kind: Kind,
    pub scenarios: Vec<String>,
    /// Scenarios of this kind the mode was run with.
    pub of: usize,
}

/// A group comparison whose baseline some stable-ABI mode cannot express: what the fallback path
/// costs against it, measured inside unlimited builds.
#[derive(Debug, Clone)]
pub struct Fallback {
    pub label: String,
    pub ratios: Aggregate,
}

/// Everything the summary says, as numbers.
#[derive(Debug, Clone)]
pub struct Decision {
    pub bands: Vec<Band>,
    pub costs: Vec<Cost>,
    pub group_costs: Vec<Cost>,
    pub recoveries: Vec<Recovery>,
    pub unavailable: Vec<Unavailable>,
    pub fallbacks: Vec<Fallback>,
}

/// `3.12` or `3.13t`.
fn version_label(i: &Interpreter) -> String {
    format!("{}{}", i.version, if i.gil_disabled { "t" } else { "" })
}

/// Interpreters in version order (free-threaded ones after the rest), the run's own order otherwise.
pub fn ordered_interpreters(r: &Results) -> Vec<&Interpreter> {
    let mut v: Vec<&Interpreter> = r.interpreters.iter().collect();
    v.sort_by_key(|i| (i.gil_disabled, i.version));
    v
}

/// Stable-ABI modes that have cells in this run, in table order.
pub fn stable_modes(r: &Results) -> Vec<Mode> {
    r.modes().into_iter().filter(|m| *m != Mode::Unlimited).collect()
}

pub fn bands(r: &Results) -> Vec<Band> {
    let modes_of = |i: &Interpreter| -> BTreeSet<Mode> {
        r.cells.iter().filter(|c| c.interpreter == i.name && c.mode != Mode::Unlimited).map(|c| c.mode).collect()
    };
    // Key: the stable-ABI modes offered, and free-threading (which never shares a band).
    type Key = (BTreeSet<Mode>, bool);
    let mut groups: Vec<(Key, Vec<&Interpreter>)> = Vec::new();
    for i in ordered_interpreters(r) {
        let key = (modes_of(i), i.gil_disabled);
        match groups.last_mut() {
            Some((k, members)) if *k == key => members.push(i),
            _ => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| {
            let (first, last) = (version_label(members[0]), version_label(members[members.len() - 1]));
            Band {
                label: if first == last { first } else { format!("{first}–{last}") },
                interpreters: members.iter().map(|i| i.name.clone()).collect(),
            }
        })
        .collect()
}

impl Decision {
    pub fn compute(r: &Results, a: &Analysis) -> Decision {
        let bands = bands(r);
        let modes = stable_modes(r);
        let group_of: BTreeMap<&str, (&str, Kind)> = r
            .groups
            .iter()
            .flat_map(|g| g.scenarios.iter().map(move |s| (s.name.as_str(), (g.name.as_str(), g.kind))))
            .collect();
        // The ratios of `mode` in band `b` whose scenario passes `keep`.
        let ratios = |mode: Mode, b: &Band, keep: &dyn Fn(&str, Kind) -> bool| -> Vec<&analysis::Ratio> {
            a.mode_ratios
                .iter()
                .filter(|x| x.mode == mode && b.interpreters.contains(&x.interpreter))
                .filter(|x| group_of.get(x.scenario.as_str()).is_some_and(|(g, k)| keep(g, *k)))
                .collect()
        };
        let estimates = |rs: &[&analysis::Ratio]| rs.iter().map(|x| x.ratio).collect::<Vec<_>>();

        let mut costs = Vec::new();
        let mut group_costs = Vec::new();
        for &mode in &modes {
            for (bi, b) in bands.iter().enumerate() {
                for kind in [Kind::Chatty, Kind::Compute] {
                    if let Some(agg) = Aggregate::of(&estimates(&ratios(mode, b, &|_, k| k == kind))) {
                        costs.push(Cost { mode, band: bi, kind, group: None, ratios: agg });
                    }
                }
                for g in &r.groups {
                    if let Some(agg) = Aggregate::of(&estimates(&ratios(mode, b, &|name, _| name == g.name))) {
                        group_costs.push(Cost {
                            mode,
                            band: bi,
                            kind: g.kind,
                            group: Some(g.name.clone()),
                            ratios: agg,
                        });
                    }
                }
            }
        }

        let mut recoveries = Vec::new();
        let abi3: Vec<Mode> = modes.iter().copied().filter(|m| matches!(m, Mode::Abi3(_))).collect();
        if let Some((&from, higher)) = abi3.split_first() {
            for &to in higher {
                for (bi, b) in bands.iter().enumerate() {
                    let chatty = |m| ratios(m, b, &|_, k| k == Kind::Chatty);
                    let (low, high) = (chatty(from), chatty(to));
                    // Only the (scenario, interpreter) pairs both floors ran, so the medians compare like with like.
                    let both = |xs: &[&analysis::Ratio], ys: &[&analysis::Ratio]| -> Vec<Estimate> {
                        xs.iter()
                            .filter(|x| ys.iter().any(|y| y.scenario == x.scenario && y.interpreter == x.interpreter))
                            .map(|x| x.ratio)
                            .collect()
                    };
                    let (Some(f), Some(t)) = (Aggregate::of(&both(&low, &high)), Aggregate::of(&both(&high, &low)))
                    else {
                        continue;
                    };
                    let recovered = (f.measurable() && f.median.point > 1.0)
                        .then(|| (f.median.point - t.median.point) / (f.median.point - 1.0));
                    recoveries.push(Recovery { from, to, band: bi, from_ratios: f, to_ratios: t, recovered });
                }
            }
        }

        let mut unavailable = Vec::new();
        for &mode in &modes {
            for kind in [Kind::Chatty, Kind::Compute] {
                let run: BTreeSet<&str> = r
                    .cells
                    .iter()
                    .filter(|c| c.mode == mode && group_of.get(c.scenario.as_str()).is_some_and(|(_, k)| *k == kind))
                    .map(|c| c.scenario.as_str())
                    .collect();
                let missing: Vec<String> = run
                    .iter()
                    .filter(|s| {
                        r.cells
                            .iter()
                            .any(|c| c.mode == mode && c.scenario == **s && c.status == CellStatus::NotAvailable)
                    })
                    .map(|s| s.to_string())
                    .collect();
                if !missing.is_empty() {
                    unavailable.push(Unavailable { mode, kind, scenarios: missing, of: run.len() });
                }
            }
        }

        let missing_anywhere: BTreeSet<&str> =
            unavailable.iter().flat_map(|u| u.scenarios.iter().map(String::as_str)).collect();
        let fallbacks = r
            .groups
            .iter()
            .flat_map(|g| g.comparisons.iter().map(move |c| (g, c)))
            .filter(|(_, c)| {
                missing_anywhere.contains(c.baseline.as_str()) && !missing_anywhere.contains(c.candidate.as_str())
            })
            .filter_map(|(g, c)| {
                let es: Vec<Estimate> = a
                    .comparisons
                    .iter()
                    .filter(|x| x.group == g.name && x.label == c.label && x.mode == Mode::Unlimited)
                    .map(|x| x.ratio)
                    .collect();
                Some(Fallback { label: c.label.clone(), ratios: Aggregate::of(&es)? })
            })
            .collect();

        Decision { bands, costs, group_costs, recoveries, unavailable, fallbacks }
    }

    /// The summary's sentences, section by section. Each number is a field of `self`.
    pub fn summary(&self) -> Vec<(&'static str, Vec<String>)> {
        let band = |i: usize| self.bands[i].label.as_str();
        let kind_lines = |kind: Kind, phrase: &dyn Fn(&Aggregate) -> String| -> Vec<String> {
            self.costs
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| format!("{} on {}: {}", c.mode, band(c.band), phrase(&c.ratios)))
                .collect()
        };
        let mut sections = vec![
            ("Chatty calls (per-call overhead dominates)", kind_lines(Kind::Chatty, &cost_phrase)),
            ("Compute-bound calls", kind_lines(Kind::Compute, &compute_phrase)),
        ];
        let floors = self
            .recoveries
            .iter()
            .map(|x| {
                let head = format!("Raising the floor from {} to {} on {}", x.from, x.to, band(x.band));
                let (f, t) = (&x.from_ratios, &x.to_ratios);
                match x.recovered {
                    Some(z) => format!(
                        "{head} recovers {:.0} % of the chatty excess (median {:.2}× → {:.2}× over the same {} ratios){}.",
                        100.0 * z,
                        f.median.point,
                        t.median.point,
                        f.count,
                        if t.measurable() {
                            String::new()
                        } else {
                            format!("; {} itself: no difference measurable (interval includes 1.0)", x.to)
                        }
                    ),
                    None => format!(
                        "{head}: nothing measurable to recover ({}'s chatty median {:.2}×, interval {:.2}–{:.2}× includes 1.0).",
                        x.from, f.median.point, f.median.low, f.median.high
                    ),
                }
            })
            .collect();
        sections.push(("Raising the floor", floors));
        let mut missing: Vec<String> = self
            .unavailable
            .iter()
            .map(|u| {
                format!(
                    "{}: {} of {} {} paths cannot be expressed ({}).",
                    u.mode,
                    u.scenarios.len(),
                    u.of,
                    kind_name(u.kind),
                    u.scenarios.join(", ")
                )
            })
            .collect();
        missing.extend(self.fallbacks.iter().map(|f| {
            format!(
                "Fallback for a missing path, measured within unlimited builds, {}: {}",
                f.label,
                cost_phrase(&f.ratios)
            )
        }));
        sections.push(("Paths the stable ABI cannot express", missing));
        sections.retain(|(_, lines)| !lines.is_empty());
        if self.costs.is_empty() {
            sections.insert(
                0,
                ("Nothing to compare", vec!["No stable-ABI mode has a ratio to unlimited in this run.".to_string()]),
            );
        }
        sections
    }
}

impl Decision {
    /// The by-group table: a header, then a row per (group, stable-ABI mode) with a cell per band.
    /// A cell reads `1.45×` when the median's interval excludes 1.0, `(1.02×)` when it does not.
    pub fn group_table(&self, r: &Results) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header = vec!["group".to_string(), "kind".to_string(), "mode".to_string()];
        header.extend(self.bands.iter().map(|b| b.label.clone()));
        let mut rows = Vec::new();
        for g in &r.groups {
            for mode in stable_modes(r) {
                let cells: Vec<String> = (0..self.bands.len())
                    .map(|bi| {
                        self.group_costs
                            .iter()
                            .find(|c| c.mode == mode && c.band == bi && c.group.as_deref() == Some(&g.name))
                            .map_or("—".into(), |c| c.ratios.short())
                    })
                    .collect();
                if cells.iter().any(|c| c != "—") {
                    let mut row = vec![g.title.clone(), kind_name(g.kind).to_string(), mode.name()];
                    row.extend(cells);
                    rows.push(row);
                }
            }
        }
        (header, rows)
    }
}

impl Aggregate {
    /// `1.45× (1.02–2.91)` or, when no difference is measurable, `(1.02×) (0.95–1.10)`: the
    /// median, marked as in the heatmap, and the range of the pooled ratios.
    pub fn short(&self) -> String {
        let point = if self.measurable() {
            format!("{:.2}×", self.median.point)
        } else {
            format!("({:.2}×)", self.median.point)
        };
        format!("{point} range {:.2}–{:.2}", self.min, self.max)
    }
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Chatty => "chatty",
        Kind::Compute => "compute",
    }
}

/// `1.45× (median of 14 ratios, 95 % interval 1.30–1.60×, range 0.98–2.91×)`.
fn ratio_phrase(a: &Aggregate, of: &str) -> String {
    format!(
        "{:.2}× (median of {} {of}, interval {:.2}–{:.2}×, range {:.2}–{:.2}×)",
        a.median.point, a.count, a.median.low, a.median.high, a.min, a.max
    )
}

fn counts(a: &Aggregate) -> String {
    format!("{} of {} measurably slower, {} measurably faster", a.slower, a.count, a.faster)
}

fn cost_phrase(a: &Aggregate) -> String {
    if a.measurable() {
        let verb = if a.median.point > 1.0 { "costs" } else { "is faster at" };
        format!("{verb} {}; {}.", ratio_phrase(a, "ratios"), counts(a))
    } else {
        format!(
            "no difference measurable (interval {:.2}–{:.2}× includes 1.0; median {:.2}× of {} ratios, range {:.2}–{:.2}×); {}.",
            a.median.low, a.median.high, a.median.point, a.count, a.min, a.max, counts(a)
        )
    }
}

fn compute_phrase(a: &Aggregate) -> String {
    let diff = if a.measurable() {
        format!("the median differs measurably: {}", ratio_phrase(a, "ratios"))
    } else {
        format!("no difference measurable (median {:.2}×, interval includes 1.0)", a.median.point)
    };
    format!("within {:.1} % of unlimited (every interval of {} ratios); {diff}.", 100.0 * a.bound, a.count)
}

/// What the page answers, in the words both formats open with.
pub const QUESTION: &str = "abi3, version-specific, or both? Each stable-ABI build is measured against the \
    version-specific (unlimited) build inside the same interpreter, pair by pair, so the ratios below \
    are what the stable ABI costs each kind of call on each interpreter of this machine.";

/// One line saying which run this is: id, level, status, interpreters, machine.
pub fn run_line(r: &Results) -> String {
    let names: Vec<String> = ordered_interpreters(r).iter().map(|i| i.name.clone()).collect();
    format!(
        "Run {}, {} level, {}: {} interpreter(s) ({}) on {} ({} logical CPUs).",
        r.run.id,
        format!("{:?}", r.run.level).to_lowercase(),
        format!("{:?}", r.run.status).to_lowercase(),
        names.len(),
        names.join(", "),
        r.host.cpu_model,
        r.host.logical_cpus
    )
}

/// The FFI cost above each scenario's native floor (`compare --native`): a header, then a row per
/// (scenario with a floor, interpreter) with the floor and, per mode, `+excess (×ratio)`. Empty
/// when the run has no floors.
pub fn native_table(r: &Results, a: &Analysis) -> (Vec<String>, Vec<Vec<String>>) {
    let Some(native) = &r.native else { return (Vec::new(), Vec::new()) };
    let modes = r.modes();
    let mut header = vec!["scenario".to_string(), "python".into(), "native floor".into()];
    header.extend(modes.iter().map(|m| m.name()));
    let mut rows = Vec::new();
    for s in r.groups.iter().flat_map(|g| &g.scenarios) {
        let Some(floor) = native.floors.get(&s.name) else { continue };
        for i in ordered_interpreters(r) {
            let mut row = vec![s.name.clone(), i.name.clone(), format_value(floor.per_op_ns.point, Measure::WallTime)];
            row.extend(modes.iter().map(|&m| {
                a.above_native(&i.name, m, &s.name).map_or("—".into(), |x| {
                    format!("+{} (×{:.1})", format_value(x.excess_ns.point, Measure::WallTime), x.ratio.point)
                })
            }));
            rows.push(row);
        }
    }
    (header, rows)
}

/// What about this run limits how far its figures can be trusted.
pub fn run_caveats(r: &Results, a: &Analysis) -> Vec<String> {
    let mut caveats = build_flags::caveats(&r.interpreters);
    let s = &r.run.sampling;
    if r.run.level == crate::measure::Level::Quick {
        caveats.push(format!(
            "Quick run: {} values per cell from {} process(es); ratios are indicative only.",
            s.values, s.processes
        ));
    }
    match r.run.status {
        RunStatus::Complete => {}
        RunStatus::Interrupted => caveats.push("The run was interrupted: cells it did not reach are missing.".into()),
        RunStatus::Running => {
            caveats.push("The run never finished (killed?): cells it did not reach are missing.".into())
        }
    }
    // The terminal's noise lines, word for word: one judgement of the run, wherever it is read.
    caveats.extend(analysis::noise_warnings(r, a).into_iter().map(|w| format!("Noise: {w}.")));
    if r.source.git_dirty {
        caveats.push("The source tree had uncommitted changes when the run started.".into());
    }
    let mut failed: BTreeMap<&str, usize> = BTreeMap::new();
    for c in r.cells.iter().filter(|c| c.status.is_final_failure() && c.status != CellStatus::NotAvailable) {
        *failed.entry(c.status.label()).or_default() += 1;
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|(s, n)| format!("{n} {s}")).collect();
        caveats.push(format!("Cells without values: {}; the full table gives each reason.", list.join(", ")));
    }
    for b in &r.builds {
        if let Some(audit) = b.audit.as_ref().filter(|a| !a.passed()) {
            caveats.push(format!(
                "The {} build imports symbols outside the Stable ABI {}.{}: {} not stable, {} too new.",
                b.mode,
                audit.floor.0,
                audit.floor.1,
                audit.not_stable.len(),
                audit.too_new.len()
            ));
        }
    }
    caveats
}

/// What one interpreter does with one build placed where an installer would put it: the
/// figure's reading of an `abibench matrix` cell (the file keeps every step's detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Found under its canonical name, imported and smoke-called.
    Ok,
    /// Found, and the import or the call raised (ImportError, SystemError, ...).
    Refused,
    /// Found, and the child died (signal, timeout, no report).
    Crash,
    /// The interpreter does not look for this file name at all.
    NotFound,
    /// Not checked: the build does not exist (its build failed).
    NotRun,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Refused => "refused",
            Verdict::Crash => "crash",
            Verdict::NotFound => "not found",
            Verdict::NotRun => "no build",
        }
    }

    pub fn of(c: &matrix::MatrixCell) -> Verdict {
        use matrix::{Load, Step};
        match (c.canonical.found, &c.forced) {
            (_, Step::NotRun { .. }) => Verdict::NotRun,
            (Some(false), _) => Verdict::NotFound,
            (_, Step::Done { result: Load::Ok }) => Verdict::Ok,
            (_, Step::Done { result: Load::Raised { .. } }) => Verdict::Refused,
            (_, Step::Crashed { .. } | Step::Exited { .. } | Step::Timeout { .. }) => Verdict::Crash,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixCell {
    pub build: String,
    pub interpreter: String,
    pub verdict: Verdict,
}

/// The ABI compatibility matrix (which build each interpreter loads), as the report draws it.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub source: PathBuf,
    pub cells: Vec<MatrixCell>,
}

/// Reads a file written by `abibench matrix` (`--matrix FILE`) into the figure's cells.
pub fn read_matrix(path: &Path) -> Result<Matrix> {
    let m = matrix::Matrix::read(path).with_context(|| format!("--matrix {}", path.display()))?;
    if m.cells.is_empty() {
        bail!("--matrix {}: the matrix has no cells", path.display());
    }
    let label = |c: &matrix::MatrixCell| {
        m.builds
            .iter()
            .find(|b| b.mode == c.mode && b.abi_tag == c.abi_tag)
            .map_or_else(|| format!("{} ({})", c.mode, c.abi_tag), |b| b.label())
    };
    let cells = m
        .cells
        .iter()
        .map(|c| MatrixCell { build: label(c), interpreter: c.interpreter.clone(), verdict: Verdict::of(c) })
        .collect();
    Ok(Matrix { source: path.to_path_buf(), cells })
}

/// The matrix a report of results in `dir` shows when none is named: the newest `matrix-*.json`
/// there, if any.
pub fn newest_matrix(dir: &Path) -> Option<PathBuf> {
    crate::results::latest(dir, "matrix-").ok()
}

/// Everything the HTML and Markdown exporters show.
pub struct Report<'a> {
    pub results: &'a Results,
    pub analysis: &'a Analysis,
    pub decision: Decision,
    pub caveats: Vec<String>,
    pub plots: Vec<plots::Plot>,
    pub matrix: Option<&'a Matrix>,
    /// The results file, as a path relative to the report directory (for links).
    pub results_link: String,
}

/// `target` as seen from directory `base` (both made absolute), for a link that survives moving
/// the pair together.
fn relative_link(target: &Path, base: &Path) -> Result<String> {
    let abs = |p: &Path| std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()));
    let (t, b) = (abs(target)?, abs(base)?);
    let (t, b): (Vec<Component>, Vec<Component>) = (t.components().collect(), b.components().collect());
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    rel.extend(&t[common..]);
    Ok(rel.to_string_lossy().into_owned())
}

/// Where `report` writes when not told: beside the results file, in a directory named after it.
pub fn default_dir(results_file: &Path) -> PathBuf {
    results_file.with_extension("")
}

/// Writes `report.html`, `report.md` and `plots/` into `out`; returns the HTML's path.
pub fn write(r: &Results, a: &Analysis, results_file: &Path, out: &Path, matrix: Option<&Matrix>) -> Result<PathBuf> {
    let plot_dir = out.join("plots");
    std::fs::create_dir_all(&plot_dir).with_context(|| format!("cannot create {}", plot_dir.display()))?;
    let figures = plots::figures(r, matrix);
    let plots = figures.par_iter().map(|f| f.write(r, a, &plot_dir)).collect::<Result<Vec<_>>>()?;
    let report = Report {
        results: r,
        analysis: a,
        decision: Decision::compute(r, a),
        caveats: run_caveats(r, a),
        plots,
        matrix,
        results_link: relative_link(results_file, out)?,
    };
    let html_path = out.join("report.html");
    for (path, text) in [(&html_path, html::render(&report)), (&out.join("report.md"), markdown::render(&report))] {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(html_path)
}

pub fn run(args: &ReportArgs) -> Result<()> {
    let start = Instant::now();
    let file = match &args.file {
        Some(p) => p.clone(),
        None => crate::results::latest(Path::new("results"), "")?,
    };
    let results_dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let matrix_file = args.matrix.clone().or_else(|| newest_matrix(results_dir));
    let matrix = matrix_file.as_deref().map(read_matrix).transpose()?;
    let r = Results::read(&file)?;
    let a = analysis::analyse(&r);
    let out = args.out.clone().unwrap_or_else(|| default_dir(&file));
    let html = write(&r, &a, &file, &out, matrix.as_ref())?;
    eprintln!("report: {} (and report.md, plots/) in {:.1} s", html.display(), start.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn decision() -> Decision {
        let r = testdata::results();
        Decision::compute(&r, &analysis::analyse(&r))
    }

    fn est(point: f64, low: f64, high: f64) -> Estimate {
        Estimate { point, low, high }
    }

    #[test]
    fn aggregate_pools_points_and_bounds_and_counts_measurable_ratios() {
        let a = Aggregate::of(&[est(1.5, 1.4, 1.6), est(1.0, 0.9, 1.1), est(0.8, 0.7, 0.85)]).unwrap();
        assert_eq!(a.median, est(1.0, 0.9, 1.1));
        assert_eq!((a.min, a.max, a.slower, a.faster, a.count), (0.8, 1.5, 1, 1, 3));
        assert!((a.bound - 0.6).abs() < 1e-12);
        assert!(!a.measurable());
        assert!(Aggregate::of(&[est(1.5, 1.4, 1.6)]).unwrap().measurable());
        assert_eq!(Aggregate::of(&[]), None);
    }

    #[test]
    fn bands_split_where_the_offered_modes_change() {
        let d = decision();
        let labels: Vec<&str> = d.bands.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["3.8", "3.12"]);
    }

    #[test]
    fn costs_recoveries_and_gaps_match_the_known_fixture() {
        let d = decision();
        let cost = |mode: &str, band: usize, kind: Kind| {
            d.costs.iter().find(|c| c.mode.name() == mode && c.band == band && c.kind == kind).unwrap().ratios.clone()
        };
        // abi3-py38 costs 1.5x on the chatty path on both interpreters, measurably.
        for band in [0, 1] {
            let c = cost("abi3-py38", band, Kind::Chatty);
            assert!((c.median.point - 1.5).abs() < 0.03 && c.measurable() && c.slower == 1, "{c:?}");
        }
        let k = cost("abi3-py38", 1, Kind::Compute);
        assert!(!k.measurable() && k.bound < 0.05, "{k:?}");
        // Floor 3.12 on 3.12: 1.5x -> 1.1x recovers 80 % of the excess.
        let rec = &d.recoveries[0];
        assert_eq!((rec.from.name(), rec.to.name(), rec.band), ("abi3-py38".into(), "abi3-py312".into(), 1));
        assert!((rec.recovered.unwrap() - 0.8).abs() < 0.07, "{rec:?}");
        assert_eq!(d.recoveries.len(), 1, "abi3-py312 does not run on 3.8");
        let u = d.unavailable.iter().find(|u| u.mode.name() == "abi3-py38").unwrap();
        assert_eq!((u.scenarios.clone(), u.of, u.kind), (vec!["list_macro".to_string()], 2, Kind::Chatty));
        assert_eq!(d.fallbacks.len(), 1);
        assert!((d.fallbacks[0].ratios.median.point - 1.25).abs() < 0.03, "{:?}", d.fallbacks);
    }

    #[test]
    fn sentences_state_a_difference_only_when_the_interval_excludes_one() {
        let text: Vec<String> = decision().summary().into_iter().flat_map(|(_, l)| l).collect();
        let line =
            |needle: &str| text.iter().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}: {text:#?}"));
        assert!(line("abi3-py38 on 3.8: costs 1.5").contains("1 of 1 measurably slower"));
        assert!(line("abi3-py38 on 3.12: within").contains("no difference measurable"));
        assert!(line("to abi3-py312 on 3.12 recovers").contains("% of the chatty excess"));
        assert!(line("abi3-py38: 1 of 2 chatty paths").contains("list_macro"));
        // A ratio whose interval straddles 1.0 is never called a cost.
        let unclear = Aggregate::of(&[est(1.3, 0.9, 1.7)]).unwrap();
        assert!(cost_phrase(&unclear).starts_with("no difference measurable"), "{}", cost_phrase(&unclear));
        let faster = Aggregate::of(&[est(0.8, 0.75, 0.85)]).unwrap();
        assert!(cost_phrase(&faster).starts_with("is faster at 0.80×"), "{}", cost_phrase(&faster));
    }

    #[test]
    fn a_run_without_stable_abi_modes_says_so() {
        let mut r = testdata::results();
        r.cells.retain(|c| c.mode == Mode::Unlimited);
        let summary = Decision::compute(&r, &analysis::analyse(&r)).summary();
        assert_eq!(summary.len(), 1, "{summary:?}");
        assert_eq!(summary[0].0, "Nothing to compare");
    }

    #[test]
    fn build_flag_differences_are_named_per_interpreter() {
        let r = testdata::results();
        let caveats = build_flags::caveats(&r.interpreters);
        assert_eq!(caveats.len(), 1, "{caveats:?}");
        assert!(caveats[0].contains("3.8.18 (pyenv): GCC 12.2.0 -O3, no PGO/LTO"), "{caveats:?}");
        let same = vec![r.interpreters[0].clone()];
        assert!(build_flags::caveats(&same)[0].contains("No interpreter was built with PGO"));
    }

    #[test]
    fn matrix_cells_read_as_an_installer_would_meet_them() {
        use crate::matrix::{sample_cell, Load, Step};
        let ok = || Step::Done { result: Load::Ok };
        let raised = Step::Done { result: Load::Raised { exception: "ImportError".into(), message: "x".into() } };
        let crashed = Step::Crashed { signal: 11, signal_name: "SIGSEGV".into(), stderr: String::new() };
        assert_eq!(Verdict::of(&sample_cell(Some(true), ok())), Verdict::Ok);
        // Loads when renamed, but no installer would put it where this interpreter looks.
        assert_eq!(Verdict::of(&sample_cell(Some(false), ok())), Verdict::NotFound);
        assert_eq!(Verdict::of(&sample_cell(Some(true), raised)), Verdict::Refused);
        assert_eq!(Verdict::of(&sample_cell(None, crashed)), Verdict::Crash);
        assert_eq!(Verdict::of(&sample_cell(None, Step::NotRun { reason: "no build".into() })), Verdict::NotRun);
    }

    #[test]
    fn a_bad_matrix_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "[]").unwrap();
        let err = format!("{:#}", read_matrix(&bad).unwrap_err());
        assert!(err.contains("--matrix") && err.contains("bad.json"), "{err}");
    }

    #[test]
    fn links_to_the_results_file_are_relative_to_the_report() {
        assert_eq!(relative_link(Path::new("/r/20260101.json"), Path::new("/r/20260101")).unwrap(), "../20260101.json");
        assert_eq!(relative_link(Path::new("/r/ref/x.json"), Path::new("/r/ref")).unwrap(), "x.json");
        assert_eq!(default_dir(Path::new("results/20260101T000000Z.json")), Path::new("results/20260101T000000Z"));
    }
}
