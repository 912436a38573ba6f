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
