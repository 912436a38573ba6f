//! Issue 26, what reaches a terminal, an SVG or a spreadsheet: results files with empty values or
//! hostile names, escape sequences in titles and exceptions, and the width of the tables.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use abibench::model::results::Results;

use crate::common::{only_results_path, run_code};
use crate::{compare_cmd, output, scenarios, FINE};

/// ESC sequences that clear the screen and retitle the window, and a BEL.
const ESCAPES: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}";

/// A run of `fine` and `raises` on the first test interpreter, made once for the tests that
/// edit a copy of it.
fn sample() -> &'static Path {
    static SAMPLE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = SAMPLE.get_or_init(|| {
        let scen =
            scenarios(&format!("{FINE}\n[[scenario]]\nname = \"raises\"\nfunction = \"MODE\"\nstmt = \"1 / 0\"\n"));
        let out = tempfile::tempdir().unwrap();
        let (code, _, stderr) = output(compare_cmd(out.path(), scen.path(), &["--no-report"]));
        assert_eq!(code, 0, "{stderr}");
        let path = only_results_path(out.path());
        (out, path)
    });
    path
}

/// A copy of the sample run in `dir`, changed by `edit`.
fn edited(dir: &Path, edit: impl FnOnce(&mut Results)) -> PathBuf {
    let mut r = Results::read(sample()).unwrap();
    edit(&mut r);
    let path = dir.join("edited.json");
    r.write_atomic(&path).unwrap();
    path
}

/// Issue 26 case 7: an ok cell whose values are `[]` is refused by every command that reads it,
/// naming the cell, with exit 2 — no panic.
#[test]
fn case_07_empty_values_are_an_error_naming_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let empty = edited(dir.path(), |r| {
        let c = r.cells.iter_mut().find(|c| c.scenario == "fine").unwrap();
        c.processes[0].values_s.clear();
    });
    let (e, good) = (empty.to_str().unwrap(), sample().to_str().unwrap());
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let interp = &Results::read(sample()).unwrap().interpreters[0].name;
    let said = format!("cell {interp}/unlimited/fine, process 0 (layout 0): status \"ok\" but no values");
    for args in [
        vec!["show", e, "--ascii"],
        vec!["report", e, "--out", out],
        vec!["export", e, "--format", "csv", "--out", out],
        vec!["check", e, "--baseline", good],
        vec!["reproduce", e, good],
    ] {
        let (code, _, stderr) = run_code(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(&said) && stderr.contains(e) && !stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Markup, a link, a table's separator, a lone backtick and a blank line, as data might hold them.
const MARKUP: &str = "| <script>alert(1)</script> [x](javascript:alert(2)) `\n\n# not a heading";

/// Whether `text` holds a control character but newline and tab.
fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// The HTML page's elements that run code: a `<script>`, or an attribute that is a
/// `javascript:` URL (as Python's HTML parser reads the page).
fn code_in_html(page: &Path) -> String {
    let script = "import sys, html.parser\n\
                  class P(html.parser.HTMLParser):\n    \
                  def handle_starttag(self, tag, attrs):\n        \
                  if tag == 'script' or any((v or '').strip().lower().startswith('javascript:') for _, v in attrs):\n            \
                  print(tag, attrs)\n\
                  P().feed(open(sys.argv[1]).read())";
    let out = Command::new("python3").args(["-c", script]).arg(page).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// What a CommonMark parser (GitHub's Markdown is CommonMark) reads in `md` as markup the data
/// could have made: raw HTML but the pages' own `<details>` wrappers, and `javascript:` links.
fn markup_in_markdown(md: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag};
    let own = |h: &str| (h.starts_with("<details><summary>") && !h.contains("<script")) || h.trim() == "</details>";
    let mut found = Vec::new();
    for event in Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) if !own(&h) => found.push(format!("HTML {h:?}")),
            Event::Start(Tag::Link { dest_url, .. }) if dest_url.to_lowercase().contains("javascript:") => {
                found.push(format!("link to {dest_url}"))
            }
            _ => {}
        }
    }
    found
}

/// The `|` that separate cells in a Markdown table row (not those after a backslash). A parser
/// would not tell: GitHub drops the cells a row has beyond its header's.
fn cell_bars(row: &str) -> usize {
    let (mut bars, mut escaped) = (0, false);
    for c in row.chars() {
        bars += usize::from(c == '|' && !escaped);
        escaped = c == '\\' && !escaped;
    }
    bars
}

/// Issue 26 case 8: control characters, markup, a link, `|` and a blank line in a group title, an
/// interpreter's name and an error message: the report is written, every SVG plot is well-formed
/// XML showing the characters instead of holding them, the HTML page runs nothing of the data's,
/// and the Markdown page's tables keep their columns and its text stays text.
#[test]
fn case_08_hostile_names_keep_the_svg_valid_and_the_pages_inert() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = edited(dir.path(), |r| {
        let old = r.interpreters[0].name.clone();
        let name = format!("{old}\u{1b}[31m{MARKUP}");
        r.interpreters[0].name = name.clone();
        r.cells.iter_mut().filter(|c| c.interpreter == old).for_each(|c| c.interpreter = name.clone());
        r.groups[0].title = format!("Faults {ESCAPES}{MARKUP}");
        let raised = r.cells.iter_mut().find(|c| c.scenario == "raises").unwrap();
        raised.reason = Some(format!("ValueError: {ESCAPES}{MARKUP}"));
    });
    let out = dir.path().join("report");
    let (code, _, stderr) = run_code(&["report", hostile.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let svgs: Vec<PathBuf> = std::fs::read_dir(out.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    assert!(!svgs.is_empty());
    for svg in &svgs {
        let parsed = Command::new("python3")
            .args(["-c", "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])"])
            .arg(svg)
            .output()
            .unwrap();
        assert!(parsed.status.success(), "{}: {}", svg.display(), String::from_utf8_lossy(&parsed.stderr));
        assert!(!std::fs::read_to_string(svg).unwrap().contains('\u{1b}'), "{}", svg.display());
    }
    assert!(svgs.iter().any(|s| std::fs::read_to_string(s).unwrap().contains("Faults \u{241b}[2J")), "shown");

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!has_controls(&html) && html.contains("ValueError: \u{241b}[2J"), "control characters in the HTML");
    assert_eq!(code_in_html(&out.join("report.html")), "", "the data's code in the HTML");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!has_controls(&md) && md.contains("ValueError: \u{241b}[2J"), "control characters in the Markdown");
    assert_eq!(markup_in_markdown(&md), Vec::<String>::new(), "the data's markup in the Markdown");
    assert!(!md.lines().any(|l| l.trim_start().starts_with("# not a heading")), "a heading from the data");
    let tables: Vec<&str> = md.split("\n\n").filter(|b| b.starts_with('|')).collect();
    assert!(!tables.is_empty(), "the Markdown has tables");
    for table in tables {
        let head = cell_bars(table.lines().next().unwrap());
        for row in table.lines() {
            assert!(row.starts_with('|') && cell_bars(row) == head, "a broken row: {row}\nin\n{table}");
        }
    }
}

/// Issue 26 case 9: escape sequences in a group title, an exception message and a scenario's
/// interpreter label reach the terminal as visible text, from `compare` and from `show`.
#[test]
fn case_09_escape_sequences_reach_the_terminal_as_text() {
    // Python's escapes, in a TOML literal string: the worker raises the real characters.
    let raises = r#"stmt = '''raise ValueError('\x1b[2J\x1b]0;pwned\x07')'''"#;
    let scen = scenarios(&format!("{FINE}\n[[scenario]]\nname = \"raises\"\nfunction = \"MODE\"\n{raises}\n"));
    let toml = scen.path().join("faults.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace("title = \"Faults\"", "title = \"Faults \\u001b[2J\"");
    std::fs::write(&toml, text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = output(compare_cmd(out.path(), scen.path(), &["--no-report"]));
    assert_eq!(code, 0, "{stderr}");
    let (_, shown, show_err) = run_code(&["show", only_results_path(out.path()).to_str().unwrap(), "--ascii"]);
    for (what, text) in
        [("compare stdout", &stdout), ("compare stderr", &stderr), ("show", &shown), ("show stderr", &show_err)]
    {
        assert!(!text.contains(['\u{1b}', '\u{7}']), "{what}: {text:?}");
    }
    for text in [&stdout, &shown] {
        assert!(
            text.contains("Faults \u{241b}[2J") && text.contains("ValueError: \u{241b}[2J\u{241b}]0;pwned\u{2407}"),
            "{text}"
        );
    }
}

/// Issue 26 case 10: names that start like a formula reach a spreadsheet as text (OWASP's rule:
/// a leading `'`), control characters shown.
#[test]
fn case_10_csv_names_never_start_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(1)", "\tx", "ok\u{1b}[2J"];
    let hostile = edited(dir.path(), |r| {
        let cells = r.cells.clone();
        r.cells = names
            .iter()
            .map(|n| {
                let mut c = cells[0].clone();
                c.scenario = n.to_string();
                c
            })
            .collect();
    });
    let out = dir.path().join("csv");
    let (code, _, stderr) =
        run_code(&["export", hostile.to_str().unwrap(), "--format", "csv", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let read = Command::new("python3")
        .args([
            "-c",
            "import csv, sys; [print(repr(row['scenario'])) for row in csv.DictReader(open(sys.argv[1], newline=''))]",
        ])
        .arg(out.join("cells.csv"))
        .output()
        .unwrap();
    let cells = String::from_utf8(read.stdout).unwrap();
    assert_eq!(
        cells.lines().collect::<Vec<_>>(),
        ["'\\'=HYPERLINK(\"http://x\",\"y\")'", "\"'+1+1\"", "\"'-2+3\"", "\"'@SUM(1)\"", "\"'\\tx\"", "'ok␛[2J'"],
        "{cells}"
    );
}

/// The in-build comparison tables of the reference run kept to 120 columns in bytes as well as in
/// characters under `--ascii` (they took 127 bytes: ±, × and — are two or three each).
#[test]
fn tables_keep_within_120_columns() {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/reference");
    let file = std::fs::read_dir(&reference)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().ends_with(".json.gz") && !p.to_string_lossy().contains("matrix")
        })
        .unwrap();
    let (code, stdout, stderr) = run_code(&["show", file.to_str().unwrap(), "--ascii"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("comparison"), "the in-build comparisons are shown");
    for line in stdout.lines() {
        assert!(line.len() <= 120, "{} bytes: {line}", line.len());
    }
}
