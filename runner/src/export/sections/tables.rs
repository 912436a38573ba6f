//! The full tables: every cell of the run (a row group per scenario group, with why cells have
//! no values), each group's in-build comparisons, the native floors, and every cell of the
//! counts-and-time comparison.

use crate::analysis::cells::Analysis;
use crate::analysis::decision::ordered_interpreters;
use crate::export::doc::{Block, Cell, Inline, List, RowGroup, Section, Span, Table};
use crate::export::format::{format_estimate, format_ratio, notes};
use crate::export::idle::idle;
use crate::export::measures;
use crate::export::page::Report;
use crate::export::summary::{kind_name, native_table};
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::sampling::Measure;
use crate::model::scenario::Group;

/// What an empty cell holds: the mode does not fit that interpreter.
const NONE: &str = "—";

pub fn full_tables(rep: &Report) -> Section {
    let (r, a) = (rep.results, rep.analysis);
    let idle = idle(r);
    let mut blocks = vec![Block::Paragraph {
        class: Some("note"),
        id: None,
        runs: vec![
            Inline::Text(format!(
                "Median {} per operation ± its 95 % interval's half-width; stable-ABI cells add their paired ratio to \
                 unlimited",
                r.run.sampling.measure.quantity()
            )),
            Inline::StyleKey(" (red: measurably slower, blue: measurably faster, grey: interval includes 1.0)".into()),
            Inline::text(". —: the mode does not fit that interpreter."),
        ],
    }];
    for (interp, why) in &idle {
        let runs = vec![Inline::Strong(interp.clone()), Inline::Text(format!(": {why}"))];
        blocks.push(Block::Paragraph { class: Some("note idle"), id: None, runs });
    }
    // The interpreters with rows: those where some mode ran (the others are one line each).
    let interps: Vec<&Interpreter> =
        ordered_interpreters(r).into_iter().filter(|i| !idle.iter().any(|(name, _)| *name == i.name)).collect();
    blocks.push(Block::Table(results_table(r, a, &interps)));
    for g in r.groups.iter().filter(|g| !g.comparisons.is_empty()) {
        blocks.push(Block::heading(format!("{}: paths side by side within each build", g.title)));
        blocks.push(Block::Table(comparison_table(r, a, g, &interps)));
    }
    if let Some(native) = Table::plain("native", native_table(r, a, &interps)) {
        blocks.push(Block::heading("Above the native floor"));
        blocks.push(Block::note(
            "The same work in pure Rust (criterion), and what each cell costs above it: the crossing (C API, PyO3, \
             the object model). Floor and cell come from different processes, so these are not paired ratios.",
        ));
        blocks.push(Block::Table(native));
    }
    if let Some(m) = &rep.measures {
        blocks.push(Block::note(measures::CELL_NOTE));
        for (title, header, rows) in measures::cell_tables(m) {
            blocks.push(Block::heading(title));
            blocks.extend(Table::plain("agreement-cells", (header, rows)).map(Block::Table));
        }
    }
    Section { id: "tables", title: "Full tables".into(), nav: Some("Full tables"), appendix: true, blocks }
}

fn mode_header(first: [&str; 2], modes: &[Mode]) -> Vec<String> {
    first.iter().map(|s| s.to_string()).chain(modes.iter().map(|m| m.name())).collect()
}

/// Every cell: a row per (scenario, interpreter), a column per mode, a row group per scenario group.
fn results_table(r: &Results, a: &Analysis, interps: &[&Interpreter]) -> Table {
    let modes = r.modes();
    let floors = r.native.as_ref().map(|n| &n.floors);
    let groups = r
        .groups
        .iter()
        .map(|g| {
            let mut rows = Vec::new();
            for s in &g.scenarios {
                let mut label = vec![Inline::text(&s.name)];
                if let Some(f) = floors.and_then(|f| f.get(&s.name)) {
                    let text = format!("native {}", format_estimate(&f.per_op_ns, Measure::WallTime));
                    label.push(Inline::Line(Span { text, class: Some("native".into()), title: None }));
                }
                for i in interps {
                    let mut row = vec![
                        Cell { runs: label.clone(), head: true, class: None, title: Some(s.description.clone()) },
                        Cell { head: true, ..Cell::text(&i.name) },
                    ];
                    row.extend(modes.iter().map(|&m| value_cell(r, a, &i.name, m, &s.name)));
                    rows.push(row);
                }
            }
            RowGroup {
                title: Some(format!("{} [{}]", g.title, kind_name(g.kind))),
                note: Some(g.description.clone()),
                rows,
                after: why_empty(r, g),
            }
        })
        .collect();
    let lead = 2 + usize::from(modes.first() == Some(&Mode::Unlimited));
    Table {
        id: Some("results"),
        class: None,
        header: mode_header(["scenario", "python"], &modes),
        groups,
        fold: Some(lead),
    }
}

/// One value cell: median ± its interval and, in a stable-ABI mode, the paired ratio to
/// unlimited on a line of its own, styled by what its interval excludes; a status where nothing
/// was measured.
fn value_cell(r: &Results, a: &Analysis, interp: &str, m: Mode, scenario: &str) -> Cell {
    let (class, runs) = match r.cell(interp, m, scenario) {
        None => ("cell none", vec![Inline::text(NONE)]),
        Some(c) if c.status == CellStatus::Ok => {
            let median = a
                .summary(interp, m, scenario)
                .map_or("?".into(), |x| format_estimate(&x.median, r.run.sampling.measure));
            let mut runs = vec![Inline::Text(median)];
            if let Some(x) = a.mode_ratio(interp, m, scenario) {
                let style = match (x.ratio.low > 1.0, x.ratio.high < 1.0) {
                    (true, _) => "slower",
                    (_, true) => "faster",
                    _ => "unclear",
                };
                runs.push(Inline::Line(Span {
                    text: format_ratio(&x.ratio),
                    class: Some(format!("ratio {style}")),
                    title: Some(format!("95 % interval {:.2}–{:.2}×", x.ratio.low, x.ratio.high)),
                }));
            }
            ("cell ok", runs)
        }
        Some(c) if c.status == CellStatus::NotAvailable => ("cell na", vec![Inline::text(c.status.label())]),
        Some(c) => ("cell fail", vec![Inline::text(c.status.label())]),
    };
    Cell { runs, head: false, class: Some(class), title: None }
}

/// Why cells of group `g` have no values, collapsed; nothing when every cell has them.
fn why_empty(r: &Results, g: &Group) -> Vec<Block> {
    let notes = notes(r, g);
    if notes.is_empty() {
        return Vec::new();
    }
    let summary = format!("Why cells of {} have no values ({})", g.title, notes.len());
    let items = notes
        .into_iter()
        .map(|(scenario, mode, interp, status, reason)| {
            let on = interp.map_or(String::new(), |i| format!(" on {i}"));
            vec![Inline::Code(scenario), Inline::Text(format!(" / {mode}{on}: {status}: {reason}"))]
        })
        .collect();
    vec![Block::Details { summary, blocks: vec![Block::List(List { class: Some("note"), items, brief: None })] }]
}

/// Group `g`'s in-build comparisons: a row per comparison and interpreter, a column per mode.
fn comparison_table(r: &Results, a: &Analysis, g: &Group, interps: &[&Interpreter]) -> Table {
    let modes = r.modes();
    let rows = g
        .comparisons
        .iter()
        .flat_map(|c| interps.iter().map(move |i| (c, i)))
        .map(|(c, i)| {
            // `candidate / baseline` as a fraction on two lines where columns are narrow.
            let label = match c.label.split_once(" / ") {
                Some((candidate, baseline)) => {
                    vec![Inline::Text(format!("{candidate} /")), Inline::Break, Inline::text(baseline)]
                }
                None => vec![Inline::text(&c.label)],
            };
            let mut row = vec![Cell { runs: label, head: false, class: None, title: None }, Cell::text(&i.name)];
            row.extend(modes.iter().map(|&m| {
                Cell::text(a.comparison(&g.name, &c.label, &i.name, m).map_or(NONE.into(), |x| format_ratio(&x.ratio)))
            }));
            row
        })
        .collect();
    let group = RowGroup { title: None, note: None, rows, after: Vec::new() };
    Table {
        id: None,
        class: Some("comparisons"),
        header: mode_header(["comparison", "python"], &modes),
        groups: vec![group],
        fold: Some(2),
    }
}
