//! `abibench reproduce RUN_A RUN_B`: do two runs agree, ratio by ratio, and did they time the
//! same binaries on the same kind of processor?

use anyhow::Result;

use crate::analysis::cells::analyse;
use crate::analysis::provenance;
use crate::analysis::reproduce::Agreement;
use crate::commands::ascii;
use crate::commands::cli::ReproduceArgs;
use crate::export::agreement;
use crate::model::results::Results;

pub fn run(args: &ReproduceArgs) -> Result<()> {
    let (a, b) = (Results::read(&args.a)?, Results::read(&args.b)?);
    let agreement = Agreement::of(&analyse(&a), &analyse(&b), &a.groups);
    let differences = provenance::differences(&a, &b);
    let runs = [(&a.run.id, a.run.sampling.measure), (&b.run.id, b.run.sampling.measure)];
    print!("{}", agreement::render(runs, &agreement, &differences, args.worst, ascii(args.style.ascii)));
    Ok(())
}
