//! Native floors against cells: which scenario has which floor, and what a cell costs above it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::model::estimate::Estimate;
use crate::model::io::{latest, read_json};
use crate::model::native::{BenchEstimate, Floor, NativeRun, NativeSection, FILE_PREFIX, SCHEMA, SCHEMA_VERSION};
use crate::model::scenario::{Group, Scenario};

/// What a cell costs above its floor, per operation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AboveFloor {
    /// time − floor, in ns.
    pub excess_ns: Estimate,
    /// time ÷ floor.
    pub ratio: Estimate,
}

/// A cell's median time per operation against its floor's. The two come from different
/// processes (abibench's worker, criterion's bench), so they cannot be paired: each interval
/// combines the worst cases of both, which is conservative.
pub fn above_floor(time: &Estimate, floor: &Estimate) -> AboveFloor {
    AboveFloor {
        excess_ns: Estimate {
            point: time.point - floor.point,
            low: time.low - floor.high,
            high: time.high - floor.low,
        },
        ratio: Estimate { point: time.point / floor.point, low: time.low / floor.high, high: time.high / floor.low },
    }
}

/// The scenarios that name a floor, with their group, by floor.
pub fn by_floor(groups: &[Group]) -> BTreeMap<&str, Vec<(&Group, &Scenario)>> {
    let mut m: BTreeMap<&str, Vec<(&Group, &Scenario)>> = BTreeMap::new();
    for g in groups {
        for s in &g.scenarios {
            if let Some(id) = &s.native {
                m.entry(id.as_str()).or_default().push((g, s));
            }
        }
    }
    m
}

/// Maps each scenario that names a floor onto its bench's estimate, per operation. `source` says
/// where `benches` came from, for the errors: a floor missing from it, or one whose operations per
/// iteration are not its scenario's `n` (the two would time different sizes).
pub fn floors(
    benches: &BTreeMap<String, BenchEstimate>,
    source: &Path,
    groups: &[Group],
) -> Result<BTreeMap<String, Floor>> {
    let mut floors = BTreeMap::new();
    for (id, users) in by_floor(groups) {
        for (g, s) in users {
            let Some(b) = benches.get(id) else {
                bail!(
                    "{}: scenario '{}' names native floor '{id}', which {} has no estimate for (it has: {}); \
                     run `abibench native`",
                    g.file.display(),
                    s.name,
                    source.display(),
                    benches.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            if b.elements != s.n {
                bail!(
                    "{}: scenario '{}' has n = {}, but its native floor '{id}' in {} does {} operations per \
                     iteration; make the bench in bench-ext/native/benches/native.rs match, and run it again",
                    g.file.display(),
                    s.name,
                    s.n,
                    source.display(),
                    b.elements
                );
            }
            floors.insert(s.name.clone(), Floor { bench: id.to_string(), per_op_ns: b.per_op_ns() });
        }
    }
    Ok(floors)
}

/// The floors of `groups` from a native file: `file`, or the newest in `dir`.
pub fn section(file: Option<&Path>, dir: &Path, groups: &[Group]) -> Result<NativeSection> {
    let file = match file {
        Some(f) => f.to_path_buf(),
        None => latest(dir, FILE_PREFIX).context("--native: run `abibench native` first")?,
    };
    let run: NativeRun = read_json(&file, SCHEMA, SCHEMA_VERSION)?;
    Ok(NativeSection { floors: floors(&run.benches, &file, groups)?, file, run_id: run.id, created_at: run.created_at })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::measure::native::read_bench;
    use crate::model::scenario;

    /// Written by a real criterion run of `benches/native.rs` (see tests/fixtures/README.md).
    fn fixture_home() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion")
    }

    const FIXTURE_BENCH: &str = "slice_sum_iter";

    fn groups(n: u64) -> Vec<Group> {
        let text = format!(
            r#"
[group]
name = "containers"
title = "Containers"
kind = "chatty"

[[scenario]]
name = "list_macro"
function = "f1"
stmt = "f(x)"
n = {n}
native = "{FIXTURE_BENCH}"

[[scenario]]
name = "tuple_fn"
function = "f2"
stmt = "f(x)"
n = {n}
native = "{FIXTURE_BENCH}"

[[scenario]]
name = "no_floor"
function = "f3"
stmt = "f()"
"#
        );
        vec![scenario::parse_file(Path::new("c.toml"), &text).unwrap()]
    }

    #[test]
    fn scenarios_sharing_a_floor_get_its_per_op_estimate() {
        let b = read_bench(&fixture_home(), FIXTURE_BENCH).unwrap();
        let benches = BTreeMap::from([(FIXTURE_BENCH.to_string(), b.clone())]);
        let f = floors(&benches, Path::new("n.json"), &groups(b.elements)).unwrap();
        assert_eq!(f.keys().collect::<Vec<_>>(), ["list_macro", "tuple_fn"], "a scenario without `native` has none");
        for floor in f.values() {
            assert_eq!(floor.bench, FIXTURE_BENCH);
            assert_eq!(floor.per_op_ns, b.per_op_ns());
        }
    }

    #[test]
    fn a_floor_of_another_size_or_none_at_all_is_refused() {
        let b = read_bench(&fixture_home(), FIXTURE_BENCH).unwrap();
        let benches = BTreeMap::from([(FIXTURE_BENCH.to_string(), b.clone())]);
        let e = floors(&benches, Path::new("n.json"), &groups(b.elements + 1)).unwrap_err().to_string();
        assert!(e.starts_with("c.toml:") && e.contains("list_macro") && e.contains("n.json"), "{e}");
        assert!(e.contains(&format!("n = {}", b.elements + 1)) && e.contains(&b.elements.to_string()), "{e}");

        let e = floors(&BTreeMap::new(), Path::new("n.json"), &groups(b.elements)).unwrap_err().to_string();
        assert!(e.starts_with("c.toml:") && e.contains(FIXTURE_BENCH) && e.contains("abibench native"), "{e}");
    }

    #[test]
    fn cost_above_the_floor_widens_to_both_intervals() {
        let time = Estimate { point: 10.0, low: 9.0, high: 12.0 };
        let floor = Estimate { point: 2.0, low: 1.0, high: 4.0 };
        let a = above_floor(&time, &floor);
        assert_eq!(a.excess_ns, Estimate { point: 8.0, low: 5.0, high: 11.0 });
        assert_eq!(a.ratio, Estimate { point: 5.0, low: 2.25, high: 12.0 });
        // At the floor itself, "no cost" stays inside both intervals.
        let at = above_floor(&floor, &floor);
        assert!(at.excess_ns.contains(0.0) && at.ratio.contains(1.0), "{at:?}");
    }
}
