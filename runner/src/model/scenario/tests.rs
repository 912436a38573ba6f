//! Scenario files: parsing, errors that name the file and line, filters, the shipped set.

use super::*;

const GOOD: &str = r#"
[group]
name = "containers"
title = "Containers"
kind = "chatty"

[[comparison]]
label = "fn / macro"
baseline = "a.macro"
candidate = "a.fn"

[[scenario]]
name = "a.macro"
function = "f1"
stmt = "f(x)"
setup = "x = list(range(n))"
n = 1000
native = "slice_sum"

[[scenario]]
name = "a.fn"
function = "f2"
stmt = "f(x)"
"#;

#[test]
fn parses_groups_comparisons_and_defaults() {
    let g = parse_file(Path::new("c.toml"), GOOD).unwrap();
    assert_eq!(g.name, "containers");
    assert_eq!(g.kind, Kind::Chatty);
    assert_eq!(g.scenarios.len(), 2);
    assert_eq!(g.scenarios[0].n, 1000);
    assert_eq!(g.scenarios[1].n, 1, "n defaults to 1");
    assert_eq!(g.scenarios[1].group, "containers");
    assert_eq!(g.scenarios[0].native.as_deref(), Some("slice_sum"));
    assert_eq!(g.scenarios[1].native, None, "a native floor is optional");
    assert_eq!(g.comparisons[0].candidate, "a.fn");
}

#[test]
fn a_scenario_may_ask_for_module_state_of_its_own_and_results_say_so_only_then() {
    let g = parse_file(Path::new("c.toml"), &GOOD.replace("native = \"slice_sum\"", "isolate = true")).unwrap();
    assert_eq!(g.scenarios.iter().map(|s| s.isolate).collect::<Vec<_>>(), [true, false]);
    let saved = serde_json::to_value(&g.scenarios).unwrap();
    assert_eq!(saved[0]["isolate"], true);
    assert!(saved[1].get("isolate").is_none(), "a results file without isolating scenarios is as before");
    let read: Vec<Scenario> = serde_json::from_value(saved).unwrap();
    assert_eq!(read.iter().map(|s| s.isolate).collect::<Vec<_>>(), [true, false]);
}

#[test]
fn errors_name_file_and_line() {
    let bad_ref = GOOD.replace("candidate = \"a.fn\"", "candidate = \"a.nope\"");
    let e = parse_file(Path::new("c.toml"), &bad_ref).unwrap_err().to_string();
    assert!(e.starts_with("c.toml:10:") && e.contains("a.nope"), "{e}");

    let bad_syntax = GOOD.replace("n = 1000", "n = ");
    let e = parse_file(Path::new("c.toml"), &bad_syntax).unwrap_err().to_string();
    assert!(e.contains("c.toml") && e.contains("line 17"), "{e}");

    let unknown_key = GOOD.replace("n = 1000", "loops = 1000");
    let e = parse_file(Path::new("c.toml"), &unknown_key).unwrap_err().to_string();
    assert!(e.contains("loops") && e.contains("line 17"), "{e}");

    let zero = GOOD.replace("n = 1000", "n = 0");
    let e = parse_file(Path::new("c.toml"), &zero).unwrap_err().to_string();
    assert!(e.starts_with("c.toml:17:"), "{e}");

    let bad_floor = GOOD.replace("native = \"slice_sum\"", "native = \"native/Slice Sum\"");
    let e = parse_file(Path::new("c.toml"), &bad_floor).unwrap_err().to_string();
    assert!(e.starts_with("c.toml:18:") && e.contains("native/Slice Sum"), "{e}");
}

#[test]
fn findings_name_a_comparison_of_their_file_and_tasks_keep_to_one_channel() {
    let label = "fn / macro";
    let finding = |comparison: &str, modes: &str| {
        format!("{GOOD}\n[[finding]]\nfact = \"F.\"\ncomparison = \"{comparison}\"\nmodes = [{modes}]\npythons = [\"3.8\"]\n")
    };
    let g = parse_file(Path::new("c.toml"), &finding(label, "\"abi3-py38\"")).unwrap();
    assert_eq!((g.findings[0].modes.len(), g.findings[0].pythons.clone()), (1, vec![PyVersion(3, 8)]));
    let e = parse_file(Path::new("c.toml"), &finding("nope", "\"abi3-py38\"")).unwrap_err().to_string();
    assert!(e.starts_with("c.toml:") && e.contains("'nope'"), "{e}");
    let e = parse_file(Path::new("c.toml"), &finding(label, "\"abi4\"")).unwrap_err().to_string();
    assert!(e.contains("modes") && e.contains("abi4"), "{e}");
    // A filter that drops the comparison drops its finding.
    let kept = filter(vec![g], &["*.fn".into()]).unwrap();
    assert!(kept[0].findings.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let tasked = GOOD
        .replace(
            "native = \"slice_sum\"",
            "native = \"slice_sum\"\nchannel = \"item-access\"\nlayer = \"c-api\"\ntask = \"t\"",
        )
        .replace("function = \"f2\"", "function = \"f2\"\nchannel = \"refcount\"\nlayer = \"c-api\"\ntask = \"t\"");
    std::fs::write(dir.path().join("a.toml"), tasked).unwrap();
    let e = load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("does task 't' in channel Some(Refcount)") && e.contains("'a.macro'"), "{e}");
}

#[test]
fn duplicate_names_across_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), GOOD).unwrap();
    std::fs::write(dir.path().join("b.toml"), GOOD.replace("name = \"containers\"", "name = \"other\"")).unwrap();
    let e = load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("b.toml:13: scenario a.macro") && e.contains("a.toml:13"), "{e}");
    // Twice in one file: both lines named.
    let twice = format!("{GOOD}\n[[scenario]]\nname = \"a.fn\"\nfunction = \"f3\"\nstmt = \"f()\"\n");
    std::fs::write(dir.path().join("a.toml"), twice).unwrap();
    std::fs::remove_file(dir.path().join("b.toml")).unwrap();
    let e = load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("a.toml:26: scenario a.fn is already defined at") && e.contains("a.toml:21"), "{e}");
}

#[test]
fn filter_by_scenario_or_group_glob() {
    let g = parse_file(Path::new("c.toml"), GOOD).unwrap();
    let kept = filter(vec![g.clone()], &["*.fn".into()]).unwrap();
    assert_eq!(kept[0].scenarios.len(), 1);
    assert!(kept[0].comparisons.is_empty(), "a comparison needs both sides");
    assert_eq!(filter(vec![g.clone()], &["containers".into()]).unwrap()[0].scenarios.len(), 2);
    assert!(filter(vec![g], &["zzz*".into()]).unwrap_err().to_string().contains("zzz*"));
}

#[test]
fn shipped_scenarios_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let groups = load_dir(&dir).unwrap();
    assert!(groups.iter().any(|g| g.kind == Kind::Compute));
    assert!(groups.iter().any(|g| g.kind == Kind::Chatty));
    // Every shipped scenario has a native floor, so no table has a hole in that column.
    let without: Vec<&str> =
        groups.iter().flat_map(|g| &g.scenarios).filter(|s| s.native.is_none()).map(|s| s.name.as_str()).collect();
    assert!(without.is_empty(), "scenarios without a native floor: {without:?}");
    // ... and declares its cost channel and layer, so no ratio is pooled across unlike paths.
    let undeclared: Vec<&str> = groups
        .iter()
        .flat_map(|g| &g.scenarios)
        .filter(|s| s.channel.is_none() || s.layer.is_none())
        .map(|s| s.name.as_str())
        .collect();
    assert!(undeclared.is_empty(), "scenarios without channel or layer: {undeclared:?}");
}
