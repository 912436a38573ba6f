//! How values read in every output: a time or count with three significant digits, an interval's
//! half-width, a ratio, and the notes that explain a cell without values.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::export::idle::idle;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};
use crate::model::sampling::Measure;
use crate::model::scenario::Group;
use crate::model::system::CpuList;

/// A per-operation value with three significant digits: a time in ns, or an instruction count.
pub fn format_value(x: f64, measure: Measure) -> String {
    let (v, unit) = match (measure, x.abs()) {
        (Measure::WallTime, a) if a >= 1e6 => (x / 1e6, " ms"),
        (Measure::WallTime, a) if a >= 1e3 => (x / 1e3, " µs"),
        (Measure::WallTime, _) => (x, " ns"),
        (Measure::Instructions, a) if a >= 1e6 => (x / 1e6, "M instr"),
        (Measure::Instructions, a) if a >= 1e3 => (x / 1e3, "k instr"),
        (Measure::Instructions, _) => (x, " instr"),
    };
    let decimals = match v.abs() {
        x if x >= 100.0 => 0,
        x if x >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.decimals$}{unit}")
}

/// `1.50 ns ±1%`: a median and its interval's half-width, relative.
pub fn format_estimate(e: &Estimate, measure: Measure) -> String {
    format!("{} ±{:.0}%", format_value(e.point, measure), 100.0 * e.rel_half_width())
}

/// `1.07× ±0.01`: the point and the interval's half-width.
pub fn format_ratio(e: &Estimate) -> String {
    format!("{:.2}× ±{:.2}", e.point, (e.high - e.low) / 2.0)
}

/// A cell without values, explained once: (scenario, mode, interpreter, status, first line of the
/// reason). "Not available" is the same on every interpreter, so it carries no interpreter.
pub type Note = (String, Mode, Option<String>, &'static str, String);

/// The notes under a group's table, in a stable order; an interpreter where no mode ran is
/// said once elsewhere ([`idle`]), not here.
pub fn notes(r: &Results, g: &Group) -> BTreeSet<Note> {
    let idle: Vec<String> = idle(r).into_iter().map(|(name, _)| name).collect();
    r.cells
        .iter()
        .filter(|c| c.status != CellStatus::Ok && g.scenarios.iter().any(|s| s.name == c.scenario))
        .filter(|c| !idle.contains(&c.interpreter))
        .map(|c| {
            let first = c.reason.as_deref().unwrap_or_default().lines().next().unwrap_or_default();
            let interp = (c.status != CellStatus::NotAvailable).then(|| c.interpreter.clone());
            (c.scenario.clone(), c.mode, interp, c.status.label(), first.to_string())
        })
        .collect()
}

/// `text` with every control character but newline and tab made visible: C0 controls as their
/// Unicode control pictures (ESC as ␛, CR as ␍), DEL as ␡, and C1 controls and the non-characters
/// U+FFFE/U+FFFF (which XML forbids) and the bidirectional overrides and isolates (which reorder
/// what a reader sees) as U+FFFD. What a results file, an exception or a scenario file says then
/// cannot move a terminal's cursor, retitle its window, make an SVG invalid or a page read other
/// than it is.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| match c {
        '\n' | '\t' => false,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control() || c == '\u{fffe}' || c == '\u{ffff}',
    };
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let shown = |c: char| match c {
        c if !unsafe_char(c) => c,
        '\u{7f}' => '\u{2421}',
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        _ => '\u{fffd}',
    };
    Cow::Owned(text.chars().map(shown).collect())
}

/// `text` in ASCII where abibench's own glyphs are concerned (`×` as `x`, `±` as `+-`, `—` and `−`
/// as `-`, `…` as `..`, `µ` as `u`, `†` as `+`, `→` as `->`, `≥` as `>=`), for `--ascii` output: a log, a CI job or a terminal without UTF-8 counts every
/// byte as a column, and these glyphs took up to 7 columns more than a table's width.
pub fn ascii_glyphs(text: &str) -> Cow<'_, str> {
    const GLYPHS: [(char, &str); 9] = [
        ('×', "x"),
        ('±', "+-"),
        ('—', "-"),
        ('−', "-"),
        ('…', ".."),
        ('µ', "u"),
        ('†', "+"),
        ('→', "->"),
        ('≥', ">="),
    ];
    if !text.contains(|c| GLYPHS.iter().any(|(g, _)| *g == c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match GLYPHS.iter().find(|(g, _)| *g == c) {
            Some((_, ascii)) => out.push_str(ascii),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` for a spreadsheet cell: printable (`printable`), and, as OWASP's CSV injection rule
/// says, with a `'` before a leading `=`, `+`, `-`, `@`, tab or carriage return, so that a name
/// like `=HYPERLINK(…)` stays text instead of becoming a formula.
pub fn spreadsheet_text(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    format!("{}{}", if formula { "'" } else { "" }, printable(text))
}

/// `, workers pinned to CPUs 1-2` when they are, for the line that says how a run samples.
pub fn pinning(affinity: &[usize]) -> String {
    match affinity {
        [] => String::new(),
        cpus => format!(", workers pinned to CPUs {}", CpuList(cpus.to_vec())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain ünï ✓\nnext\tcol"), "plain ünï ✓\nnext\tcol");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable("\u{1b}[2J\u{1b}]0;title\u{7}"), "\u{241b}[2J\u{241b}]0;title\u{2407}");
        assert_eq!(printable("a\rb\0c\u{7f}d\u{9b}e\u{fffe}"), "a\u{240d}b\u{2400}c\u{2421}d\u{fffd}e\u{fffd}");
    }

    #[test]
    fn spreadsheet_cells_never_start_a_formula() {
        for (name, cell) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-cmd", "'-cmd"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\u{240d}=1"),
            ("list_sum", "list_sum"),
            ("a=b", "a=b"),
            ("\u{1b}[31m", "\u{241b}[31m"),
        ] {
            assert_eq!(spreadsheet_text(name), cell, "{name:?}");
        }
    }

    #[test]
    fn times_and_ratios_format_compactly() {
        assert_eq!(format_value(1.234, Measure::WallTime), "1.23 ns");
        assert_eq!(format_value(45.67, Measure::WallTime), "45.7 ns");
        assert_eq!(format_value(1534.0, Measure::WallTime), "1.53 µs");
        assert_eq!(format_value(2.5e6, Measure::WallTime), "2.50 ms");
        assert_eq!(format_value(342.4, Measure::Instructions), "342 instr");
        assert_eq!(format_value(12_345.0, Measure::Instructions), "12.3k instr");
        assert_eq!(format_value(2.5e6, Measure::Instructions), "2.50M instr");
        assert_eq!(format_ratio(&Estimate { point: 1.071, low: 1.06, high: 1.08 }), "1.07× ±0.01");
    }
}
