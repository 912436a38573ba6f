//! Stable-ABI audit of a built extension module.
//!
//! An extension built for the limited API with floor 3.X must only link
//! against symbols of CPython's Stable ABI that exist since 3.X. This module
//! lists the Python symbols a shared object *imports* (undefined entries of
//! its ELF `.dynsym` whose names start with `Py` or `_Py`: functions and data
//! such as `_Py_NoneStruct` or `PyExc_TypeError`) and checks each one against
//! the Stable ABI symbol list embedded from `runner/data/stable_abi.json`
//! (every `[function.*]` / `[data.*]` item of CPython's `Misc/stable_abi.toml`,
//! `abi_only` ones included; regenerate with `scripts/update-stable-abi.py`).
//!
//! The audit sees symbols only. It cannot see an extension that depends on
//! struct layouts (field accesses compiled inline, e.g. unlimited-API
//! refcounting or `tp_flags` reads), so passing it is necessary, not
//! sufficient, for a build to really be stable-ABI. Symbols guarded by an
//! `ifdef` in the source (`MS_WINDOWS`, `Py_REF_DEBUG`, ...) count as stable.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{bail, ensure, Context, Result};
use object::{Object, ObjectKind, ObjectSymbol};
use serde::Deserialize;

use crate::model::build::Audit;

/// The embedded Stable ABI symbol list (see the module docs).
const STABLE_ABI_JSON: &str = include_str!("../../data/stable_abi.json");

/// The Stable ABI's linkable symbols, each with the CPython version
/// (major, minor) in which it was added.
#[derive(Debug)]
pub struct StableAbi {
    source: String,
    added: HashMap<String, (u8, u8)>,
}

#[derive(Deserialize)]
struct RawData {
    source: String,
    retrieved: String,
    symbols: Vec<RawSymbol>,
}

#[derive(Deserialize)]
struct RawSymbol {
    name: String,
    kind: String,
    added: String,
}

impl StableAbi {
    /// The symbol list embedded in the binary, parsed on first use.
    pub fn embedded() -> &'static StableAbi {
        static ABI: OnceLock<StableAbi> = OnceLock::new();
        ABI.get_or_init(|| StableAbi::parse(STABLE_ABI_JSON).expect("embedded runner/data/stable_abi.json is valid"))
    }

    fn parse(json: &str) -> Result<StableAbi> {
        let raw: RawData = serde_json::from_str(json).context("parsing stable ABI data")?;
        let mut added = HashMap::with_capacity(raw.symbols.len());
        for sym in raw.symbols {
            ensure!(
                sym.kind == "function" || sym.kind == "data",
                "stable ABI data: {}: unexpected kind {:?}",
                sym.name,
                sym.kind
            );
            let version = parse_version(&sym.added).with_context(|| format!("stable ABI data: {}", sym.name))?;
            if added.insert(sym.name.clone(), version).is_some() {
                bail!("stable ABI data: duplicate symbol {}", sym.name);
            }
        }
        ensure!(!added.is_empty(), "stable ABI data: no symbols");
        Ok(StableAbi { source: format!("{}, retrieved {}", raw.source, raw.retrieved), added })
    }

    /// The version in which `name` joined the Stable ABI, or `None` if it is
    /// not part of it.
    pub fn added_in(&self, name: &str) -> Option<(u8, u8)> {
        self.added.get(name).copied()
    }

    /// Where the data comes from, e.g. "CPython Misc/stable_abi.toml (main)
    /// via abi3info 2026.9.25, retrieved 2026-11-20".
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Parses "3.10" into (3, 10).
fn parse_version(s: &str) -> Result<(u8, u8)> {
    let (major, minor) = s.split_once('.').with_context(|| format!("bad version {s:?}"))?;
    let major = major.parse().with_context(|| format!("bad version {s:?}"))?;
    let minor = minor.parse().with_context(|| format!("bad version {s:?}"))?;
    Ok((major, minor))
}

/// Whether an imported symbol name belongs to the CPython C API.
fn is_python_symbol(name: &str) -> bool {
    name.starts_with("Py") || name.starts_with("_Py")
}

/// The Python symbols (`Py*`, `_Py*`) that the ELF shared object `so`
/// imports, i.e. the undefined entries of its dynamic symbol table; sorted
/// and deduplicated.
pub fn imported_python_symbols(so: &Path) -> Result<Vec<String>> {
    let data = std::fs::read(so).with_context(|| format!("reading {}", so.display()))?;
    let file = object::File::parse(&*data).with_context(|| format!("{}: not an ELF object file", so.display()))?;
    ensure!(
        file.kind() == ObjectKind::Dynamic,
        "{}: not a shared object (object kind {:?})",
        so.display(),
        file.kind()
    );
    let mut names = Vec::new();
    for sym in file.dynamic_symbols() {
        if !sym.is_undefined() {
            continue;
        }
        let name = sym.name().with_context(|| format!("{}: reading a dynamic symbol name", so.display()))?;
        if is_python_symbol(name) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The module entry points the shared object `so` exports (`PyInit_<name>`, and PEP 793's
/// `PyModExport_<name>`): the import system finds a module only under one of these names.
pub fn module_entry_points(so: &Path) -> Result<Vec<String>> {
    let data = std::fs::read(so).with_context(|| format!("reading {}", so.display()))?;
    let file = object::File::parse(&*data).with_context(|| format!("{}: not an ELF object file", so.display()))?;
    let mut names: Vec<String> = file
        .dynamic_symbols()
        .filter(|s| !s.is_undefined())
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| n.starts_with("PyInit_") || n.starts_with("PyModExport_"))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Audits the Python symbols imported by the shared object `so` against the
/// embedded Stable ABI for limited-API version `floor`.
///
/// Fails (rather than passing vacuously) if `so` imports no Python symbol,
/// as that is not a CPython extension module.
pub fn audit(so: &Path, floor: (u8, u8)) -> Result<Audit> {
    let names = imported_python_symbols(so)?;
    ensure!(!names.is_empty(), "{}: imports no Py*/_Py* symbols; not a CPython extension?", so.display());
    Ok(audit_symbols(&names, floor))
}

/// Audits a list of symbol names (duplicates allowed) against the embedded
/// Stable ABI for limited-API version `floor`. Outputs are sorted by name.
pub fn audit_symbols<S: AsRef<str>>(names: &[S], floor: (u8, u8)) -> Audit {
    let abi = StableAbi::embedded();
    let mut names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    names.sort_unstable();
    names.dedup();
    let mut not_stable = Vec::new();
    let mut too_new = Vec::new();
    for &name in &names {
        match abi.added_in(name) {
            None => not_stable.push(name.to_owned()),
            Some(added) if added > floor => too_new.push((name.to_owned(), added)),
            Some(_) => {}
        }
    }
    Audit { floor, checked: names.len(), not_stable, too_new }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        let abi = StableAbi::embedded();
        assert!(abi.added.len() > 900, "only {} symbols", abi.added.len());
        assert!(abi.source().contains("stable_abi.toml"), "{}", abi.source());
        assert!(abi.source().contains("retrieved"), "{}", abi.source());
        // The data covers 3.15 (abi3t's first version).
        assert!(abi.added.values().any(|&v| v == (3, 15)));
    }

    #[test]
    fn known_entries() {
        let abi = StableAbi::embedded();
        for (name, added) in [
            ("PyList_GetItem", (3, 2)),
            ("PyModuleDef_Init", (3, 5)),
            ("PyUnicode_AsUTF8AndSize", (3, 10)),
            ("PyObject_GetBuffer", (3, 11)),
            ("PyBuffer_Release", (3, 11)),
            ("PyObject_Vectorcall", (3, 12)),
            ("Py_TYPE", (3, 14)),
            ("Py_SIZE", (3, 15)),
            ("PyCriticalSection_Begin", (3, 15)),
            // Refcounting: the functions exist since 3.2; the abi_only
            // underscore variants (used by Py_INCREF in limited builds) since 3.10.
            ("Py_IncRef", (3, 2)),
            ("Py_DecRef", (3, 2)),
            ("_Py_IncRef", (3, 10)),
            ("_Py_DecRef", (3, 10)),
            // abi_only functions and data symbols are included.
            ("_Py_Dealloc", (3, 2)),
            ("_Py_NoneStruct", (3, 2)),
            ("PyExc_TypeError", (3, 2)),
            ("PyList_Type", (3, 2)),
        ] {
            assert_eq!(abi.added_in(name), Some(added), "{name}");
        }
        for name in ["_PyObject_MakeTpCall", "_Py_CheckFunctionResult", "PyTuple_GET_ITEM", "Py_INCREF", ""] {
            assert_eq!(abi.added_in(name), None, "{name}");
        }
    }

    #[test]
    fn parse_rejects_bad_data() {
        let ok = r#"{"source": "s", "retrieved": "d", "symbols": [
            {"name": "PyA", "kind": "function", "added": "3.2", "abi_only": false, "ifdef": null}]}"#;
        let abi = StableAbi::parse(ok).unwrap();
        assert_eq!(abi.added_in("PyA"), Some((3, 2)));
        assert_eq!(abi.source(), "s, retrieved d");
        for bad in [
            r#"{"source": "s", "retrieved": "d", "symbols": []}"#,
            r#"{"source": "s", "retrieved": "d", "symbols": [{"name": "PyA", "kind": "macro", "added": "3.2"}]}"#,
            r#"{"source": "s", "retrieved": "d", "symbols": [{"name": "PyA", "kind": "data", "added": "3"}]}"#,
            r#"{"source": "s", "retrieved": "d", "symbols": [{"name": "PyA", "kind": "data", "added": "3.x"}]}"#,
            r#"{"source": "s", "retrieved": "d", "symbols": [
                {"name": "PyA", "kind": "data", "added": "3.2"}, {"name": "PyA", "kind": "function", "added": "3.3"}]}"#,
            r#"{"symbols": []}"#,
        ] {
            assert!(StableAbi::parse(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("3.2").unwrap(), (3, 2));
        assert_eq!(parse_version("3.15").unwrap(), (3, 15));
        assert!(parse_version("3").is_err());
        assert!(parse_version("3.1.2").is_err());
        assert!(parse_version("3.256").is_err());
    }

    #[test]
    fn python_symbol_filter() {
        for yes in ["PyList_New", "_Py_Dealloc", "_Py_NoneStruct", "PyExc_TypeError", "Py_IncRef"] {
            assert!(is_python_symbol(yes), "{yes}");
        }
        for no in ["__cxa_finalize", "malloc", "_ITM_registerTMCloneTable", "__Py_x", "py_thing"] {
            assert!(!is_python_symbol(no), "{no}");
        }
    }

    /// The Python imports of PyO3 0.29.3's minimal extension, built with
    /// abi3-py38 (abi3) and without (unlimited API, against 3.8).
    const ABI3_PY38: &[&str] = &[
        "PyBytes_AsString",
        "PyBytes_Size",
        "PyCFunction_NewEx",
        "PyErr_Fetch",
        "PyErr_GivenExceptionMatches",
        "PyErr_NewExceptionWithDoc",
        "PyErr_NormalizeException",
        "PyErr_PrintEx",
        "PyErr_Restore",
        "PyErr_SetObject",
        "PyErr_SetString",
        "PyErr_WriteUnraisable",
        "PyEval_RestoreThread",
        "PyEval_SaveThread",
        "PyExc_AttributeError",
        "PyExc_BaseException",
        "PyExc_SystemError",
        "PyExc_TypeError",
        "PyGILState_Ensure",
        "PyGILState_Release",
        "PyImport_Import",
        "PyList_Append",
        "PyList_New",
        "PyList_Type",
        "PyModuleDef_Init",
        "PyModule_GetNameObject",
        "PyModule_Type",
        "PyObject_CallObject",
        "PyObject_GetAttr",
        "PyObject_Repr",
        "PyObject_SetAttr",
        "PyObject_Str",
        "PyTraceBack_Print",
        "PyTuple_GetItem",
        "PyTuple_New",
        "PyTuple_SetItem",
        "PyTuple_Size",
        "PyTuple_Type",
        "PyType_GetFlags",
        "PyType_IsSubtype",
        "PyType_Type",
        "PyUnicode_AsEncodedString",
        "PyUnicode_AsUTF8String",
        "PyUnicode_FromStringAndSize",
        "PyUnicode_InternInPlace",
        "PyUnicode_Type",
        "Py_DecRef",
        "Py_IncRef",
        "Py_IsInitialized",
        "_Py_NoneStruct",
    ];
    const UNLIMITED_PY38: &[&str] = &[
        "PyCFunction_NewEx",
        "PyErr_Fetch",
        "PyErr_GivenExceptionMatches",
        "PyErr_NewExceptionWithDoc",
        "PyErr_NormalizeException",
        "PyErr_PrintEx",
        "PyErr_Restore",
        "PyErr_SetObject",
        "PyErr_SetString",
        "PyErr_WriteUnraisable",
        "PyEval_RestoreThread",
        "PyEval_SaveThread",
        "PyExc_AttributeError",
        "PyExc_BaseException",
        "PyExc_SystemError",
        "PyExc_TypeError",
        "PyGILState_Ensure",
        "PyGILState_Release",
        "PyImport_Import",
        "PyList_Append",
        "PyList_New",
        "PyList_Type",
        "PyModuleDef_Init",
        "PyModule_GetNameObject",
        "PyModule_Type",
        "PyObject_CallObject",
        "PyObject_GetAttr",
        "PyObject_Repr",
        "PyObject_SetAttr",
        "PyObject_Str",
        "PyTraceBack_Print",
        "PyTuple_New",
        "PyTuple_Type",
        "PyType_IsSubtype",
        "PyType_Type",
        "PyUnicode_AsEncodedString",
        "PyUnicode_AsUTF8AndSize",
        "PyUnicode_FromStringAndSize",
        "PyUnicode_InternInPlace",
        "PyUnicode_Type",
        "Py_IsInitialized",
        "_Py_Dealloc",
        "_Py_NoneStruct",
    ];

    #[test]
    fn abi3_build_passes() {
        let a = audit_symbols(ABI3_PY38, (3, 8));
        assert!(a.passed(), "{a:?}");
        assert_eq!(a.checked, ABI3_PY38.len());
    }

    #[test]
    fn unlimited_build_fails_at_its_floor() {
        let a = audit_symbols(UNLIMITED_PY38, (3, 8));
        assert!(!a.passed());
        assert!(a.not_stable.is_empty(), "{a:?}");
        assert_eq!(a.too_new, vec![("PyUnicode_AsUTF8AndSize".to_owned(), (3, 10))]);
        // Symbol-wise this tiny build happens to be fine for a 3.10 floor:
        // the audit cannot see its struct-layout dependence (see module docs).
        assert!(audit_symbols(UNLIMITED_PY38, (3, 10)).passed());
    }

    #[test]
    fn flags_private_and_too_new_symbols() {
        let names = [
            "PyObject_Vectorcall",
            "_PyObject_MakeTpCall",
            "Py_TYPE",
            "PyList_GetItem",
            "_Py_CheckFunctionResult",
            "Py_TYPE",
            "PyObject_GetBuffer",
        ];
        let a = audit_symbols(&names, (3, 8));
        assert_eq!(a.floor, (3, 8));
        assert_eq!(a.checked, 6, "duplicates count once");
        assert_eq!(a.not_stable, ["_PyObject_MakeTpCall", "_Py_CheckFunctionResult"]);
        assert_eq!(
            a.too_new,
            vec![
                ("PyObject_GetBuffer".to_owned(), (3, 11)),
                ("PyObject_Vectorcall".to_owned(), (3, 12)),
                ("Py_TYPE".to_owned(), (3, 14)),
            ]
        );
        let a = audit_symbols(&names, (3, 15));
        assert!(a.too_new.is_empty());
        assert!(!a.passed(), "private symbols fail at every floor");
        // Boundaries: added == floor is fine, one minor version earlier is not.
        assert!(audit_symbols(&["Py_TYPE"], (3, 14)).passed());
        assert!(!audit_symbols(&["Py_TYPE"], (3, 13)).passed());
        assert!(audit_symbols::<&str>(&[], (3, 8)).passed());
    }

    #[test]
    fn audit_serializes() {
        let a = audit_symbols(&["PyUnicode_AsUTF8AndSize", "_PyObject_MakeTpCall"], (3, 8));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "floor": [3, 8],
                "checked": 2,
                "not_stable": ["_PyObject_MakeTpCall"],
                "too_new": [["PyUnicode_AsUTF8AndSize", [3, 10]]],
            })
        );
    }

    #[test]
    fn reads_elf_dynamic_symbols() {
        // The test binary is an ELF PIE (a "shared object" to `object`) that
        // imports no Python symbols: listing works and finds none, and the
        // audit refuses it instead of passing it.
        let exe = std::env::current_exe().unwrap();
        assert_eq!(imported_python_symbols(&exe).unwrap(), Vec::<String>::new());
        assert!(audit(&exe, (3, 8)).is_err());

        let dir = tempfile::tempdir().unwrap();
        let not_elf = dir.path().join("x.so");
        std::fs::write(&not_elf, b"not an object file").unwrap();
        assert!(imported_python_symbols(&not_elf).is_err());
        assert!(imported_python_symbols(&dir.path().join("missing.so")).is_err());
    }
}
