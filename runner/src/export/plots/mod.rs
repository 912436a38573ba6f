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

use crate::analysis::cells::Analysis;
use crate::analysis::compat::CompatMatrix;
use crate::analysis::decision::stable_modes;
use crate::export::format::printable;
use crate::model::io::write_atomic;
use crate::model::mode::Mode;
use crate::model::results::Results;
use crate::model::sampling::Measure;
use crate::model::scenario::Group;

mod group;
mod heatmap;
mod matrix;
mod overhead;

use group::draw_group;
use heatmap::{draw_heatmap, heatmap_columns};
use matrix::{draw_matrix, matrix_axes};
use overhead::draw_overhead;

const FONT: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans-subset.ttf");
/// What plotters lays text out with (and names in the SVG: viewers use their own sans-serif).
pub const FAMILY: &str = "sans-serif";
/// The compiled-in font's family name, which resvg draws the PNG text with.
const PNG_FAMILY: &str = "DejaVu Sans";

/// Gives plotters the compiled-in font; every figure (report plots, trend plots) calls it first.
pub fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if !*REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        bail!("the plot font compiled into abibench (runner/data/fonts/DejaVuSans-subset.ttf) is unreadable");
    }
    Ok(())
}

pub(super) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// One colour per mode, the same in every figure (colour-blind-safe hues, unlimited in grey-black).
pub fn mode_color(m: Mode) -> RGBColor {
    const PALETTE: [RGBColor; 9] = [
        RGBColor(0x33, 0x33, 0x33),
        RGBColor(0xd5, 0x5e, 0x00),
        RGBColor(0x8c, 0x56, 0x4b),
        RGBColor(0xe6, 0x9f, 0x00),
        RGBColor(0xcc, 0x79, 0xa7),
        RGBColor(0x00, 0x9e, 0x73),
        RGBColor(0x56, 0xb4, 0xe9),
        RGBColor(0xb8, 0xa0, 0x00),
        RGBColor(0x00, 0x72, 0xb2),
    ];
    PALETTE[Mode::ALL.iter().position(|x| *x == m).unwrap_or(0) % PALETTE.len()]
}

pub(super) const CHATTY: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
pub(super) const COMPUTE: RGBColor = RGBColor(0x00, 0x72, 0xb2);
pub(super) const GREY: RGBColor = RGBColor(0x88, 0x88, 0x88);
pub(super) const LIGHT: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

pub(super) fn text<DB: DrawingBackend>(
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

pub(super) fn rect<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    fill: &RGBColor,
) -> Drawn<DB> {
    area.draw(&Rectangle::new([from, to], fill.filled()))
}

/// A key of coloured swatches in one row: what each colour means.
pub(super) fn legend<DB: DrawingBackend>(
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
    Matrix(&'a CompatMatrix),
}

/// A figure as written: its file stem under `plots/`, title, and SVG text.
pub struct Plot {
    pub name: String,
    pub title: String,
    pub svg: String,
}

/// The figures a run has data for, in the order the page shows them.
pub fn figures<'a>(r: &'a Results, matrix: Option<&'a CompatMatrix>) -> Vec<Figure<'a>> {
    let mut v = Vec::new();
    if !stable_modes(r).is_empty() {
        v.extend([Figure::Overhead, Figure::Heatmap]);
    }
    v.extend(r.groups.iter().map(Figure::Group));
    v.extend(matrix.map(Figure::Matrix));
    v
}

pub(super) const PANEL: (u32, u32) = (440, 270);
pub(super) const PANEL_COLUMNS: usize = 3;
pub(super) const HEADER: u32 = 56;
pub(super) const LABEL_W: i32 = 250;
pub(super) const ROW_H: i32 = 20;
pub(super) const CELL_W: i32 = 60;

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
                let columns: usize = stable_modes(r).iter().map(|m| heatmap_columns(r, *m).len()).sum();
                let panels = stable_modes(r).len() as i32;
                let rows = r.groups.iter().map(|g| g.scenarios.len() + 1).sum::<usize>() as i32;
                (
                    (LABEL_W + columns as i32 * CELL_W + panels * 16 + 20) as u32,
                    (HEADER as i32 + 30 + rows * ROW_H + 90) as u32,
                )
            }
            Figure::Overhead => ((220 * stable_modes(r).len() as u32 + 160).max(700), 520),
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
        // Names and titles come from results files: a control character in one would make the
        // whole SVG invalid XML (and so no report at all). The markup itself has none.
        Ok(printable(&buf).into_owned())
    }

    /// Writes `<dir>/<name>.svg` and `.png`.
    pub fn write(&self, r: &Results, a: &Analysis, dir: &Path) -> Result<Plot> {
        let svg = self.svg(r, a)?;
        let path = dir.join(format!("{}.svg", self.name()));
        write_atomic(&path, svg.as_bytes())?;
        png(&svg, &dir.join(format!("{}.png", self.name())))?;
        Ok(Plot { name: self.name(), title: self.title(r.run.sampling.measure), svg })
    }
}

/// The label of a categorical x axis (categories at 0, 1, ...): plotters may put ticks between
/// them, which stay blank.
pub(super) fn category(names: &[String], x: f64) -> String {
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
    let png = pixmap.encode_png().with_context(|| format!("{}: cannot encode the PNG", path.display()))?;
    write_atomic(path, &png)
}

/// Runs of consecutive indices: a line is not drawn across an interpreter without a value.
pub(super) fn runs<T: Copy>(points: &[(usize, T)]) -> Vec<Vec<T>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cells::analyse;
    use crate::analysis::compat::{Compat, CompatCell};
    use crate::analysis::testdata;

    #[test]
    fn every_figure_renders_as_svg_and_png() {
        let r = testdata::results();
        let a = analyse(&r);
        let m = CompatMatrix {
            source: "m.json".into(),
            cells: vec![CompatCell { build: "abi3-py38".into(), interpreter: "3.13.0".into(), compat: Compat::Crash }],
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
