//! Building graphs: every public constructor of a `Var`. Each builder type-checks with the
//! op's rule (`Op::infer`) and returns a `Var` that carries any error with the caller's source
//! location; the `try_` forms return the error at once.
//!
//! Submodules: `leaf` (inputs, constants, shared), `elemwise` (operators and the math
//! library), `reduce` (reductions and the softmax family), `shape` (dot, dimshuffle, reshape,
//! joins), `index` (indexing and `set/inc_subtensor`).

pub mod elemwise;
pub mod index;
pub mod leaf;
pub mod reduce;
pub mod shape;

use crate::error::{BuildError, BuildErrorKind, Operand};
use crate::op::Op;
use crate::var::Var;

/// Builds the node `op(inputs)`: the first input error is passed on unchanged; otherwise the
/// op's type rule gives the result type or an error located at the caller.
#[track_caller]
pub fn try_apply(op: Op, inputs: Vec<Var>) -> Result<Var, BuildError> {
    for v in &inputs {
        v.check()?;
    }
    let operands: Vec<Operand> = inputs.iter().map(Var::operand).collect();
    let ty = op.infer(&operands).map_err(BuildError::here)?;
    Ok(Var::from_parts(op, inputs, ty, None))
}

/// `try_apply` whose error is carried by the returned `Var`.
#[track_caller]
pub fn apply(op: Op, inputs: Vec<Var>) -> Var {
    Var::from_result(try_apply(op, inputs))
}

/// Normalizes a possibly negative axis for a tensor of `ndim` axes.
#[track_caller]
pub(crate) fn norm_axis(op: &str, axis: isize, x: &Var) -> Result<usize, BuildError> {
    let n = x.ndim() as isize;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(BuildError::here(BuildErrorKind::Axis { op: op.into(), axis, operand: x.operand() }));
    }
    Ok(a as usize)
}
