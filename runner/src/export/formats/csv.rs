//! CSV for spreadsheets and dataframes: one row per cell, failed ones included (with their
//! status and empty figures), quoted as RFC 4180 says (the `csv` crate). Names are text a
//! spreadsheet shows, never runs: control characters made visible, and a leading `=`, `+`, `-`,
//! `@`, tab or CR escaped with `'` (OWASP's rule against CSV injection: `spreadsheet_text`).

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::analysis::cells::Analysis;
use crate::export::format::spreadsheet_text;
use crate::export::formats::Format;
use crate::model::results::{CellStatus, Results};
use crate::model::scenario::{Channel, Layer};

pub struct Csv;

/// One row; the field names are the header. Figures are per operation in `unit`; the ratio is a
/// stable-ABI mode's time over unlimited's on the same interpreter, paired.
#[derive(Serialize)]
struct Row {
    interpreter: String,
    version: Option<String>,
    /// Where the interpreter came from: pyenv, Debian packages, a source build...
    source: Option<String>,
    mode: String,
    scenario: String,
    /// The scenario's cost channel and layer (`scenarios/README.md`), where declared.
    channel: Option<Channel>,
    layer: Option<Layer>,
    n: u64,
    status: CellStatus,
    median: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    ratio: Option<f64>,
    ratio_ci_low: Option<f64>,
    ratio_ci_high: Option<f64>,
    unit: &'static str,
}

impl Format for Csv {
    fn files(&self, r: &Results, a: &Analysis) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut out = ::csv::Writer::from_writer(Vec::new());
        for c in &r.cells {
            let interp = r.interpreters.iter().find(|i| i.id() == c.interpreter);
            let median = a.summaries.get(&c.key()).map(|s| s.median);
            let ratio = a.mode_ratio(&c.interpreter, c.mode, &c.scenario).map(|x| x.ratio);
            let scenario = r.groups.iter().flat_map(|g| &g.scenarios).find(|s| s.name == c.scenario);
            out.serialize(Row {
                interpreter: spreadsheet_text(&c.interpreter),
                version: interp.map(|i| spreadsheet_text(i.release())),
                source: interp.map(|i| spreadsheet_text(&i.provenance.to_string())),
                mode: c.mode.name(),
                scenario: spreadsheet_text(&c.scenario),
                channel: scenario.and_then(|s| s.channel),
                layer: scenario.and_then(|s| s.layer),
                n: c.n,
                status: c.status,
                median: median.map(|m| m.point),
                ci_low: median.map(|m| m.low),
                ci_high: median.map(|m| m.high),
                ratio: ratio.map(|x| x.point),
                ratio_ci_low: ratio.map(|x| x.low),
                ratio_ci_high: ratio.map(|x| x.high),
                unit: r.run.sampling.measure.unit(),
            })?;
        }
        Ok(vec![(PathBuf::from("cells.csv"), out.into_inner()?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::model::mode::Mode;
    use crate::model::results::fixture;
    use crate::model::sampling::Measure;

    #[test]
    fn a_header_and_one_row_per_cell_with_quoting_where_needed() {
        let mut r = fixture::run("1", Measure::WallTime, &[("3.12", Mode::Unlimited, "a,\"b\"\nc", vec![2.0; 3])]);
        r.cells.push(crate::model::results::Cell::pending("3.12", Mode::Unlimited, "failed", 1));
        let files = Csv.files(&r, &analyse(&r)).unwrap();
        let text = String::from_utf8(files[0].1.clone()).unwrap();
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        assert_eq!(
            lines[0],
            "interpreter,version,source,mode,scenario,channel,layer,n,status,median,ci_low,ci_high,ratio,ratio_ci_low,ratio_ci_high,unit"
        );
        assert!(text.contains(",unlimited,\"a,\"\"b\"\"\nc\",,,1,ok,2.0,2.0,2.0,,,,ns\n"), "{text}");
        assert!(text.ends_with(",unlimited,failed,,,1,pending,,,,,,,ns\n"), "{text}");
    }

    #[test]
    fn names_reach_a_spreadsheet_as_text() {
        let name = "=HYPERLINK(\"http://x\",\"\u{1b}[2Jclick\")";
        let mut r = fixture::run("1", Measure::WallTime, &[("3.12", Mode::Unlimited, name, vec![2.0; 3])]);
        r.cells[0].interpreter = "@SUM(1)".into();
        let files = Csv.files(&r, &analyse(&r)).unwrap();
        let text = String::from_utf8(files[0].1.clone()).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("'@SUM(1),"), "{row}");
        assert!(row.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"\u{241b}[2Jclick\"\")\","), "{row}");
        assert!(!text.contains('\u{1b}'));
    }
}
