//! Canonicalization: one normal form for equivalent graphs, so merging and the later
//! patterns see through spelling. n-ary `add`/`mul` with constants collected in front,
//! `sub → add neg`, `neg → mul -1`, division by a power of two → multiplication, useless ops
//! removed, dimshuffles composed and lifted, constant folding with the reference kernels.

use crate::engine::Rule;
use crate::pattern::{same_pattern, Rw, Terms};
use crate::shape;
use tensorlift_ir::kernels::{self, KernelInput};
use tensorlift_ir::{Distribution, NodeId, Op, RandomDraw, ReduceOp, ScalarOp, Tensor};

/// The rules of the phase, in the order they are tried.
pub static RULES: &[Rule] = &[
    Rule { name: "constant_folding", fast_math: false, apply: constant_folding },
    Rule { name: "local_useless_cast", fast_math: false, apply: useless_cast },
    Rule { name: "local_cast_cast", fast_math: false, apply: cast_cast },
    Rule { name: "local_float_draw", fast_math: false, apply: float_draw },
    Rule { name: "local_remove_grad_barrier", fast_math: false, apply: remove_grad_barrier },
    Rule { name: "local_shape_i_fold", fast_math: false, apply: shape::shape_i_fold },
    Rule { name: "local_shape_fold", fast_math: false, apply: shape::shape_fold },
    Rule { name: "local_shape_to_shape_i", fast_math: false, apply: shape::shape_to_shape_i },
    Rule { name: "local_fill_to_alloc", fast_math: false, apply: shape::fill_to_alloc },
    Rule { name: "local_useless_alloc", fast_math: false, apply: shape::useless_alloc },
    Rule { name: "local_elemwise_alloc", fast_math: false, apply: shape::elemwise_alloc },
    Rule { name: "local_alloc_sink", fast_math: false, apply: shape::alloc_sink },
    Rule { name: "local_sum_of_alloc", fast_math: false, apply: shape::sum_of_alloc },
    Rule { name: "local_reshape_donor", fast_math: false, apply: shape::reshape_donor },
    Rule { name: "local_useless_reshape", fast_math: false, apply: shape::useless_reshape },
    Rule { name: "local_useless_fill", fast_math: false, apply: useless_fill },
    Rule { name: "local_fill_sink", fast_math: false, apply: fill_sink },
    Rule { name: "local_sub_to_add_neg", fast_math: false, apply: sub_to_add },
    Rule { name: "local_neg_to_mul", fast_math: false, apply: neg_to_mul },
    Rule { name: "local_div_by_const", fast_math: false, apply: div_by_const },
    Rule { name: "local_add_canonizer", fast_math: false, apply: add_canonizer },
    Rule { name: "local_mul_canonizer", fast_math: false, apply: mul_canonizer },
    Rule { name: "local_mul_zero", fast_math: true, apply: mul_zero },
    Rule { name: "local_sub_self", fast_math: true, apply: sub_self },
    Rule { name: "local_div_self", fast_math: true, apply: div_self },
    Rule { name: "local_pow_canonicalize", fast_math: false, apply: pow_canonicalize },
    Rule { name: "local_useless_switch", fast_math: false, apply: useless_switch },
    Rule { name: "local_useless_ifelse", fast_math: false, apply: useless_ifelse },
    Rule { name: "local_useless_rebroadcast", fast_math: false, apply: useless_rebroadcast },
    Rule { name: "local_dimshuffle_compose", fast_math: false, apply: dimshuffle_compose },
    Rule { name: "local_useless_dimshuffle", fast_math: false, apply: useless_dimshuffle },
    Rule { name: "local_dimshuffle_lift", fast_math: false, apply: dimshuffle_lift },
    Rule { name: "local_useless_reduce", fast_math: false, apply: useless_reduce },
    Rule { name: "local_sum_of_scalar_mul", fast_math: false, apply: sum_of_scalar_mul },
    Rule { name: "scan_merge", fast_math: false, apply: crate::scan::scan_merge },
];

/// Largest constant that folding creates, in elements.
const FOLD_LIMIT: usize = 1 << 16;

/// A node whose inputs are all constants becomes a constant, computed by the op's
/// reference kernel.
fn constant_folding(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let node = rw.node(id);
    // A draw is never folded: each call draws anew (its state advances); a loop runs its
    // step in a plan, not in a reference kernel.
    if node.op.is_leaf()
        || node.op.is_random()
        || matches!(node.op, Op::Scan(_) | Op::ScanOutput { .. })
        || node.inputs.iter().any(|&i| !matches!(rw.op(i), Op::Constant(_)))
    {
        return None;
    }
    if rw.ty(id).shape.iter().map(|d| d.unwrap_or(usize::MAX)).try_fold(1usize, |a, d| a.checked_mul(d))?
        > FOLD_LIMIT
    {
        return None;
    }
    let names: Vec<String> = node.inputs.iter().map(|&i| rw.g.describe(i)).collect();
    let ins: Vec<KernelInput<'_>> = node
        .inputs
        .iter()
        .zip(&names)
        .map(|(&i, name)| {
            let Op::Constant(t) = rw.op(i) else { unreachable!("checked constant") };
            KernelInput { value: t, ty: rw.ty(i), name }
        })
        .collect();
    // An op that fails on these constants is left for run time to report.
    let value: Tensor = kernels::eval(&node.op, &ins, rw.ty(id)).ok()?;
    Some(rw.g.add_constant(value))
}

/// `zero_grad(x)` and `disconnected_grad(x)` are `x`: they matter to `grad` only.
fn remove_grad_barrier(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    matches!(rw.op(id), Op::GradBarrier(_)).then(|| rw.inputs(id)[0])
}

/// `cast(x)` to x's own dtype is `x`.
fn useless_cast(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ScalarOp::Cast(d) = rw.scalar_op(id)? else { return None };
    let x = rw.inputs(id)[0];
    (rw.ty(x).dtype == d).then_some(x)
}

/// `cast(cast(x, a), b)` is `x` when `b` is x's dtype and `a` holds every value of it.
fn cast_cast(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ScalarOp::Cast(b) = rw.scalar_op(id)? else { return None };
    let inner = rw.inputs(id)[0];
    let ScalarOp::Cast(a) = rw.scalar_op(inner)? else { return None };
    let x = rw.inputs(inner)[0];
    let xd = rw.ty(x).dtype;
    (xd == b && xd.upcast(a) == a).then_some(x)
}

/// An integer binomial draw that one float op alone reads becomes a draw of floats:
/// `cast{f}(draw)` is the draw made in `f`, and `x op draw` (`add`, `sub`, `mul` with a
/// float result, which convert the counts first) reads the draw made in the result's
/// dtype. The counts convert exactly as the cast converts them, so the values are the
/// same; dropout's int mask then reaches the float kernel that reads it (and is drawn in
/// that kernel's pass).
fn float_draw(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.scalar_op(id)?;
    let float = rw.ty(id).dtype;
    if !float.is_float() || !matches!(s, ScalarOp::Cast(_) | ScalarOp::Add | ScalarOp::Sub | ScalarOp::Mul) {
        return None;
    }
    let inputs = rw.inputs(id).to_vec();
    let k = inputs.iter().position(|&i| {
        matches!(rw.op(i), Op::Random(d) if d.dist == Distribution::Binomial && d.dtype.is_int())
            && rw.use_count(i) == 1
    })?;
    let Op::Random(d) = rw.op(inputs[k]) else { unreachable!("found above") };
    let draw = RandomDraw { dtype: float, ..d.clone() };
    let drawn = rw.add(Op::Random(draw), rw.inputs(inputs[k]).to_vec())?;
    if matches!(s, ScalarOp::Cast(_)) {
        return Some(drawn);
    }
    let mut inputs = inputs;
    inputs[k] = drawn;
    rw.el(s, inputs)
}

/// `fill(a, b)` is `b` when `b` already has the result's shape and dtype.
fn useless_fill(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Second)?;
    let b = ins[1];
    (same_pattern(rw.ty(id), rw.ty(b)) && rw.ty(b).dtype == rw.ty(id).dtype).then_some(b)
}

/// `f(…, fill(a, b), …)` → `fill(a, f(…, b, …))`: the shape carriers `grad` leaves move
/// outward, so the arithmetic beneath them can be simplified (and the fill disappears when
/// the result has the shape anyway).
fn fill_sink(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.scalar_op(id)?;
    if s == ScalarOp::Second {
        return None;
    }
    let ins = rw.inputs(id);
    let k = ins.iter().position(|&i| rw.scalar_op(i) == Some(ScalarOp::Second) && rw.use_count(i) == 1)?;
    let fill = rw.inputs(ins[k]);
    let mut new_ins = ins.to_vec();
    new_ins[k] = fill[1];
    let inner = rw.el(s, new_ins)?;
    if same_pattern(rw.ty(inner), rw.ty(id)) {
        Some(inner)
    } else {
        rw.el(ScalarOp::Second, vec![fill[0], inner])
    }
}

/// `a - b` → `a + (-1 * b)`, and `a - c` → `a + (-c)` for a constant `c`.
fn sub_to_add(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Sub)?;
    let (a, b) = (ins[0], ins[1]);
    let dtype = rw.ty(id).dtype;
    if !dtype.is_float() && !dtype.is_int() {
        return None;
    }
    let nb = match rw.const_value(b) {
        Some(c) if rw.ty(b).dtype == dtype => rw.konst(-c, dtype, rw.ty(b).ndim()),
        _ => {
            let m1 = rw.konst(-1.0, rw.ty(b).dtype, rw.ty(b).ndim());
            rw.el(ScalarOp::Mul, vec![m1, b])?
        }
    };
    rw.el(ScalarOp::Add, vec![a, nb])
}

/// `-x` → `-1 * x`; `-(-x)` → `x`.
fn neg_to_mul(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let x = rw.is(id, ScalarOp::Neg)?[0];
    if let Some(inner) = rw.is(x, ScalarOp::Neg) {
        return Some(inner[0]);
    }
    if !rw.ty(x).dtype.is_float() && !rw.ty(x).dtype.is_int() {
        return None;
    }
    let m1 = rw.konst_like(-1.0, x);
    rw.el(ScalarOp::Mul, vec![m1, x])
}

/// `x / c` → `x * (1/c)` when `1/c` is exact (c a power of two), so the result is
/// bit-identical.
fn div_by_const(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Div)?;
    let c = rw.const_value(ins[1])?;
    let dtype = rw.ty(id).dtype;
    if rw.ty(ins[1]).dtype != dtype || !dtype.is_float() || c == 0.0 || !c.is_finite() {
        return None;
    }
    let (mantissa_is_one, r) = (c.abs().log2().fract() == 0.0, 1.0 / c);
    if !mantissa_is_one
        || !r.is_finite()
        || r == 0.0
        || (dtype == tensorlift_ir::DType::F32 && (r as f32) as f64 != r)
    {
        return None;
    }
    let k = rw.konst(r, dtype, rw.ty(ins[1]).ndim());
    rw.el(ScalarOp::Mul, vec![k, ins[0]])
}

/// Combines the constant terms of an n-ary add or mul into one (computed with the op's own
/// kernel, so exactly as the graph would), put first; drops the neutral element.
fn canonize(rw: &mut Rw<'_>, id: NodeId, op: ScalarOp, neutral: f64) -> Option<NodeId> {
    if flattened_by_reader(rw, id, op) {
        return None;
    }
    let root_ins = rw.inputs(id);
    let mut terms = rw.terms(id, op);
    let dtype = rw.ty(id).dtype;
    let is_const = |rw: &Rw<'_>, t: NodeId| rw.const_value(t).is_some() && rw.ty(t).dtype == dtype;
    if !rw.config.fast_math && const_after_second_var(rw, &terms, is_const) {
        // Flattening a later nested node is exact only if its constants then go first:
        // `a * (b * c)` must not become `(a * b) * c`. Only the leading chain is flattened.
        terms = rw.leading_terms(id, op);
    }
    if !rw.config.fast_math && const_after_second_var(rw, &terms, is_const) {
        // Putting this constant first would regroup the terms before it (`(x + y) + c` is
        // not `(c + x) + y` in IEEE arithmetic): the terms keep their order, and only exact
        // neutral elements go.
        terms.retain(|t| rw.const_value(*t).is_none_or(|v| v.to_bits() != neutral.to_bits()));
        let unchanged = terms[..] == root_ins[..] && terms.len() <= crate::MAX_KERNEL_INPUTS;
        return match terms.len() {
            _ if unchanged => None,
            1 => Some(terms[0]),
            _ => left_nested(rw, op, &terms),
        };
    }
    let (consts, vars): (Terms, Terms) = terms.iter().copied().partition(|&t| is_const(rw, t));
    let mut folded: Terms = match consts.len() {
        0 => Terms::new(),
        1 => Terms::from_slice(&consts[..1]),
        _ => {
            let node = rw.el(op, consts.to_vec())?;
            let r = constant_folding(rw, node)?;
            // Collecting constants reassociates: never let it create an overflow or an
            // underflow (1.5**2000 → inf, then 0 * inf = NaN). Then the node stays as
            // written, in its own order.
            let value = rw.const_value(r)?;
            let inputs_normal =
                consts.iter().all(|&c| rw.const_value(c).is_some_and(|v| v == 0.0 || v.is_normal()));
            if !inputs_normal || (value == 0.0 && op == ScalarOp::Mul) || !(value == 0.0 || value.is_normal())
            {
                return None;
            }
            Terms::from_slice(&[r])
        }
    };
    // Only an exact neutral element goes: x * 1 is x, and x + (-0.0) is x, but x + 0.0 turns
    // -0.0 into +0.0.
    folded.retain(|c| rw.const_value(*c).is_none_or(|v| v.to_bits() != neutral.to_bits()));
    let mut new_terms: Terms = folded;
    new_terms.extend(vars);
    // A node wider than a kernel may read is split even when nothing else changes.
    let unchanged = new_terms[..] == root_ins[..] && new_terms.len() <= crate::MAX_KERNEL_INPUTS;
    if unchanged {
        return None;
    }
    match new_terms.len() {
        0 => {
            let k = rw.konst_like(neutral, id);
            rw.fill(id, k).filter(|&r| r != id)
        }
        1 => Some(new_terms[0]),
        _ => left_nested(rw, op, &new_terms),
    }
}

/// True when a constant term comes after the second non-constant one: moving it first would
/// regroup non-constant terms. (Before that, only one non-constant term is crossed, and
/// `c + x` is `x + c` exactly; collecting constants around it is the documented
/// reassociation of constants.)
fn const_after_second_var(rw: &Rw<'_>, terms: &[NodeId], is_const: impl Fn(&Rw<'_>, NodeId) -> bool) -> bool {
    let mut vars = 0;
    terms.iter().any(|&t| {
        if is_const(rw, t) {
            vars >= 2
        } else {
            vars += 1;
            false
        }
    })
}

/// `op(terms…)` as a left-nested chain of nodes of at most `MAX_KERNEL_INPUTS` operands
/// each: `op(op(t0, …, t31), t32, …)`, which evaluates left to right exactly as one node.
fn left_nested(rw: &mut Rw<'_>, op: ScalarOp, terms: &[NodeId]) -> Option<NodeId> {
    let first = terms.len().min(crate::MAX_KERNEL_INPUTS);
    let mut acc = rw.el(op, terms[..first].to_vec())?;
    for chunk in terms[first..].chunks(crate::MAX_KERNEL_INPUTS - 1) {
        let mut ins = Vec::with_capacity(chunk.len() + 1);
        ins.push(acc);
        ins.extend_from_slice(chunk);
        acc = rw.el(op, ins)?;
    }
    Some(acc)
}

/// True when the only reader of `id` is an n-ary `op` that flattens it (`Rw::terms`): `id`
/// is then left for the reader, so a chain `((a + b) + c) + …` is flattened once, at its
/// root, instead of once per link (quadratic in its length).
fn flattened_by_reader(rw: &Rw<'_>, id: NodeId, op: ScalarOp) -> bool {
    let dtype = rw.ty(id).dtype;
    if rw.use_count(id) != 1 {
        return false;
    }
    let Some(&r) = rw.g.uses(id).first() else { return false };
    if rw.scalar_op(r) != Some(op) || rw.ty(r).dtype != dtype {
        return false;
    }
    rw.config.fast_math || rw.node(r).inputs.first() == Some(&id)
}

/// n-ary `add`: nested adds flattened (when nothing else reads them and the grouping of the
/// other terms is kept, see `Rw::terms`), constants summed
/// and put first, `+ (-0.0)` dropped.
fn add_canonizer(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    rw.is(id, ScalarOp::Add)?;
    canonize(rw, id, ScalarOp::Add, -0.0)
}

/// n-ary `mul`: nested muls flattened (as for `add`), constants multiplied and put first, `* 1` dropped.
fn mul_canonizer(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    rw.is(id, ScalarOp::Mul)?;
    canonize(rw, id, ScalarOp::Mul, 1.0)
}

/// fast_math: `x * 0` → `0` (wrong for x = ±inf or NaN).
fn mul_zero(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Mul)?;
    ins.iter().find(|&&t| rw.is_const(t, 0.0))?;
    let z = rw.konst_like(0.0, id);
    let shape_of = *ins.iter().find(|&&t| !rw.is_const(t, 0.0)).unwrap_or(&ins[0]);
    rw.el(ScalarOp::Second, vec![shape_of, z])
}

/// fast_math: `x + (-1 * x)` → `0` (wrong for ±inf and NaN).
fn sub_self(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Add)?;
    if ins.len() != 2 {
        return None;
    }
    let (a, b) = (ins[0], ins[1]);
    let neg = rw.is(b, ScalarOp::Mul)?;
    if neg.len() != 2 || !rw.is_const(neg[0], -1.0) || neg[1] != a {
        return None;
    }
    let z = rw.konst_like(0.0, id);
    rw.el(ScalarOp::Second, vec![a, z])
}

/// fast_math: `x / x` → `1` (wrong for 0, ±inf and NaN).
fn div_self(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Div)?;
    if ins[0] != ins[1] {
        return None;
    }
    let one = rw.konst_like(1.0, id);
    rw.el(ScalarOp::Second, vec![ins[0], one])
}

/// `x ** 1` → `x`, `x ** 0` → `1` (shaped like x).
fn pow_canonicalize(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Pow)?;
    match rw.const_value(ins[1])? {
        1.0 => Some(ins[0]),
        0.0 => {
            let one = rw.konst_like(1.0, id);
            rw.el(ScalarOp::Second, vec![ins[0], one])
        }
        _ => None,
    }
}

/// `switch(c, a, a)` → `a`; a constant condition picks its branch.
fn useless_switch(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Switch)?;
    if ins[1] == ins[2] {
        return Some(ins[1]);
    }
    let c = rw.const_value(ins[0])?;
    Some(if c != 0.0 { ins[1] } else { ins[2] })
}

/// `ifelse(c, a, a)` → `a`; a constant condition picks its branch (Theano's
/// `cond_remove_identical` and `cond_make_inplace`'s constant case).
fn useless_ifelse(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    if !matches!(rw.op(id), Op::IfElse) {
        return None;
    }
    let ins = rw.inputs(id);
    if ins[1] == ins[2] {
        return Some(ins[1]);
    }
    let c = rw.const_value(ins[0])?;
    Some(if c != 0.0 { ins[1] } else { ins[2] })
}

/// A `rebroadcast` that changes nothing (its input's type is its own) → its input.
fn useless_rebroadcast(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Rebroadcast { .. } = rw.op(id) else { return None };
    let x = rw.inputs(id)[0];
    (rw.ty(x) == rw.ty(id)).then_some(x)
}

/// `dimshuffle(dimshuffle(x))` → one dimshuffle.
fn dimshuffle_compose(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::DimShuffle { order: outer } = rw.op(id).clone() else { return None };
    let inner_id = rw.inputs(id)[0];
    let Op::DimShuffle { order: inner } = rw.op(inner_id).clone() else { return None };
    let x = rw.inputs(inner_id)[0];
    let order = outer.iter().map(|o| o.and_then(|k| inner[k])).collect();
    rw.add(Op::DimShuffle { order }, vec![x])
}

/// An identity dimshuffle is its input.
fn useless_dimshuffle(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::DimShuffle { order } = rw.op(id) else { return None };
    let x = rw.inputs(id)[0];
    let identity = order.len() == rw.ty(x).ndim() && order.iter().enumerate().all(|(k, o)| *o == Some(k));
    identity.then_some(x)
}

/// `dimshuffle(f(a, b))` → `f(dimshuffle(a), dimshuffle(b))` when nothing else reads the
/// elementwise node: dimshuffles move to the leaves, so elementwise chains fuse.
fn dimshuffle_lift(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::DimShuffle { order } = rw.op(id).clone() else { return None };
    let e = rw.inputs(id)[0];
    let s = rw.scalar_op(e)?;
    if rw.use_count(e) != 1 {
        return None;
    }
    let ins = rw.inputs(e);
    let mut new_ins = Vec::with_capacity(ins.len());
    for i in ins {
        new_ins.push(rw.add(Op::DimShuffle { order: order.clone() }, vec![i])?);
    }
    rw.el(s, new_ins)
}

/// A reduction over no axis, or only over broadcastable axes with `keepdims`, is its input
/// (when the dtype is unchanged).
fn useless_reduce(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reduce { op, axes, keepdims } = rw.op(id).clone() else { return None };
    let x = rw.inputs(id)[0];
    if rw.ty(x).dtype != rw.ty(id).dtype || matches!(op, ReduceOp::All | ReduceOp::Any) {
        return None;
    }
    let over_unit = axes.iter().all(|&a| rw.ty(x).shape[a] == Some(1));
    if axes.is_empty() || (over_unit && keepdims) {
        return Some(x);
    }
    if over_unit {
        let order = (0..rw.ty(x).ndim()).filter(|a| !axes.contains(a)).map(Some).collect();
        return rw.add(Op::DimShuffle { order }, vec![x]);
    }
    None
}

/// `sum(a * X)` → `a * sum(X)` (and the same for `mean`) when `a` broadcasts over every
/// axis: one multiply instead of one per element.
fn sum_of_scalar_mul(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reduce { op, axes, keepdims } = rw.op(id).clone() else { return None };
    if !matches!(op, ReduceOp::Sum | ReduceOp::Mean) {
        return None;
    }
    let m = rw.inputs(id)[0];
    let ins = rw.is(m, ScalarOp::Mul)?;
    if rw.use_count(m) != 1 || rw.ty(m).dtype != rw.ty(id).dtype {
        return None;
    }
    // Moving a factor out of the sum is exact only when it is a finite nonzero constant
    // (inf * [0, 1] sums to NaN, inf * sum([0, 1]) is inf); other factors need fast_math.
    let fast = rw.config.fast_math;
    let is_scalar = |rw: &Rw<'_>, t: NodeId| {
        rw.ty(t).shape.iter().all(|&d| d == Some(1))
            && (fast || rw.const_value(t).is_some_and(|v| v.is_finite() && v != 0.0))
    };
    let (scalars, rest): (Vec<NodeId>, Vec<NodeId>) = ins.iter().partition(|&&t| is_scalar(rw, t));
    if scalars.is_empty() || rest.is_empty() {
        return None;
    }
    let inner = if rest.len() == 1 { rest[0] } else { rw.el(ScalarOp::Mul, rest)? };
    let reduced = rw.add(Op::Reduce { op, axes: axes.clone(), keepdims }, vec![inner])?;
    // Each scalar factor drops its (broadcastable) axes and takes the result's rank.
    let out_ndim = rw.ty(id).ndim();
    let mut factors = Vec::new();
    for f in scalars {
        factors.push(rw.add(Op::DimShuffle { order: vec![None; out_ndim] }, vec![f])?);
    }
    factors.push(reduced);
    rw.el(ScalarOp::Mul, factors)
}
