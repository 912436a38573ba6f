//! abibench: what does the stable ABI cost your kind of calls, on each CPython from 3.8 up?
//!
//! The crate is a pipeline in layers, each importing only those before it (`tests/architecture.rs`
//! keeps it so):
//!
//! 1. `model`: file formats, sampling types, atomic I/O, the child-process runner;
//! 2. `setup`: interpreters, provisioning, the selection, builds, audit, build flags;
//! 3. `measure`: the timing driver and worker protocol, the matrix's checks, native floors;
//! 4. `analysis`: statistics, ratios, the decision, caveats, the gate, trends;
//! 5. `export`: tables, HTML, Markdown, plots — leaves that take data and write it;
//! 6. `commands`: one module per subcommand, the only place that prints and knows clap.

pub mod analysis;
pub mod commands;
pub mod export;
pub mod measure;
pub mod model;
pub mod setup;
