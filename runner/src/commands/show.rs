//! `abibench show`: the tables of a saved run again.

use std::path::PathBuf;

use anyhow::Result;

use crate::analysis::cells::{analyse, Analysis};
use crate::commands::{ascii, read_results, results_file};
use crate::export::grid::wrap;
use crate::export::table;
use crate::model::build::{failed_builds, failure_headline, stable_abi_failed_throughout};
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
            print!("{}", wrap(line, indent + 2));
        }
    }
    print!("{}", table::render(r, a, ascii(ascii_asked)));
    for line in build_failures(r) {
        let indent = line.len() - line.trim_start().len();
        print!("{}", wrap(&line, indent + 2));
    }
}

/// One line per failed build with the compiler's headline (the tables' cells say only "build
/// failed"), and, when every stable-ABI build failed where version-specific ones built, that
/// abi3 needs changes to the code: no floor would do.
fn build_failures(r: &Results) -> Vec<String> {
    let failed = failed_builds(&r.builds);
    if failed.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!("Builds that failed ({}; the compiler's message is in the results):", failed.len())];
    lines.extend(
        failed.iter().map(|b| format!("  {}: {}", b.label(), failure_headline(b.failure().unwrap_or_default()))),
    );
    if let Some(first) = stable_abi_failed_throughout(&r.builds) {
        let headline = failure_headline(first.failure().unwrap_or_default());
        // The compiler's words, without cargo's "cargo build exit status: 101: " before them.
        let error = headline.find("error").map_or(headline, |i| &headline[i..]);
        let note = first.note.as_ref().map_or(String::new(), |n| format!(" (note: {n})"));
        let name = r.subject.krate().map_or("bench-ext", |c| c.distribution.as_str());
        lines.push(format!(
            "abi3 needs code changes in {name}: every stable-ABI build failed while the version-specific ones \
             built; the first, {}, with {error}{note}.",
            first.mode
        ));
    }
    lines
}
