//! The pure-Rust side of abibench, free of PyO3: `kernels` are the compute work the extension
//! wraps, `chatty` the native equivalents of its chatty calls. The criterion benches in
//! `benches/native.rs` time both, giving each scenario a native floor (`abibench native`).

pub mod chatty;
pub mod kernels;
