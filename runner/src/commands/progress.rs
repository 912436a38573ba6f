//! Progress for long work: a bar on a terminal, plain milestone lines in logs (CI).

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use crate::export::format::printable;
use crate::model::build::{failure_headline, BuildOutcome, BuildRecord, Toolchain};
use crate::setup::builds::{build_all, BuildRequest};
use crate::setup::recipe::Recipe;

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(len: u64, what: &str) -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(len);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta}) {wide_msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_prefix(what.to_string());
        Progress { bar }
    }

    /// What is happening now (shown on the bar only).
    pub fn set_message(&self, msg: String) {
        self.bar.set_message(printable(&msg).into_owned());
    }

    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// A line worth keeping: above the bar on a terminal, on stderr otherwise.
    pub fn note(&self, line: String) {
        let line = printable(&line);
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `build_all` (each build at most `limit`) with a progress bar and one line per finished
/// build (and per cache entry rebuilt, and per failed audit).
pub fn build_with_progress(
    requests: &[BuildRequest],
    tc: &Toolchain,
    recipe: &Recipe,
    cache: &Path,
    limit: Duration,
) -> Result<Vec<BuildRecord>> {
    let progress = Progress::new(requests.len() as u64, "building");
    let builds = build_all(requests, tc, recipe, cache, limit, &|b| {
        progress.inc();
        let what = printable(&b.label()).into_owned();
        if let Some(why) = &b.rebuilt {
            progress.note(format!("  REBUILD {what}: {}", printable(why)));
        }
        progress.note(match &b.outcome {
            BuildOutcome::Ok { cached: true, .. } => format!("  cached  {what}"),
            BuildOutcome::Ok { .. } => format!("  built   {what} in {:.1} s", b.seconds),
            BuildOutcome::Failed { error } => format!("  FAILED  {what}: {}", printable(failure_headline(error))),
        });
        if let Some(a) = b.audit.as_ref().filter(|a| !a.passed()) {
            progress.note(format!(
                "  AUDIT   {what} imports symbols outside the Stable ABI {}.{}: {a:?}",
                a.floor.0, a.floor.1
            ));
        }
    });
    progress.finish();
    builds
}
