//! Type rules of the elementwise family: `Elemwise`, `Composite` and its extra outputs.

use super::Rule;
use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::program::ScalarProgram;
use crate::scalar::ScalarOp;
use crate::types::{broadcast_shapes, TensorType};

/// A scalar op applied elementwise: equal ranks, static broadcasting, the op table's dtype rule.
pub(super) fn elemwise(r: &Rule<'_>, s: &ScalarOp) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    match s.arity() {
        Some(n) if n != ins.len() => return Err(r.invalid(format!("takes {n} inputs, got {}", ins.len()))),
        None if ins.len() < 2 => return Err(r.invalid(format!("takes 2 or more inputs, got {}", ins.len()))),
        _ => {}
    }
    let ndim = ins[0].ty.ndim();
    if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
        return Err(r.rank(o, &format!("{ndim} like the other inputs")));
    }
    let dtypes: Vec<DType> = ins.iter().map(|o| o.ty.dtype).collect();
    let dtype = s.out_dtype(&dtypes).map_err(|e| r.invalid(e))?;
    let shapes: Vec<&[Option<usize>]> = ins.iter().map(|o| &o.ty.shape[..]).collect();
    let shape = broadcast_shapes(&shapes)
        .map_err(|_| BuildErrorKind::ShapeMismatch { op: name.clone(), operands: ins.to_vec() })?;
    Ok(TensorType::new(dtype, shape))
}

/// An extra output of a multi-output composite: its input's shape, its own dtype.
pub(super) fn composite_output(
    r: &Rule<'_>,
    index: &usize,
    dtype: &DType,
) -> Result<TensorType, BuildErrorKind> {
    let ins = r.ins;
    let [x] = ins else { return Err(r.invalid(format!("takes 1 input, got {}", ins.len()))) };
    if *index == 0 {
        return Err(r.invalid("output 0 is the composite node itself".into()));
    }
    Ok(TensorType::new(*dtype, x.ty.shape.clone()))
}

// The type of a composite's result: the inputs must have the program's dtypes and equal
/// ranks, and broadcast as an elementwise op's.
pub(super) fn composite_type(
    p: &ScalarProgram,
    ins: &[Operand],
    op: &str,
) -> Result<TensorType, BuildErrorKind> {
    let invalid = |reason: String| BuildErrorKind::Invalid { op: op.into(), reason };
    p.validate().map_err(|e| invalid(e.to_string()))?;
    if ins.len() != p.inputs.len() {
        return Err(invalid(format!("the program takes {} inputs, got {}", p.inputs.len(), ins.len())));
    }
    for (o, &d) in ins.iter().zip(&p.inputs) {
        if o.ty.dtype != d {
            return Err(BuildErrorKind::DType { op: op.into(), operand: o.clone(), expected: d.to_string() });
        }
    }
    let ndim = ins.first().map_or(0, |o| o.ty.ndim());
    if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
        return Err(BuildErrorKind::Rank {
            op: op.into(),
            operand: o.clone(),
            expected: format!("{ndim} like the other inputs"),
        });
    }
    let shapes: Vec<&[Option<usize>]> = ins.iter().map(|o| &o.ty.shape[..]).collect();
    let shape = broadcast_shapes(&shapes)
        .map_err(|_| BuildErrorKind::ShapeMismatch { op: op.into(), operands: ins.to_vec() })?;
    Ok(TensorType::new(p.out_dtype(), shape))
}
