//! Debian sid binary packages for a GIL interpreter (3.14, 3.15): fetched with apt under the
//! private configuration, unpacked with `dpkg-deb -x` into `<dir>/root`, and started by a launcher
//! script. The binary needs sid's libc, newer than the system's, and only sid's own loader can
//! bring that in: the launcher runs `<root>/…/ld-linux-x86-64.so.2 --library-path <root libs>` (on arm64, ld-linux-aarch64.so.1).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::apt::{self, BINARY_SUITE};
use super::{run, sh_quote, Ctx, Install, Target};
use crate::model::interpreter::Provenance;

pub(super) fn install(t: Target, dir: &Path, ctx: &mut Ctx) -> Result<Install> {
    let v = t.version;
    let note = ctx.note;
    let debs_dir = ctx.downloads().join("debs");
    let apt = ctx.apt()?;
    // The interpreter, its stdlib, and libpython (which extensions built for it may expect).
    let roots: Vec<String> = ["python{v}-minimal", "libpython{v}-minimal", "libpython{v}-stdlib", "libpython{v}"]
        .iter()
        .map(|p| p.replace("{v}", &v.to_string()))
        .collect();
    let packages = apt.closure(&roots)?;
    let listed: Vec<String> = packages.iter().map(|(p, _)| format!("{} {}", p.name, p.version)).collect();
    note(format!("{t}: Debian {BINARY_SUITE}: {} packages: {}", packages.len(), listed.join(", ")));
    let debs = apt.download(&packages, &debs_dir)?;

    let root = dir.join("root");
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    for deb in &debs {
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root), &format!("dpkg-deb -x {}", deb.display()))?;
    }
    let RootLoader { loader, library_path } = root_loader(&root)?;
    let python = root.join(format!("usr/bin/python{v}"));
    if !python.is_file() {
        bail!("python{v}-minimal did not provide {}", python.display());
    }
    let launcher_name = format!("abibench-python{v}");
    let launcher = dir.join(&launcher_name);
    std::fs::write(
        &launcher,
        format!(
            "#!/bin/sh\n\
             # Python {v} from Debian {BINARY_SUITE} packages, unpacked by `abibench provision`.\n\
             # Its binary needs {BINARY_SUITE}'s libc: start it through that root's own loader, root libraries first.\n\
             PYTHONHOME={}\n\
             export PYTHONHOME\n\
             exec {} --library-path {} {} \"$@\"\n",
            sh_quote(&root.join("usr")),
            sh_quote(&loader),
            sh_quote(Path::new(&library_path)),
            sh_quote(&python),
        ),
    )
    .with_context(|| format!("cannot write {}", launcher.display()))?;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))?;
    Ok(Install {
        executable: launcher_name.into(),
        provenance: Provenance::DebianPackages {
            suite: BINARY_SUITE.into(),
            packages: packages.into_iter().map(|(p, _)| p).collect(),
        },
    })
}

/// How a program runs against an unpacked root's libc: its own loader, its libraries first.
pub struct RootLoader {
    pub loader: PathBuf,
    /// For `--library-path`: the root's multiarch library directories, `:`-separated.
    pub library_path: String,
}

impl RootLoader {
    /// `program` started through this loader.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(&self.loader);
        cmd.arg("--library-path").arg(&self.library_path).arg(program);
        cmd
    }
}

pub fn root_loader(root: &Path) -> Result<RootLoader> {
    let arch = apt::arch().context("the Debian route knows no loader for this architecture")?;
    // Merged-/usr packages put libraries in usr/lib; older ones may still use lib.
    let lib_dirs: Vec<PathBuf> =
        ["usr/lib", "lib"].iter().map(|d| root.join(d).join(arch.multiarch)).filter(|d| d.is_dir()).collect();
    let loader =
        lib_dirs.iter().map(|d| d.join(arch.loader)).find(|p| p.exists()).with_context(|| {
            format!("no {} under {} (libc6 was not among the packages)", arch.loader, root.display())
        })?;
    let library_path: Vec<String> = lib_dirs.iter().map(|d| d.display().to_string()).collect();
    Ok(RootLoader { loader, library_path: library_path.join(":") })
}
