//! `merge`: the results of several `compare --shard` runs (one per machine) combined into one
//! run, readable like any other results file by `show`, `check` and `report`.
//!
//! Inputs must be of one source revision, extension source, measure and level, and shards of one
//! matrix; no cell may appear twice. Process numbers are renumbered apart per input, so the
//! analysis never pairs values taken on different machines: a stable-ABI ratio needs `unlimited`
//! from the same shard, which holds unless an interpreter's modes were split.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::model::results::{MergedRun, Results, RunInfo, RunStatus};
use crate::model::shard::{Shard, ShardRecord};

/// Refuses unless `f(first) == f(other)` for every input, naming both files and values.
fn same<T: PartialEq + std::fmt::Debug>(
    inputs: &[(PathBuf, Results)],
    what: &str,
    f: impl Fn(&Results) -> T,
) -> Result<()> {
    let (p0, r0) = &inputs[0];
    for (p, r) in &inputs[1..] {
        if f(r) != f(r0) {
            bail!("cannot merge: {what} differs: {} has {:?}, {} has {:?}", p0.display(), f(r0), p.display(), f(r));
        }
    }
    Ok(())
}

/// Combines `inputs` (path, results) into one run. Returns it with warnings (missing shards).
pub fn merge(inputs: &[(PathBuf, Results)]) -> Result<(Results, Vec<String>)> {
    let Some((_, first)) = inputs.first() else { bail!("cannot merge: no results files given") };
    same(inputs, "the source revision", |r| (r.source.git_revision.clone(), r.source.git_dirty))?;
    same(inputs, "the extension source hash", |r| r.source.ext_source_hash.clone())?;
    same(inputs, "the measure", |r| r.run.sampling.measure.name().to_string())?;
    same(inputs, "the level", |r| r.run.level)?;
    // --processes/--values/--min-time can make runs of one level sample differently.
    same(inputs, "the sampling (processes, values, min time, isolation)", |r| {
        let s = &r.run.sampling;
        (s.processes, s.values, s.warmups, s.min_time.to_bits(), s.target_instructions, s.isolation)
    })?;
    let warnings = check_shards(inputs)?;
    let mut out = combine(inputs, first)?;
    // Discovery order (version, then free-threading), as a single run would list them.
    out.interpreters.sort_by(|a, b| (a.version, a.gil_disabled, &a.name).cmp(&(b.version, b.gil_disabled, &b.name)));
    out.run = merged_run(inputs, first);
    Ok((out, warnings))
}

/// Shards of one job: the same interpreters and modes, each index once; the ones not given, as a
/// warning.
fn check_shards(inputs: &[(PathBuf, Results)]) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let shards: Vec<(&PathBuf, &ShardRecord)> =
        inputs.iter().filter_map(|(p, r)| r.run.shard.as_ref().map(|s| (p, s))).collect();
    if let Some((p0, s0)) = shards.first() {
        for (p, s) in &shards[1..] {
            if (s.shard.count, &s.interpreters, &s.modes) != (s0.shard.count, &s0.interpreters, &s0.modes) {
                bail!(
                    "cannot merge: {} is shard {} of interpreters {:?} x modes {:?}, but {} is shard {} of {:?} x {:?} \
                     (every machine of a sharded job must see the same interpreters and modes)",
                    p0.display(),
                    s0.shard,
                    s0.interpreters,
                    s0.modes.iter().map(|m| m.name()).collect::<Vec<_>>(),
                    p.display(),
                    s.shard,
                    s.interpreters,
                    s.modes.iter().map(|m| m.name()).collect::<Vec<_>>()
                );
            }
        }
        let mut seen: Vec<(usize, &PathBuf)> = Vec::new();
        for (p, s) in &shards {
            if let Some((_, q)) = seen.iter().find(|(i, _)| *i == s.shard.index) {
                bail!("cannot merge: {} and {} are both shard {}", q.display(), p.display(), s.shard);
            }
            seen.push((s.shard.index, p));
        }
        let missing: Vec<String> = (1..=s0.shard.count)
            .filter(|i| !seen.iter().any(|(j, _)| j == i))
            .map(|i| Shard { index: i, count: s0.shard.count }.to_string())
            .collect();
        if !missing.is_empty() {
            warnings.push(format!("shard(s) {} not given: their cells will be missing", missing.join(", ")));
        }
    }
    Ok(warnings)
}

/// The inputs' cells (each measured once), workers, builds, interpreters and groups (the same
/// definition wherever they appear), in a copy of the first.
fn combine(inputs: &[(PathBuf, Results)], first: &Results) -> Result<Results> {
    // Cells: each measured once; groups: the same definition wherever they appear.
    let mut out = first.clone();
    out.cells.clear();
    out.workers.clear();
    out.builds.clear();
    out.interpreters.clear();
    out.groups.clear();
    let mut owner: HashMap<String, &Path> = HashMap::new();
    // Process numbers are renumbered past those of earlier inputs, so values of different
    // machines are never taken for one process (and paired).
    let mut offset = 0;
    for (path, r) in inputs {
        for c in &r.cells {
            let key = c.key();
            if let Some(other) = owner.insert(key.clone(), path) {
                bail!("cannot merge: cell {key} is in both {} and {}", other.display(), path.display());
            }
            let mut c = c.clone();
            c.processes.iter_mut().for_each(|p| p.process += offset);
            out.cells.push(c);
        }
        out.workers.extend(r.workers.iter().cloned().map(|mut w| {
            w.process += offset;
            w
        }));
        let processes = r.cells.iter().flat_map(|c| &c.processes).map(|p| p.process + 1).max().unwrap_or(0);
        offset += processes.max(r.run.sampling.processes);
        for b in &r.builds {
            if !out.builds.iter().any(|x| x.mode == b.mode && x.abi_tag == b.abi_tag) {
                out.builds.push(b.clone());
            }
        }
        for i in &r.interpreters {
            if !out.interpreters.iter().any(|x| x.name == i.name) {
                out.interpreters.push(i.clone());
            }
        }
        for g in &r.groups {
            match out.groups.iter().find(|x| x.name == g.name) {
                Some(x) if serde_json::to_value(x)? != serde_json::to_value(g)? => bail!(
                    "cannot merge: scenario group {} differs between {} and an earlier input (same --scenarios-dir everywhere?)",
                    g.name,
                    path.display()
                ),
                Some(_) => {}
                None => out.groups.push(g.clone()),
            }
        }
    }
    Ok(out)
}

/// The merged run's record: its inputs' span and status, and where each came from.
fn merged_run(inputs: &[(PathBuf, Results)], first: &Results) -> RunInfo {
    let runs = || inputs.iter().map(|(_, r)| &r.run);
    let all_done = runs().all(|r| r.status == RunStatus::Complete);
    RunInfo {
        // A new id, given when the merged file is written (`io::create_run_file`): it sorts after
        // its inputs and replaces no file.
        id: String::new(),
        started_at: runs().map(|r| r.started_at.clone()).min().unwrap_or_default(),
        finished_at: if all_done { runs().filter_map(|r| r.finished_at.clone()).max() } else { None },
        status: if all_done { RunStatus::Complete } else { RunStatus::Interrupted },
        argv: std::env::args().collect(),
        // Shards run in parallel on their machines: the job took as long as the slowest.
        build_seconds: runs().map(|r| r.build_seconds).fold(0.0, f64::max),
        measure_seconds: runs().map(|r| r.measure_seconds).fold(0.0, f64::max),
        shard: None,
        writer: None,
        merged_from: inputs
            .iter()
            .map(|(p, r)| MergedRun {
                id: r.run.id.clone(),
                file: p.clone(),
                hostname: r.host.hostname.clone(),
                started_at: r.run.started_at.clone(),
                shard: r.run.shard.as_ref().map(|s| s.shard),
                seed: r.run.seed,
                argv: r.run.argv.clone(),
            })
            .collect(),
        ..first.run.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::model::mode::Mode;
    use crate::model::results::fixture;
    use crate::model::sampling::{Level, Measure};
    use crate::model::version::PyVersion;

    const ABI3: Mode = Mode::Abi3(PyVersion(3, 8));

    fn shard(index: usize, count: usize, cells: &[(&str, Mode, &str, Vec<f64>)]) -> (PathBuf, Results) {
        let mut r = fixture::run(&format!("shard{index}"), Measure::WallTime, cells);
        r.run.shard = Some(ShardRecord {
            shard: Shard { index, count },
            interpreters: vec!["3.8.18".into(), "3.13.0".into()],
            modes: vec![Mode::Unlimited, ABI3],
        });
        (PathBuf::from(format!("shard{index}.json")), r)
    }

    fn two_shards() -> Vec<(PathBuf, Results)> {
        vec![
            shard(1, 2, &[("3.8.18", Mode::Unlimited, "s", vec![1.0, 1.1]), ("3.8.18", ABI3, "s", vec![2.0, 2.1])]),
            shard(2, 2, &[("3.13.0", Mode::Unlimited, "s", vec![3.0, 3.1])]),
        ]
    }

    #[test]
    fn shards_combine_into_one_run() {
        let (m, warnings) = merge(&two_shards()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(m.cells.len(), 3);
        assert_eq!(m.interpreters.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["3.8.18", "3.13.0"]);
        assert_eq!(m.run.merged_from.len(), 2);
        assert!(m.run.shard.is_none() && m.run.status == RunStatus::Complete);
        // Values taken on different machines are never paired: here one interpreter's modes were
        // split over two shards, each numbering its processes from 0.
        let (split, _) = merge(&[
            shard(1, 2, &[("3.8.18", Mode::Unlimited, "s", vec![1.0, 1.1])]),
            shard(2, 2, &[("3.8.18", ABI3, "s", vec![2.0, 2.1])]),
        ])
        .unwrap();
        assert!(analyse(&split).mode_ratio("3.8.18", ABI3, "s").is_none());
        // Within a shard, pairing still works.
        let a = analyse(&m);
        assert!(a.mode_ratio("3.8.18", ABI3, "s").is_some());
        // And it is an ordinary results file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        m.write_atomic(&path).unwrap();
        assert_eq!(Results::read(&path).unwrap().cells.len(), 3);
    }

    #[test]
    fn a_mismatched_revision_is_refused() {
        let mut inputs = two_shards();
        inputs[1].1.source.git_revision = Some("def456".into());
        let err = merge(&inputs).unwrap_err().to_string();
        assert!(
            err.contains("source revision")
                && err.contains("abc123")
                && err.contains("def456")
                && err.contains("shard2.json"),
            "{err}"
        );
    }

    #[test]
    fn overlapping_cells_duplicate_or_foreign_shards_are_refused_and_missing_ones_warned() {
        let mut inputs = two_shards();
        inputs.push(shard(3, 3, &[("3.8.18", ABI3, "s", vec![2.0])]));
        let err = merge(&inputs).unwrap_err().to_string();
        assert!(err.contains("shard 1/2") && err.contains("shard 3/3"), "{err}");

        let mut inputs = two_shards();
        inputs[1].1.run.shard.as_mut().unwrap().shard.index = 1;
        assert!(merge(&inputs).unwrap_err().to_string().contains("are both shard 1/2"));

        let mut inputs = two_shards();
        let twice = inputs[0].1.cells[0].clone();
        inputs[1].1.cells.push(twice);
        let err = merge(&inputs).unwrap_err().to_string();
        assert!(err.contains("cell 3.8.18/unlimited/s is in both shard1.json and shard2.json"), "{err}");

        let (_, warnings) = merge(&two_shards()[..1]).unwrap();
        assert_eq!(warnings, ["shard(s) 2/2 not given: their cells will be missing"]);
    }

    #[test]
    fn other_measures_and_levels_are_refused() {
        let mut inputs = two_shards();
        inputs[1].1.run.sampling.measure = Measure::Instructions;
        assert!(merge(&inputs).unwrap_err().to_string().contains("the measure differs"));
        let mut inputs = two_shards();
        inputs[1].1.run.level = Level::Thorough;
        assert!(merge(&inputs).unwrap_err().to_string().contains("the level differs"));
    }
}
