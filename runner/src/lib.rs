//! abibench: what does the stable ABI cost your kind of calls, on each CPython from 3.8 up?
//!
//! Stages, one module each, in the order data flows: `interpreters` (discover) → `builds` (one
//! extension per ABI mode, cached) → `measure` (worker children, modes interleaved) → `analysis`
//! (statistics over raw values) → `export` (tables). `results` is the file format between them;
//! `audit` checks a build against the Stable ABI symbol list.
//!
//! For a nightly job: `shard` splits the matrix over machines and `merge` joins the shards;
//! `gate` judges a run against a `baseline`; `history` keeps the runs for trend plots.

pub mod analysis;
pub mod audit;
pub mod baseline;
pub mod builds;
pub mod cli;
pub mod compare;
pub mod export;
pub mod gate;
pub mod history;
pub mod interpreters;
pub mod measure;
pub mod merge;
pub mod modes;
pub mod progress;
pub mod results;
pub mod scenarios;
pub mod shard;
pub mod stats;
