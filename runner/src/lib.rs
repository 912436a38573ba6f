//! abibench: what does the stable ABI cost your kind of calls, on each CPython from 3.8 up?
//!
//! Stages, one module each, in the order data flows: `provision` (missing interpreters into the
//! cache) → `interpreters` (discover) → `builds` (one extension per ABI mode, cached) → `measure`
//! (worker children, modes interleaved) → `analysis` (statistics over raw values) → `export`
//! (tables, plots, Markdown, HTML) and `report` (the decision summary and the page around it).
//! `results` is the file format between them; `audit` checks a build against the Stable ABI symbol
//! list; `native` gives each scenario a pure-Rust floor from criterion; `build_flags` says where
//! the interpreters' own builds differ. `matrix` is the other pipeline: builds × interpreters,
//! which loads where (import, link check, audit).
//!
//! For a nightly job: `shard` splits the matrix over machines and `merge` joins the shards;
//! `gate` judges a run against a `baseline`; `history` keeps the runs for trend plots.

pub mod analysis;
pub mod audit;
pub mod baseline;
pub mod build_flags;
pub mod builds;
pub mod calibrate;
pub mod cli;
pub mod compare;
pub mod export;
pub mod gate;
pub mod history;
pub mod interpreters;
pub mod matrix;
pub mod measure;
pub mod merge;
pub mod modes;
pub mod native;
pub mod progress;
pub mod provision;
pub mod report;
pub mod results;
pub mod scenarios;
pub mod shard;
pub mod stats;
#[cfg(test)]
mod testdata;
