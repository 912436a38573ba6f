//! Building the extension under test (`bench-ext`, or a user's crate: `setup::recipe`) once per
//! (mode, interpreter ABI, layout variant, source hash) into a cache.
//!
//! Builds run on a few "lanes" in parallel (rayon), each lane with its own cargo target dir, so
//! PyO3's dependencies are compiled once per lane and each further mode only recompiles PyO3 itself.
//!
//! Layout control. Where the linker happens to place a function can move a tight call loop by
//! several percent (fetch blocks, cache sets, branch predictor aliasing: Mytkowicz et al., ASPLOS
//! 2009), which a ratio of two builds would report as a cost of the ABI. So every build aligns
//! functions and branch targets to a cache line (`align`), and a run may ask for several layout
//! variants per build, each linked by rust-lld with its functions shuffled by a fixed seed
//! (`--shuffle-sections`), so that placement becomes a random effect the intervals include
//! (Curtsinger & Berger, Stabilizer, ASPLOS 2013). Paths are remapped, so a build's bytes do not
//! depend on the checkout it was made from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::model::build::{BuildOutcome, BuildRecord, Identity, Toolchain};
use crate::model::interpreter::Interpreter;
use crate::model::mode::Mode;
use crate::setup::compile::{run_cargo, CompileError};
use crate::setup::paths::cargo;
use crate::setup::recipe::{hash_files, is_compiled_extension, Recipe};
use crate::setup::{align, audit};

/// One build to make: a mode, for `unlimited` the interpreter whose ABI it targets, and its
/// layout variant (0: the linker's own order; k > 0: functions shuffled with seed k).
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub mode: Mode,
    pub interpreter: Option<Interpreter>,
    pub layout: u32,
}

/// The layout variants of `count` layouts: the linker's own order when one is asked for (what a
/// shipped wheel has), else `count` shuffled ones with the fixed seeds 1..=count (fixed, so that
/// builds are cached and two runs time the same binaries).
pub fn layout_variants(count: u32) -> Vec<u32> {
    if count <= 1 {
        vec![0]
    } else {
        (1..=count).collect()
    }
}

impl BuildRequest {
    /// The ABI part of the cache key: the interpreter's SOABI for unlimited builds.
    pub fn abi_tag(&self) -> String {
        match &self.interpreter {
            Some(i) if self.mode == Mode::Unlimited => i.soabi.clone(),
            _ => self.mode.name(),
        }
    }

    fn artifact_name(&self, leaf: &str) -> String {
        self.mode.artifact_name(leaf, self.interpreter.as_ref().map_or("", |i| i.ext_suffix.as_str()))
    }
}

/// One build per mode and layout, and for `unlimited` one per interpreter (`build_all` merges
/// interpreters that share an ABI tag).
pub fn requests(modes: &[Mode], interpreters: &[Interpreter], layouts: u32) -> Vec<BuildRequest> {
    let mut requests = Vec::new();
    for layout in layout_variants(layouts) {
        for &mode in modes {
            match mode {
                Mode::Unlimited => requests.extend(interpreters.iter().map(|i| BuildRequest {
                    mode,
                    interpreter: Some(i.clone()),
                    layout,
                })),
                _ => requests.push(BuildRequest { mode, interpreter: None, layout }),
            }
        }
    }
    requests
}

/// The flags every crate of a build gets: the user's own (`RUSTFLAGS`), the alignment of layout
/// control for the build's architecture (`align`), and path remapping so the bytes do not depend
/// on where the checkout or cargo's registry lives.
pub fn rustflags(tc: &Toolchain, workspace: &Path) -> Result<Vec<String>> {
    let mut flags: Vec<String> = tc.rustflags.split_whitespace().map(String::from).collect();
    flags.extend(align::flags(&tc.host)?);
    flags.push(format!("--remap-path-prefix={}=/abibench", workspace.display()));
    if let Some(home) = cargo_home() {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    Ok(flags)
}

/// The link arguments of layout variant `layout`: none for 0 (the platform linker, as a wheel
/// is linked); rust-lld with a seeded shuffle of the function sections otherwise.
pub fn link_args(tc: &Toolchain, layout: u32) -> Vec<String> {
    if layout == 0 {
        return Vec::new();
    }
    let gcc_ld = tc.sysroot.join("lib/rustlib").join(&tc.host).join("bin/gcc-ld");
    [format!("-B{}", gcc_ld.display()), "-fuse-ld=lld".into(), format!("-Wl,--shuffle-sections=*={layout}")]
        .into_iter()
        .flat_map(|a| ["-C".to_string(), format!("link-arg={a}")])
        .collect()
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
}

/// Hash of everything that changes the extension binary: its sources (for bench-ext those of the
/// kernels crate it links, not that crate's benches), the lock file, the profile, the compiler,
/// RUSTFLAGS, and for a crate the features every build gets.
pub fn source_hash(recipe: &Recipe) -> Result<String> {
    let mut h = Sha256::new();
    h.update(hash_files(&recipe.sources, &recipe.source_base)?);
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())).arg("-vV").output();
    let rustc = String::from_utf8_lossy(&rustc.map(|o| o.stdout).unwrap_or_default()).into_owned();
    let host = rustc.lines().find_map(|l| l.strip_prefix("host:")).unwrap_or_default().trim();
    h.update(&rustc);
    h.update(std::env::var("RUSTFLAGS").unwrap_or_default());
    // The same bytes as the flags it builds with: x86-64 builds cached before keep their hash.
    h.update(align::flags(host).map(|a| a.concat()).unwrap_or_default());
    h.update(recipe.features.join(","));
    Ok(h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// Builds every request (deduplicated by cache key), reusing cached artifacts that pass their
/// check (`reuse`) and rebuilding those that do not; each `cargo` gets at most `limit`.
/// `on_done` is called once per finished build, for progress.
pub fn build_all(
    requests: &[BuildRequest],
    tc: &Toolchain,
    recipe: &Recipe,
    cache: &Path,
    limit: Duration,
    on_done: &(dyn Fn(&BuildRecord) + Sync),
) -> Result<Vec<BuildRecord>> {
    let hash = source_hash(recipe)?;
    let cache = cache.join(&recipe.cache_dir);
    let mut unique: BTreeMap<(Mode, String, u32), &BuildRequest> = BTreeMap::new();
    for r in requests {
        unique.entry((r.mode, r.abi_tag(), r.layout)).or_insert(r);
    }
    let mut records = Vec::new();
    let mut to_build = Vec::new();
    for r in unique.into_values() {
        let variant = if r.layout == 0 { String::new() } else { format!("-L{}", r.layout) };
        // The module's place under the build's root: `pkg/_core.abi3.so` beside its package's Python.
        let mut artifact = cache.join(r.mode.name()).join(format!("{}-{hash}{variant}", r.abi_tag()));
        let parts: Vec<&str> = recipe.module.split('.').collect();
        artifact.extend(&parts[..parts.len() - 1]);
        let artifact = artifact.join(r.artifact_name(recipe.module_leaf()));
        if let Some(why) = recipe.subject.refuses(r.mode) {
            let rec = failed(r, &hash, 0.0, why);
            on_done(&rec);
            records.push(rec);
        } else {
            match reuse(r, &hash, &artifact) {
                Ok(Some(rec)) => {
                    on_done(&rec);
                    records.push(rec);
                }
                Ok(None) => to_build.push((r, artifact, None)),
                Err(why) => to_build.push((r, artifact, Some(why))),
            }
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let lanes = to_build.len().clamp(1, cores.clamp(1, 2));
    let jobs = (cores / lanes).max(1);
    let built: Vec<BuildRecord> = (0..lanes)
        .into_par_iter()
        .flat_map_iter(|lane| {
            let target = cache.join("target").join(format!("lane-{lane}"));
            let mine: Vec<_> = to_build.iter().skip(lane).step_by(lanes).collect();
            mine.into_iter()
                .map(|(r, artifact, why)| {
                    let start = Instant::now();
                    let built = cargo_build(r, tc, recipe, (&target, jobs, limit), artifact);
                    let seconds = start.elapsed().as_secs_f64();
                    let mut rec = match built.and_then(|()| fresh(r, &hash, seconds, artifact)) {
                        Ok(rec) => rec,
                        Err(e) => {
                            let note = e.downcast_ref::<CompileError>().and_then(|c| c.note.clone());
                            BuildRecord { note, ..failed(r, &hash, seconds, format!("{e:#}")) }
                        }
                    };
                    rec.rebuilt = why.clone();
                    on_done(&rec);
                    rec
                })
                .collect::<Vec<_>>()
        })
        .collect();
    records.extend(built);
    records.sort_by(|a, b| (a.mode, &a.abi_tag, a.layout).cmp(&(b.mode, &b.abi_tag, b.layout)));
    Ok(records)
}

/// The identity a build of `r` from source `hash` has, given its bytes' digest and size.
fn identity(r: &BuildRequest, hash: &str, sha256: String, size: u64) -> Identity {
    Identity { mode: r.mode, abi_tag: r.abi_tag(), source_hash: hash.into(), layout: r.layout, sha256, size }
}

/// The SHA-256 of `bytes`, in hex.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The record of the artifact at `artifact`: its digest and size, and for a stable-ABI build its
/// audit.
fn record(r: &BuildRequest, hash: &str, seconds: f64, artifact: &Path, cached: bool) -> Result<BuildRecord> {
    let bytes = std::fs::read(artifact).with_context(|| format!("{} cannot be read", artifact.display()))?;
    let audit = r
        .mode
        .floor()
        .map(|floor| audit::audit(artifact, (floor.0, floor.1)))
        .transpose()
        .with_context(|| format!("{} cannot be audited", artifact.display()))?;
    let outcome = BuildOutcome::Ok {
        artifact: artifact.to_path_buf(),
        cached,
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
    };
    Ok(BuildRecord { audit, ..of(r, hash, seconds, outcome) })
}

/// The record of a build just made, whose identity is written beside it for the next reuse.
fn fresh(r: &BuildRequest, hash: &str, seconds: f64, artifact: &Path) -> Result<BuildRecord> {
    let rec = record(r, hash, seconds, artifact, false).context("built, but")?;
    let BuildOutcome::Ok { sha256, size, .. } = &rec.outcome else { unreachable!("`record` gives an artifact") };
    let id = identity(r, hash, sha256.clone(), *size);
    let path = Identity::path(artifact);
    crate::model::io::write_json_atomic(&id, &path)
        .with_context(|| format!("built, but its identity cannot be written to {}", path.display()))?;
    Ok(rec)
}

/// The cached build of `r` at `artifact`, if there is one that is what its identity says it is:
/// the mode, interpreter ABI, source hash and layout asked for, the SHA-256 recorded when it was
/// built, and for a stable-ABI build an audit within its floor. `Ok(None)`: nothing cached;
/// `Err`: why what is there must be rebuilt.
fn reuse(r: &BuildRequest, hash: &str, artifact: &Path) -> std::result::Result<Option<BuildRecord>, String> {
    if !artifact.exists() {
        return Ok(None);
    }
    let recorded: Identity = match std::fs::read(Identity::path(artifact)).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => return Err(format!("the cached build's identity record is unreadable ({e})")),
        Err(_) => {
            return Err(
                "the cached build has no identity record (made before abibench kept one, or not by abibench)".into()
            )
        }
    };
    let bytes = std::fs::read(artifact).map_err(|e| format!("the cached build cannot be read: {e}"))?;
    let sha256 = sha256_hex(&bytes);
    if let Some(why) = recorded.mismatch(&identity(r, hash, sha256.clone(), bytes.len() as u64)) {
        return Err(format!("the cached build is not the one asked for: {why}"));
    }
    if recorded.sha256 != sha256 {
        return Err(format!(
            "the cached file's SHA-256 {} is not the {} recorded when it was built: it was replaced or damaged",
            short(&sha256),
            short(&recorded.sha256)
        ));
    }
    let rec = record(r, hash, 0.0, artifact, true).map_err(|e| format!("the cached build is unusable: {e:#}"))?;
    if let Some(a) = rec.audit.as_ref().filter(|a| !a.passed()) {
        return Err(format!(
            "the cached build imports {} symbol(s) outside the Stable ABI of {}.{}",
            a.not_stable.len() + a.too_new.len(),
            a.floor.0,
            a.floor.1
        ));
    }
    Ok(Some(rec))
}

/// The first 12 hex digits of a digest, enough to tell two apart in a message.
fn short(sha256: &str) -> &str {
    &sha256[..sha256.len().min(12)]
}

/// Whether the file at `path` is still the build whose SHA-256 was recorded (checked before each
/// use: a file replaced after its build was verified must not be timed under its record).
pub fn check_unchanged(path: &Path, sha256: &str) -> std::result::Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
    let now = sha256_hex(&bytes);
    if now != sha256 {
        return Err(format!(
            "{} changed after it was built and verified: SHA-256 {}, recorded {}",
            path.display(),
            short(&now),
            short(sha256)
        ));
    }
    Ok(())
}

fn failed(r: &BuildRequest, hash: &str, seconds: f64, error: String) -> BuildRecord {
    of(r, hash, seconds, BuildOutcome::Failed { error })
}

fn of(r: &BuildRequest, hash: &str, seconds: f64, outcome: BuildOutcome) -> BuildRecord {
    BuildRecord {
        mode: r.mode,
        abi_tag: r.abi_tag(),
        interpreter: r.interpreter.as_ref().filter(|_| r.mode == Mode::Unlimited).map(|i| i.name.clone()),
        source_hash: hash.to_string(),
        layout: r.layout,
        layout_seed: (r.layout > 0).then_some(u64::from(r.layout)),
        seconds,
        outcome,
        audit: None,
        note: None,
        rebuilt: None,
    }
}

/// One `cargo build` of the extension (`run_cargo`: at most `limit`); on success the cdylib is copied
/// (atomically) to `artifact`, beside a copy of the module's Python package if it has one, and
/// checked to be the module its import name says.
fn cargo_build(
    r: &BuildRequest,
    tc: &Toolchain,
    recipe: &Recipe,
    (target, jobs, limit): (&Path, usize, Duration),
    artifact: &Path,
) -> Result<()> {
    let mut cmd = Command::new(cargo());
    // `cargo rustc` passes the layout's link arguments to the extension alone, so the
    // dependencies of every layout variant are compiled once.
    cmd.args(["rustc", "--release", "--lib", "--message-format=json-render-diagnostics"])
        .args(["--package", &recipe.package])
        .arg("--manifest-path")
        .arg(&recipe.manifest)
        .arg("--target-dir")
        .arg(target)
        .arg(format!("--jobs={jobs}"))
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags(tc, &recipe.source_base)?.join("\x1f"))
        .env_remove("RUSTFLAGS")
        // An extension module must not link libpython; this is what maturin sets.
        .env("PYO3_BUILD_EXTENSION_MODULE", "1")
        .env_remove("PYO3_PYTHON")
        .env_remove("PYO3_NO_PYTHON")
        .env_remove("PYO3_CONFIG_FILE")
        .env_remove("PYO3_USE_ABI3_FORWARD_COMPATIBILITY");
    let features = recipe.features_for(r.mode);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    match (&r.interpreter, r.mode) {
        (Some(i), Mode::Unlimited) => {
            cmd.env("PYO3_PYTHON", &i.argv[0]);
        }
        (None, Mode::Unlimited) => bail!("an unlimited-API build needs an interpreter"),
        // Stable-ABI builds depend on the floor only, not on any interpreter.
        _ => {
            cmd.env("PYO3_NO_PYTHON", "1");
        }
    }
    cmd.arg("--").args(link_args(tc, r.layout));
    let cdylib = run_cargo(cmd, &recipe.lib_target, limit)?;
    check_module(&cdylib, recipe)?;
    let dir = artifact.parent().expect("artifact has a directory");
    if let Some(package) = &recipe.python_package {
        let top = recipe.module.split('.').next().unwrap_or_default();
        let root = artifact.ancestors().nth(recipe.module.split('.').count()).expect("artifact under its root");
        copy_package(package, &root.join(top))?;
    } else if recipe.module.contains('.') {
        generated_packages(artifact, recipe)?;
    }
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::copy(&cdylib, tmp.path())?;
    tmp.persist(artifact)?;
    Ok(())
}

/// The module's import name must match an entry point of the library, or no import finds it.
fn check_module(cdylib: &Path, recipe: &Recipe) -> Result<()> {
    let leaf = recipe.module_leaf();
    let entries = audit::module_entry_points(cdylib)?;
    if entries.iter().any(|e| e == &format!("PyInit_{leaf}") || e == &format!("PyModExport_{leaf}")) {
        return Ok(());
    }
    let found = if entries.is_empty() { "no module entry point at all".to_string() } else { entries.join(", ") };
    bail!(
        "the module is imported as '{}', so the library must export PyInit_{leaf}, but it exports {found}: \
         module-name (pyproject.toml) and the #[pymodule] name must agree",
        recipe.module
    )
}

/// Copies the module's Python package beside the build, without compiled extensions: a stale
/// `.so` in the source tree would otherwise shadow the build under test.
fn copy_package(from: &Path, to: &Path) -> Result<()> {
    for e in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let p = e?.path();
        let name = p.file_name().expect("a directory entry has a name");
        let text = name.to_string_lossy();
        if p.is_dir() {
            if text != "__pycache__" {
                copy_package(&p, &to.join(name))?;
            }
        } else if !is_compiled_extension(&text) {
            std::fs::create_dir_all(to)?;
            std::fs::copy(&p, to.join(name)).with_context(|| format!("cannot copy {}", p.display()))?;
        }
    }
    Ok(())
}

/// For a dotted module without Python sources, the packages maturin would generate: each an
/// `__init__.py`, the innermost re-exporting the module.
fn generated_packages(artifact: &Path, recipe: &Recipe) -> Result<()> {
    let leaf = recipe.module_leaf();
    for (depth, dir) in artifact.ancestors().skip(1).take(recipe.module.split('.').count() - 1).enumerate() {
        std::fs::create_dir_all(dir)?;
        let body = if depth == 0 { format!("from .{leaf} import *\n") } else { String::new() };
        std::fs::write(dir.join("__init__.py"), body)?;
    }
    Ok(())
}
