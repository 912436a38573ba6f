//! Stable-ABI / unlimited ratios, scenario × interpreter, one panel per stable-ABI mode.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::{mode_color, rect, text, Drawn, CELL_W, GREY, HEADER, LABEL_W, LIGHT, ROW_H};
use crate::analysis::cells::Analysis;
use crate::analysis::decision::{ordered_interpreters, stable_modes};
use crate::model::mode::Mode;
use crate::model::results::{CellStatus, Results};

/// Interpreters (in order) that have cells in `mode`: a panel's columns.
pub(super) fn heatmap_columns(r: &Results, mode: Mode) -> Vec<String> {
    ordered_interpreters(r)
        .into_iter()
        .filter(|i| r.cells.iter().any(|c| c.mode == mode && c.interpreter == i.name))
        .map(|i| i.name.clone())
        .collect()
}

/// White at 1.0, red for slower, blue for faster, saturating at 2x and 0.5x.
fn ratio_color(ratio: f64) -> RGBColor {
    let t = ratio.log2().clamp(-1.0, 1.0);
    let (end, t) = if t >= 0.0 { ((0xd7, 0x30, 0x27), t) } else { ((0x45, 0x75, 0xb4), -t) };
    let mix = |c: i32| (255.0 + (c as f64 - 255.0) * t).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

/// A colour three quarters of the way to white.
fn faded(c: RGBColor) -> RGBColor {
    let f = |x: u8| (255.0 - (255.0 - x as f64) * 0.25).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

pub(super) fn draw_heatmap<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, a: &Analysis) -> Drawn<DB> {
    let top = HEADER as i32 + 30;
    let mut x0 = LABEL_W;
    let mut y = top;
    for g in &r.groups {
        text(root, &g.title, (12, y + ROW_H / 2), 14, &BLACK, HPos::Left)?;
        y += ROW_H;
        for s in &g.scenarios {
            text(root, &s.name, (LABEL_W - 8, y + ROW_H / 2), 12, &BLACK, HPos::Right)?;
            y += ROW_H;
        }
    }
    let bottom = y;
    for mode in stable_modes(r) {
        let cols = heatmap_columns(r, mode);
        let w = cols.len() as i32 * CELL_W;
        text(root, &mode.name(), (x0 + w / 2, HEADER as i32 - 4), 15, &mode_color(mode), HPos::Center)?;
        for (ci, interp) in cols.iter().enumerate() {
            let cx = x0 + ci as i32 * CELL_W;
            text(root, interp, (cx + CELL_W / 2, top - 12), 12, &BLACK, HPos::Center)?;
            let mut y = top;
            for g in &r.groups {
                y += ROW_H;
                for s in &g.scenarios {
                    let (fill, label, ink) = match (r.cell(interp, mode, &s.name), a.mode_ratio(interp, mode, &s.name))
                    {
                        (_, Some(x)) => {
                            let e = x.ratio;
                            // The interval includes 1.0: no difference is claimed, so the colour is
                            // faded and the number put in parentheses.
                            if e.contains(1.0) {
                                (faded(ratio_color(e.point)), format!("({:.2})", e.point), BLACK)
                            } else {
                                let ink = if e.point.log2().abs() > 0.6 { WHITE } else { BLACK };
                                (ratio_color(e.point), format!("{:.2}", e.point), ink)
                            }
                        }
                        (Some(c), None) if c.status == CellStatus::NotAvailable => (LIGHT, "n/a".into(), GREY),
                        (Some(c), None) if c.status == CellStatus::Ok => (WHITE, "no ref".into(), GREY),
                        (Some(c), None) => (RGBColor(0x44, 0x44, 0x44), c.status.label().into(), WHITE),
                        (None, None) => (WHITE, String::new(), BLACK),
                    };
                    rect(root, (cx + 1, y + 1), (cx + CELL_W - 1, y + ROW_H - 1), &fill)?;
                    text(root, &label, (cx + CELL_W / 2, y + ROW_H / 2), 11, &ink, HPos::Center)?;
                    y += ROW_H;
                }
            }
        }
        x0 += w + 16;
    }
    // Colour key: 0.5x .. 2x on a log scale.
    let (kx, ky) = (LABEL_W, bottom + 20);
    for step in 0..=100 {
        let ratio = 2f64.powf(step as f64 / 50.0 - 1.0);
        rect(root, (kx + step * 3, ky), (kx + step * 3 + 3, ky + 14), &ratio_color(ratio))?;
    }
    for (ratio, label) in [(0.5, "≤0.5×"), (1.0, "1×"), (2.0, "≥2×")] {
        let x = kx + ((f64::log2(ratio) + 1.0) * 150.0) as i32;
        text(root, label, (x, ky + 26), 12, &BLACK, HPos::Center)?;
    }
    text(root, "(1.02), faded: interval includes 1.0, no difference claimed", (12, ky + 46), 12, &BLACK, HPos::Left)?;
    text(root, "n/a: the mode cannot express the path", (12, ky + 62), 12, &BLACK, HPos::Left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_colours_are_white_at_one_and_saturate() {
        assert_eq!(ratio_color(1.0), WHITE);
        assert_eq!(ratio_color(4.0), ratio_color(2.0));
        assert!(ratio_color(1.5).0 > ratio_color(1.5).2, "slower is red");
        assert!(ratio_color(0.7).2 > ratio_color(0.7).0, "faster is blue");
    }
}
