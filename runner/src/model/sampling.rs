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
    /// Worker processes per interpreter, run one after another (never in parallel); with
    /// `until`, the most a scenario gets.
    pub processes: usize,
    /// Measure in stages until each scenario's answer is settled; `None`: every cell gets all
    /// `processes` (a fixed design, as `--processes`/`--values` ask, and every run before this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
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

/// When a scenario has been measured enough (sequential sampling): after `min_processes`
/// processes, and after each one more, each of its ratios to the interpreter's first build
/// (`unlimited`; A in an A/A test) is judged, and the scenario is left out of later processes
/// once every ratio is settled (`Stop`). Processes are the stages because they are the
/// bootstrap's independent units: a look after every round would judge values that share a
/// process as if they were independent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Until {
    pub min_processes: usize,
    /// Settled when the ratio's 95 % interval is within this of its point (relative: 0.01 = ±1 %).
    pub half_width: f64,
    /// ... or when the interval is clear of every one of these cost thresholds (0.05 = +5 %) and
    /// of the band within the smallest of them around 1 (see `analysis::settle`).
    pub thresholds: Vec<f64>,
}

/// Why a scenario's cells were no longer measured (in order: a scenario is as settled as its
/// least settled ratio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// Every ratio's interval was as narrow as `Until::half_width`.
    Precise,
    /// Every ratio was precise or clear of the thresholds: more values could not change a plan.
    Clear,
    /// Neither, after `processes` processes (the cap).
    Cap,
}

impl Stop {
    pub const ALL: [Stop; 3] = [Stop::Precise, Stop::Clear, Stop::Cap];

    pub fn name(self) -> &'static str {
        match self {
            Stop::Precise => "precise",
            Stop::Clear => "clear of the thresholds",
            Stop::Cap => "at the cap",
        }
    }
}

impl Sampling {
    /// The processes every cell measured in full gets: all of them in a fixed design, the first
    /// stage in stages (a settled scenario gets no more).
    pub fn min_processes(&self) -> usize {
        self.until.as_ref().map_or(self.processes, |u| u.min_processes)
    }

    /// How much is measured per cell, in words (the banner, the page, the A/A table).
    pub fn design(&self) -> String {
        if self.measure == Measure::Instructions {
            return format!(
                "{} (L, 2L) region pair(s) of ~{} instructions per cell",
                self.values, self.target_instructions
            );
        }
        let layouts = if self.layouts > 1 { format!("{} layouts x ", self.layouts) } else { String::new() };
        let values = format!("{} interleaved values of >= {} ms", self.values, self.min_time * 1e3);
        match &self.until {
            None => format!("{layouts}{} process(es) x {values} per cell", self.processes),
            Some(u) => format!(
                "{layouts}{} to {} processes x {values} per scenario, until its ratios are within ±{}% or clear of \
                 the {} thresholds",
                u.min_processes,
                self.processes,
                u.half_width * 100.0,
                u.thresholds.iter().map(|t| format!("{}%", t * 100.0)).collect::<Vec<_>>().join("/")
            ),
        }
    }
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

/// The cost thresholds a maintainer usually plans at (`--threshold`'s usual values): a scenario
/// is measured until its ratios are precise or clear of them (and of the run's `--threshold`).
pub const THRESHOLDS: [f64; 4] = [0.05, 0.10, 0.15, 0.25];

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
        // Sequential sampling (issue 25): short values, and stages of processes until each
        // scenario's ratios are settled, not a fixed count. A 1 ms value is still thousands of
        // loops of a chatty call, and its pair (the other modes' values of the same round) follows
        // it sooner, so drift cancels better; the values a cell needs depend on its noise, so the
        // quiet ones stop after the minimum and the time goes to those that are not settled.
        // See the README's "How long a run takes" for the design comparison and the A/A check.
        let (min_time, values, warmups, layouts, (min_processes, processes, half_width)) = match self {
            Level::Quick => (0.001, 5, 1, 1, (2, 3, 0.03)),
            Level::Default => (0.001, 5, 1, 1, (6, 16, 0.01)),
            Level::Thorough => (0.002, 8, 2, 2, (8, 24, 0.005)),
        };
        let until = Until { min_processes, half_width, thresholds: THRESHOLDS.to_vec() };
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
                until: Some(until),
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
                until: None,
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
