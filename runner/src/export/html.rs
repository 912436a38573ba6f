//! The HTML page: one self-contained file (CSS inline, plots as `data:` SVG images, no network
//! resource), linking only to files beside it (PNG/SVG copies, the raw JSON).
//!
//! Every string from a results or matrix file goes through [`esc`] (text, attributes) or
//! [`path_url`] (links); plot SVGs are percent-encoded whole into their `data:` URL.

use std::fmt::Write;

use crate::analysis::Analysis;
use crate::export::table::{format_estimate, format_ratio, notes};
use crate::export::{path_url, percent_encode};
use crate::measure::Measure;
use crate::report::{kind_name, ordered_interpreters, run_line, Report, QUESTION};
use crate::results::{CellStatus, Results};
use crate::stats::RESAMPLES;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1400px; margin: 0 auto; padding: 1em 2em 4em; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
nav a { margin-right: 1em; }
.question { font-size: 1.1em; max-width: 60em; }
.meta, .note { color: #555; }
.summary li { margin: .25em 0; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; vertical-align: top; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
tbody th { text-align: left; font-weight: 500; white-space: nowrap; }
tr.group th { background: #e8eef6; text-align: left; font-size: 14px; white-space: normal; }
td.cell { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.na, td.none { color: #888; text-align: center; }
td.fail { background: #fbe3e3; color: #900; text-align: center; }
.ratio { display: block; font-size: 12px; }
.slower { color: #b2182b; font-weight: 600; }
.faster { color: #2166ac; font-weight: 600; }
.unclear { color: #777; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
details { margin: .3em 0; }
code, .mono { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
";

fn table_head(out: &mut String, cols: &[String]) {
    let _ = write!(out, "<thead><tr>");
    for c in cols {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    let _ = writeln!(out, "</tr></thead>");
}

fn plain_table(out: &mut String, class: &str, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "<table class=\"{class}\">");
    table_head(out, header);
    let _ = writeln!(out, "<tbody>");
    for r in rows {
        let _ = write!(out, "<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
}

/// The full results table: a row per (scenario, interpreter), a cell per mode, every cell filled.
fn results_table(out: &mut String, r: &Results, a: &Analysis) {
    let modes = r.modes();
    let mut header = vec!["scenario".to_string(), "python".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let _ = writeln!(out, "<table id=\"results\" data-modes=\"{}\">", modes.len());
    table_head(out, &header);
    let interps = ordered_interpreters(r);
    for g in &r.groups {
        let _ = writeln!(
            out,
            "<tbody><tr class=\"group\"><th colspan=\"{}\">{} <span class=\"meta\">[{}] {}</span></th></tr>",
            header.len(),
            esc(&g.title),
            kind_name(g.kind),
            esc(&g.description)
        );
        for s in &g.scenarios {
            for i in &interps {
                let _ = write!(
                    out,
                    "<tr><th title=\"{}\">{}</th><th>{}</th>",
                    esc(&s.description),
                    esc(&s.name),
                    esc(&i.name)
                );
                for &m in &modes {
                    let (class, body) = match r.cell(&i.name, m, &s.name) {
                        None => ("none", "—".to_string()),
                        Some(c) if c.status == CellStatus::Ok => {
                            let mut body = a
                                .summary(&i.name, m, &s.name)
                                .map_or("?".into(), |x| esc(&format_estimate(&x.median, r.run.sampling.measure)));
                            if let Some(x) = a.mode_ratio(&i.name, m, &s.name) {
                                let class = match (x.ratio.low > 1.0, x.ratio.high < 1.0) {
                                    (true, _) => "slower",
                                    (_, true) => "faster",
                                    _ => "unclear",
                                };
                                let _ = write!(
                                    body,
                                    "<span class=\"ratio {class}\" title=\"95 % interval {:.2}–{:.2}×\">{}</span>",
                                    x.ratio.low,
                                    x.ratio.high,
                                    esc(&format_ratio(&x.ratio))
                                );
                            }
                            ("ok", body)
                        }
                        Some(c) if c.status == CellStatus::NotAvailable => ("na", esc(c.status.label())),
                        Some(c) => ("fail", esc(c.status.label())),
                    };
                    let _ = write!(out, "<td class=\"cell {class}\">{body}</td>");
                }
                let _ = writeln!(out, "</tr>");
            }
        }
        let _ = writeln!(out, "</tbody>");
    }
    let _ = writeln!(out, "</table>");
    for g in &r.groups {
        let notes = notes(r, g);
        if notes.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<details><summary>Why cells of {} have no values ({})</summary><ul class=\"note\">",
            esc(&g.title),
            notes.len()
        );
        for (scenario, mode, interp, status, reason) in notes {
            let on = interp.map_or(String::new(), |i| format!(" on {}", esc(&i)));
            let _ = writeln!(
                out,
                "<li><code>{}</code> / {mode}{on}: {}: {}</li>",
                esc(&scenario),
                esc(status),
                esc(&reason)
            );
        }
        let _ = writeln!(out, "</ul></details>");
    }
}

fn comparison_tables(out: &mut String, r: &Results, a: &Analysis) {
    let modes = r.modes();
    let interps = ordered_interpreters(r);
    for g in r.groups.iter().filter(|g| !g.comparisons.is_empty()) {
        let _ = writeln!(out, "<h3>{}: paths side by side within each build</h3>", esc(&g.title));
        let mut header = vec!["comparison".to_string(), "python".to_string()];
        header.extend(modes.iter().map(|m| m.name()));
        let rows: Vec<Vec<String>> = g
            .comparisons
            .iter()
            .flat_map(|c| interps.iter().map(move |i| (c, i)))
            .map(|(c, i)| {
                let mut row = vec![c.label.clone(), i.name.clone()];
                row.extend(modes.iter().map(|&m| {
                    a.comparison(&g.name, &c.label, &i.name, m).map_or("—".into(), |x| format_ratio(&x.ratio))
                }));
                row
            })
            .collect();
        plain_table(out, "comparisons", &header, &rows);
    }
}

fn figure(out: &mut String, p: &crate::export::plots::Plot) {
    let _ = writeln!(
        out,
        "<figure id=\"plot-{name}\"><img src=\"data:image/svg+xml;charset=utf-8,{data}\" alt=\"{title}\">\
         <figcaption>{title} — <a href=\"plots/{name}.png\">PNG</a> · <a href=\"plots/{name}.svg\">SVG</a></figcaption></figure>",
        name = path_url(&p.name),
        data = percent_encode(&p.svg, " /:=;,"),
        title = esc(&p.title),
    );
}

fn environment(out: &mut String, rep: &Report) {
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
            let flags = crate::build_flags::of(i);
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
    let header: Vec<String> = ["mode", "ABI tag", "outcome", "seconds", "stable-ABI audit"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = r
        .builds
        .iter()
        .map(|b| {
            let outcome = match &b.outcome {
                crate::builds::BuildOutcome::Ok { cached, .. } => {
                    if *cached { "ok (cached)" } else { "ok" }.to_string()
                }
                crate::builds::BuildOutcome::Failed { error } => {
                    format!("FAILED: {}", crate::builds::failure_headline(error))
                }
            };
            let audit = b.audit.as_ref().map_or("—".into(), |a| {
                if a.passed() {
                    format!("passed ({} symbols within {}.{})", a.checked, a.floor.0, a.floor.1)
                } else {
                    format!("FAILED: {} not stable, {} too new", a.not_stable.len(), a.too_new.len())
                }
            });
            vec![b.mode.name(), b.abi_tag.clone(), outcome, format!("{:.1}", b.seconds), audit]
        })
        .collect();
    plain_table(out, "builds", &header, &rows);
}

fn methodology(out: &mut String, r: &Results) {
    let s = &r.run.sampling;
    let this_run = match s.measure {
        Measure::WallTime => format!(
            "<li>Each interpreter runs one worker process at a time that loads every build fitting it and times each \
             scenario in all modes <em>interleaved</em>: one value per mode per round, order shuffled each round \
             (seed {}), so drift hits every mode alike.</li>\
             <li>This run: {} values per cell from each of {} process(es), each value at least {} ms of \
             calibrated loops after {} warm-up(s); the empty-loop cost measured in the same process is subtracted; \
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
         <li>A stable-ABI ratio divides each value by the unlimited value of the same round in the same process; \
         the ratio is the median of those pairs, with a two-stage bootstrap interval (worker processes, then \
         pairs within them: a process's memory layout is shared by all its values). Ratios whose interval \
         includes 1.0 are shown in grey or in parentheses and never called a difference.</li>\
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

pub fn render(rep: &Report) -> String {
    let r = rep.results;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>abibench report: run {}</title><style>{CSS}</style></head><body><main>",
        esc(&r.run.id)
    );
    let _ = writeln!(out, "<h1>What does the stable ABI cost, and is it worth it?</h1>");
    let _ = writeln!(out, "<p class=\"question\">{}</p>", esc(QUESTION));
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} Raw data: <a id=\"raw-json\" href=\"{}\">{}</a>.</p>",
        esc(&run_line(r)),
        path_url(&rep.results_link),
        esc(&rep.results_link)
    );
    let _ = writeln!(
        out,
        "<nav><a href=\"#decision\">Decision</a><a href=\"#plots\">Plots</a><a href=\"#matrix\">ABI matrix</a>\
         <a href=\"#tables\">Full tables</a><a href=\"#method\">Methodology</a><a href=\"#environment\">Environment</a></nav>"
    );

    let _ = writeln!(out, "<section id=\"decision\"><h2>Decision summary</h2>");
    let _ = writeln!(
        out,
        "<p class=\"note\">Ratios are stable-ABI {q} over unlimited {q} on the same interpreter; a difference is \
         stated only where the 95 % interval excludes 1.0.</p>",
        q = r.run.sampling.measure.quantity()
    );
    for (title, lines) in rep.decision.summary() {
        let _ = writeln!(out, "<h3>{}</h3><ul class=\"summary\">", esc(title));
        for l in lines {
            let _ = writeln!(out, "<li>{}</li>", esc(&l));
        }
        let _ = writeln!(out, "</ul>");
    }
    let (header, rows) = rep.decision.group_table(r);
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "<h3>By group</h3><p class=\"note\">Median ratio per band; (parentheses): interval includes 1.0.</p>"
        );
        plain_table(&mut out, "group-costs", &header, &rows);
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section id=\"plots\"><h2>Plots</h2>");
    for p in rep.plots.iter().filter(|p| p.name != "matrix") {
        figure(&mut out, p);
    }
    let _ = writeln!(out, "</section><section id=\"matrix\"><h2>ABI compatibility matrix</h2>");
    match (rep.matrix, rep.plots.iter().find(|p| p.name == "matrix")) {
        (Some(m), Some(p)) => {
            let _ = writeln!(out, "<p class=\"note\">From <code>{}</code>.</p>", esc(&m.source.display().to_string()));
            figure(&mut out, p);
        }
        _ => {
            let _ = writeln!(
                out,
                "<p class=\"note\">The matrix was not run for this report (run <code>abibench matrix</code>, then <code>abibench report</code>; or give <code>--matrix FILE</code>).</p>"
            );
        }
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section id=\"tables\"><h2>Full tables</h2>");
    let _ = writeln!(
        out,
        "<p class=\"note\">Median {} per operation ± its 95 % interval's half-width; stable-ABI cells add their \
         paired ratio to unlimited (red: measurably slower, blue: measurably faster, grey: interval includes 1.0).</p>",
        r.run.sampling.measure.quantity()
    );
    results_table(&mut out, r, rep.analysis);
    comparison_tables(&mut out, r, rep.analysis);
    let (header, rows) = crate::report::native_table(r, rep.analysis);
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Above the native floor</h3><p class=\"note\">The same work in pure Rust (criterion), and what each \
             cell costs above it: the crossing (C API, PyO3, the object model). Floor and cell come from different \
             processes, so these are not paired ratios.</p>"
        );
        plain_table(&mut out, "native", &header, &rows);
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section id=\"method\"><h2>Methodology</h2>");
    methodology(&mut out, r);
    let _ = writeln!(out, "</section><section id=\"environment\"><h2>Environment and interpreter provenance</h2>");
    environment(&mut out, rep);
    let _ = writeln!(
        out,
        "</section><section id=\"raw\"><h2>Raw data</h2><p>Every raw value, interpreter probe and build record: \
         <a href=\"{}\">{}</a> (schema {} v{}).</p></section>",
        path_url(&rep.results_link),
        esc(&rep.results_link),
        esc(&r.schema),
        r.schema_version
    );
    let _ = writeln!(out, "</main></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::report::{run_caveats, Decision, Matrix, MatrixCell, Verdict};
    use crate::testdata;

    const EVIL: &str = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>";

    #[test]
    fn every_user_string_is_escaped() {
        let mut r = testdata::results();
        r.groups[0].title = EVIL.into();
        r.groups[0].description = EVIL.into();
        r.groups[0].comparisons[0].label = EVIL.into();
        r.groups[0].scenarios[0].description = EVIL.into();
        r.host.hostname = EVIL.into();
        r.host.cpu_model = EVIL.into();
        r.run.argv.push(EVIL.into());
        r.interpreters[0].build.config_args = EVIL.into();
        r.interpreters[0].argv = vec![EVIL.into()];
        for c in r.cells.iter_mut().filter(|c| c.reason.is_some()) {
            c.reason = Some(EVIL.into());
        }
        let a = analyse(&r);
        let m = Matrix {
            source: EVIL.into(),
            cells: vec![MatrixCell { build: EVIL.into(), interpreter: EVIL.into(), verdict: Verdict::Ok }],
        };
        let dir = tempfile::tempdir().unwrap();
        let plots =
            crate::export::plots::figures(&r, Some(&m)).iter().map(|f| f.write(&r, &a, dir.path()).unwrap()).collect();
        let rep = Report {
            results: &r,
            analysis: &a,
            decision: Decision::compute(&r, &a),
            caveats: run_caveats(&r, &a),
            plots,
            matrix: Some(&m),
            results_link: format!("../{EVIL}.json"),
        };
        let html = render(&rep);
        assert!(!html.contains("<script") && !html.contains("<img src=x"), "raw markup leaked");
        assert!(!html.contains("'&<"), "raw quote/ampersand leaked");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), "escaped text missing");
        assert!(html.contains("href=\"../%3Cscript%3E"), "link not encoded");
        // The page pulls nothing from the network (the SVG namespace URI is a name, not a fetch).
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url("));
    }

    #[test]
    fn the_results_table_has_a_cell_per_scenario_interpreter_and_mode() {
        let r = testdata::results();
        let a = analyse(&r);
        let mut out = String::new();
        results_table(&mut out, &r, &a);
        // 3 scenarios x 2 interpreters x 3 modes.
        assert_eq!(out.matches("<td class=\"cell ").count(), 18);
        assert_eq!(out.matches("<td class=\"cell none\">").count(), 3, "abi3-py312 does not fit 3.8");
        assert_eq!(out.matches("<td class=\"cell na\">").count(), 3);
        assert!(out.contains("ratio slower"));
    }
}
