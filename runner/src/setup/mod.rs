//! Setup: what a run needs before anything is timed — interpreters (found, or provisioned into
//! the cache), the selection of interpreters × modes × scenarios, the builds (one per mode and
//! interpreter ABI, cached), their stable-ABI audit, and how the interpreters were built.

pub mod align;
pub mod audit;
pub mod build_flags;
pub mod builds;
pub mod compile;
pub mod interpreters;
pub mod introspect;
pub mod krate;
pub mod paths;
pub mod provision;
pub mod pyo3_range;
pub mod pytest_env;
pub mod recipe;
pub mod selection;
pub mod toolchain;
pub mod unforce;
