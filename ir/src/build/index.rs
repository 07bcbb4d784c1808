//! Indexing builders: `x.index(i)`, `x.get(&[…])` with positions, ranges and stepped
//! slices (NumPy's meaning of negative, omitted and out-of-range bounds), each position or
//! bound a number or an integer scalar `Var`, and `set_subtensor` / `inc_subtensor` on such
//! an index. An index with an index array (an integer or boolean `Var` of at least one
//! axis, or a `Vec` of numbers) is advanced indexing (`Op::AdvancedSubtensor`).

use super::apply_inner;
use crate::error::BuildError;
use crate::op::{AdvEntry, Idx, IndexEntry, Op};
use crate::var::Var;
use std::ops::{Range, RangeFrom, RangeFull, RangeTo};

/// One axis of an index: a position (a number or an integer scalar `Var`), a slice, or an
/// index array.
#[derive(Clone, Debug)]
pub enum Index {
    /// A fixed position; negative counts from the end.
    At(isize),
    /// A symbolic position; an integer `Var` of one axis or more is an index array, a
    /// boolean one a mask (as [`Index::Array`]).
    AtVar(Var),
    /// An index array: integers (positions along the axis, negative from the end; the
    /// result has the array's axes, NumPy's advanced indexing), or booleans (a mask over as
    /// many axes as it has, selecting its true elements in row-major order).
    Array(Var),
    /// `start:stop:step`, each bound a number or a symbolic integer scalar (a minibatch
    /// `x[i * bs:(i + 1) * bs]`); out-of-range bounds are clipped as NumPy clips them.
    Slice {
        /// First position (`None`: natural start).
        start: Option<SliceBound>,
        /// End, exclusive (`None`: natural end).
        stop: Option<SliceBound>,
        /// Stride (negative walks backwards); not 0.
        step: SliceBound,
    },
}

/// A slice bound: a number, or an integer scalar `Var` known at run time.
///
/// Made `From` any Rust integer type a literal may take (`isize`, `i64`, `i32`, `usize`;
/// an unsuffixed `1` is an `i32`) and from a `Var` or `&Var`, so a bound reads the same
/// whether it is a number or an expression.
#[derive(Clone, Debug)]
pub enum SliceBound {
    /// A fixed bound.
    Const(isize),
    /// A symbolic bound.
    Var(Var),
}

/// A number as a bound or position. Past `isize`'s range (a `usize` above `isize::MAX`, an
/// `i64` on a 32-bit target) it is out of range for any axis in that direction, not a
/// wrapped-around position.
fn clamp_isize(i: impl TryInto<isize> + PartialOrd + Default) -> isize {
    let negative = i < Default::default();
    i.try_into().unwrap_or(if negative { isize::MIN } else { isize::MAX })
}

macro_rules! bound_from_int {
    ($($t:ty),*) => {
        $(
            impl From<$t> for SliceBound {
                fn from(i: $t) -> SliceBound {
                    SliceBound::Const(clamp_isize(i))
                }
            }
        )*
    };
}
bound_from_int!(isize, i64, i32, usize);

impl From<Var> for SliceBound {
    fn from(v: Var) -> SliceBound {
        SliceBound::Var(v)
    }
}
impl From<&Var> for SliceBound {
    fn from(v: &Var) -> SliceBound {
        SliceBound::Var(v.clone())
    }
}

impl Index {
    /// `start:stop:step` with optional fixed bounds.
    pub fn slice(start: Option<isize>, stop: Option<isize>, step: isize) -> Index {
        Index::Slice {
            start: start.map(SliceBound::Const),
            stop: stop.map(SliceBound::Const),
            step: SliceBound::Const(step),
        }
    }

    /// `start:stop:step` with bounds that may be symbolic:
    /// `Index::range(Some((&i * bs).into()), Some(((&i + 1) * bs).into()), 1)`.
    pub fn range(start: Option<SliceBound>, stop: Option<SliceBound>, step: impl Into<SliceBound>) -> Index {
        Index::Slice { start, stop, step: step.into() }
    }

    /// `start:stop` (step 1) with each bound a number or an integer scalar `Var`, mixed
    /// freely — what a Rust range cannot hold (`0..n` needs both ends of one type):
    ///
    /// ```
    /// use tensorlift_ir as tl;
    /// use tl::Index;
    /// let (x, n) = (tl::dvector("x"), tl::lscalar("n"));
    /// let head = x.get(&[Index::span(1, &n)]); // x[1:n]
    /// let tail = x.get(&[Index::span(&n - 1, -1)]); // x[n-1:-1]
    /// assert!(head.check().is_ok() && tail.check().is_ok());
    /// ```
    pub fn span(start: impl Into<SliceBound>, stop: impl Into<SliceBound>) -> Index {
        Index::Slice { start: Some(start.into()), stop: Some(stop.into()), step: SliceBound::Const(1) }
    }

    /// `::-1`: the axis reversed.
    pub fn rev() -> Index {
        Index::slice(None, None, -1)
    }

    /// `::step`.
    pub fn step(step: isize) -> Index {
        Index::slice(None, None, step)
    }
}

macro_rules! index_from_int {
    ($($t:ty),*) => {
        $(
            impl From<$t> for Index {
                fn from(i: $t) -> Index {
                    Index::At(clamp_isize(i))
                }
            }
        )*
    };
}
index_from_int!(isize, i64, i32, usize);
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
impl From<Vec<i64>> for Index {
    /// A constant index array.
    fn from(v: Vec<i64>) -> Index {
        Index::Array(crate::build::leaf::constant(v))
    }
}
impl From<Vec<i32>> for Index {
    /// A constant index array.
    fn from(v: Vec<i32>) -> Index {
        Index::Array(crate::build::leaf::constant(v))
    }
}
impl From<Vec<bool>> for Index {
    /// A constant mask.
    fn from(v: Vec<bool>) -> Index {
        Index::Array(crate::build::leaf::constant(v))
    }
}
/// `From` the ranges over one bound type (`a..b`, `a..`, `..b`): numbers of any integer
/// type a literal may take, `Var`s and `&Var`s (`(&i * bs)..((&i + 1) * bs)`).
macro_rules! index_from_ranges {
    ($($t:ty),*) => {
        $(
            impl From<Range<$t>> for Index {
                fn from(r: Range<$t>) -> Index {
                    Index::range(Some(r.start.into()), Some(r.end.into()), 1)
                }
            }
            impl From<RangeFrom<$t>> for Index {
                fn from(r: RangeFrom<$t>) -> Index {
                    Index::range(Some(r.start.into()), None, 1)
                }
            }
            impl From<RangeTo<$t>> for Index {
                fn from(r: RangeTo<$t>) -> Index {
                    Index::range(None, Some(r.end.into()), 1)
                }
            }
        )*
    };
}
index_from_ranges!(isize, i64, i32, usize, Var, &Var);

impl From<RangeFull> for Index {
    fn from(_: RangeFull) -> Index {
        Index::slice(None, None, 1)
    }
}

impl Index {
    /// Whether the entry is an index array (an array, or a symbolic position of one axis
    /// or more, or boolean).
    pub fn is_array(&self) -> bool {
        match self {
            Index::Array(_) => true,
            Index::AtVar(v) => v.ndim() > 0 || v.dtype() == crate::DType::Bool,
            _ => false,
        }
    }
}

/// Splits an advanced index into the op's entries and its index inputs (each entry's
/// symbolic bounds or its array, in order).
fn adv_entries(index: &[Index]) -> (Vec<AdvEntry>, Vec<Var>) {
    let mut vars = Vec::new();
    let mut out = Vec::with_capacity(index.len());
    for i in index {
        match i {
            Index::Array(v) | Index::AtVar(v) if i.is_array() => {
                out.push(AdvEntry::Array);
                vars.push(v.clone());
            }
            basic => {
                let (e, v) = entries(std::slice::from_ref(basic));
                out.push(AdvEntry::Basic(e[0]));
                vars.extend(v);
            }
        }
    }
    (out, vars)
}

/// Splits an index into the op's entries and its symbolic index inputs (in the order the
/// op reads them: each entry's position, or its start, stop and step).
fn entries(index: &[Index]) -> (Vec<IndexEntry>, Vec<Var>) {
    let mut vars = Vec::new();
    let mut idx = |b: &SliceBound| match b {
        SliceBound::Const(c) => Idx::Const(*c),
        SliceBound::Var(v) => {
            vars.push(v.clone());
            Idx::Input
        }
    };
    let e = index
        .iter()
        .map(|i| match i {
            Index::At(c) => IndexEntry::At(Idx::Const(*c)),
            Index::AtVar(v) | Index::Array(v) => IndexEntry::At(idx(&SliceBound::Var(v.clone()))),
            Index::Slice { start, stop, step } => IndexEntry::Slice {
                start: start.as_ref().map(&mut idx),
                stop: stop.as_ref().map(&mut idx),
                step: idx(step),
            },
        })
        .collect();
    (e, vars)
}

/// The builder's index of a `Subtensor`/`IncSubtensor` node: its entries with their
/// symbolic inputs (`idx_inputs`, the node's inputs after the data) put back in place.
pub fn index_of(entries: &[IndexEntry], idx_inputs: &[Var]) -> Vec<Index> {
    let mut symbolic = idx_inputs.iter();
    let mut bound = |i: Idx| match i {
        Idx::Const(c) => SliceBound::Const(c),
        Idx::Input => SliceBound::Var(symbolic.next().expect("one input per symbolic index").clone()),
    };
    entries
        .iter()
        .map(|e| match *e {
            IndexEntry::At(i) => match bound(i) {
                SliceBound::Const(c) => Index::At(c),
                SliceBound::Var(v) => Index::AtVar(v),
            },
            IndexEntry::Slice { start, stop, step } => {
                Index::Slice { start: start.map(&mut bound), stop: stop.map(&mut bound), step: bound(step) }
            }
        })
        .collect()
}

/// The builder's index of an `AdvancedSubtensor`/`AdvancedIncSubtensor` node: its entries
/// with their inputs (`idx_inputs`, the node's inputs after the data) put back in place.
pub fn adv_index_of(entries: &[AdvEntry], idx_inputs: &[Var]) -> Vec<Index> {
    let mut rest = idx_inputs;
    entries
        .iter()
        .map(|e| {
            let (mine, after) = rest.split_at(e.n_inputs());
            rest = after;
            match e {
                AdvEntry::Basic(b) => index_of(std::slice::from_ref(b), mine).remove(0),
                AdvEntry::Array => Index::Array(mine[0].clone()),
            }
        })
        .collect()
}

/// Builds `x[index]`: basic indexing, or advanced indexing when an entry is an index array.
#[track_caller]
pub fn try_subtensor(x: impl AsRef<Var>, index: &[Index]) -> Result<Var, BuildError> {
    let x = x.as_ref();
    let mut inputs = vec![x.clone()];
    let op = if index.iter().any(Index::is_array) {
        let (index, vars) = adv_entries(index);
        inputs.extend(vars);
        Op::AdvancedSubtensor { index }
    } else {
        let (index, vars) = entries(index);
        inputs.extend(vars);
        Op::Subtensor { index }
    };
    match apply_inner(op, inputs) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.located()),
    }
}

#[track_caller]
fn inc(x: &Var, y: &Var, index: &[Index], set: bool) -> Var {
    let mut inputs = vec![x.clone(), y.clone()];
    let op = if index.iter().any(Index::is_array) {
        let (index, vars) = adv_entries(index);
        inputs.extend(vars);
        Op::AdvancedIncSubtensor { index, set }
    } else {
        let (index, vars) = entries(index);
        inputs.extend(vars);
        Op::IncSubtensor { index, set }
    };
    super::apply(op, inputs)
}

/// `x` with `x[index]` replaced by `y` (broadcast to the region), as a new tensor. With an
/// index array that repeats a position, the last write wins (as NumPy).
#[track_caller]
pub fn set_subtensor(x: impl AsRef<Var>, index: &[Index], y: impl Into<super::elemwise::Term>) -> Var {
    let x = x.as_ref();
    let y = lit_like(x, y.into());
    inc(x, &y, index, true)
}

/// `x` with `y` added to `x[index]`, as a new tensor. With an index array, every repeated
/// position accumulates (Theano's `AdvancedIncSubtensor1`, NumPy's `add.at`).
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
