//! The Rust toolchain that builds the extension, as the results record it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::model::build::Toolchain;
use crate::setup::paths::cargo;

/// Asks rustc and cargo (the ones a build will run) what they are.
pub fn probe() -> Result<Toolchain> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let run = |cmd: &mut Command, what: &str| -> Result<String> {
        let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
        if !out.status.success() {
            bail!("{what} {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let verbose = run(Command::new(&rustc).arg("-vV"), "rustc -vV")?;
    let field = |key: &str| verbose.lines().find_map(|l| l.strip_prefix(key)).map(str::trim).unwrap_or_default();
    Ok(Toolchain {
        rustc: verbose.lines().next().unwrap_or_default().to_string(),
        host: field("host:").to_string(),
        llvm: field("LLVM version:").to_string(),
        cargo: run(Command::new(cargo()).arg("-V"), "cargo -V")?,
        sysroot: PathBuf::from(run(Command::new(&rustc).args(["--print", "sysroot"]), "rustc --print sysroot")?),
        rustflags: std::env::var("RUSTFLAGS").unwrap_or_default(),
    })
}
