//! The report as one document: sections of blocks (headings, paragraphs, lists, tables,
//! figures, collapsible details, code) made of inline runs. `sections` builds it once per run
//! from the analysed data; `html`, `markdown` and `text` only walk it, so a sentence is in the
//! model or in no page. Where the pages differ, a property of the model says so: a section in
//! the appendix (Markdown moves it to a second file when too long), a figure's image files, a
//! table folded into parts for text, a cell's style and tooltip (HTML only), a list's brief form
//! (the terminal's).

/// The whole report.
#[derive(Debug)]
pub struct Document {
    /// What a browser tab shows.
    pub tab_title: String,
    pub title: String,
    pub intro: Vec<Block>,
    /// A link to the page with everything inline (the HTML), for the pages that are not it.
    pub full_page: Vec<Inline>,
    pub sections: Vec<Section>,
}

#[derive(Debug)]
pub struct Section {
    /// The anchor, for the HTML navigation and links.
    pub id: &'static str,
    pub title: String,
    /// Its entry in the HTML navigation, if it has one.
    pub nav: Option<&'static str>,
    /// Reference rather than summary (the full tables, methodology, environment): after the
    /// summary, and in a second Markdown file when both would not fit a comment.
    pub appendix: bool,
    pub blocks: Vec<Block>,
}

#[derive(Debug)]
pub enum Block {
    /// A heading inside a section (a section's own title is level 2).
    Heading {
        id: Option<&'static str>,
        text: String,
    },
    Paragraph {
        class: Option<&'static str>,
        id: Option<&'static str>,
        runs: Vec<Inline>,
    },
    List(List),
    Table(Table),
    /// A table with its caption, kept together as a figure (the headline).
    Captioned {
        id: &'static str,
        caption: String,
        table: Table,
    },
    Figure(Figure),
    /// Collapsed until opened.
    Details {
        summary: String,
        blocks: Vec<Block>,
    },
    Code {
        lang: &'static str,
        text: String,
    },
    /// Name: value pairs.
    Terms(Vec<(String, String)>),
}

#[derive(Debug)]
pub struct List {
    pub class: Option<&'static str>,
    pub items: Vec<Vec<Inline>>,
    /// The same in fewer lines, for a terminal; the items when `None`.
    pub brief: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub enum Inline {
    Text(String),
    Code(String),
    Emph(String),
    Strong(String),
    Link {
        text: String,
        href: String,
        id: Option<&'static str>,
    },
    /// A line of its own inside a table cell (a stable-ABI cell's ratio, a native floor).
    Line(Span),
    /// Where text is set in narrow columns, a line break (the next line indented); a space elsewhere.
    Break,
    /// Says what the cells' styles mean: shown only where the styles are.
    StyleKey(String),
}

/// Text with a style and a tooltip, where a page can show them.
#[derive(Debug, Clone)]
pub struct Span {
    pub text: String,
    pub class: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug)]
pub struct Table {
    pub id: Option<&'static str>,
    pub class: Option<&'static str>,
    pub header: Vec<String>,
    /// At least one; the HTML page shows a titled group as a heading row, Markdown as a
    /// heading and a table of its own.
    pub groups: Vec<RowGroup>,
    /// In text, the columns after the first `n` are dealt into parts that fit a terminal's
    /// width (the first `n` repeated in each, a label repeated from the row above blanked).
    pub fold: Option<usize>,
}

#[derive(Debug)]
pub struct RowGroup {
    pub title: Option<String>,
    pub note: Option<String>,
    pub rows: Vec<Vec<Cell>>,
    /// What explains the group's rows (why cells are empty): after the table in HTML, after
    /// the group's own table in Markdown.
    pub after: Vec<Block>,
}

#[derive(Debug)]
pub struct Cell {
    pub runs: Vec<Inline>,
    /// A row's label rather than a value.
    pub head: bool,
    pub class: Option<&'static str>,
    pub title: Option<String>,
}

#[derive(Debug)]
pub struct Figure {
    pub id: String,
    pub title: String,
    /// The image inline (HTML embeds it whole).
    pub svg: String,
    /// The image's files beside the page.
    pub svg_file: String,
    pub png_file: String,
}

impl Inline {
    pub fn text(s: impl Into<String>) -> Inline {
        Inline::Text(s.into())
    }

    /// The run's words without markup.
    pub fn plain(&self) -> &str {
        match self {
            Inline::Text(s) | Inline::Code(s) | Inline::Emph(s) | Inline::Strong(s) | Inline::StyleKey(s) => s,
            Inline::Link { text, .. } => text,
            Inline::Line(span) => &span.text,
            Inline::Break => " ",
        }
    }
}

impl Block {
    pub fn heading(text: impl Into<String>) -> Block {
        Block::Heading { id: None, text: text.into() }
    }

    pub fn note(text: impl Into<String>) -> Block {
        Block::Paragraph { class: Some("note"), id: None, runs: vec![Inline::text(text)] }
    }

    pub fn list(class: Option<&'static str>, items: impl IntoIterator<Item = String>) -> Block {
        Block::List(List::plain(class, items))
    }
}

impl List {
    /// A list of plain sentences.
    pub fn plain(class: Option<&'static str>, items: impl IntoIterator<Item = String>) -> List {
        List { class, items: items.into_iter().map(|s| vec![Inline::Text(s)]).collect(), brief: None }
    }
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell { runs: vec![Inline::text(s)], head: false, class: None, title: None }
    }
}

impl Table {
    /// A table of text with one untitled group: nothing when it has no rows.
    pub fn plain(class: &'static str, (header, rows): (Vec<String>, Vec<Vec<String>>)) -> Option<Table> {
        (!rows.is_empty()).then(|| Table {
            id: None,
            class: Some(class),
            header,
            groups: vec![RowGroup {
                title: None,
                note: None,
                rows: rows.into_iter().map(|r| r.into_iter().map(Cell::text).collect()).collect(),
                after: Vec::new(),
            }],
            fold: None,
        })
    }
}
