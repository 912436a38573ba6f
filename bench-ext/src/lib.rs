//! `bench_ext`: one extension, compiled once per ABI mode (see Cargo.toml), whose functions each
//! time one C API path. A path that a mode cannot compile is left out and named in `NOT_AVAILABLE`
//! with the reason; nothing is ever substituted for it. Scenario files (`scenarios/*.toml`) name
//! these functions.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;

mod calls_in;
mod calls_out;
mod compute;
mod containers;
mod conventions;
mod harness;
mod objects;
mod refcount;
mod strings;

/// Exports each listed `#[pyfunction]` whose availability cfg holds in this build, and records the
/// reason (a literal or a `&str` const) in `not_available` for each one that does not. The
/// predicate must match the `#[cfg]` on the function's definition: a mismatch shows up as a missing
/// item or a dead-code warning in some mode.
macro_rules! export {
    (@one $m:expr, $na:expr, $name:ident) => {
        $m.add_function(pyo3::wrap_pyfunction!($name, $m)?)?;
    };
    (@one $m:expr, $na:expr, $name:ident, $pred:meta, $why:expr) => {
        #[cfg($pred)]
        $m.add_function(pyo3::wrap_pyfunction!($name, $m)?)?;
        #[cfg(not($pred))]
        $na.set_item(stringify!($name), $why)?;
    };
    ($m:expr; $($name:ident),+ $(,)?) => {
        $( $m.add_function(pyo3::wrap_pyfunction!($name, $m)?)?; )+
    };
    ($m:expr, $not_available:expr; $($name:ident $(if $pred:meta else $why:expr)?),+ $(,)?) => {
        // Only entries whose cfg fails read the dict: a mode that has them all would warn
        // otherwise.
        let _ = &$not_available;
        $( export!(@one $m, $not_available, $name $(, $pred, $why)?); )+
    };
}
pub(crate) use export;

/// The ABI mode this file was compiled in, so a runner can check it loaded the build it meant to.
const MODE: &str = if cfg!(feature = "abi3t-py315") {
    "abi3t-py315"
} else if cfg!(feature = "abi3-py314") {
    "abi3-py314"
} else if cfg!(feature = "abi3-py313") {
    "abi3-py313"
} else if cfg!(feature = "abi3-py312") {
    "abi3-py312"
} else if cfg!(feature = "abi3-py311") {
    "abi3-py311"
} else if cfg!(feature = "abi3-py310") {
    "abi3-py310"
} else if cfg!(feature = "abi3-py39") {
    "abi3-py39"
} else if cfg!(feature = "abi3-py38") {
    "abi3-py38"
} else {
    "unlimited"
};

/// Runs `call` `n` times, releasing each result at once and returning the last one (`None` for
/// n = 0): the shape of every "call it n times" scenario. Stops at the first error.
pub(crate) fn repeat<'py>(
    py: Python<'py>,
    n: usize,
    mut call: impl FnMut() -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut last = py.None().into_bound(py);
    for _ in 0..n {
        last = call()?;
    }
    Ok(last)
}

/// `repeat` for a raw C API call that returns a new reference, or NULL with an error set.
pub(crate) fn repeat_new_ref(
    py: Python<'_>,
    n: usize,
    mut call: impl FnMut() -> *mut ffi::PyObject,
) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: `call` returns a new reference (owned from here on) or NULL with an error set.
    repeat(py, n, || unsafe { Bound::from_owned_ptr_or_err(py, call()) })
}

#[pymodule]
fn bench_ext(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let not_available = PyDict::new(m.py());
    calls_in::register(m)?;
    calls_out::register(m, &not_available)?;
    conventions::register(m, &not_available)?;
    refcount::register(m, &not_available)?;
    containers::register(m, &not_available)?;
    objects::register(m)?;
    strings::register(m, &not_available)?;
    compute::register(m)?;
    harness::register(m)?;
    m.add("MODE", MODE)?;
    m.add("NOT_AVAILABLE", not_available)?;
    Ok(())
}
