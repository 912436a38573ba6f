//! The report's "Counts and time" tables: where the instruction-count pass and the wall-time pass
//! of the same selection disagree, per cost channel with the likely reason, then every cell, per
//! channel, interpreter by interpreter. Header and rows only: the HTML and Markdown pages lay
//! them out.

use crate::analysis::measures::{CellReading, ChannelReading, MeasureAgreement, Reading};
use crate::model::mode::Mode;
use crate::model::scenario::Channel;

/// Why time's ratio can sit above the counts'.
pub const TIME_HIGHER_WHY: &str = "cost that executes no extra instructions, which a count cannot see: stalls, \
     cache and branch misses, the indirect jump of a PLT stub into libpython";

/// Why the counts' ratio can sit above time's.
pub const COUNTS_HIGHER_WHY: &str =
    "extra instructions the processor overlaps with others (independent work it runs in parallel)";

/// Which measure to trust for what (the README says the same).
pub const TRUST: &str = "Trust the counts for small changes in code you control (they repeat exactly, so a \
     0.5 % gate means something) and in channels where the two agree; trust wall time for what abi3 costs \
     where they do not — above all where time is higher, since that cost is invisible to a count-based gate.";

/// What each cell of the per-channel tables shows.
pub const CELL_NOTE: &str = "Each cell: the stable-ABI ratio by wall time ± its interval's half-width · by \
     instruction counts. ▲ time above the counts, ▼ the counts above time, beyond the time's interval \
     widened by the noise floor; no mark: they agree.";

pub fn channel_name(c: Option<Channel>) -> &'static str {
    c.map_or("no channel declared", Channel::label)
}

/// The opening lines: which runs, how many ratios, the rule, and what differs between the passes.
pub fn intro(m: &MeasureAgreement) -> Vec<String> {
    let disagree = m.cells.iter().filter(|c| c.reading != Reading::Agree).count();
    let mut out = vec![format!(
        "Wall-time run {} against instruction-count run {}: {} stable-ABI ratios in both, {disagree} of them \
         disagree — the count's ratio lies outside the time's 95 % interval widened by the noise floor (±{:.1} %).",
        m.time_run,
        m.counts_run,
        m.cells.len(),
        100.0 * m.noise_floor
    )];
    if m.only_time + m.only_counts > 0 {
        out.push(format!("Not in both: {} ratio(s) only by time, {} only by counts.", m.only_time, m.only_counts));
    }
    for d in &m.differences {
        out.push(format!("The passes differ: {d}."));
    }
    out.push(TRUST.to_string());
    out
}

fn reason(r: Reading) -> (&'static str, &'static str) {
    match r {
        Reading::TimeHigher => ("time higher", TIME_HIGHER_WHY),
        Reading::CountsHigher => ("counts higher", COUNTS_HIGHER_WHY),
        Reading::Agree => ("agree", ""),
    }
}

fn cell_label(c: &CellReading) -> String {
    format!(
        "{} on {}, {}: {:.2}× by time, {:.2}× by counts",
        c.scenario,
        c.interpreter,
        c.mode.name(),
        c.time.point,
        c.counts.point
    )
}

/// The likely reason for a channel's disagreement, the more frequent direction first; empty
/// where the channel's cells agree.
pub fn channel_reason(ch: &ChannelReading) -> String {
    ch.leans()
        .into_iter()
        .map(|(r, n)| {
            let (what, why) = reason(r);
            format!("{what} in {n}: {why}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One row per cost channel: how many ratios agree, which way the others go, the median of time
/// over counts, the pair farthest apart, and the likely reason.
pub fn channel_table(m: &MeasureAgreement) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "cost channel",
        "ratios",
        "agree",
        "time higher",
        "counts higher",
        "time / counts",
        "farthest apart",
        "likely reason",
    ]
    .map(String::from)
    .to_vec();
    let rows = m
        .channels
        .iter()
        .map(|ch| {
            vec![
                channel_name(ch.channel).to_string(),
                ch.cells.to_string(),
                ch.agree().to_string(),
                ch.time_higher.to_string(),
                ch.counts_higher.to_string(),
                format!("{:.2}×", ch.median_excess),
                ch.farthest.map_or("—".into(), |k| cell_label(&m.cells[k])),
                match channel_reason(ch) {
                    r if r.is_empty() => "they agree".into(),
                    r => r,
                },
            ]
        })
        .collect();
    (header, rows)
}

fn mark(r: Reading) -> &'static str {
    match r {
        Reading::Agree => "",
        Reading::TimeHigher => " ▲",
        Reading::CountsHigher => " ▼",
    }
}

/// `1.52× ±0.02 · 1.31× ▲`
pub fn cell_text(c: &CellReading) -> String {
    format!("{:.2}× ±{:.2} · {:.2}×{}", c.time.point, (c.time.high - c.time.low) / 2.0, c.counts.point, mark(c.reading))
}

/// Per channel: (title, header, rows), a row per (interpreter, scenario), a column per stable mode
/// the channel has; `—` where the cell is not in both passes.
pub fn cell_tables(m: &MeasureAgreement) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    m.channels
        .iter()
        .map(|ch| {
            let cells: Vec<&CellReading> = m.of_channel(ch.channel).collect();
            let modes: Vec<Mode> = m.modes().into_iter().filter(|md| cells.iter().any(|c| c.mode == *md)).collect();
            let mut header = vec!["python".to_string(), "scenario".to_string()];
            header.extend(modes.iter().map(|md| md.name()));
            // Cells come sorted by interpreter, then scenario: consecutive runs make the rows.
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut last: Option<(&str, &str)> = None;
            for c in &cells {
                let key = (c.interpreter.as_str(), c.scenario.as_str());
                if last != Some(key) {
                    let mut row = vec![c.interpreter.clone(), c.scenario.clone()];
                    row.extend(modes.iter().map(|_| "—".to_string()));
                    rows.push(row);
                    last = Some(key);
                }
                let col = 2 + modes.iter().position(|md| *md == c.mode).expect("the channel's modes");
                rows.last_mut().expect("a row")[col] = cell_text(c);
            }
            let title = format!(
                "Counts and time: {} ({} of {} ratios disagree)",
                channel_name(ch.channel),
                ch.time_higher + ch.counts_higher,
                ch.cells
            );
            (title, header, rows)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::testdata;

    /// The fixture's two passes: abi3-py38's item access costs 1.2× by counts (1.5× by time), its
    /// compute kernel 1.3× (1.0× by time).
    pub fn agreement() -> MeasureAgreement {
        let (time, counts) = (testdata::results(), testdata::counts(1.2, 1.3));
        MeasureAgreement::of((&time, &analyse(&time)), (&counts, &analyse(&counts))).expect("one pass of each")
    }

    #[test]
    fn each_channel_that_disagrees_gets_its_reason_and_every_cell_its_row() {
        let m = agreement();
        let (header, rows) = channel_table(&m);
        assert_eq!(header.len(), rows[0].len());
        assert_eq!(rows[0][..5], ["item access", "3", "1", "2", "0"].map(String::from));
        assert!(rows[0][7].starts_with("time higher in 2: cost that executes no extra instructions"), "{rows:?}");
        assert!(rows[0][7].contains("PLT stub"), "{rows:?}");
        assert_eq!(rows[1][..5], ["compute", "3", "1", "0", "2"].map(String::from));
        assert!(rows[1][7].starts_with("counts higher in 2: extra instructions the processor overlaps"), "{rows:?}");
        assert!(rows[1][6].starts_with("kernel on ") && rows[1][6].contains("1.30× by counts"), "{rows:?}");

        let tables = cell_tables(&m);
        assert_eq!(tables.len(), 2);
        let (title, header, rows) = &tables[0];
        assert_eq!(title, "Counts and time: item access (2 of 3 ratios disagree)");
        assert_eq!(header, &["python", "scenario", "abi3-py38", "abi3-py312"].map(String::from));
        // 3.8 before 3.12; 3.8 has no abi3-py312 cell.
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!((rows[0][0].as_str(), rows[0][3].as_str()), ("3.8.18", "—"));
        assert!(rows[0][2].ends_with("· 1.20× ▲"), "{rows:?}");
        assert!(rows[1][2].ends_with(" ▲") && !rows[1][3].contains('▲') && !rows[1][3].contains('▼'), "{rows:?}");
        assert!(tables[1].2.iter().all(|r| r[2].ends_with("· 1.30× ▼")), "{:?}", tables[1]);

        let intro = intro(&m);
        assert!(intro[0].contains("6 stable-ABI ratios in both, 4 of them disagree"), "{intro:?}");
        assert!(intro.last().unwrap().starts_with("Trust the counts"), "{intro:?}");
    }
}
