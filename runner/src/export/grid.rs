//! The full tables as text grids cut to fit a terminal ([`WIDTH`] columns): each group's cells
//! (a row per scenario and interpreter, a column per mode) and its in-build comparisons. Nine
//! modes side by side are ~270 columns, so the mode columns are dealt into parts that fit,
//! the label columns repeated in each. The terminal and the Markdown report show the same parts.

use comfy_table::{presets, Cell as TCell, CellAlignment, Table};

use crate::analysis::cells::Analysis;
use crate::export::format::{ascii_glyphs, format_estimate, format_ratio, printable};
use crate::export::idle::idle;
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::sampling::Measure;
use crate::model::scenario::Group;

/// The widest line a terminal table or note may have.
pub const WIDTH: usize = 120;

/// What an empty cell holds: the mode does not fit that interpreter.
const NONE: &str = "—";

pub fn new_table(header: Vec<String>, ascii: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(if ascii { presets::ASCII_BORDERS_ONLY_CONDENSED } else { presets::UTF8_BORDERS_ONLY });
    t.set_header(header.iter().map(|h| printable(h).into_owned()));
    t
}

/// A table of text; a cell may hold two lines. The first `labels` columns are labels (left
/// aligned), the rest values.
#[derive(Debug, Clone)]
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub labels: usize,
}

impl Grid {
    pub fn to_table(&self, ascii: bool) -> Table {
        let glyphs = |text: &str| if ascii { ascii_glyphs(text).into_owned() } else { text.to_string() };
        let mut t = new_table(self.header.iter().map(|h| glyphs(h)).collect(), ascii);
        for row in &self.rows {
            t.add_row(row.iter().enumerate().map(|(k, text)| {
                let cell = TCell::new(printable(&glyphs(text)));
                if k < self.labels {
                    cell
                } else {
                    cell.set_alignment(CellAlignment::Right)
                }
            }));
        }
        if ascii {
            // `±` becomes `+-`, one column more in a cell line at most: one column less of
            // padding keeps an ASCII table within the width its parts were cut to.
            t.column_iter_mut().for_each(|c| {
                c.set_padding((0, 1));
            });
        }
        t
    }

    fn width(&self) -> usize {
        self.to_table(false).to_string().lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    /// The grid in as few parts as fit [`WIDTH`]: the first `lead` columns in every part, the
    /// others dealt out evenly in order. A part after the first leaves out rows with nothing in
    /// its columns; a label repeated from the row above is blanked, so each shows once per part.
    pub(crate) fn split(self, lead: usize) -> Vec<Grid> {
        let rest = self.header.len() - lead;
        let mut parts = Vec::new();
        for n in 1..=rest.max(1) {
            let per = rest.div_ceil(n).max(1);
            parts = (0..n)
                .map(|p| {
                    let cols: Vec<usize> =
                        (0..lead).chain(lead + p * per..(lead + (p + 1) * per).min(lead + rest)).collect();
                    let pick = |row: &Vec<String>| cols.iter().map(|&c| row[c].clone()).collect::<Vec<_>>();
                    let rows = self
                        .rows
                        .iter()
                        .filter(|row| {
                            p == 0 || row[lead..].iter().zip(lead..).any(|(t, c)| cols.contains(&c) && t != NONE)
                        })
                        .map(pick);
                    Grid { header: pick(&self.header), rows: blank_repeats(rows.collect()), labels: self.labels }
                })
                .collect::<Vec<_>>();
            if parts.iter().all(|g| g.width() <= WIDTH) {
                break;
            }
        }
        parts
    }
}

/// `text` in lines of at most [`WIDTH`] characters, broken between words: the first keeps the
/// text's own indentation, the others start with `indent` spaces.
pub fn wrap(text: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut line = text[..text.len() - text.trim_start().len()].to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(indent);
        } else if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Blanks the first column where it repeats the row above.
fn blank_repeats(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for k in (1..rows.len()).rev() {
        if rows[k][0] == rows[k - 1][0] {
            rows[k][0].clear();
        }
    }
    rows
}

/// The interpreters a table has rows for: those where some mode ran.
fn running(r: &Results) -> Vec<&str> {
    let idle: Vec<String> = idle(r).into_iter().map(|(name, _)| name).collect();
    r.interpreters.iter().map(|i| i.name.as_str()).filter(|n| !idle.iter().any(|x| x == n)).collect()
}

/// One value cell: median ± its interval on the first line and, in a stable-ABI mode, the paired
/// ratio to `unlimited` on the second; a status where nothing was measured.
fn value_cell(r: &Results, a: &Analysis, interp: &str, m: Mode, scenario: &str) -> String {
    match r.cell(interp, m, scenario) {
        None => NONE.to_string(),
        Some(c) if c.status == CellStatus::Ok => {
            let mut text = a
                .summary(interp, m, scenario)
                .map_or("?".into(), |x| format_estimate(&x.median, r.run.sampling.measure));
            if let Some(ratio) = a.mode_ratio(interp, m, scenario) {
                text = format!("{text}\n{}", format_ratio(&ratio.ratio));
            }
            text
        }
        Some(c) => c.status.label().to_string(),
    }
}

/// Group `g`'s cells: a row per scenario and interpreter where something ran, a column per mode.
/// `unlimited` repeats in every part, as the reference of the ratios beside it. A native floor
/// goes under its scenario's name.
pub fn results_grids(r: &Results, a: &Analysis, g: &Group) -> Vec<Grid> {
    let modes = r.modes();
    let mut header = vec!["scenario".to_string(), "python".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let floors = r.native.as_ref().map(|n| &n.floors);
    let interps = running(r);
    let mut rows = Vec::new();
    for s in &g.scenarios {
        let label = match floors.and_then(|f| f.get(&s.name)) {
            Some(f) => format!("{}\nnative {}", s.name, format_estimate(&f.per_op_ns, Measure::WallTime)),
            None => s.name.clone(),
        };
        for i in &interps {
            let mut row = vec![label.clone(), i.to_string()];
            row.extend(modes.iter().map(|&m| value_cell(r, a, i, m, &s.name)));
            rows.push(row);
        }
    }
    let lead = 2 + usize::from(modes.first() == Some(&Mode::Unlimited));
    Grid { header, rows, labels: 2 }.split(lead)
}

/// Group `g`'s in-build comparisons: a row per comparison and interpreter, a column per mode.
pub fn comparison_grids(r: &Results, a: &Analysis, g: &Group) -> Vec<Grid> {
    if g.comparisons.is_empty() {
        return Vec::new();
    }
    let modes = r.modes();
    let mut header = vec!["comparison".to_string(), "python".to_string()];
    header.extend(modes.iter().map(|m| m.name()));
    let interps = running(r);
    let mut rows = Vec::new();
    for c in &g.comparisons {
        // `candidate / baseline` as a fraction on two lines: labels run to 54 characters.
        let label = c.label.replacen(" / ", " /\n  ", 1);
        for i in &interps {
            let mut row = vec![label.clone(), i.to_string()];
            row.extend(
                modes
                    .iter()
                    .map(|&m| a.comparison(&g.name, &c.label, i, m).map_or(NONE.into(), |x| format_ratio(&x.ratio))),
            );
            rows.push(row);
        }
    }
    Grid { header, rows, labels: 2 }.split(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::export::testwide;

    #[test]
    fn the_parts_of_a_reference_sized_run_fit_and_keep_every_cell() {
        let r = testwide::results();
        let a = analyse(&r);
        for g in &r.groups {
            let parts = results_grids(&r, &a, g);
            assert_eq!(parts.len(), 2, "{}: eight stable-ABI modes in two parts of four", g.name);
            let mut shown = 0;
            for p in &parts {
                assert!(p.width() <= WIDTH, "{}: {} columns", g.name, p.width());
                assert_eq!(p.header[2], "unlimited");
                shown += p.rows.iter().flat_map(|row| &row[3..]).filter(|t| *t != NONE).count();
            }
            let stable = |c: &&crate::model::results::Cell| {
                c.mode != Mode::Unlimited
                    && c.interpreter != "3.13.5t"
                    && g.scenarios.iter().any(|s| s.name == c.scenario)
            };
            assert_eq!(shown, r.cells.iter().filter(stable).count(), "{}", g.name);
            assert!(parts[0].rows.iter().all(|row| row[1] != "3.13.5t"), "an idle interpreter has no rows");
            for p in comparison_grids(&r, &a, g) {
                assert!(p.width() <= WIDTH, "{} comparisons: {} columns", g.name, p.width());
            }
        }
    }

    fn grid(cols: usize, rows: &[(&str, &[&str])]) -> Grid {
        let header = (0..cols).map(|c| format!("column{c:02}")).collect();
        let rows = rows
            .iter()
            .map(|(label, cells)| {
                std::iter::once(label.to_string()).chain(cells.iter().map(|c| c.to_string())).collect()
            })
            .collect();
        Grid { header, rows, labels: 1 }
    }

    #[test]
    fn prose_wraps_between_words_with_a_hanging_indent() {
        let long = format!("  {}", "word ".repeat(50));
        let wrapped = wrap(&long, 4);
        assert!(wrapped.lines().all(|l| l.chars().count() <= WIDTH), "{wrapped}");
        assert!(wrapped.starts_with("  word") && wrapped.lines().nth(1).unwrap().starts_with("    word"));
        assert_eq!(wrapped.split_whitespace().count(), 50);
        assert_eq!(wrap("short", 2), "short\n");
    }

    #[test]
    fn a_grid_that_fits_stays_whole() {
        let g = grid(3, &[("a", &["1", "2"]), ("a", &["3", NONE])]);
        let parts = g.split(1);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].rows, [["a", "1", "2"], ["", "3", NONE]]);
    }

    #[test]
    fn a_wide_grid_is_dealt_into_even_parts_that_each_fit() {
        let wide = "x".repeat(40);
        let cells: Vec<&str> = vec![&wide; 6];
        let mut row2 = cells.clone();
        row2[3..].fill(NONE);
        let g = grid(7, &[("s", &cells), ("s", &row2)]);
        let parts = g.split(1);
        // 6 columns of 42: three parts of two.
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.header.len() == 3 && p.width() <= WIDTH));
        assert_eq!(parts[0].rows.len(), 2);
        // The second row has nothing in the last part's columns; its label shows again where it is first.
        assert_eq!(parts[2].rows.len(), 1);
        assert_eq!(parts[2].rows[0][0], "s");
    }
}
