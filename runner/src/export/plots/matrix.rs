//! The ABI compatibility matrix: what each interpreter did with each build.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::{legend, rect, text, Drawn, HEADER, LIGHT};
use crate::analysis::compat::{Compat, CompatMatrix};

/// Builds and interpreters of a matrix, in first-appearance order.
pub(super) fn matrix_axes(m: &CompatMatrix) -> (Vec<String>, Vec<String>) {
    let mut builds: Vec<String> = Vec::new();
    let mut interps: Vec<String> = Vec::new();
    for c in &m.cells {
        if !builds.contains(&c.build) {
            builds.push(c.build.clone());
        }
        if !interps.contains(&c.interpreter) {
            interps.push(c.interpreter.clone());
        }
    }
    (builds, interps)
}

fn compat_color(v: Compat) -> RGBColor {
    match v {
        Compat::Ok => RGBColor(0x9e, 0xd8, 0x9a),
        Compat::Refused => RGBColor(0xfd, 0xc0, 0x6e),
        Compat::Crash => RGBColor(0xc6, 0x28, 0x28),
        Compat::NotFound => LIGHT,
        Compat::NotRun => WHITE,
    }
}

pub(super) fn draw_matrix<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, m: &CompatMatrix) -> Drawn<DB> {
    let (builds, interps) = matrix_axes(m);
    let label_w = 20 + 9 * builds.iter().map(|b| b.chars().count()).max().unwrap_or(0) as i32;
    let verdicts = [Compat::Ok, Compat::Refused, Compat::Crash, Compat::NotFound, Compat::NotRun];
    legend(root, (12, 42), &verdicts.map(|v| (v.label().to_string(), compat_color(v))))?;
    let top = HEADER as i32 + 30;
    for (ci, i) in interps.iter().enumerate() {
        text(root, i, (label_w + ci as i32 * 100 + 50, top - 12), 13, &BLACK, HPos::Center)?;
    }
    for (bi, b) in builds.iter().enumerate() {
        let y = top + bi as i32 * 28;
        text(root, b, (label_w - 8, y + 14), 13, &BLACK, HPos::Right)?;
        for (ci, i) in interps.iter().enumerate() {
            let x = label_w + ci as i32 * 100;
            let Some(c) = m.cells.iter().find(|c| &c.build == b && &c.interpreter == i) else { continue };
            rect(root, (x + 1, y + 1), (x + 99, y + 27), &compat_color(c.compat))?;
            let ink = if c.compat == Compat::Crash { WHITE } else { BLACK };
            text(root, c.compat.label(), (x + 50, y + 14), 13, &ink, HPos::Center)?;
        }
    }
    Ok(())
}
