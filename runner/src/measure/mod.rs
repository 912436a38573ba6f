//! Measurement: running code in children and recording what it did — the run (`session`: which
//! interpreter when, saving after each), the timing driver (`driver`, whose worker loop
//! `measurement` decides) and its typed worker protocol (`worker.py`), the load matrix's checks
//! (`load_check.py`, the link check), and criterion's native floors.

pub mod driver;
pub mod matrix;
pub mod measurement;
pub mod native;
pub mod plan;
pub mod protocol;
pub mod pytest;
pub mod session;
mod worker;
