//! tensorlift: Theano rebuilt in Rust.
//!
//! Declare typed symbolic tensors, build expressions with operators and a math library,
//! and compile them into functions, with shared variables updated by each call:
//!
//! ```
//! use tensorlift as tl;
//!
//! let x = tl::dvector("x");
//! let y = x.pow(2) + 1.0;
//! let f = tl::function(&[&x], &[&y]).unwrap();
//! let out = f.call1(vec![1.0, 2.0, 3.0]).unwrap();
//! assert_eq!(out.to_vec::<f64>().unwrap(), vec![2.0, 5.0, 10.0]);
//! ```
//!
//! Everything a user needs is re-exported here: the graph builders and types of
//! `tensorlift-ir`, and `function`/`Function` of `tensorlift-runtime`.
//!
//! Type errors never panic: a builder that cannot type its result returns a `Var` carrying
//! the error and the source location of the offending call; `function`, `Var::check` and
//! every later builder report it.
#![warn(missing_docs)]

pub use tensorlift_ir::*;
pub use tensorlift_ir::{args, idx};
pub use tensorlift_runtime::{
    cache_stats, clear_cache, function, num_threads, set_num_threads, verify_grad, BufferStats, CacheStats,
    Error, Function, FunctionBuilder, GradReport, Interpreter, Mode, NativeRuns, OnUnusedInput, OptConfig,
    Phase, PhaseStats, Result, RewriteTrace, Stage, TraceEntry, VerifyGradOptions, WorstElement,
    GRAPH_CAPACITY,
};

/// Process-wide settings (`floatX`).
pub mod config {
    pub use tensorlift_ir::config::{float_x, set_float_x};
}

/// The benchmark workloads W1–W9 of the design, shared by the criterion benchmarks and
/// `tensorlift bench`.
pub mod workloads;
