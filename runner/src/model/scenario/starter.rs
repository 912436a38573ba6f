//! A starter scenario file for a crate of the user's own (`abibench init`): one scenario per
//! public function and class of its module, each with a statement to replace.

use std::fmt::Write;

/// A public callable of the module: its name, whether it is a class, a line about it.
pub struct Entry<'a> {
    pub name: &'a str,
    pub class: bool,
    pub doc: &'a str,
}

/// A scenario or group name from `s`: lowercase letters, digits and `_`.
pub fn slug(s: &str) -> String {
    let out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    out.trim_matches('_').to_string()
}

fn quoted(s: &str) -> String {
    // A TOML basic string: the escapes TOML knows, so any docstring survives.
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file's text for module `module` (its import name) of crate `crate_name`.
pub fn render(crate_name: &str, module: &str, entries: &[Entry]) -> String {
    let group = slug(crate_name);
    let mut out = format!(
        "# Scenarios for {crate_name}, started by `abibench init`. Each statement is timed in every build of\n\
         # the crate, interleaved; replace each TODO with a call your users make, with realistic arguments\n\
         # (names set in `setup` are there for `stmt`; `n` counts operations per `stmt`). Give each a\n\
         # `channel` (calling-convention, call-out, item-access, refcount, header-read, string-buffer,\n\
         # compute) to see the cost by kind of call; delete what you do not want timed. The scenarios share\n\
         # the module's state (a cache one fills is there for the next): `isolate = true` gives one its own.\n\
         # The format is described in abibench's scenarios/README.md.\n\n\
         [group]\nname = {}\ntitle = {}\nkind = \"chatty\"\ndescription = \"TODO: what these calls are for\"\n",
        quoted(&group),
        quoted(&format!("{crate_name}: its calls"))
    );
    for e in entries {
        let (setup, stmt) = if e.class {
            (
                format!("import {module}\nC = {module}.{}", e.name),
                "C()  # TODO: arguments, or a method call on an instance",
            )
        } else {
            (format!("import {module}\nf = {module}.{}", e.name), "f()  # TODO: real arguments")
        };
        let _ = write!(
            out,
            "\n[[scenario]]\nname = {}\ndescription = {}\nsetup = {}\nstmt = {}\n",
            quoted(&format!("{group}_{}", slug(e.name))),
            quoted(&format!("{} {}: {}", if e.class { "class" } else { "function" }, e.name, e.doc)),
            quoted(&setup),
            quoted(stmt)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scenario::parse_file;

    #[test]
    fn a_starter_file_parses_with_one_scenario_per_callable() {
        let entries = [
            Entry { name: "uuid4", class: false, doc: "Generate a \"random\" UUID.\\" },
            Entry { name: "UUID", class: true, doc: "" },
        ];
        let text = render("uuid-utils", "uuid_utils._uuid_utils", &entries);
        let g = parse_file(std::path::Path::new("x.toml"), &text).unwrap();
        assert_eq!(g.name, "uuid_utils");
        let names: Vec<&str> = g.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["uuid_utils_uuid4", "uuid_utils_uuid"]);
        assert_eq!(g.scenarios[1].setup, "import uuid_utils._uuid_utils\nC = uuid_utils._uuid_utils.UUID");
        assert!(g.scenarios[0].description.contains("\"random\""));
        assert!(g.scenarios.iter().all(|s| s.function.is_none() && s.stmt.contains("TODO")));
    }
}
