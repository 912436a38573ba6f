//! Whether two runs timed the same thing: the same binaries (SHA-256 of every build), built by
//! the same toolchain, laid out the same way, on the same kind of processor. A difference here
//! explains a difference in the figures that no interval shows.

use std::collections::BTreeMap;

use crate::model::build::BuildOutcome;
use crate::model::mode::Mode;
use crate::model::results::Results;

/// What differs between run `a` and run `b` that bears on their figures, one sentence each;
/// empty when they timed the same binaries the same way on the same kind of machine.
pub fn differences(a: &Results, b: &Results) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = a.host.cpu_difference(&b.host) {
        out.push(format!("processors differ ({d}): absolute times and placement effects do not transfer"));
    }
    if a.host.hostname != b.host.hostname && out.is_empty() {
        out.push(format!("hosts differ ({} vs {}), with processors that look alike", a.host.hostname, b.host.hostname));
    }
    match (&a.toolchain, &b.toolchain) {
        (Some(x), Some(y)) if x.rustc != y.rustc || x.rustflags != y.rustflags => {
            out.push(format!("toolchains differ ({} [{}] vs {} [{}])", x.rustc, x.rustflags, y.rustc, y.rustflags))
        }
        _ => {}
    }
    let (la, lb) = (a.run.sampling.layouts, b.run.sampling.layouts);
    if la != lb {
        out.push(format!("layout variants per build differ ({la} vs {lb})"));
    }
    if a.subject.identity() != b.subject.identity() {
        out.push(format!("the extensions differ ({} vs {})", a.subject.identity(), b.subject.identity()));
    }
    if a.run.sampling.isolation != b.run.sampling.isolation {
        out.push(format!(
            "isolation differs ({} vs {}): pairs within one process vs across processes",
            a.run.sampling.isolation.name(),
            b.run.sampling.isolation.name()
        ));
    }
    if a.source.ext_source_hash != b.source.ext_source_hash {
        out.push(format!(
            "extension sources differ (hash {} vs {})",
            a.source.ext_source_hash, b.source.ext_source_hash
        ));
    }
    // Files written before builds were hashed: their builds carry no SHA-256.
    let unhashed = |r: &Results| {
        r.builds.iter().any(|b| matches!(&b.outcome, BuildOutcome::Ok { sha256, .. } if sha256.is_empty()))
    };
    for r in [a, b] {
        if unhashed(r) {
            out.push(format!(
                "run {} records no build hashes: whether both timed the same binaries is unknown",
                r.run.id
            ));
        }
    }
    let (same, differ) = compare_binaries(a, b);
    if !differ.is_empty() {
        out.push(format!(
            "the runs timed different binaries: {} of {} builds in both differ by SHA-256 ({})",
            differ.len(),
            same + differ.len(),
            differ.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

/// (builds whose bytes are the same in both runs, labels of those that differ), over the builds
/// both runs made and hashed.
pub fn compare_binaries(a: &Results, b: &Results) -> (usize, Vec<String>) {
    let hashes = |r: &Results| -> BTreeMap<(Mode, String, u32), (String, String)> {
        r.builds
            .iter()
            .filter_map(|rec| match &rec.outcome {
                BuildOutcome::Ok { sha256, .. } if !sha256.is_empty() => {
                    Some(((rec.mode, rec.abi_tag.clone(), rec.layout), (rec.label(), sha256.clone())))
                }
                _ => None,
            })
            .collect()
    };
    let hb = hashes(b);
    let mut same = 0;
    let mut differ = Vec::new();
    for (key, (label, sha)) in hashes(a) {
        match hb.get(&key) {
            Some((_, other)) if *other == sha => same += 1,
            Some(_) => differ.push(label),
            None => {}
        }
    }
    (same, differ)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::model::build::BuildRecord;
    use crate::model::host::Cpu;
    use crate::model::results::fixture;
    use crate::model::sampling::Measure;

    fn build(layout: u32, sha256: &str) -> BuildRecord {
        BuildRecord {
            mode: Mode::Unlimited,
            abi_tag: "cpython-312".into(),
            interpreter: Some("3.12.1".into()),
            source_hash: "h".into(),
            layout,
            layout_seed: None,
            seconds: 0.0,
            outcome: BuildOutcome::Ok { artifact: PathBuf::from("x.so"), cached: true, sha256: sha256.into(), size: 1 },
            audit: None,
            note: None,
            rebuilt: None,
        }
    }

    #[test]
    fn same_binaries_on_the_same_cpu_differ_in_nothing_else_is_named() {
        let mut a = fixture::run("a", Measure::WallTime, &[]);
        a.builds = vec![build(0, "")];
        let unhashed = differences(&a, &a.clone());
        assert!(unhashed.iter().any(|x| x.contains("records no build hashes")), "{unhashed:?}");
        a.builds = vec![build(0, "aa"), build(1, "bb")];
        let b = a.clone();
        assert_eq!(differences(&a, &b), Vec::<String>::new());
        assert_eq!(compare_binaries(&a, &b), (2, vec![]));

        let mut b = a.clone();
        b.builds[1] = build(1, "cc");
        b.host.cpu = Some(Cpu {
            vendor: "GenuineIntel".into(),
            family: "6".into(),
            model: "143".into(),
            stepping: "8".into(),
            microcode: "0x2b".into(),
            flags: vec!["avx512f".into()],
        });
        let d = differences(&a, &b);
        assert!(d.iter().any(|x| x.starts_with("processors differ") && x.contains("GenuineIntel family 6")), "{d:?}");
        assert!(d.iter().any(|x| x.contains("different binaries: 1 of 2") && x.contains("layout 1")), "{d:?}");
    }
}
