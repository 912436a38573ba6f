//! abibench: what does the stable ABI cost your kind of calls, on each CPython from 3.8 up?
//!
//! The crate is a pipeline in layers, each importing only those before it (`tests/architecture.rs`
//! keeps it so):
//!
//! 1. `model`: file formats, sampling types, atomic I/O, the child-process runner;
//! 2. `setup`: interpreters, provisioning, the selection, builds, audit, build flags;
//! 3. `measure`: the timing driver and worker protocol, the matrix's checks, native floors;
//! 4. `analysis`: statistics, ratios, the decision, caveats, the gate, trends;
//! 5. `export`: tables, HTML, Markdown, plots — leaves that take data and write it;
//! 6. `commands`: one module per subcommand, the only place that prints and knows clap.

// abibench measures with Linux's facilities: /proc (the CPU's identity, the machine's business,
// a process's start time), sched_setaffinity (pinning), memfd (each worker's private copies of
// the builds), process groups with a watchdog, valgrind, and Debian's packages for provisioning.
// Elsewhere it would build and then measure less than it says, so it does not build; nor on
// another architecture, whose cache line layout control does not know (`setup::align`).
#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
compile_error!(
    "abibench runs on Linux only (x86-64 and aarch64): it measures with /proc, sched_setaffinity, memfd and \
     valgrind, and aligns code to those two architectures' cache line. On macOS or Windows, run it in a Linux \
     VM or container, or on a Linux CI runner."
);

pub mod analysis;
pub mod commands;
pub mod export;
pub mod measure;
pub mod model;
pub mod setup;
