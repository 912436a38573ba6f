//! The C API calls a build makes, from callgrind's profile parts: each part is one region (the
//! worker's counted loop), and its call edges (`cob=`/`cfn=`/`calls=` lines under the caller's
//! `ob=`/`fn=`) say how often each function of one object called each function of another.
//! Format: <https://valgrind.org/docs/manual/cl-format.html>.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// The calls a build made into the interpreter in `loops` iterations of a scenario's statement:
/// those of the 2L region less those of the L region, so the region's own call and the loop's
/// set-up cancel as they do for instruction counts. Functions whose count is the same in both
/// regions are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calls {
    pub loops: u64,
    pub counts: BTreeMap<String, i64>,
}

impl Calls {
    /// From the L and 2L regions' parts, calls made by functions of `caller` (an object as
    /// callgrind names it: the build's real path) into the interpreter.
    pub fn of_pair(loops: u64, short: &str, long: &str, caller: &str) -> Calls {
        let mut counts: BTreeMap<String, i64> =
            calls_into_python(long, caller).into_iter().map(|(f, n)| (f, n as i64)).collect();
        for (f, n) in calls_into_python(short, caller) {
            *counts.entry(f).or_default() -= n as i64;
        }
        counts.retain(|_, n| *n != 0);
        Calls { loops, counts }
    }
}

/// Whether an object is the interpreter: libpython, or the python executable that has it linked
/// in statically.
fn is_python(object: &str) -> bool {
    let base = object.rsplit('/').next().unwrap_or(object);
    base.starts_with("libpython") || (base.starts_with("python") && !base.contains(".so"))
}

/// `(id) name`, `(id)` or `name`: callgrind's compressed names, each defined at its first use in
/// a part (every part defines its own).
fn name<'a>(value: &'a str, names: &mut HashMap<&'a str, &'a str>) -> &'a str {
    let Some(rest) = value.strip_prefix('(') else { return value };
    let Some((id, tail)) = rest.split_once(')') else { return value };
    match tail.strip_prefix(' ') {
        Some(full) => {
            names.insert(id, full);
            full
        }
        None => names.get(id).copied().unwrap_or(value),
    }
}

/// Calls per function from functions of `caller` into the interpreter, in one part. A call's
/// callee lies in the caller's object unless a `cob=` line precedes its `cfn=`; recursion levels
/// (`f'2`) are one function.
pub fn calls_into_python(part: &str, caller: &str) -> BTreeMap<String, u64> {
    let (mut objects, mut functions) = (HashMap::new(), HashMap::new());
    let (mut ob, mut cob, mut cfn): (&str, Option<&str>, &str) = ("", None, "");
    let mut out = BTreeMap::new();
    for line in part.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        match key {
            "ob" => ob = name(value, &mut objects),
            "cob" => cob = Some(name(value, &mut objects)),
            // fn and cfn share one table of names.
            "fn" => {
                name(value, &mut functions);
            }
            "cfn" => cfn = name(value, &mut functions),
            "calls" => {
                let n: u64 = value.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
                if ob == caller && is_python(cob.unwrap_or(ob)) {
                    let f = cfn.rsplit_once('\'').filter(|(_, r)| r.parse::<u32>().is_ok()).map_or(cfn, |(f, _)| f);
                    *out.entry(f.to_string()).or_default() += n;
                }
                cob = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXT: &str = "/cache/abi3-py310/uuid_utils/_uuid_utils.abi3.so";

    /// A part as callgrind writes it (names compressed, callee objects given only where they
    /// differ): `getter` in the extension calls into libpython `rounds` times per function, into
    /// its own object and libc, and libpython calls itself.
    fn part(rounds: u64) -> String {
        format!(
            "# callgrind format\nevents: Ir\n\nob=(1) {EXT}\nfl=(1) src/lib.rs\nfn=(1) getter\n\
             cob=(2) /opt/py/lib/libpython3.12.so.1.0\ncfi=(2) Objects/abstract.c\ncfn=(2) PyNumber_Lshift\n\
             calls={rounds} 12\n5 100\ncob=(2)\ncfn=(3) PyNumber_Or\ncalls={rounds} 13\n* 90\n\
             cfn=(4) helper\ncalls=7 3\n* 9\ncob=(3) /usr/lib/libc.so.6\ncfn=(5) memcpy\ncalls=4 1\n* 8\n\
             cob=(2)\ncfn=(6) PyNumber_Or'2\ncalls=1 13\n* 90\n\n\
             ob=(2)\nfn=(2)\ncfn=(7) binary_op1\ncalls=5 1\n* 50\n\n\
             ob=(4) /opt/py/bin/python3.12\nfn=(8) main\ncob=(1)\ncfn=(1)\ncalls=1 0\n* 1000\n\
             totals: 1234\n"
        )
    }

    #[test]
    fn only_the_callers_calls_into_the_interpreter_count() {
        let calls = calls_into_python(&part(2), EXT);
        let expected: BTreeMap<String, u64> = [("PyNumber_Lshift".into(), 2), ("PyNumber_Or".into(), 3)].into();
        assert_eq!(calls, expected);
        // Another object's calls are not the build's.
        assert!(calls_into_python(&part(2), "/cache/unlimited/other.so").is_empty());
    }

    #[test]
    fn a_pair_keeps_what_the_extra_loops_called() {
        let calls = Calls::of_pair(4, &part(2), &part(6), EXT);
        let expected: BTreeMap<String, i64> = [("PyNumber_Lshift".into(), 4), ("PyNumber_Or".into(), 4)].into();
        assert_eq!(calls, Calls { loops: 4, counts: expected });
        assert!(Calls::of_pair(4, &part(2), &part(2), EXT).counts.is_empty());
    }

    #[test]
    fn the_python_executable_is_the_interpreter_too() {
        assert!(is_python("/opt/py/bin/python3.12") && is_python("/usr/lib/libpython3.11.so.1.0"));
        assert!(!is_python("/cache/unlimited/bench_ext.cpython-312-x86_64-linux-gnu.so") && !is_python("???"));
        // An extension module is not the interpreter, whatever its name.
        assert!(!is_python("/site-packages/python_ext.cpython-312-x86_64-linux-gnu.so"));
    }

    #[test]
    fn a_cell_keeps_its_calls_and_a_file_older_than_them_has_none() {
        use crate::model::mode::Mode;
        use crate::model::results::Cell;
        let mut c = Cell::pending("3.12.1", Mode::Unlimited, "s", 1);
        let plain = serde_json::to_value(&c).unwrap();
        assert!(plain.get("calls").is_none(), "{plain}");
        assert_eq!(serde_json::from_value::<Cell>(plain).unwrap().calls, None);
        c.calls = Some(Calls::of_pair(4, &part(2), &part(6), EXT));
        let back: Cell = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back.calls, c.calls);
    }
}
