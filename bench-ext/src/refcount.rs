//! Reference counting, `n` increments and decrements of one object per Rust call: inline as
//! CPython's own headers do it, through the exported `Py_IncRef`/`Py_DecRef`, and as PyO3 does it
//! (`clone` and drop), which under every abi3 floor calls a function (`Py_IncRef`, or `_Py_IncRef`
//! from 3.10), although CPython's headers keep it inline for a limited API below 3.12.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::hint::black_box;

use crate::export;

/// Times inline refcounting: CPython's `Py_INCREF`/`Py_DECREF` as its headers expand them (an
/// `ob_refcnt` update; with the immortality check from 3.12), which the limited API allows below
/// 3.12. Unlimited builds use pyo3-ffi's inline copy; stable-ABI builds the field itself.
#[cfg(any(not(Py_LIMITED_API), not(Py_3_12)))]
#[pyfunction]
fn refcount_inline(obj: &Bound<'_, PyAny>, n: usize) -> usize {
    let p = obj.as_ptr();
    for _ in 0..n {
        let p = black_box(p);
        // SAFETY: `obj` holds a reference throughout, so the count never reaches zero here. The
        // pointer escapes between the two (`black_box`), as it does to other code in a real
        // extension, so the compiler cannot fold the increment and the decrement into nothing.
        unsafe {
            #[cfg(not(Py_LIMITED_API))]
            {
                ffi::Py_INCREF(p);
                black_box(p);
                ffi::Py_DECREF(p);
            }
            #[cfg(Py_LIMITED_API)]
            {
                (*p).ob_refcnt += 1;
                black_box(p);
                (*p).ob_refcnt -= 1;
            }
        }
    }
    n
}

/// Times the exported `Py_IncRef`/`Py_DecRef`, in the Stable ABI since 3.2: a call each.
#[pyfunction]
fn refcount_fn(obj: &Bound<'_, PyAny>, n: usize) -> usize {
    let p = obj.as_ptr();
    for _ in 0..n {
        let p = black_box(p);
        // SAFETY: as above; the pair leaves the count as it was.
        unsafe {
            ffi::Py_IncRef(p);
            black_box(p);
            ffi::Py_DecRef(p);
        }
    }
    n
}

/// Times PyO3's `clone` and drop of a `Bound`: PyO3 0.29's own choice in each mode.
#[pyfunction]
fn refcount_pyo3(obj: &Bound<'_, PyAny>, n: usize) -> usize {
    for _ in 0..n {
        drop(black_box(obj.clone()));
    }
    n
}

pub(crate) fn register(m: &Bound<'_, PyModule>, not_available: &Bound<'_, PyDict>) -> PyResult<()> {
    export!(m, not_available;
        refcount_inline if any(not(Py_LIMITED_API), not(Py_3_12)) else
            "from the 3.12 limited API on, Py_INCREF and Py_DECREF are function calls (immortal objects)",
        refcount_fn,
        refcount_pyo3,
    );
    Ok(())
}
