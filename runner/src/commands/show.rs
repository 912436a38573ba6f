//! `abibench show`: the tables of a saved run again.

use std::path::PathBuf;

use anyhow::Result;

use crate::analysis::cells::{analyse, Analysis};
use crate::commands::{ascii, read_results, results_file};
use crate::export::calls;
use crate::export::format::{ascii_glyphs, printable};
use crate::export::grid::wrap;
use crate::export::summary::build_failures;
use crate::export::table;
use crate::model::results::Results;
use crate::setup::build_flags;

pub fn run(file: Option<PathBuf>, ascii_asked: bool) -> Result<()> {
    let r = read_results(&results_file(file.as_deref())?)?;
    print_tables(&r, &analyse(&r), ascii_asked);
    Ok(())
}

/// The tables, preceded by the build-flag warning when the interpreters were built differently
/// and followed by the builds that failed.
pub fn print_tables(r: &Results, a: &Analysis, ascii_asked: bool) {
    if let Some(w) = build_flags::warning(&r.interpreters) {
        for line in w.lines() {
            let indent = line.len() - line.trim_start().len();
            print!("{}", printable(&wrap(line, indent + 2)));
        }
    }
    print!("{}", printable(&table::render(r, a, ascii(ascii_asked))));
    for line in build_failures(r) {
        let indent = line.len() - line.trim_start().len();
        print!("{}", wrap(&line, indent + 2));
    }
    let calls = calls::lines(r, a);
    if !calls.is_empty() {
        let glyphs = |t: &str| if ascii(ascii_asked) { ascii_glyphs(t).into_owned() } else { t.to_string() };
        print!("{}", wrap(&format!("\n{}: {}", calls::TITLE, calls::NOTE), 2));
        for line in calls {
            print!("{}", glyphs(&printable(&wrap(&format!("  {line}"), 4))));
        }
    }
}
