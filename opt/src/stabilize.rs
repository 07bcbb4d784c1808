//! Stabilization: numerically unstable forms replaced by stable ones — `log1p`, `expm1`,
//! `sigmoid`, `softplus`, `log_softmax`, `logsumexp` — so that, for example, the
//! cross-entropy of a sigmoid stays finite where the plain formula gives inf or NaN.

use crate::engine::Rule;
use crate::pattern::Rw;
use tensorlift_ir::{NodeId, Op, ReduceOp, ScalarOp};

/// The rules of the phase, in the order they are tried.
pub static RULES: &[Rule] = &[
    Rule { name: "local_log1p", fast_math: false, apply: log1p },
    Rule { name: "local_expm1", fast_math: false, apply: expm1 },
    Rule { name: "local_1msigmoid", fast_math: false, apply: one_minus_sigmoid },
    Rule { name: "local_reciprocal_1_plus_exp", fast_math: false, apply: reciprocal_1_plus_exp },
    Rule { name: "local_exp_over_1_plus_exp", fast_math: false, apply: exp_over_1_plus_exp },
    Rule { name: "local_log1p_exp_to_softplus", fast_math: false, apply: log1p_exp },
    Rule { name: "logsigm_to_softplus", fast_math: false, apply: log_sigmoid },
    Rule { name: "log1msigm_to_softplus", fast_math: false, apply: log1p_neg_sigmoid },
    Rule { name: "local_logsoftmax", fast_math: false, apply: log_softmax },
    Rule { name: "local_log_sum_exp", fast_math: false, apply: log_sum_exp },
];

/// `-1 * x` in canonical form, or `x` when `x` is already `-1 * y` (then `y`).
fn negate(rw: &mut Rw<'_>, x: NodeId) -> Option<NodeId> {
    if let Some(ins) = rw.is(x, ScalarOp::Mul) {
        if ins.len() == 2 && rw.is_const(ins[0], -1.0) {
            return Some(ins[1]);
        }
    }
    let m1 = rw.konst_like(-1.0, x);
    rw.el(ScalarOp::Mul, vec![m1, x])
}

/// The terms of an `add` other than one constant equal to `c`, if there is such a constant.
fn add_minus_const(rw: &Rw<'_>, id: NodeId, c: f64) -> Option<Vec<NodeId>> {
    let ins = rw.is(id, ScalarOp::Add)?;
    let k = ins.iter().position(|&t| rw.is_const(t, c))?;
    let mut rest = ins.into_vec();
    rest.remove(k);
    Some(rest)
}

/// The sum of `terms` (one term is itself).
fn sum_of(rw: &mut Rw<'_>, terms: Vec<NodeId>) -> Option<NodeId> {
    match terms.len() {
        0 => None,
        1 => Some(terms[0]),
        _ => rw.el(ScalarOp::Add, terms),
    }
}

/// `log(1 + x)` → `log1p(x)`.
fn log1p(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let a = rw.is(id, ScalarOp::Log)?[0];
    let rest = add_minus_const(rw, a, 1.0)?;
    let x = sum_of(rw, rest)?;
    rw.el(ScalarOp::Log1p, vec![x])
}

/// `exp(x) - 1` → `expm1(x)`.
fn expm1(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let rest = add_minus_const(rw, id, -1.0)?;
    if rest.len() != 1 {
        return None;
    }
    let x = rw.is(rest[0], ScalarOp::Exp)?[0];
    rw.el(ScalarOp::Expm1, vec![x])
}

/// `1 - sigmoid(x)` → `sigmoid(-x)`.
fn one_minus_sigmoid(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let rest = add_minus_const(rw, id, 1.0)?;
    if rest.len() != 1 {
        return None;
    }
    let m = rw.is(rest[0], ScalarOp::Mul)?;
    if m.len() != 2 || !rw.is_const(m[0], -1.0) {
        return None;
    }
    let x = rw.is(m[1], ScalarOp::Sigmoid)?[0];
    let nx = negate(rw, x)?;
    rw.el(ScalarOp::Sigmoid, vec![nx])
}

/// `1 / (1 + exp(z))` → `sigmoid(-z)` (so `1 / (1 + exp(-x))` → `sigmoid(x)`), also as
/// `reciprocal(1 + exp(z))`.
fn reciprocal_1_plus_exp(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let den = if let Some(ins) = rw.is(id, ScalarOp::Div) {
        if !rw.is_const(ins[0], 1.0) {
            return None;
        }
        ins[1]
    } else {
        rw.is(id, ScalarOp::Reciprocal)?[0]
    };
    let rest = add_minus_const(rw, den, 1.0)?;
    if rest.len() != 1 {
        return None;
    }
    let z = rw.is(rest[0], ScalarOp::Exp)?[0];
    let nz = negate(rw, z)?;
    rw.el(ScalarOp::Sigmoid, vec![nz])
}

/// `exp(x) / (1 + exp(x))` → `sigmoid(x)`.
fn exp_over_1_plus_exp(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Div)?;
    let x = rw.is(ins[0], ScalarOp::Exp)?[0];
    let rest = add_minus_const(rw, ins[1], 1.0)?;
    if rest.len() != 1 || rest[0] != ins[0] {
        return None;
    }
    rw.el(ScalarOp::Sigmoid, vec![x])
}

/// `log1p(exp(x))` → `softplus(x)`.
fn log1p_exp(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let e = rw.is(id, ScalarOp::Log1p)?[0];
    let x = rw.is(e, ScalarOp::Exp)?[0];
    rw.el(ScalarOp::Softplus, vec![x])
}

/// `log(sigmoid(x))` → `-softplus(-x)`.
fn log_sigmoid(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.is(id, ScalarOp::Log)?[0];
    let x = rw.is(s, ScalarOp::Sigmoid)?[0];
    let nx = negate(rw, x)?;
    let sp = rw.el(ScalarOp::Softplus, vec![nx])?;
    negate(rw, sp)
}

/// `log1p(-sigmoid(x))` (what `log(1 - sigmoid(x))` becomes) → `-softplus(x)`.
fn log1p_neg_sigmoid(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let m = rw.is(id, ScalarOp::Log1p)?[0];
    let ins = rw.is(m, ScalarOp::Mul)?;
    if ins.len() != 2 || !rw.is_const(ins[0], -1.0) {
        return None;
    }
    let x = rw.is(ins[1], ScalarOp::Sigmoid)?[0];
    let sp = rw.el(ScalarOp::Softplus, vec![x])?;
    negate(rw, sp)
}

/// `log(softmax(x))` → `log_softmax(x)`.
fn log_softmax(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.is(id, ScalarOp::Log)?[0];
    let Op::Softmax { axis } = *rw.op(s) else { return None };
    let x = rw.inputs(s)[0];
    rw.add(Op::LogSoftmax { axis }, vec![x])
}

/// `log(sum(exp(x)))` → `logsumexp(x)` over the same axes.
fn log_sum_exp(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.is(id, ScalarOp::Log)?[0];
    let Op::Reduce { op: ReduceOp::Sum, axes, keepdims } = rw.op(s).clone() else { return None };
    let x = rw.is(rw.inputs(s)[0], ScalarOp::Exp)?[0];
    rw.add(Op::LogSumExp { axes, keepdims }, vec![x])
}
