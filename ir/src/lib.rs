//! `tensorlift-ir`: what a tensorlift program is.
//!
//! - `dtype`, `types`, `value`: element types, static tensor types, concrete tensors.
//! - `scalar`: the op table, every elementwise op declared once; `op`: the closed set of
//!   graph ops and their type rules; `kernels`: their reference meaning.
//! - `var` and `build`: the user's symbolic graph and every way to build it.
//! - `graph`, `verify`, `text`: the arena `FunctionGraph` that passes and backends use, its
//!   verifier, and its text form (printed and parsed back).
//! - `grad`: reverse-mode differentiation producing graph (`grad`, `jacobian`, `hessian`).
//! - `print`: Theano's `pp` and `debugprint`.
//! - `shared`, `config`: shared-variable storage and process-wide settings.
// `deny`, not `forbid`: `value::sink` (writing a row of a loop's stacked trace in place)
// is the one module allowed `unsafe`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod build;
pub mod config;
pub mod dtype;
pub mod error;
pub mod grad;
pub mod graph;
pub mod kernels;
pub mod op;
pub mod persist;
pub mod print;
pub mod program;
pub mod scalar;
pub mod shared;
pub mod text;
pub mod types;
pub mod value;
pub mod var;
mod verify;

pub use build::advanced::take;
pub use build::array::{
    argsort, cumprod, cumsum, cumulative, eye, identity_like, repeat, roll, sort, tile, tile_vector,
};
pub use build::control::ifelse;
pub use build::conv::{conv2d, conv2d_grad_wrt_inputs, conv2d_grad_wrt_weights, pool_2d};
pub use build::elemwise::*;
pub use build::index::{adv_index_of, inc_subtensor, index_of, set_subtensor, Index, SliceBound};
pub use build::leaf::*;
pub use build::nnet;
pub use build::products::{batched_dot, dot, outer, tensordot, tensordot_n};
pub use build::random::{advance, default_updates, random_draw, RandomStreams, Size};
pub use build::reduce::{
    all, any, arg_reduce, argmax, argmin, log_softmax, logsumexp, max, mean, min, prod, reduce, softmax, std,
    sum, var, Axes,
};
pub use build::scan::{OutputInfo, Scan, ScanResult, ScanStep, Sequence, Step};
pub use build::shape::{
    addbroadcast, alloc, arange, concatenate, patternbroadcast, reshape, shape, shape_i, stack, unbroadcast,
    ArangeArgs, Length, ReshapeLen,
};
pub use build::{apply, clone_replace, try_apply};
pub use dtype::{DType, Element};
pub use error::{BuildError, BuildErrorKind, GraphError, Operand, ValueError};
pub use grad::{
    disconnected_grad, grad, grad1, grad_with, hessian, jacobian, zero_grad, Disconnected, GradError,
    GradOptions, Wrt,
};
pub use graph::{FunctionGraph, GraphNode, Inputs, NodeId, TypeId, Users};
pub use op::{
    AdvEntry, ArgOp, Barrier, BorderMode, ConvParams, CumOp, Dim, Distribution, Idx, IndexEntry, Op, OpInfo,
    OpKind, PoolMode, PoolParams, RandomDraw, ReduceOp, ReshapeDim, ScanInfo, ScanRef,
};
pub use print::{debugprint, debugprint_graph, dot_graph, pp, pp_graph, pp_graph_depth};
pub use program::{ProgramError, ScalarArgs, ScalarNode, ScalarProgram, ScalarProgramBuilder, ScalarValue};
pub use scalar::{DTypeRule, GradKind, Lowering, MathFn, PpForm, ScalarOp};
pub use shared::{SharedVar, Snapshot};
pub use types::TensorType;
pub use value::{Arg, IntoArgs, IntoTensor, Tensor, TensorElement};
pub use var::{Var, WeakVar};
