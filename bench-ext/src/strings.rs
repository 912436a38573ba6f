//! Reading the bytes of a small `str` / `bytes`. Every variant returns the byte sum of what it got,
//! so no path can skip the data (an unused `String` copy, for one, could be optimised away).

use crate::export;
use bench_native::kernels::byte_sum;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::slice;

/// Times PyO3's `extract::<&str>()`, a borrow of the UTF-8 cache (`PyUnicode_AsUTF8AndSize`).
#[cfg(any(Py_3_10, not(Py_LIMITED_API)))]
#[pyfunction]
fn str_pyo3_extract_str(s: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(byte_sum(s.extract::<&str>()?.bytes()))
}

/// Times `PyUnicode_AsUTF8AndSize` directly (limited API from 3.10).
#[cfg(any(Py_3_10, not(Py_LIMITED_API)))]
#[pyfunction]
fn str_as_utf8_and_size(s: &Bound<'_, PyAny>) -> PyResult<u64> {
    let mut len: ffi::Py_ssize_t = 0;
    let data = unsafe { ffi::PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len) };
    if data.is_null() {
        return Err(PyErr::fetch(s.py()));
    }
    // SAFETY: the UTF-8 buffer is owned by the str, which the caller keeps alive.
    let bytes = unsafe { slice::from_raw_parts(data.cast::<u8>(), len as usize) };
    Ok(byte_sum(bytes.iter().copied()))
}

/// Times PyO3's `extract::<String>()`: a copy of the UTF-8 cache, or below abi3-py310 (no
/// `PyUnicode_AsUTF8AndSize`) a temporary `bytes` from `PyUnicode_AsUTF8String` plus a copy.
#[pyfunction]
fn str_pyo3_extract_string(s: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(byte_sum(s.extract::<String>()?.bytes()))
}

/// Times the buffer protocol: `PyObject_GetBuffer(PyBUF_SIMPLE)` + `PyBuffer_Release` (limited API
/// from 3.11).
#[cfg(any(Py_3_11, not(Py_LIMITED_API)))]
#[pyfunction]
fn bytes_get_buffer(b: &Bound<'_, PyAny>) -> PyResult<u64> {
    let mut view = std::mem::MaybeUninit::<ffi::Py_buffer>::uninit();
    if unsafe { ffi::PyObject_GetBuffer(b.as_ptr(), view.as_mut_ptr(), ffi::PyBUF_SIMPLE) } == -1 {
        return Err(PyErr::fetch(b.py()));
    }
    // SAFETY: filled in by the successful PyObject_GetBuffer; valid until PyBuffer_Release.
    let mut view = unsafe { view.assume_init() };
    let bytes = unsafe { slice::from_raw_parts(view.buf.cast::<u8>(), view.len as usize) };
    let sum = byte_sum(bytes.iter().copied());
    unsafe { ffi::PyBuffer_Release(&mut view) };
    Ok(sum)
}

/// Times PyO3's `PyBuffer<u8>` (`PyObject_GetBuffer(PyBUF_FULL_RO)`, format and shape checks,
/// release on drop), as typical code uses it.
#[cfg(any(Py_3_11, not(Py_LIMITED_API)))]
#[pyfunction]
fn bytes_pyo3_buffer(b: &Bound<'_, PyAny>) -> PyResult<u64> {
    let buffer = pyo3::buffer::PyBuffer::<u8>::get(b)?;
    let cells = buffer
        .as_slice(b.py())
        .ok_or_else(|| pyo3::exceptions::PyBufferError::new_err("buffer is not C-contiguous"))?;
    Ok(byte_sum(cells.iter().map(|c| c.get())))
}

/// Times `PyBytes_AsString` + `PyBytes_Size` (every mode).
#[pyfunction]
fn bytes_as_string(b: &Bound<'_, PyAny>) -> PyResult<u64> {
    let data = unsafe { ffi::PyBytes_AsString(b.as_ptr()) };
    if data.is_null() {
        return Err(PyErr::fetch(b.py()));
    }
    // Cannot fail: `b` is bytes, or PyBytes_AsString would have failed.
    let len = unsafe { ffi::PyBytes_Size(b.as_ptr()) };
    // SAFETY: the bytes object owns `len` bytes at `data` and outlives this call.
    let bytes = unsafe { slice::from_raw_parts(data.cast::<u8>(), len as usize) };
    Ok(byte_sum(bytes.iter().copied()))
}

/// Times PyO3's `PyBytes::as_bytes` after a type check (`cast`).
#[pyfunction]
fn bytes_pyo3_as_bytes(b: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(byte_sum(b.cast::<PyBytes>()?.as_bytes().iter().copied()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>, not_available: &Bound<'_, PyDict>) -> PyResult<()> {
    export!(m, not_available;
        str_pyo3_extract_str if any(Py_3_10, not(Py_LIMITED_API)) else
            "extracting &str needs PyUnicode_AsUTF8AndSize, in the limited API only from 3.10",
        str_as_utf8_and_size if any(Py_3_10, not(Py_LIMITED_API)) else
            "PyUnicode_AsUTF8AndSize is in the limited API only from 3.10",
        bytes_get_buffer if any(Py_3_11, not(Py_LIMITED_API)) else
            "PyObject_GetBuffer/PyBuffer_Release are in the limited API only from 3.11",
        bytes_pyo3_buffer if any(Py_3_11, not(Py_LIMITED_API)) else
            "PyO3's PyBuffer needs PyObject_GetBuffer, in the limited API only from 3.11",
        str_pyo3_extract_string,
        bytes_as_string,
        bytes_pyo3_as_bytes,
    );
    Ok(())
}
