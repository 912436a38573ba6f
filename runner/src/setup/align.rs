//! Layout control's alignment, per architecture: every build's functions and the targets of its
//! taken branches start an L1 cache line, so where the linker places a function moves no call
//! loop across a line (see `builds` and the README). abibench builds for x86-64 and aarch64 only
//! (`lib.rs` refuses the rest).

use anyhow::{bail, Result};

/// log2 of the L1 cache line by architecture: 64 bytes on x86-64, and on the aarch64 cores Linux
/// runs on (its arm64 `L1_CACHE_SHIFT` is 6).
const CACHE_LINE_SHIFT: [(&str, u32); 2] = [("x86_64", 6), ("aarch64", 6)];

/// The LLVM options that align a build for `target` (a target triple, rustc's host).
pub fn flags(target: &str) -> Result<[String; 2]> {
    let arch = target.split('-').next().unwrap_or_default();
    let Some(&(_, shift)) = CACHE_LINE_SHIFT.iter().find(|(a, _)| *a == arch) else {
        bail!("layout control knows the cache line of x86_64 and aarch64 only, not that of {target}");
    };
    Ok([
        format!("-Cllvm-args=-align-all-functions={shift}"),
        format!("-Cllvm-args=-align-all-nofallthru-blocks={shift}"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_architecture_is_aligned_to_its_cache_line_and_another_is_refused() {
        let x86 = flags("x86_64-unknown-linux-gnu").unwrap();
        assert_eq!(x86, ["-Cllvm-args=-align-all-functions=6", "-Cllvm-args=-align-all-nofallthru-blocks=6"]);
        assert_eq!(flags("aarch64-unknown-linux-gnu").unwrap(), x86);
        let refused = flags("powerpc64le-unknown-linux-gnu").unwrap_err().to_string();
        assert!(refused.ends_with("not that of powerpc64le-unknown-linux-gnu"), "{refused}");
    }
}
