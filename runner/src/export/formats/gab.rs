//! github-action-benchmark's `customSmallerIsBetter` tool: a list of `{name, unit, value, range,
//! extra}`. One entry per measured cell (its median per operation), and one per stable-ABI cell
//! for its paired ratio to unlimited, so the dashboard charts the cost of abi3 across commits.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::analysis::cells::Analysis;
use crate::export::format::format_value;
use crate::export::formats::Format;
use crate::model::estimate::Estimate;
use crate::model::results::Results;

pub struct Gab;

#[derive(Serialize)]
struct Entry {
    name: String,
    unit: &'static str,
    value: f64,
    range: String,
    extra: String,
}

/// Half the interval's width: what the dashboard's tooltip shows beside the value.
fn half_width(e: &Estimate) -> f64 {
    (e.high - e.low) / 2.0
}

impl Format for Gab {
    fn files(&self, r: &Results, a: &Analysis) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let measure = r.run.sampling.measure;
        let value = |x: f64| format_value(x, measure);
        let mut entries = Vec::new();
        for c in &r.cells {
            let Some(s) = a.summaries.get(&c.key()) else { continue };
            let m = &s.median;
            entries.push(Entry {
                name: c.key(),
                unit: measure.unit(),
                value: m.point,
                range: format!("± {}", value(half_width(m))),
                extra: format!(
                    "per operation; 95 % interval {} to {}; {} values, {} outliers",
                    value(m.low),
                    value(m.high),
                    s.values,
                    s.outliers
                ),
            });
            if let Some(ratio) = a.mode_ratio(&c.interpreter, c.mode, &c.scenario) {
                let e = &ratio.ratio;
                entries.push(Entry {
                    name: format!("{} ratio to unlimited", c.key()),
                    unit: "x",
                    value: e.point,
                    range: format!("± {:.3}", half_width(e)),
                    extra: format!(
                        "{} time over unlimited's, paired; 95 % interval {:.3} to {:.3}; {} pairs",
                        c.mode, e.low, e.high, ratio.pairs
                    ),
                });
            }
        }
        Ok(vec![(PathBuf::from("github-action-benchmark.json"), serde_json::to_vec_pretty(&entries)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::model::mode::Mode;
    use crate::model::results::fixture;
    use crate::model::sampling::Measure;
    use crate::model::version::PyVersion;
    use serde_json::json;

    #[test]
    fn times_and_ratios_are_entries_of_their_own() {
        let abi3 = Mode::Abi3(PyVersion(3, 8));
        let r = fixture::run(
            "1",
            Measure::WallTime,
            &[("3.12", Mode::Unlimited, "call", vec![10.0; 5]), ("3.12", abi3, "call", vec![12.0; 5])],
        );
        let files = Gab.files(&r, &analyse(&r)).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
        let names: Vec<&str> = doc.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["3.12/unlimited/call", "3.12/abi3-py38/call", "3.12/abi3-py38/call ratio to unlimited"]);
        assert_eq!(
            (&doc[1]["unit"], &doc[1]["value"], &doc[1]["range"]),
            (&json!("ns"), &json!(12.0), &json!("± 0.00 ns"))
        );
        assert_eq!(doc[2]["unit"], "x");
        assert!((doc[2]["value"].as_f64().unwrap() - 1.2).abs() < 1e-9);
    }
}
