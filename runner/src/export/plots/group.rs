//! Time per operation against interpreter, one line per mode with its interval band.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::{category, legend, mode_color, runs, text, Drawn, FAMILY, GREY, HEADER, PANEL_COLUMNS};
use crate::analysis::cells::Analysis;
use crate::analysis::decision::ordered_interpreters;
use crate::export::format::format_value;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::scenario::Group;

pub(super) fn draw_group<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Results,
    a: &Analysis,
    g: &Group,
) -> Drawn<DB> {
    let interps = ordered_interpreters(r);
    let names: Vec<String> = interps.iter().map(|i| i.name.clone()).collect();
    let modes = r.modes();
    legend(root, (12, 42), &modes.iter().map(|m| (m.name(), mode_color(*m))).collect::<Vec<_>>())?;
    let cols = g.scenarios.len().clamp(1, PANEL_COLUMNS);
    let rows = g.scenarios.len().div_ceil(PANEL_COLUMNS).max(1);
    let (_, body) = root.split_vertically(HEADER);
    let panels = body.split_evenly((rows, cols));
    let n = names.len();
    for (s, panel) in g.scenarios.iter().zip(&panels) {
        // (x, low, point, high), x nudged per mode so intervals stay apart.
        type Point = (f64, f64, f64, f64);
        let series: Vec<(Mode, Vec<(usize, Point)>)> = modes
            .iter()
            .enumerate()
            .map(|(mi, &m)| {
                let nudge = (mi as f64 - (modes.len() as f64 - 1.0) / 2.0) * 0.06;
                let pts = names
                    .iter()
                    .enumerate()
                    .filter_map(|(xi, i)| {
                        let e = a.summary(i, m, &s.name)?.median;
                        Some((xi, (xi as f64 + nudge, e.low, e.point, e.high)))
                    })
                    .collect();
                (m, pts)
            })
            .filter(|(_, pts): &(Mode, Vec<_>)| !pts.is_empty())
            .collect();
        if series.is_empty() {
            let (w, h) = panel.dim_in_pixel();
            text(panel, &s.name, (w as i32 / 2, 20), 15, &BLACK, HPos::Center)?;
            text(panel, "no values in any mode", (w as i32 / 2, h as i32 / 2), 14, &GREY, HPos::Center)?;
            continue;
        }
        // A fast cell's interval can reach below zero once the empty loop is subtracted, and all
        // of a panel's values can be tiny: the axis always spans a positive, finite range.
        let bounds = series.iter().flat_map(|(_, p)| p.iter().flat_map(|(_, q)| [q.1, q.3])).filter(|v| v.is_finite());
        let (bottom, top) = bounds.fold((0.0, 0.0), |(lo, hi), v| (f64::min(lo, v), f64::max(hi, v)));
        let top = if top > bottom { top + 0.1 * (top - bottom) } else { bottom + 1.0 };
        let mut chart = ChartBuilder::on(panel)
            .caption(&s.name, (FAMILY, 15))
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, bottom..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(n)
            .x_label_formatter(&|x| category(&names, *x))
            .y_labels(5)
            .y_label_formatter(&|y| format_value(*y, r.run.sampling.measure))
            .label_style((FAMILY, 12))
            .draw()?;
        for (m, pts) in &series {
            let color = mode_color(*m);
            for run in runs(pts) {
                if run.len() > 1 {
                    let band: Vec<(f64, f64)> =
                        run.iter().map(|p| (p.0, p.1)).chain(run.iter().rev().map(|p| (p.0, p.3))).collect();
                    chart.draw_series([Polygon::new(band, color.mix(0.12).filled())])?;
                    chart.draw_series([PathElement::new(
                        run.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>(),
                        color.stroke_width(2),
                    )])?;
                }
            }
            chart.draw_series(
                pts.iter().map(|(_, p)| PathElement::new(vec![(p.0, p.1), (p.0, p.3)], color.stroke_width(1))),
            )?;
            chart.draw_series(pts.iter().map(|(_, p)| Circle::new((p.0, p.2), 3, color.filled())))?;
        }
    }
    Ok(())
}
