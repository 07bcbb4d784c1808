//! Kernels that move data without arithmetic: `dimshuffle`, `reshape`, `concatenate`,
//! `subtensor`, `set/inc_subtensor` and `alloc`. Views stay views (the data is reference counted).

use super::num::Num;
use super::KernelInput;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::op::{normalize_slice, Dim, Idx, IndexEntry, ReshapeDim};
use crate::types::TensorType;
use crate::value::{check_alloc, Tensor, TensorElement};
use ndarray::{ArrayViewMutD, Axis, IxDyn, Slice};

pub(super) fn dimshuffle(x: &Tensor, order: &[Option<usize>]) -> Tensor {
    crate::view_array!(x, a => {
        let mut a = a.clone();
        let n = a.ndim();
        let kept: Vec<usize> = order.iter().flatten().copied().collect();
        for i in (0..n).rev().filter(|i| !kept.contains(i)) {
            a = a.index_axis_move(Axis(i), 0);
        }
        // Positions of the kept axes after dropping the others.
        let mut sorted = kept.clone();
        sorted.sort_unstable();
        let perm: Vec<usize> = kept.iter().map(|k| sorted.binary_search(k).expect("kept")).collect();
        let mut a = a.permuted_axes(IxDyn(&perm));
        for (pos, o) in order.iter().enumerate() {
            if o.is_none() {
                a.insert_axis_inplace(Axis(pos));
            }
        }
        a
    })
}

/// `x` reshaped: inputs are `x`, its shape donor when a target axis is `Like`, then one
/// integer scalar per `Input` axis (a negative one is an error).
pub(super) fn reshape(inputs: &[KernelInput<'_>], shape: &[ReshapeDim]) -> Result<Tensor, ValueError> {
    let x = inputs[0];
    let has_donor = shape.iter().any(|d| matches!(d, ReshapeDim::Like(_)));
    let donor = if has_donor { inputs.get(1).copied() } else { None };
    let mut lengths = inputs[1 + has_donor as usize..].iter();
    let total = x.value.len();
    let mut dims = Vec::with_capacity(shape.len());
    for d in shape {
        dims.push(match *d {
            ReshapeDim::Fixed(n) => n,
            ReshapeDim::Keep(i) => x.value.shape()[i],
            ReshapeDim::Infer => 1,
            ReshapeDim::Like(i) => donor.map_or(0, |d| d.value.shape()[i]),
            ReshapeDim::Input => {
                let len = lengths.next().expect("typed: one input per symbolic length");
                let n = len.value.cast(DType::I64).scalar::<i64>()?;
                usize::try_from(n).map_err(|_| {
                    ValueError::invalid("reshape", format!("length {n} ({}) is negative", len.name))
                })?
            }
        });
    }
    let too_large = |dims: &[usize]| {
        ValueError::invalid(
            "reshape",
            format!("cannot reshape {} to {:?}: the shape is too large (its size overflows)", x.name, dims),
        )
    };
    let Some(known) = crate::op::checked_product(dims.iter().copied()) else {
        return Err(too_large(&dims));
    };
    let bad = || {
        ValueError::invalid(
            "reshape",
            format!(
                "cannot reshape {} of shape {:?} to {}",
                x.name,
                x.value.shape(),
                crate::op::fmt_reshape(shape)
            ),
        )
    };
    if let Some(pos) = shape.iter().position(|d| *d == ReshapeDim::Infer) {
        if known == 0 && total == 0 {
            // An empty tensor: the inferred axis takes the length of the input axes no other
            // target axis keeps (what `flatten` of a (0, 3, 4) tensor means: (0, 12)).
            let kept: Vec<usize> = shape
                .iter()
                .filter_map(|d| if let ReshapeDim::Keep(i) = d { Some(*i) } else { None })
                .collect();
            dims[pos] =
                (0..x.value.ndim()).filter(|i| !kept.contains(i)).map(|i| x.value.shape()[i]).product();
            if !crate::op::shape_fits(&dims) {
                return Err(too_large(&dims));
            }
            if crate::op::checked_product(dims.iter().copied()) == Some(0) {
                return Ok(crate::map_array!(x.value, a => {
                    a.to_owned().into_shape_with_order(IxDyn(&dims)).expect("empty").into_shared()
                }));
            }
        }
        if known == 0 || !total.is_multiple_of(known) {
            return Err(bad());
        }
        dims[pos] = total / known;
    } else if known != total {
        return Err(bad());
    }
    if !crate::op::shape_fits(&dims) {
        return Err(too_large(&dims));
    }
    if x.value.is_borrowed() && x.value.is_standard_layout() {
        // A contiguous borrowed array is viewed in the new shape (any other is copied below).
        return Ok(crate::view_array!(x.value, a => {
            a.clone().into_shape_with_order(IxDyn(&dims)).expect("standard layout, checked size")
        }));
    }
    Ok(crate::map_array!(x.value, a => {
        let a = if a.is_standard_layout() { a.clone() } else { a.as_standard_layout().into_owned().into_shared() };
        a.into_shape_with_order(IxDyn(&dims)).expect("standard layout, checked size")
    }))
}

pub(super) fn concatenate(
    inputs: &[KernelInput<'_>],
    axis: usize,
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let first = inputs[0].value.shape();
    let fits = inputs.iter().all(|i| {
        i.value.ndim() == first.len()
            && i.value.shape().iter().enumerate().all(|(k, &n)| k == axis || n == first[k])
    });
    if !fits {
        return Err(ValueError::ShapeMismatch {
            op: "concatenate".into(),
            operands: inputs.iter().map(|i| (i.name.to_string(), i.value.shape().to_vec())).collect(),
        });
    }
    let mut shape = first.to_vec();
    shape[axis] =
        inputs.iter().try_fold(0usize, |n, i| n.checked_add(i.value.shape()[axis])).unwrap_or(usize::MAX);
    if !crate::op::shape_fits(&shape) {
        return Err(ValueError::invalid("concatenate", format!("the joined shape {shape:?} is too large")));
    }
    crate::value::check_alloc("concatenate", &shape, out.dtype)?;
    let cast: Vec<Tensor> = inputs.iter().map(|i| i.value.cast(out.dtype)).collect();
    fn join<T: TensorElement>(ts: &[Tensor], axis: usize) -> Tensor {
        let views: Vec<_> = ts.iter().map(|t| t.array::<T>().expect("cast")).collect();
        T::wrap(ndarray::concatenate(Axis(axis), &views).expect("checked shapes").into_shared())
    }
    Ok(match out.dtype {
        DType::Bool => join::<bool>(&cast, axis),
        DType::I32 => join::<i32>(&cast, axis),
        DType::I64 => join::<i64>(&cast, axis),
        DType::F32 => join::<f32>(&cast, axis),
        DType::F64 => join::<f64>(&cast, axis),
    })
}

pub(super) fn split_part(inputs: &[KernelInput<'_>], axis: usize, part: usize) -> Result<Tensor, ValueError> {
    let whole = inputs[0].value;
    let pieces = &inputs[1..];
    let total: usize = pieces.iter().map(|p| p.value.shape()[axis]).sum();
    let fits = total == whole.shape()[axis]
        && pieces.iter().all(|p| {
            p.value.ndim() == whole.ndim()
                && (0..whole.ndim()).all(|a| a == axis || p.value.shape()[a] == whole.shape()[a])
        });
    if !fits {
        let mut operands = vec![(inputs[0].name.to_string(), whole.shape().to_vec())];
        operands.extend(pieces.iter().map(|p| (p.name.to_string(), p.value.shape().to_vec())));
        return Err(ValueError::ShapeMismatch { op: "split_part".into(), operands });
    }
    let start: usize = pieces[..part].iter().map(|p| p.value.shape()[axis]).sum();
    let len = pieces[part].value.shape()[axis];
    let s = Slice::new(start as isize, Some((start + len) as isize), 1);
    Ok(crate::view_array!(whole, a => {
        let mut a = a.clone();
        a.slice_axis_inplace(Axis(axis), s);
        a
    }))
}

/// An index entry with its symbolic index resolved and checked against the axis length.
enum Resolved {
    At(usize),
    Range(Slice),
}

/// The value of an index bound: fixed, or the next symbolic index input.
pub(super) fn bound_value<'a, 'b: 'a>(
    i: Idx,
    symbolic: &mut impl Iterator<Item = &'a KernelInput<'b>>,
) -> Result<i64, ValueError> {
    Ok(match i {
        Idx::Const(c) => c as i64,
        Idx::Input => symbolic.next().expect("checked arity").value.cast(DType::I64).scalar::<i64>()?,
    })
}

/// Position `i` on axis `axis` of length `n`, negative counting from the end (NumPy's
/// wrap), or the out-of-bounds error.
pub(super) fn position(i: i64, axis: usize, n: usize) -> Result<usize, ValueError> {
    let j = if i < 0 { i + n as i64 } else { i };
    if j < 0 || j >= n as i64 {
        return Err(ValueError::IndexOutOfBounds { index: i, axis, size: n });
    }
    Ok(j as usize)
}

/// A slice's bounds resolved for an axis of length `n` as NumPy resolves them: the first
/// position, the number of positions taken and the step between them.
pub(super) fn slice_positions(
    (start, stop, step): (Option<i64>, Option<i64>, i64),
    n: usize,
) -> Result<(isize, usize, isize), ValueError> {
    // A bound beyond `isize` is clipped like any out-of-range bound.
    let bound = |v: i64| isize::try_from(v).unwrap_or(if v < 0 { isize::MIN } else { isize::MAX });
    let step = bound(step);
    if step == 0 {
        return Err(ValueError::invalid("subtensor", "slice step cannot be zero"));
    }
    // A stride longer than the axis takes what the axis length takes.
    let reach = (n as isize).max(1);
    let step = step.clamp(-reach, reach);
    let (s, count) = normalize_slice(start.map(bound), stop.map(bound), step, n);
    Ok((s, count, step))
}

fn resolve(
    index: &[IndexEntry],
    idx: &[KernelInput<'_>],
    shape: &[usize],
) -> Result<Vec<Resolved>, ValueError> {
    let mut symbolic = idx.iter();
    let mut out = Vec::with_capacity(index.len());
    for (axis, e) in index.iter().enumerate() {
        let n = shape[axis];
        out.push(match *e {
            IndexEntry::At(i) => Resolved::At(position(bound_value(i, &mut symbolic)?, axis, n)?),
            IndexEntry::Slice { start, stop, step } => {
                let start = start.map(|i| bound_value(i, &mut symbolic)).transpose()?;
                let stop = stop.map(|i| bound_value(i, &mut symbolic)).transpose()?;
                let step = bound_value(step, &mut symbolic)?;
                let (s, count, step) = slice_positions((start, stop, step), n)?;
                Resolved::Range(if count == 0 {
                    Slice::new(0, Some(0), 1)
                } else if step > 0 {
                    Slice::new(s, Some(s + (count as isize - 1) * step + 1), step)
                } else {
                    Slice::new(s + (count as isize - 1) * step, Some(s + 1), step)
                })
            }
        });
    }
    Ok(out)
}

pub(super) fn subtensor(
    x: &Tensor,
    index: &[IndexEntry],
    idx: &[KernelInput<'_>],
) -> Result<Tensor, ValueError> {
    let res = resolve(index, idx, x.shape())?;
    Ok(crate::view_array!(x, a => {
        let mut a = a.clone();
        for (axis, r) in res.iter().enumerate().rev() {
            match r {
                Resolved::At(i) => a = a.index_axis_move(Axis(axis), *i),
                Resolved::Range(s) => a.slice_axis_inplace(Axis(axis), *s),
            }
        }
        a
    }))
}

fn region<'a, T>(mut v: ArrayViewMutD<'a, T>, res: &[Resolved]) -> ArrayViewMutD<'a, T> {
    for (axis, r) in res.iter().enumerate().rev() {
        match r {
            Resolved::At(i) => v = v.index_axis_move(Axis(axis), *i),
            Resolved::Range(s) => v.slice_axis_inplace(Axis(axis), *s),
        }
    }
    v
}

fn typed_inc<T: TensorElement>(
    x: &Tensor,
    y: KernelInput<'_>,
    res: &[Resolved],
    set: bool,
    add: fn(T, T) -> T,
) -> Result<Tensor, ValueError> {
    let (y_name, y_ty, y) = (y.name, y.ty, y.value);
    let mut out = x.array::<T>()?.to_owned();
    let y = y.cast(T::DTYPE);
    let yv = y.array::<T>()?;
    {
        let mut r = region(out.view_mut(), res);
        let pad = r.ndim().saturating_sub(yv.ndim());
        // Static broadcasting: only axes whose type says length 1 stretch.
        let fits = yv.ndim() <= r.ndim()
            && yv
                .shape()
                .iter()
                .zip(&r.shape()[pad..])
                .zip(&y_ty.shape)
                .all(|((&p, &q), d)| p == q || *d == Some(1));
        if !fits {
            return Err(ValueError::ShapeMismatch {
                op: if set { "set_subtensor" } else { "inc_subtensor" }.into(),
                operands: vec![("x[index]".into(), r.shape().to_vec()), (y_name.into(), yv.shape().to_vec())],
            });
        }
        let shape = r.raw_dim();
        let yb = yv.broadcast(shape).expect("checked broadcast");
        if set {
            r.assign(&yb);
        } else {
            r.zip_mut_with(&yb, |a, &b| *a = add(*a, b));
        }
    }
    Ok(T::wrap(out.into_shared()))
}

pub(super) fn inc_subtensor(
    inputs: &[KernelInput<'_>],
    index: &[IndexEntry],
    set: bool,
) -> Result<Tensor, ValueError> {
    let (x, y) = (inputs[0].value, inputs[1]);
    let res = resolve(index, &inputs[2..], x.shape())?;
    match x.dtype() {
        DType::Bool => typed_inc::<bool>(x, y, &res, set, |a, b| a | b),
        DType::I32 => typed_inc::<i32>(x, y, &res, set, <i32 as Num>::add),
        DType::I64 => typed_inc::<i64>(x, y, &res, set, <i64 as Num>::add),
        DType::F32 => typed_inc::<f32>(x, y, &res, set, <f32 as Num>::add),
        DType::F64 => typed_inc::<f64>(x, y, &res, set, <f64 as Num>::add),
    }
}

/// `arange(start, stop, step)` as NumPy computes it: `ceil((stop - start) / step)` values
/// (exact for integers), each `start + i * step`, converted to `dtype`. A zero step or a
/// length beyond memory is an error.
pub(super) fn arange(inputs: &[KernelInput<'_>], dtype: DType) -> Result<Tensor, ValueError> {
    let zero_step = || ValueError::invalid("arange", "the step cannot be zero");
    let all_int = inputs.iter().all(|i| i.value.dtype().is_int());
    let values: Tensor = if all_int && dtype.is_int() {
        let [a, b, k] = [0, 1, 2].map(|j| inputs[j].value.cast(DType::I64).scalar::<i64>());
        let (a, b, k) = (a? as i128, b? as i128, k? as i128);
        if k == 0 {
            return Err(zero_step());
        }
        let n = if k > 0 { (b - a + k - 1).div_euclid(k) } else { (a - b - k - 1).div_euclid(-k) }.max(0);
        let n = usize::try_from(n).map_err(|_| ValueError::invalid("arange", "the length overflows"))?;
        check_alloc("arange", &[n], DType::I64)?;
        // Every value lies between start and stop, so within i64.
        Tensor::from((0..n as i128).map(|i| (a + i * k) as i64).collect::<Vec<i64>>())
    } else {
        let [a, b, k] = [0, 1, 2].map(|j| inputs[j].value.cast(DType::F64).scalar::<f64>());
        let (a, b, k) = (a?, b?, k?);
        if k == 0.0 {
            return Err(zero_step());
        }
        let n = ((b - a) / k).ceil();
        if n.is_nan() {
            return Err(ValueError::invalid("arange", "the length is not a number (NaN or infinite bounds)"));
        }
        let n = n.max(0.0);
        if n >= isize::MAX as f64 {
            return Err(ValueError::invalid("arange", "the length overflows"));
        }
        check_alloc("arange", &[n as usize], DType::F64)?;
        Tensor::from((0..n as usize).map(|i| a + i as f64 * k).collect::<Vec<f64>>())
    };
    Ok(values.cast(dtype))
}

/// `alloc(v, lengths…)`: the value broadcast to the shape, as a new array. A negative length
/// or an axis of `v` that is not broadcastable and differs from the result's is an error.
pub(super) fn alloc(inputs: &[KernelInput<'_>], shape: &[Dim]) -> Result<Tensor, ValueError> {
    let (v, lengths) = inputs.split_first().expect("typed: the value comes first");
    let mut lengths = lengths.iter();
    let mut dims = Vec::with_capacity(shape.len());
    for d in shape {
        dims.push(match d {
            Dim::Fixed(n) => *n,
            Dim::Input => {
                let len = lengths.next().expect("typed: one input per symbolic length");
                let n = len.value.cast(DType::I64).scalar::<i64>()?;
                usize::try_from(n).map_err(|_| {
                    ValueError::invalid("alloc", format!("length {n} ({}) is negative", len.name))
                })?
            }
        });
    }
    let pad = dims.len() - v.value.ndim();
    let fits =
        v.value.shape().iter().enumerate().all(|(a, &m)| m == dims[pad + a] || v.ty.shape[a] == Some(1));
    if !fits {
        return Err(ValueError::ShapeMismatch {
            op: "alloc".into(),
            operands: vec![(v.name.to_string(), v.value.shape().to_vec()), ("shape".into(), dims)],
        });
    }
    check_alloc("alloc", &dims, v.value.dtype())?;
    Ok(crate::map_array!(v.value, a => a
        .broadcast(IxDyn(&dims))
        .expect("checked: every axis of the value fits")
        .to_owned()
        .into_shared()))
}

/// `x` itself, once every axis marked broadcastable is checked to have length 1.
pub(super) fn rebroadcast(x: &KernelInput<'_>, axes: &[(usize, bool)]) -> Result<Tensor, ValueError> {
    for &(axis, broadcastable) in axes {
        let len = x.value.shape()[axis];
        if broadcastable && len != 1 {
            return Err(ValueError::invalid(
                "rebroadcast",
                format!("axis {axis} of {} has length {len}, not 1: it cannot broadcast", x.name),
            ));
        }
    }
    Ok(x.value.clone())
}
