//! Exporters: one module per output format.

pub mod matrix_table;
pub mod table;
