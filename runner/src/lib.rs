//! abibench: what does the stable ABI cost your kind of calls, on each CPython from 3.8 up?
//!
//! Stages, one module each, in the order data flows: `interpreters` (discover) → `builds` (one
//! extension per ABI mode, cached) → `measure` (worker children, modes interleaved) → `analysis`
//! (statistics over raw values) → `export` (tables, plots, Markdown, HTML) and `report` (the decision
//! summary and the page around it). `results` is the file format between them; `audit` checks a
//! build against the Stable ABI symbol list.

pub mod analysis;
pub mod audit;
pub mod builds;
pub mod cli;
pub mod compare;
pub mod export;
pub mod interpreters;
pub mod measure;
pub mod modes;
pub mod progress;
pub mod report;
pub mod results;
pub mod scenarios;
pub mod stats;
#[cfg(test)]
mod testdata;
