//! The data model, at the bottom of the pipeline: the files abibench reads and writes (results,
//! matrix, native floors, history, baselines, scenarios) and their parts, the sampling and
//! measure types, and the plumbing every stage shares — atomic JSON, run ids, the host, and the
//! one child-process runner. It imports nothing else of the crate.

pub mod baseline;
pub mod build;
pub mod callgrind;
pub mod child;
pub mod estimate;
pub mod history;
pub mod host;
pub mod interpreter;
pub mod io;
pub mod matrix;
pub mod merge;
pub mod mode;
pub mod native;
pub mod pytest;
pub mod results;
pub mod sampling;
pub mod scenario;
pub mod shard;
pub mod subject;
pub mod supported;
pub mod system;
pub mod version;
pub mod writer;
