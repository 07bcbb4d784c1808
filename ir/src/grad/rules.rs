//! Vector-Jacobian products, one `match` arm per op: given a node `out = op(inputs)` and the
//! gradient `g` of the cost with respect to `out`, the gradient with respect to each input
//! (`None` where it is zero or not needed). Broadcasting is undone by `fit`.

use super::{fit, zeros_like};
use crate::build::apply_inner;
use crate::build::elemwise::{elemwise_inner, Term};
use crate::dtype::DType;
use crate::error::BuildError;
use crate::op::{
    AdvEntry, ArgOp, Barrier, ConvParams, CumOp, Dim, IndexEntry, Op, PoolMode, ReduceOp, ReshapeDim,
    ScalarOp,
};
use crate::var::Var;

type R = Result<Var, BuildError>;

fn el(op: ScalarOp, terms: Vec<Term>) -> R {
    elemwise_inner(op, terms)
}
fn v(x: &Var) -> Term {
    Term::Var(x.clone())
}
fn mul(a: impl Into<Term>, b: impl Into<Term>) -> R {
    el(ScalarOp::Mul, vec![a.into(), b.into()])
}
fn add(a: impl Into<Term>, b: impl Into<Term>) -> R {
    el(ScalarOp::Add, vec![a.into(), b.into()])
}
fn sub(a: impl Into<Term>, b: impl Into<Term>) -> R {
    el(ScalarOp::Sub, vec![a.into(), b.into()])
}
fn div(a: impl Into<Term>, b: impl Into<Term>) -> R {
    el(ScalarOp::Div, vec![a.into(), b.into()])
}
fn neg(a: impl Into<Term>) -> R {
    el(ScalarOp::Neg, vec![a.into()])
}
fn un(op: ScalarOp, a: impl Into<Term>) -> R {
    el(op, vec![a.into()])
}
fn switch(c: impl Into<Term>, a: impl Into<Term>, b: impl Into<Term>) -> R {
    el(ScalarOp::Switch, vec![c.into(), a.into(), b.into()])
}
fn cmp(op: ScalarOp, a: impl Into<Term>, b: impl Into<Term>) -> R {
    el(op, vec![a.into(), b.into()])
}
fn reduce(op: ReduceOp, x: Var, axes: Vec<usize>, keepdims: bool) -> R {
    apply_inner(Op::Reduce { op, axes, keepdims }, vec![x])
}
fn dimshuffle(x: Var, order: Vec<Option<usize>>) -> R {
    apply_inner(Op::DimShuffle { order }, vec![x])
}
fn dot(a: Var, b: Var) -> R {
    apply_inner(Op::Dot, vec![a, b])
}
fn transpose(x: Var) -> R {
    let order = (0..x.ndim()).rev().map(Some).collect();
    dimshuffle(x, order)
}

/// `g` (reduced over `axes`, without keepdims) with the reduced axes put back as
/// broadcastable ones.
fn expand(g: &Var, axes: &[usize], keepdims: bool, ndim: usize) -> R {
    if keepdims {
        return Ok(g.clone());
    }
    let mut k = 0;
    let order = (0..ndim)
        .map(|a| {
            if axes.contains(&a) {
                None
            } else {
                k += 1;
                Some(k - 1)
            }
        })
        .collect();
    dimshuffle(g.clone(), order)
}

/// Gradients of the inputs of `out`, given `g` = d cost / d out. `needed[i]` says whether
/// input `i` leads to a variable being differentiated.
pub(super) fn vjp(out: &Var, g: &Var, needed: &[bool]) -> Result<Vec<Option<Var>>, BuildError> {
    let ins = out.inputs();
    let need = |i: usize| needed[i];
    let fitted = |gi: Var, i: usize| -> Result<Option<Var>, BuildError> { Ok(Some(fit(gi, ins[i].ty())?)) };
    let mut grads: Vec<Option<Var>> = vec![None; ins.len()];
    match out.op() {
        Op::Input | Op::Constant(_) | Op::Shared(_) => {}
        // The driver gathers a scan's output gradients and calls `grad::scan::vjp`.
        Op::Scan(_) | Op::ScanOutput { .. } => {
            return Err(BuildError::invalid(out.op().name(), "differentiated with all its outputs at once"))
        }
        Op::Gemm | Op::Composite(_) | Op::CompositeOutput { .. } | Op::FusedReduce { .. } => {
            return Err(BuildError::invalid(
                out.op().name(),
                "fused ops of an optimized graph are not differentiated: take the gradient first",
            ))
        }
        Op::Elemwise(s) => {
            if !out.dtype().is_float() {
                return Ok(grads); // bool or integer results carry no gradient
            }
            for (i, slot) in grads.iter_mut().enumerate() {
                if need(i) {
                    if let Some(gi) = elemwise_partial(*s, out, ins, i, g)? {
                        *slot = fitted(gi, i)?;
                    }
                }
            }
        }
        Op::Reduce { op, axes, keepdims } => {
            if !need(0) || !out.dtype().is_float() {
                return Ok(grads);
            }
            let x = &ins[0];
            let gb = expand(g, axes, *keepdims, x.ndim())?;
            let ob = expand(out, axes, *keepdims, x.ndim())?;
            let gx = match op {
                ReduceOp::Sum => fill(x, &gb)?,
                ReduceOp::Mean => {
                    let ones = el(ScalarOp::Second, vec![v(x), Term::Float(1.0)])?;
                    let count = reduce(ReduceOp::Sum, ones, axes.clone(), true)?;
                    div(fill(x, &gb)?, count)?
                }
                ReduceOp::Max | ReduceOp::Min => {
                    // Routed to the extremum (to every element equal to it, as Theano).
                    let hit = cmp(ScalarOp::Eq, v(x), v(&ob))?;
                    switch(hit, v(&gb), Term::Float(0.0))?
                }
                ReduceOp::Prod => prod_grad(x, &gb, &ob, axes)?,
                ReduceOp::All | ReduceOp::Any => return Ok(grads),
            };
            grads[0] = fitted(gx, 0)?;
        }
        Op::ArgReduce { op: ArgOp::ArgMax | ArgOp::ArgMin, .. } => {}
        Op::Softmax { axis } => {
            if need(0) {
                let gs = mul(v(g), v(out))?;
                let s = reduce(ReduceOp::Sum, gs.clone(), vec![*axis], true)?;
                grads[0] = fitted(sub(gs, mul(v(out), s)?)?, 0)?;
            }
        }
        Op::LogSoftmax { axis } => {
            if need(0) {
                let s = reduce(ReduceOp::Sum, g.clone(), vec![*axis], true)?;
                grads[0] = fitted(sub(v(g), mul(un(ScalarOp::Exp, v(out))?, s)?)?, 0)?;
            }
        }
        Op::LogSumExp { axes, keepdims } => {
            if need(0) {
                let x = &ins[0];
                let gb = expand(g, axes, *keepdims, x.ndim())?;
                grads[0] = fitted(mul(gb, softmax_over(x, axes)?)?, 0)?;
            }
        }
        Op::Dot => {
            let (a, b) = (&ins[0], &ins[1]);
            let outer = |p: &Var, q: &Var| -> R {
                let pc = dimshuffle(p.clone(), vec![Some(0), None])?;
                let qr = dimshuffle(q.clone(), vec![None, Some(0)])?;
                mul(pc, qr)
            };
            let (ga, gb) = match (a.ndim(), b.ndim()) {
                (1, 1) => (mul(v(g), v(b))?, mul(v(g), v(a))?),
                (2, 1) => (outer(g, b)?, dot(transpose(a.clone())?, g.clone())?),
                (1, 2) => (dot(b.clone(), g.clone())?, outer(a, g)?),
                _ => (dot(g.clone(), transpose(b.clone())?)?, dot(transpose(a.clone())?, g.clone())?),
            };
            if need(0) {
                grads[0] = fitted(ga, 0)?;
            }
            if need(1) {
                grads[1] = fitted(gb, 1)?;
            }
        }
        // The products of `g` with the other operand, each batch's matrix transposed.
        Op::BatchedDot => {
            let (a, b) = (&ins[0], &ins[1]);
            let t = |x: &Var| dimshuffle(x.clone(), vec![Some(0), Some(2), Some(1)]);
            if need(0) {
                grads[0] = fitted(apply_inner(Op::BatchedDot, vec![g.clone(), t(b)?])?, 0)?;
            }
            if need(1) {
                grads[1] = fitted(apply_inner(Op::BatchedDot, vec![t(a)?, g.clone()])?, 1)?;
            }
        }
        Op::DimShuffle { order } => {
            if need(0) {
                // Drop the inserted axes, then undo the permutation and restore dropped ones.
                let kept_pos: Vec<Option<usize>> =
                    order.iter().enumerate().filter(|(_, o)| o.is_some()).map(|(p, _)| Some(p)).collect();
                let kept: Vec<usize> = order.iter().flatten().copied().collect();
                let g1 = dimshuffle(g.clone(), kept_pos)?;
                let back = (0..ins[0].ndim()).map(|j| kept.iter().position(|&k| k == j)).collect();
                grads[0] = fitted(dimshuffle(g1, back)?, 0)?;
            }
        }
        // The gradient with the input's broadcastability on the same axes.
        Op::Rebroadcast { axes } => {
            if need(0) {
                let x = &ins[0];
                let back = axes.iter().map(|&(a, _)| (a, x.ty().is_broadcastable(a))).collect();
                grads[0] = fitted(apply_inner(Op::Rebroadcast { axes: back }, vec![g.clone()])?, 0)?;
            }
        }
        // Lengths and positions carry no gradient.
        Op::Shape | Op::ShapeI { .. } | Op::ARange { .. } => {}
        Op::GradBarrier(Barrier::Zero) => {
            if need(0) {
                grads[0] = Some(zeros_like(&ins[0])?);
            }
        }
        // Never reached: `grad` does not look through it (its input is disconnected).
        Op::GradBarrier(Barrier::Disconnected) => {}
        // A draw is differentiable neither with respect to its state nor its parameters
        // (as Theano's): `grad` does not look through it, its inputs are disconnected.
        Op::Random(_) => {}
        // The value was broadcast: its gradient sums over the axes it was broadcast along.
        Op::Alloc { .. } => {
            if need(0) && out.dtype().is_float() {
                grads[0] = fitted(g.clone(), 0)?;
            }
        }
        Op::Reshape { .. } => {
            if need(0) {
                let x = &ins[0];
                let shape = (0..x.ndim()).map(ReshapeDim::Like).collect();
                grads[0] = fitted(apply_inner(Op::Reshape { shape }, vec![g.clone(), x.clone()])?, 0)?;
            }
        }
        Op::Concatenate { axis } => {
            for (i, slot) in grads.iter_mut().enumerate() {
                if need(i) {
                    let mut split_ins = vec![g.clone()];
                    split_ins.extend(ins.iter().cloned());
                    let part = apply_inner(Op::SplitPart { axis: *axis, part: i }, split_ins)?;
                    *slot = fitted(part, i)?;
                }
            }
        }
        Op::Subtensor { index } => {
            if need(0) {
                let x = &ins[0];
                let mut inc_ins = vec![zeros_like(x)?, g.clone()];
                inc_ins.extend(ins[1..].iter().cloned());
                grads[0] =
                    fitted(apply_inner(Op::IncSubtensor { index: index.clone(), set: false }, inc_ins)?, 0)?;
            }
        }
        Op::IncSubtensor { index, set } => {
            let idx = &ins[2..];
            if need(0) {
                grads[0] = Some(if *set {
                    let zero = crate::build::leaf::constant(crate::Tensor::scalar_of(g.dtype(), 0.0));
                    let mut set_ins = vec![g.clone(), zero];
                    set_ins.extend(idx.iter().cloned());
                    fit(
                        apply_inner(Op::IncSubtensor { index: index.clone(), set: true }, set_ins)?,
                        ins[0].ty(),
                    )?
                } else {
                    fit(g.clone(), ins[0].ty())?
                });
            }
            if need(1) {
                let mut sub_ins = vec![g.clone()];
                sub_ins.extend(idx.iter().cloned());
                let region = apply_inner(Op::Subtensor { index: index.clone() }, sub_ins)?;
                grads[1] = fitted(region, 1)?;
            }
        }
        Op::Conv2d(p) => {
            let (x, w) = (&ins[0], &ins[1]);
            if need(0) {
                grads[0] = fitted(conv_grad(ConvGrad::Inputs, p, w, g, x)?, 0)?;
            }
            if need(1) {
                grads[1] = fitted(conv_grad(ConvGrad::Weights, p, x, g, w)?, 1)?;
            }
        }
        // out = grad_inputs(w, top): linear in each; Theano's AbstractConv2d_gradInputs.grad.
        Op::Conv2dGradInputs { conv: p, .. } => {
            let (w, top) = (&ins[0], &ins[1]);
            if need(0) {
                grads[0] = fitted(conv_grad(ConvGrad::Weights, p, g, top, w)?, 0)?;
            }
            if need(1) {
                grads[1] = fitted(apply_inner(Op::Conv2d(*p), vec![g.clone(), w.clone()])?, 1)?;
            }
        }
        // out = grad_weights(x, top); Theano's AbstractConv2d_gradWeights.grad.
        Op::Conv2dGradWeights { conv: p, .. } => {
            let (x, top) = (&ins[0], &ins[1]);
            if need(0) {
                grads[0] = fitted(conv_grad(ConvGrad::Inputs, p, g, top, x)?, 0)?;
            }
            if need(1) {
                grads[1] = fitted(apply_inner(Op::Conv2d(*p), vec![x.clone(), g.clone()])?, 1)?;
            }
        }
        Op::Pool(p) => {
            if need(0) {
                let x = ins[0].clone();
                let gx = if p.mode == PoolMode::Max {
                    apply_inner(Op::MaxPoolGrad(*p), vec![x, out.clone(), g.clone()])?
                } else {
                    apply_inner(Op::AveragePoolGrad(*p), vec![x, g.clone()])?
                };
                grads[0] = fitted(gx, 0)?;
            }
        }
        // The gradient goes to the branch taken, zeros (of its own shape) to the other.
        Op::IfElse => {
            if out.dtype().is_float() {
                let cond = &ins[0];
                for (i, taken) in [(1, true), (2, false)] {
                    if need(i) {
                        let zeros = zeros_like(&ins[i])?;
                        let (a, b) = if taken { (g.clone(), zeros) } else { (zeros, g.clone()) };
                        grads[i] = fitted(apply_inner(Op::IfElse, vec![cond.clone(), a, b])?, i)?;
                    }
                }
            }
        }
        // Piecewise linear in `gz` (the maxima's positions are constant almost everywhere).
        Op::MaxPoolGrad(p) => {
            if need(2) {
                let gg =
                    apply_inner(Op::MaxPoolGradGrad(*p), vec![ins[0].clone(), ins[1].clone(), g.clone()])?;
                grads[2] = fitted(gg, 2)?;
            }
        }
        Op::MaxPoolGradGrad(p) => {
            if need(2) {
                let gg = apply_inner(Op::MaxPoolGrad(*p), vec![ins[0].clone(), ins[1].clone(), g.clone()])?;
                grads[2] = fitted(gg, 2)?;
            }
        }
        // Linear in `gz`, whose gradient is the pooling itself.
        Op::AveragePoolGrad(p) => {
            if need(1) {
                grads[1] = fitted(apply_inner(Op::Pool(*p), vec![g.clone()])?, 1)?;
            }
        }
        Op::AdvancedSubtensor { index } => {
            // A scatter-add into zeros of x's run-time shape: repeated positions accumulate.
            if need(0) && out.dtype().is_float() {
                let x = &ins[0];
                let mut inc_ins = vec![zeros_like(x)?, g.clone()];
                inc_ins.extend(ins[1..].iter().cloned());
                let gx = apply_inner(Op::AdvancedIncSubtensor { index: index.clone(), set: false }, inc_ins)?;
                grads[0] = fitted(gx, 0)?;
            }
        }
        Op::AdvancedIncSubtensor { index, set } => {
            let idx = &ins[2..];
            if need(0) && out.dtype().is_float() {
                grads[0] = Some(if *set {
                    let zero = crate::build::leaf::constant(crate::Tensor::scalar_of(g.dtype(), 0.0));
                    let mut set_ins = vec![g.clone(), zero];
                    set_ins.extend(idx.iter().cloned());
                    let op = Op::AdvancedIncSubtensor { index: index.clone(), set: true };
                    fit(apply_inner(op, set_ins)?, ins[0].ty())?
                } else {
                    fit(g.clone(), ins[0].ty())?
                });
            }
            if need(1) && out.dtype().is_float() {
                let mut sub_ins = vec![g.clone()];
                sub_ins.extend(idx.iter().cloned());
                let region = apply_inner(Op::AdvancedSubtensor { index: index.clone() }, sub_ins)?;
                grads[1] = fitted(region, 1)?;
            }
        }
        Op::Cumulative { op, axis } => {
            // Theano's CumOp.grad: the reversed running sum of the reversed gradient (for
            // the product, of `out * g`, divided by `x`).
            if need(0) && out.dtype().is_float() {
                let gx = match op {
                    CumOp::Sum => reverse_cumsum(g, *axis)?,
                    CumOp::Prod => div(reverse_cumsum(&mul(v(out), v(g))?, *axis)?, v(&ins[0]))?,
                };
                grads[0] = fitted(gx, 0)?;
            }
        }
        Op::Sort { axis } => {
            if need(0) && out.dtype().is_float() {
                grads[0] = fitted(sort_grad(&ins[0], g, *axis)?, 0)?;
            }
        }
        // Positions and the identity carry no gradient (Theano: zeros, undefined).
        Op::ArgSort { .. } | Op::Eye { .. } => {}
        Op::Repeat { axis } => {
            if need(0) && out.dtype().is_float() {
                grads[0] = fitted(repeat_grad(&ins[0], &ins[1], g, *axis)?, 0)?;
            }
        }
        Op::SplitPart { axis, part } => {
            // The gradient of a part of `g`: zeros elsewhere, `g` in the part's slot.
            if need(0) {
                let parts: Vec<Var> = ins[1..]
                    .iter()
                    .enumerate()
                    .map(|(k, x)| if k == *part { Ok(g.clone()) } else { zeros_like(x) })
                    .collect::<Result<_, _>>()?;
                grads[0] = fitted(apply_inner(Op::Concatenate { axis: *axis }, parts)?, 0)?;
            }
        }
    }
    Ok(grads)
}

/// `x` reversed along `axis` (`x[:, …, ::-1]`).
fn reverse(x: &Var, axis: usize) -> R {
    let mut index = vec![IndexEntry::FULL; axis];
    index.push(IndexEntry::slice(None, None, -1));
    apply_inner(Op::Subtensor { index }, vec![x.clone()])
}

/// The running sum of `g` from the end along `axis`: the gradient of `cumsum`.
fn reverse_cumsum(g: &Var, axis: usize) -> R {
    let summed = apply_inner(Op::Cumulative { op: CumOp::Sum, axis }, vec![reverse(g, axis)?])?;
    reverse(&summed, axis)
}

/// `arange(len(x[axis]))` as int64.
fn positions(x: &Var, axis: usize) -> R {
    let int = |i: i64| crate::build::leaf::constant(crate::Tensor::from(i));
    let n = apply_inner(Op::ShapeI { axis }, vec![x.clone()])?;
    apply_inner(Op::ARange { dtype: DType::I64 }, vec![int(0), n, int(1)])
}

/// The gradient of `sort(x)` along `axis`: `g` gathered through the inverse of the sorting
/// permutation (Theano's `SortOp.grad`), `g[i0, …, argsort(argsort(x)), …]` with every
/// other axis indexed by its own positions.
fn sort_grad(x: &Var, g: &Var, axis: usize) -> R {
    let perm = apply_inner(Op::ArgSort { axis }, vec![x.clone()])?;
    let inverse = apply_inner(Op::ArgSort { axis }, vec![perm])?;
    let nd = x.ndim();
    let mut inputs = vec![g.clone()];
    for j in 0..nd {
        inputs.push(if j == axis {
            inverse.clone()
        } else {
            let order = (0..nd).map(|k| (k == j).then_some(0)).collect();
            dimshuffle(positions(x, j)?, order)?
        });
    }
    apply_inner(Op::AdvancedSubtensor { index: vec![AdvEntry::Array; nd] }, inputs)
}

/// The gradient of `repeat(x, repeats)` along `axis`: for one count, `g` with the repeats
/// split into their own axis and summed (Theano's `RepeatOp.grad`); for one count per slice,
/// `g` added into zeros at the repeated positions (`repeat(arange(n), repeats)`).
fn repeat_grad(x: &Var, reps: &Var, g: &Var, axis: usize) -> R {
    if reps.ndim() == 0 {
        let mut shape: Vec<ReshapeDim> = (0..=axis).map(ReshapeDim::Like).collect();
        shape.push(ReshapeDim::Input);
        shape.extend((axis + 1..x.ndim()).map(ReshapeDim::Like));
        let split = apply_inner(Op::Reshape { shape }, vec![g.clone(), x.clone(), reps.clone()])?;
        return reduce(ReduceOp::Sum, split, vec![axis + 1], false);
    }
    let at = apply_inner(Op::Repeat { axis: 0 }, vec![positions(x, axis)?, reps.clone()])?;
    let mut index = vec![AdvEntry::FULL; axis];
    index.push(AdvEntry::Array);
    apply_inner(Op::AdvancedIncSubtensor { index, set: false }, vec![zeros_like(x)?, g.clone(), at])
}

/// Which gradient of a convolution [`conv_grad`] builds.
enum ConvGrad {
    /// With respect to the input: `conv2d_grad_inputs(filters, top)`.
    Inputs,
    /// With respect to the filters: `conv2d_grad_weights(input, top)`.
    Weights,
}

/// The gradient `which` of a convolution with parameters `p`, from `operand` (the filters
/// for the input's gradient, the input for the filters') and the output's gradient `top`;
/// its spatial lengths are `like`'s: fixed where its type knows them, else read at run time
/// (`shape_i`).
fn conv_grad(which: ConvGrad, p: &ConvParams, operand: &Var, top: &Var, like: &Var) -> R {
    let mut inputs = vec![operand.clone(), top.clone()];
    let mut shape = [Dim::Input; 2];
    for (k, d) in shape.iter_mut().enumerate() {
        match like.ty().shape[2 + k] {
            Some(n) => *d = Dim::Fixed(n),
            None => inputs.push(apply_inner(Op::ShapeI { axis: 2 + k }, vec![like.clone()])?),
        }
    }
    let op = match which {
        ConvGrad::Inputs => Op::Conv2dGradInputs { conv: *p, shape },
        ConvGrad::Weights => Op::Conv2dGradWeights { conv: *p, shape },
    };
    apply_inner(op, inputs)
}

/// The softmax of `x` over `axes` taken together: the gradient of `logsumexp`. Written as
/// `exp(x - logsumexp(x))` it would lose the differences the rounded logsumexp absorbs
/// (`[0.5, 0.5]` at `[1e16, 1e16]` would be `[1, 1]`). Several axes are moved last and
/// flattened into one, which the `softmax` op then normalizes.
fn softmax_over(x: &Var, axes: &[usize]) -> R {
    if let [axis] = axes {
        return apply_inner(Op::Softmax { axis: *axis }, vec![x.clone()]);
    }
    let kept: Vec<usize> = (0..x.ndim()).filter(|a| !axes.contains(a)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let in_place = perm.iter().copied().eq(0..x.ndim());
    let moved =
        if in_place { x.clone() } else { dimshuffle(x.clone(), perm.iter().copied().map(Some).collect())? };
    let mut flat_shape: Vec<ReshapeDim> = (0..kept.len()).map(ReshapeDim::Keep).collect();
    flat_shape.push(ReshapeDim::Infer);
    let flat = apply_inner(Op::Reshape { shape: flat_shape }, vec![moved.clone()])?;
    let sm = apply_inner(Op::Softmax { axis: kept.len() }, vec![flat])?;
    let unflat = (0..x.ndim()).map(ReshapeDim::Like).collect();
    let sm = apply_inner(Op::Reshape { shape: unflat }, vec![sm, moved])?;
    if in_place {
        return Ok(sm);
    }
    let back = (0..x.ndim()).map(|a| perm.iter().position(|&p| p == a)).collect();
    dimshuffle(sm, back)
}

/// `value` broadcast to `x`'s shape.
fn fill(x: &Var, value: &Var) -> R {
    el(ScalarOp::Second, vec![v(x), v(value)])
}

/// The gradient of `prod` over `axes`, exact where elements are zero: the product of the
/// other elements.
fn prod_grad(x: &Var, gb: &Var, ob: &Var, axes: &[usize]) -> R {
    let is_zero = cmp(ScalarOp::Eq, v(x), Term::Float(0.0))?;
    let nonzero = switch(v(&is_zero), Term::Float(1.0), v(x))?;
    let prod_nz = reduce(ReduceOp::Prod, nonzero, axes.to_vec(), true)?;
    let zeros = reduce(ReduceOp::Sum, is_zero.clone(), axes.to_vec(), true)?;
    let no_zero = cmp(ScalarOp::Eq, v(&zeros), Term::Int(0))?;
    let one_zero = cmp(ScalarOp::Eq, v(&zeros), Term::Int(1))?;
    let at_zero = switch(one_zero, v(&prod_nz), Term::Float(0.0))?;
    let elsewhere = switch(no_zero, div(v(ob), v(x))?, Term::Float(0.0))?;
    mul(v(gb), switch(is_zero, at_zero, elsewhere)?)
}

/// `g * d out / d input_i` for a scalar op, broadcast to the output's shape.
fn elemwise_partial(
    s: ScalarOp,
    out: &Var,
    ins: &[Var],
    i: usize,
    g: &Var,
) -> Result<Option<Var>, BuildError> {
    use ScalarOp::*;
    let x = &ins[0];
    let gx = |d: Var| mul(v(g), d);
    let r = match s {
        Add => g.clone(),
        Sub => {
            if i == 0 {
                g.clone()
            } else {
                neg(v(g))?
            }
        }
        Mul => {
            let others: Vec<Term> =
                ins.iter().enumerate().filter(|(k, _)| *k != i).map(|(_, x)| v(x)).collect();
            let mut terms = vec![v(g)];
            terms.extend(others);
            el(Mul, terms)?
        }
        Div => {
            let b = &ins[1];
            if i == 0 {
                div(v(g), v(b))?
            } else {
                // -g * a / b² = -g * out / b
                neg(div(mul(v(g), v(out))?, v(b))?)?
            }
        }
        Pow => {
            let (a, b) = (&ins[0], &ins[1]);
            if i == 0 {
                // g * b * a^(b-1)
                gx(mul(v(b), el(Pow, vec![v(a), sub(v(b), Term::Float(1.0))?.into()])?)?)?
            } else {
                // g * log(a) * a^b, and 0 where a == 0 as in Theano: 0^b is constant in b
                // (0 for b > 0, inf for b < 0), where log(0) * 0^b would be NaN or -inf.
                let is_zero = cmp(Eq, v(a), Term::Float(0.0))?;
                switch(is_zero, Term::Float(0.0), gx(mul(v(out), un(Log, v(a))?)?)?)?
            }
        }
        Maximum | Minimum => {
            let op = if s == Maximum { Ge } else { Le };
            let a_wins = cmp(op, v(&ins[0]), v(&ins[1]))?;
            if i == 0 {
                switch(a_wins, v(g), Term::Float(0.0))?
            } else {
                switch(a_wins, Term::Float(0.0), v(g))?
            }
        }
        // Floor division is piecewise constant: zero gradient, as in Theano.
        IntDiv => return Ok(None),
        // `a % b = a - (a // b) * b`, with `a // b` piecewise constant (Theano's `Mod`).
        Mod => {
            if i == 0 {
                g.clone()
            } else {
                neg(mul(v(g), el(IntDiv, vec![v(&ins[0]), v(&ins[1])])?)?)?
            }
        }
        Neg => neg(v(g))?,
        Abs => gx(un(Sign, v(x))?)?,
        Sign | Floor | Ceil | Round | Trunc => return Ok(None),
        Sqr => gx(mul(Term::Float(2.0), v(x))?)?,
        Sqrt => div(v(g), mul(Term::Float(2.0), v(out))?)?,
        Reciprocal => neg(mul(v(g), un(Sqr, v(out))?)?)?,
        Exp => gx(out.clone())?,
        Expm1 => gx(add(v(out), Term::Float(1.0))?)?,
        Log => div(v(g), v(x))?,
        Log1p => div(v(g), add(v(x), Term::Float(1.0))?)?,
        Log2 => div(v(g), mul(v(x), Term::Float(std::f64::consts::LN_2))?)?,
        Log10 => div(v(g), mul(v(x), Term::Float(std::f64::consts::LN_10))?)?,
        Sin => gx(un(Cos, v(x))?)?,
        Cos => neg(mul(v(g), un(Sin, v(x))?)?)?,
        Tan => gx(add(Term::Float(1.0), un(Sqr, v(out))?)?)?,
        Arcsin => div(v(g), un(Sqrt, sub(Term::Float(1.0), un(Sqr, v(x))?)?)?)?,
        Arccos => neg(div(v(g), un(Sqrt, sub(Term::Float(1.0), un(Sqr, v(x))?)?)?)?)?,
        Arctan => div(v(g), add(Term::Float(1.0), un(Sqr, v(x))?)?)?,
        Sinh => gx(un(Cosh, v(x))?)?,
        Cosh => gx(un(Sinh, v(x))?)?,
        Tanh => gx(sub(Term::Float(1.0), un(Sqr, v(out))?)?)?,
        Arcsinh => div(v(g), un(Sqrt, add(un(Sqr, v(x))?, Term::Float(1.0))?)?)?,
        Arccosh => div(v(g), un(Sqrt, sub(un(Sqr, v(x))?, Term::Float(1.0))?)?)?,
        Arctanh => div(v(g), sub(Term::Float(1.0), un(Sqr, v(x))?)?)?,
        Sigmoid => gx(mul(v(out), sub(Term::Float(1.0), v(out))?)?)?,
        Softplus => gx(un(Sigmoid, v(x))?)?,
        Erf => {
            let c = 2.0 / std::f64::consts::PI.sqrt();
            gx(mul(Term::Float(c), un(Exp, neg(un(Sqr, v(x))?)?)?)?)?
        }
        Erfc => {
            let c = -2.0 / std::f64::consts::PI.sqrt();
            gx(mul(Term::Float(c), un(Exp, neg(un(Sqr, v(x))?)?)?)?)?
        }
        // d cbrt(x)/dx = 1 / (3·cbrt(x)²)
        Cbrt => gx(div(Term::Float(1.0), mul(Term::Float(3.0), un(Sqr, v(out))?)?)?)?,
        Lt | Gt | Le | Ge | Eq | Neq | And | Or | Xor | Not => return Ok(None),
        Switch => match i {
            0 => return Ok(None),
            1 => switch(v(&ins[0]), v(g), Term::Float(0.0))?,
            _ => switch(v(&ins[0]), Term::Float(0.0), v(g))?,
        },
        Clip => {
            let (lo, hi) = (&ins[1], &ins[2]);
            let mask = match i {
                0 => el(And, vec![cmp(Ge, v(x), v(lo))?.into(), cmp(Le, v(x), v(hi))?.into()])?,
                1 => cmp(Lt, v(x), v(lo))?,
                _ => cmp(Gt, v(x), v(hi))?,
            };
            switch(mask, v(g), Term::Float(0.0))?
        }
        Cast(_) => {
            if !x.dtype().is_float() {
                return Ok(None);
            }
            g.clone()
        }
        Second => {
            if i == 0 {
                return Ok(None);
            }
            g.clone()
        }
    };
    Ok(Some(r))
}
