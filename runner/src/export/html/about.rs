//! The page's closing sections: the environment (interpreters, builds, host) and the methodology.

use std::fmt::Write;

use super::{esc, plain_table};
use crate::analysis::decision::ordered_interpreters;
use crate::analysis::stats::RESAMPLES;
use crate::export::page::Report;
use crate::model::build::{failure_headline, BuildOutcome};
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::setup::build_flags;

pub(super) fn environment(out: &mut String, rep: &Report) {
    let r = rep.results;
    if !rep.caveats.is_empty() {
        let _ = writeln!(out, "<h3>Caveats</h3><ul class=\"caveats\">");
        for c in &rep.caveats {
            let _ = writeln!(out, "<li>{}</li>", esc(c));
        }
        let _ = writeln!(out, "</ul>");
    }
    let h = &r.host;
    let load = h.load_average_at_start.map_or("unknown".into(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]));
    let items: Vec<(&str, String)> = vec![
        ("host", h.hostname.clone()),
        ("OS", format!("{} (kernel {})", h.os, h.kernel)),
        ("CPU", format!("{} ({} logical)", h.cpu_model, h.logical_cpus)),
        ("CPU identity", h.cpu.as_ref().map_or_else(|| "not recorded".into(), |c| c.id())),
        ("address-space randomisation", h.aslr.clone().unwrap_or_else(|| "unknown".into())),
        (
            "toolchain",
            r.toolchain.as_ref().map_or_else(
                || "not recorded".into(),
                |t| format!("{}, LLVM {}, {}; RUSTFLAGS \"{}\"", t.rustc, t.llvm, t.cargo, t.rustflags),
            ),
        ),
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
        (
            "source",
            format!(
                "git {}{}, extension source hash {}",
                r.source.git_revision.as_deref().unwrap_or("unknown"),
                if r.source.git_dirty { " (uncommitted changes)" } else { "" },
                r.source.ext_source_hash
            ),
        ),
    ];
    let _ = writeln!(out, "<h3>Machine and run</h3><dl>");
    for (k, v) in items {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    let _ = writeln!(out, "</dl>");

    let _ = writeln!(out, "<h3>Interpreters</h3>");
    let header: Vec<String> =
        ["name", "found via", "executable", "SOABI", "built with", "configure"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = ordered_interpreters(r)
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
    plain_table(out, "interpreters mono", &header, &rows);

    let _ = writeln!(out, "<h3>Builds</h3>");
    let header: Vec<String> =
        ["mode", "ABI tag", "layout", "outcome", "SHA-256", "bytes", "seconds", "stable-ABI audit"]
            .map(String::from)
            .to_vec();
    let rows: Vec<Vec<String>> = r
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
    plain_table(out, "builds", &header, &rows);
}

pub(super) fn methodology(out: &mut String, r: &Results) {
    let s = &r.run.sampling;
    let this_run = match s.measure {
        Measure::WallTime => format!(
            "<li>Each interpreter runs one worker process at a time that loads every build fitting it and times each \
             scenario in all modes <em>interleaved</em>: one value per mode per round, order shuffled each round \
             (seed {}), so drift hits every mode alike.</li>\
             <li>This run: {} values per cell from each of {} process(es), each value at least {} ms of \
             loops sized to last that long, after {} warm-up(s); the empty-loop cost measured in the same process is subtracted; \
             times are per operation (a scenario's <code>n</code> operations per statement).</li>",
            r.run.seed,
            s.values,
            s.processes,
            s.min_time * 1e3,
            s.warmups
        ),
        Measure::Instructions => format!(
            "<li>Instructions, not time: each interpreter's worker runs under <code>valgrind --tool=callgrind</code> \
             with collection on only inside the extension's region function around the measured loop. A value is \
             the count of a region of 2L loops minus one of L loops, so setup cancels; L comes from counted probes \
             (about {} instructions per region), so repeated runs give identical counts.</li>\
             <li>This run: {} (L, 2L) pair(s) per cell; counts are per operation (a scenario's <code>n</code> \
             operations per statement).</li>",
            s.target_instructions, s.values
        ),
    };
    let _ = writeln!(
        out,
        "<ul>{this_run}\
         <li>A cell's value is the median of its values with a 95 % percentile-bootstrap interval ({res} resamples). \
         Outliers are counted, never dropped.</li>\
         <li>A stable-ABI ratio divides each value by the unlimited value of the same round in the same process \
         (and the same layout variant); the ratio is the median of those pairs, with a bootstrap interval over \
         layout variants, then worker processes, then pairs within them (a build's code placement is shared by \
         all its values, a process's memory layout by all of its). Ratios whose interval includes 1.0 are shown \
         in grey or in parentheses and never called a difference; nor is a pooled difference inside the noise \
         floor of the negative controls.</li>\
         <li>Pooled figures in the summary take the median of the ratios' points; their interval is the median of \
         the ratios' lower and upper bounds. Bands group interpreters offered the same stable-ABI modes. \
         &ldquo;Recovers Z %&rdquo; is the share of the lower floor's excess (median − 1) that the higher floor \
         removes, over the scenario/interpreter pairs both ran.</li>\
         <li><code>n/a in mode</code>: the build cannot express that C API path; nothing is substituted. \
         <code>—</code>: the mode does not fit that interpreter.</li>\
         <li>Compare ratios within a run; absolute times across runs on a shared machine are not comparable.</li>\
         </ul>",
        res = RESAMPLES,
    );
}
