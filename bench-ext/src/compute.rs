//! Thin pyfunction wrappers over `bench_native::kernels`: the same Rust work called from every
//! mode, so differences between modes here are call/argument overhead (small sizes) or nothing at
//! all (large sizes). The interpreter is not detached during the kernel, so a small call times only
//! the kernel and the call.

use crate::export;
use bench_native::kernels;
use pyo3::prelude::*;

/// Total escape-iteration count of a `size` x `size` Mandelbrot grid.
#[pyfunction]
fn mandelbrot(size: u32, max_iter: u32) -> u64 {
    kernels::mandelbrot(size, max_iter)
}

/// Five-body energy after `steps` steps.
#[pyfunction]
fn nbody_energy(steps: u32) -> f64 {
    kernels::nbody_energy(steps)
}

/// FNV-1a hash of a `bytes` object, read in place (`&[u8]` borrows the bytes' storage).
#[pyfunction]
fn fnv1a64(data: &[u8]) -> u64 {
    kernels::fnv1a64(data)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    export!(m; mandelbrot, nbody_energy, fnv1a64);
    Ok(())
}
