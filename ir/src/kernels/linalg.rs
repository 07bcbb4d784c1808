//! `dot` with NumPy's rules for ranks 1 and 2, on ndarray's own matrix products.

use super::KernelInput;
use crate::error::ValueError;
use crate::types::TensorType;
use crate::value::{Tensor, TensorElement};
use ndarray::{Ix1, Ix2, Ix3, LinalgScalar};

fn typed<T: TensorElement + LinalgScalar>(a: &Tensor, b: &Tensor) -> Tensor {
    let (a, b) = (a.array::<T>().expect("cast"), b.array::<T>().expect("cast"));
    fn v1<'a, T>(x: &ndarray::ArrayViewD<'a, T>) -> ndarray::ArrayView1<'a, T> {
        x.clone().into_dimensionality::<Ix1>().expect("rank 1")
    }
    fn v2<'a, T>(x: &ndarray::ArrayViewD<'a, T>) -> ndarray::ArrayView2<'a, T> {
        x.clone().into_dimensionality::<Ix2>().expect("rank 2")
    }
    let out = match (a.ndim(), b.ndim()) {
        (1, 1) => ndarray::arr0(v1(&a).dot(&v1(&b))).into_dyn(),
        (2, 1) => v2(&a).dot(&v1(&b)).into_dyn(),
        (1, 2) => v1(&a).dot(&v2(&b)).into_dyn(),
        _ => v2(&a).dot(&v2(&b)).into_dyn(),
    };
    T::wrap(out.into_shared())
}

/// One product per batch index: `(B, M, K)` by `(B, K, N)`.
pub(super) fn batched_dot(inputs: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    let (a, b) = (inputs[0], inputs[1]);
    let (sa, sb) = (a.value.shape(), b.value.shape());
    if sa[0] != sb[0] || sa[2] != sb[1] {
        return Err(ValueError::ShapeMismatch {
            op: "batched_dot".into(),
            operands: vec![(a.name.to_string(), sa.to_vec()), (b.name.to_string(), sb.to_vec())],
        });
    }
    crate::value::check_alloc("batched_dot", &[sa[0], sa[1], sb[2]], out.dtype)?;
    fn typed<T: TensorElement + LinalgScalar>(a: &Tensor, b: &Tensor) -> Result<Tensor, ValueError> {
        let (a, b) = (a.array::<T>()?, b.array::<T>()?);
        let (a, b) = (
            a.into_dimensionality::<Ix3>().expect("rank 3"),
            b.into_dimensionality::<Ix3>().expect("rank 3"),
        );
        let mut out = ndarray::Array3::<T>::zeros((a.shape()[0], a.shape()[1], b.shape()[2]));
        for (mut c, (x, y)) in out.outer_iter_mut().zip(a.outer_iter().zip(b.outer_iter())) {
            c.assign(&x.dot(&y));
        }
        Ok(T::wrap(out.into_dyn().into_shared()))
    }
    match out.dtype {
        crate::DType::F64 => typed::<f64>(a.value, b.value),
        crate::DType::F32 => typed::<f32>(a.value, b.value),
        d => Err(ValueError::invalid("batched_dot", format!("{d} operands (floats only)"))),
    }
}

pub(super) fn dot(inputs: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    let (a, b) = (inputs[0], inputs[1]);
    let k_a = a.value.shape().last().copied();
    let k_b = b.value.shape().first().copied();
    if k_a != k_b || !a.ty.accepts_shape(a.value.shape()) || !b.ty.accepts_shape(b.value.shape()) {
        return Err(ValueError::ShapeMismatch {
            op: "dot".into(),
            operands: vec![
                (a.name.to_string(), a.value.shape().to_vec()),
                (b.name.to_string(), b.value.shape().to_vec()),
            ],
        });
    }
    let rows = &a.value.shape()[..a.value.ndim() - 1];
    let shape: Vec<usize> = rows.iter().chain(b.value.shape().iter().skip(1)).copied().collect();
    crate::value::check_alloc("dot", &shape, out.dtype)?;
    let (x, y) = (a.value.cast(out.dtype), b.value.cast(out.dtype));
    Ok(match out.dtype {
        crate::DType::F64 => typed::<f64>(&x, &y),
        crate::DType::F32 => typed::<f32>(&x, &y),
        crate::DType::I64 => int_dot::<i64>(&x, &y),
        crate::DType::I32 => int_dot::<i32>(&x, &y),
        crate::DType::Bool => return Err(ValueError::invalid("dot", "bool dot is computed in int64")),
    })
}

/// Integer `dot` with wrapping arithmetic (ndarray's would panic on overflow in debug builds).
fn int_dot<T: crate::kernels::num::Num>(a: &Tensor, b: &Tensor) -> Tensor {
    let (a, b) = (a.array::<T>().expect("cast"), b.array::<T>().expect("cast"));
    let (m, k) = if a.ndim() == 2 { (a.shape()[0], a.shape()[1]) } else { (1, a.shape()[0]) };
    let n = if b.ndim() == 2 { b.shape()[1] } else { 1 };
    let at = |i: usize, p: usize| if a.ndim() == 2 { a[[i, p]] } else { a[[p]] };
    let bt = |p: usize, j: usize| if b.ndim() == 2 { b[[p, j]] } else { b[[p]] };
    let mut out = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            out.push((0..k).fold(T::zero(), |acc, p| T::add(acc, T::mul(at(i, p), bt(p, j)))));
        }
    }
    let mut shape = Vec::new();
    if a.ndim() == 2 {
        shape.push(m);
    }
    if b.ndim() == 2 {
        shape.push(n);
    }
    T::wrap(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), out).expect("shape").into_shared())
}
