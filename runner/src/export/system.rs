//! What `abibench system` shows, and the one line `compare` and `calibrate` warn with.

use crate::export::grid::new_table;
use crate::model::system::{Finding, Verdict};

/// Every check with its state and, where it is not fine, the fix.
pub fn render(findings: &[Finding], ascii: bool) -> String {
    let mut t = new_table(["check", "state", "verdict", "fix"].map(String::from).to_vec(), ascii);
    for f in findings {
        let verdict = match f.verdict {
            Verdict::Ok => "ok",
            Verdict::Advice => "advice",
            Verdict::Skews => "SKEWS TIMINGS",
        };
        t.add_row(vec![f.check.clone(), f.state.clone(), verdict.into(), f.fix.clone().unwrap_or_default()]);
    }
    format!("{t}\n")
}

/// `CPU governor: powersave; load: 1.9 on 2 CPUs ...`, or nothing when no finding skews timings.
pub fn warning(findings: &[Finding]) -> Option<String> {
    let skews: Vec<String> =
        findings.iter().filter(|f| f.verdict == Verdict::Skews).map(|f| format!("{}: {}", f.check, f.state)).collect();
    (!skews.is_empty()).then(|| {
        format!("warning: this machine skews timings ({}); `abibench system` shows the fixes", skews.join("; "))
    })
}
