//! Plots, with plotters: each figure is drawn once as SVG (inlined in the HTML page, linked from
//! the Markdown) and rasterised from that SVG by resvg to PNG (slides, chat, artifacts).
//!
//! Why resvg rather than plotters' bitmap backend: the latter's ab_glyph text drops each glyph's
//! side bearing, so labels come out unevenly spaced; resvg sets text properly and the PNG matches
//! the SVG. Both need a font (plotters to measure labels, resvg to draw them); it is compiled in
//! (`runner/data/fonts`, 23 kB) so a machine without fonts draws the same plots.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use resvg::{tiny_skia, usvg, usvg::fontdb};

use crate::analysis::Analysis;
use crate::export::table::format_value;
use crate::measure::Measure;
use crate::modes::Mode;
use crate::report::{self, Matrix, Verdict};
use crate::results::{CellStatus, Results};
use crate::scenarios::{Group, Kind};

const FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSans-subset.ttf");
/// What plotters lays text out with (and names in the SVG: viewers use their own sans-serif).
pub(crate) const FAMILY: &str = "sans-serif";
/// The compiled-in font's family name, which resvg draws the PNG text with.
const PNG_FAMILY: &str = "DejaVu Sans";

/// Gives plotters the compiled-in font; every figure (report plots, trend plots) calls it first.
pub(crate) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if !*REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        bail!("the plot font compiled into abibench (runner/data/fonts/DejaVuSans-subset.ttf) is unreadable");
    }
    Ok(())
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// One colour per mode, the same in every figure (colour-blind-safe hues, unlimited in grey-black).
pub fn mode_color(m: Mode) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(0x33, 0x33, 0x33),
        RGBColor(0xd5, 0x5e, 0x00),
        RGBColor(0xe6, 0x9f, 0x00),
        RGBColor(0xcc, 0x79, 0xa7),
        RGBColor(0x00, 0x9e, 0x73),
        RGBColor(0x00, 0x72, 0xb2),
    ];
    PALETTE[Mode::ALL.iter().position(|x| *x == m).unwrap_or(0) % PALETTE.len()]
}

const CHATTY: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
const COMPUTE: RGBColor = RGBColor(0x00, 0x72, 0xb2);
const GREY: RGBColor = RGBColor(0x88, 0x88, 0x88);
const LIGHT: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    at: (i32, i32),
    size: u32,
    color: &RGBColor,
    h: HPos,
) -> Drawn<DB> {
    let style = TextStyle::from((FAMILY, size).into_font()).color(color).pos(Pos::new(h, VPos::Center));
    area.draw(&Text::new(s.to_string(), at, style))
}

fn rect<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    fill: &RGBColor,
) -> Drawn<DB> {
    area.draw(&Rectangle::new([from, to], fill.filled()))
}

/// A key of coloured swatches in one row: what each colour means.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    items: &[(String, RGBColor)],
) -> Drawn<DB> {
    let mut x = at.0;
    for (label, color) in items {
        rect(area, (x, at.1 - 6), (x + 14, at.1 + 6), color)?;
        text(area, label, (x + 20, at.1), 14, &BLACK, HPos::Left)?;
        x += 34 + 8 * label.chars().count() as i32;
    }
    Ok(())
}

/// A figure the report draws.
pub enum Figure<'a> {
    /// Time per operation against interpreter, one line per mode with its interval band; one
    /// panel per scenario of the group.
    Group(&'a Group),
    /// Stable-ABI / unlimited ratio per scenario and interpreter, one panel per stable-ABI mode.
    Heatmap,
    /// Each mode's overhead over unlimited, chatty and compute calls side by side.
    Overhead,
    /// The ABI compatibility matrix: what each interpreter did with each build.
    Matrix(&'a Matrix),
}

/// A figure as written: its file stem under `plots/`, title, and SVG text.
pub struct Plot {
    pub name: String,
    pub title: String,
    pub svg: String,
}

/// The figures a run has data for, in the order the page shows them.
pub fn figures<'a>(r: &'a Results, matrix: Option<&'a Matrix>) -> Vec<Figure<'a>> {
    let mut v = Vec::new();
    if !report::stable_modes(r).is_empty() {
        v.extend([Figure::Overhead, Figure::Heatmap]);
    }
    v.extend(r.groups.iter().map(Figure::Group));
    v.extend(matrix.map(Figure::Matrix));
    v
}

const PANEL: (u32, u32) = (440, 270);
const PANEL_COLUMNS: usize = 3;
const HEADER: u32 = 56;
const LABEL_W: i32 = 250;
const ROW_H: i32 = 20;
const CELL_W: i32 = 60;

impl Figure<'_> {
    pub fn name(&self) -> String {
        match self {
            // Group names come from a results file: keep the file name to safe characters.
            Figure::Group(g) => format!(
                "group-{}",
                g.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' }).collect::<String>()
            ),
            Figure::Heatmap => "heatmap".into(),
            Figure::Overhead => "overhead".into(),
            Figure::Matrix(_) => "matrix".into(),
        }
    }

    pub fn title(&self, measure: Measure) -> String {
        let q = measure.quantity();
        match self {
            Figure::Group(g) => format!("{}{} per operation: {}", q[..1].to_uppercase(), &q[1..], g.title),
            Figure::Heatmap => format!("Stable-ABI {q} / unlimited {q}, per scenario and interpreter"),
            Figure::Overhead => "Overhead over unlimited: chatty against compute-bound calls".into(),
            Figure::Matrix(_) => "ABI compatibility matrix".into(),
        }
    }

    fn size(&self, r: &Results) -> (u32, u32) {
        match self {
            Figure::Group(g) => {
                let cols = g.scenarios.len().clamp(1, PANEL_COLUMNS);
                let rows = g.scenarios.len().div_ceil(PANEL_COLUMNS).max(1);
                (PANEL.0 * cols as u32, HEADER + PANEL.1 * rows as u32)
            }
            Figure::Heatmap => {
                let columns: usize = report::stable_modes(r).iter().map(|m| heatmap_columns(r, *m).len()).sum();
                let panels = report::stable_modes(r).len() as i32;
                let rows = r.groups.iter().map(|g| g.scenarios.len() + 1).sum::<usize>() as i32;
                (
                    (LABEL_W + columns as i32 * CELL_W + panels * 16 + 20) as u32,
                    (HEADER as i32 + 30 + rows * ROW_H + 90) as u32,
                )
            }
            Figure::Overhead => ((220 * report::stable_modes(r).len() as u32 + 160).max(700), 520),
            Figure::Matrix(m) => {
                let (builds, interps) = matrix_axes(m);
                let label_w = 20 + 9 * builds.iter().map(|b| b.chars().count()).max().unwrap_or(0) as u32;
                ((label_w + 100 * interps.len() as u32 + 40).max(600), HEADER + 30 + 28 * builds.len() as u32 + 20)
            }
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, r: &Results, a: &Analysis) -> Drawn<DB> {
        root.fill(&WHITE)?;
        text(root, &self.title(r.run.sampling.measure), (12, 18), 20, &BLACK, HPos::Left)?;
        match self {
            Figure::Group(g) => draw_group(root, r, a, g),
            Figure::Heatmap => draw_heatmap(root, r, a),
            Figure::Overhead => draw_overhead(root, r, a),
            Figure::Matrix(m) => draw_matrix(root, m),
        }
    }

    pub fn svg(&self, r: &Results, a: &Analysis) -> Result<String> {
        register_font()?;
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, self.size(r)).into_drawing_area();
            self.draw(&root, r, a).and_then(|()| root.present()).map_err(|e| anyhow!("plot {}: {e}", self.name()))?;
        }
        Ok(buf)
    }

    /// Writes `<dir>/<name>.svg` and `.png`.
    pub fn write(&self, r: &Results, a: &Analysis, dir: &Path) -> Result<Plot> {
        let svg = self.svg(r, a)?;
        let path = dir.join(format!("{}.svg", self.name()));
        std::fs::write(&path, &svg).with_context(|| format!("cannot write {}", path.display()))?;
        png(&svg, &dir.join(format!("{}.png", self.name())))?;
        Ok(Plot { name: self.name(), title: self.title(r.run.sampling.measure), svg })
    }
}

/// The label of a categorical x axis (categories at 0, 1, ...): plotters may put ticks between
/// them, which stay blank.
fn category(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-9 || i < 0.0 {
        return String::new();
    }
    names.get(i as usize).cloned().unwrap_or_default()
}

/// The font database resvg draws PNG text from: only the compiled-in font, so every machine
/// renders the same pixels.
fn png_fonts() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(PNG_FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Rasterises a figure's SVG at twice its size: the PNG shows exactly what the SVG does.
pub fn png(svg: &str, path: &Path) -> Result<()> {
    const SCALE: f32 = 2.0;
    let opt = usvg::Options { font_family: PNG_FAMILY.into(), fontdb: png_fonts(), ..Default::default() };
    let tree = usvg::Tree::from_str(svg, &opt).with_context(|| format!("{}: unreadable SVG", path.display()))?;
    let size =
        tree.size().to_int_size().scale_by(SCALE).with_context(|| format!("{}: empty figure", path.display()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .with_context(|| format!("{}: no room for a {}x{} image", path.display(), size.width(), size.height()))?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(SCALE, SCALE), &mut pixmap.as_mut());
    pixmap.save_png(path).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs of consecutive indices: a line is not drawn across an interpreter without a value.
fn runs<T: Copy>(points: &[(usize, T)]) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut prev: Option<usize> = None;
    for &(i, p) in points {
        match out.last_mut() {
            Some(run) if prev == Some(i.wrapping_sub(1)) => run.push(p),
            _ => out.push(vec![p]),
        }
        prev = Some(i);
    }
    out
}

fn draw_group<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, a: &Analysis, g: &Group) -> Drawn<DB> {
    let interps = report::ordered_interpreters(r);
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
        let top = series.iter().flat_map(|(_, p)| p.iter().map(|(_, q)| q.3)).fold(0.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(panel)
            .caption(&s.name, (FAMILY, 15))
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top.max(f64::MIN_POSITIVE))?;
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

/// Interpreters (in order) that have cells in `mode`: a panel's columns.
fn heatmap_columns(r: &Results, mode: Mode) -> Vec<String> {
    report::ordered_interpreters(r)
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

fn draw_heatmap<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, a: &Analysis) -> Drawn<DB> {
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
    for mode in report::stable_modes(r) {
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

/// A small deterministic spread so points of one column do not hide each other.
fn jitter(k: usize) -> f64 {
    ((k * 37 % 23) as f64 / 22.0 - 0.5) * 0.2
}

fn draw_overhead<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, a: &Analysis) -> Drawn<DB> {
    let modes = report::stable_modes(r);
    let kind_of =
        |scenario: &str| r.groups.iter().find(|g| g.scenarios.iter().any(|s| s.name == scenario)).map(|g| g.kind);
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
                let m = crate::stats::median(&col);
                let x = mi as f64 + side;
                chart
                    .draw_series([PathElement::new(vec![(x - 0.15, m), (x + 0.15, m)], color(kind).stroke_width(4))])?;
            }
        }
    }
    Ok(())
}

/// Builds and interpreters of a matrix, in first-appearance order.
fn matrix_axes(m: &Matrix) -> (Vec<String>, Vec<String>) {
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

pub fn verdict_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Ok => RGBColor(0x9e, 0xd8, 0x9a),
        Verdict::Refused => RGBColor(0xfd, 0xc0, 0x6e),
        Verdict::Crash => RGBColor(0xc6, 0x28, 0x28),
        Verdict::NotFound => LIGHT,
        Verdict::NotRun => WHITE,
    }
}

fn draw_matrix<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, m: &Matrix) -> Drawn<DB> {
    let (builds, interps) = matrix_axes(m);
    let label_w = 20 + 9 * builds.iter().map(|b| b.chars().count()).max().unwrap_or(0) as i32;
    let verdicts = [Verdict::Ok, Verdict::Refused, Verdict::Crash, Verdict::NotFound, Verdict::NotRun];
    legend(root, (12, 42), &verdicts.map(|v| (v.label().to_string(), verdict_color(v))))?;
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
            rect(root, (x + 1, y + 1), (x + 99, y + 27), &verdict_color(c.verdict))?;
            let ink = if c.verdict == Verdict::Crash { WHITE } else { BLACK };
            text(root, c.verdict.label(), (x + 50, y + 14), 13, &ink, HPos::Center)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::report::MatrixCell;
    use crate::testdata;

    #[test]
    fn every_figure_renders_as_svg_and_png() {
        let r = testdata::results();
        let a = analyse(&r);
        let m = Matrix {
            source: "m.json".into(),
            cells: vec![MatrixCell {
                build: "abi3-py38".into(),
                interpreter: "3.13.0".into(),
                verdict: Verdict::Crash,
            }],
        };
        let figs = figures(&r, Some(&m));
        let names: Vec<String> = figs.iter().map(|f| f.name()).collect();
        assert_eq!(names, ["overhead", "heatmap", "group-containers", "group-compute", "matrix"]);
        let dir = tempfile::tempdir().unwrap();
        for f in &figs {
            let p = f.write(&r, &a, dir.path()).unwrap();
            assert!(p.svg.starts_with("<svg") && p.svg.contains(&f.title(r.run.sampling.measure)), "{}", p.name);
            let png = std::fs::read(dir.path().join(format!("{}.png", p.name))).unwrap();
            assert_eq!(&png[1..4], b"PNG");
        }
        // The heatmap states each measured ratio (this one excludes 1.0, so no parentheses) and marks n/a paths.
        let heat = figs[1].svg(&r, &a).unwrap();
        let ratio = a.mode_ratio("3.8.18", "abi3-py38".parse().unwrap(), "list_get").unwrap().ratio.point;
        assert!(heat.contains(&format!(">\n{ratio:.2}\n</text>")), "{ratio:.2} missing from {heat}");
        assert!(heat.contains(">\nn/a\n</text>"));
    }

    #[test]
    fn ratio_colours_are_white_at_one_and_saturate() {
        assert_eq!(ratio_color(1.0), WHITE);
        assert_eq!(ratio_color(4.0), ratio_color(2.0));
        assert!(ratio_color(1.5).0 > ratio_color(1.5).2, "slower is red");
        assert!(ratio_color(0.7).2 > ratio_color(0.7).0, "faster is blue");
    }

    #[test]
    fn lines_break_where_an_interpreter_has_no_value() {
        assert_eq!(runs(&[(0, 'a'), (1, 'b'), (3, 'c')]), vec![vec!['a', 'b'], vec!['c']]);
    }

    #[test]
    fn file_names_keep_to_safe_characters() {
        let mut r = testdata::results();
        r.groups[0].name = "../x y".into();
        assert_eq!(Figure::Group(&r.groups[0]).name(), "group----x-y");
    }
}
