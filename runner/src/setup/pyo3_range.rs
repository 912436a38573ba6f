//! The CPython versions a crate's PyO3 builds for. PyO3 states them in pyo3-ffi's build script,
//! which refuses any other interpreter: `SUPPORTED_VERSIONS_CPYTHON { min, max }` since 0.20,
//! `MINIMUM_SUPPORTED_VERSION` alone in 0.16–0.19. abibench reads the resolved pyo3-ffi's
//! build.rs, and falls back on a table of PyO3's releases where that file cannot be read.

use std::path::Path;

use crate::model::supported::Pyo3Range;
use crate::model::version::PyVersion;

/// (PyO3 version from which, oldest CPython, newest CPython), as pyo3-ffi's build.rs says at each
/// release tag from 0.16.0 to 0.29.2, and in the 0.30.1 crate (0.20.0–0.20.2 check no maximum).
/// The last column is the oldest free-threaded CPython it builds for: none before 0.23 (which
/// refuses a build with the GIL disabled), 3.13 from 0.23, 3.14 from 0.29
/// (`MIN_FREE_THREADED_VERSION`).
type Release = ((u64, u64), PyVersion, Option<PyVersion>, Option<PyVersion>);
const RELEASES: [Release; 7] = [
    ((16, 0), PyVersion(3, 7), None, None),
    ((20, 3), PyVersion(3, 7), Some(PyVersion(3, 12)), None),
    ((22, 0), PyVersion(3, 7), Some(PyVersion(3, 13)), None),
    ((23, 0), PyVersion(3, 7), Some(PyVersion(3, 13)), Some(PyVersion(3, 13))),
    ((25, 0), PyVersion(3, 7), Some(PyVersion(3, 14)), Some(PyVersion(3, 13))),
    ((29, 0), PyVersion(3, 8), Some(PyVersion(3, 15)), Some(PyVersion(3, 14))),
    ((30, 0), PyVersion(3, 9), Some(PyVersion(3, 15)), Some(PyVersion(3, 14))),
];

/// The range of PyO3 `pyo3_version` (`0.30.1`), from `ffi_build_rs` (the resolved pyo3-ffi's
/// build.rs, of version `ffi_version`) if it can be read there, else from `RELEASES`.
pub fn pyo3_range(pyo3_version: &str, ffi_build_rs: Option<(&Path, &str)>) -> Pyo3Range {
    let read = ffi_build_rs.and_then(|(path, ffi_version)| {
        let text = std::fs::read_to_string(path).ok()?;
        let (oldest, newest) = parse_build_rs(&text)?;
        let what = if newest.is_some() { "SUPPORTED_VERSIONS_CPYTHON" } else { "MINIMUM_SUPPORTED_VERSION" };
        Some(Pyo3Range {
            oldest,
            newest,
            free_threaded_from: free_threaded_from(&text),
            source: format!("PyO3 {pyo3_version} ({what} in pyo3-ffi {ffi_version}'s build.rs)"),
        })
    });
    read.unwrap_or_else(|| {
        let part = |i: usize| pyo3_version.split('.').nth(i).and_then(|m| m.parse::<u64>().ok()).unwrap_or(0);
        let version = (part(1), part(2));
        let ((from, _), oldest, newest, free_threaded_from) =
            RELEASES.iter().rev().find(|(from, ..)| *from <= version).unwrap_or(&RELEASES[0]);
        let ((newest_known, _), ..) = RELEASES[RELEASES.len() - 1];
        let caveat = match version.0 {
            m if m > newest_known => format!("; taken as 0.{from}'s, the newest abibench knows"),
            m if m < *from => format!("; taken as 0.{from}'s, the oldest abibench knows"),
            _ => String::new(),
        };
        Pyo3Range {
            oldest: *oldest,
            newest: *newest,
            free_threaded_from: *free_threaded_from,
            source: format!("PyO3 {pyo3_version} (abibench's table of PyO3 releases{caveat})"),
        }
    })
}

/// (oldest, newest) from the text of pyo3-ffi's build.rs, whatever its layout: literal versions
/// or the names of constants holding them.
fn parse_build_rs(text: &str) -> Option<(PyVersion, Option<PyVersion>)> {
    let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(i) = code.find("SUPPORTED_VERSIONS_CPYTHON:SupportedVersions=SupportedVersions{") {
        let body = &code[i..];
        let min = version(&code, field(body, "min:")?)?;
        let max = version(&code, field(body, "max:")?)?;
        return Some((min, Some(max)));
    }
    let i = code.find("MINIMUM_SUPPORTED_VERSION:PythonVersion=")?;
    Some((version(&code, field(&code[i..], "=")?)?, None))
}

/// The oldest free-threaded CPython pyo3-ffi's build.rs (`text`) lets through: its
/// `MIN_FREE_THREADED_VERSION` (0.29 on); 3.13, the first there was, where it checks the GIL but
/// names no minimum (0.23–0.28); none where it refuses a build with the GIL disabled.
fn free_threaded_from(text: &str) -> Option<PyVersion> {
    let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match code.find("MIN_FREE_THREADED_VERSION:PythonVersion=") {
        Some(i) => version(&code, field(&code[i..], "=")?),
        None if text.contains("is_free_threaded") && !text.contains("GIL disabled") => Some(PyVersion(3, 13)),
        None => None,
    }
}

/// The expression after `key` in `text`, up to the `,`, `;` or `}` that ends it.
fn field<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let rest = &text[text.find(key)? + key.len()..];
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ',' | ';' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// `PythonVersion{major:3,minor:9}`, or the name of a `const` of that value in `code`.
fn version(code: &str, expr: &str) -> Option<PyVersion> {
    match expr.strip_prefix("PythonVersion{") {
        Some(body) => Some(PyVersion(field(body, "major:")?.parse().ok()?, field(body, "minor:")?.parse().ok()?)),
        None if expr.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            let def = format!("const{expr}:PythonVersion=");
            version(code, field(&code[code.find(&def)?..], "=")?)
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_layout_pyo3_has_used() {
        // 0.20–0.28, on one line.
        let v023 = "const SUPPORTED_VERSIONS_CPYTHON: SupportedVersions = SupportedVersions {\n    \
                    min: PythonVersion { major: 3, minor: 7 },\n    max: PythonVersion {\n        major: 3,\n        \
                    minor: 13,\n    },\n};\nconst SUPPORTED_VERSIONS_PYPY: SupportedVersions = SupportedVersions {\n    \
                    min: PythonVersion { major: 3, minor: 9 },";
        assert_eq!(parse_build_rs(v023), Some((PyVersion(3, 7), Some(PyVersion(3, 13)))));
        // 0.30: named constants, defined before.
        let v030 = "const PY_3_9: PythonVersion = PythonVersion { major: 3, minor: 9 };\nconst PY_3_15: PythonVersion = \
                    PythonVersion {\n    major: 3,\n    minor: 15,\n};\nconst SUPPORTED_VERSIONS_CPYTHON: SupportedVersions \
                    = SupportedVersions {\n    min: PY_3_9,\n    max: PY_3_15,\n};";
        assert_eq!(parse_build_rs(v030), Some((PyVersion(3, 9), Some(PyVersion(3, 15)))));
        // 0.16–0.19: a minimum only.
        let v019 = "const MINIMUM_SUPPORTED_VERSION: PythonVersion = PythonVersion { major: 3, minor: 7 };";
        assert_eq!(parse_build_rs(v019), Some((PyVersion(3, 7), None)));
        assert_eq!(parse_build_rs("fn main() {}"), None);
        assert_eq!(
            parse_build_rs(
                "const SUPPORTED_VERSIONS_CPYTHON: SupportedVersions = SupportedVersions { min: NOPE, max: NOPE };"
            ),
            None
        );
    }

    #[test]
    fn reads_the_oldest_free_threaded_python_each_line_builds_for() {
        let v029 =
            "const MIN_FREE_THREADED_VERSION: PythonVersion = PythonVersion {\n    major: 3,\n    minor: 14,\n};";
        assert_eq!(free_threaded_from(v029), Some(PyVersion(3, 14)));
        let v030 = "const PY_3_14: PythonVersion = PythonVersion { major: 3, minor: 14 };\n\
                    const MIN_FREE_THREADED_VERSION: PythonVersion = PY_3_14;";
        assert_eq!(free_threaded_from(v030), Some(PyVersion(3, 14)));
        assert_eq!(free_threaded_from("if interpreter_config.is_free_threaded() {"), Some(PyVersion(3, 13)));
        let v022 = "ensure!(!config.is_free_threaded(), \"the Python interpreter was built with the GIL disabled, \
                    which is not yet supported by PyO3\")";
        assert_eq!(free_threaded_from(v022), None);
        assert_eq!(pyo3_range("0.22.6", None).free_threaded_from, None);
        assert_eq!(pyo3_range("0.23.5", None).free_threaded_from, Some(PyVersion(3, 13)));
        assert_eq!(pyo3_range("0.29.3", None).free_threaded_from, Some(PyVersion(3, 14)));
    }

    #[test]
    fn bench_ext_is_said_to_build_for_the_free_threaded_pythons_its_pyo3_does() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../bench-ext/Cargo.toml")).unwrap();
        let line = manifest.lines().find(|l| l.starts_with("pyo3 = ")).unwrap();
        let version = line.trim_start_matches("pyo3 = ").trim_matches(|c| c == '"' || c == '=');
        let from = pyo3_range(version, None).free_threaded_from;
        assert_eq!(from, Some(crate::model::subject::BENCH_EXT_FREE_THREADED_FROM), "bench-ext's PyO3 {version}");
    }

    #[test]
    fn the_table_answers_when_build_rs_cannot_be_read() {
        let r = pyo3_range("0.23.5", Some((Path::new("/nonexistent/build.rs"), "0.23.5")));
        assert_eq!((r.oldest, r.newest), (PyVersion(3, 7), Some(PyVersion(3, 13))));
        assert_eq!(r.source, "PyO3 0.23.5 (abibench's table of PyO3 releases)");
        assert_eq!(pyo3_range("0.29.3", None).oldest, PyVersion(3, 8));
        assert_eq!(pyo3_range("0.20.2", None).newest, None, "0.20.3 was the first to check a maximum");
        assert_eq!(pyo3_range("0.20.3", None).newest, Some(PyVersion(3, 12)));
        assert_eq!(pyo3_range("0.30.1", None).oldest, PyVersion(3, 9));
        let future = pyo3_range("0.31.0", None);
        assert_eq!(future.newest, Some(PyVersion(3, 15)));
        assert!(future.source.contains("taken as 0.30's, the newest abibench knows"), "{}", future.source);
        assert!(pyo3_range("0.15.0", None).source.contains("the oldest abibench knows"));
    }

    #[test]
    fn reads_the_resolved_build_rs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("build.rs");
        std::fs::write(&file, "const SUPPORTED_VERSIONS_CPYTHON: SupportedVersions = SupportedVersions { min: PythonVersion { major: 3, minor: 8 }, max: PythonVersion { major: 3, minor: 15 } };").unwrap();
        let r = pyo3_range("0.29.3", Some((&file, "0.29.3")));
        assert_eq!((r.oldest, r.newest), (PyVersion(3, 8), Some(PyVersion(3, 15))));
        assert_eq!(r.source, "PyO3 0.29.3 (SUPPORTED_VERSIONS_CPYTHON in pyo3-ffi 0.29.3's build.rs)");
    }
}
