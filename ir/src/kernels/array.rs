//! Kernels of the array family: the running sum and product along an axis, sorting (NaN
//! last, as NumPy) and the sorting positions, repeating slices, and the identity-like matrix.

use super::num::Num;
use super::KernelInput;
use crate::dtype::{DType, Element};
use crate::error::ValueError;
use crate::op::CumOp;
use crate::value::{check_alloc, Tensor, TensorElement};
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use std::cmp::Ordering;

/// `cumsum`/`cumprod` of `x` along `axis`, left to right as NumPy (the first element is
/// itself, so `-0.0` stays); booleans count in int64, integers wrap.
pub(super) fn cumulative(op: CumOp, x: &Tensor, axis: usize) -> Result<Tensor, ValueError> {
    fn typed<T: Num>(op: CumOp, x: &Tensor, axis: usize) -> Result<Tensor, ValueError> {
        let mut out = x.array::<T>()?.to_owned();
        let f = match op {
            CumOp::Sum => T::add,
            CumOp::Prod => T::mul,
        };
        for mut lane in out.lanes_mut(Axis(axis)) {
            let mut acc: Option<T> = None;
            for v in lane.iter_mut() {
                let next = acc.map_or(*v, |a| f(a, *v));
                *v = next;
                acc = Some(next);
            }
        }
        Ok(T::wrap(out.into_shared()))
    }
    let x = x.cast(op.out_dtype(x.dtype()));
    match x.dtype() {
        DType::I32 => typed::<i32>(op, &x, axis),
        DType::I64 => typed::<i64>(op, &x, axis),
        DType::F32 => typed::<f32>(op, &x, axis),
        DType::F64 => typed::<f64>(op, &x, axis),
        DType::Bool => unreachable!("booleans count in int64"),
    }
}

/// NumPy's sort order: ascending, NaN after every number (NaNs equal to each other).
fn nan_last<T: Element>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// `x` sorted along `axis` (`arg`: the int64 positions that sort it, equal elements in
/// their order).
pub(super) fn sort(x: &Tensor, axis: usize, arg: bool) -> Result<Tensor, ValueError> {
    fn sorted<T: TensorElement>(x: &Tensor, axis: usize) -> Result<Tensor, ValueError> {
        let mut out = x.array::<T>()?.to_owned();
        let mut buf: Vec<T> = Vec::with_capacity(out.len_of(Axis(axis)));
        for mut lane in out.lanes_mut(Axis(axis)) {
            buf.clear();
            buf.extend(lane.iter().copied());
            buf.sort_by(nan_last);
            lane.iter_mut().zip(&buf).for_each(|(o, v)| *o = *v);
        }
        Ok(T::wrap(out.into_shared()))
    }
    fn positions<T: TensorElement>(x: &Tensor, axis: usize) -> Result<Tensor, ValueError> {
        let a = x.array::<T>()?;
        check_alloc("argsort", a.shape(), DType::I64)?;
        let mut out = ArrayD::<i64>::zeros(IxDyn(a.shape()));
        let mut idx: Vec<usize> = Vec::with_capacity(a.len_of(Axis(axis)));
        Zip::from(a.lanes(Axis(axis))).and(out.lanes_mut(Axis(axis))).for_each(|lane, mut o| {
            idx.clear();
            idx.extend(0..lane.len());
            idx.sort_by(|&p, &q| nan_last(&lane[p], &lane[q]));
            o.iter_mut().zip(&idx).for_each(|(o, &p)| *o = p as i64);
        });
        Ok(Tensor::I64(out.into_shared()))
    }
    macro_rules! by_dtype {
        ($f:ident) => {
            match x.dtype() {
                DType::Bool => $f::<bool>(x, axis),
                DType::I32 => $f::<i32>(x, axis),
                DType::I64 => $f::<i64>(x, axis),
                DType::F32 => $f::<f32>(x, axis),
                DType::F64 => $f::<f64>(x, axis),
            }
        };
    }
    if arg {
        by_dtype!(positions)
    } else {
        by_dtype!(sorted)
    }
}

/// `repeat(x, repeats)` along `axis`: `repeats` one count for every slice, or one count per
/// slice (a vector of length 1 counts for all, as NumPy broadcasts it). A negative count or
/// a vector of another length is an error.
pub(super) fn repeat(inputs: &[KernelInput<'_>], axis: usize) -> Result<Tensor, ValueError> {
    let (x, reps) = (inputs[0], inputs[1]);
    let n = x.value.shape()[axis];
    let given: Vec<i64> = reps.value.cast(DType::I64).array::<i64>()?.iter().copied().collect();
    let counts: Vec<i64> = match (reps.value.ndim(), given.len()) {
        (0, _) | (_, 1) => vec![given[0]; n],
        (_, len) if len == n => given,
        _ => {
            return Err(ValueError::ShapeMismatch {
                op: "repeat".into(),
                operands: vec![
                    (x.name.to_string(), x.value.shape().to_vec()),
                    (reps.name.to_string(), reps.value.shape().to_vec()),
                ],
            })
        }
    };
    if let Some(c) = counts.iter().find(|&&c| c < 0) {
        return Err(ValueError::invalid(
            "repeat",
            format!("repeats may not be negative, got {c} ({})", reps.name),
        ));
    }
    let total = counts
        .iter()
        .try_fold(0usize, |s, &c| s.checked_add(c as usize))
        .ok_or_else(|| ValueError::invalid("repeat", "the repeated length overflows"))?;
    let mut shape = x.value.shape().to_vec();
    shape[axis] = total;
    check_alloc("repeat", &shape, x.value.dtype())?;
    if shape.contains(&0) {
        return Ok(crate::map_array!(x.value, _a => ArrayD::from_shape_vec(IxDyn(&shape), Vec::new())
            .expect("empty")
            .into_shared()));
    }
    // Every other axis is at least 1 long, so the positions are no more than the elements.
    let positions: Vec<usize> =
        counts.iter().enumerate().flat_map(|(p, &c)| std::iter::repeat_n(p, c as usize)).collect();
    Ok(crate::map_array!(x.value, a => a.select(Axis(axis), &positions).into_shared()))
}

/// `eye(n, m, k)` of `dtype`: ones where the column is the row plus `k`. A negative length
/// is an error.
pub(super) fn eye(inputs: &[KernelInput<'_>], dtype: DType) -> Result<Tensor, ValueError> {
    fn build<T: TensorElement>(n: usize, m: usize, k: i64) -> Tensor {
        let mut a = ArrayD::<T>::from_elem(IxDyn(&[n, m]), T::zero());
        for i in 0..n {
            let j = i as i128 + k as i128;
            if (0..m as i128).contains(&j) {
                a[[i, j as usize]] = T::one();
            }
        }
        T::wrap(a.into_shared())
    }
    let [n, m, k] = [0, 1, 2].map(|j| inputs[j].value.cast(DType::I64).scalar::<i64>());
    let (n, m, k) = (n?, m?, k?);
    let len = |v: i64, which: usize| {
        usize::try_from(v).map_err(|_| {
            ValueError::invalid(
                "eye",
                format!("negative dimensions are not allowed: {v} ({})", inputs[which].name),
            )
        })
    };
    let (n, m) = (len(n, 0)?, len(m, 1)?);
    check_alloc("eye", &[n, m], dtype)?;
    Ok(match dtype {
        DType::Bool => build::<bool>(n, m, k),
        DType::I32 => build::<i32>(n, m, k),
        DType::I64 => build::<i64>(n, m, k),
        DType::F32 => build::<f32>(n, m, k),
        DType::F64 => build::<f64>(n, m, k),
    })
}
