//! Bencher Metric Format (`bencher run --adapter json --file bmf.json`): one benchmark per measured
//! cell, named `interpreter/mode/scenario` as the gate names cells, with its median per operation
//! and 95 % interval as `latency` (ns; Bencher's built-in measure) or `instructions`, and for a
//! stable-ABI mode its paired ratio to unlimited as a measure of its own, `ratio-to-unlimited`
//! (Bencher creates a measure it does not know).

use std::path::PathBuf;

use anyhow::Result;
use serde_json::{json, Map, Value};

use crate::analysis::cells::Analysis;
use crate::export::formats::Format;
use crate::model::estimate::Estimate;
use crate::model::results::Results;
use crate::model::sampling::Measure;

pub struct Bmf;

/// The measure slug of a stable-ABI mode's time over unlimited's.
pub const RATIO: &str = "ratio-to-unlimited";

impl Format for Bmf {
    fn files(&self, r: &Results, a: &Analysis) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let slug = match r.run.sampling.measure {
            Measure::WallTime => "latency",
            Measure::Instructions => "instructions",
        };
        let mut doc = Map::new();
        for c in &r.cells {
            let Some(s) = a.summaries.get(&c.key()) else { continue };
            let mut measures = Map::new();
            measures.insert(slug.into(), metric(&s.median));
            if let Some(ratio) = a.mode_ratio(&c.interpreter, c.mode, &c.scenario) {
                measures.insert(RATIO.into(), metric(&ratio.ratio));
            }
            doc.insert(c.key(), Value::Object(measures));
        }
        Ok(vec![(PathBuf::from("bmf.json"), serde_json::to_vec_pretty(&doc)?)])
    }
}

fn metric(e: &Estimate) -> Value {
    json!({"value": e.point, "lower_value": e.low, "upper_value": e.high})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::model::mode::Mode;
    use crate::model::results::fixture;
    use crate::model::version::PyVersion;

    #[test]
    fn each_cell_has_its_median_and_a_stable_abi_cell_its_ratio() {
        let abi3 = Mode::Abi3(PyVersion(3, 8));
        let r = fixture::run(
            "1",
            Measure::WallTime,
            &[("3.12", Mode::Unlimited, "call", vec![10.0; 5]), ("3.12", abi3, "call", vec![12.0; 5])],
        );
        let files = Bmf.files(&r, &analyse(&r)).unwrap();
        let doc: Value = serde_json::from_slice(&files[0].1).unwrap();
        assert_eq!(
            doc["3.12/unlimited/call"],
            json!({"latency": {"value": 10.0, "lower_value": 10.0, "upper_value": 10.0}})
        );
        let ratio = &doc["3.12/abi3-py38/call"][RATIO];
        assert!((ratio["value"].as_f64().unwrap() - 1.2).abs() < 1e-9, "{doc}");
    }
}
