//! A free-threaded interpreter built from Debian's source package (`python3.13` in trixie): the
//! upstream tarball it carries, configured with `--disable-gil` and installed into the cache.
//!
//! Debian's patches are not applied: they fit the install layout to /usr (dist-packages,
//! multiarch paths), which fights a private prefix. Pristine upstream without PGO/LTO is also
//! how pyenv builds the other versions here, so their build flags stay comparable. Optional
//! stdlib modules whose headers this system lacks are left out (no -dev package is installed)
//! and recorded.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{run, Ctx, Install, Target};
use crate::model::interpreter::Provenance;

pub(super) fn install(t: Target, dir: &Path, ctx: &mut Ctx) -> Result<Install> {
    let v = t.version;
    let note = ctx.note;
    let sources = ctx.downloads().join("sources");
    let scratch = ctx.scratch();
    let (package, suite, orig) = ctx.apt()?.source(&format!("python{v}"), &sources)?;
    note(format!("{t}: Debian source {} {} ({suite}): unpacking", package.name, package.version));
    std::fs::create_dir_all(&scratch)?;
    run(Command::new("tar").arg("-xf").arg(&orig).arg("-C").arg(&scratch), &format!("tar -xf {}", orig.display()))?;
    let tree = std::fs::read_dir(&scratch)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("configure").is_file())
        .with_context(|| format!("{} holds no source tree with a configure script", orig.display()))?;

    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let configure_args = vec![
        format!("--prefix={}", dir.display()),
        "--disable-gil".into(),
        "--enable-shared".into(),
        // Nothing here needs pip, and fetching it is not wanted.
        "--with-ensurepip=no".into(),
        // The shared libpython is found from the binary, without LD_LIBRARY_PATH.
        format!("LDFLAGS=-Wl,-rpath,{}/lib", dir.display()),
    ];
    note(format!("{t}: configure {}", configure_args.join(" ")));
    run(Command::new("./configure").args(&configure_args).current_dir(&tree), "configure")?;
    note(format!("{t}: make -j{jobs} (a few minutes)"));
    run(Command::new("make").arg(format!("-j{jobs}")).current_dir(&tree), "make")?;
    note(format!("{t}: make install"));
    run(Command::new("make").arg("install").current_dir(&tree), "make install")?;
    let makefile = tree.join("Makefile");
    let missing_modules = missing_modules(
        &std::fs::read_to_string(&makefile).with_context(|| format!("cannot read {}", makefile.display()))?,
    );
    if !missing_modules.is_empty() {
        note(format!("{t}: optional modules left out (no headers on this system): {}", missing_modules.join(", ")));
    }
    Ok(Install {
        executable: format!("bin/python{v}t").into(),
        provenance: Provenance::SourceBuild {
            source_package: package.name,
            source_version: package.version,
            suite: suite.into(),
            configure_args,
            missing_modules,
        },
    })
}

/// Optional stdlib modules configure found no prerequisites for: `MODULE__GDBM_STATE=missing`
/// in the generated Makefile names `_gdbm`.
fn missing_modules(makefile: &str) -> Vec<String> {
    makefile
        .lines()
        .filter_map(|l| l.strip_prefix("MODULE_")?.strip_suffix("_STATE=missing").map(|m| m.to_ascii_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn missing_modules_come_from_the_makefile_states() {
        let mk = "MODULE__CTYPES_STATE=yes\nMODULE__GDBM_STATE=missing\nMODULE_READLINE_STATE=missing\n\
                  MODULE__TKINTER_STATE=disabled\n";
        assert_eq!(super::missing_modules(mk), ["_gdbm", "readline"]);
    }
}
