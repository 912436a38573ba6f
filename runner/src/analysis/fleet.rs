//! The runs a decision is made from: one per machine. A wheel plan made on one CPU is a plan for
//! that CPU (two machines of one commit agree on barely half their ratio intervals), so `report`
//! and `reproduce` take runs of several machines and the plan serves a Python only where it is
//! served on every one of them. Runs must be of one subject and one measure; runs of different
//! extension sources are combined scenario by scenario where the scenario is defined alike in
//! both, with a warning, since a function of the same name may not run the same code.

use std::collections::BTreeMap;

use crate::analysis::cells::Analysis;
use crate::analysis::costs::{op_costs, operations, OpCost};
use crate::model::results::Results;
use crate::model::scenario::{Operation, Scenario};

/// One run's figures and the machine it ran on.
pub struct RunFigures<'a> {
    pub results: &'a Results,
    pub analysis: &'a Analysis,
    /// How the page names the machine: its CPU, with the run id where two runs share one.
    pub machine: String,
    pub ops: Vec<Operation>,
    pub costs: Vec<OpCost>,
}

/// The runs, and what combining them needs the reader to know.
pub struct Fleet<'a> {
    pub runs: Vec<RunFigures<'a>>,
    pub warnings: Vec<String>,
}

impl<'a> Fleet<'a> {
    /// One run.
    pub fn single(r: &'a Results, a: &'a Analysis) -> Fleet<'a> {
        Fleet::new(&[(r, a)]).expect("one run is always compatible with itself")
    }

    /// Several runs, the first one's operations priced on every run; refused (with the reason)
    /// when they are not of one subject and one measure.
    pub fn new(runs: &[(&'a Results, &'a Analysis)]) -> Result<Fleet<'a>, String> {
        let (first, _) = *runs.first().ok_or("no run to decide from")?;
        let ops = operations(&first.groups);
        let mut warnings = Vec::new();
        for (r, _) in &runs[1..] {
            refuse_unlike(first, r)?;
            warnings.extend(source_warning(first, r, &ops));
        }
        let labels = machine_labels(runs.iter().map(|(r, _)| *r));
        let runs = runs
            .iter()
            .zip(labels)
            .map(|((r, a), machine)| {
                let usable: Vec<Operation> = ops.iter().filter(|o| defined_alike(first, r, o)).cloned().collect();
                RunFigures { results: r, analysis: a, machine, costs: op_costs(r, a, &usable), ops: usable }
            })
            .collect();
        Ok(Fleet { runs, warnings })
    }

    /// The run whose operations the page lists (the first given).
    pub fn primary(&self) -> &RunFigures<'a> {
        &self.runs[0]
    }

    pub fn several(&self) -> bool {
        self.runs.len() > 1
    }
}

fn refuse_unlike(a: &Results, b: &Results) -> Result<(), String> {
    let subject = |r: &Results| r.subject.krate().map_or_else(|| "abibench's own extension".to_string(), |s| s.title());
    if subject(a) != subject(b) {
        return Err(format!(
            "runs {} and {} time different extensions ({} vs {}): a plan for one says nothing of the other",
            a.run.id,
            b.run.id,
            subject(a),
            subject(b)
        ));
    }
    if a.run.sampling.measure != b.run.sampling.measure {
        return Err(format!(
            "runs {} and {} measure different things ({} vs {}): give runs of one measure",
            a.run.id,
            b.run.id,
            a.run.sampling.measure.name(),
            b.run.sampling.measure.name()
        ));
    }
    Ok(())
}

fn scenario<'r>(r: &'r Results, name: &str) -> Option<&'r Scenario> {
    r.groups.iter().flat_map(|g| &g.scenarios).find(|s| s.name == name)
}

/// Whether run `b` times each scenario of operation `o` as run `a` defines it (same function,
/// setup, statement and operations per statement).
fn defined_alike(a: &Results, b: &Results, o: &Operation) -> bool {
    let same = |x: &Scenario, y: &Scenario| {
        (&x.function, &x.setup, &x.stmt, x.n, &x.pytest) == (&y.function, &y.setup, &y.stmt, y.n, &y.pytest)
    };
    [Some(&o.path), o.minus.as_ref(), o.instead.as_ref()]
        .into_iter()
        .flatten()
        .all(|name| matches!((scenario(a, name), scenario(b, name)), (Some(x), Some(y)) if same(x, y)))
}

fn source_warning(a: &Results, b: &Results, ops: &[Operation]) -> Option<String> {
    let (ha, hb) = (&a.source.ext_source_hash, &b.source.ext_source_hash);
    let missing: Vec<&str> = ops.iter().filter(|o| !defined_alike(a, b, o)).map(|o| o.key.as_str()).collect();
    if ha == hb && missing.is_empty() {
        return None;
    }
    let mut w = format!(
        "Runs {} and {} were made from different extension sources ({ha} at {}, {hb} at {}): each operation is \
         combined where both runs define its scenarios alike, but a function of one name may run other code in \
         the two builds.",
        a.run.id,
        b.run.id,
        a.source.git_revision.as_deref().unwrap_or("an unknown revision"),
        b.source.git_revision.as_deref().unwrap_or("an unknown revision"),
    );
    if !missing.is_empty() {
        w.push_str(&format!(" Measured on the first only: {}.", missing.join(", ")));
    }
    Some(w)
}

/// `AMD EPYC` / `Intel Xeon`, or the name the run was given (`ubuntu-24.04-arm (Neoverse-N1)`),
/// made unique with the run id where two runs share one.
fn machine_labels<'r>(runs: impl Iterator<Item = &'r Results>) -> Vec<String> {
    let runs: Vec<&Results> = runs.collect();
    let cpu = |r: &Results| match &r.host.label {
        Some(label) => format!("{label} ({})", processor(r)),
        None => processor(r),
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in &runs {
        *seen.entry(cpu(r)).or_default() += 1;
    }
    runs.iter().map(|r| if seen[&cpu(r)] > 1 { format!("{} run {}", cpu(r), r.run.id) } else { cpu(r) }).collect()
}

/// The processor's name without its trademarks, and its family/model/stepping where known.
fn processor(r: &Results) -> String {
    let name = r.host.cpu_model.replace("(R)", "").replace("(TM)", "").replace(" Processor", "");
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = name.split(" CPU").next().unwrap_or(&name).trim().to_string();
    match &r.host.cpu {
        Some(c) => format!("{name} ({}/{}/{})", c.family, c.model, c.stepping),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::results;

    #[test]
    fn runs_of_one_subject_and_measure_combine_and_others_are_refused_with_the_reason() {
        let a = results();
        let mut b = results();
        b.run.id = "20260102T000000Z".into();
        b.host.cpu_model = "Intel(R) Xeon(R) Processor".into();
        let (aa, ab) = (analyse(&a), analyse(&b));
        let fleet = Fleet::new(&[(&a, &aa), (&b, &ab)]).unwrap();
        assert_eq!(fleet.runs.iter().map(|r| r.machine.as_str()).collect::<Vec<_>>(), ["CPU", "Intel Xeon"]);
        assert!(fleet.warnings.is_empty() && fleet.several());
        // The same CPU twice: told apart by run, or by the names the runs were given.
        b.host.cpu_model = "CPU".into();
        let fleet = Fleet::new(&[(&a, &aa), (&b, &ab)]).unwrap();
        assert_eq!(fleet.runs[1].machine, "CPU run 20260102T000000Z");
        let (mut a2, mut b2) = (a.clone(), b.clone());
        a2.host.label = Some("ubuntu-24.04".into());
        b2.host.label = Some("ubuntu-24.04-arm".into());
        let fleet = Fleet::new(&[(&a2, &aa), (&b2, &ab)]).unwrap();
        assert_eq!(fleet.runs[1].machine, "ubuntu-24.04-arm (CPU)");
        // Another source: combined, with a warning naming both.
        b.source.ext_source_hash = "other".into();
        let fleet = Fleet::new(&[(&a, &aa), (&b, &ab)]).unwrap();
        assert!(
            fleet.warnings[0].contains("other") && fleet.warnings[0].contains("(h at abc123"),
            "{:?}",
            fleet.warnings
        );
        // Another measure: refused.
        b.run.sampling.measure = crate::model::sampling::Measure::Instructions;
        let e = Fleet::new(&[(&a, &aa), (&b, &ab)]).err().unwrap();
        assert!(e.contains("measure different things"), "{e}");
    }

    #[test]
    fn an_operation_whose_scenario_differs_between_runs_is_priced_on_the_first_only() {
        let a = results();
        let mut b = results();
        b.groups[0].scenarios[0].stmt = "f(x, n)".into();
        let (aa, ab) = (analyse(&a), analyse(&b));
        let fleet = Fleet::new(&[(&a, &aa), (&b, &ab)]).unwrap();
        assert!(fleet.runs[0].ops.iter().any(|o| o.key == "list_get"));
        assert!(!fleet.runs[1].ops.iter().any(|o| o.key == "list_get"));
        assert!(fleet.warnings[0].contains("Measured on the first only: list_get"), "{:?}", fleet.warnings);
    }
}
