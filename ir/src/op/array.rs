//! Type rules of the array family (Theano's `extra_ops`, `sort` and `Eye`): the running sum
//! and product, sorting and its positions, repeating slices, and the identity-like matrix.
//! `tile` and `roll` are built from other ops (`build::array`).

use super::reduce::one;
use super::{CumOp, Rule};
use crate::dtype::DType;
use crate::error::BuildErrorKind;
use crate::types::TensorType;

/// `cumsum`/`cumprod` along `axis`: the input's shape, its dtype (booleans count in int64).
pub(super) fn cumulative(r: &Rule<'_>, op: CumOp, axis: usize) -> Result<TensorType, BuildErrorKind> {
    let x = one(r.ins, &r.name)?;
    if axis >= x.ty.ndim() {
        return Err(BuildErrorKind::Axis { op: r.name.clone(), axis: axis as isize, operand: x.clone() });
    }
    Ok(TensorType::new(op.out_dtype(x.ty.dtype), x.ty.shape.clone()))
}

/// `sort` (the input's type) or `argsort` (int64 positions) along `axis`.
pub(super) fn sort(r: &Rule<'_>, axis: usize, arg: bool) -> Result<TensorType, BuildErrorKind> {
    let x = one(r.ins, &r.name)?;
    if axis >= x.ty.ndim() {
        return Err(BuildErrorKind::Axis { op: r.name.clone(), axis: axis as isize, operand: x.clone() });
    }
    let dtype = if arg { DType::I64 } else { x.ty.dtype };
    Ok(TensorType::new(dtype, x.ty.shape.clone()))
}

/// `repeat(x, repeats)` along `axis`: `repeats` an integer scalar, or an integer vector as
/// long as the axis (or of length 1). The repeated axis' length is known at run time (0
/// when the axis is empty).
pub(super) fn repeat(r: &Rule<'_>, axis: usize) -> Result<TensorType, BuildErrorKind> {
    let [x, reps] = r.ins else {
        return Err(r.invalid(format!("takes the tensor and the repeats, got {} inputs", r.ins.len())));
    };
    if axis >= x.ty.ndim() {
        return Err(BuildErrorKind::Axis { op: r.name.clone(), axis: axis as isize, operand: x.clone() });
    }
    if !reps.ty.dtype.is_int() {
        return Err(BuildErrorKind::DType {
            op: r.name.clone(),
            operand: reps.clone(),
            expected: "integer repeats".into(),
        });
    }
    if reps.ty.ndim() > 1 {
        return Err(r.rank(reps, "0 or 1 (one count, or one per slice)"));
    }
    if let (1, Some(len), Some(n)) =
        (reps.ty.ndim(), reps.ty.shape.first().copied().flatten(), x.ty.shape[axis])
    {
        if len != n && len != 1 {
            return Err(BuildErrorKind::ShapeMismatch {
                op: r.name.clone(),
                operands: vec![x.clone(), reps.clone()],
            });
        }
    }
    let mut shape = x.ty.shape.clone();
    shape[axis] = (x.ty.shape[axis] == Some(0)).then_some(0);
    Ok(TensorType::new(x.ty.dtype, shape))
}

/// `eye(n, m, k)`: three integer scalars give an `n × m` matrix of `dtype`, its lengths known
/// at run time.
pub(super) fn eye(r: &Rule<'_>, dtype: DType) -> Result<TensorType, BuildErrorKind> {
    if r.ins.len() != 3 {
        return Err(r.invalid(format!("takes n, m and k, got {} inputs", r.ins.len())));
    }
    if let Some(o) = r.ins.iter().find(|o| o.ty.ndim() != 0 || !o.ty.dtype.is_int()) {
        return Err(BuildErrorKind::DType {
            op: r.name.clone(),
            operand: o.clone(),
            expected: "an integer scalar".into(),
        });
    }
    Ok(TensorType::new(dtype, vec![None, None]))
}
