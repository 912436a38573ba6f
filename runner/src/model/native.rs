//! The native floors file (`native-<run id>.json`, written by `abibench native`) and the part of a
//! results file that carries each scenario's floor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::estimate::Estimate;
use crate::model::host::Host;

/// The crate, bench target and criterion group of the floors.
pub const PACKAGE: &str = "bench-native";
pub const BENCH: &str = "native";
pub const GROUP: &str = "native";
pub const SCHEMA: &str = "abibench-native";
pub const SCHEMA_VERSION: u32 = 1;
/// Native files are `native-<run id>.json`, beside the results files.
pub const FILE_PREFIX: &str = "native-";

/// One criterion bench's estimate, as criterion recorded it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchEstimate {
    /// criterion's median time per iteration, in ns, with its 95 % bootstrap interval.
    pub per_iteration_ns: Estimate,
    /// Operations in one iteration (the bench's `Throughput::Elements`).
    pub elements: u64,
    /// When criterion wrote the estimate (its file's modification time): a stale one shows.
    pub measured_at: String,
}

impl BenchEstimate {
    /// Per operation: the per-iteration estimate over the operations of one iteration.
    pub fn per_op_ns(&self) -> Estimate {
        let n = self.elements as f64;
        let e = &self.per_iteration_ns;
        Estimate { point: e.point / n, low: e.low / n, high: e.high / n }
    }
}

/// A native run: what `abibench native` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NativeRun {
    pub schema: String,
    pub schema_version: u32,
    pub tool: String,
    pub id: String,
    pub created_at: String,
    /// The `cargo bench` command run; `None` when criterion's existing estimates were recorded.
    pub command: Option<Vec<String>>,
    pub criterion_home: PathBuf,
    pub git_revision: Option<String>,
    pub git_dirty: bool,
    pub host: Host,
    /// Bench id → its estimate.
    pub benches: BTreeMap<String, BenchEstimate>,
}

/// One scenario's floor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Floor {
    /// The criterion bench id.
    pub bench: String,
    pub per_op_ns: Estimate,
}

/// The native part of a results file: scenario → floor, and where the floors came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NativeSection {
    pub file: PathBuf,
    pub run_id: String,
    pub created_at: String,
    pub floors: BTreeMap<String, Floor>,
}
