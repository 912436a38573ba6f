//! Raising the floor: for each operation on each interpreter, what moving from one stable-ABI
//! floor to the next that ran there gains or loses, in time per operation. Both builds run in
//! one worker, interleaved, so the step is taken value by value (the operation's path in the
//! higher floor less the same path in the lower), and a step is claimed only beyond the noise
//! floor: two floors whose intervals touch are the same cost.

use rayon::prelude::*;

use crate::analysis::costs::{added_terms, Claim, OpCost};
use crate::analysis::pairing::{self, Term};
use crate::analysis::stats::{self, seed_of};
use crate::model::estimate::Estimate;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::scenario::Operation;

/// One measurable step between two floors, for one operation on one interpreter.
#[derive(Debug, Clone)]
pub struct Step {
    pub op: String,
    pub interpreter: String,
    pub from: Mode,
    pub to: Mode,
    /// The time per operation `to` adds over `from` (negative: a gain).
    pub change: Estimate,
    pub claim: Claim,
}

impl Step {
    pub fn is_loss(&self) -> bool {
        self.claim == Claim::Slower
    }
}

/// Every step beyond the noise floor (a fraction of the operation's unlimited time).
pub fn steps(r: &Results, ops: &[Operation], costs: &[OpCost], noise_floor: f64) -> Vec<Step> {
    let mut pairs: Vec<(&Operation, &str, &OpCost, &OpCost)> = Vec::new();
    for o in ops {
        for i in &r.interpreters {
            let mut chain: Vec<&OpCost> = costs.iter().filter(|c| c.op == o.key && c.interpreter == i.name).collect();
            chain.sort_by_key(|c| c.mode);
            pairs.extend(chain.windows(2).map(|w| (o, i.name.as_str(), w[0], w[1])));
        }
    }
    pairs
        .into_par_iter()
        .filter_map(|(o, interp, from, to)| {
            // The step: what `to` adds less what `from` adds (their unlimited terms cancel).
            let mut terms: Vec<Term> = added_terms(o, to.via.as_deref(), to.mode, 0, 1.0);
            terms.extend(added_terms(o, from.via.as_deref(), from.mode, 0, -1.0));
            let unl = from.unlimited.point;
            let seed = seed_of(&format!("{interp}/{}/{}/step/{}", from.mode, to.mode, o.key));
            let sets = pairing::sets(r, interp, &terms)?;
            // A step whose point lies inside the noise floor cannot be claimed, whatever its
            // interval: no need to draw one.
            if stats::combined_point(&sets)?[0].abs() <= noise_floor * unl.abs() {
                return None;
            }
            let change = stats::combined_ci(&sets, &|c| c[0], seed)?;
            let claim = Claim::of(&change.over(unl.abs()), noise_floor);
            (claim != Claim::NotMeasurable).then(|| Step {
                op: o.key.clone(),
                interpreter: interp.to_string(),
                from: from.mode,
                to: to.mode,
                change,
                claim,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::costs::op_costs;
    use crate::analysis::testdata::results;

    #[test]
    fn a_step_is_claimed_where_it_clears_the_noise_floor() {
        // list_get on 3.12: abi3-py38 30 ns, abi3-py312 22 ns: raising the floor gains 8 ns.
        let r = results();
        let a = analyse(&r);
        let ops = crate::analysis::costs::operations(&r.groups);
        let costs = op_costs(&r, &a, &ops);
        let s = steps(&r, &ops, &costs, 0.02);
        assert_eq!(s.len(), 1, "{s:?}");
        let step = &s[0];
        assert_eq!(
            (step.op.as_str(), step.interpreter.as_str(), step.from.name(), step.to.name()),
            ("list_get", "3.12.1", "abi3-py38".into(), "abi3-py312".into())
        );
        assert!(!step.is_loss() && (step.change.point + 8.0).abs() < 0.6, "{step:?}");
        // A floor of 40 % hides it.
        assert!(steps(&r, &ops, &costs, 0.40).is_empty());
    }
}
