//! Stabilization: numerically unstable forms replaced by stable ones — `log1p`, `expm1`,
//! `sigmoid`, `softplus`, `log_softmax`, `logsumexp` — so that, for example, the
//! cross-entropy of a sigmoid stays finite where the plain formula gives inf or NaN; and the
//! quotients of its gradient (`c / (1 + exp(z))`, `exp(-x) * sigmoid(x)`, divisions by a
//! sigmoid that is also a factor) turned into sigmoids and cancelled, so that the gradient
//! is `p - y`, not NaN, where a sigmoid underflows.

use crate::engine::Rule;
use crate::pattern::Rw;
use tensorlift_ir::{DType, NodeId, Op, ReduceOp, ScalarOp};

/// The rules of the phase, in the order they are tried.
pub static RULES: &[Rule] = &[
    Rule { name: "local_log1p", fast_math: false, apply: log1p },
    Rule { name: "local_expm1", fast_math: false, apply: expm1 },
    Rule { name: "local_1msigmoid", fast_math: false, apply: one_minus_sigmoid },
    Rule { name: "local_reciprocal_1_plus_exp", fast_math: false, apply: reciprocal_1_plus_exp },
    Rule { name: "local_exp_over_1_plus_exp", fast_math: false, apply: exp_over_1_plus_exp },
    Rule { name: "local_div_1_plus_exp", fast_math: false, apply: div_1_plus_exp },
    Rule { name: "local_sigm_times_exp", fast_math: false, apply: sigm_times_exp },
    Rule { name: "local_sigm_div_cancel", fast_math: false, apply: sigm_div_cancel },
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

/// The n-ary `op` (sum or product) of `terms` (one term is itself; none, `None`).
fn nary(rw: &mut Rw<'_>, op: ScalarOp, terms: Vec<NodeId>) -> Option<NodeId> {
    match terms.len() {
        0 => None,
        1 => Some(terms[0]),
        _ => rw.el(op, terms),
    }
}

/// `log(1 + x)` → `log1p(x)`.
fn log1p(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let a = rw.is(id, ScalarOp::Log)?[0];
    let rest = add_minus_const(rw, a, 1.0)?;
    let x = nary(rw, ScalarOp::Add, rest)?;
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

/// `c / (1 + exp(z))` → `c * sigmoid(-z)` (Theano's second case of
/// `local_exp_over_1_plus_exp`): the quotient of the gradient of `1 / (1 + exp(-x))`, which
/// is NaN once `exp(z)` overflows. `1 / …` and `exp(z) / …` are the sigmoid rules' own.
fn div_1_plus_exp(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Div)?;
    let rest = add_minus_const(rw, ins[1], 1.0)?;
    if rest.len() != 1 || rest[0] == ins[0] || rw.is_const(ins[0], 1.0) {
        return None;
    }
    let z = rw.is(rest[0], ScalarOp::Exp)?[0];
    let nz = negate(rw, z)?;
    let s = rw.el(ScalarOp::Sigmoid, vec![nz])?;
    rw.el(ScalarOp::Mul, vec![ins[0], s])
}

/// `y` when `x` is `-1 * y`.
fn neg_of(rw: &Rw<'_>, x: NodeId) -> Option<NodeId> {
    let ins = rw.is(x, ScalarOp::Mul)?;
    (ins.len() == 2 && rw.is_const(ins[0], -1.0)).then(|| ins[1])
}

/// True when `a` is `-b` or `b` is `-a`.
fn opposite(rw: &Rw<'_>, a: NodeId, b: NodeId) -> bool {
    neg_of(rw, a) == Some(b) || neg_of(rw, b) == Some(a)
}

/// A tree of products: the shape `factors` read, for `MulTree::rebuild`.
enum MulTree {
    /// The factor of that index.
    Leaf(usize),
    /// A product of subtrees.
    Mul(Vec<MulTree>),
}

impl MulTree {
    /// The product with factor `k` replaced by `fs[k]`, or left out where that is `None`,
    /// each product keeping its nesting (and so its rounding) where its factors are kept;
    /// `None` when nothing is left.
    fn rebuild(&self, rw: &mut Rw<'_>, fs: &[Option<NodeId>]) -> Option<NodeId> {
        match self {
            MulTree::Leaf(k) => fs[*k],
            MulTree::Mul(subs) => {
                let ins: Vec<NodeId> = subs.iter().filter_map(|t| t.rebuild(rw, fs)).collect();
                nary(rw, ScalarOp::Mul, ins)
            }
        }
    }
}

/// The factors of the product `id`, in order, and the tree of products they were read from:
/// nested products of its dtype are looked into (Theano's `parse_mul_tree`) where nothing
/// else reads them or they are products of sigmoids only (`sigmoid(x) * sigmoid(-x)`, the
/// derivative of a sigmoid, shared by the terms of its gradient); `None` when `id` is no
/// product.
fn factors(rw: &Rw<'_>, id: NodeId) -> Option<(Vec<NodeId>, MulTree)> {
    /// Deepest nesting of products looked into.
    const MAX_DEPTH: usize = 8;
    fn walk(rw: &Rw<'_>, id: NodeId, dtype: DType, out: &mut Vec<NodeId>, depth: usize) -> MulTree {
        let mut subs = Vec::new();
        for t in rw.inputs(id) {
            let nested = rw.scalar_op(t) == Some(ScalarOp::Mul) && rw.ty(t).dtype == dtype;
            let cheap = || {
                rw.use_count(t) == 1
                    || rw.inputs(t).iter().all(|&f| rw.scalar_op(f) == Some(ScalarOp::Sigmoid))
            };
            if nested && depth < MAX_DEPTH && cheap() {
                subs.push(walk(rw, t, dtype, out, depth + 1));
            } else {
                subs.push(MulTree::Leaf(out.len()));
                out.push(t);
            }
        }
        MulTree::Mul(subs)
    }
    rw.is(id, ScalarOp::Mul)?;
    let mut out = Vec::new();
    let tree = walk(rw, id, rw.ty(id).dtype, &mut out, 0);
    Some((out, tree))
}

/// In a product, `exp(x) * sigmoid(-x)` → `sigmoid(x)` and `exp(-x) * sigmoid(x)` →
/// `sigmoid(-x)` (Theano's `local_sigm_times_exp`): each is `exp(x) / (1 + exp(x))`, whose
/// factors overflow and underflow where the sigmoid does not.
fn sigm_times_exp(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let (fs, tree) = factors(rw, id)?;
    let mut new: Vec<Option<NodeId>> = fs.iter().map(|&f| Some(f)).collect();
    let mut changed = false;
    for i in 0..fs.len() {
        let Some(x) = rw.is(fs[i], ScalarOp::Exp).map(|ins| ins[0]) else { continue };
        let pair = (0..fs.len()).find(|&k| {
            new[k].is_some_and(|s| rw.is(s, ScalarOp::Sigmoid).is_some_and(|ins| opposite(rw, ins[0], x)))
        });
        let Some(k) = pair else { continue };
        new[k] = Some(rw.el(ScalarOp::Sigmoid, vec![x])?);
        new[i] = None;
        changed = true;
    }
    if !changed {
        return None;
    }
    tree.rebuild(rw, &new)
}

/// The path (input positions through products, at most `depth` deep) to a division of
/// `t` by a sigmoid or a softmax (values that underflow to 0), and that divisor.
fn sigm_divisor(rw: &Rw<'_>, t: NodeId, depth: usize) -> Option<(Vec<usize>, NodeId)> {
    if let Some(ins) = rw.is(t, ScalarOp::Div) {
        let d = ins[1];
        let underflows = rw.is(d, ScalarOp::Sigmoid).is_some() || matches!(rw.op(d), Op::Softmax { .. });
        return underflows.then(|| (Vec::new(), d));
    }
    if depth == 0 {
        return None;
    }
    let ins = rw.is(t, ScalarOp::Mul)?;
    ins.iter().enumerate().find_map(|(k, &f)| {
        let (mut path, s) = sigm_divisor(rw, f, depth - 1)?;
        path.insert(0, k);
        Some((path, s))
    })
}

/// `t` with the division `sigm_divisor` found at `path` replaced by its numerator.
fn strip_divisor(rw: &mut Rw<'_>, t: NodeId, path: &[usize]) -> Option<NodeId> {
    let ins = rw.inputs(t);
    match path.split_first() {
        None => Some(ins[0]),
        Some((&k, rest)) => {
            let mut ins = ins.into_vec();
            ins[k] = strip_divisor(rw, ins[k], rest)?;
            rw.el(ScalarOp::Mul, ins)
        }
    }
}

/// In a product, a factor divided by a sigmoid that is also a factor has the division
/// cancelled: `(a / sigmoid(x)) * sigmoid(x)` → `a`; a factor that is a sum of such
/// quotients has the product distributed over it first:
/// `(a / sigmoid(x) - b / sigmoid(-x)) * sigmoid(x) * sigmoid(-x)` →
/// `a * sigmoid(-x) - b * sigmoid(x)` (the cancellation of Theano's
/// `local_greedy_distributor`, for sigmoids). That is the gradient of the cross-entropy of a
/// sigmoid, `p - y`, which the quotients make NaN once a sigmoid underflows to 0. A softmax
/// cancels the same way: `(g / softmax(x)) * softmax(x)` → `g` is the gradient of
/// `log(softmax(x))` (Theano's `local_logsoftmax_grad`), which is otherwise NaN where a
/// probability underflows.
fn sigm_div_cancel(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    /// Deepest product a term's division is looked for in.
    const TERM_DEPTH: usize = 3;
    let (fs, tree) = factors(rw, id)?;
    for (a, &sum) in fs.iter().enumerate() {
        let (terms, depth) = match rw.is(sum, ScalarOp::Add) {
            Some(terms) => (terms.into_vec(), TERM_DEPTH),
            None => (vec![sum], 0),
        };
        let found: Option<Vec<(Vec<usize>, NodeId)>> =
            terms.iter().map(|&t| sigm_divisor(rw, t, depth)).collect();
        let Some(found) = found else { continue };
        // The distinct divisors, each matched with one other factor of the product.
        let mut used: Vec<(NodeId, usize)> = Vec::new();
        let all_found = found.iter().all(|&(_, s)| {
            if used.iter().any(|&(u, _)| u == s) {
                return true;
            }
            let free = |k: &usize| *k != a && fs[*k] == s && !used.iter().any(|&(_, j)| j == *k);
            match (0..fs.len()).find(free) {
                Some(k) => {
                    used.push((s, k));
                    true
                }
                None => false,
            }
        });
        if !all_found {
            continue;
        }
        let mut new_terms = Vec::with_capacity(terms.len());
        for (&t, (path, s)) in terms.iter().zip(&found) {
            let mut prod = vec![strip_divisor(rw, t, path)?];
            prod.extend(used.iter().filter(|&&(u, _)| u != *s).map(|&(u, _)| u));
            new_terms.push(nary(rw, ScalarOp::Mul, prod)?);
        }
        let new_sum = nary(rw, ScalarOp::Add, new_terms)?;
        let mut new: Vec<Option<NodeId>> = fs.iter().map(|&f| Some(f)).collect();
        new[a] = Some(new_sum);
        for &(_, k) in &used {
            new[k] = None;
        }
        return tree.rebuild(rw, &new);
    }
    None
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
