//! What a run builds and times: abibench's own `bench-ext`, or a user's PyO3 crate (`--crate`),
//! named well enough that a report speaks of *their* extension and wheels.
//!
//! In the results and matrix files the subject is an optional object, absent for bench-ext (so
//! files from before this type read as they were written): `Subject` converts at that boundary.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::mode::Mode;
use crate::model::sampling::Isolation;
use crate::model::supported::Supported;
use crate::model::version::{PyVersion, Target, NEWEST, OLDEST};

/// The extension under test.
// One per run (and per recipe), so the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "Option<CrateInfo>", into = "Option<CrateInfo>")]
pub enum Subject {
    /// abibench's own extension: every mode, its region marker, its scenarios.
    #[default]
    BenchExt,
    /// A crate of the user's own (`--crate PATH`).
    Crate(CrateInfo),
}

/// A user's crate, as the results record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrateInfo {
    /// The cargo package.
    pub name: String,
    pub version: String,
    /// The Python distribution (pyproject's `[project] name`, else the package), as users and
    /// wheels name it.
    pub distribution: String,
    /// The import name of the extension module: `bench_ext`, `nh3`, `pkg._core`.
    pub module: String,
    /// The PyO3 version the crate resolves to.
    pub pyo3_version: String,
    /// Cargo features every build enables besides its mode's (maturin's `features`, say).
    #[serde(default)]
    pub features: Vec<String>,
    /// The crate's directory.
    pub path: PathBuf,
    pub git_revision: Option<String>,
    #[serde(default)]
    pub git_dirty: bool,
    /// The stable-ABI modes this PyO3 version offers (and abibench knows).
    pub floors: Vec<Mode>,
    /// A floor the crate's own manifest turns on in PyO3: every build of it is abi3 from there up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_floor: Option<PyVersion>,
    /// What abibench took out of the crate's manifests (in a copy) so that every mode can be
    /// built: the stable-ABI features that force that floor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unforced: Vec<String>,
    /// The Python versions the crate supports (absent in files older than this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported: Option<Supported>,
}

impl From<Option<CrateInfo>> for Subject {
    fn from(c: Option<CrateInfo>) -> Subject {
        c.map_or(Subject::BenchExt, Subject::Crate)
    }
}

impl From<Subject> for Option<CrateInfo> {
    fn from(s: Subject) -> Option<CrateInfo> {
        match s {
            Subject::BenchExt => None,
            Subject::Crate(c) => Some(c),
        }
    }
}

/// The workload the wheel plan weighs by default for a crate of the user's own: its scenarios
/// are its users' calls, each alike (`analysis::plan::STATEMENTS`).
const STATEMENTS: &str = "statements";

impl Subject {
    /// The user's crate, if this is one.
    pub fn krate(&self) -> Option<&CrateInfo> {
        match self {
            Subject::BenchExt => None,
            Subject::Crate(c) => Some(c),
        }
    }

    /// For `skip_serializing_if`: bench-ext is the absent subject.
    pub fn is_bench_ext(&self) -> bool {
        matches!(self, Subject::BenchExt)
    }

    /// The module's import name.
    pub fn module(&self) -> &str {
        match self {
            Subject::BenchExt => "bench_ext",
            Subject::Crate(c) => &c.module,
        }
    }

    /// A module inside a package gets a process per build: its package's Python code runs at
    /// import, and what it does there need not survive a second copy in one process.
    pub fn default_isolation(&self) -> Isolation {
        if self.module().contains('.') {
            Isolation::Process
        } else {
            Isolation::InProcess
        }
    }

    /// The workload the wheel plan weighs when none is given: a crate's scenarios are its
    /// users' calls, each alike; abibench's own cover every kind of call in balance.
    pub fn default_workload(&self) -> &'static str {
        match self {
            Subject::BenchExt => "balanced",
            Subject::Crate(_) => STATEMENTS,
        }
    }

    /// The modes it can be asked for: every mode for bench-ext; for a crate, unlimited and the
    /// floors its PyO3 offers from its oldest supported Python up.
    pub fn modes(&self) -> Vec<Mode> {
        match self {
            Subject::BenchExt => Mode::ALL.to_vec(),
            Subject::Crate(c) => std::iter::once(Mode::Unlimited)
                .chain(c.floors.iter().copied().filter(|m| c.below_minimum(*m).is_none()))
                .collect(),
        }
    }

    /// Why `mode` cannot be built from this source at all, if it cannot: the crate turns on a
    /// higher stable-ABI floor in PyO3 itself, and cargo features only add.
    pub fn refuses(&self, mode: Mode) -> Option<String> {
        let c = self.krate().filter(|c| c.unforced.is_empty())?;
        let forced = c.forced_floor?;
        (mode.floor().is_none_or(|f| f < forced)).then(|| {
            format!(
                "{} enables PyO3's abi3-py{}{} feature in its own Cargo.toml, so every build of it is abi3 from {forced} \
                 up; {mode} cannot be built without changing that manifest",
                c.distribution, forced.0, forced.1
            )
        })
    }

    /// ` --crate PATH`: what selects this subject again on a command line (nothing for bench-ext).
    pub fn crate_flag(&self) -> String {
        self.krate().map_or(String::new(), |c| format!(" --crate {}", c.path.display()))
    }

    /// Where its runs go unless `--out` says otherwise: results/, or results/crates/<distribution>/
    /// (so a crate's runs and abibench's own never mix, and `report --crate` finds the newest).
    pub fn results_dir(&self) -> PathBuf {
        match self {
            Subject::BenchExt => PathBuf::from("results"),
            Subject::Crate(c) => crate_results_dir(&c.distribution),
        }
    }

    /// The name of its wheel of `tag` (`cp310-abi3`): the tag alone for bench-ext, else
    /// `uuid_utils-1.2.0-cp310-abi3`.
    pub fn wheel_name(&self, tag: &str) -> String {
        match self {
            Subject::BenchExt => tag.to_string(),
            Subject::Crate(c) => format!("{}-{tag}", c.wheel_stem()),
        }
    }

    /// Which extension, precisely enough to tell two runs' apart.
    pub fn identity(&self) -> String {
        match self {
            Subject::BenchExt => "abibench's bench-ext".into(),
            Subject::Crate(c) => format!("{} at git {}", c.title(), c.git_revision.as_deref().unwrap_or("unknown")),
        }
    }

    /// The Python versions it supports, for a crate (bench-ext is built for abibench's range).
    pub fn supported(&self) -> Option<&Supported> {
        self.krate().and_then(|c| c.supported.as_ref())
    }

    /// The oldest free-threaded CPython its PyO3 builds for; `None`: none.
    pub fn free_threaded_from(&self) -> Option<PyVersion> {
        match self {
            Subject::BenchExt => Some(BENCH_EXT_FREE_THREADED_FROM),
            Subject::Crate(c) => c.supported.as_ref().and_then(|s| s.free_threaded_from),
        }
    }

    /// Why no mode of it can be built for a free-threaded CPython `version`, if none can (its
    /// PyO3 refuses it: a version-specific build, and no stable ABI before abi3t's 3.15, loads).
    pub fn refuses_free_threaded(&self, version: PyVersion) -> Option<String> {
        let pyo3 = match self {
            Subject::BenchExt => "abibench's bench-ext (PyO3 0.29)".to_string(),
            Subject::Crate(c) => format!("{} (PyO3 {})", c.distribution, c.pyo3_version),
        };
        match self.free_threaded_from() {
            Some(from) if version >= from => None,
            Some(from) => Some(format!("{pyo3} builds for no free-threaded CPython below {from}")),
            None => Some(format!("{pyo3} builds for no free-threaded CPython")),
        }
    }

    /// The Pythons a wheel plan must cover, measured or not: a crate's supported versions and
    /// their free-threaded builds its PyO3 builds for; for abibench's own extension the range
    /// abibench compares (3.8 to the newest, and the free-threaded builds its PyO3 builds for).
    pub fn plan_targets(&self) -> Vec<Target> {
        let gil = |v: &PyVersion| Target { version: *v, free_threaded: false };
        match self {
            Subject::BenchExt => (OLDEST.1..=NEWEST.1)
                .map(|m| gil(&PyVersion(3, m)))
                .chain(
                    (BENCH_EXT_FREE_THREADED_FROM.1..=NEWEST.1)
                        .map(|m| Target { version: PyVersion(3, m), free_threaded: true }),
                )
                .collect(),
            // Its free-threaded builds too, from the oldest its PyO3 builds for: an abi3 wheel
            // serves none of them, so the plan must say what does, or that they were not measured.
            Subject::Crate(_) => self.supported().map_or_else(Vec::new, |s| {
                let ft = |v: &PyVersion| Target { version: *v, free_threaded: true };
                let from = s.free_threaded_from;
                s.minors
                    .iter()
                    .map(gil)
                    .chain(s.minors.iter().filter(|v| from.is_some_and(|f| **v >= f)).map(ft))
                    .collect()
            }),
        }
    }
}

/// The oldest free-threaded CPython bench-ext's PyO3 (`=0.29.3` in bench-ext/Cargo.toml) builds
/// for: pyo3-ffi's `MIN_FREE_THREADED_VERSION` (`setup::pyo3_range` checks it stays so).
pub const BENCH_EXT_FREE_THREADED_FROM: PyVersion = PyVersion(3, 14);

impl CrateInfo {
    /// The module's own name, the last part of its import name (what `PyInit_<name>` carries).
    pub fn module_leaf(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }

    /// `jiter 0.19.0 (PyO3 0.30.1)`: how tables and reports name it, by its distribution.
    pub fn title(&self) -> String {
        format!("{} {} (PyO3 {})", self.distribution, self.version, self.pyo3_version)
    }

    /// The start of its wheels' file names: the distribution with `-` and `.` made `_` (PEP 427).
    pub fn wheel_stem(&self) -> String {
        format!("{}-{}", self.distribution.replace(['-', '.'], "_"), self.version)
    }

    /// Why stable-ABI `mode` is not built, if it is below the oldest Python the crate supports.
    pub fn below_minimum(&self, mode: Mode) -> Option<String> {
        let (floor, s) = (mode.floor()?, self.supported.as_ref()?);
        (floor < s.oldest())
            .then(|| format!("below {}'s oldest Python, {} ({})", self.distribution, s.oldest(), s.oldest_from))
    }
}

/// `results/crates/<distribution>`, the name normalised as PEP 503 does (`Foo.Bar_baz` is
/// `foo-bar-baz`), so that every spelling of one distribution finds one folder.
pub fn crate_results_dir(distribution: &str) -> PathBuf {
    PathBuf::from("results/crates").join(normalized(distribution))
}

/// PEP 503: runs of `-`, `_` and `.` become one `-`, lower case.
fn normalized(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::supported::Pyo3Range;

    fn krate() -> CrateInfo {
        CrateInfo {
            name: "core-rs".into(),
            version: "1.2.3".into(),
            distribution: "My.pkg_Name".into(),
            module: "my_pkg._core".into(),
            pyo3_version: "0.23.5".into(),
            features: Vec::new(),
            path: PathBuf::from("/src/x"),
            git_revision: None,
            git_dirty: false,
            floors: [(3, 8), (3, 9), (3, 10), (3, 11)].map(|(a, b)| Mode::Abi3(PyVersion(a, b))).to_vec(),
            forced_floor: None,
            unforced: Vec::new(),
            supported: None,
        }
    }

    #[test]
    fn a_crate_is_named_by_its_distribution_and_its_results_go_to_the_normalised_name() {
        let c = krate();
        assert_eq!(c.module_leaf(), "_core");
        assert_eq!(c.wheel_stem(), "My_pkg_Name-1.2.3");
        assert_eq!(c.title(), "My.pkg_Name 1.2.3 (PyO3 0.23.5)");
        let s = Subject::Crate(c);
        assert_eq!(s.results_dir(), PathBuf::from("results/crates/my-pkg-name"));
        assert_eq!(crate_results_dir("jiter"), PathBuf::from("results/crates/jiter"));
        assert_eq!(crate_results_dir("uuid_utils"), crate_results_dir("UUID--Utils"));
        assert_eq!(s.wheel_name("cp310-abi3"), "My_pkg_Name-1.2.3-cp310-abi3");
        assert_eq!(s.crate_flag(), " --crate /src/x");
    }

    #[test]
    fn the_subject_answers_what_the_pipeline_asks() {
        let bench = Subject::BenchExt;
        let top = Subject::Crate(CrateInfo { module: "mymod".into(), ..krate() });
        let packaged = Subject::Crate(krate());
        assert_eq!(
            [&bench, &top, &packaged].map(Subject::default_isolation),
            [Isolation::InProcess, Isolation::InProcess, Isolation::Process]
        );
        assert_eq!([&bench, &top].map(Subject::default_workload), ["balanced", "statements"]);
        assert_eq!([&bench, &packaged].map(Subject::module), ["bench_ext", "my_pkg._core"]);
        assert_eq!(bench.results_dir(), PathBuf::from("results"));
        assert_eq!((bench.wheel_name("cp38-cp38"), bench.crate_flag()), ("cp38-cp38".to_string(), String::new()));
        assert_eq!(bench.modes(), Mode::ALL.to_vec());
        assert_eq!(packaged.modes().len(), 5, "unlimited and the four floors");
        assert!(bench.supported().is_none() && bench.refuses(Mode::Unlimited).is_none());
        assert_eq!(bench.identity(), "abibench's bench-ext");
        assert_eq!(packaged.identity(), "My.pkg_Name 1.2.3 (PyO3 0.23.5) at git unknown");
    }

    #[test]
    fn floors_below_the_oldest_supported_python_are_not_modes() {
        let (oldest, newest) = (PyVersion(3, 8), Some(PyVersion(3, 13)));
        let pyo3 = Pyo3Range { oldest, newest, free_threaded_from: None, source: "PyO3".into() };
        let supported = Supported::new(Some(">=3.10"), &pyo3).unwrap();
        let c = CrateInfo { supported: Some(supported), ..krate() };
        let why = c.below_minimum(Mode::Abi3(PyVersion(3, 9))).expect("abi3-py39 is below 3.10");
        assert_eq!(why, "below My.pkg_Name's oldest Python, 3.10 (requires-python >=3.10)");
        assert!(c.below_minimum(Mode::Abi3(PyVersion(3, 10))).is_none() && c.below_minimum(Mode::Unlimited).is_none());
        let modes: Vec<String> = Subject::Crate(c).modes().into_iter().map(Mode::name).collect();
        assert_eq!(modes, ["unlimited", "abi3-py310", "abi3-py311"]);
    }

    #[test]
    fn a_crates_plan_covers_the_free_threaded_pythons_its_pyo3_builds_for() {
        let plan = |free_threaded_from| {
            let pyo3 = Pyo3Range {
                oldest: PyVersion(3, 8),
                newest: Some(PyVersion(3, 15)),
                free_threaded_from,
                source: "PyO3".into(),
            };
            let supported = Supported::new(Some(">=3.12"), &pyo3).unwrap();
            let s = Subject::Crate(CrateInfo { supported: Some(supported), ..krate() });
            s.plan_targets().iter().map(|t| t.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(plan(Some(PyVersion(3, 14))), ["3.12", "3.13", "3.14", "3.15", "3.14t", "3.15t"]);
        assert_eq!(plan(None), ["3.12", "3.13", "3.14", "3.15"], "a PyO3 that builds no free-threaded Python");
        let refused = Subject::Crate(krate());
        assert!(refused
            .refuses_free_threaded(PyVersion(3, 14))
            .is_some_and(|w| w.contains("no free-threaded CPython")));
    }

    #[test]
    fn a_forced_floor_refuses_the_modes_below_it_until_unforced() {
        let forced = CrateInfo { forced_floor: Some(PyVersion(3, 10)), ..krate() };
        let s = Subject::Crate(forced.clone());
        assert!(s.refuses(Mode::Unlimited).is_some_and(|w| w.contains("abi3-py310")));
        assert!(s.refuses(Mode::Abi3(PyVersion(3, 9))).is_some());
        assert!(s.refuses(Mode::Abi3(PyVersion(3, 10))).is_none());
        let unforced = Subject::Crate(CrateInfo { unforced: vec!["pyo3/abi3-py310".into()], ..forced });
        assert!(unforced.refuses(Mode::Unlimited).is_none());
    }

    #[test]
    fn results_files_keep_their_format_both_ways() {
        #[derive(Serialize, Deserialize)]
        struct File {
            #[serde(default, skip_serializing_if = "Subject::is_bench_ext")]
            subject: Subject,
        }
        // Absent (and null) is bench-ext; bench-ext is written as absent.
        for text in ["{}", r#"{"subject": null}"#] {
            assert_eq!(serde_json::from_str::<File>(text).unwrap().subject, Subject::BenchExt, "{text}");
        }
        assert_eq!(serde_json::to_string(&File { subject: Subject::BenchExt }).unwrap(), "{}");
        // A crate is the object it always was, and an old one (no `supported`) still reads.
        let c = krate();
        let written = serde_json::to_value(File { subject: Subject::Crate(c.clone()) }).unwrap();
        assert_eq!(written["subject"], serde_json::to_value(&c).unwrap());
        assert_eq!(written["subject"]["name"], "core-rs");
        assert!(written["subject"].get("supported").is_none());
        let old = r#"{"subject": {"name": "n", "version": "1", "distribution": "d", "module": "m",
            "pyo3_version": "0.23.5", "path": "/p", "git_revision": null, "floors": ["abi3-py38"]}}"#;
        let read = serde_json::from_str::<File>(old).unwrap().subject;
        assert!(read.krate().is_some_and(|c| c.name == "n" && c.supported.is_none()), "{read:?}");
    }
}

/// The committed reference files (abibench's own extension) read as bench-ext, and are written
/// again without a subject, as they were (files from before `Subject` was an enum read the same).
#[cfg(test)]
mod reference {
    use std::path::Path;

    use crate::model::io::read_text;
    use crate::model::matrix::Matrix;
    use crate::model::results::Results;

    /// The reference file whose name starts with `prefix` (a digit: the run; `matrix-`: the matrix).
    fn read<T: serde::de::DeserializeOwned>(prefix: &str) -> (serde_json::Value, T) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/reference");
        let path = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name().unwrap().to_string_lossy().starts_with(prefix) && p.extension().is_some_and(|x| x == "gz")
            })
            .unwrap_or_else(|| panic!("no {prefix}*.json.gz in {}", dir.display()));
        let text = read_text(&path).unwrap();
        (serde_json::from_str(&text).unwrap(), serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn the_reference_results_and_matrix_read_as_bench_ext_and_write_no_subject() {
        let (original, r): (serde_json::Value, Results) = read("2");
        assert!(r.subject.is_bench_ext() && original.get("subject").is_none());
        assert!(serde_json::to_value(&r).unwrap().get("subject").is_none());
        let (original, m): (serde_json::Value, Matrix) = read("matrix-");
        assert!(m.subject.is_bench_ext() && original.get("subject").is_none());
        assert!(serde_json::to_value(&m).unwrap().get("subject").is_none());
    }
}
