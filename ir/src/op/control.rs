//! Type rules of control flow: `ifelse`, a choice between two values by a 0-d condition.

use super::Rule;
use crate::error::BuildErrorKind;
use crate::types::TensorType;

/// `ifelse(cond, then, else)`: `cond` is 0-d; the branches have one dtype and one rank (as
/// Theano's, which requires identical types), and the result keeps the static lengths they
/// agree on.
pub(super) fn ifelse(r: &Rule<'_>) -> Result<TensorType, BuildErrorKind> {
    let [cond, then, other] = r.ins else {
        return Err(r.invalid(format!("takes 3 inputs (condition, then, else), got {}", r.ins.len())));
    };
    if cond.ty.ndim() != 0 {
        return Err(r.rank(cond, "a 0-d condition"));
    }
    if then.ty.dtype != other.ty.dtype || then.ty.ndim() != other.ty.ndim() {
        return Err(r.invalid(format!(
            "the branches must have the same dtype and number of dimensions, got {then} and {other}"
        )));
    }
    let shape =
        then.ty.shape.iter().zip(&other.ty.shape).map(|(a, b)| if a == b { *a } else { None }).collect();
    Ok(TensorType::new(then.ty.dtype, shape))
}
