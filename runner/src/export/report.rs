//! The report: a results file's page a user can link to — `report.html` (self-contained),
//! `report.md` (PR comments, CI summaries) and `plots/` (SVG and PNG).

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::analysis::cells::analyse;
use crate::analysis::measures::MeasureAgreement;
use crate::export::page::Report;
use crate::export::{html, markdown, plots, sections};
use crate::model::io::{stem, write_atomic};
use crate::model::results::Results;

/// `target` as seen from directory `base` (both made absolute), for a link that survives moving
/// the pair together.
fn relative_link(target: &Path, base: &Path) -> Result<String> {
    let abs = |p: &Path| std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()));
    let (t, b) = (abs(target)?, abs(base)?);
    let (t, b): (Vec<Component>, Vec<Component>) = (t.components().collect(), b.components().collect());
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    rel.extend(&t[common..]);
    Ok(rel.to_string_lossy().into_owned())
}

/// Where `report` writes when not told: beside the results file, in a directory named after it.
pub fn default_dir(results_file: &Path) -> PathBuf {
    match stem(results_file) {
        Some(stem) => results_file.with_file_name(stem),
        None => results_file.with_extension(""),
    }
}

/// Writes the plots of `rep` into `out/plots/`, then its document (built here, once) as each
/// page (`report.html`, `report.md`); returns the HTML's path. With `other`, the other pass of
/// the same selection (instruction counts for a wall-time run, or the reverse), the pages also
/// show where counts and time disagree.
pub fn write(rep: Report, results_file: &Path, out: &Path, other: Option<&Results>) -> Result<PathBuf> {
    let (r, a) = (rep.results, rep.analysis);
    let measures = other.map(|o| MeasureAgreement::of((r, a), (o, &analyse(o)))).transpose()?;
    // Rewriting a run's own report is fine; another run's is not replaced silently.
    let md = out.join(markdown::FILE);
    if std::fs::read_to_string(&md).is_ok_and(|text| !text.contains(&r.run.id)) {
        bail!("{} holds the report of another run; not replaced (choose another --out, or remove it)", out.display());
    }
    let plot_dir = out.join("plots");
    std::fs::create_dir_all(&plot_dir).with_context(|| format!("cannot create {}", plot_dir.display()))?;
    let figures = plots::figures(r, rep.matrix);
    let plots = figures.par_iter().map(|f| f.write(r, a, &plot_dir)).collect::<Result<Vec<_>>>()?;
    let rep = Report { plots, measures, ..rep };
    let doc = sections::document(&rep, &relative_link(results_file, out)?);
    let mut pages = vec![(html::FILE.to_string(), html::render(&doc))];
    pages.extend(markdown::pages(&doc));
    for (name, text) in pages {
        write_atomic(&out.join(name), text.as_bytes())?;
    }
    Ok(out.join(html::FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_the_results_file_are_relative_to_the_report() {
        assert_eq!(relative_link(Path::new("/r/20260101.json"), Path::new("/r/20260101")).unwrap(), "../20260101.json");
        assert_eq!(relative_link(Path::new("/r/ref/x.json"), Path::new("/r/ref")).unwrap(), "x.json");
        assert_eq!(default_dir(Path::new("results/20260101T000000Z.json")), Path::new("results/20260101T000000Z"));
        assert_eq!(default_dir(Path::new("ref/20260101T000000Z.json.gz")), Path::new("ref/20260101T000000Z"));
    }
}
