//! Each stable-ABI mode's overhead over unlimited: chatty against compute-bound calls.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{category, legend, Drawn, CHATTY, COMPUTE, FAMILY, HEADER};
use crate::analysis::cells::Analysis;
use crate::analysis::decision::stable_modes;
use crate::analysis::stats;
use crate::model::results::Results;
use crate::model::scenario::Kind;

/// A small deterministic spread so points of one column do not hide each other.
fn jitter(k: usize) -> f64 {
    ((k * 37 % 23) as f64 / 22.0 - 0.5) * 0.2
}

pub(super) fn draw_overhead<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, a: &Analysis) -> Drawn<DB> {
    let modes = stable_modes(r);
    let kind_of = |scenario: &str| {
        r.groups.iter().find_map(|g| g.scenarios.iter().find(|s| s.name == scenario).map(|s| g.kind_of(s)))
    };
    legend(root, (12, 42), &[("chatty calls".to_string(), CHATTY), ("compute-bound calls".to_string(), COMPUTE)])?;
    // (x, low %, point %, high %, kind)
    let pts: Vec<(f64, f64, f64, f64, Kind)> = a
        .mode_ratios
        .iter()
        .enumerate()
        .filter_map(|(k, x)| {
            let kind = kind_of(&x.scenario)?;
            let mi = modes.iter().position(|m| *m == x.mode)? as f64;
            let side = if kind == Kind::Chatty { -0.2 } else { 0.2 };
            let pct = |v: f64| (v - 1.0) * 100.0;
            Some((mi + side + jitter(k), pct(x.ratio.low), pct(x.ratio.point), pct(x.ratio.high), kind))
        })
        .collect();
    let lo = pts.iter().map(|p| p.2).fold(0.0, f64::min);
    let hi = pts.iter().map(|p| p.2).fold(0.0, f64::max);
    let pad = ((hi - lo) * 0.1).max(5.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let (_, body) = root.split_vertically(HEADER);
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..modes.len() as f64 - 0.5, lo..hi)?;
    let names: Vec<String> = modes.iter().map(|m| m.name()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(names.len())
        .x_label_formatter(&|x| category(&names, *x))
        .y_desc(format!(
            "{} over unlimited, % (point: one scenario on one interpreter)",
            r.run.sampling.measure.quantity()
        ))
        .y_label_formatter(&|y| format!("{y:+.0} %"))
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 13))
        .draw()?;
    chart.draw_series([PathElement::new(vec![(-0.5, 0.0), (modes.len() as f64 - 0.5, 0.0)], BLACK.stroke_width(1))])?;
    let color = |k: Kind| if k == Kind::Chatty { CHATTY } else { COMPUTE };
    // Intervals beyond the axis are cut at its edge rather than stretching it for one noisy cell.
    chart
        .draw_series(pts.iter().map(|p| {
            PathElement::new(vec![(p.0, p.1.clamp(lo, hi)), (p.0, p.3.clamp(lo, hi))], color(p.4).mix(0.35))
        }))?;
    chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.2), 3, color(p.4).filled())))?;
    // The median of each column, as a wide bar.
    for (mi, _) in modes.iter().enumerate() {
        for kind in [Kind::Chatty, Kind::Compute] {
            let side = if kind == Kind::Chatty { -0.2 } else { 0.2 };
            let col: Vec<f64> =
                pts.iter().filter(|p| p.4 == kind && (p.0 - mi as f64 - side).abs() <= 0.11).map(|p| p.2).collect();
            if !col.is_empty() {
                let m = stats::median(&col);
                let x = mi as f64 + side;
                chart
                    .draw_series([PathElement::new(vec![(x - 0.15, m), (x + 0.15, m)], color(kind).stroke_width(4))])?;
            }
        }
    }
    Ok(())
}
