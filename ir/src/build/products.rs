//! Products: NumPy's `dot` (the matrix product op for ranks 1 and 2), `outer`, and beyond
//! matrices, as Theano defines them, written with the matrix product: `tensordot` (the summed axes moved together and flattened, one `dot`, the free axes
//! restored by symbolic reshapes), N-d `dot` (NumPy's: the last axis of `a` against the
//! second-to-last of `b`) and `batched_dot` (one product per leading index, on the batched
//! matrix product op for floats: operands of other ranks reshaped to 3-d around it).

use super::apply_inner;
use super::elemwise::{elemwise, elemwise_inner, term_var, Term};
use super::shape::{reshape, ReshapeLen};
use crate::error::BuildError;
use crate::op::{Op, ScalarOp};
use crate::var::Var;

/// NumPy's `dot`: inner product of vectors, matrix-vector, vector-matrix, matrix-matrix;
/// a 0-d operand multiplies elementwise; higher ranks sum the last axis of `a` against the
/// second-to-last of `b` (through [`tensordot`]).
#[track_caller]
pub fn dot(a: impl Into<Term>, b: impl Into<Term>) -> Var {
    let (a, b) = (term_var(a.into()), term_var(b.into()));
    if a.check().is_ok() && b.check().is_ok() && (a.ndim() == 0 || b.ndim() == 0) {
        return elemwise(ScalarOp::Mul, vec![Term::Var(a), Term::Var(b)]);
    }
    if a.check().is_ok() && b.check().is_ok() && (a.ndim() > 2 || b.ndim() > 2) {
        return dot_nd(&a, &b);
    }
    super::apply(Op::Dot, vec![a, b])
}

/// Outer product of two vectors: `x[:, None] * y[None, :]`.
#[track_caller]
pub fn outer(x: impl AsRef<Var>, y: impl AsRef<Var>) -> Var {
    let (x, y) = (x.as_ref(), y.as_ref());
    let r = (|| {
        for v in [x, y] {
            v.check()?;
            if v.ndim() != 1 {
                return Err(BuildError::new(crate::error::BuildErrorKind::Rank {
                    op: "outer".into(),
                    operand: v.operand(),
                    expected: "1".into(),
                }));
            }
        }
        let xc = apply_inner(Op::DimShuffle { order: vec![Some(0), None] }, vec![x.clone()])?;
        let yr = apply_inner(Op::DimShuffle { order: vec![None, Some(0)] }, vec![y.clone()])?;
        elemwise_inner(ScalarOp::Mul, vec![Term::Var(xc), Term::Var(yr)])
    })();
    Var::from_result(r)
}

impl Var {
    /// Matrix product with `other` (see [`dot`]).
    #[track_caller]
    pub fn dot(&self, other: impl Into<Term>) -> Var {
        dot(self, other)
    }
}

/// `x` with its axes in `order`.
fn permuted(x: &Var, order: &[usize]) -> Result<Var, BuildError> {
    if order.iter().copied().eq(0..x.ndim()) {
        return Ok(x.clone());
    }
    apply_inner(Op::DimShuffle { order: order.iter().copied().map(Some).collect() }, vec![x.clone()])
}

/// The product of the lengths of `axes` of `x`: fixed when the type knows them, else an
/// int64 scalar (1 for no axes).
fn length_product(x: &Var, axes: &[usize]) -> ReshapeLen {
    if let Some(n) = axes.iter().map(|&a| x.ty().shape[a]).product::<Option<usize>>() {
        if let Ok(n) = isize::try_from(n) {
            return ReshapeLen::Fixed(n);
        }
    }
    let mut lens = axes.iter().map(|&a| match x.ty().shape[a] {
        Some(n) => ReshapeLen::Fixed(n as isize),
        None => ReshapeLen::Var(super::shape::shape_i(x, a as isize)),
    });
    match (lens.next(), axes.len()) {
        (None, _) => ReshapeLen::Fixed(1),
        (Some(l), 1) => l,
        (Some(first), _) => {
            let as_var = |l: ReshapeLen| match l {
                ReshapeLen::Fixed(n) => crate::build::leaf::constant(crate::Tensor::from(n as i64)),
                ReshapeLen::Var(v) => v,
            };
            ReshapeLen::Var(lens.fold(as_var(first), |acc, l| acc * as_var(l)))
        }
    }
}

fn check_axes(what: &str, x: &Var, axes: &[usize]) -> Result<(), BuildError> {
    let mut seen = vec![false; x.ndim()];
    for &a in axes {
        if a >= x.ndim() || std::mem::replace(&mut seen[a], true) {
            return Err(BuildError::invalid(
                what,
                format!("axis {a} is out of range or repeated for rank {}", x.ndim()),
            ));
        }
    }
    Ok(())
}

/// Theano's `tensordot(a, b, axes=[a_axes, b_axes])`: the sum over `a_axes` of `a` paired
/// with `b_axes` of `b`; the result's axes are `a`'s free ones, then `b`'s.
#[track_caller]
pub fn tensordot(a: impl AsRef<Var>, b: impl AsRef<Var>, a_axes: &[usize], b_axes: &[usize]) -> Var {
    contract("tensordot", a.as_ref(), b.as_ref(), a_axes, b_axes)
}

/// `tensordot` under the name `op` (for its errors).
#[track_caller]
fn contract(op: &str, a: &Var, b: &Var, a_axes: &[usize], b_axes: &[usize]) -> Var {
    let r = (|| {
        a.check()?;
        b.check()?;
        if a_axes.len() != b_axes.len() {
            return Err(BuildError::invalid(op, "the two lists of summed axes differ in length"));
        }
        check_axes(op, a, a_axes)?;
        check_axes(op, b, b_axes)?;
        for (&i, &j) in a_axes.iter().zip(b_axes) {
            if let (Some(p), Some(q)) = (a.ty().shape[i], b.ty().shape[j]) {
                if p != q {
                    return Err(BuildError::new(crate::error::BuildErrorKind::ShapeMismatch {
                        op: op.into(),
                        operands: vec![a.operand(), b.operand()],
                    }));
                }
            }
        }
        let a_free: Vec<usize> = (0..a.ndim()).filter(|i| !a_axes.contains(i)).collect();
        let b_free: Vec<usize> = (0..b.ndim()).filter(|i| !b_axes.contains(i)).collect();
        let a_order: Vec<usize> = a_free.iter().chain(a_axes).copied().collect();
        let b_order: Vec<usize> = b_axes.iter().chain(&b_free).copied().collect();
        let a2 = reshape(permuted(a, &a_order)?, &[length_product(a, &a_free), ReshapeLen::Fixed(-1)]);
        let b2 = reshape(permuted(b, &b_order)?, &[length_product(b, b_axes), ReshapeLen::Fixed(-1)]);
        let m = apply_inner(Op::Dot, vec![a2, b2])?;
        let lens: Vec<ReshapeLen> = a_free
            .iter()
            .map(|&i| (a, i))
            .chain(b_free.iter().map(|&i| (b, i)))
            .map(|(x, i)| length_product(x, &[i]))
            .collect();
        let out = reshape(&m, &lens);
        out.check()?;
        Ok(out)
    })();
    Var::from_result(r)
}

/// Theano's `tensordot(a, b, n)`: the last `n` axes of `a` against the first `n` of `b`.
#[track_caller]
pub fn tensordot_n(a: impl AsRef<Var>, b: impl AsRef<Var>, n: usize) -> Var {
    let (a, b) = (a.as_ref(), b.as_ref());
    let r = (|| {
        a.check()?;
        b.check()?;
        if n > a.ndim() || n > b.ndim() {
            return Err(BuildError::invalid(
                "tensordot",
                format!("cannot sum {n} axes of tensors of rank {} and {}", a.ndim(), b.ndim()),
            ));
        }
        let a_axes: Vec<usize> = (a.ndim() - n..a.ndim()).collect();
        let b_axes: Vec<usize> = (0..n).collect();
        let out = tensordot(a, b, &a_axes, &b_axes);
        out.check()?;
        Ok(out)
    })();
    Var::from_result(r)
}

/// NumPy's and Theano's `dot` for ranks above 2 (what [`dot`] does for
/// them): the last axis of `a` against the second-to-last of `b` (its only one for a
/// vector).
#[track_caller]
pub(crate) fn dot_nd(a: &Var, b: &Var) -> Var {
    contract("dot", a, b, &[a.ndim() - 1], &[b.ndim().saturating_sub(2)])
}

/// `batched_dot` of float operands of ranks 2 or more through `Op::BatchedDot`: `x` as
/// `(B, M, K)` (its middle axes flattened, a lone `1` for a matrix), `y` as `(B, K, N)`,
/// and the product's `(B, M, N)` back to `x`'s middle axes followed by `y`'s last ones.
fn batched_matmul(x: &Var, y: &Var) -> Result<Var, BuildError> {
    let (xn, yn) = (x.ndim(), y.ndim());
    let len = |v: &Var, k: usize| match v.ty().shape[k] {
        Some(n) => ReshapeLen::Fixed(n as isize),
        None => ReshapeLen::Var(super::shape::shape_i(v, k as isize)),
    };
    let x3 = match xn {
        3 => x.clone(),
        2 => reshape(x, &[len(x, 0), ReshapeLen::Fixed(1), len(x, 1)]),
        _ => reshape(x, &[len(x, 0), ReshapeLen::Fixed(-1), len(x, xn - 1)]),
    };
    let y3 = match yn {
        3 => y.clone(),
        2 => reshape(y, &[len(y, 0), len(y, 1), ReshapeLen::Fixed(1)]),
        _ => reshape(y, &[len(y, 0), len(y, 1), ReshapeLen::Fixed(-1)]),
    };
    let out = apply_inner(Op::BatchedDot, vec![x3, y3])?;
    if xn == 3 && yn == 3 {
        return Ok(out);
    }
    let mut shape = vec![len(x, 0)];
    shape.extend((1..xn - 1).map(|k| len(x, k)));
    shape.extend((2..yn).map(|k| len(y, k)));
    let r = reshape(&out, &shape);
    r.check()?;
    Ok(r)
}

/// Theano's `batched_dot(x, y)`: for each index `i` of the leading axis, `dot(x[i], y[i])`
/// — `(B, M, K)` by `(B, K, N)` gives `(B, M, N)`, `(B, K)` by `(B, K)` gives `(B,)`.
#[track_caller]
pub fn batched_dot(x: impl AsRef<Var>, y: impl AsRef<Var>) -> Var {
    let (x, y) = (x.as_ref(), y.as_ref());
    let r = (|| {
        x.check()?;
        y.check()?;
        if x.ndim() < 2 || y.ndim() < 2 {
            return Err(BuildError::invalid(
                "batched_dot",
                "both operands need a batch axis and at least one more",
            ));
        }
        let (xn, yn) = (x.ndim(), y.ndim());
        if x.dtype() == y.dtype() && x.dtype().is_float() {
            return batched_matmul(x, y);
        }
        // Integers: x[b, …, k, None…] * y[b, None…, k, …] summed over k.
        let y_rest = yn - 2; // y's axes after the summed one
        let mut xo: Vec<Option<usize>> = (0..xn).map(Some).collect();
        xo.extend(std::iter::repeat_n(None, y_rest));
        let mut yo: Vec<Option<usize>> = vec![Some(0)];
        yo.extend(std::iter::repeat_n(None, xn - 2));
        yo.extend((1..yn).map(Some));
        let xe = apply_inner(Op::DimShuffle { order: xo }, vec![x.clone()])?;
        let ye = apply_inner(Op::DimShuffle { order: yo }, vec![y.clone()])?;
        let prod = &xe * &ye;
        prod.check()?;
        Ok(super::reduce::reduce(
            crate::op::ReduceOp::Sum,
            &prod,
            crate::Axes::from((xn - 1) as isize),
            false,
        ))
    })();
    Var::from_result(r)
}
