//! Export: leaves that take analysed data and write it — terminal tables (`table`,
//! `matrix_table`, `verdict`, `system`), the report's pages (`html`, `markdown`, behind
//! `page::Exporter`; `measures`: counts against time), plots (`plots/`, one file per figure; `trend` across runs) and the formats
//! other tools read (`formats/`: pyperf, Bencher, github-action-benchmark, CSV). Nothing below
//! imports them back.

pub mod agreement;
pub mod answer;
pub mod format;
pub mod formats;
pub mod grid;
pub mod html;
pub mod idle;
pub mod markdown;
pub mod matrix_table;
pub mod measures;
pub mod page;
pub mod plots;
pub mod report;
pub mod summary;
pub mod system;
pub mod table;
#[cfg(test)]
pub(crate) mod testwide;
pub mod trend;
pub mod verdict;
