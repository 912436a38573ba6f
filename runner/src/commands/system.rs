//! `abibench system`: what on this machine skews timings, with the fix for each; and the one-line
//! warning `compare` and `calibrate` give before they measure.

use anyhow::Result;

use crate::commands::args::StyleArgs;
use crate::commands::ascii;
use crate::export::system;
use crate::model::system::{Finding, Readings};

pub fn run(style: &StyleArgs) -> Result<()> {
    print!("{}", system::render(&Readings::current().judge(), ascii(style.ascii)));
    Ok(())
}

/// Warns on stderr when a finding skews timings.
pub fn warn(findings: &[Finding]) {
    if let Some(w) = system::warning(findings) {
        eprintln!("{w}");
    }
}
