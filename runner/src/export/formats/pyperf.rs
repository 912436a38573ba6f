//! pyperf's JSON format (version 1.0): one file per interpreter and mode,
//! `pyperf/<interpreter>-<mode>.json`, holding one benchmark per scenario named by the scenario
//! alone, so `pyperf compare_to pyperf/3.12.1-unlimited.json pyperf/3.12.1-abi3-py38.json` pairs a
//! mode with unlimited (or one interpreter with another). Each worker process is a pyperf run, as
//! pyperf's own runs are processes; `loops` is the process's loop count and `inner_loops` the
//! scenario's `n`, so pyperf's values are per operation.
//!
//! Values are raw: pyperf refuses values <= 0, which subtracting the empty-loop overhead (as
//! abibench's own figures do) can produce for the fastest calls. The metadata says so.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::{json, Map, Value};

use crate::analysis::cells::Analysis;
use crate::export::formats::Format;
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::model::results::{Cell, CellStatus, Results};
use crate::model::sampling::Measure;
use crate::model::system::CpuList;

pub struct Pyperf;

/// What a value is, for the metadata of every file.
const VALUES: &str = "raw: the time of `loops` executions of the statement over loops x inner_loops; \
                      abibench's own figures also subtract the empty-loop cost, which this leaves in \
                      (pyperf takes values > 0 only)";

impl Format for Pyperf {
    fn files(&self, r: &Results, _: &Analysis) -> Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut files = Vec::new();
        for interp in &r.interpreters {
            for mode in r.modes() {
                let benchmarks: Vec<Value> = r
                    .cells
                    .iter()
                    .filter(|c| c.interpreter == interp.id() && c.mode == mode)
                    .filter(|c| c.status == CellStatus::Ok && !c.processes.is_empty())
                    .map(benchmark)
                    .collect();
                if benchmarks.is_empty() {
                    continue;
                }
                let suite = json!({
                    "version": "1.0",
                    "metadata": suite_metadata(r, interp, mode),
                    "benchmarks": benchmarks,
                });
                let name = format!("{}-{}.json", file_part(&interp.name), mode);
                files.push((PathBuf::from("pyperf").join(name), serde_json::to_vec(&suite)?));
            }
        }
        Ok(files)
    }
}

fn benchmark(c: &Cell) -> Value {
    let runs: Vec<Value> = c
        .processes
        .iter()
        .map(|p| {
            let per_op = |v: f64| v / (p.loops * c.n) as f64;
            // A value of 0 cannot be timed, but one bad value would make pyperf refuse the file.
            let values: Vec<f64> = p.values_s.iter().map(|&v| per_op(v)).filter(|&v| v > 0.0).collect();
            let warmups: Vec<(u64, f64)> = p.warmups_s.iter().map(|&w| (p.loops, per_op(w))).collect();
            let mut metadata = json!({"loops": p.loops, "abibench_process": p.process});
            if p.overhead_per_loop_s.is_finite() {
                metadata["abibench_empty_loop_per_op"] = json!(p.overhead_per_loop_s / c.n as f64);
            }
            json!({"metadata": metadata, "warmups": warmups, "values": values})
        })
        .collect();
    json!({"metadata": {"name": text(&c.scenario), "inner_loops": c.n}, "runs": runs})
}

/// What the whole file shares: pyperf's own keys where they exist, `abibench_*` for the rest.
fn suite_metadata(r: &Results, interp: &Interpreter, mode: Mode) -> Map<String, Value> {
    let measure = r.run.sampling.measure;
    let mut m = Map::new();
    let mut put = |key: &str, value: Value| {
        // pyperf refuses empty strings.
        if value.as_str() != Some("") {
            m.insert(key.into(), value);
        }
    };
    put("unit", json!(if measure == Measure::WallTime { "second" } else { "integer" }));
    put("python_version", json!(text(interp.release())));
    put("python_implementation", json!(text(&interp.implementation.to_lowercase())));
    put("hostname", json!(text(&r.host.hostname)));
    put("cpu_model_name", json!(text(&r.host.cpu_model)));
    put("cpu_count", json!(r.host.logical_cpus));
    put("platform", json!(text(&format!("{} {}", r.host.os, r.host.kernel))));
    put("date", json!(text(&r.run.started_at)));
    put("abibench_run", json!(text(&r.run.id)));
    put("abibench_interpreter", json!(text(&interp.name)));
    put("abibench_mode", json!(mode.name()));
    put("abibench_measure", json!(measure.name()));
    put("abibench_values", json!(VALUES));
    if !r.run.sampling.affinity.is_empty() {
        put("cpu_affinity", json!(CpuList(r.run.sampling.affinity.clone()).to_string()));
    }
    m
}

/// A metadata string as pyperf takes it: one line, trimmed.
fn text(s: &str) -> String {
    s.replace(['\n', '\r'], " ").trim().to_string()
}

/// A file name part from any string: letters, digits and `.+-` kept, the rest `_`; never `.`/`..`.
fn file_part(s: &str) -> String {
    let safe: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "._+-".contains(c) { c } else { '_' }).collect();
    if safe.starts_with('.') || safe.is_empty() {
        format!("_{safe}")
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::model::results::fixture;
    use crate::model::sampling::Measure;

    #[test]
    fn one_file_per_interpreter_and_mode_with_per_operation_raw_values() {
        let r = fixture::run(
            "1",
            Measure::WallTime,
            &[
                ("3.12", Mode::Unlimited, "call", vec![10.0, 12.0]),
                ("3.12", Mode::Abi3(crate::model::version::PyVersion(3, 8)), "call", vec![11.0, 13.0]),
            ],
        );
        let files = Pyperf.files(&r, &analyse(&r)).unwrap();
        let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(names, ["pyperf/3.12-unlimited.json", "pyperf/3.12-abi3-py38.json"]);
        let suite: Value = serde_json::from_slice(&files[0].1).unwrap();
        assert_eq!(suite["version"], "1.0");
        assert_eq!(suite["metadata"]["unit"], "second");
        let bench = &suite["benchmarks"][0];
        assert_eq!(bench["metadata"]["name"], "call");
        // The fixture's values are ns per operation with loops = n = 1: seconds here.
        assert_eq!(bench["runs"][0]["values"], json!([10e-9, 12e-9]));
        assert_eq!(bench["runs"][0]["metadata"]["loops"], 1);
    }

    #[test]
    fn names_become_safe_file_names_and_one_line_metadata() {
        assert_eq!(file_part("../<a b>"), "_..__a_b_");
        assert_eq!(file_part("3.13.5t"), "3.13.5t");
        assert_eq!(text(" a\r\nb "), "a  b");
    }
}
