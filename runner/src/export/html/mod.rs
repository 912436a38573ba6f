//! The HTML page: one self-contained file (CSS inline, plots as `data:` SVG images, no network
//! resource), linking only to files beside it (PNG/SVG copies, the raw JSON).
//!
//! Every string from a results or matrix file goes through [`esc`] (text, attributes) or
//! [`path_url`] (links); plot SVGs are percent-encoded whole into their `data:` URL.

use std::fmt::Write;

use crate::analysis::measures::MeasureAgreement;
use crate::export::answer;
use crate::export::measures;
use crate::export::page::{path_url, percent_encode, Exporter, Report};
use crate::export::plots::Plot;
use crate::export::summary::{self, controls_line, layout_line, native_table, run_line, QUESTION};

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

mod about;
mod tables;

use about::{environment, methodology};
use tables::{comparison_tables, plain_table, results_table};

fn figure(out: &mut String, p: &Plot) {
    let _ = writeln!(
        out,
        "<figure id=\"plot-{name}\"><img src=\"data:image/svg+xml;charset=utf-8,{data}\" alt=\"{title}\">\
         <figcaption>{title} — <a href=\"plots/{name}.png\">PNG</a> · <a href=\"plots/{name}.svg\">SVG</a></figcaption></figure>",
        name = path_url(&p.name),
        data = percent_encode(&p.svg, " /:=;,"),
        title = esc(&p.title),
    );
}

/// The self-contained HTML page.
pub struct Html;

impl Exporter for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, rep: &Report) -> String {
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
            "<nav><a href=\"#answer\">Answer</a><a href=\"#decision\">Evidence</a>{}<a href=\"#plots\">Plots</a><a href=\"#matrix\">ABI matrix</a>\
             <a href=\"#tables\">Full tables</a><a href=\"#method\">Methodology</a><a href=\"#environment\">Environment</a></nav>",
            if rep.measures.is_some() { "<a href=\"#agreement\">Counts and time</a>" } else { "" }
        );

        answer(&mut out, rep);
        let _ = writeln!(out, "<section id=\"decision\"><h2>The evidence</h2>");
        let _ = writeln!(
            out,
            "<p class=\"note\">Ratios are stable-ABI {q} over unlimited {q} on the same interpreter; a difference is \
             stated only where the 95 % interval excludes 1.0 and the noise floor. Nothing is pooled across cost \
             channels or layers.</p>",
            q = r.run.sampling.measure.quantity()
        );
        let _ = writeln!(out, "<p class=\"note\" id=\"controls\">{}</p>", esc(&controls_line(rep.analysis)));
        let _ = writeln!(out, "<p class=\"note\" id=\"layout\">{}</p>", esc(&layout_line(r)));
        for (band, header, rows) in summary::split_tables(&rep.decision) {
            let _ = writeln!(
                out,
                "<h3>Where the cost comes from on {}</h3><p class=\"note\">{}</p>",
                esc(&band),
                esc(summary::SPLIT_NOTE)
            );
            plain_table(&mut out, "attribution", &header, &rows);
        }
        for (title, lines) in summary::summary(&rep.decision) {
            let _ = writeln!(out, "<h3>{}</h3><ul class=\"summary\">", esc(title));
            for l in lines {
                let _ = writeln!(out, "<li>{}</li>", esc(&l));
            }
            let _ = writeln!(out, "</ul>");
        }
        let upstream = summary::evidence_lines(&rep.evidence);
        if !upstream.is_empty() {
            let _ = writeln!(out, "<h3 id=\"upstream\">Findings for upstream</h3><ul class=\"summary\">");
            for l in upstream {
                let _ = writeln!(out, "<li>{}</li>", esc(&l));
            }
            let _ = writeln!(out, "</ul>");
        }
        for (band, header, rows) in summary::channel_tables(&rep.decision) {
            let _ = writeln!(
                out,
                "<h3>By cost channel on {}</h3><p class=\"note\">Median ratio of the channel's scenarios, their \
                 range, and how many; C API and PyO3 paths apart.</p>",
                esc(&band)
            );
            plain_table(&mut out, "channel-costs", &header, &rows);
        }
        let _ = writeln!(out, "</section>");
        if let Some(m) = &rep.measures {
            counts_and_time(&mut out, m);
        }

        let _ = writeln!(out, "<section id=\"plots\"><h2>Plots</h2>");
        for p in rep.plots.iter().filter(|p| p.name != "matrix") {
            figure(&mut out, p);
        }
        let _ = writeln!(out, "</section><section id=\"matrix\"><h2>ABI compatibility matrix</h2>");
        match (rep.matrix, rep.plots.iter().find(|p| p.name == "matrix")) {
            (Some(m), Some(p)) => {
                let _ =
                    writeln!(out, "<p class=\"note\">From <code>{}</code>.</p>", esc(&m.source.display().to_string()));
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
        let (header, rows) = native_table(r, rep.analysis);
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
}

/// Where the instruction-count pass and this wall-time pass disagree: by channel with the likely
/// reason, then every cell, a closed table per channel.
fn counts_and_time(out: &mut String, m: &MeasureAgreement) {
    let _ = writeln!(out, "<section id=\"agreement\"><h2>Counts and time</h2>");
    for l in measures::intro(m) {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&l));
    }
    let (header, rows) = measures::channel_table(m);
    plain_table(out, "agreement-channels", &header, &rows);
    let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(measures::CELL_NOTE));
    for (title, header, rows) in measures::cell_tables(m) {
        let _ = writeln!(out, "<details><summary>{}</summary>", esc(&title));
        plain_table(out, "agreement-cells", &header, &rows);
        let _ = writeln!(out, "</details>");
    }
    let _ = writeln!(out, "</section>");
}

/// The answer first: a line per kind of call, the headline table, the wheel plan and its CI matrix.
fn answer(out: &mut String, rep: &Report) {
    let (r, d) = (rep.results, &rep.decision);
    // The headline table comes first: it is what must be on the first screen.
    let _ = writeln!(
        out,
        "<section id=\"answer\"><h2>The answer</h2><figure id=\"headline\"><figcaption>What each kind of call \
         costs under each floor: what a PyO3 user pays over the unlimited build (the mean over the channel's \
         PyO3 paths), its range over the interpreters the floor runs on; (parentheses): not measurable on any.</figcaption>"
    );
    let (header, rows) = answer::headline(d);
    plain_table(out, "headline-costs", &header, &rows);
    let _ = writeln!(out, "</figure><p class=\"note\">{}</p><ul class=\"summary\">", esc(answer::LINES_NOTE));
    for l in answer::answer_lines(r, d) {
        let _ = writeln!(out, "<li>{}</li>", esc(&l));
    }
    let _ = writeln!(out, "</ul>");
    let plan = answer::plan_lines(r, d, &rep.plan);
    let _ = writeln!(out, "<h3 id=\"plan\">{}</h3><ul class=\"summary\">", esc(&plan[0]));
    for l in &plan[1..] {
        let _ = writeln!(out, "<li>{}</li>", esc(l.trim_start_matches("- ")));
    }
    let _ = writeln!(
        out,
        "</ul><details><summary>CI matrix for this plan (maturin-action)</summary><pre>{}</pre></details></section>",
        esc(&answer::ci_snippet(r, d, &rep.plan))
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::compat::{Compat, CompatCell, CompatMatrix};
    use crate::analysis::plan::Goal;
    use crate::analysis::testdata;
    use crate::export::plots;

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
        let m = CompatMatrix {
            source: EVIL.into(),
            cells: vec![CompatCell { build: EVIL.into(), interpreter: EVIL.into(), compat: Compat::Ok }],
        };
        let dir = tempfile::tempdir().unwrap();
        let plots = plots::figures(&r, Some(&m)).iter().map(|f| f.write(&r, &a, dir.path()).unwrap()).collect();
        let rep =
            Report { plots, matrix: Some(&m), ..Report::new(&r, &a, &Goal::default(), format!("../{EVIL}.json")) };
        let mut hostile = crate::export::measures::tests::agreement();
        hostile.cells[0].scenario = EVIL.into();
        hostile.cells[0].interpreter = EVIL.into();
        let rep = Report { measures: Some(hostile), ..rep };
        let html = Html.render(&rep);
        assert!(html.contains("<section id=\"agreement\">") && html.contains("href=\"#agreement\""));
        assert!(!html.contains("<script") && !html.contains("<img src=x"), "raw markup leaked");
        assert!(!html.contains("'&<"), "raw quote/ampersand leaked");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), "escaped text missing");
        assert!(html.contains("href=\"../%3Cscript%3E"), "link not encoded");
        // The page pulls nothing from the network (the SVG namespace URI is a name, not a fetch).
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url("));
    }
}
