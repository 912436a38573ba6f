//! Progress for long work: a bar on a terminal, plain milestone lines in logs (CI).

use std::fmt::Write;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use indicatif::{HumanDuration, ProgressBar, ProgressState, ProgressStyle};

use crate::export::format::printable;
use crate::model::build::{failure_headline, BuildOutcome, BuildRecord, Toolchain};
use crate::setup::builds::{build_all, BuildRequest};
use crate::setup::recipe::Recipe;

pub struct Progress {
    bar: ProgressBar,
    /// Steps that took no time (a cached build): counted done, but not in the pace.
    instant: Arc<AtomicU64>,
}

impl Progress {
    pub fn new(len: u64, what: &str) -> Progress {
        let instant = Arc::new(AtomicU64::new(0));
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(len);
            let skipped = Arc::clone(&instant);
            let eta = move |s: &ProgressState, w: &mut dyn Write| {
                let left = eta(s.elapsed(), s.pos(), s.len().unwrap_or(0), skipped.load(Ordering::Relaxed));
                let _ = match left {
                    Some(d) => write!(w, "{:#}", HumanDuration(d)),
                    None => write!(w, "?"),
                };
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {steady_eta}) {wide_msg}",
                )
                .expect("valid template")
                .with_key("steady_eta", eta)
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_prefix(what.to_string());
        Progress { bar, instant }
    }

    /// A step done at once, which says nothing of how long the others take.
    pub fn inc_instant(&self) {
        self.instant.fetch_add(1, Ordering::Relaxed);
        self.bar.inc(1);
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

/// The time left at the pace so far: time elapsed × steps left ÷ steps that took time. Every
/// step of a measurement is planned to take as long as the next (values × minimum time), so the
/// mean pace is the estimate; indicatif's own `{eta}` follows the last ~15 s and counts a
/// pause as no progress, so a worker starting or sizing its loops sent it from 52 s to hours.
fn eta(elapsed: Duration, pos: u64, len: u64, instant: u64) -> Option<Duration> {
    let timed = pos.checked_sub(instant).filter(|&n| n > 0)?;
    Some(elapsed.mul_f64(len.saturating_sub(pos) as f64 / timed as f64))
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
        if b.seconds == 0.0 {
            progress.inc_instant();
        } else {
            progress.inc();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_is_the_mean_pace_and_a_pause_does_not_send_it_to_hours() {
        let s = Duration::from_secs;
        assert_eq!(eta(s(10), 0, 100, 0), None, "no pace yet");
        assert_eq!(eta(s(10), 10, 100, 0), Some(s(90)));
        // A 60 s pause (a worker starting) after 10 steps in 10 s: 7 minutes left, not hours.
        assert_eq!(eta(s(70), 10, 100, 0), Some(s(630)));
        // Cached builds are done but set no pace: 3 cached, 1 built in 60 s, 2 left.
        assert_eq!(eta(s(60), 3, 6, 3), None);
        assert_eq!(eta(s(60), 4, 6, 3), Some(s(120)));
        assert_eq!(eta(s(60), 6, 6, 3), Some(s(0)));
    }
}
