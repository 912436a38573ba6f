//! Exporters: one module per output format.

pub mod table;
pub mod trend;
pub mod verdict;
