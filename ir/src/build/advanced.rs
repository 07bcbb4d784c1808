//! `take` (NumPy's and Theano's): elements or slices of a tensor at an array of positions
//! along one axis, or of the flattened tensor. Indexing with index arrays itself is built by
//! `x.get(…)` and `set_subtensor`/`inc_subtensor` (module `index`), which choose advanced
//! indexing when an entry is an array.

use super::index::{try_subtensor, Index};
use super::norm_axis;
use crate::error::BuildError;
use crate::var::Var;

/// `take(x, indices, axis)`: along `axis` (negative from the end), the slices of `x` at
/// `indices` (an integer `Var` of any rank: the result has `x`'s axes with `axis` replaced
/// by the indices' axes); with `axis = None`, the elements of `x` flattened. Positions are
/// checked when the function runs (negative ones count from the end).
#[track_caller]
pub fn take(x: impl AsRef<Var>, indices: impl AsRef<Var>, axis: Option<isize>) -> Var {
    Var::from_result(try_take(x.as_ref(), indices.as_ref(), axis))
}

#[track_caller]
fn try_take(x: &Var, indices: &Var, axis: Option<isize>) -> Result<Var, BuildError> {
    indices.check()?;
    if !indices.dtype().is_int() {
        return Err(BuildError::new(crate::BuildErrorKind::DType {
            op: "take".into(),
            operand: indices.operand(),
            expected: "integer indices".into(),
        }));
    }
    let (x, axis) = match axis {
        None => (x.flatten(1), 0),
        Some(a) => (x.clone(), norm_axis("take", a, x)?),
    };
    let mut index = vec![Index::slice(None, None, 1); axis];
    index.push(Index::AtVar(indices.clone()));
    try_subtensor(&x, &index)
}

impl Var {
    /// `take(self, indices, axis)`: see [`take`].
    #[track_caller]
    pub fn take(&self, indices: impl AsRef<Var>, axis: Option<isize>) -> Var {
        take(self, indices, axis)
    }
}
