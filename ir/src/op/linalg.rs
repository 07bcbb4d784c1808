//! Type rules of linear algebra: `Dot`, `BatchedDot` and `Gemm`.

use super::{Op, Rule};
use crate::dtype::DType;
use crate::error::BuildErrorKind;
use crate::types::{broadcast_shapes, TensorType};

/// NumPy's `dot` for ranks 1 and 2.
pub(super) fn dot(r: &Rule<'_>) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    if ins.len() != 2 {
        return Err(r.invalid(format!("takes 2 inputs, got {}", ins.len())));
    }
    let (a, b) = (&ins[0], &ins[1]);
    for o in [a, b] {
        if !(1..=2).contains(&o.ty.ndim()) {
            return Err(r.rank(o, "1 or 2"));
        }
    }
    let ka = *a.ty.shape.last().expect("rank >= 1");
    let kb = b.ty.shape[0];
    if let (Some(p), Some(q)) = (ka, kb) {
        if p != q {
            return Err(BuildErrorKind::ShapeMismatch { op: name, operands: vec![a.clone(), b.clone()] });
        }
    }
    let mut shape = a.ty.shape[..a.ty.ndim() - 1].to_vec();
    shape.extend_from_slice(&b.ty.shape[1..]);
    let mut dtype = a.ty.dtype.upcast(b.ty.dtype);
    if dtype == DType::Bool {
        dtype = DType::I64;
    }
    Ok(TensorType::new(dtype, shape))
}

/// `(B, M, K)` by `(B, K, N)`: `(B, M, N)`, floats of one dtype.
pub(super) fn batched_dot(r: &Rule<'_>) -> Result<TensorType, BuildErrorKind> {
    let [a, b] = r.ins else {
        return Err(r.invalid(format!("takes 2 inputs, got {}", r.ins.len())));
    };
    for o in [a, b] {
        if o.ty.ndim() != 3 {
            return Err(r.rank(o, "3 (batch, rows, columns)"));
        }
    }
    if a.ty.dtype != b.ty.dtype || !a.ty.dtype.is_float() {
        return Err(r.invalid(format!("needs two float operands of one dtype, got {a} and {b}")));
    }
    let agree = |p: Option<usize>, q: Option<usize>| !matches!((p, q), (Some(p), Some(q)) if p != q);
    if !agree(a.ty.shape[0], b.ty.shape[0]) || !agree(a.ty.shape[2], b.ty.shape[1]) {
        return Err(BuildErrorKind::ShapeMismatch {
            op: r.name.clone(),
            operands: vec![a.clone(), b.clone()],
        });
    }
    let batch = a.ty.shape[0].or(b.ty.shape[0]);
    Ok(TensorType::new(a.ty.dtype, vec![batch, a.ty.shape[1], b.ty.shape[2]]))
}

/// `beta * z + alpha * dot(x, y)`.
pub(super) fn gemm(r: &Rule<'_>) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    if ins.len() != 5 {
        return Err(r.invalid(format!("takes 5 inputs (z, alpha, x, y, beta), got {}", ins.len())));
    }
    for o in [&ins[1], &ins[4]] {
        if o.ty.ndim() != 0 {
            return Err(r.rank(o, "0 (a scalar factor)"));
        }
    }
    let d = Op::Dot.infer(&ins[2..4])?;
    let z = &ins[0];
    if z.ty.ndim() != d.ndim() {
        return Err(r.rank(z, &format!("{} like the product", d.ndim())));
    }
    let shape = broadcast_shapes(&[&z.ty.shape, &d.shape]).map_err(|_| BuildErrorKind::ShapeMismatch {
        op: name.clone(),
        operands: vec![z.clone(), ins[2].clone(), ins[3].clone()],
    })?;
    let dtype = ins.iter().map(|o| o.ty.dtype).reduce(DType::upcast).expect("five inputs");
    if !dtype.is_float() {
        return Err(r.invalid(format!("needs float operands, got {dtype}")));
    }
    Ok(TensorType::new(dtype, shape))
}
