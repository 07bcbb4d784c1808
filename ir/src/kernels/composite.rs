//! Kernels of the optimizer's fused ops, defined by the unfused ops they replace: a
//! `Composite` evaluates its scalar program op by op with the elementwise kernels (so a fused
//! graph computes exactly what the unfused one did), `FusedReduce` reduces that result, and
//! `Gemm` is `beta * z + alpha * dot(x, y)`. A multi-output composite computes all its
//! outputs in the same pass (`composite_outputs`).

use super::{eval, KernelInput};
use crate::error::{Operand, ValueError};
use crate::op::{Op, ReduceOp};
use crate::program::{ScalarNode, ScalarProgram};
use crate::types::TensorType;
use crate::value::Tensor;

pub(super) fn composite(p: &ScalarProgram, inputs: &[KernelInput<'_>]) -> Result<Tensor, ValueError> {
    Ok(composite_outputs(p, inputs)?.swap_remove(0))
}

/// Every output of a (multi-output) composite, in order: the result, then the extras.
pub fn composite_outputs(p: &ScalarProgram, inputs: &[KernelInput<'_>]) -> Result<Vec<Tensor>, ValueError> {
    super::broadcast_runtime(p.kernel_name(), inputs)?;
    let ndim = inputs.first().map_or(0, |i| i.value.ndim());
    let mut values: Vec<(Tensor, TensorType, String)> =
        inputs.iter().map(|i| (i.value.clone(), i.ty.clone(), i.name.to_string())).collect();
    for node in &p.nodes {
        let v = match node {
            ScalarNode::Const { dtype, bits } => {
                let shape = vec![1; ndim];
                let t = Tensor::full(*dtype, &shape, f64::from_bits(*bits));
                (t, TensorType::fixed(*dtype, &shape), "constant".to_string())
            }
            ScalarNode::Apply { op, args, .. } => {
                let op = Op::Elemwise(*op);
                let operands: Vec<Operand> = args
                    .iter()
                    .map(|&a| Operand { name: values[a.index()].2.clone(), ty: values[a.index()].1.clone() })
                    .collect();
                let ty = op.infer(&operands).map_err(|e| ValueError::invalid("composite", e.to_string()))?;
                let ins: Vec<KernelInput<'_>> = args
                    .iter()
                    .map(|&a| KernelInput {
                        value: &values[a.index()].0,
                        ty: &values[a.index()].1,
                        name: &values[a.index()].2,
                    })
                    .collect();
                let t = eval(&op, &ins, &ty)?;
                (t, ty, format!("<{} result>", op.name()))
            }
        };
        values.push(v);
    }
    Ok(p.outputs().iter().map(|v| values[v.index()].0.clone()).collect())
}

pub(super) fn fused_reduce(
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    body: &ScalarProgram,
    inputs: &[KernelInput<'_>],
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let elem = composite(body, inputs)?;
    let elem_ty = TensorType::unknown(elem.dtype(), elem.ndim());
    let reduce = Op::Reduce { op, axes: axes.to_vec(), keepdims };
    eval(&reduce, &[KernelInput { value: &elem, ty: &elem_ty, name: "body" }], out)
}

pub(super) fn gemm(inputs: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    let (z, alpha, x, y, beta) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]);
    let dot_ty = Op::Dot
        .infer(&[
            Operand { name: x.name.into(), ty: x.ty.clone() },
            Operand { name: y.name.into(), ty: y.ty.clone() },
        ])
        .map_err(|e| ValueError::invalid("gemm", e.to_string()))?;
    let d = eval(&Op::Dot, &[x, y], &dot_ty)?;
    let mul = Op::Elemwise(crate::op::ScalarOp::Mul);
    let scalar_ty = |t: &Tensor| TensorType::fixed(t.dtype(), &vec![1; d.ndim()]);
    let pad = |t: &Tensor| -> Tensor {
        crate::map_array!(t, a => a.clone().into_shape_with_order(ndarray::IxDyn(&vec![1; d.ndim()])).expect("one element"))
    };
    let (a, b) = (pad(alpha.value), pad(beta.value));
    let (a_ty, b_ty) = (scalar_ty(&a), scalar_ty(&b));
    let ad_ty = TensorType::new(out.dtype, dot_ty.shape.clone());
    let ad = eval(
        &mul,
        &[
            KernelInput { value: &a, ty: &a_ty, name: "alpha" },
            KernelInput { value: &d, ty: &dot_ty, name: "dot" },
        ],
        &ad_ty,
    )?;
    let bz_ty = TensorType::new(out.dtype, z.ty.shape.clone());
    let bz = eval(&mul, &[KernelInput { value: &b, ty: &b_ty, name: "beta" }, z], &bz_ty)?;
    let add = Op::Elemwise(crate::op::ScalarOp::Add);
    eval(
        &add,
        &[
            KernelInput { value: &bz, ty: &bz_ty, name: z.name },
            KernelInput { value: &ad, ty: &ad_ty, name: "dot" },
        ],
        out,
    )
}
