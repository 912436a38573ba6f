//! Container item access: sum an int list/tuple (every variant reads each item with
//! `PyLong_AsLong`, so only the access path differs), and fill a new list with `n` references to
//! one object.

use crate::export;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::ffi::{c_int, c_long};

/// `PyLong_AsLong` with its C error contract (-1 plus a set error) turned into a `PyResult`.
///
/// # Safety
/// `item` must be a valid object pointer.
#[inline(always)]
unsafe fn as_long(py: Python<'_>, item: *mut ffi::PyObject) -> PyResult<c_long> {
    let v = ffi::PyLong_AsLong(item);
    if v == -1 && !ffi::PyErr_Occurred().is_null() {
        return Err(PyErr::fetch(py));
    }
    Ok(v)
}

/// Sums the items `get(0..len)` returns as borrowed references (NULL = error set).
fn sum_borrowed(py: Python<'_>, len: usize, get: impl Fn(ffi::Py_ssize_t) -> *mut ffi::PyObject) -> PyResult<c_long> {
    let mut sum: c_long = 0;
    for i in 0..len as ffi::Py_ssize_t {
        let item = get(i);
        if item.is_null() {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: a non-NULL borrowed item, kept alive by its container.
        sum = sum.wrapping_add(unsafe { as_long(py, item)? });
    }
    Ok(sum)
}

/// Sums the items PyO3 hands out as owned `Bound`s.
fn sum_bound<'py>(items: impl IntoIterator<Item = PyResult<Bound<'py, PyAny>>>) -> PyResult<c_long> {
    let mut sum: c_long = 0;
    for item in items {
        let item = item?;
        // SAFETY: `item` owns a reference.
        sum = sum.wrapping_add(unsafe { as_long(item.py(), item.as_ptr())? });
    }
    Ok(sum)
}

/// Times `PyList_GET_ITEM`: a direct `ob_item[i]` load (a macro, so unlimited API only).
#[cfg(not(Py_LIMITED_API))]
#[pyfunction]
fn list_sum_get_item_macro(list: &Bound<'_, PyList>) -> PyResult<c_long> {
    sum_borrowed(list.py(), list.len(), |i| unsafe { ffi::PyList_GET_ITEM(list.as_ptr(), i) })
}

/// Times `PyList_GetItem`: an exported, bounds-checked function returning a borrowed reference.
#[pyfunction]
fn list_sum_get_item_fn(list: &Bound<'_, PyList>) -> PyResult<c_long> {
    sum_borrowed(list.py(), list.len(), |i| unsafe { ffi::PyList_GetItem(list.as_ptr(), i) })
}

/// Times PyO3's `PyList::get_item` (a new reference per item).
#[pyfunction]
fn list_sum_pyo3_get_item(list: &Bound<'_, PyList>) -> PyResult<c_long> {
    sum_bound((0..list.len()).map(|i| list.get_item(i)))
}

/// Times PyO3's list iterator.
#[pyfunction]
fn list_sum_pyo3_iter(list: &Bound<'_, PyList>) -> PyResult<c_long> {
    sum_bound(list.iter().map(Ok))
}

/// Times `PyTuple_GET_ITEM`: a direct `ob_item[i]` load (a macro, so unlimited API only).
#[cfg(not(Py_LIMITED_API))]
#[pyfunction]
fn tuple_sum_get_item_macro(tuple: &Bound<'_, PyTuple>) -> PyResult<c_long> {
    sum_borrowed(tuple.py(), tuple.len(), |i| unsafe { ffi::PyTuple_GET_ITEM(tuple.as_ptr(), i) })
}

/// Times `PyTuple_GetItem`: an exported, bounds-checked function returning a borrowed reference.
#[pyfunction]
fn tuple_sum_get_item_fn(tuple: &Bound<'_, PyTuple>) -> PyResult<c_long> {
    sum_borrowed(tuple.py(), tuple.len(), |i| unsafe { ffi::PyTuple_GetItem(tuple.as_ptr(), i) })
}

/// Times PyO3's `PyTuple::get_item` (a new reference per item).
#[pyfunction]
fn tuple_sum_pyo3_get_item(tuple: &Bound<'_, PyTuple>) -> PyResult<c_long> {
    sum_bound((0..tuple.len()).map(|i| tuple.get_item(i)))
}

/// Times PyO3's tuple iterator.
#[pyfunction]
fn tuple_sum_pyo3_iter(tuple: &Bound<'_, PyTuple>) -> PyResult<c_long> {
    sum_bound(tuple.iter().map(Ok))
}

/// Builds `[item] * n` from `PyList_New(n)`, storing each new reference of `item` with `set`
/// (which steals it, and fails only by returning -1 with an error set).
fn list_build_with<'py>(
    item: &Bound<'py, PyAny>,
    n: usize,
    set: impl Fn(*mut ffi::PyObject, ffi::Py_ssize_t, *mut ffi::PyObject) -> c_int,
) -> PyResult<Bound<'py, PyList>> {
    let py = item.py();
    // SAFETY: PyList_New returns a new reference or NULL with an error set; owning it at once means
    // an early return frees it (list dealloc skips the still-NULL slots).
    let list = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyList_New(n as ffi::Py_ssize_t))? };
    for i in 0..n as ffi::Py_ssize_t {
        if set(list.as_ptr(), i, item.clone().into_ptr()) == -1 {
            return Err(PyErr::fetch(py));
        }
    }
    // SAFETY: PyList_New made a list.
    Ok(unsafe { list.cast_into_unchecked() })
}

/// Times `PyList_SET_ITEM`: a direct `ob_item[i]` store (a macro, so unlimited API only).
#[cfg(not(Py_LIMITED_API))]
#[pyfunction]
fn list_build_set_item_macro<'py>(item: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyList>> {
    list_build_with(item, n, |list, i, v| {
        unsafe { ffi::PyList_SET_ITEM(list, i, v) };
        0
    })
}

/// Times `PyList_SetItem`: an exported, checked function (it also releases the slot's old value).
#[pyfunction]
fn list_build_set_item_fn<'py>(item: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyList>> {
    list_build_with(item, n, |list, i, v| unsafe { ffi::PyList_SetItem(list, i, v) })
}

/// Times PyO3's `PyList::new` from an exact-size iterator.
#[pyfunction]
fn list_build_pyo3_new<'py>(item: &Bound<'py, PyAny>, n: usize) -> PyResult<Bound<'py, PyList>> {
    PyList::new(item.py(), std::iter::repeat_n(item, n))
}

pub(crate) fn register(m: &Bound<'_, PyModule>, not_available: &Bound<'_, PyDict>) -> PyResult<()> {
    export!(m, not_available;
        list_sum_get_item_macro if not(Py_LIMITED_API) else
            "PyList_GET_ITEM is a macro outside the limited API",
        tuple_sum_get_item_macro if not(Py_LIMITED_API) else
            "PyTuple_GET_ITEM is a macro outside the limited API",
        list_build_set_item_macro if not(Py_LIMITED_API) else
            "PyList_SET_ITEM is a macro outside the limited API",
        list_sum_get_item_fn,
        list_sum_pyo3_get_item,
        list_sum_pyo3_iter,
        tuple_sum_get_item_fn,
        tuple_sum_pyo3_get_item,
        tuple_sum_pyo3_iter,
        list_build_set_item_fn,
        list_build_pyo3_new,
    );
    Ok(())
}
