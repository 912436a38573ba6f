//! Why a floor costs, in words: per scenario and interpreter, the calls into the interpreter a
//! floor's build makes per operation beyond the unlimited build's (`analysis::calls`), floors
//! that call alike on one line, beside what they add. The terminal and the report's evidence
//! both show these lines.

use crate::analysis::calls::{differences, CallDifference};
use crate::analysis::cells::Analysis;
use crate::export::answer::added;
use crate::model::results::Results;
use crate::model::sampling::Measure;

/// How many functions a line names before it says how many more there are.
const NAMED: usize = 8;

/// What the lines are, for a heading.
pub const TITLE: &str = "Which calls into the interpreter make the cost";

/// What the lines mean, for a note under the heading.
pub const NOTE: &str = "Per operation, the functions of libpython (or the python executable) each stable-ABI build \
     calls beyond what the unlimited build calls on the same interpreter (callgrind's call counts, from the build's \
     own code, the difference of the 2L and L regions as for instruction counts; calls made less than once per two \
     executions of the statement, periodic work, left out); in parentheses, what the floor adds per operation.";

/// The same, from the instruction-count pass, beside the wall-time pass's figures.
pub const TIMED_NOTE: &str = "From the instruction-count pass, per operation: the functions of libpython (or the \
     python executable) each stable-ABI build calls beyond what the unlimited build calls on the same interpreter \
     (calls made less than once per two executions of the statement left out); in parentheses, the time the floor \
     adds per operation in this wall-time pass (its median less unlimited's).";

/// A count per operation: whole where it is, else to three significant digits.
fn count(x: f64) -> String {
    let sign = if x < 0.0 { "−" } else { "+" };
    let a = x.abs();
    let digits = if a >= 100.0 { 0 } else { (2 - a.log10().floor() as i32).max(0) as usize };
    let text = format!("{a:.digits$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{sign}{text}")
}

/// The calls of one difference, most first.
fn calls_text(d: &CallDifference) -> String {
    let mut named: Vec<String> = d.calls.iter().take(NAMED).map(|(f, k)| format!("{} {f}", count(*k))).collect();
    if d.calls.len() > NAMED {
        named.push(format!("and {} more", d.calls.len() - NAMED));
    }
    named.join(", ")
}

/// One line per (scenario, interpreter, calls), naming the floors that call so and what each
/// adds; empty when no cell has calls (wall time, or a file older than them).
pub fn lines(r: &Results, a: &Analysis) -> Vec<String> {
    lines_of(&differences(r, a), r.run.sampling.measure)
}

/// The lines of `all`, whose additions are in `measure`.
pub fn lines_of(all: &[CallDifference], measure: Measure) -> Vec<String> {
    let mut grouped: Vec<(&str, &str, String, Vec<String>)> = Vec::new();
    for d in all {
        let text = calls_text(d);
        let floor = match d.added {
            Some(x) => format!("{} ({})", d.mode, added(x, measure)),
            None => d.mode.to_string(),
        };
        match grouped.iter_mut().find(|g| (g.0, g.1, &g.2) == (&d.scenario, &d.interpreter, &text)) {
            Some(g) => g.3.push(floor),
            None => grouped.push((&d.scenario, &d.interpreter, text, vec![floor])),
        }
    }
    grouped
        .into_iter()
        .map(|(scenario, interpreter, text, floors)| {
            format!("{scenario} on {interpreter}, {}: {text} per operation", floors.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata::{counted, results};
    use crate::model::mode::Mode;
    use crate::model::version::PyVersion;

    #[test]
    fn floors_that_call_alike_share_a_line_with_what_each_adds() {
        let mut r = results();
        r.run.sampling.measure = Measure::Instructions;
        let abi3 = |m| Mode::Abi3(PyVersion(3, m));
        let lshift = [("PyNumber_Lshift", 1), ("PyLong_FromUnsignedLongLong", 3)];
        r.cells = vec![
            counted(Mode::Unlimited, 1, 800.0, &[("_PyLong_FromByteArray", 1)]),
            counted(abi3(10), 1, 1600.0, &lshift),
            counted(abi3(12), 1, 1590.0, &lshift),
            counted(abi3(14), 1, 800.0, &[("_PyLong_FromByteArray", 1), ("Py_IncRef", 1)]),
        ];
        assert_eq!(
            lines(&r, &analyse(&r)),
            [
                "s on 3.12.1, abi3-py310 (+800 instr), abi3-py312 (+790 instr): +3 PyLong_FromUnsignedLongLong, \
             +1 PyNumber_Lshift, −1 _PyLong_FromByteArray per operation",
                "s on 3.12.1, abi3-py314 (±0 instr): +1 Py_IncRef per operation",
            ]
        );
        r.run.sampling.measure = Measure::WallTime;
        r.cells.iter_mut().for_each(|c| c.calls = None);
        assert!(lines(&r, &analyse(&r)).is_empty());
    }

    #[test]
    fn counts_read_as_whole_calls_or_three_significant_digits() {
        assert_eq!(
            [1.0, -3.0, 0.5, 0.001, 0.0123456, 2.25, 1024.0].map(count),
            ["+1", "−3", "+0.5", "+0.001", "+0.0123", "+2.25", "+1024"]
        );
    }
}
