//! Type rules of the reduction family: reductions, arg-extrema, the softmax family and
//! fused reductions.

use super::elemwise::composite_type;
use super::Rule;
use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::op::ReduceOp;
use crate::program::ScalarProgram;
use crate::types::TensorType;

/// A reduction over `axes`.
pub(super) fn reduce(
    r: &Rule<'_>,
    op: &ReduceOp,
    axes: &[usize],
    keepdims: &bool,
) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let x = one(ins, &name)?;
    check_axes(axes, x, &name)?;
    Ok(TensorType::new(op.out_dtype(x.ty.dtype), reduced_shape(&x.ty, axes, *keepdims)))
}

/// An arg-extremum over `axes` (int64).
pub(super) fn arg_reduce(
    r: &Rule<'_>,
    axes: &[usize],
    keepdims: &bool,
) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let x = one(ins, &name)?;
    check_axes(axes, x, &name)?;
    Ok(TensorType::new(DType::I64, reduced_shape(&x.ty, axes, *keepdims)))
}

/// `softmax`/`log_softmax` along one axis.
pub(super) fn softmax(r: &Rule<'_>, axis: &usize) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let x = one(ins, &name)?;
    check_axes(&[*axis], x, &name)?;
    Ok(x.ty.with_dtype(x.ty.dtype.to_float()))
}

/// `logsumexp` over `axes`.
pub(super) fn logsumexp(r: &Rule<'_>, axes: &[usize], keepdims: &bool) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let x = one(ins, &name)?;
    check_axes(axes, x, &name)?;
    Ok(TensorType::new(x.ty.dtype.to_float(), reduced_shape(&x.ty, axes, *keepdims)))
}

/// A reduction of a fused elementwise body.
pub(super) fn fused_reduce(
    r: &Rule<'_>,
    op: &ReduceOp,
    axes: &[usize],
    keepdims: &bool,
    body: &ScalarProgram,
) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let elem = composite_type(body, ins, &name)?;
    let operand = Operand { name: "body".into(), ty: elem.clone() };
    check_axes(axes, &operand, &name)?;
    Ok(TensorType::new(op.out_dtype(elem.dtype), reduced_shape(&elem, axes, *keepdims)))
}

pub(super) fn one<'a>(ins: &'a [Operand], op: &str) -> Result<&'a Operand, BuildErrorKind> {
    match ins {
        [x] => Ok(x),
        _ => Err(BuildErrorKind::Invalid {
            op: op.into(),
            reason: format!("takes 1 input, got {}", ins.len()),
        }),
    }
}

fn check_axes(axes: &[usize], x: &Operand, op: &str) -> Result<(), BuildErrorKind> {
    // Sorted and distinct: one spelling per set of axes, so equal reductions merge.
    for (k, &a) in axes.iter().enumerate() {
        if a >= x.ty.ndim() || (k > 0 && axes[k - 1] >= a) {
            return Err(BuildErrorKind::Axis { op: op.into(), axis: a as isize, operand: x.clone() });
        }
    }
    Ok(())
}

/// The static shape after reducing `axes`.
pub fn reduced_shape(ty: &TensorType, axes: &[usize], keepdims: bool) -> Vec<Option<usize>> {
    ty.shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdims) {
            (false, _) => Some(d),
            (true, true) => Some(Some(1)),
            (true, false) => None,
        })
        .collect()
}
