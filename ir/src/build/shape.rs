//! Builders that reshape or combine tensors: `dot`, `outer`, `dimshuffle`, `transpose`,
//! `reshape`, `flatten`, `concatenate`, `stack`; and the symbolic shape: `shape`,
//! `shape_i` (also `x.shape_i(axis)`), `alloc`, `arange`.

use super::elemwise::{term_var, Term};
use super::{apply_inner, norm_axis};
use crate::error::BuildError;
use crate::op::{Dim, Op, ReshapeDim};
use crate::var::Var;

/// Parses a Theano dimshuffle pattern such as `"0,x,1"` or `"x 0"`.
fn parse_pattern(pattern: &str) -> Result<Vec<Option<usize>>, String> {
    pattern
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(|p| match p {
            "x" | "X" => Ok(None),
            n => n.parse::<usize>().map(Some).map_err(|_| format!("bad dimshuffle entry {n:?}")),
        })
        .collect()
}

impl Var {
    /// Theano's `dimshuffle`: `Some(i)` takes axis `i`, `None` inserts a broadcastable axis;
    /// unlisted axes must be broadcastable and are dropped.
    #[track_caller]
    pub fn dimshuffle(&self, order: &[Option<usize>]) -> Var {
        super::apply(Op::DimShuffle { order: order.to_vec() }, vec![self.clone()])
    }

    /// `dimshuffle` from Theano's spelling: `x.dimshuffle_pattern("0,x")`.
    #[track_caller]
    pub fn dimshuffle_pattern(&self, pattern: &str) -> Var {
        if let Err(e) = self.check() {
            return Var::from_error(e);
        }
        match parse_pattern(pattern) {
            Ok(order) => self.dimshuffle(&order),
            Err(e) => Var::from_error(BuildError::invalid("dimshuffle", e)),
        }
    }

    /// Reverses the axes (matrix transpose).
    #[track_caller]
    pub fn t(&self) -> Var {
        let order: Vec<Option<usize>> = (0..self.ndim()).rev().map(Some).collect();
        self.dimshuffle(&order)
    }

    /// Permutes the axes: `x.transpose(&[1, 0, 2])`.
    #[track_caller]
    pub fn transpose(&self, axes: &[usize]) -> Var {
        if let Err(e) = self.check() {
            return Var::from_error(e);
        }
        if axes.len() != self.ndim() {
            return Var::from_error(BuildError::invalid(
                "transpose",
                format!("{} axes given for rank {}", axes.len(), self.ndim()),
            ));
        }
        let order: Vec<Option<usize>> = axes.iter().copied().map(Some).collect();
        self.dimshuffle(&order)
    }

    /// The same elements in a new shape; one length may be `-1` (inferred).
    #[track_caller]
    pub fn reshape(&self, shape: &[isize]) -> Var {
        if let Err(e) = self.check() {
            return Var::from_error(e);
        }
        let mut dims = Vec::with_capacity(shape.len());
        for &d in shape {
            dims.push(match d {
                -1 => ReshapeDim::Infer,
                n if n >= 0 => ReshapeDim::Fixed(n as usize),
                n => return Var::from_error(BuildError::invalid("reshape", format!("invalid length {n}"))),
            });
        }
        super::apply(Op::Reshape { shape: dims }, vec![self.clone()])
    }

    /// Flattens to `ndim` axes, keeping the leading `ndim - 1` and merging the rest.
    #[track_caller]
    pub fn flatten(&self, ndim: usize) -> Var {
        if let Err(e) = self.check() {
            return Var::from_error(e);
        }
        if ndim == 0 || ndim > self.ndim().max(1) {
            return Var::from_error(BuildError::invalid(
                "flatten",
                format!("cannot flatten rank {} to {ndim} axes", self.ndim()),
            ));
        }
        let mut dims: Vec<ReshapeDim> = (0..ndim - 1).map(ReshapeDim::Keep).collect();
        dims.push(ReshapeDim::Infer);
        super::apply(Op::Reshape { shape: dims }, vec![self.clone()])
    }
}

/// Joins tensors of equal rank along an existing axis.
#[track_caller]
pub fn concatenate<V: AsRef<Var>>(xs: &[V], axis: isize) -> Var {
    let xs: Vec<Var> = xs.iter().map(|x| x.as_ref().clone()).collect();
    let r = (|| {
        let first =
            xs.first().ok_or_else(|| BuildError::invalid("concatenate", "needs at least one tensor"))?;
        first.check()?;
        let axis = norm_axis("concatenate", axis, first)?;
        apply_inner(Op::Concatenate { axis }, xs.clone())
    })();
    Var::from_result(r)
}

/// Stacks tensors of equal shape along a new axis.
#[track_caller]
pub fn stack<V: AsRef<Var>>(xs: &[V], axis: isize) -> Var {
    let xs: Vec<Var> = xs.iter().map(|x| x.as_ref().clone()).collect();
    let r = (|| {
        let first = xs.first().ok_or_else(|| BuildError::invalid("stack", "needs at least one tensor"))?;
        first.check()?;
        let n = first.ndim() as isize + 1;
        let a = if axis < 0 { axis + n } else { axis };
        if a < 0 || a >= n {
            return Err(BuildError::invalid("stack", format!("axis {axis} out of range for rank {n}")));
        }
        let a = a as usize;
        let mut parts = Vec::with_capacity(xs.len());
        for x in &xs {
            let mut order: Vec<Option<usize>> = (0..x.ndim()).map(Some).collect();
            order.insert(a, None);
            parts.push(apply_inner(Op::DimShuffle { order }, vec![x.clone()])?);
        }
        apply_inner(Op::Concatenate { axis: a }, parts)
    })();
    Var::from_result(r)
}

/// Theano's `x.shape`: the run-time shape of `x`, an int64 vector as long as its rank.
#[track_caller]
pub fn shape(x: impl AsRef<Var>) -> Var {
    super::apply(Op::Shape, vec![x.as_ref().clone()])
}

/// Theano's `x.shape[axis]` (`Shape_i`): the run-time length of one axis, an int64 scalar;
/// a negative axis counts from the end. Also a method: `x.shape_i(0)`.
#[track_caller]
pub fn shape_i(x: impl AsRef<Var>, axis: isize) -> Var {
    let x = x.as_ref();
    let r = norm_axis("shape_i", axis, x).and_then(|axis| apply_inner(Op::ShapeI { axis }, vec![x.clone()]));
    Var::from_result(r)
}

impl Var {
    /// Theano's `x.shape[axis]`: the run-time length of one axis, an int64 0-d variable (the
    /// method form of [`shape_i`]); a negative axis counts from the end, an axis out of range
    /// gives an error `Var`.
    ///
    /// ```
    /// use tensorlift_ir as tl;
    /// let y = tl::lvector("y");
    /// let n = y.shape_i(0);
    /// assert_eq!((n.dtype(), n.ndim()), (tl::DType::I64, 0));
    /// // The rows of a minibatch, numbered: Theano's `arange(y.shape[0])`.
    /// let rows = tl::arange(y.shape_i(-1));
    /// assert_eq!(rows.dtype(), tl::DType::I64);
    /// assert!(y.shape_i(1).check().is_err());
    /// ```
    #[track_caller]
    pub fn shape_i(&self, axis: isize) -> Var {
        shape_i(self, axis)
    }
}

/// One length of an [`alloc`] shape: a number, or an integer scalar expression such as
/// `shape_i(&x, 0)`.
#[derive(Clone, Debug)]
pub enum Length {
    /// A fixed length.
    Fixed(usize),
    /// A symbolic length.
    Var(Var),
}

impl From<usize> for Length {
    fn from(n: usize) -> Length {
        Length::Fixed(n)
    }
}

impl From<Var> for Length {
    fn from(v: Var) -> Length {
        Length::Var(v)
    }
}

impl From<&Var> for Length {
    fn from(v: &Var) -> Length {
        Length::Var(v.clone())
    }
}

/// Theano's `alloc(value, *shape)`: `value` broadcast to `shape` (its axes align with the
/// last ones), as a new tensor. A length that is an integer constant becomes a fixed one.
#[track_caller]
pub fn alloc(value: impl Into<Term>, shape: &[Length]) -> Var {
    let mut inputs = vec![term_var(value.into())];
    let dims = shape
        .iter()
        .map(|l| match l {
            Length::Fixed(n) => Dim::Fixed(*n),
            Length::Var(v) => match v.op() {
                Op::Constant(t) if t.ndim() == 0 && t.dtype().is_int() => match t.to_f64() {
                    Ok(n) if n >= 0.0 => Dim::Fixed(n as usize),
                    _ => {
                        inputs.push(v.clone());
                        Dim::Input
                    }
                },
                _ => {
                    inputs.push(v.clone());
                    Dim::Input
                }
            },
        })
        .collect();
    super::apply(Op::Alloc { shape: dims }, inputs)
}

/// One axis of a [`reshape`] target: a length, `-1` (inferred, at most once), or a
/// symbolic length such as `shape_i(&x, 0)`.
#[derive(Clone, Debug)]
pub enum ReshapeLen {
    /// A fixed length, or `-1` for the inferred one.
    Fixed(isize),
    /// A symbolic length (an integer scalar).
    Var(Var),
}

impl From<isize> for ReshapeLen {
    fn from(n: isize) -> ReshapeLen {
        ReshapeLen::Fixed(n)
    }
}
impl From<i32> for ReshapeLen {
    fn from(n: i32) -> ReshapeLen {
        ReshapeLen::Fixed(n as isize)
    }
}
impl From<Var> for ReshapeLen {
    fn from(v: Var) -> ReshapeLen {
        ReshapeLen::Var(v)
    }
}
impl From<&Var> for ReshapeLen {
    fn from(v: &Var) -> ReshapeLen {
        ReshapeLen::Var(v.clone())
    }
}

/// Theano's `x.reshape(shape)` with a shape of numbers, one `-1`, and symbolic lengths
/// (`reshape(&x, &[shape_i(&x, 0).into(), (-1).into()])`). A length that is an integer
/// constant becomes a fixed one, `shape_i(x, k)` of `x` itself keeps axis `k`.
#[track_caller]
pub fn reshape(x: impl AsRef<Var>, shape: &[ReshapeLen]) -> Var {
    let x = x.as_ref();
    let mut inputs = vec![x.clone()];
    let mut dims = Vec::with_capacity(shape.len());
    for l in shape {
        dims.push(match l {
            ReshapeLen::Fixed(-1) => ReshapeDim::Infer,
            &ReshapeLen::Fixed(n) => match usize::try_from(n) {
                Ok(n) => ReshapeDim::Fixed(n),
                Err(_) => {
                    return Var::from_error(BuildError::invalid("reshape", format!("invalid length {n}")))
                }
            },
            ReshapeLen::Var(v) => match v.op() {
                Op::Constant(t)
                    if t.ndim() == 0 && t.dtype().is_int() && t.to_f64().is_ok_and(|n| n >= 0.0) =>
                {
                    ReshapeDim::Fixed(t.to_f64().expect("checked") as usize)
                }
                Op::ShapeI { axis } if v.inputs()[0].same(x) => ReshapeDim::Keep(*axis),
                _ => {
                    inputs.push(v.clone());
                    ReshapeDim::Input
                }
            },
        });
    }
    super::apply(Op::Reshape { shape: dims }, inputs)
}

/// The bounds of [`arange`] in NumPy's arities: `stop` alone (from 0 by 1), `(start, stop)`
/// (by 1) or `(start, stop, step)`, each a number or a numeric scalar `Var` (owned or
/// borrowed), mixed freely: `arange(5)`, `arange((2, 10))`, `arange((0, y.shape_i(0), 2))`.
pub trait ArangeArgs {
    /// `[start, stop, step]`.
    fn into_bounds(self) -> [Term; 3];
}

impl<T: Into<Term>> ArangeArgs for T {
    fn into_bounds(self) -> [Term; 3] {
        [Term::Int(0), self.into(), Term::Int(1)]
    }
}

impl<A: Into<Term>, B: Into<Term>> ArangeArgs for (A, B) {
    fn into_bounds(self) -> [Term; 3] {
        [self.0.into(), self.1.into(), Term::Int(1)]
    }
}

impl<A: Into<Term>, B: Into<Term>, C: Into<Term>> ArangeArgs for (A, B, C) {
    fn into_bounds(self) -> [Term; 3] {
        [self.0.into(), self.1.into(), self.2.into()]
    }
}

/// Theano's `arange`: `start, start + step, …` below `stop`, given as NumPy's arities
/// (see [`ArangeArgs`]): `arange(stop)`, `arange((start, stop))`, `arange((start, stop,
/// step))`, each bound a number or a numeric scalar `Var`. Integers give int64 (Theano's
/// rule: no narrower integer, so nothing overflows); with a float the result has the widest
/// float dtype among the `Var`s, or `floatX` for float literals alone. Numbers alone give a
/// constant, whose length is known when building.
///
/// ```
/// use tensorlift_ir as tl;
/// let values = |v: tl::Var| v.constant_value().unwrap().to_f64_vec();
/// assert_eq!(values(tl::arange(4)), [0.0, 1.0, 2.0, 3.0]);
/// assert_eq!(values(tl::arange((2, 5))), [2.0, 3.0, 4.0]);
/// assert_eq!(values(tl::arange((5, 0, -2))), [5.0, 3.0, 1.0]);
/// // A symbolic bound: one row number per row of `x`.
/// let x = tl::dmatrix("x");
/// let rows = tl::arange(x.shape_i(0));
/// assert_eq!((rows.dtype(), rows.ndim()), (tl::DType::I64, 1));
/// let halves = tl::arange((0, x.shape_i(1), 0.5));
/// assert_eq!(halves.dtype(), tl::config::float_x());
/// ```
#[track_caller]
pub fn arange(bounds: impl ArangeArgs) -> Var {
    use crate::dtype::DType;
    let terms = bounds.into_bounds();
    let var_float = |t: &Term| match t {
        Term::Var(v) if v.dtype().is_float() => Some(v.dtype()),
        _ => None,
    };
    let dtype = match terms.iter().filter_map(var_float).max_by_key(|d| d.size()) {
        Some(d) => d,
        None if terms.iter().any(|t| matches!(t, Term::Float(_))) => crate::config::float_x(),
        None => DType::I64,
    };
    // Numbers alone (literals or scalar constants) fold to a constant.
    let number = |t: &Term| match t {
        Term::Int(i) => Some(crate::Tensor::from(*i)),
        Term::Float(f) => Some(crate::Tensor::from(*f)),
        Term::Var(v) => match v.op() {
            Op::Constant(c) if c.ndim() == 0 => Some((**c).clone()),
            _ => None,
        },
        Term::Bool(_) => None,
    };
    if let [Some(a), Some(b), Some(k)] = terms.each_ref().map(number) {
        let scalar = |t: &crate::Tensor| crate::types::TensorType::scalar(t.dtype());
        let tys = [scalar(&a), scalar(&b), scalar(&k)];
        let ins: Vec<_> = [&a, &b, &k]
            .iter()
            .zip(&tys)
            .map(|(t, ty)| crate::kernels::KernelInput { name: "", ty, value: t })
            .collect();
        let out = crate::types::TensorType::new(dtype, vec![None]);
        if let Ok(v) = crate::kernels::eval(&Op::ARange { dtype }, &ins, &out) {
            return crate::build::leaf::constant(v);
        }
    }
    super::apply(Op::ARange { dtype }, terms.into_iter().map(term_var).collect())
}

/// `x` with `axes` made broadcastable (Theano's `addbroadcast`): their static length becomes
/// 1, checked when the function runs.
#[track_caller]
pub fn addbroadcast(x: impl AsRef<Var>, axes: &[isize]) -> Var {
    rebroadcast(x.as_ref(), "addbroadcast", axes.iter().map(|&a| (a, true)).collect())
}

/// `x` with `axes` no longer broadcastable (Theano's `unbroadcast`): their static length 1,
/// if they had one, is forgotten.
#[track_caller]
pub fn unbroadcast(x: impl AsRef<Var>, axes: &[isize]) -> Var {
    rebroadcast(x.as_ref(), "unbroadcast", axes.iter().map(|&a| (a, false)).collect())
}

/// `x` with every axis's broadcastability set from `pattern` (Theano's
/// `patternbroadcast`), one flag per axis.
#[track_caller]
pub fn patternbroadcast(x: impl AsRef<Var>, pattern: &[bool]) -> Var {
    let x = x.as_ref();
    if x.check().is_ok() && pattern.len() != x.ndim() {
        return Var::from_error(crate::error::BuildError::invalid(
            "patternbroadcast",
            format!("a pattern of {} flags for {} axes", pattern.len(), x.ndim()),
        ));
    }
    rebroadcast(x, "patternbroadcast", pattern.iter().enumerate().map(|(a, &b)| (a as isize, b)).collect())
}

#[track_caller]
fn rebroadcast(x: &Var, name: &str, axes: Vec<(isize, bool)>) -> Var {
    let resolved: Result<Vec<(usize, bool)>, _> =
        axes.into_iter().map(|(a, b)| norm_axis(name, a, x).map(|a| (a, b))).collect();
    Var::from_result(resolved.and_then(|axes| apply_inner(Op::Rebroadcast { axes }, vec![x.clone()])))
}
