//! Files abibench writes: atomic JSON, schema-checked reads, unique run ids that sort by time.

use std::fs::Permissions;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Writes JSON to a temporary file beside `path`, syncs, then renames: a reader never sees half a
/// file. Every file abibench saves goes through here.
pub fn write_json_atomic<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    write_atomic(path, &serde_json::to_vec_pretty(value)?)
}

/// Writes `bytes` to a temporary file beside `path`, syncs, then renames it into place: a reader
/// (or a full disk) never leaves half a file under `path`, and a failed write leaves the last
/// good file there untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_temp(path, bytes, Replace::Yes).with_context(|| format!("cannot write {}", path.display()))
}

#[derive(PartialEq)]
enum Replace {
    Yes,
    /// Fail with `AlreadyExists` rather than replace a file: how a new run claims its id.
    No,
}

/// Temporary files are named `.abibench-<pid>-XXXXXX.tmp`, so that one a killed writer left can
/// be told from one being written and removed (`sweep_stale_temps`).
const TEMP_PREFIX: &str = ".abibench-";

fn write_via_temp(path: &Path, bytes: &[u8], replace: Replace) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    sweep_stale_temps(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(".tmp")
        // Readable like any file the user writes (umask applies), not tempfile's private 0600.
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match replace {
        Replace::Yes => tmp.persist(path).map(drop).map_err(|e| e.error),
        Replace::No => tmp.persist_noclobber(path).map(drop).map_err(|e| e.error),
    }
}

/// Removes the temporary files of writers that no longer run (killed mid-write: SIGKILL leaves
/// no chance to clean up) and that are over an hour old: the pid only speaks for this host, and
/// a directory shared between machines (shards) may hold another host's live writer's file.
/// Best effort: a file that cannot be removed is left.
fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)?.split('-').next()?.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill(2) with signal 0 only checks whether the process exists.
        let gone =
            unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        let old = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|a| a.as_secs() > 3600));
        if gone && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Checks that files can be written in `dir` (creating it): a run finds out before it spends
/// minutes provisioning, building and measuring, not at its first save.
pub fn check_writable(dir: &Path) -> Result<()> {
    if let Some(why) = not_a_directory(dir) {
        bail!("cannot write in {}: {why}", dir.display());
    }
    let probe = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut f = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(dir)?;
        f.write_all(&[0; 4096])?;
        f.as_file().sync_all()
    };
    probe().with_context(|| format!("cannot write in {}", dir.display()))
}

/// Why `dir` cannot be (or become) a directory, if the first part of it that exists says so: a
/// file, or a symbolic link to nothing or to a file. (Creating it would fail with a bare "File
/// exists".)
fn not_a_directory(dir: &Path) -> Option<String> {
    let first = dir.ancestors().find(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok())?;
    let link = std::fs::read_link(first).ok();
    match (std::fs::metadata(first), link) {
        (Ok(m), _) if m.is_dir() => None,
        (Err(_), Some(to)) => {
            Some(format!("{} is a symbolic link to {}, which does not exist", first.display(), to.display()))
        }
        (Ok(_), Some(to)) => {
            Some(format!("{} is a symbolic link to {}, which is not a directory", first.display(), to.display()))
        }
        (Ok(_), None) => Some(format!("{} is a file, not a directory", first.display())),
        (Err(e), None) => Some(format!("{} cannot be inspected: {e}", first.display())),
    }
}

/// Writes a new run's file `<dir>/<prefix><run id>.json`, with `json(id)` as its content, under an
/// id no other file there has: never replacing a file is what makes two runs started at the same
/// moment (or two merges) keep both. Returns the id and the path.
pub fn create_run_file(
    dir: &Path,
    prefix: &str,
    mut json: impl FnMut(&str) -> Result<Vec<u8>>,
) -> Result<(String, PathBuf)> {
    for _ in 0..1000 {
        let id = new_run_id();
        let path = dir.join(format!("{prefix}{id}.json"));
        match write_via_temp(&path, &json(&id)?, Replace::No) {
            Ok(()) => return Ok((id, path)),
            // Taken this millisecond: the next one gives a new id.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    }
    bail!("cannot find a free run id in {}", dir.display())
}

/// Reads a file written by `write_json_atomic` (or that file gzipped, as `<name>.json.gz`),
/// refusing another schema or version by name before trying to parse the rest (an old file should
/// say it is old, not that a field is missing).
pub fn read_json<T: DeserializeOwned>(path: &Path, schema: &str, version: u32) -> Result<T> {
    let text = read_text(path)?;
    #[derive(Deserialize)]
    struct Header {
        schema: String,
        schema_version: u32,
    }
    let h: Header =
        serde_json::from_str(&text).with_context(|| format!("{} is not an {schema} file", path.display()))?;
    if h.schema != schema || h.schema_version != version {
        bail!(
            "{}: schema {} v{} (this abibench reads {schema} v{version})",
            path.display(),
            h.schema,
            h.schema_version
        );
    }
    serde_json::from_str(&text).with_context(|| format!("{}: malformed {schema} file", path.display()))
}

/// A file's text, gunzipped if its name ends in `.gz`.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let read = || -> std::io::Result<String> {
        let file = std::fs::File::open(path)?;
        let mut text = String::new();
        if path.extension().is_some_and(|x| x == "gz") {
            flate2::read::GzDecoder::new(file).read_to_string(&mut text)?;
        } else {
            std::io::BufReader::new(file).read_to_string(&mut text)?;
        }
        Ok(text)
    };
    read().with_context(|| format!("cannot read {}", path.display()))
}

/// A run's file name without `.json` or `.json.gz`: `matrix-20261120T234847.123Z`.
pub fn stem(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    name.strip_suffix(".json.gz").or_else(|| name.strip_suffix(".json"))
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Now, to the millisecond: `2026-11-30T09:31:02.123Z`.
pub fn now_rfc3339_millis() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// A run id that sorts by time, to the millisecond: `20261120T234847.123Z`. Unique in its
/// directory only once `create_run_file` has claimed it.
fn new_run_id() -> String {
    let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    now.chars().filter(|c| !matches!(c, '-' | ':')).collect()
}

/// The newest `<prefix><run id>.json` (or `.json.gz`) in `dir` (run ids sort by time and start
/// with a digit, so `native-…` files are not taken for results files).
pub fn latest(dir: &Path, prefix: &str) -> Result<PathBuf> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let id = stem(&p)?.strip_prefix(prefix)?.to_string();
            id.starts_with(|c: char| c.is_ascii_digit()).then_some((id, p))
        })
        .collect();
    files.sort();
    let files: Vec<PathBuf> = files.into_iter().map(|(_, p)| p).collect();
    files.last().cloned().with_context(|| format!("no {prefix}<run id>.json files in {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_directory_that_cannot_be_is_said_why() {
        let dir = tempfile::tempdir().unwrap();
        let (file, dangling, to_file) = (dir.path().join("f"), dir.path().join("dangling"), dir.path().join("to_f"));
        std::fs::write(&file, "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        std::os::unix::fs::symlink(&file, &to_file).unwrap();
        let why = |p: &Path| format!("{:#}", check_writable(p).unwrap_err());
        let missing =
            format!("dangling is a symbolic link to {}, which does not exist", dir.path().join("missing").display());
        assert!(why(&dangling).ends_with(&missing), "{}", why(&dangling));
        assert!(
            why(&dangling.join("sub")).contains("dangling is a symbolic link to"),
            "{}",
            why(&dangling.join("sub"))
        );
        assert!(why(&to_file).ends_with("which is not a directory"), "{}", why(&to_file));
        assert!(why(&file.join("sub")).ends_with("f is a file, not a directory"), "{}", why(&file.join("sub")));
        check_writable(&dir.path().join("new/deeper")).unwrap();
    }

    #[test]
    fn latest_tells_results_from_native_files() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["20261120T000000Z.json", "20261119T000000Z.json", "native-20261121T000000Z.json", "notes.json"] {
            std::fs::write(dir.path().join(f), "{}").unwrap();
        }
        let name = |p: PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name(latest(dir.path(), "").unwrap()), "20261120T000000Z.json");
        assert_eq!(name(latest(dir.path(), "native-").unwrap()), "native-20261121T000000Z.json");
        std::fs::write(dir.path().join("20261122T000000Z.json.gz"), "").unwrap();
        assert_eq!(name(latest(dir.path(), "").unwrap()), "20261122T000000Z.json.gz");
        let e = latest(dir.path(), "other-").unwrap_err().to_string();
        assert!(e.contains("other-<run id>.json") && e.contains(&dir.path().display().to_string()), "{e}");
    }

    #[test]
    fn a_gzipped_file_reads_like_the_plain_one() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("r.json");
        write_json_atomic(&serde_json::json!({"schema": "s", "schema_version": 1, "x": 5}), &plain).unwrap();
        let gz = dir.path().join("r.json.gz");
        let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::best());
        enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
        enc.finish().unwrap();
        let read = |p: &Path| read_json::<serde_json::Value>(p, "s", 1).unwrap();
        assert_eq!(read(&gz), read(&plain));
        assert_eq!((stem(&gz), stem(&plain)), (Some("r"), Some("r")));
        let e = format!("{:#}", read_json::<serde_json::Value>(&dir.path().join("none.json.gz"), "s", 1).unwrap_err());
        assert!(e.contains("cannot read") && e.contains("none.json.gz"), "{e}");
    }

    #[test]
    fn run_files_never_replace_one_another_and_stale_temps_go() {
        let dir = tempfile::tempdir().unwrap();
        let claim = || create_run_file(dir.path(), "m-", |id| Ok(id.as_bytes().to_vec())).unwrap();
        let (a, b) = (claim(), claim());
        assert_ne!(a.0, b.0);
        assert_eq!(std::fs::read_to_string(&a.1).unwrap(), a.0);
        assert!(a.0.len() == "20261120T234847.123Z".len() && a.0 < b.0, "{a:?} {b:?}");
        assert_eq!(latest(dir.path(), "m-").unwrap(), b.1);
        // No process has pid 999999999 (above pid_max): its two-hour-old temp goes. A fresh one
        // stays (a shared directory's other host may be writing it), as does a temp of this process.
        let stale = dir.path().join(format!("{TEMP_PREFIX}999999999-x.tmp"));
        let fresh = dir.path().join(format!("{TEMP_PREFIX}999999999-z.tmp"));
        let mine = dir.path().join(format!("{TEMP_PREFIX}{}-y.tmp", std::process::id()));
        for f in [&stale, &fresh, &mine] {
            std::fs::write(f, "").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        std::fs::File::options().write(true).open(&stale).unwrap().set_modified(two_hours_ago).unwrap();
        write_atomic(&dir.path().join("f.json"), b"{}").unwrap();
        assert!(!stale.exists() && fresh.exists() && mine.exists());
    }
}
