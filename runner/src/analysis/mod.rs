//! Analysis: from raw values to judgements — `stats` (pure maths), per-cell figures and paired
//! ratios (`cells`), sums of cells paired value by value (`pairing`), floors above native; the
//! decision in time: what each operation adds (`costs`), what a call made of them costs
//! (`shapes`, `pricing`), each floor judged on each Python (`judge`) over the runs of several
//! machines (`fleet`), the wheel plan (`plan`), raising the floor (`steps`), findings; the
//! caveats, the gate, trends across runs, counts against time (`measures`), the A/A test, runs
//! side by side (`reproduce`, `stability`), and the report's reading of the matrix. Nothing here
//! prints or writes.

pub mod aa;
pub mod calls;
pub mod caveats;
pub mod cells;
pub mod compat;
pub mod controls;
pub mod costs;
pub mod decision;
pub mod findings;
pub mod fleet;
pub mod floors;
pub mod gate;
pub mod judge;
pub mod measures;
pub mod pairing;
pub mod plan;
pub mod pricing;
pub mod provenance;
pub mod reproduce;
pub mod settle;
pub mod shapes;
pub mod stability;
pub mod stats;
pub mod steps;
#[cfg(test)]
pub(crate) mod testdata;
pub mod trends;
