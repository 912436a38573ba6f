//! Export: leaves that take analysed data and write it — terminal tables (`table`,
//! `matrix_table`, `verdict`, `system`), the report (`sections` build one `doc::Document` per run
//! from `page::Report`; `html`, `markdown` and, for the answer, `text` render it), plots
//! (`plots/`, one file per figure; `trend` across runs) and the formats other tools read
//! (`formats/`: pyperf, Bencher, github-action-benchmark, CSV). Nothing below imports them back.

pub mod agreement;
pub mod answer;
pub mod calls;
pub mod doc;
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
pub mod sections;
pub mod summary;
pub mod system;
pub mod table;
#[cfg(test)]
pub(crate) mod testwide;
pub mod text;
pub mod trend;
pub mod verdict;
