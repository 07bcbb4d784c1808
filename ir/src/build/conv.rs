//! Builders of convolution and pooling: `conv2d` (Theano's `theano.tensor.nnet.conv2d`), the
//! gradients of a convolution as functions of their own (`conv2d_grad_wrt_inputs`, which is
//! also the transposed convolution, and `conv2d_grad_wrt_weights`), and `pool_2d` (Theano's
//! `theano.tensor.signal.pool.pool_2d`). Their parameters are [`ConvParams`] and
//! [`PoolParams`], whose defaults are Theano's.
//!
//! ```
//! use tensorlift_ir as tl;
//! use tl::{BorderMode, ConvParams, PoolParams};
//! let x = tl::tensor("x", tl::DType::F64, &[Some(500), Some(1), Some(28), Some(28)]);
//! let w = tl::tensor("w", tl::DType::F64, &[Some(20), Some(1), Some(5), Some(5)]);
//! let y = tl::conv2d(&x, &w, &ConvParams::default());
//! assert_eq!(y.ty().shape, [Some(500), Some(20), Some(24), Some(24)]);
//! let h = tl::conv2d(&x, &w, &ConvParams { border: BorderMode::Half, ..ConvParams::default() });
//! assert_eq!(h.ty().shape, [Some(500), Some(20), Some(28), Some(28)]);
//! let p = tl::pool_2d(&y, &PoolParams::new([2, 2]));
//! assert_eq!(p.ty().shape, [Some(500), Some(20), Some(12), Some(12)]);
//! ```

use super::shape::Length;
use super::{apply, apply_inner};
use crate::error::BuildError;
use crate::op::{ConvParams, Dim, Op, PoolParams};
use crate::var::Var;

/// A 2-d convolution of `input` `(batch, channels, rows, cols)` with `filters`
/// `(out_channels, channels / groups, rows, cols)`: Theano's `conv2d` (the abstract
/// convolution), a true convolution unless `params.filter_flip` is false.
#[track_caller]
pub fn conv2d(input: impl AsRef<Var>, filters: impl AsRef<Var>, params: &ConvParams) -> Var {
    apply(Op::Conv2d(*params), vec![input.as_ref().clone(), filters.as_ref().clone()])
}

/// The spatial lengths of a gradient op and their symbolic inputs.
fn dims(lengths: &[Length; 2]) -> ([Dim; 2], Vec<Var>) {
    let mut inputs = Vec::new();
    let mut shape = [Dim::Input; 2];
    for (d, l) in shape.iter_mut().zip(lengths) {
        match l {
            Length::Fixed(n) => *d = Dim::Fixed(*n),
            Length::Var(v) => match v.constant_value() {
                Some(t) if t.ndim() == 0 && t.dtype().is_int() && t.to_f64().is_ok_and(|n| n >= 0.0) => {
                    *d = Dim::Fixed(t.to_f64().map_or(0, |n| n as usize));
                }
                _ => inputs.push(v.clone()),
            },
        }
    }
    (shape, inputs)
}

fn grad_op(
    op: impl Fn([Dim; 2]) -> Op,
    a: &Var,
    top: &Var,
    lengths: &[Length; 2],
) -> Result<Var, BuildError> {
    let (shape, extra) = dims(lengths);
    let mut inputs = vec![a.clone(), top.clone()];
    inputs.extend(extra);
    apply_inner(op(shape), inputs)
}

/// The gradient of a convolution with respect to its input, given the gradient of its
/// output `output_grad` and its `filters`, for an input of `input_shape` rows and columns
/// (Theano's `conv2d_grad_wrt_inputs`; also the transposed convolution of `output_grad`).
/// A length may be a number or an integer scalar expression (`shape_i(&x, 2)`).
#[track_caller]
pub fn conv2d_grad_wrt_inputs(
    output_grad: impl AsRef<Var>,
    filters: impl AsRef<Var>,
    input_shape: [Length; 2],
    params: &ConvParams,
) -> Var {
    let r = grad_op(
        |shape| Op::Conv2dGradInputs { conv: *params, shape },
        filters.as_ref(),
        output_grad.as_ref(),
        &input_shape,
    );
    Var::from_result(match r {
        Ok(v) => Ok(v),
        Err(e) => Err(e.located()),
    })
}

/// The gradient of a convolution with respect to its filters, given its `input` and the
/// gradient of its output `output_grad`, for filters of `filter_shape` rows and columns
/// (Theano's `conv2d_grad_wrt_weights`).
#[track_caller]
pub fn conv2d_grad_wrt_weights(
    input: impl AsRef<Var>,
    output_grad: impl AsRef<Var>,
    filter_shape: [Length; 2],
    params: &ConvParams,
) -> Var {
    let r = grad_op(
        |shape| Op::Conv2dGradWeights { conv: *params, shape },
        input.as_ref(),
        output_grad.as_ref(),
        &filter_shape,
    );
    Var::from_result(match r {
        Ok(v) => Ok(v),
        Err(e) => Err(e.located()),
    })
}

/// Pooling of the last two axes of `input` (rank at least 2): Theano's `pool_2d`.
#[track_caller]
pub fn pool_2d(input: impl AsRef<Var>, params: &PoolParams) -> Var {
    apply(Op::Pool(*params), vec![input.as_ref().clone()])
}
