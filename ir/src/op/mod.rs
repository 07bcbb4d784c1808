//! The closed set of graph ops, and what each kind of op declares about itself.
//!
//! Elementwise ops are declared in the scalar op table (`crate::scalar`). Every other op is
//! a variant of [`Op`] with a row in [`OpKind::info`] (its text spelling, its number of
//! outputs, how it differentiates, how the CLI spells it). Its type rule lives in the family
//! module here (`elemwise`, `reduce`, `linalg`, `shape`, `advanced`, `conv`, `array`), its
//! reference kernel in the family module of the same name under `kernels`, its gradient in
//! `grad::rules`; each is an
//! exhaustive `match`, so the compiler lists every place a new op must be added, and the
//! conformance test (`tests/op_conformance.rs`) checks the declared paths.
//!
//! # Several outputs
//!
//! A node has one result. An op with several results (a multi-output `Composite`, a
//! `Scan`) is one node whose result is output 0, and one projection node per further
//! output (`Op::CompositeOutput { index }`, `Op::ScanOutput`) whose only input is that
//! node. Every pass, the verifier, the text form and the interpreter then deal
//! in single-result nodes; the backends compute all outputs of the producer in one pass and
//! hand each projection its buffer. [`OpInfo::outputs`] says how many results a kind has.

use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::program::ScalarProgram;
pub use crate::scalar::{GradKind, ScalarOp};
use crate::shared::SharedVar;
use crate::types::TensorType;
use crate::value::Tensor;
use std::sync::Arc;

mod advanced;
mod array;
mod control;
mod conv;
mod elemwise;
mod linalg;
mod params;
mod random;
mod reduce;
mod scan;
mod shape;

pub use crate::types::{checked_product, shape_fits};
pub use advanced::{adv_parts, broadcast_index_shapes, AdvEntry, AdvPart};
pub use conv::{
    fmt_params, parse_params, BorderMode, ConvParams, PoolMode, PoolParams, TEXT_NAMES as CONV_POOL_NAMES,
};
pub use params::{ArgOp, Barrier, CumOp, Dim, Idx, IndexEntry, ReduceOp, ReshapeDim};
pub use random::{Distribution, RandomDraw};
pub use reduce::reduced_shape;
pub use scan::{ScanInfo, ScanRef};
pub use shape::{fmt_alloc, fmt_reshape, normalize_slice};

/// An operation: a node of the graph applies one op to its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// An input of the graph (its name is on the node).
    Input,
    /// A constant value.
    Constant(Box<Tensor>),
    /// A shared variable, read at call time.
    Shared(SharedVar),
    /// A scalar op applied elementwise; inputs share their rank and broadcast statically.
    Elemwise(ScalarOp),
    /// A reduction over `axes` (sorted, distinct).
    Reduce {
        /// Which reduction.
        op: ReduceOp,
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
    },
    /// Index of the extremum over `axes`, counted over those axes flattened in order.
    ArgReduce {
        /// Which extremum.
        op: ArgOp,
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
    },
    /// `exp(x - max) / sum(exp(x - max))` along one axis.
    Softmax {
        /// The axis.
        axis: usize,
    },
    /// `x - max - log(sum(exp(x - max)))` along one axis.
    LogSoftmax {
        /// The axis.
        axis: usize,
    },
    /// `log(sum(exp(x)))` over `axes`, computed without overflow.
    LogSumExp {
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
    },
    /// NumPy's `dot` for ranks 1 and 2.
    Dot,
    /// One matrix product per index of the leading axis (Theano's `BatchedDot`): float
    /// `(B, M, K)` by `(B, K, N)` gives `(B, M, N)`.
    BatchedDot,
    /// `beta * z + alpha * dot(x, y)`: inputs `z, alpha, x, y, beta` (alpha and beta 0-d);
    /// gemm for a matrix `y`, gemv for a vector. Made by the optimizer.
    Gemm,
    /// A fused elementwise kernel: the scalar program applied elementwise to the inputs,
    /// which broadcast statically like any elementwise op's. Made by the optimizer.
    Composite(Arc<ScalarProgram>),
    /// Output `index` (≥ 1) of the multi-output `Composite` that is its one input, which
    /// computes it in the same pass as its result. Made by the optimizer.
    CompositeOutput {
        /// Which output of the program (`ScalarProgram::outputs()[index]`).
        index: usize,
        /// Its dtype.
        dtype: DType,
    },
    /// A reduction of a fused elementwise kernel, computed without the intermediate:
    /// `op(body(inputs…))` over `axes`. Made by the optimizer.
    FusedReduce {
        /// The reduction.
        op: ReduceOp,
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
        /// The elementwise body.
        body: Arc<ScalarProgram>,
    },
    /// Reorders axes: `Some(i)` takes input axis `i`, `None` inserts a broadcastable axis;
    /// input axes not listed must be broadcastable and are dropped.
    DimShuffle {
        /// The new order.
        order: Vec<Option<usize>>,
    },
    /// A new shape with the same elements in row-major order.
    Reshape {
        /// The target axes.
        shape: Vec<ReshapeDim>,
    },
    /// Joins inputs along an existing axis.
    Concatenate {
        /// The axis.
        axis: usize,
    },
    /// Part `part` of the first input cut along `axis` into pieces as long as the other
    /// inputs (the gradient of `concatenate`): inputs are the whole, then every piece's
    /// shape donor.
    SplitPart {
        /// The axis.
        axis: usize,
        /// Which piece.
        part: usize,
    },
    /// Basic indexing `x[i, a:b:c, …]`; the inputs are the data then the symbolic indices.
    Subtensor {
        /// One entry per indexed axis (trailing axes are taken whole).
        index: Vec<IndexEntry>,
    },
    /// `x` with `x[index]` set to (or incremented by) `y`; inputs are `x`, `y`, then the
    /// symbolic indices.
    IncSubtensor {
        /// The indexed region.
        index: Vec<IndexEntry>,
        /// Set (`true`) or increment (`false`).
        set: bool,
    },
    /// Advanced indexing `x[i, :, mask, …]` with index arrays (Theano's `AdvancedSubtensor1`
    /// and `AdvancedSubtensor`, NumPy's rules): the inputs are the data then each entry's
    /// inputs in order (its symbolic bounds, or its index array).
    AdvancedSubtensor {
        /// One entry per indexed axis (a boolean mask indexes as many axes as it has).
        index: Vec<AdvEntry>,
    },
    /// `x` with `x[index]` (an advanced index) set to, or incremented by, `y`: inputs are `x`,
    /// `y`, then the index inputs. An increment adds every repeated position's value
    /// (Theano's `AdvancedIncSubtensor1`); a set keeps the last write.
    AdvancedIncSubtensor {
        /// The indexed region.
        index: Vec<AdvEntry>,
        /// Set (`true`) or increment (`false`).
        set: bool,
    },
    /// The run-time shape of its input, as an int64 vector (Theano's `Shape`).
    Shape,
    /// The length of one axis of its input, as an int64 scalar (Theano's `Shape_i`).
    ShapeI {
        /// The axis.
        axis: usize,
    },
    /// Its first input broadcast to a new shape (Theano's `Alloc`): inputs are the value,
    /// then one integer scalar per `Dim::Input` axis. The value's axes align with the last
    /// ones of the result and broadcast statically: an axis of the value not marked
    /// broadcastable must have the result's length.
    Alloc {
        /// The result's axes.
        shape: Vec<Dim>,
    },
    /// `start, start + step, …` below `stop` (NumPy's `arange`): inputs are the three
    /// scalars start, stop, step; the length is known at run time.
    ARange {
        /// The result's dtype.
        dtype: DType,
    },
    /// Its input with some axes' static broadcastability changed (Theano's `Rebroadcast`:
    /// `addbroadcast`, `unbroadcast`, `patternbroadcast`): `(axis, true)` marks the axis of
    /// length 1 (checked when it runs), `(axis, false)` forgets that it is.
    Rebroadcast {
        /// The axes and their new broadcastability, by axis.
        axes: Vec<(usize, bool)>,
    },
    /// Its input unchanged, with its gradient stopped (Theano's `zero_grad` and
    /// `disconnected_grad`): only `grad` sees it; the optimizer removes it.
    GradBarrier(Barrier),
    /// A 2-d convolution (Theano's `conv2d`, the abstract `AbstractConv2d`): inputs are the
    /// input `(batch, channels, rows, cols)` and the filters `(out_channels,
    /// channels / groups, rows, cols)`.
    Conv2d(ConvParams),
    /// The gradient of a convolution with respect to its input (Theano's
    /// `AbstractConv2d_gradInputs`, also the transposed convolution): inputs are the filters,
    /// the gradient of the output, then one integer scalar per `Dim::Input` of `shape`, the
    /// input's rows and columns.
    Conv2dGradInputs {
        /// The convolution's parameters.
        conv: ConvParams,
        /// The input's rows and columns.
        shape: [Dim; 2],
    },
    /// The gradient of a convolution with respect to its filters (Theano's
    /// `AbstractConv2d_gradWeights`): inputs are the convolution's input, the gradient of
    /// the output, then one integer scalar per `Dim::Input` of `shape`, the filters' rows and
    /// columns.
    Conv2dGradWeights {
        /// The convolution's parameters.
        conv: ConvParams,
        /// The filters' rows and columns.
        shape: [Dim; 2],
    },
    /// Pooling over the last two axes (Theano's `pool_2d`, `Pool`).
    Pool(PoolParams),
    /// The running sum or product along one axis (Theano's `CumOp`): the result has the
    /// input's shape.
    Cumulative {
        /// Which running reduction.
        op: CumOp,
        /// The axis.
        axis: usize,
    },
    /// The input sorted along one axis in ascending order, NaN last (Theano's `SortOp`).
    Sort {
        /// The axis.
        axis: usize,
    },
    /// The positions that sort the input along one axis, as int64 (Theano's `ArgSortOp`):
    /// stable (equal elements keep their order), NaN last.
    ArgSort {
        /// The axis.
        axis: usize,
    },
    /// Each slice of the first input along `axis` repeated (Theano's `RepeatOp`, NumPy's
    /// `repeat`): the second input, an integer scalar or vector, says how many times (one
    /// count for all, or one per slice).
    Repeat {
        /// The axis.
        axis: usize,
    },
    /// The `n × m` matrix with ones on diagonal `k` and zeros elsewhere (Theano's `Eye`,
    /// NumPy's `eye`): inputs are the integer scalars `n`, `m` and `k`.
    Eye {
        /// The result's dtype.
        dtype: DType,
    },
    /// The gradient of max pooling (Theano's `MaxPoolGrad`): inputs `x`, its pooling and the
    /// gradient of the pooling; every element equal to its window's maximum receives the
    /// window's gradient.
    MaxPoolGrad(PoolParams),
    /// The gradient of sum and average pooling (Theano's `AveragePoolGrad`): inputs `x` and
    /// the gradient of the pooling.
    AveragePoolGrad(PoolParams),
    /// The gradient of `MaxPoolGrad` with respect to its gradient input (Theano's
    /// `DownsampleFactorMaxGradGrad`): inputs `x`, its pooling and a tensor of `x`'s shape,
    /// whose elements at each window's maxima are summed per window.
    MaxPoolGradGrad(PoolParams),
    /// Its second input where its first (a 0-d condition) is non-zero, else its third
    /// (Theano's `ifelse`). Lazy: a plan computes what only the branch not taken reads
    /// only when that branch is taken.
    IfElse,
    /// A random draw (see `op::random`): inputs are the generator state, the distribution's
    /// parameters, then one integer scalar per `Dim::Input` of the size. Never merged with
    /// another draw nor folded to a constant.
    Random(RandomDraw),
    /// A loop (Theano's `scan`, see `op::scan`): inputs are the number of steps, the
    /// sequences, the initial carries and the non-sequences; the result is the number of
    /// steps run, the outputs are `ScanOutput` projections of it.
    Scan(ScanRef),
    /// Output `index` (≥ 1) of the `Scan` that is its one input: a carry's trace, a mapped
    /// output's trace, or a carry's last value (see `ScanInfo::output_type`).
    ScanOutput {
        /// The scan's description (the type rule reads it).
        scan: ScanRef,
        /// Which output.
        index: usize,
    },
}

impl Op {
    /// The op's name as `pp`, the text form and errors use it.
    pub fn name(&self) -> String {
        match self {
            Op::Input => "input".into(),
            Op::Constant(_) => "constant".into(),
            Op::Shared(_) => "shared".into(),
            Op::Elemwise(s) => s.name().into(),
            Op::Reduce { op, .. } => op.name().into(),
            Op::ArgReduce { op, .. } => op.name().into(),
            Op::Softmax { .. } => "softmax".into(),
            Op::LogSoftmax { .. } => "log_softmax".into(),
            Op::LogSumExp { .. } => "logsumexp".into(),
            Op::Dot => "dot".into(),
            Op::BatchedDot => "batched_dot".into(),
            Op::Gemm => "gemm".into(),
            Op::Composite(_) => "composite".into(),
            Op::CompositeOutput { .. } => "composite_output".into(),
            Op::FusedReduce { op, .. } => format!("fused_{}", op.name()),
            Op::DimShuffle { .. } => "dimshuffle".into(),
            Op::Reshape { .. } => "reshape".into(),
            Op::Concatenate { .. } => "concatenate".into(),
            Op::SplitPart { .. } => "split_part".into(),
            Op::Subtensor { .. } => "subtensor".into(),
            Op::IncSubtensor { set: true, .. } => "set_subtensor".into(),
            Op::IncSubtensor { set: false, .. } => "inc_subtensor".into(),
            Op::AdvancedSubtensor { .. } => "advanced_subtensor".into(),
            Op::AdvancedIncSubtensor { set: true, .. } => "advanced_set_subtensor".into(),
            Op::AdvancedIncSubtensor { set: false, .. } => "advanced_inc_subtensor".into(),
            Op::Shape => "shape".into(),
            Op::ShapeI { .. } => "shape_i".into(),
            Op::Alloc { .. } => "alloc".into(),
            Op::ARange { .. } => "arange".into(),
            Op::Rebroadcast { .. } => "rebroadcast".into(),
            Op::GradBarrier(Barrier::Zero) => "zero_grad".into(),
            Op::GradBarrier(Barrier::Disconnected) => "disconnected_grad".into(),
            Op::Conv2d(_) => "conv2d".into(),
            Op::Conv2dGradInputs { .. } => "conv2d_grad_inputs".into(),
            Op::Conv2dGradWeights { .. } => "conv2d_grad_weights".into(),
            Op::Pool(_) => "pool_2d".into(),
            Op::MaxPoolGrad(_) => "max_pool_grad".into(),
            Op::AveragePoolGrad(_) => "average_pool_grad".into(),
            Op::MaxPoolGradGrad(_) => "max_pool_grad_grad".into(),
            Op::IfElse => "ifelse".into(),
            Op::Cumulative { op, .. } => op.name().into(),
            Op::Sort { .. } => "sort".into(),
            Op::ArgSort { .. } => "argsort".into(),
            Op::Repeat { .. } => "repeat".into(),
            Op::Eye { .. } => "eye".into(),
            Op::Random(d) => d.dist.name().into(),
            Op::Scan(_) => "scan".into(),
            Op::ScanOutput { .. } => "scan_output".into(),
        }
    }

    /// The op's kind, without its parameters.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Input => OpKind::Input,
            Op::Constant(_) => OpKind::Constant,
            Op::Shared(_) => OpKind::Shared,
            Op::Elemwise(_) => OpKind::Elemwise,
            Op::Reduce { .. } => OpKind::Reduce,
            Op::ArgReduce { .. } => OpKind::ArgReduce,
            Op::Softmax { .. } => OpKind::Softmax,
            Op::LogSoftmax { .. } => OpKind::LogSoftmax,
            Op::LogSumExp { .. } => OpKind::LogSumExp,
            Op::Dot => OpKind::Dot,
            Op::BatchedDot => OpKind::BatchedDot,
            Op::Gemm => OpKind::Gemm,
            Op::Composite(_) => OpKind::Composite,
            Op::CompositeOutput { .. } => OpKind::CompositeOutput,
            Op::FusedReduce { .. } => OpKind::FusedReduce,
            Op::DimShuffle { .. } => OpKind::DimShuffle,
            Op::Reshape { .. } => OpKind::Reshape,
            Op::Concatenate { .. } => OpKind::Concatenate,
            Op::SplitPart { .. } => OpKind::SplitPart,
            Op::Subtensor { .. } => OpKind::Subtensor,
            Op::IncSubtensor { .. } => OpKind::IncSubtensor,
            Op::AdvancedSubtensor { .. } => OpKind::AdvancedSubtensor,
            Op::AdvancedIncSubtensor { .. } => OpKind::AdvancedIncSubtensor,
            Op::Shape => OpKind::Shape,
            Op::ShapeI { .. } => OpKind::ShapeI,
            Op::Alloc { .. } => OpKind::Alloc,
            Op::ARange { .. } => OpKind::ARange,
            Op::Rebroadcast { .. } => OpKind::Rebroadcast,
            Op::GradBarrier(_) => OpKind::GradBarrier,
            Op::Conv2d(_) => OpKind::Conv2d,
            Op::Conv2dGradInputs { .. } => OpKind::Conv2dGradInputs,
            Op::Conv2dGradWeights { .. } => OpKind::Conv2dGradWeights,
            Op::Pool(_) => OpKind::Pool,
            Op::MaxPoolGrad(_) => OpKind::MaxPoolGrad,
            Op::AveragePoolGrad(_) => OpKind::AveragePoolGrad,
            Op::MaxPoolGradGrad(_) => OpKind::MaxPoolGradGrad,
            Op::IfElse => OpKind::IfElse,
            Op::Cumulative { .. } => OpKind::Cumulative,
            Op::Sort { .. } => OpKind::Sort,
            Op::ArgSort { .. } => OpKind::ArgSort,
            Op::Repeat { .. } => OpKind::Repeat,
            Op::Eye { .. } => OpKind::Eye,
            Op::Random(_) => OpKind::Random,
            Op::Scan(_) => OpKind::Scan,
            Op::ScanOutput { .. } => OpKind::ScanOutput,
        }
    }

    /// True for a random draw: never merged with another node, never folded to a constant.
    pub fn is_random(&self) -> bool {
        matches!(self, Op::Random(_))
    }

    /// True for the leaves of a graph: inputs, constants and shared variables.
    pub fn is_leaf(&self) -> bool {
        matches!(self, Op::Input | Op::Constant(_) | Op::Shared(_))
    }

    /// The type of this op's result for inputs of the given types, or why they don't fit.
    /// Leaves have no rule (their type is given). Each family's rules live in its module.
    pub fn infer(&self, ins: &[Operand]) -> Result<TensorType, BuildErrorKind> {
        let r = &Rule { name: self.name(), ins };
        match self {
            Op::Input | Op::Constant(_) | Op::Shared(_) => {
                Err(BuildErrorKind::Invalid { op: r.name.clone(), reason: "a leaf has no type rule".into() })
            }
            Op::Elemwise(s) => elemwise::elemwise(r, s),
            Op::Composite(p) => elemwise::composite_type(p, ins, &r.name),
            Op::CompositeOutput { index, dtype } => elemwise::composite_output(r, index, dtype),
            Op::Reduce { op, axes, keepdims } => reduce::reduce(r, op, axes, keepdims),
            Op::ArgReduce { axes, keepdims, .. } => reduce::arg_reduce(r, axes, keepdims),
            Op::Softmax { axis } | Op::LogSoftmax { axis } => reduce::softmax(r, axis),
            Op::LogSumExp { axes, keepdims } => reduce::logsumexp(r, axes, keepdims),
            Op::FusedReduce { op, axes, keepdims, body } => reduce::fused_reduce(r, op, axes, keepdims, body),
            Op::Dot => linalg::dot(r),
            Op::BatchedDot => linalg::batched_dot(r),
            Op::Gemm => linalg::gemm(r),
            Op::DimShuffle { order } => shape::dimshuffle(r, order),
            Op::Reshape { shape } => shape::reshape(r, shape),
            Op::Concatenate { axis } => shape::concatenate(r, axis),
            Op::SplitPart { axis, part } => shape::split_part(r, axis, part),
            Op::Subtensor { index } => shape::subtensor(r, index),
            Op::IncSubtensor { index, .. } => shape::inc_subtensor(r, index),
            Op::AdvancedSubtensor { index } => advanced::advanced_subtensor(r, index),
            Op::AdvancedIncSubtensor { index, .. } => advanced::advanced_inc_subtensor(r, index),
            Op::Shape => shape::shape(r),
            Op::ShapeI { axis } => shape::shape_i(r, *axis),
            Op::Alloc { shape } => shape::alloc(r, shape),
            Op::ARange { dtype } => shape::arange(r, *dtype),
            Op::Rebroadcast { axes } => shape::rebroadcast(r, axes),
            Op::GradBarrier(_) => Ok(reduce::one(ins, &r.name)?.ty.clone()),
            Op::Conv2d(p) => conv::conv2d(r, p),
            Op::Conv2dGradInputs { conv: p, shape } => conv::grad_inputs(r, p, shape),
            Op::Conv2dGradWeights { conv: p, shape } => conv::grad_weights(r, p, shape),
            Op::Pool(p) => conv::pool(r, p),
            Op::MaxPoolGrad(p) => conv::max_pool_grad(r, p),
            Op::AveragePoolGrad(p) => conv::average_pool_grad(r, p),
            Op::MaxPoolGradGrad(p) => conv::max_pool_grad_grad(r, p),
            Op::IfElse => control::ifelse(r),
            Op::Cumulative { op, axis } => array::cumulative(r, *op, *axis),
            Op::Sort { axis } => array::sort(r, *axis, false),
            Op::ArgSort { axis } => array::sort(r, *axis, true),
            Op::Repeat { axis } => array::repeat(r, *axis),
            Op::Eye { dtype } => array::eye(r, *dtype),
            Op::Random(d) => random::random(r, d),
            Op::Scan(info) => scan::scan(r, info),
            Op::ScanOutput { scan: info, index } => scan::scan_output(r, info, *index),
        }
    }
}

/// The kind of an [`Op`]: its variant without parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// [`Op::Input`].
    Input,
    /// [`Op::Constant`].
    Constant,
    /// [`Op::Shared`].
    Shared,
    /// [`Op::Elemwise`]: see the scalar op table.
    Elemwise,
    /// [`Op::Reduce`].
    Reduce,
    /// [`Op::ArgReduce`].
    ArgReduce,
    /// [`Op::Softmax`].
    Softmax,
    /// [`Op::LogSoftmax`].
    LogSoftmax,
    /// [`Op::LogSumExp`].
    LogSumExp,
    /// [`Op::Dot`].
    Dot,
    /// [`Op::BatchedDot`].
    BatchedDot,
    /// [`Op::Gemm`].
    Gemm,
    /// [`Op::Composite`].
    Composite,
    /// [`Op::CompositeOutput`].
    CompositeOutput,
    /// [`Op::FusedReduce`].
    FusedReduce,
    /// [`Op::DimShuffle`].
    DimShuffle,
    /// [`Op::Reshape`].
    Reshape,
    /// [`Op::Concatenate`].
    Concatenate,
    /// [`Op::SplitPart`].
    SplitPart,
    /// [`Op::Subtensor`].
    Subtensor,
    /// [`Op::IncSubtensor`].
    IncSubtensor,
    /// [`Op::AdvancedSubtensor`].
    AdvancedSubtensor,
    /// [`Op::AdvancedIncSubtensor`].
    AdvancedIncSubtensor,
    /// [`Op::Shape`].
    Shape,
    /// [`Op::ShapeI`].
    ShapeI,
    /// [`Op::Alloc`].
    Alloc,
    /// [`Op::ARange`].
    ARange,
    /// [`Op::Rebroadcast`].
    Rebroadcast,
    /// [`Op::GradBarrier`].
    GradBarrier,
    /// [`Op::Conv2d`].
    Conv2d,
    /// [`Op::Conv2dGradInputs`].
    Conv2dGradInputs,
    /// [`Op::Conv2dGradWeights`].
    Conv2dGradWeights,
    /// [`Op::Pool`].
    Pool,
    /// [`Op::MaxPoolGrad`].
    MaxPoolGrad,
    /// [`Op::AveragePoolGrad`].
    AveragePoolGrad,
    /// [`Op::MaxPoolGradGrad`].
    MaxPoolGradGrad,
    /// [`Op::IfElse`].
    IfElse,
    /// [`Op::Cumulative`].
    Cumulative,
    /// [`Op::Sort`].
    Sort,
    /// [`Op::ArgSort`].
    ArgSort,
    /// [`Op::Repeat`].
    Repeat,
    /// [`Op::Eye`].
    Eye,
    /// [`Op::Random`].
    Random,
    /// [`Op::Scan`].
    Scan,
    /// [`Op::ScanOutput`].
    ScanOutput,
}

/// What an op kind declares about itself: the conformance test checks every entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// Its spelling in the text form and `pp` (parameterized kinds spell each instance by
    /// [`Op::name`]: a reduction by its [`ReduceOp`], an elementwise op by its [`ScalarOp`]).
    pub text: &'static str,
    /// How many results one application has (see "Several outputs" in the module docs).
    pub outputs: usize,
    /// How it differentiates.
    pub grad: GradKind,
    /// The CLI expression language's functions that build it (empty: built by other syntax
    /// — operators, indexing, leaves — or only by the optimizer).
    pub cli: &'static [&'static str],
}

impl OpKind {
    /// Every kind.
    pub const ALL: [OpKind; 45] = [
        OpKind::Input,
        OpKind::Constant,
        OpKind::Shared,
        OpKind::Elemwise,
        OpKind::Reduce,
        OpKind::ArgReduce,
        OpKind::Softmax,
        OpKind::LogSoftmax,
        OpKind::LogSumExp,
        OpKind::Dot,
        OpKind::BatchedDot,
        OpKind::Gemm,
        OpKind::Composite,
        OpKind::CompositeOutput,
        OpKind::FusedReduce,
        OpKind::DimShuffle,
        OpKind::Reshape,
        OpKind::Concatenate,
        OpKind::SplitPart,
        OpKind::Subtensor,
        OpKind::IncSubtensor,
        OpKind::AdvancedSubtensor,
        OpKind::AdvancedIncSubtensor,
        OpKind::Shape,
        OpKind::ShapeI,
        OpKind::Alloc,
        OpKind::ARange,
        OpKind::Rebroadcast,
        OpKind::GradBarrier,
        OpKind::Conv2d,
        OpKind::Conv2dGradInputs,
        OpKind::Conv2dGradWeights,
        OpKind::Pool,
        OpKind::MaxPoolGrad,
        OpKind::AveragePoolGrad,
        OpKind::MaxPoolGradGrad,
        OpKind::IfElse,
        OpKind::Cumulative,
        OpKind::Sort,
        OpKind::ArgSort,
        OpKind::Repeat,
        OpKind::Eye,
        OpKind::Random,
        OpKind::Scan,
        OpKind::ScanOutput,
    ];

    /// The kind's declaration.
    pub const fn info(self) -> OpInfo {
        use GradKind::*;
        const fn i(
            text: &'static str,
            outputs: usize,
            grad: GradKind,
            cli: &'static [&'static str],
        ) -> OpInfo {
            OpInfo { text, outputs, grad, cli }
        }
        match self {
            OpKind::Input => i("input", 1, Leaf, &[]),
            OpKind::Constant => i("constant", 1, Leaf, &[]),
            OpKind::Shared => i("shared", 1, Leaf, &[]),
            OpKind::Elemwise => i("elemwise", 1, Differentiable, &[]),
            OpKind::Reduce => {
                i("reduce", 1, Differentiable, &["sum", "prod", "max", "min", "mean", "all", "any"])
            }
            OpKind::ArgReduce => i("argreduce", 1, Zero, &["argmax", "argmin"]),
            OpKind::Softmax => i("softmax", 1, Differentiable, &["softmax"]),
            OpKind::LogSoftmax => i("log_softmax", 1, Differentiable, &["log_softmax", "logsoftmax"]),
            OpKind::LogSumExp => i("logsumexp", 1, Differentiable, &["logsumexp"]),
            OpKind::Dot => i("dot", 1, Differentiable, &["dot", "outer"]),
            OpKind::BatchedDot => i("batched_dot", 1, Differentiable, &["batched_dot"]),
            OpKind::Gemm => i("gemm", 1, Optimized, &[]),
            OpKind::Composite => i("composite", 1, Optimized, &[]),
            OpKind::CompositeOutput => i("composite_output", 1, Optimized, &[]),
            OpKind::FusedReduce => i("fused_reduce", 1, Optimized, &[]),
            OpKind::DimShuffle => i("dimshuffle", 1, Differentiable, &["dimshuffle", "transpose"]),
            OpKind::Reshape => i("reshape", 1, Differentiable, &["reshape", "flatten"]),
            OpKind::Concatenate => i("concatenate", 1, Differentiable, &["concatenate", "join", "stack"]),
            OpKind::SplitPart => i("split_part", 1, Differentiable, &[]),
            OpKind::Subtensor => i("subtensor", 1, Differentiable, &[]),
            OpKind::IncSubtensor => {
                i("inc_subtensor", 1, Differentiable, &["set_subtensor", "inc_subtensor"])
            }
            OpKind::AdvancedSubtensor => i("advanced_subtensor", 1, Differentiable, &["take"]),
            OpKind::AdvancedIncSubtensor => i("advanced_inc_subtensor", 1, Differentiable, &[]),
            OpKind::Shape => i("shape", 1, Zero, &["shape"]),
            OpKind::ShapeI => i("shape_i", 1, Zero, &["shape_i"]),
            OpKind::Alloc => i("alloc", 1, Differentiable, &["alloc"]),
            OpKind::ARange => i("arange", 1, Zero, &["arange"]),
            OpKind::Rebroadcast => {
                i("rebroadcast", 1, Differentiable, &["addbroadcast", "unbroadcast", "patternbroadcast"])
            }
            OpKind::GradBarrier => i("grad_barrier", 1, Zero, &["zero_grad", "disconnected_grad"]),
            OpKind::Conv2d => i("conv2d", 1, Differentiable, &["conv2d"]),
            OpKind::Conv2dGradInputs => {
                i("conv2d_grad_inputs", 1, Differentiable, &["conv2d_grad_wrt_inputs", "conv2d_transpose"])
            }
            OpKind::Conv2dGradWeights => {
                i("conv2d_grad_weights", 1, Differentiable, &["conv2d_grad_wrt_weights"])
            }
            OpKind::Pool => i("pool_2d", 1, Differentiable, &["pool_2d"]),
            OpKind::MaxPoolGrad => i("max_pool_grad", 1, Differentiable, &[]),
            OpKind::AveragePoolGrad => i("average_pool_grad", 1, Differentiable, &[]),
            OpKind::MaxPoolGradGrad => i("max_pool_grad_grad", 1, Differentiable, &[]),
            OpKind::IfElse => i("ifelse", 1, Differentiable, &["ifelse"]),
            OpKind::Cumulative => i("cumulative", 1, Differentiable, &["cumsum", "cumprod"]),
            OpKind::Sort => i("sort", 1, Differentiable, &["sort"]),
            OpKind::ArgSort => i("argsort", 1, Zero, &["argsort"]),
            OpKind::Repeat => i("repeat", 1, Differentiable, &["repeat"]),
            OpKind::Eye => i("eye", 1, Zero, &["eye", "identity_like"]),
            OpKind::Random => i("random", 1, Disconnected, &[]),
            OpKind::Scan => i("scan", 1, Differentiable, &[]),
            OpKind::ScanOutput => i("scan_output", 1, Differentiable, &[]),
        }
    }
}

/// What a type rule sees: the op's name (for messages) and its operands.
struct Rule<'a> {
    name: String,
    ins: &'a [Operand],
}

impl Rule<'_> {
    /// The operands do not fit, for `reason`.
    fn invalid(&self, reason: String) -> BuildErrorKind {
        BuildErrorKind::Invalid { op: self.name.clone(), reason }
    }

    /// Operand `o` has the wrong rank; `expected` says which.
    fn rank(&self, o: &Operand, expected: &str) -> BuildErrorKind {
        BuildErrorKind::Rank { op: self.name.clone(), operand: o.clone(), expected: expected.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_slices() {
        assert_eq!(normalize_slice(None, None, 1, 5), (0, 5));
        assert_eq!(normalize_slice(None, None, -1, 5), (4, 5));
        assert_eq!(normalize_slice(Some(1), Some(-1), 2, 5), (1, 2));
        assert_eq!(normalize_slice(Some(-2), None, -2, 5), (3, 2));
        assert_eq!(normalize_slice(Some(10), None, 1, 5), (5, 0));
        assert_eq!(normalize_slice(Some(3), Some(1), 1, 5), (3, 0));
        assert_eq!(normalize_slice(None, Some(-10), -1, 5), (4, 5));
    }
}
