//! Specialization: faster forms once the graph is canonical and stable — powers as
//! `sqr`/`reciprocal` or multiplication chains (`sqrt` under fast_math), `x*x → sqr(x)`, `-1*x → -x`,
//! `a + -b → a - b`, `1/x → reciprocal(x)`, and `dot(W, x) + b` as one `gemv`/`gemm` with
//! its scalar factors folded into alpha and beta.

use crate::engine::Rule;
use crate::pattern::Rw;
use tensorlift_ir::{NodeId, Op, ScalarOp};

/// The rules of the phase, in the order they are tried.
/// `local_gemm` comes first: it must see `b + (-1 * dot)` before the sign is turned into a
/// subtraction.
pub static RULES: &[Rule] = &[
    Rule { name: "local_gemm", fast_math: false, apply: gemm },
    Rule { name: "local_pow_specialize", fast_math: false, apply: pow_specialize },
    Rule { name: "local_pow_sqrt", fast_math: true, apply: pow_sqrt },
    Rule { name: "local_mul_to_sqr", fast_math: false, apply: mul_to_sqr },
    Rule { name: "local_mul_specialize", fast_math: false, apply: mul_specialize },
    Rule { name: "local_add_neg_to_sub", fast_math: false, apply: add_neg_to_sub },
    Rule { name: "local_div_to_reciprocal", fast_math: false, apply: div_to_reciprocal },
    Rule { name: "local_reduce_split_runs", fast_math: false, apply: reduce_split_runs },
];

/// A reduction over axes that are not one run (`sum(x, axis=(0, 2, 3))`, a convolution's
/// bias gradient) → the reduction of the last run, then of the rest: each a run the fused
/// reduction kernels take, and the first shrinks the data most. The same value up to the
/// order of the additions (a mean of equal groups' means is the mean).
fn reduce_split_runs(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reduce { op, axes, keepdims } = rw.op(id).clone() else { return None };
    let last_run =
        axes.iter().rev().zip(axes.iter().rev().skip(1)).take_while(|(b, a)| **b == **a + 1).count() + 1;
    if last_run >= axes.len() {
        return None;
    }
    let split = axes.len() - last_run;
    let x = rw.inputs(id)[0];
    let inner = rw.add(Op::Reduce { op, axes: axes[split..].to_vec(), keepdims }, vec![x])?;
    rw.add(Op::Reduce { op, axes: axes[..split].to_vec(), keepdims }, vec![inner])
}

/// The largest integer exponent turned into a multiplication chain.
const MAX_CHAIN_POWER: u32 = 16;

/// `x**n` by repeated squaring.
fn power_chain(rw: &mut Rw<'_>, x: NodeId, n: u32) -> Option<NodeId> {
    match n {
        1 => Some(x),
        _ if n.is_multiple_of(2) => {
            let h = power_chain(rw, x, n / 2)?;
            rw.el(ScalarOp::Sqr, vec![h])
        }
        _ => {
            let h = power_chain(rw, x, n - 1)?;
            rw.el(ScalarOp::Mul, vec![h, x])
        }
    }
}

/// `x**2 → sqr(x)`, `x**-1 → reciprocal(x)`, and small integer powers → multiplication
/// chains by squaring (`x**3 → sqr(x) * x`), over a reciprocal for negative ones: exact
/// with IEEE `pow` at every input, ±0, ±inf and NaN included.
fn pow_specialize(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Pow)?;
    let (x, e) = (ins[0], rw.const_value(ins[1])?);
    if !rw.ty(id).dtype.is_float() || rw.ty(x).dtype != rw.ty(id).dtype {
        return None;
    }
    if e.fract() != 0.0 || e == 0.0 || e.abs() > MAX_CHAIN_POWER as f64 {
        return None;
    }
    let chain = power_chain(rw, x, e.abs() as u32)?;
    if e > 0.0 {
        Some(chain)
    } else {
        rw.el(ScalarOp::Reciprocal, vec![chain])
    }
}

/// fast_math: `x**0.5 → sqrt(x)`, `x**-0.5 → reciprocal(sqrt(x))` (they differ from `pow` at
/// -inf and -0.0).
fn pow_sqrt(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Pow)?;
    let (x, e) = (ins[0], rw.const_value(ins[1])?);
    if !rw.ty(id).dtype.is_float() || rw.ty(x).dtype != rw.ty(id).dtype {
        return None;
    }
    match e {
        0.5 => rw.el(ScalarOp::Sqrt, vec![x]),
        -0.5 => {
            let s = rw.el(ScalarOp::Sqrt, vec![x])?;
            rw.el(ScalarOp::Reciprocal, vec![s])
        }
        _ => None,
    }
}

/// `x * x → sqr(x)` (in an n-ary product, each repeated pair). Without fast_math only the
/// first two factors, when they are the same: `(a * x) * x` (`a` a constant or not) is not
/// `a * sqr(x)` beyond rounding (`sqr(x)` can overflow where `a * x * x` does not).
fn mul_to_sqr(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Mul)?;
    let (k, j) = if rw.config.fast_math {
        (0..ins.len()).find_map(|k| ((k + 1)..ins.len()).find(|&j| ins[j] == ins[k]).map(|j| (k, j)))?
    } else {
        // Only the first product of the left-to-right evaluation: `c * x * x` is `(c * x) * x`,
        // which `c * sqr(x)` is not at the edges of the float range (`x * x` underflows
        // where `(1e300 * x) * x` does not).
        (ins.len() >= 2 && ins[1] == ins[0] && rw.const_value(ins[0]).is_none()).then_some((0, 1))?
    };
    let sq = rw.el(ScalarOp::Sqr, vec![ins[k]])?;
    let mut rest: Vec<NodeId> =
        ins.iter().enumerate().filter(|&(i, _)| i != k && i != j).map(|(_, &t)| t).collect();
    if rest.is_empty() {
        return Some(sq);
    }
    rest.insert(k.min(rest.len()), sq);
    rw.el(ScalarOp::Mul, rest)
}

/// `-1 * x → -x` (and `-1 * a * b → -(a * b)`).
fn mul_specialize(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Mul)?;
    if !rw.is_const(ins[0], -1.0) || rw.ty(ins[0]).dtype != rw.ty(id).dtype {
        return None;
    }
    let rest = ins[1..].to_vec();
    let x = if rest.len() == 1 { rest[0] } else { rw.el(ScalarOp::Mul, rest)? };
    rw.el(ScalarOp::Neg, vec![x])
}

/// `a + (-b) → a - b` for two terms.
fn add_neg_to_sub(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Add)?;
    if ins.len() != 2 {
        return None;
    }
    for (a, b) in [(ins[0], ins[1]), (ins[1], ins[0])] {
        if let Some(nb) = rw.is(b, ScalarOp::Neg) {
            return rw.el(ScalarOp::Sub, vec![a, nb[0]]);
        }
    }
    None
}

/// `1 / x → reciprocal(x)`.
fn div_to_reciprocal(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Div)?;
    if !rw.is_const(ins[0], 1.0) || rw.ty(ins[0]).dtype != rw.ty(id).dtype {
        return None;
    }
    rw.el(ScalarOp::Reciprocal, vec![ins[1]])
}

/// A term as `factor * core`: a constant scalar factor split off a product.
fn scaled(rw: &mut Rw<'_>, t: NodeId) -> (f64, NodeId) {
    if let Some(ins) = rw.is(t, ScalarOp::Mul) {
        if ins.len() == 2 {
            if let Some(c) = rw.const_value(ins[0]) {
                return (c, ins[1]);
            }
        }
    }
    if let Some(ins) = rw.is(t, ScalarOp::Neg) {
        return (-1.0, ins[0]);
    }
    (1.0, t)
}

/// `alpha * dot(X, Y) + beta * Z` → `gemm(Z, alpha, X, Y, beta)` (gemv for a vector `Y`),
/// for float operands of one dtype, when nothing else reads the product.
fn gemm(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Add)?;
    if ins.len() != 2 || !rw.ty(id).dtype.is_float() {
        return None;
    }
    for (p, z) in [(ins[0], ins[1]), (ins[1], ins[0])] {
        let (alpha, d) = scaled(rw, p);
        if !matches!(rw.op(d), Op::Dot) || rw.use_count(d) != 1 || (d != p && rw.use_count(p) != 1) {
            continue;
        }
        let (beta, z) = scaled(rw, z);
        let dtype = rw.ty(id).dtype;
        let xy = rw.inputs(d);
        if [d, z, xy[0], xy[1]].iter().any(|&n| rw.ty(n).dtype != dtype) || rw.ty(z).ndim() != rw.ty(d).ndim()
        {
            continue;
        }
        let a = rw.konst(alpha, dtype, 0);
        let b = rw.konst(beta, dtype, 0);
        return rw.add(Op::Gemm, vec![z, a, xy[0], xy[1], b]);
    }
    None
}
