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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use tensorlift_ir::*;
pub use tensorlift_ir::{args, idx};

/// Parses an expression in Python/Theano spelling over the given variables (known by their
/// names): `tl::parse("1/(1+T.exp(-x))", &[&x])?` is the sigmoid of `x`, built and
/// type-checked by the same builders as Rust code; a syntax, name or type error is a
/// `BuildError` whose message points at the offending part. The language is the `tensorlift`
/// command's: operators, indexing and slicing, `x.T`, `x.shape`, the math library and
/// reductions under their `theano.tensor` names (with or without `T.`), keyword arguments
/// (`sum(x, axis=1, keepdims=True)`).
pub use tensorlift_expr::parse_expr as parse;
pub use tensorlift_runtime::{
    cache_stats, clear_cache, function, num_threads, set_num_threads, verify_grad, BufferStats, CacheStats,
    Caller, Error, Function, FunctionBuilder, GradReport, Mode, NativeRuns, OnUnusedInput, OptConfig, Phase,
    PhaseStats, Result, RewriteTrace, Stage, TraceEntry, VerifyGradOptions, WorstElement,
};

/// The ndarray crate tensorlift is built on (0.17): use `tl::ndarray` to build arrays that
/// convert into `Tensor`s, so the two always agree on the version.
pub use ndarray;

// Internals: public for the other crates of the workspace, the benchmarks and tests, but no
// part of the user's API (their own crates document them). These names shadow the glob
// re-export above, so the crate root lists only what a user needs.
#[doc(hidden)]
pub use tensorlift_ir::{
    apply, build, graph, kernels, op, persist, program, text, try_apply, ArgOp, GraphNode, Idx, IndexEntry,
    Inputs, NodeId, Op, ReduceOp, ReshapeDim, ScalarArgs, ScalarNode, ScalarOp, ScalarProgram, TypeId, Users,
};
#[doc(hidden)]
pub use tensorlift_runtime::{Interpreter, GRAPH_CAPACITY};

/// Everything a program usually needs, in one import: `use tensorlift::prelude::*;`.
///
/// The typed constructors (`dscalar`, `fvector`, `matrix`, …, `shared`, `shared_as`,
/// `constant`), `function`, `grad`, the math library and reductions, `arange`, `Tensor`,
/// `Var`, `Function`,
/// `Result`, `Error`, `DType`, and the traits the API's conversions rely on
/// (`IntoTensor`, `Wrt`).
///
/// ```
/// use tensorlift::prelude::*;
///
/// fn main() -> Result<()> {
///     let x = dvector("x");
///     let f = function(&[&x], &[sum(x.pow(2))])?;
///     let v: f64 = f.call1([1.0, 2.0])?.try_into()?;
///     assert_eq!(v, 5.0);
///     Ok(())
/// }
/// ```
pub mod prelude {
    pub use tensorlift_expr::parse_expr as parse;
    pub use tensorlift_ir::build::elemwise::*;
    pub use tensorlift_ir::build::leaf::*;
    pub use tensorlift_ir::{
        all, alloc, any, arange, argmax, argmin, args, concatenate, dot, grad, idx, inc_subtensor,
        log_softmax, logsumexp, max, mean, min, outer, pp, prod, set_subtensor, shape, shape_i, softmax,
        stack, sum, Arg, DType, Index, IntoTensor, Length, Tensor, Var, Wrt,
    };
    pub use tensorlift_runtime::{function, Error, Function, Mode, Result};
}

/// Process-wide settings, read from the environment in one place (`TENSORLIFT_FLAGS`,
/// Theano's `THEANO_FLAGS`, and the single `TENSORLIFT_*` variables; see
/// `tensorlift_ir::config` for the flags and their precedence).
pub mod config {
    pub use tensorlift_ir::config::{
        check, float_x, get, parse_flags, set_float_x, Config, ConfigError, ModeSetting, Reading,
    };
}

/// The benchmark workloads W1–W9 of the design, shared by the criterion benchmarks and
/// `tensorlift bench`.
#[doc(hidden)]
pub mod workloads;
