//! Interpreters where no mode ran: said once, with why, instead of a failed cell in every row of
//! every table (a free-threaded 3.13 whose only fitting build fails, say).

use std::collections::BTreeMap;

use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};

/// Failures whose message alone misleads, with what they are. Checked against CPython's
/// `Python/importdl.c`, where `Py_IS_TYPE(m, NULL)` raises this for any extension.
const EXPLAINED: &[(&str, &str)] = &[(
    "returned uninitialized object",
    "CPython's generic check that a module's init function returned an initialised object \
     (Python/importdl.c: its type is NULL); a build compiled for the GIL-enabled object header trips it \
     on a free-threaded interpreter, whose header keeps the type elsewhere. It is not a refusal of abi3 \
     modules as such",
)];

/// `(interpreter, why)` for each interpreter of `r` without a single measured cell, in the order
/// of `r.interpreters`.
pub fn idle(r: &Results) -> Vec<(String, String)> {
    let modes = r.modes();
    r.interpreters
        .iter()
        .filter(|i| !r.cells.iter().any(|c| c.interpreter == i.name && c.status == CellStatus::Ok))
        .map(|i| {
            // Each mode's outcome in words; modes with the same outcome are named together.
            let mut by_outcome: BTreeMap<String, Vec<Mode>> = BTreeMap::new();
            for &m in &modes {
                let mut outcomes: Vec<String> = r
                    .cells
                    .iter()
                    .filter(|c| c.interpreter == i.name && c.mode == m)
                    .map(|c| {
                        let reason = c.reason.as_deref().unwrap_or_default().lines().next().unwrap_or_default();
                        let known = EXPLAINED.iter().find(|(needle, _)| reason.contains(needle));
                        match (reason, known) {
                            ("", _) => c.status.label().to_string(),
                            (_, None) => format!("{}: {reason}", c.status.label()),
                            (_, Some((_, what))) => format!("{}: {reason} ({what})", c.status.label()),
                        }
                    })
                    .collect();
                outcomes.sort();
                outcomes.dedup();
                let outcome = match (outcomes.len(), m.fits(i)) {
                    (0, Err(e)) => format!("does not fit ({e})"),
                    (0, Ok(())) => "not run".to_string(),
                    _ => outcomes.join("; "),
                };
                by_outcome.entry(outcome).or_default().push(m);
            }
            let mut parts: Vec<(Vec<Mode>, String)> = by_outcome.into_iter().map(|(o, ms)| (ms, o)).collect();
            parts.sort();
            let why: Vec<String> = parts.iter().map(|(ms, o)| format!("{}: {o}", mode_list(ms, &modes))).collect();
            (i.name.clone(), format!("no mode ran. {}.", why.join(". ")))
        })
        .collect()
}

/// `abi3-py38 to abi3-py314` for three or more modes in a row of `all`, else the names.
fn mode_list(ms: &[Mode], all: &[Mode]) -> String {
    let at = |m: &Mode| all.iter().position(|x| x == m);
    let consecutive = ms.windows(2).all(|w| at(&w[1]).zip(at(&w[0])).is_some_and(|(b, a)| b == a + 1));
    match ms {
        [first, .., last] if ms.len() >= 3 && consecutive => format!("{first} to {last}"),
        _ => ms.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::fixture;
    use crate::model::results::Cell;
    use crate::model::sampling::Measure;
    use crate::model::version::PyVersion;

    #[test]
    fn an_interpreter_without_a_measured_cell_is_one_line_with_why() {
        let py38 = Mode::Abi3(PyVersion(3, 8));
        let py39 = Mode::Abi3(PyVersion(3, 9));
        let py310 = Mode::Abi3(PyVersion(3, 10));
        let mut r = fixture::run(
            "x",
            Measure::WallTime,
            &[
                ("3.13.0", Mode::Unlimited, "a", vec![1.0]),
                ("3.13.0", py38, "a", vec![1.0]),
                ("3.13.0", py39, "a", vec![1.0]),
                ("3.13.0", py310, "a", vec![1.0]),
            ],
        );
        r.interpreters.push(fixture::interpreter("3.13.5t"));
        for s in ["a", "b"] {
            let mut c = Cell::pending("3.13.5t", Mode::Unlimited, s, 1);
            c.fail(
                CellStatus::NotLoadable,
                "SystemError: init function of bench_ext returned uninitialized object".into(),
            );
            r.cells.push(c);
        }
        let idle = idle(&r);
        assert_eq!(idle.len(), 1, "{idle:?}");
        let (name, why) = &idle[0];
        assert_eq!(name, "3.13.5t");
        assert!(
            why.starts_with("no mode ran. unlimited: not loadable: SystemError: init function of bench_ext returned uninitialized object (CPython's generic check"),
            "{why}"
        );
        assert!(why.contains("not a refusal of abi3"), "{why}");
        assert!(
            why.ends_with("abi3-py38 to abi3-py310: does not fit (abi3 is not loadable by free-threaded 3.13.5t)."),
            "{why}"
        );
    }

    #[test]
    fn mode_runs_are_ranges() {
        let all = Mode::ALL.to_vec();
        assert_eq!(mode_list(&all[1..8], &all), "abi3-py38 to abi3-py314");
        assert_eq!(mode_list(&all[1..3], &all), "abi3-py38, abi3-py39");
        assert_eq!(mode_list(&[all[0], all[8]], &all), "unlimited, abi3t-py315");
    }
}
