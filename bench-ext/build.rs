// Exposes PyO3's `Py_LIMITED_API` / `Py_3_X` cfgs to this crate, so each
// scenario is compiled only where its C API exists for the chosen mode.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
