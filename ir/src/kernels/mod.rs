//! Reference kernels: the meaning of every op, written with ndarray. The interpreter calls
//! `eval` node by node; constant folding and every differential test use it as the truth.
//!
//! Submodules follow the op families: `elemwise` (scalar ops with static broadcasting),
//! `reduce` (reductions, arg-extrema, softmax family), `linalg` (`dot`), `shape`
//! (dimshuffle, reshape, concatenate, indexing), `advanced` (index arrays and masks), `conv`
//! (convolution and pooling, and their gradients), `array` (running sums and products,
//! sorting, repeating, the identity-like matrix), `scan` (the loop, given its step).

mod advanced;
mod array;
mod composite;
pub mod conv;
mod elemwise;
mod linalg;
pub(crate) mod num;
pub mod random;
mod reduce;
pub mod scan;
mod shape;

use crate::error::ValueError;
use crate::op::Op;
use crate::types::TensorType;
use crate::value::Tensor;

pub use composite::composite_outputs;

/// Whether `op` computes a changed copy of its first input (which it may then write in
/// place when handed the only holder of that input: [`eval_updating`]).
pub fn updates_first_input(op: &Op) -> bool {
    matches!(op, Op::AdvancedIncSubtensor { .. })
}

/// Evaluates an op of [`updates_first_input`] with its first input given by value: written
/// in place when nothing else holds its storage, copied first otherwise. `rest` are the
/// other inputs; `first_name` names the first in errors. `None` for other ops.
pub fn eval_updating(
    op: &Op,
    first: Tensor,
    first_name: &str,
    rest: &[KernelInput<'_>],
) -> Option<Result<Tensor, ValueError>> {
    match op {
        Op::AdvancedIncSubtensor { index, set } => {
            // Written in place: borrowed data is copied first.
            Some(advanced::advanced_inc_subtensor_owned(first.detach(), first_name, rest, index, *set))
        }
        _ => None,
    }
}
pub use num::FloatElem;

/// One input of a kernel: its value, its static type (which says which axes broadcast) and
/// a name for error messages.
#[derive(Clone, Copy, Debug)]
pub struct KernelInput<'a> {
    /// The value.
    pub value: &'a Tensor,
    /// The static type of the graph edge.
    pub ty: &'a TensorType,
    /// The variable's name (or a description) for messages.
    pub name: &'a str,
}

/// Evaluates `op` on `inputs`; `out` is the node's static type. Leaves are not evaluated
/// here (their values come from the caller).
pub fn eval(op: &Op, inputs: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    match op {
        Op::Input | Op::Shared(_) => Err(ValueError::invalid(op.name(), "a leaf has no kernel")),
        Op::Constant(t) => Ok((**t).clone()),
        Op::Elemwise(s) => elemwise::eval(*s, inputs, out),
        Op::Reduce { op, axes, keepdims } => reduce::reduce(*op, inputs[0].value, axes, *keepdims, out),
        Op::ArgReduce { op, axes, keepdims } => reduce::arg_reduce(*op, inputs[0].value, axes, *keepdims),
        Op::Softmax { axis } => reduce::softmax(inputs[0].value, *axis, false, out),
        Op::LogSoftmax { axis } => reduce::softmax(inputs[0].value, *axis, true, out),
        Op::LogSumExp { axes, keepdims } => reduce::logsumexp(inputs[0].value, axes, *keepdims, out),
        Op::Dot => linalg::dot(inputs, out),
        Op::BatchedDot => linalg::batched_dot(inputs, out),
        Op::Gemm => composite::gemm(inputs, out),
        Op::Composite(p) => {
            broadcast_runtime(p.kernel_name(), inputs)?;
            composite::composite(p, inputs)
        }
        Op::CompositeOutput { .. } => {
            Err(ValueError::invalid(op.name(), "read from its composite's outputs (see `composite_outputs`)"))
        }
        Op::FusedReduce { op, axes, keepdims, body } => {
            broadcast_runtime("composite", inputs)?;
            composite::fused_reduce(*op, axes, *keepdims, body, inputs, out)
        }
        Op::DimShuffle { order } => Ok(shape::dimshuffle(inputs[0].value, order)),
        Op::Reshape { shape } => shape::reshape(inputs, shape),
        Op::SplitPart { axis, part } => shape::split_part(inputs, *axis, *part),
        Op::Concatenate { axis } => shape::concatenate(inputs, *axis, out),
        Op::Subtensor { index } => shape::subtensor(inputs[0].value, index, &inputs[1..]),
        Op::IncSubtensor { index, set } => shape::inc_subtensor(inputs, index, *set),
        Op::AdvancedSubtensor { index } => advanced::advanced_subtensor(inputs, index),
        Op::AdvancedIncSubtensor { index, set } => advanced::advanced_inc_subtensor(inputs, index, *set),
        Op::Shape => {
            Ok(Tensor::from(inputs[0].value.shape().iter().map(|&n| n as i64).collect::<Vec<i64>>()))
        }
        Op::ShapeI { axis } => Ok(Tensor::from(inputs[0].value.shape()[*axis] as i64)),
        Op::Alloc { shape } => shape::alloc(inputs, shape),
        Op::ARange { dtype } => shape::arange(inputs, *dtype),
        Op::GradBarrier(_) => Ok(inputs[0].value.clone()),
        Op::Rebroadcast { axes } => shape::rebroadcast(&inputs[0], axes),
        Op::IfElse => Ok(inputs[if inputs[0].value.is_true()? { 1 } else { 2 }].value.clone()),
        Op::Conv2d(p) => conv::conv2d(p, inputs, out),
        Op::Conv2dGradInputs { conv: p, shape } => conv::conv2d_grad_inputs(p, shape, inputs, out),
        Op::Conv2dGradWeights { conv: p, shape } => conv::conv2d_grad_weights(p, shape, inputs, out),
        Op::Pool(p) => conv::pool(p, inputs, out),
        Op::MaxPoolGrad(p) | Op::AveragePoolGrad(p) | Op::MaxPoolGradGrad(p) => {
            conv::pool_grad(&op.name(), p, inputs, out)
        }
        Op::Cumulative { op, axis } => array::cumulative(*op, inputs[0].value, *axis),
        Op::Sort { axis } => array::sort(inputs[0].value, *axis, false),
        Op::ArgSort { axis } => array::sort(inputs[0].value, *axis, true),
        Op::Repeat { axis } => array::repeat(inputs, *axis),
        Op::Eye { dtype } => array::eye(inputs, *dtype),
        Op::Random(_) => random::eval(op, inputs, out),
        Op::Scan(_) | Op::ScanOutput { .. } => {
            Err(ValueError::invalid(op.name(), "runs its step in a plan (see `kernels::scan::run`)"))
        }
    }
}

/// The run-time shape of an elementwise result: on each axis, the inputs whose static type
/// does not mark it broadcastable must agree; an error names every input's shape otherwise.
pub fn broadcast_runtime(op: &str, inputs: &[KernelInput<'_>]) -> Result<Vec<usize>, ValueError> {
    let ndim = inputs.first().map_or(0, |i| i.value.ndim());
    let mismatch = || ValueError::ShapeMismatch {
        op: op.into(),
        operands: inputs.iter().map(|i| (i.name.to_string(), i.value.shape().to_vec())).collect(),
    };
    if inputs.iter().any(|i| i.value.ndim() != ndim || !i.ty.accepts_shape(i.value.shape())) {
        return Err(mismatch());
    }
    let mut shape = vec![1; ndim];
    for (axis, len) in shape.iter_mut().enumerate() {
        let mut seen: Option<usize> = None;
        for i in inputs {
            if i.ty.shape[axis] == Some(1) {
                continue;
            }
            let n = i.value.shape()[axis];
            match seen {
                Some(m) if m != n => return Err(mismatch()),
                _ => seen = Some(n),
            }
        }
        *len = seen.unwrap_or(1);
    }
    Ok(shape)
}
