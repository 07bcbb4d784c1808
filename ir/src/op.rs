//! The closed set of ops. Each op's type rule lives here (`Op::infer`); its reference
//! kernel lives in `kernels` and its printed forms in `print`/`text`, all dispatched by
//! `match` on this enum, so a new op is one variant plus one arm in each of those places.

use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::program::ScalarProgram;
pub use crate::scalar::ScalarOp;
use crate::shared::SharedVar;
use crate::types::{broadcast_shapes, TensorType};
use crate::value::Tensor;
use std::sync::Arc;

/// A reduction over a set of axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum (integers accumulate in int64, floats in float64; the sum of nothing is `+0.0`).
    Sum,
    /// Product (integers accumulate in int64, floats in float64).
    Prod,
    /// Maximum, NaN if any element is NaN.
    Max,
    /// Minimum, NaN if any element is NaN.
    Min,
    /// Arithmetic mean (integers average in float64; float32 accumulates in float64).
    Mean,
    /// True if every element is nonzero.
    All,
    /// True if some element is nonzero.
    Any,
}

impl ReduceOp {
    /// The name used by `pp` and the text form.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::Mean => "mean",
            ReduceOp::All => "all",
            ReduceOp::Any => "any",
        }
    }

    /// Every reduction, for the parser.
    pub const ALL: [ReduceOp; 7] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::Mean,
        ReduceOp::All,
        ReduceOp::Any,
    ];

    /// The result dtype for an input dtype.
    pub fn out_dtype(self, input: DType) -> DType {
        match self {
            ReduceOp::Sum | ReduceOp::Prod if !input.is_float() => DType::I64,
            ReduceOp::Mean => input.to_float(),
            ReduceOp::All | ReduceOp::Any => DType::Bool,
            _ => input,
        }
    }
}

/// Which arg-extremum an `ArgReduce` finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgOp {
    /// Index of the first maximum (of the first NaN, if any).
    ArgMax,
    /// Index of the first minimum (of the first NaN, if any).
    ArgMin,
}

impl ArgOp {
    /// The name used by `pp` and the text form.
    pub fn name(self) -> &'static str {
        match self {
            ArgOp::ArgMax => "argmax",
            ArgOp::ArgMin => "argmin",
        }
    }
}

/// One axis of a `Subtensor` index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexEntry {
    /// A single position (negative counts from the end); the axis disappears.
    At(Idx),
    /// `start:stop:step` with NumPy's meaning of omitted and negative bounds.
    Slice {
        /// First position, `None` for the natural start.
        start: Option<isize>,
        /// One past the last position, `None` for the natural end.
        stop: Option<isize>,
        /// Stride, never 0.
        step: isize,
    },
}

/// A single index: a number fixed when building, or a symbolic integer scalar input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Idx {
    /// A fixed position.
    Const(isize),
    /// The next index input of the node (after the data inputs).
    Input,
}

/// One axis of a `Reshape` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReshapeDim {
    /// A fixed length.
    Fixed(usize),
    /// The length of the input's axis with this number.
    Keep(usize),
    /// Whatever length makes the element count match (at most one per reshape).
    Infer,
    /// The length of axis `i` of the reshape's second input, a shape donor (how the
    /// gradient of a reshape restores its input's run-time shape).
    Like(usize),
}

/// An operation: a node of the graph applies one op to its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// An input of the graph (its name is on the node).
    Input,
    /// A constant value.
    Constant(Box<Tensor>),
    /// A shared variable, read at call time.
    Shared(SharedVar),
    /// A scalar op applied elementwise; inputs share their rank and broadcast statically.
    Elemwise(ScalarOp),
    /// A reduction over `axes` (sorted, distinct).
    Reduce {
        /// Which reduction.
        op: ReduceOp,
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
    },
    /// Index of the extremum over `axes`, counted over those axes flattened in order.
    ArgReduce {
        /// Which extremum.
        op: ArgOp,
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
    },
    /// `exp(x - max) / sum(exp(x - max))` along one axis.
    Softmax {
        /// The axis.
        axis: usize,
    },
    /// `x - max - log(sum(exp(x - max)))` along one axis.
    LogSoftmax {
        /// The axis.
        axis: usize,
    },
    /// `log(sum(exp(x)))` over `axes`, computed without overflow.
    LogSumExp {
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
    },
    /// NumPy's `dot` for ranks 1 and 2.
    Dot,
    /// `beta * z + alpha * dot(x, y)`: inputs `z, alpha, x, y, beta` (alpha and beta 0-d);
    /// gemm for a matrix `y`, gemv for a vector. Made by the optimizer.
    Gemm,
    /// A fused elementwise kernel: the scalar program applied elementwise to the inputs,
    /// which broadcast statically like any elementwise op's. Made by the optimizer.
    Composite(Arc<ScalarProgram>),
    /// Output `index` (≥ 1) of the multi-output `Composite` that is its one input, which
    /// computes it in the same pass as its result. Made by the optimizer.
    CompositeOutput {
        /// Which output of the program (`ScalarProgram::outputs()[index]`).
        index: usize,
        /// Its dtype.
        dtype: DType,
    },
    /// A reduction of a fused elementwise kernel, computed without the intermediate:
    /// `op(body(inputs…))` over `axes`. Made by the optimizer.
    FusedReduce {
        /// The reduction.
        op: ReduceOp,
        /// The reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes with length 1.
        keepdims: bool,
        /// The elementwise body.
        body: Arc<ScalarProgram>,
    },
    /// Reorders axes: `Some(i)` takes input axis `i`, `None` inserts a broadcastable axis;
    /// input axes not listed must be broadcastable and are dropped.
    DimShuffle {
        /// The new order.
        order: Vec<Option<usize>>,
    },
    /// A new shape with the same elements in row-major order.
    Reshape {
        /// The target axes.
        shape: Vec<ReshapeDim>,
    },
    /// Joins inputs along an existing axis.
    Concatenate {
        /// The axis.
        axis: usize,
    },
    /// Part `part` of the first input cut along `axis` into pieces as long as the other
    /// inputs (the gradient of `concatenate`): inputs are the whole, then every piece's
    /// shape donor.
    SplitPart {
        /// The axis.
        axis: usize,
        /// Which piece.
        part: usize,
    },
    /// Basic indexing `x[i, a:b:c, …]`; the inputs are the data then the symbolic indices.
    Subtensor {
        /// One entry per indexed axis (trailing axes are taken whole).
        index: Vec<IndexEntry>,
    },
    /// `x` with `x[index]` set to (or incremented by) `y`; inputs are `x`, `y`, then the
    /// symbolic indices.
    IncSubtensor {
        /// The indexed region.
        index: Vec<IndexEntry>,
        /// Set (`true`) or increment (`false`).
        set: bool,
    },
}

impl Op {
    /// The op's name as `pp`, the text form and errors use it.
    pub fn name(&self) -> String {
        match self {
            Op::Input => "input".into(),
            Op::Constant(_) => "constant".into(),
            Op::Shared(_) => "shared".into(),
            Op::Elemwise(s) => s.name().into(),
            Op::Reduce { op, .. } => op.name().into(),
            Op::ArgReduce { op, .. } => op.name().into(),
            Op::Softmax { .. } => "softmax".into(),
            Op::LogSoftmax { .. } => "log_softmax".into(),
            Op::LogSumExp { .. } => "logsumexp".into(),
            Op::Dot => "dot".into(),
            Op::Gemm => "gemm".into(),
            Op::Composite(_) => "composite".into(),
            Op::CompositeOutput { .. } => "composite_output".into(),
            Op::FusedReduce { op, .. } => format!("fused_{}", op.name()),
            Op::DimShuffle { .. } => "dimshuffle".into(),
            Op::Reshape { .. } => "reshape".into(),
            Op::Concatenate { .. } => "concatenate".into(),
            Op::SplitPart { .. } => "split_part".into(),
            Op::Subtensor { .. } => "subtensor".into(),
            Op::IncSubtensor { set: true, .. } => "set_subtensor".into(),
            Op::IncSubtensor { set: false, .. } => "inc_subtensor".into(),
        }
    }

    /// True for the leaves of a graph: inputs, constants and shared variables.
    pub fn is_leaf(&self) -> bool {
        matches!(self, Op::Input | Op::Constant(_) | Op::Shared(_))
    }

    /// The type of this op's result for inputs of the given types, or why they don't fit.
    /// Leaves have no rule (their type is given).
    pub fn infer(&self, ins: &[Operand]) -> Result<TensorType, BuildErrorKind> {
        let name = self.name();
        let invalid = |reason: String| BuildErrorKind::Invalid { op: name.clone(), reason };
        let rank = |o: &Operand, expected: &str| BuildErrorKind::Rank {
            op: name.clone(),
            operand: o.clone(),
            expected: expected.into(),
        };
        match self {
            Op::Input | Op::Constant(_) | Op::Shared(_) => Err(invalid("a leaf has no type rule".into())),
            Op::Elemwise(s) => {
                match s.arity() {
                    Some(n) if n != ins.len() => {
                        return Err(invalid(format!("takes {n} inputs, got {}", ins.len())))
                    }
                    None if ins.len() < 2 => {
                        return Err(invalid(format!("takes 2 or more inputs, got {}", ins.len())))
                    }
                    _ => {}
                }
                let ndim = ins[0].ty.ndim();
                if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
                    return Err(rank(o, &format!("{ndim} like the other inputs")));
                }
                let dtypes: Vec<DType> = ins.iter().map(|o| o.ty.dtype).collect();
                let dtype = s.out_dtype(&dtypes).map_err(invalid)?;
                let shapes: Vec<&[Option<usize>]> = ins.iter().map(|o| &o.ty.shape[..]).collect();
                let shape = broadcast_shapes(&shapes).map_err(|_| BuildErrorKind::ShapeMismatch {
                    op: name.clone(),
                    operands: ins.to_vec(),
                })?;
                Ok(TensorType::new(dtype, shape))
            }
            Op::Reduce { op, axes, keepdims } => {
                let x = one(ins, &name)?;
                check_axes(axes, x, &name)?;
                Ok(TensorType::new(op.out_dtype(x.ty.dtype), reduced_shape(&x.ty, axes, *keepdims)))
            }
            Op::ArgReduce { axes, keepdims, .. } => {
                let x = one(ins, &name)?;
                check_axes(axes, x, &name)?;
                Ok(TensorType::new(DType::I64, reduced_shape(&x.ty, axes, *keepdims)))
            }
            Op::Softmax { axis } | Op::LogSoftmax { axis } => {
                let x = one(ins, &name)?;
                check_axes(&[*axis], x, &name)?;
                Ok(x.ty.with_dtype(x.ty.dtype.to_float()))
            }
            Op::LogSumExp { axes, keepdims } => {
                let x = one(ins, &name)?;
                check_axes(axes, x, &name)?;
                Ok(TensorType::new(x.ty.dtype.to_float(), reduced_shape(&x.ty, axes, *keepdims)))
            }
            Op::Dot => {
                if ins.len() != 2 {
                    return Err(invalid(format!("takes 2 inputs, got {}", ins.len())));
                }
                let (a, b) = (&ins[0], &ins[1]);
                for o in [a, b] {
                    if !(1..=2).contains(&o.ty.ndim()) {
                        return Err(rank(o, "1 or 2"));
                    }
                }
                let ka = *a.ty.shape.last().expect("rank >= 1");
                let kb = b.ty.shape[0];
                if let (Some(p), Some(q)) = (ka, kb) {
                    if p != q {
                        return Err(BuildErrorKind::ShapeMismatch {
                            op: name,
                            operands: vec![a.clone(), b.clone()],
                        });
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
            Op::Composite(p) => composite_type(p, ins, &name),
            Op::CompositeOutput { index, dtype } => {
                let [x] = ins else { return Err(invalid(format!("takes 1 input, got {}", ins.len()))) };
                if *index == 0 {
                    return Err(invalid("output 0 is the composite node itself".into()));
                }
                Ok(TensorType::new(*dtype, x.ty.shape.clone()))
            }
            Op::FusedReduce { op, axes, keepdims, body } => {
                let elem = composite_type(body, ins, &name)?;
                let operand = Operand { name: "body".into(), ty: elem.clone() };
                check_axes(axes, &operand, &name)?;
                Ok(TensorType::new(op.out_dtype(elem.dtype), reduced_shape(&elem, axes, *keepdims)))
            }
            Op::Gemm => {
                if ins.len() != 5 {
                    return Err(invalid(format!("takes 5 inputs (z, alpha, x, y, beta), got {}", ins.len())));
                }
                for o in [&ins[1], &ins[4]] {
                    if o.ty.ndim() != 0 {
                        return Err(rank(o, "0 (a scalar factor)"));
                    }
                }
                let d = Op::Dot.infer(&ins[2..4])?;
                let z = &ins[0];
                if z.ty.ndim() != d.ndim() {
                    return Err(rank(z, &format!("{} like the product", d.ndim())));
                }
                let shape = broadcast_shapes(&[&z.ty.shape, &d.shape]).map_err(|_| {
                    BuildErrorKind::ShapeMismatch {
                        op: name.clone(),
                        operands: vec![z.clone(), ins[2].clone(), ins[3].clone()],
                    }
                })?;
                let dtype = ins.iter().map(|o| o.ty.dtype).reduce(DType::upcast).expect("five inputs");
                if !dtype.is_float() {
                    return Err(invalid(format!("needs float operands, got {dtype}")));
                }
                Ok(TensorType::new(dtype, shape))
            }
            Op::DimShuffle { order } => {
                let x = one(ins, &name)?;
                let n = x.ty.ndim();
                let mut seen = vec![false; n];
                for &i in order.iter().flatten() {
                    if i >= n || seen[i] {
                        return Err(BuildErrorKind::Axis { op: name, axis: i as isize, operand: x.clone() });
                    }
                    seen[i] = true;
                }
                if let Some(dropped) = (0..n).find(|&i| !seen[i] && !x.ty.is_broadcastable(i)) {
                    return Err(invalid(format!(
                        "cannot drop axis {dropped} of {x}: only broadcastable axes can be dropped"
                    )));
                }
                let shape = order.iter().map(|o| o.map_or(Some(1), |i| x.ty.shape[i])).collect();
                Ok(TensorType::new(x.ty.dtype, shape))
            }
            Op::Reshape { shape } => {
                let uses_donor = shape.iter().any(|d| matches!(d, ReshapeDim::Like(_)));
                if ins.len() != 1 + uses_donor as usize {
                    return Err(invalid(format!(
                        "takes {} inputs, got {}",
                        1 + uses_donor as usize,
                        ins.len()
                    )));
                }
                let x = &ins[0];
                let infers = shape.iter().filter(|d| **d == ReshapeDim::Infer).count();
                if infers > 1 {
                    return Err(invalid("at most one axis can be inferred (-1)".into()));
                }
                let mut out = Vec::with_capacity(shape.len());
                for d in shape {
                    out.push(match *d {
                        ReshapeDim::Fixed(n) => Some(n),
                        ReshapeDim::Keep(i) if i < x.ty.ndim() => x.ty.shape[i],
                        ReshapeDim::Keep(i) => {
                            return Err(BuildErrorKind::Axis {
                                op: name,
                                axis: i as isize,
                                operand: x.clone(),
                            })
                        }
                        ReshapeDim::Infer => None,
                        ReshapeDim::Like(i) if i < ins[1].ty.ndim() => ins[1].ty.shape[i],
                        ReshapeDim::Like(i) => {
                            return Err(BuildErrorKind::Axis {
                                op: name,
                                axis: i as isize,
                                operand: ins[1].clone(),
                            })
                        }
                    });
                }
                let total: Option<Option<usize>> =
                    x.ty.shape.iter().copied().collect::<Option<Vec<usize>>>().map(checked_product);
                let too_large = || {
                    invalid(format!(
                        "cannot reshape {x} to {}: the shape is too large (its size overflows)",
                        fmt_reshape(shape)
                    ))
                };
                let known_dims: Vec<usize> = out.iter().flatten().copied().collect();
                if !shape_fits(&known_dims) {
                    return Err(too_large());
                }
                if let Some(total) = total {
                    let total = total.ok_or_else(too_large)?;
                    let known = checked_product(out.iter().flatten().copied()).ok_or_else(too_large)?;
                    if infers == 1 && known == 0 && total == 0 {
                        // An empty tensor: the inferred axis takes the input axes no other
                        // target axis keeps (flatten of (0, 3, 4) is (0, 12)).
                        let kept: Vec<usize> = shape
                            .iter()
                            .filter_map(|d| if let ReshapeDim::Keep(i) = d { Some(*i) } else { None })
                            .collect();
                        let rest = (0..x.ty.ndim()).filter(|i| !kept.contains(i)).map(|i| x.ty.shape[i]);
                        let pos = shape.iter().position(|d| *d == ReshapeDim::Infer).expect("one infer");
                        out[pos] = rest.collect::<Option<Vec<usize>>>().and_then(checked_product);
                    } else if infers == 1 {
                        if known == 0 || total % known != 0 {
                            return Err(invalid(format!("cannot reshape {x} to {}", fmt_reshape(shape))));
                        }
                        let pos = shape.iter().position(|d| *d == ReshapeDim::Infer).expect("one infer");
                        out[pos] = Some(total / known);
                    } else if out.iter().all(Option::is_some) && known != total {
                        return Err(invalid(format!("cannot reshape {x} to {}", fmt_reshape(shape))));
                    }
                    if !shape_fits(&out.iter().flatten().copied().collect::<Vec<_>>()) {
                        return Err(too_large());
                    }
                }
                Ok(TensorType::new(x.ty.dtype, out))
            }
            Op::Concatenate { axis } => {
                if ins.is_empty() {
                    return Err(invalid("needs at least one input".into()));
                }
                let ndim = ins[0].ty.ndim();
                if *axis >= ndim {
                    return Err(BuildErrorKind::Axis {
                        op: name,
                        axis: *axis as isize,
                        operand: ins[0].clone(),
                    });
                }
                if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
                    return Err(rank(o, &format!("{ndim} like the other inputs")));
                }
                let mut shape = ins[0].ty.shape.clone();
                for o in &ins[1..] {
                    for (i, d) in shape.iter_mut().enumerate() {
                        if i == *axis {
                            *d = match (*d, o.ty.shape[i]) {
                                (Some(p), Some(q)) => {
                                    Some(p.checked_add(q).ok_or_else(|| BuildErrorKind::Invalid {
                                        op: name.clone(),
                                        reason: "the joined length overflows".into(),
                                    })?)
                                }
                                _ => None,
                            };
                        } else {
                            match (*d, o.ty.shape[i]) {
                                (Some(p), Some(q)) if p != q => {
                                    return Err(BuildErrorKind::ShapeMismatch {
                                        op: name,
                                        operands: ins.to_vec(),
                                    })
                                }
                                (None, q) => *d = q,
                                _ => {}
                            }
                        }
                    }
                }
                let dtype = ins.iter().map(|o| o.ty.dtype).reduce(DType::upcast).expect("non-empty");
                Ok(TensorType::new(dtype, shape))
            }
            Op::SplitPart { axis, part } => {
                if ins.len() < 2 || *part + 1 >= ins.len() {
                    return Err(invalid(format!("part {part} of {} pieces", ins.len().saturating_sub(1))));
                }
                let whole = &ins[0];
                let ndim = whole.ty.ndim();
                if *axis >= ndim {
                    return Err(BuildErrorKind::Axis {
                        op: name,
                        axis: *axis as isize,
                        operand: whole.clone(),
                    });
                }
                if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
                    return Err(rank(o, &format!("{ndim} like the whole")));
                }
                let piece = &ins[1 + part];
                let shape =
                    (0..ndim)
                        .map(|a| {
                            if a == *axis {
                                piece.ty.shape[a]
                            } else {
                                whole.ty.shape[a].or(piece.ty.shape[a])
                            }
                        })
                        .collect();
                Ok(TensorType::new(whole.ty.dtype, shape))
            }
            Op::Subtensor { index } => {
                let x = ins.first().ok_or_else(|| invalid("needs an input".into()))?;
                check_index_inputs(index, &ins[1..], &name)?;
                Ok(TensorType::new(x.ty.dtype, subtensor_shape(&x.ty, index, &name, x)?))
            }
            Op::IncSubtensor { index, .. } => {
                if ins.len() < 2 {
                    return Err(invalid("needs the tensor and the value".into()));
                }
                let (x, y) = (&ins[0], &ins[1]);
                check_index_inputs(index, &ins[2..], &name)?;
                let region = subtensor_shape(&x.ty, index, &name, x)?;
                if y.ty.ndim() > region.len() {
                    return Err(rank(y, &format!("at most {} (the indexed region's)", region.len())));
                }
                let pad = region.len() - y.ty.ndim();
                for (r, yd) in region[pad..].iter().zip(&y.ty.shape) {
                    // Only an axis of y whose type says length 1 stretches over the region.
                    if let (Some(p), Some(q)) = (r, yd) {
                        if p != q && *q != 1 {
                            return Err(BuildErrorKind::ShapeMismatch {
                                op: name,
                                operands: vec![x.clone(), y.clone()],
                            });
                        }
                    }
                }
                if y.ty.dtype.upcast(x.ty.dtype) != x.ty.dtype {
                    return Err(BuildErrorKind::DType {
                        op: name,
                        operand: y.clone(),
                        expected: format!("one that converts to {} without loss", x.ty.dtype),
                    });
                }
                Ok(x.ty.clone())
            }
        }
    }
}

/// The type of a composite's result: the inputs must have the program's dtypes and equal
/// ranks, and broadcast as an elementwise op's.
fn composite_type(p: &ScalarProgram, ins: &[Operand], op: &str) -> Result<TensorType, BuildErrorKind> {
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

fn one<'a>(ins: &'a [Operand], op: &str) -> Result<&'a Operand, BuildErrorKind> {
    match ins {
        [x] => Ok(x),
        _ => Err(BuildErrorKind::Invalid {
            op: op.into(),
            reason: format!("takes 1 input, got {}", ins.len()),
        }),
    }
}

fn check_axes(axes: &[usize], x: &Operand, op: &str) -> Result<(), BuildErrorKind> {
    // Sorted and distinct: one spelling per set of axes, so equal reductions merge.
    for (k, &a) in axes.iter().enumerate() {
        if a >= x.ty.ndim() || (k > 0 && axes[k - 1] >= a) {
            return Err(BuildErrorKind::Axis { op: op.into(), axis: a as isize, operand: x.clone() });
        }
    }
    Ok(())
}

/// The product of lengths, `None` on overflow.
pub fn checked_product(dims: impl IntoIterator<Item = usize>) -> Option<usize> {
    dims.into_iter().try_fold(1usize, |acc, d| acc.checked_mul(d))
}

/// True when an array can have this shape: the product of its nonzero lengths is at most
/// `isize::MAX` (ndarray's limit, which holds even for an empty array).
pub fn shape_fits(dims: &[usize]) -> bool {
    checked_product(dims.iter().copied().filter(|&d| d != 0)).is_some_and(|n| n <= isize::MAX as usize)
}

/// The static shape after reducing `axes`.
pub fn reduced_shape(ty: &TensorType, axes: &[usize], keepdims: bool) -> Vec<Option<usize>> {
    ty.shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdims) {
            (false, _) => Some(d),
            (true, true) => Some(Some(1)),
            (true, false) => None,
        })
        .collect()
}

fn check_index_inputs(index: &[IndexEntry], idx_ins: &[Operand], op: &str) -> Result<(), BuildErrorKind> {
    let wanted = index.iter().filter(|e| matches!(e, IndexEntry::At(Idx::Input))).count();
    if wanted != idx_ins.len() {
        return Err(BuildErrorKind::Invalid {
            op: op.into(),
            reason: format!("{wanted} symbolic indices, {} index inputs", idx_ins.len()),
        });
    }
    for o in idx_ins {
        if o.ty.ndim() != 0 || !o.ty.dtype.is_int() {
            return Err(BuildErrorKind::DType {
                op: op.into(),
                operand: o.clone(),
                expected: "an integer scalar index".into(),
            });
        }
    }
    Ok(())
}

/// Normalizes `start:stop:step` for an axis of length `n` as NumPy does: the first position,
/// and the number of elements taken.
pub fn normalize_slice(start: Option<isize>, stop: Option<isize>, step: isize, n: usize) -> (isize, usize) {
    let n = n as isize;
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let fix = |v: isize| (if v < 0 { v + n } else { v }).clamp(lo, hi);
    let s = start.map_or(if step > 0 { 0 } else { n - 1 }, fix);
    let e = stop.map_or(if step > 0 { n } else { -1 }, fix);
    // In i128: no bound or step (even isize::MIN) can overflow.
    let (s128, e128, step128) = (s as i128, e as i128, step as i128);
    let count =
        if step > 0 { (e128 - s128 + step128 - 1) / step128 } else { (s128 - e128 - step128 - 1) / -step128 };
    (s, count.max(0) as usize)
}

fn subtensor_shape(
    ty: &TensorType,
    index: &[IndexEntry],
    op: &str,
    x: &Operand,
) -> Result<Vec<Option<usize>>, BuildErrorKind> {
    if index.len() > ty.ndim() {
        return Err(BuildErrorKind::Invalid {
            op: op.into(),
            reason: format!("{} indices for {x} of rank {}", index.len(), ty.ndim()),
        });
    }
    let mut shape = Vec::new();
    for (axis, e) in index.iter().enumerate() {
        match *e {
            IndexEntry::At(Idx::Const(i)) => {
                if let Some(n) = ty.shape[axis] {
                    if i >= n as isize || i < -(n as isize) {
                        return Err(BuildErrorKind::Invalid {
                            op: op.into(),
                            reason: format!("index {i} is out of bounds for axis {axis} of {x}"),
                        });
                    }
                }
            }
            IndexEntry::At(Idx::Input) => {}
            IndexEntry::Slice { start, stop, step } => {
                if step == 0 {
                    return Err(BuildErrorKind::Invalid {
                        op: op.into(),
                        reason: "slice step cannot be zero".into(),
                    });
                }
                shape.push(ty.shape[axis].map(|n| normalize_slice(start, stop, step, n).1));
            }
        }
    }
    shape.extend_from_slice(&ty.shape[index.len()..]);
    Ok(shape)
}

/// Formats a reshape target as `[2,-1,@0,^1]` (`@i` keeps input axis `i`, `^i` takes axis
/// `i` of the shape donor).
pub fn fmt_reshape(shape: &[ReshapeDim]) -> String {
    let parts: Vec<String> = shape
        .iter()
        .map(|d| match d {
            ReshapeDim::Fixed(n) => n.to_string(),
            ReshapeDim::Keep(i) => format!("@{i}"),
            ReshapeDim::Infer => "-1".into(),
            ReshapeDim::Like(i) => format!("^{i}"),
        })
        .collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_slices() {
        assert_eq!(normalize_slice(None, None, 1, 5), (0, 5));
        assert_eq!(normalize_slice(None, None, -1, 5), (4, 5));
        assert_eq!(normalize_slice(Some(1), Some(-1), 2, 5), (1, 2));
        assert_eq!(normalize_slice(Some(-2), None, -2, 5), (3, 2));
        assert_eq!(normalize_slice(Some(10), None, 1, 5), (5, 0));
        assert_eq!(normalize_slice(Some(3), Some(1), 1, 5), (3, 0));
        assert_eq!(normalize_slice(None, Some(-10), -1, 5), (4, 5));
    }
}
