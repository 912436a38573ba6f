//! A run the size of the reference, for tests of what must fit (a terminal, a PR comment): ten
//! interpreters, one of them free-threaded where nothing runs; all nine modes; every scenario of
//! `scenarios/`, with its comparisons and a native floor.

use std::path::Path;

use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::native::{Floor, NativeSection};
use crate::model::results::{fixture, Cell, CellStatus, Results};
use crate::model::sampling::Measure;
use crate::model::scenario::load_dir;

const INTERPRETERS: [&str; 10] =
    ["3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.11.2", "3.12.1", "3.13.0", "3.13.5t", "3.14.10", "3.15.2"];

/// The results: times from 8 ns to 1.2 ms, some intervals wide, every cell that fits measured.
pub fn results() -> Results {
    let groups = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")).unwrap();
    let scenarios: Vec<String> = groups.iter().flat_map(|g| &g.scenarios).map(|s| s.name.clone()).collect();
    let mut specs = Vec::new();
    for (k, interp) in INTERPRETERS.iter().enumerate().filter(|(_, i)| !i.ends_with('t')) {
        for (m, mode) in Mode::ALL.iter().enumerate() {
            if mode.fits(&fixture::interpreter(interp)).is_err() {
                continue;
            }
            for (s, scenario) in scenarios.iter().enumerate() {
                let ns = 8.0 * 1.7f64.powi((s % 20) as i32) * (1.0 + 0.03 * m as f64);
                // Every seventh cell spreads by half its value, for three-digit interval widths.
                let spread = if (k + m + s) % 7 == 0 { 0.5 } else { 0.01 };
                let values = (0..10).map(|v| ns * (1.0 + spread * ((v * 3 + s) % 5) as f64 / 4.0)).collect();
                specs.push((*interp, *mode, scenario.as_str(), values));
            }
        }
    }
    let mut r = fixture::run("20261130T050203.179Z", Measure::WallTime, &specs);
    r.interpreters = INTERPRETERS.iter().map(|i| fixture::interpreter(i)).collect();
    for scenario in &scenarios {
        let mut c = Cell::pending("3.13.5t", Mode::Unlimited, scenario, 1);
        c.fail(
            CellStatus::BuildFailed,
            "cargo build exit status: 101: error: PyO3 does not support the free-threaded build of CPython \
             versions below 3.14, the selected Python version is 3.13\nCaused by: …"
                .into(),
        );
        r.cells.push(c);
    }
    r.native = Some(NativeSection {
        file: "results/native-x.json".into(),
        run_id: "x".into(),
        created_at: "2026-11-29T00:00:00Z".into(),
        floors: scenarios
            .iter()
            .map(|s| {
                let floor = Floor { bench: s.clone(), per_op_ns: Estimate { point: 123.4, low: 100.0, high: 150.0 } };
                (s.clone(), floor)
            })
            .collect(),
    });
    r.groups = groups;
    r
}
