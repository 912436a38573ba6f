//! Python -> Rust calls: the cost of PyO3's generated entry points. Functions and methods without
//! arguments are METH_NOARGS in every mode. Functions with arguments are
//! METH_FASTCALL|METH_KEYWORDS in unlimited and abi3-py310+ builds, but METH_VARARGS|METH_KEYWORDS
//! (an args tuple and a kwargs dict per call) under abi3-py38, where the limited API has no
//! METH_FASTCALL: that is what differs.

use crate::export;
use pyo3::prelude::*;

/// The bare call: argument parsing has nothing to do.
#[pyfunction]
fn call_no_args() {}

/// Three positional ints: the cost of parsing and converting arguments (also called with keywords).
#[pyfunction]
fn call_three_ints(a: i64, b: i64, c: i64) -> i64 {
    a.wrapping_add(b).wrapping_add(c)
}

/// An instance for method-call and attribute-read scenarios.
#[pyclass]
struct Counter {
    #[pyo3(get)]
    value: i64,
}

#[pymethods]
impl Counter {
    #[new]
    fn new() -> Self {
        Counter { value: 0 }
    }

    /// A `&mut self` method: includes PyO3's borrow-flag check on the instance.
    fn incr(&mut self) {
        self.value += 1;
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    export!(m; call_no_args, call_three_ints);
    m.add_class::<Counter>()
}
