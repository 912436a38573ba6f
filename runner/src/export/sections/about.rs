//! The closing sections: the methodology and the environment (host, interpreters, builds).

use crate::analysis::decision::ordered_interpreters;
use crate::analysis::settle::stopping;
use crate::analysis::stats::RESAMPLES;
use crate::export::doc::{Block, Inline, List, Section, Table};
use crate::export::page::Report;
use crate::model::build::{failure_headline, BuildOutcome};
use crate::model::results::Results;
use crate::model::sampling::{Measure, Stop};
use crate::setup::build_flags;

fn text(s: &str) -> Inline {
    Inline::text(s)
}

/// How this run measured: the first two points of the methodology.
fn this_run(r: &Results) -> [Vec<Inline>; 2] {
    let s = &r.run.sampling;
    let per_op = |what: &str| {
        vec![
            Inline::Text(format!("{what} (a scenario's ")),
            Inline::Code("n".into()),
            text(" operations per statement)."),
        ]
    };
    match s.measure {
        Measure::WallTime => [
            vec![
                text(
                    "Each interpreter runs one worker process at a time that loads every build fitting it and times \
                     each scenario in all modes ",
                ),
                Inline::Emph("interleaved".into()),
                Inline::Text(format!(
                    ": one value per mode per round, order shuffled each round (seed {}), so drift hits every mode alike.",
                    r.run.seed
                )),
            ],
            per_op(&format!(
                "This run: {} Each value lasted at least {} ms of loops sized to last that long, after {} warm-up(s); the \
                 empty-loop cost measured in the same process is subtracted; times are per operation",
                stages(r),
                s.min_time * 1e3,
                s.warmups
            )),
        ],
        Measure::Instructions => [
            vec![
                text("Instructions, not time: each interpreter's worker runs under "),
                Inline::Code("valgrind --tool=callgrind".into()),
                Inline::Text(format!(
                    " with collection on only inside the extension's region function around the measured loop. A value \
                     is the count of a region of 2L loops minus one of L loops, so setup cancels; L comes from counted \
                     probes (about {} instructions per region), so repeated runs give identical counts.",
                    s.target_instructions
                )),
            ],
            per_op(&format!("This run: {} (L, 2L) pair(s) per cell; counts are per operation", s.values)),
        ],
    }
}

/// How many values each cell got, and, for a run in stages, why its scenarios stopped.
fn stages(r: &Results) -> String {
    let s = &r.run.sampling;
    let Some((u, st)) = s.until.as_ref().zip(stopping(r)) else {
        return format!("{} values per cell from each of {} process(es).", s.values, s.processes);
    };
    let reasons: Vec<String> = st
        .reasons
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(stop, n)| {
            let why = match stop {
                Stop::Precise => format!("stopped within ±{}%", u.half_width * 100.0),
                Stop::Clear => "clear of the thresholds".into(),
                Stop::Cap => "at the cap".into(),
            };
            format!("{n} {why}")
        })
        .collect();
    let reasons = match reasons.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => reasons.join(""),
    };
    let (low, median, high) = st.values;
    let judged: usize = st.reasons.iter().map(|(_, n)| n).sum();
    format!(
        "{} values per cell from each worker process, in stages: every scenario got {} processes, then one more at a \
         time until each of its stable-ABI ratios was within ±{}% or clear of the {} thresholds, at most {}. Of its \
         {judged} scenarios (counted once per interpreter), {}; cells got {} to {} values (median {}).",
        s.values,
        u.min_processes,
        u.half_width * 100.0,
        u.thresholds.iter().map(|t| format!("{}%", t * 100.0)).collect::<Vec<_>>().join("/"),
        s.processes,
        reasons,
        low,
        high,
        median
    )
}

pub fn methodology(r: &Results) -> Section {
    let [first, second] = this_run(r);
    let items = vec![
        first,
        second,
        vec![Inline::Text(format!(
            "A cell's value is the median of its values with a 95 % percentile-bootstrap interval ({RESAMPLES} \
             resamples). Outliers are counted, never dropped."
        ))],
        vec![text(
            "A stable-ABI ratio divides each value by the unlimited value of the same round in the same process (and \
             the same layout variant); the ratio is the median of those pairs, with a bootstrap interval over layout \
             variants, then worker processes, then pairs within them (a build's code placement is shared by all its \
             values, a process's memory layout by all of its). Ratios whose interval includes 1.0 are shown in grey or \
             in parentheses and never called a difference; nor is a pooled difference inside the noise floor of the \
             negative controls.",
        )],
        vec![text(
            "Pooled figures in the summary take the median of the ratios' points; their interval is the median of the \
             ratios' lower and upper bounds. Bands group interpreters offered the same stable-ABI modes. “Recovers Z \
             %” is the share of the lower floor's excess (median − 1) that the higher floor removes, over the \
             scenario/interpreter pairs both ran.",
        )],
        vec![
            Inline::Code("n/a in mode".into()),
            text(": the build cannot express that C API path; nothing is substituted. "),
            Inline::Code("—".into()),
            text(": the mode does not fit that interpreter."),
        ],
        vec![text("Compare ratios within a run; absolute times across runs on a shared machine are not comparable.")],
    ];
    let blocks = vec![Block::List(List { class: None, items, brief: None })];
    Section { id: "method", title: "Methodology".into(), nav: Some("Methodology"), appendix: true, blocks }
}

/// The host and the run, as name: value pairs.
fn machine(r: &Results) -> Vec<(String, String)> {
    let h = &r.host;
    let load = h.load_average_at_start.map_or("unknown".into(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]));
    let toolchain = r.toolchain.as_ref().map_or_else(
        || "not recorded".into(),
        |t| format!("{}, LLVM {}, {}; RUSTFLAGS \"{}\"", t.rustc, t.llvm, t.cargo, t.rustflags),
    );
    let source = format!(
        "git {}{}, extension source hash {}",
        r.source.git_revision.as_deref().unwrap_or("unknown"),
        if r.source.git_dirty { " (uncommitted changes)" } else { "" },
        r.source.ext_source_hash
    );
    [
        ("host", h.hostname.clone()),
        ("OS", format!("{} (kernel {})", h.os, h.kernel)),
        ("CPU", format!("{} ({} logical)", h.cpu_model, h.logical_cpus)),
        ("CPU identity", h.cpu.as_ref().map_or_else(|| "not recorded".into(), |c| c.id())),
        ("address-space randomisation", h.aslr.clone().unwrap_or_else(|| "unknown".into())),
        ("toolchain", toolchain),
        ("memory", format!("{:.1} GiB", h.memory_bytes as f64 / (1u64 << 30) as f64)),
        ("load at start", load),
        ("CPU governor", h.cpu_governor.clone().unwrap_or_else(|| "unknown".into())),
        ("tool", r.tool.clone()),
        ("command", r.run.argv.join(" ")),
        (
            "started / finished",
            format!("{} / {}", r.run.started_at, r.run.finished_at.as_deref().unwrap_or("not finished")),
        ),
        ("build / measure time", format!("{:.1} s / {:.1} s", r.run.build_seconds, r.run.measure_seconds)),
        ("source", source),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn interpreters(r: &Results) -> (Vec<String>, Vec<Vec<String>>) {
    let header = ["name", "found via", "executable", "SOABI", "built with", "configure"].map(String::from).to_vec();
    let rows = ordered_interpreters(r)
        .iter()
        .map(|i| {
            // Flags as build_flags reads them: for Debian's packages, from the packaging, not sysconfig.
            let flags = build_flags::of(i);
            vec![
                i.full_version.lines().next().map_or(i.name.clone(), |v| format!("{} ({v})", i.name)),
                i.provenance.to_string(),
                i.argv.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
                i.soabi.clone(),
                flags.to_string() + if flags.basis.is_some() { " (from the packaging)" } else { "" },
                i.build.config_args.clone(),
            ]
        })
        .collect();
    (header, rows)
}

fn builds(r: &Results) -> (Vec<String>, Vec<Vec<String>>) {
    let header = ["mode", "ABI tag", "layout", "outcome", "SHA-256", "bytes", "seconds", "stable-ABI audit"]
        .map(String::from)
        .to_vec();
    let rows = r
        .builds
        .iter()
        .map(|b| {
            let (outcome, sha, size) = match &b.outcome {
                BuildOutcome::Ok { cached, sha256, size, .. } => (
                    if *cached { "ok (cached)" } else { "ok" }.to_string(),
                    sha256.get(..16).unwrap_or("—").to_string(),
                    size.to_string(),
                ),
                BuildOutcome::Failed { error } => {
                    (format!("FAILED: {}", failure_headline(error)), "—".into(), "—".into())
                }
            };
            let layout = b.layout_seed.map_or("linker order".into(), |s| format!("{}: shuffle seed {s}", b.layout));
            let audit = b.audit.as_ref().map_or("—".into(), |a| {
                if a.passed() {
                    format!("passed ({} symbols within {}.{})", a.checked, a.floor.0, a.floor.1)
                } else {
                    format!("FAILED: {} not stable, {} too new", a.not_stable.len(), a.too_new.len())
                }
            });
            vec![b.mode.name(), b.abi_tag.clone(), layout, outcome, sha, size, format!("{:.1}", b.seconds), audit]
        })
        .collect();
    (header, rows)
}

/// The crate's benchmark tests, when they were the scenarios: what pytest ran, which pytest each
/// interpreter had, and the tests that are no scenario, with why.
fn benchmark_tests(r: &Results) -> Vec<Block> {
    let Some(p) = &r.pytest else { return Vec::new() };
    let mut terms = vec![
        ("tests".to_string(), p.tests.join(" ")),
        ("run from".to_string(), p.root.display().to_string()),
        (
            "how".to_string(),
            "each test run once per build with abibench's benchmark fixture and marker; the call it hands to \
             benchmark (or the test, marked benchmark without the fixture) is the scenario, timed as statements are"
                .to_string(),
        ),
    ];
    if !p.with.is_empty() {
        terms.push(("installed with pytest".to_string(), p.with.join(", ")));
    }
    terms.extend(p.environments.iter().map(|e| (format!("pytest on {}", e.interpreter), e.origin())));
    let mut blocks = vec![Block::heading("Benchmark tests (pytest)"), Block::Terms(terms)];
    let rows: Vec<Vec<String>> = p
        .left_out
        .iter()
        .map(|t| {
            vec![t.node.clone(), t.status.replace('_', " "), t.reason.lines().next().unwrap_or_default().to_string()]
        })
        .collect();
    if !rows.is_empty() {
        blocks.push(Block::heading("Tests left out"));
        let header = ["test", "outcome", "why"].map(String::from).to_vec();
        blocks.extend(Table::plain("left-out mono", (header, rows)).map(Block::Table));
    }
    blocks
}

pub fn environment(rep: &Report) -> Section {
    let r = rep.results;
    let mut blocks = vec![Block::heading("Machine and run"), Block::Terms(machine(r)), Block::heading("Interpreters")];
    blocks.extend(Table::plain("interpreters mono", interpreters(r)).map(Block::Table));
    blocks.push(Block::heading("Builds"));
    blocks.extend(Table::plain("builds", builds(r)).map(Block::Table));
    blocks.extend(benchmark_tests(r));
    Section {
        id: "environment",
        title: "Environment and interpreter provenance".into(),
        nav: Some("Environment"),
        appendix: true,
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testdata;
    use crate::model::pytest::{PytestEnv, PytestRecord, TestOutcome};

    #[test]
    fn the_crates_tests_their_pytest_and_the_tests_left_out_are_listed() {
        let mut r = testdata::results();
        assert!(benchmark_tests(&r).is_empty(), "no --pytest, no such part");
        r.pytest = Some(PytestRecord {
            tests: vec!["tests".into()],
            root: "/src/mycrate".into(),
            with: vec!["dirty-equals".into()],
            environments: vec![PytestEnv {
                interpreter: "3.12.1".into(),
                pytest_version: "9.2.0".into(),
                pytest_file: "/x/pytest/__init__.py".into(),
                installed: Some("/cache/pytest/3.12.1-ab".into()),
            }],
            left_out: vec![TestOutcome {
                node: "tests/test_b.py::test_plain".into(),
                status: "not_benchmark".into(),
                reason: "uses neither the benchmark fixture nor the benchmark marker\nmore".into(),
            }],
        });
        let blocks = benchmark_tests(&r);
        let Block::Terms(terms) = &blocks[1] else { panic!("{blocks:?}") };
        assert!(terms.contains(&("installed with pytest".into(), "dirty-equals".into())), "{terms:?}");
        assert!(terms.contains(&(
            "pytest on 3.12.1".into(),
            "pytest 9.2.0, installed by abibench into /cache/pytest/3.12.1-ab".into()
        )));
        let Some(Block::Table(t)) = blocks.last() else { panic!("{blocks:?}") };
        assert_eq!(
            t.groups[0].rows[0]
                .iter()
                .map(|c| c.runs.iter().map(Inline::plain).collect::<String>())
                .collect::<Vec<_>>(),
            [
                "tests/test_b.py::test_plain",
                "not benchmark",
                "uses neither the benchmark fixture nor the benchmark marker"
            ]
        );
    }
}
