//! Rust -> Python calls: one Rust call invokes the Python callable `cb` `n` times, so the
//! per-callback cost dominates. Each variant returns the last result so a check can compare them.

use crate::{export, repeat, repeat_new_ref};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ptr;

/// Times `PyObject_Vectorcall` with one positional argument: no args tuple is built.
///
/// Gated like PyO3's own vectorcall use: limited API from 3.12; unlimited from 3.9 only, because
/// for 3.8 pyo3-ffi's inline copy passes the `tstate` argument that `_PyObject_MakeTpCall` and
/// `_Py_CheckFunctionResult` gained in 3.9 (a 3.8 build segfaults on the first call).
#[cfg(any(Py_3_12, all(Py_3_9, not(Py_LIMITED_API))))]
#[pyfunction]
fn call_out_vectorcall<'py>(cb: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    let args = [arg.as_ptr()];
    repeat_new_ref(cb.py(), n, || unsafe { ffi::PyObject_Vectorcall(cb.as_ptr(), args.as_ptr(), 1, ptr::null_mut()) })
}

/// Times `PyObject_Call` (the tp_call protocol) on an args tuple built per call with
/// `PyTuple_Pack`, as code without vectorcall has to.
#[pyfunction]
fn call_out_tp_call<'py>(cb: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat_new_ref(cb.py(), n, || unsafe {
        let args = ffi::PyTuple_Pack(1, arg.as_ptr());
        if args.is_null() {
            return ptr::null_mut();
        }
        let result = ffi::PyObject_Call(cb.as_ptr(), args, ptr::null_mut());
        ffi::Py_DECREF(args);
        result
    })
}

/// Times `PyObject_CallFunctionObjArgs(cb, arg, NULL)`: in the Stable ABI since 3.2, and inside
/// CPython it reaches vectorcall from a small stack array, with no args tuple. The cheaper path a
/// stable-ABI build below 3.12 could take where PyO3 builds a tuple for `PyObject_Call`.
#[pyfunction]
fn call_out_call_function_obj_args<'py>(
    cb: &Bound<'py, PyAny>,
    arg: &Bound<'py, PyAny>,
    n: usize,
) -> PyResult<Bound<'py, PyAny>> {
    repeat_new_ref(cb.py(), n, || unsafe {
        ffi::PyObject_CallFunctionObjArgs(cb.as_ptr(), arg.as_ptr(), ptr::null_mut::<ffi::PyObject>())
    })
}

/// Times PyO3's `call1((arg,))`: vectorcall where PyO3 can use it, else a tuple and
/// `PyObject_Call`.
#[pyfunction]
fn call_out_pyo3_call1<'py>(cb: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat(cb.py(), n, || cb.call1((arg,)))
}

/// Times PyO3's `call1((arg, arg, arg))`, a call out with three positional arguments: vectorcall
/// where PyO3 can use it (unlimited from 3.9, limited API from 3.12), else a tuple and
/// `PyObject_Call`.
#[pyfunction]
fn call_out_pyo3_call3<'py>(cb: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat(cb.py(), n, || cb.call1((arg, arg, arg)))
}

/// Times `PyObject_Vectorcall(cb, NULL, 0, NULL)`, the zero-argument vectorcall.
#[cfg(any(Py_3_12, all(Py_3_9, not(Py_LIMITED_API))))]
#[pyfunction]
fn call_out_vectorcall_no_args<'py>(cb: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat_new_ref(cb.py(), n, || unsafe { ffi::PyObject_Vectorcall(cb.as_ptr(), ptr::null(), 0, ptr::null_mut()) })
}

/// Times `PyObject_CallNoArgs` (CPython 3.9+, limited API from 3.10).
#[cfg(any(Py_3_10, all(Py_3_9, not(Py_LIMITED_API))))]
#[pyfunction]
fn call_out_call_no_args<'py>(cb: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat_new_ref(cb.py(), n, || unsafe { ffi::PyObject_CallNoArgs(cb.as_ptr()) })
}

/// Times PyO3's `call0()` (`PyObject_CallNoArgs`, or `PyObject_CallObject(cb, NULL)` before it
/// existed).
#[pyfunction]
fn call_out_pyo3_call0<'py>(cb: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat(cb.py(), n, || cb.call0())
}

/// Why this build has no `PyObject_Vectorcall` (read only in builds without it).
#[cfg(not(any(Py_3_12, all(Py_3_9, not(Py_LIMITED_API)))))]
const NO_VECTORCALL: &str = if cfg!(Py_LIMITED_API) {
    "PyObject_Vectorcall is in the limited API only from 3.12"
} else {
    "CPython 3.8 has only the provisional inline _PyObject_Vectorcall, and pyo3-ffi's Rust copy \
     of it calls 3.8's _PyObject_MakeTpCall with 3.9's signature (it crashes)"
};

/// Why this build has no `PyObject_CallNoArgs` (read only in builds without it).
#[cfg(not(any(Py_3_10, all(Py_3_9, not(Py_LIMITED_API)))))]
const NO_CALL_NO_ARGS: &str = if cfg!(Py_LIMITED_API) {
    "PyObject_CallNoArgs is in the limited API only from 3.10"
} else {
    "PyObject_CallNoArgs was added in CPython 3.9"
};

pub(crate) fn register(m: &Bound<'_, PyModule>, not_available: &Bound<'_, PyDict>) -> PyResult<()> {
    export!(m, not_available;
        call_out_vectorcall
            if any(Py_3_12, all(Py_3_9, not(Py_LIMITED_API))) else NO_VECTORCALL,
        call_out_vectorcall_no_args
            if any(Py_3_12, all(Py_3_9, not(Py_LIMITED_API))) else NO_VECTORCALL,
        call_out_call_no_args
            if any(Py_3_10, all(Py_3_9, not(Py_LIMITED_API))) else NO_CALL_NO_ARGS,
        call_out_tp_call,
        call_out_call_function_obj_args,
        call_out_pyo3_call1,
        call_out_pyo3_call3,
        call_out_pyo3_call0,
    );
    Ok(())
}
