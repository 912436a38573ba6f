//! Measurement: running code in children and recording what it did — the timing driver and its
//! typed worker protocol (`worker.py`), the load matrix's checks (`load_check.py`, the link
//! check), and criterion's native floors.

pub mod driver;
pub mod matrix;
pub mod native;
pub mod protocol;
mod worker;
