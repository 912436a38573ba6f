//! Exporters: one module per output format.

pub mod table;
