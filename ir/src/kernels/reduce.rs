//! Reductions (`sum prod max min mean all any`), arg-extrema, and the softmax family, each
//! over a set of axes with or without `keepdims`.

use super::num::{FloatElem, Num};
use crate::dtype::DType;
use crate::error::ValueError;
use crate::op::{ArgOp, ReduceOp};
use crate::types::TensorType;
use crate::value::{Tensor, TensorElement};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

/// Reduces `a` along every axis in `axes` with `f`, starting from `init`, then restores
/// the reduced axes with length 1 when `keepdims`.
fn fold_axes<T: TensorElement>(
    a: ArrayViewD<'_, T>,
    axes: &[usize],
    keepdims: bool,
    init: T,
    f: impl Fn(T, T) -> T + Copy,
) -> ArrayD<T> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let mut cur = a.to_owned();
    for &ax in sorted.iter().rev() {
        cur = cur.fold_axis(Axis(ax), init, |&acc, &x| f(acc, x));
    }
    if keepdims {
        for &ax in &sorted {
            cur.insert_axis_inplace(Axis(ax));
        }
    }
    cur
}

fn count(shape: &[usize], axes: &[usize]) -> usize {
    axes.iter().map(|&a| shape[a]).product()
}

fn nan_max<T: TensorElement>(a: T, b: T) -> T {
    if a.is_nan() || a >= b {
        a
    } else {
        b
    }
}

fn nan_min<T: TensorElement>(a: T, b: T) -> T {
    if a.is_nan() || a <= b {
        a
    } else {
        b
    }
}

fn typed_reduce<T: Num>(
    op: ReduceOp,
    x: &Tensor,
    axes: &[usize],
    keepdims: bool,
) -> Result<Tensor, ValueError> {
    let a = x.array::<T>()?;
    let out = match op {
        ReduceOp::Sum | ReduceOp::Mean => {
            if axes.len() == a.ndim() && !keepdims {
                ArrayD::from_elem(IxDyn(&[]), sum_all(a.view()))
            } else if let Some(sums) = sum_trailing(a.view(), axes, keepdims) {
                sums
            } else {
                // `-0.0` keeps every value (`sum([-0.0])` is `-0.0`), but the sum of
                // nothing is `+0.0`, as in NumPy.
                let identity = if count(x.shape(), axes) == 0 { T::zero() } else { T::add_identity() };
                fold_axes(a, axes, keepdims, identity, T::add)
            }
        }
        ReduceOp::Prod => fold_axes(a, axes, keepdims, T::one(), T::mul),
        ReduceOp::Max | ReduceOp::Min => {
            if count(x.shape(), axes) == 0 {
                return Err(ValueError::invalid(op.name(), "zero-size reduction has no identity"));
            }
            let mut sorted = axes.to_vec();
            sorted.sort_unstable();
            let mut cur = a.to_owned();
            let f = if op == ReduceOp::Max { nan_max::<T> } else { nan_min::<T> };
            for &ax in sorted.iter().rev() {
                cur = cur.map_axis(Axis(ax), |lane| lane.iter().copied().reduce(f).expect("non-empty"));
            }
            if keepdims {
                for &ax in &sorted {
                    cur.insert_axis_inplace(Axis(ax));
                }
            }
            cur
        }
        ReduceOp::All | ReduceOp::Any => unreachable!("boolean reductions are handled by reduce()"),
    };
    Ok(T::wrap(out.into_shared()))
}

/// Pairwise summation of a slice: sequential over blocks of up to 128 values, whose sums are
/// added pairwise (NumPy's accuracy for long float sums).
fn pairwise<T: Num>(v: &[T]) -> T {
    if v.len() <= 128 {
        v.iter().fold(T::add_identity(), |acc, &x| T::add(acc, x))
    } else {
        let (l, r) = v.split_at(v.len() / 2);
        T::add(pairwise(l), pairwise(r))
    }
}

/// The sums over `axes` when they are the trailing axes of an array in standard layout
/// (`sum(v, keepdims=True)` of a vector, `sum(m, axis=-1)` of a matrix): each lane is a
/// contiguous slice, summed pairwise as `sum_all` sums everything (so a sum with
/// `keepdims` is the sum without, reshaped). `None` for other axes or layouts.
fn sum_trailing<T: Num>(a: ArrayViewD<'_, T>, axes: &[usize], keepdims: bool) -> Option<ArrayD<T>> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let first = a.ndim().checked_sub(sorted.len())?;
    if !sorted.iter().copied().eq(first..a.ndim()) {
        return None;
    }
    let data = a.as_slice()?;
    let len = count(a.shape(), &sorted);
    let shape = reduced(a.shape(), &sorted, keepdims);
    let sums: Vec<T> = if len == 0 {
        // The sum of nothing is `+0.0`, as in NumPy.
        vec![T::zero(); shape.iter().product()]
    } else {
        data.chunks_exact(len).map(pairwise).collect()
    };
    ArrayD::from_shape_vec(IxDyn(&shape), sums).ok()
}

/// Pairwise summation of all elements (NumPy's accuracy for long float sums).
fn sum_all<T: Num>(a: ArrayViewD<'_, T>) -> T {
    if a.is_empty() {
        return T::zero();
    }
    match a.as_slice_memory_order() {
        Some(s) => pairwise(s),
        None => pairwise(&a.iter().copied().collect::<Vec<_>>()),
    }
}

/// The shape of the result of reducing `axes` of `shape`.
fn reduced(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    (0..shape.len())
        .filter_map(|i| match (axes.contains(&i), keepdims) {
            (false, _) => Some(shape[i]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

pub(super) fn reduce(
    op: ReduceOp,
    x: &Tensor,
    axes: &[usize],
    keepdims: bool,
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    crate::value::check_alloc(op.name(), &reduced(x.shape(), axes, keepdims), out.dtype)?;
    // Float sums, products and means accumulate in float64, for float32 data too (Theano's
    // `acc_dtype`); the result is rounded to the output dtype once.
    if out.dtype == DType::F32 && matches!(op, ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Mean) {
        crate::value::check_alloc(op.name(), x.shape(), DType::F64)?;
        let wide = TensorType::new(DType::F64, out.shape.clone());
        return Ok(reduce(op, &x.cast(DType::F64), axes, keepdims, &wide)?.cast(DType::F32));
    }
    match op {
        ReduceOp::All | ReduceOp::Any => {
            let b = x.cast(DType::Bool);
            let a = b.array::<bool>()?;
            let r = if op == ReduceOp::All {
                fold_axes(a, axes, keepdims, true, |p, q| p && q)
            } else {
                fold_axes(a, axes, keepdims, false, |p, q| p || q)
            };
            Ok(Tensor::Bool(r.into_shared()))
        }
        ReduceOp::Mean => {
            let n = count(x.shape(), axes);
            let s = reduce(ReduceOp::Sum, &x.cast(out.dtype), axes, keepdims, out)?;
            Ok(match s {
                Tensor::F64(a) => Tensor::F64(a.mapv(|v| v / n as f64).into_shared()),
                Tensor::F32(a) => Tensor::F32(a.mapv(|v| v / n as f32).into_shared()),
                _ => unreachable!("mean is float"),
            })
        }
        _ => {
            let x = x.cast(out.dtype);
            match out.dtype {
                DType::F64 => typed_reduce::<f64>(op, &x, axes, keepdims),
                DType::F32 => typed_reduce::<f32>(op, &x, axes, keepdims),
                DType::I64 => typed_reduce::<i64>(op, &x, axes, keepdims),
                DType::I32 => typed_reduce::<i32>(op, &x, axes, keepdims),
                DType::Bool => {
                    // max/min of bool: any/all.
                    let any = if op == ReduceOp::Max { ReduceOp::Any } else { ReduceOp::All };
                    reduce(any, &x, axes, keepdims, out)
                }
            }
        }
    }
}

/// Moves `axes` to the end and flattens them: a `(rows, len)` matrix in standard layout,
/// plus the kept shape.
fn lanes<T: TensorElement>(a: ArrayViewD<'_, T>, axes: &[usize]) -> (ArrayD<T>, Vec<usize>, usize) {
    let kept: Vec<usize> = (0..a.ndim()).filter(|i| !axes.contains(i)).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&i| a.shape()[i]).collect();
    let len: usize = axes.iter().map(|&i| a.shape()[i]).product();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let rows: usize = kept_shape.iter().product();
    let m = a.permuted_axes(IxDyn(&perm)).as_standard_layout().to_owned();
    let m = m.into_shape_with_order(IxDyn(&[rows, len])).expect("standard layout");
    (m, kept_shape, len)
}

fn with_keepdims(kept_shape: Vec<usize>, ndim: usize, axes: &[usize], keepdims: bool) -> Vec<usize> {
    if !keepdims {
        return kept_shape;
    }
    let mut it = kept_shape.into_iter();
    (0..ndim).map(|i| if axes.contains(&i) { 1 } else { it.next().expect("kept axis") }).collect()
}

fn typed_arg<T: TensorElement>(
    op: ArgOp,
    x: &Tensor,
    axes: &[usize],
    keepdims: bool,
) -> Result<Tensor, ValueError> {
    let a = x.array::<T>()?;
    if count(x.shape(), axes) == 0 {
        return Err(ValueError::invalid(op.name(), "attempt to get the arg-extremum of an empty sequence"));
    }
    let (m, kept, _) = lanes(a, axes);
    let better = |new: T, best: T| match op {
        ArgOp::ArgMax => new > best,
        ArgOp::ArgMin => new < best,
    };
    let idx: Vec<i64> = m
        .outer_iter()
        .map(|row| {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    return i as i64;
                }
                if better(v, row[best]) {
                    best = i;
                }
            }
            best as i64
        })
        .collect();
    let shape = with_keepdims(kept, x.ndim(), axes, keepdims);
    Ok(Tensor::I64(ArrayD::from_shape_vec(IxDyn(&shape), idx).expect("shape").into_shared()))
}

pub(super) fn arg_reduce(
    op: ArgOp,
    x: &Tensor,
    axes: &[usize],
    keepdims: bool,
) -> Result<Tensor, ValueError> {
    match x.dtype() {
        DType::Bool => typed_arg::<bool>(op, x, axes, keepdims),
        DType::I32 => typed_arg::<i32>(op, x, axes, keepdims),
        DType::I64 => typed_arg::<i64>(op, x, axes, keepdims),
        DType::F32 => typed_arg::<f32>(op, x, axes, keepdims),
        DType::F64 => typed_arg::<f64>(op, x, axes, keepdims),
    }
}

/// The maximum over `axes` (NaN if a lane holds one), with the reduced axes kept.
fn lane_max<F: FloatElem>(a: &ArrayViewD<'_, F>, axes: &[usize]) -> ArrayD<F> {
    let mut m = a.to_owned();
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    for &ax in sorted.iter().rev() {
        m = m.fold_axis(Axis(ax), F::neg_infinity(), |&p, &q| nan_max(p, q));
    }
    for &ax in &sorted {
        m.insert_axis_inplace(Axis(ax));
    }
    m
}

/// The shift used by `logsumexp`: the maximum, or 0 where the maximum is not finite, so a
/// lane of `-inf` gives `-inf` and a lane holding `+inf` gives `+inf` (as SciPy).
fn shift<F: FloatElem>(a: &ArrayViewD<'_, F>, axes: &[usize]) -> ArrayD<F> {
    lane_max(a, axes).mapv_into(|v| if v.is_finite() { v } else { <F as num_traits::Zero>::zero() })
}

/// Softmax (or its log) along `axis`, shifted by the lane's maximum as written, whatever it
/// is: a lane holding `+inf` (or NaN), or only `-inf`, is NaN throughout, as in Theano,
/// NumPy and JAX (`inf - inf` is NaN and the lane's sum carries it to every element).
fn typed_softmax<F: FloatElem>(x: &Tensor, axis: usize, log: bool) -> Result<Tensor, ValueError> {
    let a = x.array::<F>()?;
    let m = lane_max(&a, &[axis]);
    let z = &a - &m;
    let e = z.mapv(F::exp);
    let s = e.sum_axis(Axis(axis)).insert_axis(Axis(axis));
    let out = if log { &z - &s.mapv(F::ln) } else { &e / &s };
    Ok(F::wrap(out.into_shared()))
}

pub(super) fn softmax(x: &Tensor, axis: usize, log: bool, out: &TensorType) -> Result<Tensor, ValueError> {
    let x = x.cast(out.dtype);
    match out.dtype {
        DType::F32 => typed_softmax::<f32>(&x, axis, log),
        _ => typed_softmax::<f64>(&x, axis, log),
    }
}

fn typed_lse<F: FloatElem>(x: &Tensor, axes: &[usize], keepdims: bool) -> Result<Tensor, ValueError> {
    crate::value::check_alloc("logsumexp", &reduced(x.shape(), axes, true), F::DTYPE)?;
    let a = x.array::<F>()?;
    let m = shift(&a, axes);
    let e = (&a - &m).mapv(F::exp);
    let mut s = fold_axes(e.view(), axes, true, F::add_identity(), <F as Num>::add);
    s.zip_mut_with(&m, |v, &mv| *v = v.ln() + mv);
    if !keepdims {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        for &ax in sorted.iter().rev() {
            s = s.index_axis_move(Axis(ax), 0);
        }
    }
    Ok(F::wrap(s.into_shared()))
}

pub(super) fn logsumexp(
    x: &Tensor,
    axes: &[usize],
    keepdims: bool,
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let x = x.cast(out.dtype);
    match out.dtype {
        DType::F32 => typed_lse::<f32>(&x, axes, keepdims),
        _ => typed_lse::<f64>(&x, axes, keepdims),
    }
}
