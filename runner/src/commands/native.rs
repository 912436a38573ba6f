//! `abibench native`: time each scenario's native floor (the same work in pure Rust) with
//! criterion, and record the estimates for `compare --native`.

use std::path::PathBuf;

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::analysis::floors::{by_floor, floors};
use crate::commands::args::{check_out, default_scenarios_dir, StyleArgs};
use crate::commands::ascii;
use crate::commands::progress::Progress;
use crate::export::format::printable;
use crate::export::table;
use crate::measure::native::{criterion_home, list_benches, read_bench, run_benches, BenchEvent};
use crate::model::host::{git_state, Host};
use crate::model::io::{create_run_file, now_rfc3339};
use crate::model::native::{NativeRun, FILE_PREFIX, SCHEMA, SCHEMA_VERSION};
use crate::model::scenario;
use crate::setup::paths::workspace_root;

#[derive(Args, Debug)]
pub struct NativeArgs {
    /// Shorter criterion runs (1 s warm-up, 2 s of samples per bench instead of 3 s and 5 s).
    #[arg(long)]
    pub quick: bool,
    /// Do not run the benches: record the estimates criterion already has (from your own
    /// `cargo bench -p bench-native`).
    #[arg(long, conflicts_with = "quick")]
    pub existing: bool,
    /// Directory for the native JSON.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Directory of scenario files: which floors to record, and the `n` each must match.
    #[arg(long, value_name = "DIR", default_value_os_t = default_scenarios_dir())]
    pub scenarios_dir: PathBuf,
    #[command(flatten)]
    pub style: StyleArgs,
    /// Further arguments for criterion, after `--` (e.g. `-- --sample-size 20`).
    #[arg(last = true, value_name = "CRITERION_ARGS", conflicts_with = "existing")]
    pub criterion_args: Vec<String>,
}

/// `abibench native`: run (or with `--existing`, only read) the benches, record the estimates of
/// every floor a scenario names, and print them.
pub fn run(args: &NativeArgs) -> Result<()> {
    let groups = scenario::load_dir(&args.scenarios_dir)?;
    let wanted = by_floor(&groups);
    if wanted.is_empty() {
        bail!("no scenario in {} names a native floor (`native = \"<bench id>\"`)", args.scenarios_dir.display());
    }
    check_out(&args.out)?;
    let workspace = workspace_root();
    let home = criterion_home(&workspace)?;
    let command = if args.existing {
        None
    } else {
        // Checked before minutes of benching: a floor no bench defines is a typo or a missing bench.
        let defined = list_benches(&workspace, &home)?;
        for (id, users) in &wanted {
            if !defined.iter().any(|d| d == id) {
                let (g, s) = users[0];
                bail!(
                    "{}: scenario '{}' names native floor '{id}', which bench-ext/native/benches/native.rs does \
                     not define (it has: {})",
                    g.file.display(),
                    s.name,
                    defined.join(", ")
                );
            }
        }
        let quick: &[&str] = if args.quick { &QUICK } else { &[] };
        let criterion_args: Vec<String> =
            quick.iter().map(|a| a.to_string()).chain(args.criterion_args.iter().cloned()).collect();
        let progress = Progress::new(defined.len() as u64, "benching");
        let argv = run_benches(&workspace, &home, &criterion_args, &|e| match e {
            BenchEvent::Benchmarking(what) => progress.set_message(what.to_string()),
            BenchEvent::Warning(w) => progress.note(format!("  {w}")),
            BenchEvent::Done { id, time } => {
                progress.inc();
                progress.note(format!("  {id:<32} time: {time}"));
            }
        });
        progress.finish();
        Some(argv?)
    };
    let mut benches = BTreeMap::new();
    for (id, users) in &wanted {
        let (g, s) = users[0];
        let b = read_bench(&home, id)
            .with_context(|| format!("{}: native floor of scenario '{}'", g.file.display(), s.name))?;
        benches.insert(id.to_string(), b);
    }
    floors(&benches, &home, &groups)?;

    let created_at = now_rfc3339();
    let (git_revision, git_dirty) = git_state(&workspace);
    let mut run = NativeRun {
        schema: SCHEMA.into(),
        schema_version: SCHEMA_VERSION,
        tool: format!("abibench {}", env!("CARGO_PKG_VERSION")),
        id: String::new(),
        created_at,
        command,
        criterion_home: home,
        git_revision,
        git_dirty,
        host: Host::current(),
        benches,
    };
    let (_, path) = create_run_file(&args.out, FILE_PREFIX, |id| {
        run.id = id.into();
        Ok(serde_json::to_vec_pretty(&run)?)
    })?;
    print!("{}", printable(&table::render_native(&run, &groups, ascii(args.style.ascii))));
    eprintln!("native floors: {}", path.display());
    Ok(())
}

/// `--quick`: criterion's warm-up and measurement shortened from its 3 s and 5 s.
const QUICK: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];
