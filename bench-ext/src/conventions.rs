//! Python -> Rust calls by calling convention alone: the same empty body behind a raw
//! METH_VARARGS, METH_FASTCALL and METH_FASTCALL|METH_KEYWORDS method def, so the convention is
//! timed without PyO3's argument conversion. METH_FASTCALL joins the limited API in 3.10; below
//! that a stable-ABI build has only METH_VARARGS (an args tuple per call).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ffi::{c_int, CStr};
use std::ptr;

/// `None`, as every convention's empty body returns.
///
/// # Safety
/// The caller holds the GIL (attached thread), as CPython guarantees inside a method.
unsafe fn none() -> *mut ffi::PyObject {
    let none = ffi::Py_None();
    ffi::Py_INCREF(none);
    none
}

/// Times METH_VARARGS: CPython packs the positional arguments into a tuple for every call.
unsafe extern "C" fn conv_varargs(_slf: *mut ffi::PyObject, _args: *mut ffi::PyObject) -> *mut ffi::PyObject {
    none()
}

/// Times METH_FASTCALL: the arguments arrive as a C array, no tuple.
#[cfg(any(Py_3_10, not(Py_LIMITED_API)))]
unsafe extern "C" fn conv_fastcall(
    _slf: *mut ffi::PyObject,
    _args: *mut *mut ffi::PyObject,
    _nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    none()
}

/// Times METH_FASTCALL|METH_KEYWORDS: as METH_FASTCALL, keyword values after the positional ones
/// and their names as one tuple.
#[cfg(any(Py_3_10, not(Py_LIMITED_API)))]
unsafe extern "C" fn conv_fastcall_keywords(
    _slf: *mut ffi::PyObject,
    _args: *const *mut ffi::PyObject,
    _nargs: ffi::Py_ssize_t,
    _kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    none()
}

/// Adds a builtin function made from a raw method def to `m`.
fn add_raw(m: &Bound<'_, PyModule>, name: &'static CStr, meth: ffi::PyMethodDefPointer, flags: c_int) -> PyResult<()> {
    // CPython keeps a pointer to the def for the function's lifetime: it lives as long as the process.
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: meth,
        ml_flags: flags,
        ml_doc: ptr::null(),
    }));
    // SAFETY: `def` is valid for 'static; PyCFunction_NewEx returns a new reference or NULL with an error set.
    let f =
        unsafe { Bound::from_owned_ptr_or_err(m.py(), ffi::PyCFunction_NewEx(def, ptr::null_mut(), ptr::null_mut()))? };
    m.add(name.to_str().expect("ASCII names"), f)
}

pub(crate) fn register(m: &Bound<'_, PyModule>, not_available: &Bound<'_, PyDict>) -> PyResult<()> {
    add_raw(m, c"conv_varargs", ffi::PyMethodDefPointer { PyCFunction: conv_varargs }, ffi::METH_VARARGS)?;
    #[cfg(any(Py_3_10, not(Py_LIMITED_API)))]
    {
        let _ = not_available;
        add_raw(m, c"conv_fastcall", ffi::PyMethodDefPointer { PyCFunctionFast: conv_fastcall }, ffi::METH_FASTCALL)?;
        add_raw(
            m,
            c"conv_fastcall_keywords",
            ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: conv_fastcall_keywords },
            ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        )?;
    }
    #[cfg(not(any(Py_3_10, not(Py_LIMITED_API))))]
    for name in ["conv_fastcall", "conv_fastcall_keywords"] {
        not_available.set_item(name, "METH_FASTCALL is in the limited API only from 3.10")?;
    }
    Ok(())
}
