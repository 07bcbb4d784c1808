//! Builders of the array family (Theano's `extra_ops`, `sort` and the last of
//! `theano.tensor.basic`'s array functions): `cumsum`, `cumprod`, `sort`, `argsort`,
//! `repeat`, `tile`, `roll`, `eye` and `identity_like`.
//!
//! `tile` and `roll` are built from other ops as Theano builds them (`tile`: an `alloc` of
//! the repetitions in front, a dimshuffle that interleaves them with the axes, a reshape;
//! `roll`: two slices joined in the other order), so their gradients are those ops'.
//! A `None` axis means the flattened tensor, as in NumPy and Theano.

use super::elemwise::{elemwise_inner, term_var, Term};
use super::shape::Length;
use super::{apply_inner, norm_axis};
use crate::dtype::DType;
use crate::error::{BuildError, BuildErrorKind};
use crate::op::{CumOp, Dim, Idx, IndexEntry, Op, ReshapeDim};
use crate::scalar::ScalarOp;
use crate::value::Tensor;
use crate::var::Var;

/// `x` flattened to a vector (row-major).
fn flat(x: &Var) -> Result<Var, BuildError> {
    apply_inner(Op::Reshape { shape: vec![ReshapeDim::Infer] }, vec![x.clone()])
}

/// The tensor and axis an op with Theano's `axis` argument works on: `x` flattened and axis
/// 0 for `None`, else `x` and the axis (negative from the end).
fn flat_or_axis(op: &str, x: &Var, axis: Option<isize>) -> Result<(Var, usize), BuildError> {
    x.check()?;
    match axis {
        None => Ok((flat(x)?, 0)),
        Some(a) => Ok((x.clone(), norm_axis(op, a, x)?)),
    }
}

/// The running reduction `op` along `axis` (Theano's `CumOp`); `None` runs over `x`
/// flattened. The result has `x`'s dtype (booleans count in int64).
#[track_caller]
pub fn cumulative(op: CumOp, x: impl AsRef<Var>, axis: Option<isize>) -> Var {
    let r = flat_or_axis(op.name(), x.as_ref(), axis)
        .and_then(|(x, axis)| apply_inner(Op::Cumulative { op, axis }, vec![x]));
    Var::from_result(r)
}

/// Theano's and NumPy's `cumsum(x, axis)`: the running sum along `axis` (negative from the
/// end), or over `x` flattened for `None`.
#[track_caller]
pub fn cumsum(x: impl AsRef<Var>, axis: Option<isize>) -> Var {
    cumulative(CumOp::Sum, x, axis)
}

/// Theano's and NumPy's `cumprod(x, axis)`: the running product along `axis` (negative from
/// the end), or over `x` flattened for `None`.
#[track_caller]
pub fn cumprod(x: impl AsRef<Var>, axis: Option<isize>) -> Var {
    cumulative(CumOp::Prod, x, axis)
}

/// Theano's `sort(a, axis)`: `a` sorted in ascending order along `axis` (Theano's default is
/// `Some(-1)`), NaN last as in NumPy; `None` sorts `a` flattened.
#[track_caller]
pub fn sort(a: impl AsRef<Var>, axis: Option<isize>) -> Var {
    let r =
        flat_or_axis("sort", a.as_ref(), axis).and_then(|(x, axis)| apply_inner(Op::Sort { axis }, vec![x]));
    Var::from_result(r)
}

/// Theano's `argsort(a, axis)`: the int64 positions that sort `a` along `axis` (NaN last,
/// equal elements in their order), or `a` flattened for `None`. It has no gradient.
#[track_caller]
pub fn argsort(a: impl AsRef<Var>, axis: Option<isize>) -> Var {
    let r = flat_or_axis("argsort", a.as_ref(), axis)
        .and_then(|(x, axis)| apply_inner(Op::ArgSort { axis }, vec![x]));
    Var::from_result(r)
}

/// The integer values of a constant, if `v` is one.
fn constant_ints(v: &Var) -> Option<Vec<i64>> {
    match v.op() {
        Op::Constant(t) if t.dtype().is_int() => t.cast(DType::I64).to_vec::<i64>().ok(),
        _ => None,
    }
}

/// Theano's `repeat(x, repeats, axis)`: each slice of `x` along `axis` (negative from the
/// end) repeated, or each element of `x` flattened for `None`. `repeats` is an integer (one
/// count for every slice) or an integer vector with one count per slice (NumPy's `repeat`);
/// either may be symbolic. A negative count is an error (when building for a constant, else
/// when the function runs), and so is a vector of another length than the axis'.
#[track_caller]
pub fn repeat(x: impl AsRef<Var>, repeats: impl Into<Term>, axis: Option<isize>) -> Var {
    Var::from_result(try_repeat(x.as_ref(), repeats.into(), axis))
}

fn try_repeat(x: &Var, repeats: Term, axis: Option<isize>) -> Result<Var, BuildError> {
    let mut reps = term_var(repeats);
    reps.check()?;
    if let Some(c) = constant_ints(&reps).and_then(|v| v.into_iter().find(|&c| c < 0)) {
        return Err(BuildError::invalid("repeat", format!("repeats may not be negative, got {c}")));
    }
    // A vector known to hold one count is that count (Theano's rule).
    if reps.ndim() == 1 && reps.ty().shape[0] == Some(1) {
        let index = vec![IndexEntry::At(Idx::Const(0))];
        reps = apply_inner(Op::Subtensor { index }, vec![reps])?;
    }
    let (x, axis) = flat_or_axis("repeat", x, axis)?;
    apply_inner(Op::Repeat { axis }, vec![x, reps])
}

/// A length as a node's input: fixed lengths become `Dim::Fixed`, others an input.
fn length_dim(l: &Length, inputs: &mut Vec<Var>) -> Dim {
    match l {
        Length::Fixed(n) => Dim::Fixed(*n),
        Length::Var(v) => match constant_ints(v).as_deref() {
            Some(&[n]) if v.ndim() == 0 && n >= 0 => Dim::Fixed(n as usize),
            _ => {
                inputs.push(v.clone());
                Dim::Input
            }
        },
    }
}

/// Checks that a symbolic length is an integer scalar.
fn check_length(op: &str, l: &Length) -> Result<(), BuildError> {
    if let Length::Var(v) = l {
        v.check()?;
        if v.ndim() != 0 || !v.dtype().is_int() {
            return Err(BuildError::new(BuildErrorKind::DType {
                op: op.into(),
                operand: v.operand(),
                expected: "an integer scalar".into(),
            }));
        }
    }
    Ok(())
}

/// Axis `k`'s length of `x`: fixed when its type knows it, else `shape_i`.
fn axis_length(x: &Var, k: usize) -> Result<Length, BuildError> {
    Ok(match x.ty().shape[k] {
        Some(n) => Length::Fixed(n),
        None => Length::Var(apply_inner(Op::ShapeI { axis: k }, vec![x.clone()])?),
    })
}

/// Theano's `tile(x, reps, ndim)` (NumPy's `tile`): `x` repeated `reps[i]` times along axis
/// `i`, each count a number or an integer scalar `Var`. The result has `ndim` axes
/// (default: the larger of `reps.len()` and `x`'s rank); `x` and `reps` are padded in
/// front with length 1 and count 1. Built from `alloc`, a dimshuffle and a reshape.
#[track_caller]
pub fn tile(x: impl AsRef<Var>, reps: &[Length], ndim: Option<usize>) -> Var {
    Var::from_result(try_tile(x.as_ref(), reps, ndim))
}

fn try_tile(x: &Var, reps: &[Length], ndim: Option<usize>) -> Result<Var, BuildError> {
    x.check()?;
    for r in reps {
        check_length("tile", r)?;
    }
    if let Some(nd) = ndim {
        if nd < x.ndim() {
            return Err(BuildError::invalid(
                "tile",
                format!("ndim ({nd}) is less than the rank of x ({})", x.ndim()),
            ));
        }
        if reps.len() > nd {
            return Err(BuildError::invalid("tile", format!("{} repetitions for ndim {nd}", reps.len())));
        }
    }
    let nd = ndim.unwrap_or(reps.len().max(x.ndim()));
    let mut reps_full: Vec<Length> = vec![Length::Fixed(1); nd - reps.len()];
    reps_full.extend(reps.iter().cloned());
    let mut shape: Vec<Length> = vec![Length::Fixed(1); nd - x.ndim()];
    for k in 0..x.ndim() {
        shape.push(axis_length(x, k)?);
    }
    // alloc(x, reps…, shape…): the repetitions as leading axes.
    let mut inputs = vec![x.clone()];
    let dims: Vec<Dim> = reps_full.iter().chain(&shape).map(|l| length_dim(l, &mut inputs)).collect();
    let y = apply_inner(Op::Alloc { shape: dims }, inputs)?;
    // Interleave: (r0, s0, r1, s1, …), then merge each pair.
    let order: Vec<Option<usize>> = (0..nd).flat_map(|i| [Some(i), Some(nd + i)]).collect();
    let y = apply_inner(Op::DimShuffle { order }, vec![y])?;
    let mut inputs = vec![y];
    let mut target = Vec::with_capacity(nd);
    for (r, s) in reps_full.iter().zip(&shape) {
        let fixed = |l: &Length| match l {
            Length::Fixed(n) => Some(*n),
            Length::Var(_) => None,
        };
        target.push(match (fixed(r), fixed(s)) {
            (Some(a), Some(b)) => ReshapeDim::Fixed(
                a.checked_mul(b).ok_or_else(|| BuildError::invalid("tile", "the tiled length overflows"))?,
            ),
            _ => {
                let term = |l: &Length| match l {
                    Length::Fixed(n) => Term::Int(*n as i64),
                    Length::Var(v) => Term::Var(v.clone()),
                };
                inputs.push(elemwise_inner(ScalarOp::Mul, vec![term(s), term(r)])?);
                ReshapeDim::Input
            }
        });
    }
    apply_inner(Op::Reshape { shape: target }, inputs)
}

/// Theano's `tile(x, reps, ndim)` with `reps` an integer vector `Var` (its length at most
/// `ndim`, checked when the function runs): the counts are padded in front with ones to
/// `ndim`.
#[track_caller]
pub fn tile_vector(x: impl AsRef<Var>, reps: impl AsRef<Var>, ndim: usize) -> Var {
    Var::from_result(try_tile_vector(x.as_ref(), reps.as_ref(), ndim))
}

fn try_tile_vector(x: &Var, reps: &Var, ndim: usize) -> Result<Var, BuildError> {
    reps.check()?;
    if reps.ndim() != 1 || !reps.dtype().is_int() {
        return Err(BuildError::new(BuildErrorKind::DType {
            op: "tile".into(),
            operand: reps.operand(),
            expected: "an integer vector of repetitions".into(),
        }));
    }
    let padded = match reps.ty().shape[0] {
        Some(n) if n > ndim => {
            return Err(BuildError::invalid("tile", format!("{n} repetitions for ndim {ndim}")));
        }
        Some(n) if n == ndim => reps.clone(),
        _ => {
            // ones(ndim - len(reps)) ++ reps; a negative count of ones fails when called.
            let len = apply_inner(Op::ShapeI { axis: 0 }, vec![reps.clone()])?;
            let missing = elemwise_inner(ScalarOp::Sub, vec![Term::Int(ndim as i64), Term::Var(len)])?;
            let one = super::leaf::constant(Tensor::scalar_of(reps.dtype(), 1.0));
            let ones = apply_inner(Op::Alloc { shape: vec![Dim::Input] }, vec![one, missing])?;
            apply_inner(Op::Concatenate { axis: 0 }, vec![ones, reps.clone()])?
        }
    };
    let counts = (0..ndim)
        .map(|i| {
            let index = vec![IndexEntry::At(Idx::Const(i as isize))];
            apply_inner(Op::Subtensor { index }, vec![padded.clone()]).map(Length::Var)
        })
        .collect::<Result<Vec<_>, _>>()?;
    try_tile(x, &counts, Some(ndim))
}

/// The slice `start:stop:1` along `axis` of `x`, each bound fixed or symbolic.
fn slice_along(
    x: &Var,
    axis: usize,
    start: Option<Idx>,
    stop: Option<Idx>,
    bounds: Vec<Var>,
) -> Result<Var, BuildError> {
    let mut index = vec![IndexEntry::FULL; axis];
    index.push(IndexEntry::Slice { start, stop, step: Idx::Const(1) });
    let mut inputs = vec![x.clone()];
    inputs.extend(bounds);
    apply_inner(Op::Subtensor { index }, inputs)
}

/// Theano's `roll(x, shift, axis)` (NumPy's `roll`): the elements shifted `shift` places
/// along `axis` (negative from the end), those past the end coming back in front; `None`
/// rolls `x` flattened and restores its shape. `shift` is an integer or an integer scalar
/// `Var`. Built as two slices joined the other way round.
#[track_caller]
pub fn roll(x: impl AsRef<Var>, shift: impl Into<Term>, axis: Option<isize>) -> Var {
    Var::from_result(try_roll(x.as_ref(), shift.into(), axis))
}

fn try_roll(x: &Var, shift: Term, axis: Option<isize>) -> Result<Var, BuildError> {
    x.check()?;
    let shift = match shift {
        Term::Int(s) => Term::Int(s),
        Term::Var(v) => {
            v.check()?;
            if v.ndim() != 0 || !v.dtype().is_int() {
                return Err(BuildError::new(BuildErrorKind::DType {
                    op: "roll".into(),
                    operand: v.operand(),
                    expected: "an integer scalar shift".into(),
                }));
            }
            match constant_ints(&v).as_deref() {
                Some(&[s]) => Term::Int(s),
                _ => Term::Var(v),
            }
        }
        Term::Float(_) | Term::Bool(_) => {
            return Err(BuildError::invalid("roll", "the shift is an integer"));
        }
    };
    let Some(axis) = axis else {
        if x.ndim() == 1 {
            return try_roll(x, shift, Some(0));
        }
        let rolled = try_roll(&flat(x)?, shift, Some(0))?;
        let shape: Vec<ReshapeDim> = (0..x.ndim()).map(ReshapeDim::Like).collect();
        let inputs = if x.ndim() == 0 { vec![rolled] } else { vec![rolled, x.clone()] };
        return apply_inner(Op::Reshape { shape }, inputs);
    };
    let axis = norm_axis("roll", axis, x)?;
    let (front, end) = match (&shift, x.ty().shape[axis]) {
        (Term::Int(s), Some(n)) => {
            // The shift modulo the length, as Python's `%` (0 for an empty axis).
            let s = if n == 0 { 0 } else { s.rem_euclid(n as i64) as isize };
            if s == 0 {
                return Ok(x.clone());
            }
            (
                slice_along(x, axis, Some(Idx::Const(-s)), None, vec![])?,
                slice_along(x, axis, None, Some(Idx::Const(-s)), vec![])?,
            )
        }
        _ => {
            let n = apply_inner(Op::ShapeI { axis }, vec![x.clone()])?;
            // `shift % n` with Python's sign (0 for n = 0), negated: the split point from the end.
            let s = elemwise_inner(ScalarOp::Mod, vec![shift.clone(), Term::Var(n)])?;
            let neg = elemwise_inner(ScalarOp::Neg, vec![Term::Var(s)])?;
            (
                slice_along(x, axis, Some(Idx::Input), None, vec![neg.clone()])?,
                slice_along(x, axis, Some(Idx::Const(0)), Some(Idx::Input), vec![neg])?,
            )
        }
    };
    apply_inner(Op::Concatenate { axis }, vec![front, end])
}

/// Theano's `eye(n, m, k, dtype)` (NumPy's `eye`): the `n × m` matrix (`m` defaults to `n`)
/// with ones on diagonal `k` (above the main one for `k > 0`) and zeros elsewhere, of
/// `dtype` (floatX by default). Each of `n`, `m`, `k` is an integer or an integer scalar
/// `Var`; numbers alone give a constant.
#[track_caller]
pub fn eye(n: impl Into<Term>, m: Option<Term>, k: impl Into<Term>, dtype: Option<DType>) -> Var {
    let dtype = dtype.unwrap_or_else(crate::config::float_x);
    let n = n.into();
    let m = m.unwrap_or_else(|| n.clone());
    let terms = [n, m, k.into()];
    let ints: Vec<Option<i64>> = terms
        .iter()
        .map(|t| match t {
            Term::Int(i) => Some(*i),
            Term::Var(v) if v.ndim() == 0 => constant_ints(v).and_then(|c| c.first().copied()),
            _ => None,
        })
        .collect();
    // Numbers alone (literals or integer constants) fold to a constant.
    if let [Some(n), Some(m), Some(k)] = ints[..] {
        if n >= 0 && m >= 0 {
            let ty = crate::types::TensorType::scalar(DType::I64);
            let values = [n, m, k].map(Tensor::from);
            let ins: Vec<_> =
                values.iter().map(|t| crate::kernels::KernelInput { name: "", ty: &ty, value: t }).collect();
            let out = crate::types::TensorType::new(dtype, vec![Some(n as usize), Some(m as usize)]);
            if let Ok(v) = crate::kernels::eval(&Op::Eye { dtype }, &ins, &out) {
                return super::leaf::constant(v);
            }
        }
    }
    super::apply(Op::Eye { dtype }, terms.into_iter().map(term_var).collect())
}

/// Theano's `identity_like(x)`: the identity-like matrix of `x`'s shape and dtype (`x` a
/// matrix): `eye(x.shape[0], x.shape[1], 0, x.dtype)`.
#[track_caller]
pub fn identity_like(x: impl AsRef<Var>) -> Var {
    let x = x.as_ref();
    let r = (|| {
        x.check()?;
        if x.ndim() != 2 {
            return Err(BuildError::new(BuildErrorKind::Rank {
                op: "identity_like".into(),
                operand: x.operand(),
                expected: "2 (a matrix)".into(),
            }));
        }
        let len = |k: usize| -> Result<Term, BuildError> {
            Ok(match axis_length(x, k)? {
                Length::Fixed(n) => Term::Int(n as i64),
                Length::Var(v) => Term::Var(v),
            })
        };
        Ok((len(0)?, len(1)?))
    })();
    match r {
        Ok((n, m)) => eye(n, Some(m), 0, Some(x.dtype())),
        Err(e) => Var::from_error(e),
    }
}

impl Var {
    /// `cumsum(self, axis)`: see [`cumsum`].
    #[track_caller]
    pub fn cumsum(&self, axis: Option<isize>) -> Var {
        cumsum(self, axis)
    }

    /// `cumprod(self, axis)`: see [`cumprod`].
    #[track_caller]
    pub fn cumprod(&self, axis: Option<isize>) -> Var {
        cumprod(self, axis)
    }

    /// `sort(self, axis)`: see [`sort`].
    #[track_caller]
    pub fn sort(&self, axis: Option<isize>) -> Var {
        sort(self, axis)
    }

    /// `argsort(self, axis)`: see [`argsort`].
    #[track_caller]
    pub fn argsort(&self, axis: Option<isize>) -> Var {
        argsort(self, axis)
    }

    /// `repeat(self, repeats, axis)`: see [`repeat`].
    #[track_caller]
    pub fn repeat(&self, repeats: impl Into<Term>, axis: Option<isize>) -> Var {
        repeat(self, repeats, axis)
    }
}
