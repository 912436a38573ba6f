//! Analysis: from raw values to judgements — `stats` (pure maths), per-cell figures and paired
//! ratios (`cells`), floors above native, the decision, the caveats, the gate, trends across
//! runs, counts against time (`measures`), the A/A test, and the report's reading of the matrix.
//! Nothing here prints or writes.

pub mod aa;
pub mod attribution;
pub mod caveats;
pub mod cells;
pub mod compat;
pub mod controls;
pub mod costs;
pub mod decide;
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
pub mod shapes;
pub mod stability;
pub mod stats;
pub mod steps;
#[cfg(test)]
pub(crate) mod testdata;
pub mod trends;
pub mod wheels;
