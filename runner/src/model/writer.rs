//! Runs whose abibench was killed and left their results file "running" for good: the next run
//! in the directory tells them from live ones by their writer (`results::Writer`) and marks them
//! abandoned.

use std::path::{Path, PathBuf};

use crate::model::results::{Results, RunStatus, Writer};

/// Marks every results file directly in `dir` whose run is "running" but whose writer is gone
/// as "abandoned", so that no one waits for it or reads it as live. Returns each such file and
/// its run id. Files that cannot be read or rewritten are left as they are.
pub fn mark_abandoned(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut marked = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_none_or(|x| x != "json") || !still_running(&path) {
            continue;
        }
        let Ok(mut r) = Results::read(&path) else { continue };
        if r.run.status == RunStatus::Running && r.run.writer.as_ref().is_some_and(Writer::is_gone) {
            r.run.status = RunStatus::Abandoned;
            if r.write_atomic(&path).is_ok() {
                marked.push((path, r.run.id));
            }
        }
    }
    marked
}

/// Whether a results file says, near its start, that its run is running: the run's status comes
/// before its cells, so a directory of large finished runs is not read whole to find none.
fn still_running(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut head));
    read.is_ok() && String::from_utf8_lossy(&head).contains("\"status\": \"running\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mode::Mode;
    use crate::model::results::fixture;
    use crate::model::sampling::Measure;

    #[test]
    fn a_running_file_whose_writer_is_gone_is_marked_abandoned_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let me = Writer::current().expect("/proc says who this process is");
        // A pid that ran and has ended: its start time no longer matches.
        let ended = std::process::Command::new("true").spawn().unwrap();
        let gone_pid = ended.id();
        let _ = { ended }.wait();
        let cases = [
            ("gone", RunStatus::Running, Some(Writer { pid: gone_pid, ..me.clone() })),
            ("restarted", RunStatus::Running, Some(Writer { start_ticks: me.start_ticks + 1, ..me.clone() })),
            ("live", RunStatus::Running, Some(me.clone())),
            (
                "elsewhere",
                RunStatus::Running,
                Some(Writer { hostname: "another-host".into(), pid: gone_pid, ..me.clone() }),
            ),
            ("old", RunStatus::Running, None),
            ("done", RunStatus::Complete, Some(Writer { pid: gone_pid, ..me.clone() })),
        ];
        for (id, status, writer) in &cases {
            let mut r = fixture::run(id, Measure::WallTime, &[("3.12", Mode::Unlimited, "s", vec![1.0])]);
            (r.run.status, r.run.writer) = (*status, writer.clone());
            r.write_atomic(&dir.path().join(format!("{id}.json"))).unwrap();
        }
        let mut marked: Vec<String> = mark_abandoned(dir.path()).into_iter().map(|(_, id)| id).collect();
        marked.sort();
        assert_eq!(marked, ["gone", "restarted"]);
        for (id, status, _) in cases {
            let now = Results::read(&dir.path().join(format!("{id}.json"))).unwrap().run.status;
            let expected = if ["gone", "restarted"].contains(&id) { RunStatus::Abandoned } else { status };
            assert_eq!(now, expected, "{id}");
        }
    }
}
