//! What a value is (`Measure`) and how many to take (`Level` → `Sampling`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Seconds of `loops` executions by `time.perf_counter` (reported in ns per operation).
    WallTime,
    /// Instructions of `loops` executions, counted by callgrind: identical from run to run.
    Instructions,
}

impl Measure {
    pub const ALL: [Measure; 2] = [Measure::WallTime, Measure::Instructions];

    /// Factor from a raw value per operation to the unit shown.
    pub fn scale(self) -> f64 {
        match self {
            Measure::WallTime => 1e9,
            Measure::Instructions => 1.0,
        }
    }

    /// As on the command line and in files: "wall-time", "instructions".
    pub fn name(self) -> &'static str {
        match self {
            Measure::WallTime => "wall-time",
            Measure::Instructions => "instructions",
        }
    }

    /// What a value is, for titles: "time", "instructions".
    pub fn quantity(self) -> &'static str {
        match self {
            Measure::WallTime => "time",
            Measure::Instructions => "instructions",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Measure::WallTime => "ns",
            Measure::Instructions => "instr",
        }
    }
}

impl FromStr for Measure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Measure::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown measure '{s}' (known: {})", Measure::ALL.map(Measure::name).join(", ")))
    }
}

fn one() -> u32 {
    1
}

/// How much to measure per cell. Chosen by level and measure; see `Level::sampling`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sampling {
    pub measure: Measure,
    /// Size loops so one value lasts at least this long (seconds).
    pub min_time: f64,
    /// Values per cell per worker process: one per interleaved round (wall time), or one per
    /// (L, 2L) pair of counted regions (instructions).
    pub values: usize,
    /// Instructions: aim for regions of about this many instructions per L loops.
    pub target_instructions: u64,
    pub warmups: usize,
    /// Worker processes per interpreter, run one after another (never in parallel).
    pub processes: usize,
    /// Layout variants of every build, timed interleaved in each worker; 1: the linker's own
    /// layout (see `setup::builds`). Values per cell are `layouts × processes × values`.
    #[serde(default = "one")]
    pub layouts: u32,
    /// A worker that makes no progress (sends no event) for this long is killed and its current
    /// cell recorded as hung; a step that loop sizing has timed is a hang sooner (`measure::worker`).
    pub timeout_s: f64,
    /// The CPUs each worker is pinned to (`--affinity`, else the isolated CPUs); empty: not pinned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affinity: Vec<usize>,
    /// Two scenarios of a group pair value by value, like two modes: wall time takes them
    /// interleaved round by round; instruction counts are deterministic, so any pairing is exact.
    /// Runs older than this field timed one scenario after another: their in-build comparisons
    /// are unpaired.
    #[serde(default)]
    pub paired_scenarios: bool,
    /// Whether the builds of one interpreter shared a worker process, or each had its own,
    /// driven round by round (`--isolation`).
    #[serde(default)]
    pub isolation: Isolation,
}

/// How the builds of one interpreter are kept apart while they are timed interleaved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// All builds in one worker process (a user's module swapped in under its import name before
    /// each step).
    #[default]
    InProcess,
    /// One process per build, driven round by round by a coordinating worker: each build imports
    /// as a user's code would, alone under its name, at the price of pairs across processes.
    Process,
}

impl Isolation {
    pub const ALL: [Isolation; 2] = [Isolation::InProcess, Isolation::Process];

    pub fn name(self) -> &'static str {
        match self {
            Isolation::InProcess => "in-process",
            Isolation::Process => "process",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Smoke test: a few short values per cell; ratios are indicative only.
    Quick,
    /// The everyday comparison.
    Default,
    /// Nightly: more processes and longer values for tight intervals.
    Thorough,
}

impl Level {
    pub fn sampling(self, measure: Measure) -> Sampling {
        // Ratios are taken pair by pair, so what narrows their intervals is the number of pairs,
        // not the length of a value: a 2.5 ms value is still thousands of loops, and on a noisy
        // 2-core machine 40 values of 2.5 ms put 90 % of the stable-ABI ratios within +-2 % where
        // 10 values of 10 ms (the same time) put 68 % there. Processes are the independent units
        // (each has its own memory layout), so the time is spread over 4 of them: with 2, an A/A
        // test found 13-17 % false differences at a nominal 5 %; with 4, 5 %. Every build's code
        // is aligned, which alone brought identical-code floors into agreement in most cells; the
        // nightly depth also times two shuffled layouts of each build (the same total of values),
        // so its intervals include what placement still moves (see the README's layout control).
        let (min_time, values, warmups, processes, layouts) = match self {
            Level::Quick => (0.002, 5, 1, 1, 1),
            Level::Default => (0.0025, 20, 1, 4, 1),
            Level::Thorough => (0.005, 25, 2, 8, 2),
        };
        // Counts are deterministic, so extra pairs and longer regions buy little: on 3.12's 190
        // stable-ABI ratios, regions of 1M instructions moved no ratio by more than 0.05 % from 4M,
        // and a cell's pairs differ by 0.01 % (median); each pair costs two profile dumps.
        let (pairs, target_instructions) = match self {
            Level::Quick => (1, 1_000_000),
            Level::Default => (2, 1_000_000),
            Level::Thorough => (5, 10_000_000),
        };
        match measure {
            Measure::WallTime => Sampling {
                measure,
                min_time,
                values,
                warmups,
                processes,
                layouts,
                target_instructions: 0,
                timeout_s: 120.0,
                affinity: Vec::new(),
                paired_scenarios: true,
                isolation: Isolation::InProcess,
            },
            // Counts do not drift, so one process suffices; callgrind runs ~50x slower.
            Measure::Instructions => Sampling {
                measure,
                min_time: 0.0,
                values: pairs,
                warmups: 0,
                processes: 1,
                layouts: 1,
                target_instructions,
                timeout_s: 900.0,
                affinity: Vec::new(),
                paired_scenarios: true,
                isolation: Isolation::InProcess,
            },
        }
    }
}

impl FromStr for Isolation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Isolation::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| format!("unknown isolation '{s}'"))
    }
}
