//! A small, fully known results file for unit tests of the analysis consumers (report, plots,
//! exporters): two interpreters, a chatty and a compute group, ratios chosen in advance.

use serde_json::{json, Value};

use crate::model::callgrind::Calls;
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::{Cell, CellStatus, ProcessSamples, Results};

/// Per-operation times in ns: (interpreter, mode, scenario, ns). abi3-py38 costs 1.5x on the chatty
/// path everywhere; abi3-py312 (3.12 only) costs 1.1x; the compute kernel costs the same in every mode.
const TIMES: &[(&str, &str, &str, f64)] = &[
    ("3.8.18", "unlimited", "list_get", 10.0),
    ("3.8.18", "abi3-py38", "list_get", 15.0),
    ("3.8.18", "unlimited", "list_macro", 8.0),
    ("3.8.18", "unlimited", "kernel", 1000.0),
    ("3.8.18", "abi3-py38", "kernel", 1000.0),
    ("3.12.1", "unlimited", "list_get", 20.0),
    ("3.12.1", "abi3-py38", "list_get", 30.0),
    ("3.12.1", "abi3-py312", "list_get", 22.0),
    ("3.12.1", "unlimited", "list_macro", 16.0),
    ("3.12.1", "unlimited", "kernel", 1000.0),
    ("3.12.1", "abi3-py38", "kernel", 1000.0),
    ("3.12.1", "abi3-py312", "kernel", 1000.0),
];

/// Ten values around `ns`, +-2 % in a pattern that `salt` shifts, so two cells of equal time give
/// paired ratios on both sides of 1.0.
fn values(ns: f64, salt: usize) -> Vec<f64> {
    (0..10).map(|i| ns * 1e-9 * (1.0 + 0.01 * ((i * 7 + salt) % 5) as f64 - 0.02)).collect()
}

fn interpreter(name: &str, minor: u8) -> Value {
    json!({
        "name": name, "argv": [format!("/opt/py/{name}/bin/python3")], "provenance": "pyenv",
        "version": [3, minor], "full_version": name, "implementation": "cpython",
        "soabi": format!("cpython-3{minor}-x86_64-linux-gnu"), "ext_suffix": format!(".cpython-3{minor}-x86_64-linux-gnu.so"),
        "extension_suffixes": [".abi3.so", ".so"], "gil_disabled": false,
        "build": {"compiler": "GCC 12.2.0", "cc": "gcc", "opt": "-O3", "config_args": "'--enable-shared'",
                  "pgo": minor >= 12, "lto": false, "shared": true, "prefix": format!("/opt/py/{name}")}
    })
}

fn cells() -> Vec<Value> {
    let mut cells: Vec<Value> = TIMES
        .iter()
        .enumerate()
        .map(|(k, (interp, mode, scenario, ns))| {
            json!({
                "interpreter": interp, "mode": mode, "scenario": scenario, "n": 1, "status": "ok",
                "processes": [{"process": 0, "loops": 1, "overhead_per_loop_s": 0.0, "warmups_s": [],
                               "values_s": values(*ns, k % 3)}]
            })
        })
        .collect();
    for (interp, mode) in [("3.8.18", "abi3-py38"), ("3.12.1", "abi3-py38"), ("3.12.1", "abi3-py312")] {
        cells.push(json!({
            "interpreter": interp, "mode": mode, "scenario": "list_macro", "n": 1, "status": "not_available",
            "reason": "PyList_GET_ITEM is a macro outside the limited API"
        }));
    }
    cells
}

fn scenario(name: &str, group: &str) -> Value {
    let (channel, layer, task) = match group {
        "compute" => ("compute", "pyo3", None),
        _ => ("item-access", "c-api", Some("sum a list")),
    };
    json!({"name": name, "group": group, "description": format!("{name} described"), "function": "f",
           "setup": "", "stmt": "f()", "n": 1, "channel": channel, "layer": layer, "task": task})
}

pub fn results() -> Results {
    let build = |mode: &str, tag: &str| {
        json!({"mode": mode, "abi_tag": tag, "interpreter": null, "source_hash": "h", "seconds": 1.0,
               "status": "ok", "artifact": format!("/cache/{tag}/bench_ext.so"), "cached": true})
    };
    serde_json::from_value(json!({
        "schema": crate::model::results::SCHEMA, "schema_version": crate::model::results::SCHEMA_VERSION, "tool": "abibench test",
        "run": {"id": "20260101T000000Z", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:01:00Z",
                "status": "complete", "argv": ["abibench", "compare"], "level": "default",
                "sampling": {"measure": "wall-time", "min_time": 0.01, "values": 10, "target_instructions": 0,
                             "warmups": 1, "processes": 1, "timeout_s": 120.0},
                "seed": 1, "build_seconds": 1.0, "measure_seconds": 2.0},
        "host": {"hostname": "box", "os": "Debian", "kernel": "6.1", "cpu_model": "CPU", "logical_cpus": 8,
                 "memory_bytes": 1u64 << 34, "load_average_at_start": [0.1, 0.1, 0.1], "cpu_governor": "performance"},
        "source": {"git_revision": "abc123", "git_dirty": false, "ext_source_hash": "h"},
        "interpreters": [interpreter("3.8.18", 8), interpreter("3.12.1", 12)],
        "builds": [build("unlimited", "cpython-38-x86_64-linux-gnu"), build("unlimited", "cpython-312-x86_64-linux-gnu"),
                   build("abi3-py38", "abi3-py38"), build("abi3-py312", "abi3-py312")],
        "groups": [
            {"name": "containers", "title": "Containers", "kind": "chatty", "description": "Item access.",
             "file": "scenarios/containers.toml",
             "comparisons": [{"label": "PyList_GetItem / PyList_GET_ITEM", "baseline": "list_macro", "candidate": "list_get"}],
             "scenarios": [scenario("list_get", "containers"), scenario("list_macro", "containers")]},
            {"name": "compute", "title": "Compute", "kind": "compute", "description": "Kernels.",
             "file": "scenarios/compute.toml", "comparisons": [], "scenarios": [scenario("kernel", "compute")]}
        ],
        "cells": cells(),
        "workers": []
    }))
    .expect("the fixture matches the results schema")
}

pub fn est(point: f64, low: f64, high: f64) -> Estimate {
    Estimate { point, low, high }
}

/// `results()` with a PyO3 path for the list task (whose C API paths are `list_macro` and
/// `list_get`): `list_pyo3`, timed on 3.8 only: 12 ns unlimited, 30 ns abi3-py38),
/// in a run that interleaves the scenarios of a group.
pub fn attribution_results() -> Results {
    let mut v = serde_json::to_value(results()).expect("results serialize");
    v["run"]["sampling"]["paired_scenarios"] = json!(true);
    let mut pyo3 = scenario("list_pyo3", "containers");
    pyo3["layer"] = json!("pyo3");
    v["groups"][0]["scenarios"].as_array_mut().expect("scenarios").push(pyo3);
    for (k, (mode, ns)) in [("unlimited", 12.0), ("abi3-py38", 30.0)].into_iter().enumerate() {
        v["cells"].as_array_mut().expect("cells").push(json!({
            "interpreter": "3.8.18", "mode": mode, "scenario": "list_pyo3", "n": 1, "status": "ok",
            "processes": [{"process": 0, "loops": 1, "overhead_per_loop_s": 0.0, "warmups_s": [],
                           "values_s": values(ns, k)}]
        }));
    }
    serde_json::from_value(v).expect("the fixture matches the results schema")
}

/// `results()` counted instead of timed (the other pass of the same night): every count the
/// cell's nominal time, except that abi3-py38 costs `item` on `list_get` (time: 1.5×) and
/// `kernel` on `kernel` (time: 1.0×).
pub fn counts(item: f64, kernel: f64) -> Results {
    let mut r = results();
    r.run.id = "20260101T000500Z".into();
    r.run.sampling = crate::model::sampling::Level::Default.sampling(crate::model::sampling::Measure::Instructions);
    for c in &mut r.cells {
        let factor = match (c.mode.name().as_str(), c.scenario.as_str()) {
            ("abi3-py38", "list_get") => item / 1.5,
            ("abi3-py38", "kernel") => kernel,
            _ => 1.0,
        };
        for p in &mut c.processes {
            // Counts repeat exactly: every value of a cell the same (the pattern's median is ns).
            let nominal = crate::model::estimate::median(&p.values_s) * 1e9 * factor;
            p.values_s = vec![nominal; p.values_s.len()];
        }
    }
    r
}

/// A run with the free-threaded interpreters setup-python gives a GitHub runner and this machine
/// cannot have (3.14t, 3.15t), beside 3.15: version-specific builds on each (cp314t, cp315t,
/// cp315) and abi3t-py315 on 3.15 and 3.15t, every free-threaded cell timed with the GIL off.
/// `list_get` takes 10 ns unlimited everywhere, 11 ns under abi3t-py315 on 3.15 and `ft_ns` on
/// 3.15t; `kernel` costs the same in every build.
pub fn free_threaded_results(ft_ns: f64) -> Results {
    let mut v = serde_json::to_value(results()).expect("results serialize");
    let ft = |name: &str, minor: u8| {
        let mut i = interpreter(name, minor);
        i["gil_disabled"] = json!(true);
        i["soabi"] = json!(format!("cpython-3{minor}t-x86_64-linux-gnu"));
        i["ext_suffix"] = json!(format!(".cpython-3{minor}t-x86_64-linux-gnu.so"));
        i["extension_suffixes"] = json!([".so"]);
        i
    };
    v["interpreters"] = json!([ft("3.14.0t", 14), interpreter("3.15.0", 15), ft("3.15.0t", 15)]);
    let times = [
        ("3.14.0t", "unlimited", "list_get", 10.0),
        ("3.14.0t", "unlimited", "kernel", 1000.0),
        ("3.15.0", "unlimited", "list_get", 10.0),
        ("3.15.0", "abi3t-py315", "list_get", 11.0),
        ("3.15.0", "unlimited", "kernel", 1000.0),
        ("3.15.0", "abi3t-py315", "kernel", 1000.0),
        ("3.15.0t", "unlimited", "list_get", 10.0),
        ("3.15.0t", "abi3t-py315", "list_get", ft_ns),
        ("3.15.0t", "unlimited", "kernel", 1000.0),
        ("3.15.0t", "abi3t-py315", "kernel", 1000.0),
    ];
    v["cells"] = times
        .iter()
        .enumerate()
        .map(|(k, (interp, mode, scenario, ns))| {
            json!({
                "interpreter": interp, "mode": mode, "scenario": scenario, "n": 1, "status": "ok",
                "gil_enabled": if interp.ends_with('t') { Some(false) } else { None },
                "processes": [{"process": 0, "loops": 1, "overhead_per_loop_s": 0.0, "warmups_s": [],
                               "values_s": values(*ns, k % 3)}]
            })
        })
        .collect();
    v["builds"] = json!([]);
    serde_json::from_value(v).expect("the fixture matches the results schema")
}

/// A counted cell of `n` operations per statement: `per_loop` instructions and `calls` per
/// statement execution, over 4 loops.
pub fn counted(mode: Mode, n: u64, per_loop: f64, calls: &[(&str, i64)]) -> Cell {
    let mut c = Cell::pending("3.12.1", mode, "s", n);
    c.status = CellStatus::Ok;
    c.add_process(ProcessSamples {
        process: 0,
        layout: 0,
        loops: 4,
        overhead_per_loop_s: 0.0,
        warmups_s: vec![],
        values_s: vec![4.0 * per_loop; 3],
    });
    c.calls = Some(Calls { loops: 4, counts: calls.iter().map(|(f, k)| (f.to_string(), 4 * k)).collect() });
    c
}
