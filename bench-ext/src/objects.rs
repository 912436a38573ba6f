//! Object header reads, repeated `n` times on one object inside a single Rust call: the macro that
//! loads the header field directly vs the exported function.

use crate::{export, repeat_new_ref};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};
use std::hint::black_box;

/// Runs `read(obj)` `n` times and returns the last value (`None` for n = 0). `black_box` on the
/// pointer and on each value keeps the optimiser from hoisting a plain load out of the loop.
fn repeat_read<T>(
    obj: &Bound<'_, PyAny>,
    n: usize,
    read: impl Fn(*mut ffi::PyObject) -> PyResult<T>,
) -> PyResult<Option<T>> {
    let mut last = None;
    for _ in 0..n {
        last = Some(black_box(read(black_box(obj.as_ptr()))?));
    }
    Ok(last)
}

/// Times `Py_TYPE`: an `ob_type` load (an exported function call under the limited API from 3.14).
#[pyfunction]
fn type_macro<'py>(obj: &Bound<'py, PyAny>, n: usize) -> PyResult<Option<Bound<'py, PyAny>>> {
    let tp = repeat_read(obj, n, |p| Ok(unsafe { ffi::Py_TYPE(p) }))?;
    // SAFETY: a borrowed reference to `obj`'s type, which `obj` keeps alive.
    Ok(tp.map(|tp| unsafe { Bound::from_borrowed_ptr(obj.py(), tp.cast()) }))
}

/// Times `PyObject_Type`: an exported function returning a new reference (released each time).
#[pyfunction]
fn type_fn<'py>(obj: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    repeat_new_ref(obj.py(), n, || unsafe { ffi::PyObject_Type(black_box(obj.as_ptr())) })
}

#[cfg(all(Py_LIMITED_API, Py_3_15))]
extern "C" {
    /// `Py_SIZE` as the 3.15 limited API exports it (in the Stable ABI from 3.15; pyo3-ffi 0.29.3
    /// declares no binding for it there).
    fn Py_SIZE(ob: *mut ffi::PyObject) -> ffi::Py_ssize_t;
}

/// Times `Py_SIZE`: an `ob_size` load, or under the 3.15 limited API the exported function.
#[pyfunction]
fn size_macro(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<Option<isize>> {
    #[cfg(not(all(Py_LIMITED_API, Py_3_15)))]
    use ffi::Py_SIZE;
    repeat_read(obj, n, |p| Ok(unsafe { Py_SIZE(p) }))
}

/// Times `PyObject_Size`: an exported function dispatching to the type's length slot.
#[pyfunction]
fn size_fn(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<Option<isize>> {
    repeat_read(obj, n, |p| match unsafe { ffi::PyObject_Size(p) } {
        -1 => Err(PyErr::fetch(obj.py())),
        size => Ok(size),
    })
}

/// Times PyO3's `get_type()`, the path a PyO3 user's code takes to an object's type: `Py_TYPE`
/// (an exported function under the limited API from 3.14) and a strong reference to the type,
/// taken and released (`Py_INCREF`/`Py_DECREF`, calls in every abi3 mode).
#[pyfunction]
fn type_pyo3<'py>(obj: &Bound<'py, PyAny>, n: usize) -> PyResult<Option<Bound<'py, PyType>>> {
    repeat_read(obj, n, |_| Ok(black_box(obj).get_type()))
}

/// Times PyO3's `PyListMethods::len`, the path a PyO3 user's code takes to a list's length:
/// `PyList_GET_SIZE` (an `ob_size` load) in unlimited builds, the exported `PyList_Size` under the
/// limited API.
#[pyfunction]
fn size_pyo3(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<Option<usize>> {
    let list = obj.cast::<PyList>()?;
    repeat_read(obj, n, |_| Ok(black_box(list).len()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    export!(m; size_macro, type_macro, type_fn, size_fn, type_pyo3, size_pyo3);
    Ok(())
}
