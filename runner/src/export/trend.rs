//! Trend plots (SVG): one scenario's median per operation across the recorded runs, one line per
//! (interpreter, mode), with a step-change marker (a vertical band and a triangle on the point)
//! wherever the gate fired on that cell.

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use crate::analysis::gate::Verdict;
use crate::analysis::trends::{Series, Trends};
use crate::export::format::printable;
use crate::export::plots::{register_font, FAMILY};

const SIZE: (u32, u32) = (960, 480);

/// The x-axis label of a run: its start, to the minute (`11-20 23:48`).
fn run_label(started_at: &str) -> String {
    started_at.get(5..16).unwrap_or(started_at).replace('T', " ")
}

fn marker_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Regressed => RED,
        _ => GREEN,
    }
}

/// The SVG text of one scenario's trend plot.
pub fn svg(scenario: &str, t: &Trends, series: &[Series]) -> Result<String> {
    let labels: Vec<String> = t.runs.iter().map(|e| run_label(&e.started_at)).collect();
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.value));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return Err(anyhow!("{scenario}: no values to plot"));
    }
    // Some headroom, and never a zero-height axis when every value is the same.
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.02).max(f64::EPSILON);
    let (y0, y1) = ((lo - pad).max(0.0), hi + pad);
    let x1 = (labels.len() as f64 - 0.5).max(0.5);
    let unit = format!("{} per operation", t.measure.unit());

    register_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{scenario} ({})", t.measure.name()), (FAMILY, 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..x1, y0..y1)?;
        let label_of = |x: &f64| {
            let i = x.round();
            let on_run = (x - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < labels.len();
            if on_run {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(labels.len().clamp(2, 12))
            .x_label_formatter(&label_of)
            .x_desc("run (start time, UTC)")
            .y_desc(unit)
            .draw()?;

        // Step-change bands first, so the lines are drawn over them.
        let fired = series.iter().flat_map(|s| s.points.iter()).filter_map(|p| Some((p.run, p.fired?)));
        chart.draw_series(fired.map(|(run, v)| {
            let x = run as f64;
            Rectangle::new([(x - 0.08, y0), (x + 0.08, y1)], marker_color(v).mix(0.15).filled())
        }))?;
        for (k, s) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let points = || s.points.iter().map(|p| (p.run as f64, p.value));
            chart
                .draw_series(LineSeries::new(points(), color.stroke_width(2)))?
                .label(format!("{} {}", s.interpreter, s.mode))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            chart.draw_series(points().map(|p| Circle::new(p, 3, color.filled())))?;
            chart.draw_series(s.points.iter().filter_map(|p| {
                p.fired.map(|v| TriangleMarker::new((p.run as f64, p.value), 8, marker_color(v).filled()))
            }))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    // Scenario and interpreter names come from results files (see `plots::Figure::svg`).
    Ok(printable(&out).into_owned())
}
