//! pyenv's `python-build`, installing into the cache rather than `~/.pyenv` (which stays as it
//! is), with `--enable-shared` like the pyenv installs abibench is compared against. It downloads
//! CPython from python.org, so on a machine without that access this route fails at once.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::{run, Ctx, Install, Target};
use crate::model::interpreter::Provenance;

pub(super) fn install(t: Target, dir: &Path, ctx: &mut Ctx) -> Result<Install> {
    let python_build = find().context("python-build not found (neither in pyenv's plugins nor on PATH)")?;
    let defs = run(Command::new(&python_build).arg("--definitions"), "python-build --definitions")?;
    let def = newest_final(&defs, t)
        .with_context(|| format!("python-build has no final {t} release among its definitions"))?;
    (ctx.note)(format!("{t}: python-build {def}"));
    let scratch = ctx.scratch();
    std::fs::create_dir_all(&scratch)?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    run(
        Command::new(&python_build)
            .arg(&def)
            .arg(dir)
            // Its build tree and log go to the cache's scratch space, not /tmp.
            .env("TMPDIR", &scratch)
            .env("PYTHON_CONFIGURE_OPTS", "--enable-shared")
            .env("MAKE_OPTS", format!("-j{jobs}")),
        &format!("python-build {def}"),
    )?;
    Ok(Install {
        executable: format!("bin/python{}{}", t.version, if t.free_threaded { "t" } else { "" }).into(),
        provenance: Provenance::Pyenv,
    })
}

fn find() -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    let in_pyenv = root.map(|r| r.join("plugins/python-build/bin/python-build")).filter(|p| p.is_file());
    in_pyenv.or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("python-build")).find(|p| p.is_file())
    })
}

/// The newest final release of `t` among python-build's definitions (`3.14.4`, `3.13.5t`);
/// betas, release candidates and `-dev` are skipped.
fn newest_final(defs: &str, t: Target) -> Option<String> {
    let prefix = format!("{}.", t.version);
    defs.lines()
        .filter_map(|d| {
            let rest = d.trim().strip_prefix(&prefix)?;
            let patch = if t.free_threaded { rest.strip_suffix('t')? } else { rest };
            patch.parse::<u32>().ok().map(|p| (p, d.trim().to_string()))
        })
        .max()
        .map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::version::PyVersion;

    #[test]
    fn the_newest_final_definition_is_chosen() {
        let defs = "3.13.9\n3.13.10\n3.13.10t\n3.13-dev\n3.14.4\n3.14.5rc1\n3.15.0b1\n3.15.0b1t\n3.15-dev\n";
        let t = |m, ft| Target { version: PyVersion(3, m), free_threaded: ft };
        assert_eq!(newest_final(defs, t(13, false)).as_deref(), Some("3.13.10"));
        assert_eq!(newest_final(defs, t(13, true)).as_deref(), Some("3.13.10t"));
        assert_eq!(newest_final(defs, t(14, false)).as_deref(), Some("3.14.4"));
        assert_eq!(newest_final(defs, t(15, false)), None);
        assert_eq!(newest_final(defs, t(15, true)), None);
    }
}
