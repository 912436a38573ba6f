//! The one function here that times nothing itself: a fixed point for the runner's instruction
//! mode. Callgrind toggles collection on entry to and exit from `abibench_callgrind_region` and
//! dumps a profile part after each call, so the instructions counted are exactly those of the
//! callable it runs (the runner's timed loop). Every build carries it, so any mode can be counted.

use pyo3::ffi;
use pyo3::prelude::*;

/// Calls `f()` through `PyObject_CallObject` (no arguments). Unmangled and never inlined, so
/// callgrind can find it by name in every build.
#[no_mangle]
#[inline(never)]
pub extern "C" fn abibench_callgrind_region(f: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `f` is a live object borrowed from the caller, which holds the GIL (attached thread).
    unsafe { ffi::PyObject_CallObject(f, std::ptr::null_mut()) }
}

/// `callgrind_region(f)`: runs `f()` inside the region callgrind counts; returns its result.
#[pyfunction]
fn callgrind_region<'py>(f: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the region returns a new reference or NULL with an error set.
    unsafe { Bound::from_owned_ptr_or_err(f.py(), abibench_callgrind_region(f.as_ptr())) }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(callgrind_region, m)?)
}
