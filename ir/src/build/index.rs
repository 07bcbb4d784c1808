//! Indexing builders: `x.index(i)`, `x.get(&[…])` with positions, ranges and stepped
//! slices (NumPy's meaning of negative and omitted bounds), and `set_subtensor` /
//! `inc_subtensor` on such an index.

use super::apply_inner;
use crate::error::BuildError;
use crate::op::{Idx, IndexEntry, Op};
use crate::var::Var;
use std::ops::{Range, RangeFrom, RangeFull, RangeTo};

/// One axis of an index: a position (a number or an integer scalar `Var`) or a slice.
#[derive(Clone, Debug)]
pub enum Index {
    /// A fixed position; negative counts from the end.
    At(isize),
    /// A symbolic position.
    AtVar(Var),
    /// `start:stop:step`.
    Slice {
        /// First position (`None`: natural start).
        start: Option<isize>,
        /// End, exclusive (`None`: natural end).
        stop: Option<isize>,
        /// Stride (negative walks backwards); not 0.
        step: isize,
    },
}

impl Index {
    /// `start:stop:step` with optional bounds.
    pub fn slice(start: Option<isize>, stop: Option<isize>, step: isize) -> Index {
        Index::Slice { start, stop, step }
    }

    /// `::-1`: the axis reversed.
    pub fn rev() -> Index {
        Index::Slice { start: None, stop: None, step: -1 }
    }

    /// `::step`.
    pub fn step(step: isize) -> Index {
        Index::Slice { start: None, stop: None, step }
    }
}

impl From<isize> for Index {
    fn from(i: isize) -> Index {
        Index::At(i)
    }
}
impl From<i32> for Index {
    fn from(i: i32) -> Index {
        Index::At(i as isize)
    }
}
impl From<usize> for Index {
    fn from(i: usize) -> Index {
        // Past isize::MAX is out of range for any axis, not a negative index.
        Index::At(isize::try_from(i).unwrap_or(isize::MAX))
    }
}
impl From<&Var> for Index {
    fn from(v: &Var) -> Index {
        Index::AtVar(v.clone())
    }
}
impl From<Var> for Index {
    fn from(v: Var) -> Index {
        Index::AtVar(v)
    }
}
impl From<Range<isize>> for Index {
    fn from(r: Range<isize>) -> Index {
        Index::slice(Some(r.start), Some(r.end), 1)
    }
}
impl From<RangeFrom<isize>> for Index {
    fn from(r: RangeFrom<isize>) -> Index {
        Index::slice(Some(r.start), None, 1)
    }
}
impl From<RangeTo<isize>> for Index {
    fn from(r: RangeTo<isize>) -> Index {
        Index::slice(None, Some(r.end), 1)
    }
}
impl From<RangeFull> for Index {
    fn from(_: RangeFull) -> Index {
        Index::slice(None, None, 1)
    }
}
impl From<Range<i32>> for Index {
    fn from(r: Range<i32>) -> Index {
        Index::slice(Some(r.start as isize), Some(r.end as isize), 1)
    }
}
impl From<RangeFrom<i32>> for Index {
    fn from(r: RangeFrom<i32>) -> Index {
        Index::slice(Some(r.start as isize), None, 1)
    }
}
impl From<RangeTo<i32>> for Index {
    fn from(r: RangeTo<i32>) -> Index {
        Index::slice(None, Some(r.end as isize), 1)
    }
}

/// Splits an index into the op's entries and its symbolic index inputs.
fn entries(index: &[Index]) -> (Vec<IndexEntry>, Vec<Var>) {
    let mut vars = Vec::new();
    let e = index
        .iter()
        .map(|i| match i {
            Index::At(c) => IndexEntry::At(Idx::Const(*c)),
            Index::AtVar(v) => {
                vars.push(v.clone());
                IndexEntry::At(Idx::Input)
            }
            Index::Slice { start, stop, step } => {
                IndexEntry::Slice { start: *start, stop: *stop, step: *step }
            }
        })
        .collect();
    (e, vars)
}

/// Builds `x[index]`.
#[track_caller]
pub fn try_subtensor(x: impl AsRef<Var>, index: &[Index]) -> Result<Var, BuildError> {
    let x = x.as_ref();
    let (index, vars) = entries(index);
    let mut inputs = vec![x.clone()];
    inputs.extend(vars);
    match apply_inner(Op::Subtensor { index }, inputs) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.located()),
    }
}

#[track_caller]
fn inc(x: &Var, y: &Var, index: &[Index], set: bool) -> Var {
    let (index, vars) = entries(index);
    let mut inputs = vec![x.clone(), y.clone()];
    inputs.extend(vars);
    super::apply(Op::IncSubtensor { index, set }, inputs)
}

/// `x` with `x[index]` replaced by `y` (broadcast to the region), as a new tensor.
#[track_caller]
pub fn set_subtensor(x: impl AsRef<Var>, index: &[Index], y: impl Into<super::elemwise::Term>) -> Var {
    let x = x.as_ref();
    let y = lit_like(x, y.into());
    inc(x, &y, index, true)
}

/// `x` with `y` added to `x[index]`, as a new tensor.
#[track_caller]
pub fn inc_subtensor(x: impl AsRef<Var>, index: &[Index], y: impl Into<super::elemwise::Term>) -> Var {
    let x = x.as_ref();
    let y = lit_like(x, y.into());
    inc(x, &y, index, false)
}

/// A number given as the value of `set/inc_subtensor` takes `x`'s dtype.
fn lit_like(x: &Var, y: super::elemwise::Term) -> Var {
    use super::elemwise::Term;
    match y {
        Term::Var(v) => v,
        Term::Float(f) => crate::build::leaf::constant(crate::Tensor::scalar_of(x.dtype(), f)),
        Term::Int(i) => crate::build::leaf::constant(crate::Tensor::scalar_of(x.dtype(), i as f64)),
        Term::Bool(b) => crate::build::leaf::constant(crate::Tensor::scalar_of(x.dtype(), b as u8 as f64)),
    }
}

impl Var {
    /// `x[i]` on the first axis: a number, a negative number, or an integer scalar `Var`.
    #[track_caller]
    pub fn index(&self, i: impl Into<Index>) -> Var {
        Var::from_result(try_subtensor(self, &[i.into()]))
    }

    /// `x[i0, i1, …]`: one entry per leading axis, each a position or a slice
    /// (`1..3`, `..`, `Index::rev()`, `Index::slice(Some(1), None, 2)`).
    #[track_caller]
    pub fn get(&self, index: &[Index]) -> Var {
        Var::from_result(try_subtensor(self, index))
    }

    /// `x[start:stop:step]` on the first axis.
    #[track_caller]
    pub fn slice(&self, start: Option<isize>, stop: Option<isize>, step: isize) -> Var {
        self.get(&[Index::slice(start, stop, step)])
    }
}

/// The index entries of `x[i0, i1, …]`, for `Var::get`, `set_subtensor` and
/// `inc_subtensor`: `x.get(idx![1, 0..2])` is `x[1, 0:2]`.
#[macro_export]
macro_rules! idx {
    ($($e:expr),* $(,)?) => {
        &[$($crate::Index::from($e)),*][..]
    };
}
