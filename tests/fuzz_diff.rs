//! Differential fuzz test (#12): seeded random well-typed graphs, each run three ways — the
//! optimized graph under the JIT (`Mode::Jit`), the same optimized graph under the
//! interpreter (`Mode::Interp`), and the unoptimized graph (`OptConfig::disabled`) under the
//! interpreter — with the gradient of `f64` graphs checked against finite differences.
//!
//! # Graphs
//!
//! One to three `float64` (or, one case in five, `float32`) inputs: vectors, matrices, rows,
//! columns, scalars, with static lengths now and then. Then `TENSORLIFT_FUZZ_OPS` ops (6 by
//! default), each reading earlier nodes (recent ones more often) or small constants
//! (including `-0.0`, `1e300`, `1e-300` and a subnormal): elementwise arithmetic with
//! broadcasting, `maximum`/`minimum`, `pow` by a constant, `exp`, `log`, `log1p`, `expm1`,
//! `sqrt`, `sqr`, `abs`, `neg`, `tanh`, `sigmoid`, `softplus`, `switch(x > c, …)`,
//! reductions (`sum mean max min prod`, over all axes or one, with and without `keepdims`),
//! indexing (`x[k]` and slices), `dot` (vector/matrix in any agreeing combination),
//! transposes, `softmax`/`log_softmax`/`logsumexp`, and the unstable forms the stabilizer
//! rewrites (`log(1 + x)`, `exp(x) - 1`, `1/(1 + exp(-x))`, `log(sigmoid(x))`,
//! `log(1 - sigmoid(x))`, `log(1 + exp(x))`, `exp(x)/(1 + exp(x))`, `log(sum(exp(x)))`,
//! `log(softmax(x))`). The last node is an output, sometimes with one earlier node.
//!
//! Input elements: two cases in five are ordinary (uniform in [-3, 3], or an exact 0, ±1, 2,
//! 0.5); the others mix in ±0, NaN, ±inf, subnormals, huge (1e300 … 1.8e308) and tiny
//! (1e-300 … 1e-200) magnitudes (the `float32` equivalents for `float32`).
//!
//! # What must agree
//!
//! The bound is the documented accuracy of the JIT's vector math (README, `jit/src/vmath`,
//! asserted by `jit/tests/vmath_ulp.rs`): each transcendental function within 2 ulp of the
//! reference. Every other elementwise op is IEEE arithmetic in both engines, so within a
//! graph the only differences are those ulps, the order of summation of reductions and
//! `dot` (blocked in the JIT), and, between the optimized and the unoptimized graph, the
//! rounding of the rewrites the README documents (constants collected, `x**3 → sqr(x)*x`,
//! `sum(a*X) → a*sum(X)` for a finite nonzero constant). Such ulps grow downstream
//! (cancellation, poles, comparisons), so the bound is carried through the graph: the
//! unoptimized graph is re-evaluated node by node with the reference kernels six more
//! times (three antithetic pairs), each float result moved by `j·2⁻⁵²·m` (`2⁻²³` for
//! `float32`; `j` random in [0.5, 2]; at least the subnormal spacing), where `m` is `|v|`,
//! or for sums and `dot` the same op on the operands' absolute values times the depth of a
//! summation tree (`⌈log2(n+1)⌉`); ops that only move or pick elements are exact and not
//! moved. With `spread` the largest distance of those results from the plain one (infinite
//! when one leaves its finite/NaN/±inf class), two values agree when they are equal (NaN
//! equal to NaN, `0.0` to `-0.0`), within 2 ulp, within `4·spread`, or when `spread` is
//! infinite. The spread is the larger of that of the unoptimized graph and that of the
//! optimized graph before fusion (the ops the JIT runs, one node each: `fast_math` can turn
//! a NaN of the unoptimized graph into a finite chain such as `expm1(1)**4`, whose 1 ulp
//! becomes 4).
//!
//! - JIT and interpreter (same optimized graph) must agree.
//! - The optimized and the unoptimized graph (both interpreted) must agree, except where a
//!   stabilize rule or `local_sum_of_scalar_mul` (documented to move overflows at the edge of
//!   the float range) fired (from `Function::rewrite_trace`) or in a `fast_math` case (one in
//!   five uses `OptConfig::fast_math()`, under which any rule may take its fast form, as
//!   `local_sum_of_scalar_mul` does with an infinite factor): there an element that does not agree must be no
//!   less accurate than the unoptimized one against a double-double evaluation of the
//!   unoptimized graph (`common/double_double.rs`): `|opt - ref| ≤ |unopt - ref| + 2 ulp +
//!   4·spread`, a non-finite value counting as infinitely far from a finite reference. The
//!   element passes when the reference is NaN (no true value). Where the double-double
//!   evaluation overflowed or underflowed from finite operands it is no reference: then the
//!   element passes only where the unoptimized value is not finite (what stabilization is
//!   for), or the unoptimized evaluation had a ±inf or NaN intermediate anywhere (the stable
//!   form removed it: `log(softmax(x))` is `-inf` where `log_softmax(x)` is a finite
//!   `-3.6e301`, and a `pow` downstream then gives 0.5 against NaN). A `fast_math` case
//!   whose unoptimized evaluation has ±inf, NaN or -0.0 anywhere (input or intermediate), or
//!   in which a canonizer regrouped terms, is exempt: the README documents that its rewrites
//!   change results there (`x**-0.5 → 1/sqrt(x)` gives NaN for `-inf`, where `pow` gives 0;
//!   `a + (s - s)` evaluated as `(a + s) - s`).
//! - Gradient (`float64` cases, one in two): `grad` of the sum of all outputs, compiled with
//!   the default optimizer under the JIT, at a point whose elements are in [0.25, 2] (half
//!   the time with random signs), against central differences of the unoptimized cost with
//!   steps `h` and `h/2` (`h = 1e-5·max(1, |x|)`), Richardson-extrapolated. An element where
//!   the two steps disagree (a kink, a pole or a branch within `h`) is not smooth there and
//!   skipped; so is one where the cost's rounding noise (four times its spread, as for the
//!   values, over `h`) exceeds 1e-4 of the derivative (or of 1): the unoptimized
//!   `log(1 - sigmoid(x))` at `x ≈ 30` is known to three digits. A point is skipped where an
//!   intermediate value is not finite (the chain rule through `log(0)` gives `inf·0`) or
//!   has a magnitude outside [1e-150, 1e150] (derivative formulas square it: `d(1/u)` is
//!   `-du/u²`, -inf for `u = 1e-300·x`), a
//!   `max`/`min` (reduction or elementwise) has a tie (Theano's gradient gives every tied
//!   element the whole gradient), or `sqrt` or `pow(·, 0 < c < 1)` has a zero argument (an
//!   infinite derivative).
//!
//! Any error or panic of one engine where another succeeded, or of the builders, is a
//! failure too.
//!
//! # Running
//!
//! `TENSORLIFT_FUZZ_CASES` graphs (2 000 by default), from `TENSORLIFT_FUZZ_SEED` (a
//! number); `TENSORLIFT_FUZZ_OPS` ops per graph; `TENSORLIFT_FUZZ_ONLY=N` runs case `N`
//! alone. Every failure prints a reproducer: the unoptimized graph in the text IR
//! (`FunctionGraph` display, which `FunctionGraph::parse` reads back), the input values, the
//! rules that fired and the disagreeing elements. The run prints (with `--nocapture`) how
//! many cases, gradient elements and stabilized elements it checked.
//!
//! Known defects that are being fixed separately are kept out of the generated graphs by
//! the `AVOID_*` switches below, one per defect: set one to `false` once its fix lands.
//!
//! In `TENSORLIFT_MODE=interp` runs the modes stay as chosen here: every `Function` names
//! its mode explicitly, so the JIT side is the JIT in either CI configuration.

mod common;
#[path = "common/double_double.rs"]
mod double_double;

use common::rng::Rng;
use double_double::eval_graph;
use ndarray::ArrayD;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tensorlift as tl;
use tensorlift_opt::Phase;
use tl::kernels::KernelInput;
use tl::{
    Arg, DType, Function, FunctionGraph, Mode, OnUnusedInput, Op, OptConfig, ReduceOp, ScalarOp, Tensor,
    Term, Var,
};

// ------------------------------------------------------------------------------------------
// Known defects, fixed separately: each switch keeps its exact trigger out of the graphs.
// ------------------------------------------------------------------------------------------

/// The canonicalizer regroups sums and products of non-constant terms (`x + (y - y)` is
/// evaluated as `(x + y) - y`, `x*(y*z)` as `(x*y)*z`): no add/sub directly under an
/// add/sub, no mul/div directly under a mul/div.
const AVOID_SUM_REGROUPING: bool = false;

// ------------------------------------------------------------------------------------------
// Settings.
// ------------------------------------------------------------------------------------------

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// The documented bound of the JIT's vector math, in ulp.
const ULP_BOUND: u64 = 2;

fn below(rng: &mut Rng, n: usize) -> usize {
    ((rng.uniform() * n as f64) as usize).min(n - 1)
}

fn chance(rng: &mut Rng, p: f64) -> bool {
    rng.uniform() < p
}

fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[below(rng, xs.len())]
}

// ------------------------------------------------------------------------------------------
// The generator.
// ------------------------------------------------------------------------------------------

/// Which family a node's op belongs to, for `AVOID_SUM_REGROUPING`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    AddSub,
    MulDiv,
    Other,
}

/// A node of the graph under construction, with its run-time shape.
#[derive(Clone)]
struct Node {
    var: Var,
    shape: Vec<usize>,
    family: Family,
}

/// The input shapes, and whether the static type gives the lengths (else only the
/// broadcastable 1s: `Some(1)` exactly where the length is 1).
const INPUT_SHAPES: &[(&[usize], bool)] = &[
    (&[4], false),
    (&[3, 4], false),
    (&[1, 4], false),
    (&[3, 1], false),
    (&[], false),
    (&[3], false),
    (&[3, 4], true),
    (&[4, 3], false),
];

/// Constants of binary ops.
const CONSTS: &[f64] = &[0.0, 1.0, -1.0, 2.0, 0.5, 3.0, -0.5, -0.0, 1e300, 1e-300, 2.5e-310, -2.0];

/// Exponents of `pow`.
const POWERS: &[f64] = &[2.0, 3.0, -1.0, 0.5, -0.5, 0.0, 1.0, 4.0, -2.0, 1.5];

const UNARY: &[ScalarOp] = &[
    ScalarOp::Exp,
    ScalarOp::Log,
    ScalarOp::Log1p,
    ScalarOp::Expm1,
    ScalarOp::Sqrt,
    ScalarOp::Sqr,
    ScalarOp::Abs,
    ScalarOp::Neg,
    ScalarOp::Tanh,
    ScalarOp::Sigmoid,
    ScalarOp::Softplus,
];

const BINARY: &[ScalarOp] =
    &[ScalarOp::Add, ScalarOp::Sub, ScalarOp::Mul, ScalarOp::Div, ScalarOp::Maximum, ScalarOp::Minimum];

/// A generated case: the graph's inputs, their run-time shapes, and the outputs.
struct Case {
    dtype: DType,
    inputs: Vec<Var>,
    shapes: Vec<Vec<usize>>,
    outputs: Vec<Var>,
}

fn family_of(op: ScalarOp) -> Family {
    match op {
        ScalarOp::Add | ScalarOp::Sub => Family::AddSub,
        ScalarOp::Mul | ScalarOp::Div => Family::MulDiv,
        _ => Family::Other,
    }
}

/// True when `a` can be broadcast with `b`: on each trailing axis the lengths are equal, or
/// one is a static 1.
fn compatible(a: &Node, b: &Node) -> bool {
    let (sa, sb) = (a.var.ty().shape.clone(), b.var.ty().shape.clone());
    let n = a.shape.len().min(b.shape.len());
    (1..=n).all(|k| {
        let (la, lb) = (a.shape[a.shape.len() - k], b.shape[b.shape.len() - k]);
        la == lb || (la == 1 && sa[sa.len() - k] == Some(1)) || (lb == 1 && sb[sb.len() - k] == Some(1))
    })
}

fn broadcast(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let la = (i + a.len()).checked_sub(n).map_or(1, |j| a[j]);
            let lb = (i + b.len()).checked_sub(n).map_or(1, |j| b[j]);
            if la == 1 {
                lb
            } else {
                la
            }
        })
        .collect()
}

struct Gen<'r> {
    rng: &'r mut Rng,
    pool: Vec<Node>,
}

impl Gen<'_> {
    /// An operand: the newest node half the time, else any.
    fn operand(&mut self, ok: impl Fn(&Node) -> bool) -> Option<Node> {
        let cands: Vec<&Node> = self.pool.iter().filter(|n| ok(n)).collect();
        if cands.is_empty() {
            return None;
        }
        let k = if chance(self.rng, 0.5) { cands.len() - 1 } else { below(self.rng, cands.len()) };
        Some(cands[k].clone())
    }

    fn unary(&mut self, a: &Node, op: ScalarOp) -> Node {
        let family = if op == ScalarOp::Neg { a.family } else { Family::Other };
        Node { var: tl::elemwise(op, vec![Term::from(&a.var)]), shape: a.shape.clone(), family }
    }

    /// `op(a, b)` with `b` a compatible node or a constant, in either order.
    fn binary(&mut self, op: ScalarOp) -> Option<Node> {
        let fam = family_of(op);
        let allowed = |n: &Node| !(AVOID_SUM_REGROUPING && fam != Family::Other && n.family == fam);
        let a = self.operand(allowed)?;
        let b = if chance(self.rng, 0.6) { self.operand(|n| allowed(n) && compatible(&a, n)) } else { None };
        let (tb, shape) = match &b {
            Some(b) => (Term::from(&b.var), broadcast(&a.shape, &b.shape)),
            None => (Term::Float(pick(self.rng, CONSTS)), a.shape.clone()),
        };
        let terms =
            if chance(self.rng, 0.3) { vec![tb, Term::from(&a.var)] } else { vec![Term::from(&a.var), tb] };
        Some(Node { var: tl::elemwise(op, terms), shape, family: fam })
    }

    fn step(&mut self) -> Option<Node> {
        let r = below(self.rng, 22);
        Some(match r {
            0..=4 => {
                let a = self.operand(|_| true)?;
                let op = pick(self.rng, UNARY);
                self.unary(&a, op)
            }
            5 => {
                let a = self.operand(|_| true)?;
                let c = pick(self.rng, POWERS);
                Node {
                    var: tl::elemwise(ScalarOp::Pow, vec![Term::from(&a.var), Term::Float(c)]),
                    shape: a.shape.clone(),
                    family: Family::Other,
                }
            }
            6..=10 => {
                let op = pick(self.rng, BINARY);
                self.binary(op)?
            }
            11 => {
                let a = self.operand(|_| true)?;
                let b = self.operand(|n| compatible(&a, n))?;
                let c = pick(self.rng, &[0.0, 1.0, -1.0]);
                let cond = tl::elemwise(ScalarOp::Gt, vec![Term::from(&a.var), Term::Float(c)]);
                Node {
                    var: tl::switch(&cond, &a.var, &b.var),
                    shape: broadcast(&a.shape, &b.shape),
                    family: Family::Other,
                }
            }
            12 | 13 => {
                let a = self.operand(|n| !n.shape.is_empty())?;
                let op = pick(
                    self.rng,
                    &[ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod],
                );
                let keepdims = chance(self.rng, 0.3);
                let axes: Vec<usize> = if chance(self.rng, 0.4) {
                    (0..a.shape.len()).collect()
                } else {
                    vec![below(self.rng, a.shape.len())]
                };
                let shape = a
                    .shape
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &l)| {
                        if !axes.contains(&i) {
                            Some(l)
                        } else if keepdims {
                            Some(1)
                        } else {
                            None
                        }
                    })
                    .collect();
                Node {
                    var: tl::apply(Op::Reduce { op, axes, keepdims }, vec![a.var.clone()]),
                    shape,
                    family: Family::Other,
                }
            }
            14 => {
                let a = self.operand(|n| !n.shape.is_empty())?;
                let len = a.shape[0] as isize;
                if chance(self.rng, 0.5) || len == 1 {
                    let k = below(self.rng, 2 * len as usize) as isize - len;
                    Node { var: a.var.index(k), shape: a.shape[1..].to_vec(), family: Family::Other }
                } else {
                    let (start, stop, step, n) = pick(
                        self.rng,
                        &[
                            (None, None, -1, len),
                            (Some(1), None, 1, len - 1),
                            (None, None, 2, (len + 1) / 2),
                            (Some(-2), None, 1, 2),
                        ],
                    );
                    if n < 2 {
                        return None;
                    }
                    let mut shape = a.shape.clone();
                    shape[0] = n as usize;
                    Node { var: a.var.slice(start, stop, step), shape, family: Family::Other }
                }
            }
            15 => {
                let a = self.operand(|n| (1..=2).contains(&n.shape.len()))?;
                let k = *a.shape.last().expect("rank 1 or 2");
                let b = match self.operand(|n| (1..=2).contains(&n.shape.len()) && n.shape[0] == k) {
                    Some(b) if chance(self.rng, 0.7) => b,
                    _ if a.shape.len() == 2 => {
                        Node { var: a.var.t(), shape: vec![a.shape[1], a.shape[0]], family: Family::Other }
                    }
                    _ => a.clone(),
                };
                let mut shape = a.shape[..a.shape.len() - 1].to_vec();
                shape.extend_from_slice(&b.shape[1..]);
                Node { var: tl::dot(&a.var, &b.var), shape, family: Family::Other }
            }
            16 => {
                let a = self.operand(|n| (1..=2).contains(&n.shape.len()))?;
                match below(self.rng, 3) {
                    0 => Node { var: tl::softmax(&a.var, -1), shape: a.shape.clone(), family: Family::Other },
                    1 => Node {
                        var: tl::log_softmax(&a.var, -1),
                        shape: a.shape.clone(),
                        family: Family::Other,
                    },
                    _ => {
                        let ax = below(self.rng, a.shape.len());
                        let keep = chance(self.rng, 0.5);
                        let mut shape = a.shape.clone();
                        if keep {
                            shape[ax] = 1;
                        } else {
                            shape.remove(ax);
                        }
                        Node { var: tl::logsumexp(&a.var, ax as isize, keep), shape, family: Family::Other }
                    }
                }
            }
            17..=19 => self.unstable()?,
            20 => {
                // The canonicalizer lifts a transpose through a product or sum: same family.
                let a = self.operand(|n| n.shape.len() == 2)?;
                Node { var: a.var.t(), shape: vec![a.shape[1], a.shape[0]], family: a.family }
            }
            _ => {
                let op = pick(self.rng, &[ScalarOp::Add, ScalarOp::Mul]);
                self.binary(op)?
            }
        })
    }

    /// One of the unstable forms the stabilizer rewrites.
    fn unstable(&mut self) -> Option<Node> {
        use ScalarOp::*;
        let e = |op: ScalarOp, args: Vec<Term>| tl::elemwise(op, args);
        let t = |v: &Var| Term::from(v);
        let a = self.operand(|_| true)?;
        let x = &a.var;
        let (var, family) = match below(self.rng, 9) {
            0 => (e(Log, vec![t(&e(Add, vec![Term::Float(1.0), t(x)]))]), Family::Other),
            1 => (e(Sub, vec![t(&e(Exp, vec![t(x)])), Term::Float(1.0)]), Family::AddSub),
            2 => {
                let d = e(Add, vec![Term::Float(1.0), t(&e(Exp, vec![t(&e(Neg, vec![t(x)]))]))]);
                (e(Div, vec![Term::Float(1.0), t(&d)]), Family::MulDiv)
            }
            3 => (e(Log, vec![t(&e(Sigmoid, vec![t(x)]))]), Family::Other),
            4 => {
                (e(Log, vec![t(&e(Sub, vec![Term::Float(1.0), t(&e(Sigmoid, vec![t(x)]))]))]), Family::Other)
            }
            5 => (e(Log, vec![t(&e(Add, vec![Term::Float(1.0), t(&e(Exp, vec![t(x)]))]))]), Family::Other),
            6 => {
                let ex = e(Exp, vec![t(x)]);
                (e(Div, vec![t(&ex), t(&e(Add, vec![Term::Float(1.0), t(&ex)]))]), Family::MulDiv)
            }
            7 if !a.shape.is_empty() => {
                let s = tl::sum(e(Exp, vec![t(x)]));
                return Some(Node { var: e(Log, vec![t(&s)]), shape: vec![], family: Family::Other });
            }
            8 if (1..=2).contains(&a.shape.len()) => (e(Log, vec![t(&tl::softmax(x, -1))]), Family::Other),
            _ => (e(Log1p, vec![t(x)]), Family::Other),
        };
        Some(Node { var, shape: a.shape.clone(), family })
    }
}

fn generate(rng: &mut Rng, ops: usize) -> Case {
    let dtype = if chance(rng, 0.2) { DType::F32 } else { DType::F64 };
    let n_in = 1 + below(rng, 3);
    let mut pool = Vec::new();
    let (mut inputs, mut shapes) = (Vec::new(), Vec::new());
    for name in ["a", "b", "c"].iter().take(n_in) {
        let (rt, fixed) = pick(rng, INPUT_SHAPES);
        let st: Vec<Option<usize>> = rt.iter().map(|&l| (fixed || l == 1).then_some(l)).collect();
        let var = tl::tensor(name, dtype, &st);
        inputs.push(var.clone());
        shapes.push(rt.to_vec());
        pool.push(Node { var, shape: rt.to_vec(), family: Family::Other });
    }
    let mut g = Gen { rng, pool };
    let mut made = 0;
    let mut tries = 0;
    while made < ops && tries < 20 * ops {
        tries += 1;
        if let Some(n) = g.step() {
            g.pool.push(n);
            made += 1;
        }
    }
    let mut outputs = vec![g.pool.last().expect("nonempty").var.clone()];
    if g.pool.len() > n_in + 1 && chance(g.rng, 0.3) {
        let k = n_in + below(g.rng, g.pool.len() - n_in - 1);
        outputs.push(g.pool[k].var.clone());
    }
    Case { dtype, inputs, shapes, outputs }
}

// ------------------------------------------------------------------------------------------
// Input values.
// ------------------------------------------------------------------------------------------

fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + (hi.ln() - lo.ln()) * rng.uniform()).exp()
}

fn value(rng: &mut Rng, dtype: DType, special: bool) -> f64 {
    let sign = if chance(rng, 0.5) { -1.0 } else { 1.0 };
    let f32 = dtype == DType::F32;
    let r = if special { rng.uniform() } else { 0.0 };
    if r < 0.55 {
        return if chance(rng, 0.15) {
            pick(rng, &[0.0, 1.0, -1.0, 2.0, 0.5, -2.0])
        } else {
            -3.0 + 6.0 * rng.uniform()
        };
    }
    let m = match ((r - 0.55) * 20.0) as usize {
        0 => 0.0,
        1 => f64::NAN,
        2 => f64::INFINITY,
        3 | 4 => rng.uniform() * if f32 { f32::MIN_POSITIVE as f64 } else { f64::MIN_POSITIVE },
        5 | 6 => {
            if f32 {
                log_uniform(rng, 1e30, 3.4e38)
            } else {
                log_uniform(rng, 1e300, 1.79e308)
            }
        }
        _ => {
            if f32 {
                log_uniform(rng, 1e-38, 1e-30)
            } else {
                log_uniform(rng, 1e-300, 1e-200)
            }
        }
    };
    sign * m
}

fn tensor(vals: Vec<f64>, shape: &[usize], dtype: DType) -> Tensor {
    let a = ArrayD::from_shape_vec(shape.to_vec(), vals).expect("shape");
    Tensor::from(a).cast(dtype)
}

fn draw_inputs(rng: &mut Rng, case: &Case) -> Vec<Tensor> {
    let special = chance(rng, 0.6);
    case.shapes
        .iter()
        .map(|s| {
            let vals = (0..s.iter().product()).map(|_| value(rng, case.dtype, special)).collect();
            tensor(vals, s, case.dtype)
        })
        .collect()
}

/// A point for the gradient check: elements in [0.25, 2], or half the time ±[0.25, 2].
fn smooth_inputs(rng: &mut Rng, case: &Case) -> Vec<Tensor> {
    let signed = chance(rng, 0.5);
    case.shapes
        .iter()
        .map(|s| {
            let vals = (0..s.iter().product())
                .map(|_| (0.25 + 1.75 * rng.uniform()) * if signed && chance(rng, 0.5) { -1.0 } else { 1.0 })
                .collect();
            tensor(vals, s, case.dtype)
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// The reference kernels node by node, with rounding noise.
// ------------------------------------------------------------------------------------------

/// Every node's value, evaluated with the reference kernels; with `noise = Some((seed,
/// sign))` each float result is moved as the module documentation says.
fn eval_nodes(
    g: &FunctionGraph,
    inputs: &[Tensor],
    noise: Option<(u64, f64)>,
) -> Option<Vec<Option<Tensor>>> {
    let mut vals: Vec<Option<Tensor>> = vec![None; g.len()];
    for (&id, t) in g.inputs().iter().zip(inputs) {
        vals[id.index()] = Some(t.clone());
    }
    let mut rng = noise.map(|(seed, _)| Rng::new(seed));
    for id in g.ids() {
        if vals[id.index()].is_some() {
            continue;
        }
        let node = g.node(id);
        let ins: Vec<&Tensor> =
            node.inputs.iter().map(|i| vals[i.index()].as_ref().expect("topological")).collect();
        let kin: Vec<KernelInput<'_>> = ins
            .iter()
            .zip(node.inputs.iter())
            .map(|(v, &i)| KernelInput { value: v, ty: g.ty(i), name: "" })
            .collect();
        let out = tl::kernels::eval(&node.op, &kin, g.ty(id)).ok()?;
        let out = match (&mut rng, noise) {
            (Some(rng), Some((_, sign))) if out.dtype().is_float() => {
                perturb(&node.op, &kin, g.ty(id), out, rng, sign)
            }
            _ => out,
        };
        vals[id.index()] = Some(out);
    }
    Some(vals)
}

/// The rounding scale of a node's result and the multiplier of its noise, or `None` for an
/// exact op.
fn noise_scale(
    op: &Op,
    kin: &[KernelInput<'_>],
    out_ty: &tl::TensorType,
    out: &Tensor,
) -> Option<(ArrayD<f64>, f64)> {
    let abs_of = |kin: &[KernelInput<'_>]| -> Vec<Tensor> {
        kin.iter()
            .map(|k| Tensor::from(k.value.to_f64_array().mapv(f64::abs)).cast(k.value.dtype()))
            .collect()
    };
    let summed = |op: &Op, n: usize| -> Option<(ArrayD<f64>, f64)> {
        let abs = abs_of(kin);
        let k2: Vec<KernelInput<'_>> =
            abs.iter().zip(kin).map(|(v, k)| KernelInput { value: v, ty: k.ty, name: "" }).collect();
        let m = tl::kernels::eval(op, &k2, out_ty).ok()?.to_f64_array();
        Some((m, ((n + 1) as f64).log2().ceil().max(1.0)))
    };
    let own = |mult: f64| Some((out.to_f64_array().mapv(f64::abs), mult));
    match op {
        Op::Elemwise(s) => match s {
            ScalarOp::Neg
            | ScalarOp::Abs
            | ScalarOp::Maximum
            | ScalarOp::Minimum
            | ScalarOp::Switch
            | ScalarOp::Cast(_)
            | ScalarOp::Second => None,
            _ => own(1.0),
        },
        Op::Reduce { op: ReduceOp::Sum | ReduceOp::Mean, axes, .. } => {
            summed(op, axes.iter().map(|&a| kin[0].value.shape()[a]).product())
        }
        Op::Reduce { op: ReduceOp::Prod, axes, .. } => {
            own(axes.iter().map(|&a| kin[0].value.shape()[a]).product::<usize>().max(1) as f64)
        }
        Op::Dot => summed(op, kin[0].value.shape().last().copied().unwrap_or(1)),
        Op::Softmax { .. } | Op::LogSoftmax { .. } | Op::LogSumExp { .. } => own(2.0),
        _ => None,
    }
}

fn perturb(
    op: &Op,
    kin: &[KernelInput<'_>],
    out_ty: &tl::TensorType,
    out: Tensor,
    rng: &mut Rng,
    sign: f64,
) -> Tensor {
    let Some((m, mult)) = noise_scale(op, kin, out_ty, &out) else { return out };
    let dtype = out.dtype();
    let (eps, tiny) = if dtype == DType::F32 {
        (f32::EPSILON as f64, f32::from_bits(1) as f64)
    } else {
        (f64::EPSILON, f64::from_bits(1))
    };
    let mut v = out.to_f64_array();
    ndarray::Zip::from(&mut v).and(&m).for_each(|x, &m| {
        let j = mult * (0.5 + 1.5 * rng.uniform());
        if x.is_finite() && m.is_finite() && m > 0.0 {
            *x += sign * j * (eps * m).max(tiny);
        }
    });
    Tensor::from(v).cast(dtype)
}

/// Distance of a perturbed value from the plain one: infinite across finite/NaN/±inf.
fn dist(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else if a.is_finite() && b.is_finite() {
        (a - b).abs()
    } else {
        f64::INFINITY
    }
}

/// Per output, the spread of each element under rounding noise.
fn spreads(g: &FunctionGraph, inputs: &[Tensor], seed: u64) -> Option<Vec<ArrayD<f64>>> {
    let plain = eval_nodes(g, inputs, None)?;
    let out = |vals: &[Option<Tensor>], k: usize| {
        vals[g.outputs()[k].index()].as_ref().expect("evaluated").to_f64_array()
    };
    let mut s: Vec<ArrayD<f64>> = (0..g.outputs().len()).map(|k| out(&plain, k).mapv(|_| 0.0)).collect();
    for run in 0..6u64 {
        let sign = if run % 2 == 0 { 1.0 } else { -1.0 };
        let vals = eval_nodes(g, inputs, Some((seed ^ (run / 2 + 1).wrapping_mul(0x9E37_79B9), sign)))?;
        for (k, sk) in s.iter_mut().enumerate() {
            let (p, v) = (out(&plain, k), out(&vals, k));
            ndarray::Zip::from(sk).and(&p).and(&v).for_each(|s, &p, &v| *s = s.max(dist(p, v)));
        }
    }
    Some(s)
}

// ------------------------------------------------------------------------------------------
// Comparison.
// ------------------------------------------------------------------------------------------

fn ulps(a: f64, b: f64, dtype: DType) -> u64 {
    let key = |bits: i64, min: i64| if bits < 0 { min - bits } else { bits };
    let (ka, kb) = if dtype == DType::F32 {
        (
            key((a as f32).to_bits() as i32 as i64, i32::MIN as i64),
            key((b as f32).to_bits() as i32 as i64, i32::MIN as i64),
        )
    } else {
        (key(a.to_bits() as i64, i64::MIN), key(b.to_bits() as i64, i64::MIN))
    };
    (ka as i128 - kb as i128).unsigned_abs().min(u64::MAX as u128) as u64
}

/// True when `a` and `b` agree within the bound (see the module documentation).
fn agree(a: f64, b: f64, spread: f64, dtype: DType) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) || !spread.is_finite() {
        return true;
    }
    a.is_finite() && b.is_finite() && (ulps(a, b, dtype) <= ULP_BOUND || (a - b).abs() <= 4.0 * spread)
}

/// Distance from the reference: infinite for a non-finite value off a finite reference.
fn error(v: f64, r: f64) -> f64 {
    if r.is_infinite() {
        if v == r {
            0.0
        } else {
            f64::INFINITY
        }
    } else if v.is_finite() {
        (v - r).abs()
    } else {
        f64::INFINITY
    }
}

/// The size of one ulp at `r` in `dtype`.
fn ulp_at(r: f64, dtype: DType) -> f64 {
    if dtype == DType::F32 {
        let f = (r as f32).abs();
        (f32::from_bits(f.to_bits() + 1) - f) as f64
    } else {
        let f = r.abs();
        f64::from_bits(f.to_bits() + 1) - f
    }
}

// ------------------------------------------------------------------------------------------
// One case.
// ------------------------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    cases: usize,
    stabilized_elements: usize,
    tainted_references: usize,
    fast_math_exempt: usize,
    grad_cases: usize,
    grad_elements: usize,
    grad_skipped: usize,
}

struct Failure {
    kind: &'static str,
    report: String,
}

fn build(case: &Case, outputs: &[Var], mode: Mode, opt: OptConfig) -> tl::Result<Function> {
    Function::builder(&case.inputs, outputs)
        .mode(mode)
        .optimizer(opt)
        .on_unused_input(OnUnusedInput::Ignore)
        .build()
}

fn unoptimized() -> OptConfig {
    OptConfig { disabled: true, ..OptConfig::default() }
}

fn call(f: &Function, inputs: &[Tensor]) -> tl::Result<Vec<Tensor>> {
    let args: Vec<Arg> = inputs.iter().map(|t| Arg::from(t.clone())).collect();
    f.call(&args)
}

fn fmt_tensor(t: &Tensor) -> String {
    let v: Vec<String> = t.to_f64_vec().iter().map(|x| format!("{x:?}")).collect();
    format!("{} {:?} [{}]", t.dtype(), t.shape(), v.join(", "))
}

/// The reproducer of a case: the unoptimized graph in the text IR and the inputs.
fn reproducer(g: &FunctionGraph, inputs: &[Tensor]) -> String {
    let mut s = format!("{g}");
    for (k, t) in inputs.iter().enumerate() {
        let _ = writeln!(s, "input {k}: {}", fmt_tensor(t));
    }
    s
}

fn run_case(index: u64, seed: u64, ops: usize, stats: &mut Stats) -> Vec<Failure> {
    let mut rng =
        Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let case = generate(&mut rng, ops);
    let header = format!("case {index} (TENSORLIFT_FUZZ_SEED={seed} TENSORLIFT_FUZZ_ONLY={index})");
    let mut fails = Vec::new();
    let mut fail = |kind: &'static str, report: String| {
        fails.push(Failure { kind, report: format!("{header}: {report}") })
    };
    for o in &case.outputs {
        if let Err(e) = o.check() {
            fail("builder error", format!("{e}"));
            return fails;
        }
    }
    let g = FunctionGraph::from_vars(&case.inputs, &case.outputs).expect("checked vars make a graph");
    let inputs = draw_inputs(&mut rng, &case);
    let repro = reproducer(&g, &inputs);
    let fast = chance(&mut rng, 0.2);
    let opt = if fast { OptConfig::fast_math() } else { OptConfig::default() };
    let (jit, interp, plain) = (
        build(&case, &case.outputs, Mode::Jit, opt.clone()),
        build(&case, &case.outputs, Mode::Interp, opt.clone()),
        build(&case, &case.outputs, Mode::Interp, unoptimized()),
    );
    let (jit, interp, plain) = match (jit, interp, plain) {
        (Ok(j), Ok(i), Ok(p)) => (j, i, p),
        (j, i, p) => {
            let e = |r: &tl::Result<Function>| r.as_ref().err().map(|e| e.to_string());
            fail("compile error", format!("jit {:?}, interp {:?}, plain {:?}\n{repro}", e(&j), e(&i), e(&p)));
            return fails;
        }
    };
    let fired = interp.rewrite_trace().rules();
    let results = (call(&jit, &inputs), call(&interp, &inputs), call(&plain, &inputs));
    let (rj, ri, rp) = match results {
        (Ok(j), Ok(i), Ok(p)) => (j, i, p),
        (j, i, p) => {
            let e = |r: &tl::Result<Vec<Tensor>>| r.as_ref().err().map(|e| e.to_string());
            fail("call error", format!("jit {:?}, interp {:?}, plain {:?}\n{repro}", e(&j), e(&i), e(&p)));
            return fails;
        }
    };
    stats.cases += 1;
    let mut spread = spreads(&g, &inputs, seed ^ index)
        .unwrap_or_else(|| rp.iter().map(|t| t.to_f64_array().mapv(|_| 0.0)).collect());
    // The optimized graph before fusion: the ops the JIT runs, one node each.
    let unfused = build(
        &case,
        &case.outputs,
        Mode::Interp,
        opt.clone().skipping(Phase::Fusion).skipping(Phase::MultiOutput),
    );
    if let Some(s2) = unfused.ok().and_then(|f| {
        let og = f.optimized_graph();
        let names: Vec<_> = case.inputs.iter().map(|v| v.name()).collect();
        let same_inputs = og.inputs().iter().map(|&i| og.name(i)).eq(names.iter().map(|n| n.as_deref()));
        if same_inputs {
            spreads(og, &inputs, seed ^ index ^ 1)
        } else {
            None
        }
    }) {
        for (a, b) in spread.iter_mut().zip(&s2) {
            ndarray::Zip::from(a).and(b).for_each(|a, &b| *a = a.max(b));
        }
    }
    // Under `fast_math` every rule may take its fast form (`local_sum_of_scalar_mul` with an
    // infinite factor), not only the rules marked `fast_math`.
    let special = fast
        || interp.rewrite_trace().entries.iter().any(|e| {
            e.phase == Phase::Stabilize || fast_math_rule(e.rule) || MOVES_CONSTANTS.contains(&e.rule)
        });
    let mut dd = None;
    let plain_vals = eval_nodes(&g, &inputs, None);
    let any_value = |pred: &dyn Fn(f64) -> bool| {
        plain_vals.as_ref().is_none_or(|vals| {
            vals.iter().flatten().any(|t| t.dtype().is_float() && t.to_f64_vec().into_iter().any(pred))
        })
    };
    let plain_non_finite = any_value(&|v| !v.is_finite());
    // Under `fast_math` the canonizers regroup every nested sum and product, as Theano does
    // (README): cancellation can then be lost (`a + (s - s)` as `(a + s) - s`), so a case
    // where one fired is exempt like one with special values.
    let regrouped = fast && fired.iter().any(|r| REGROUPS_UNDER_FAST_MATH.contains(r));
    let special_values =
        regrouped || (fast && any_value(&|v| !v.is_finite() || (v == 0.0 && v.is_sign_negative())));
    let trace = format!("rules fired: {}", fired.join(", "));
    for k in 0..case.outputs.len() {
        let (j, i, p) = (&rj[k], &ri[k], &rp[k]);
        if j.shape() != p.shape()
            || i.shape() != p.shape()
            || j.dtype() != p.dtype()
            || i.dtype() != p.dtype()
        {
            fail(
                "shape or dtype",
                format!(
                    "output {k}: jit {}, interp {}, plain {}\n{repro}",
                    fmt_tensor(j),
                    fmt_tensor(i),
                    fmt_tensor(p)
                ),
            );
            continue;
        }
        let (jv, iv, pv) = (j.to_f64_vec(), i.to_f64_vec(), p.to_f64_vec());
        let sv: Vec<f64> = spread[k].iter().copied().collect();
        let mut bad_ji = Vec::new();
        let mut bad_op = Vec::new();
        for e in 0..pv.len() {
            if !agree(jv[e], iv[e], sv[e], case.dtype) {
                bad_ji.push(format!("  [{e}] jit {:?} interp {:?} (spread {:e})", jv[e], iv[e], sv[e]));
            }
            if agree(iv[e], pv[e], sv[e], case.dtype) {
                continue;
            }
            if !special {
                bad_op.push(format!(
                    "  [{e}] optimized {:?} unoptimized {:?} (spread {:e})",
                    iv[e], pv[e], sv[e]
                ));
                continue;
            }
            if fast && special_values {
                // `fast_math` changes results where values are ±inf, NaN or -0.0 (README).
                stats.fast_math_exempt += 1;
                continue;
            }
            stats.stabilized_elements += 1;
            let reference = dd.get_or_insert_with(|| eval_graph(&g, &inputs));
            let Some(reference) = reference else {
                bad_op.push(format!(
                    "  [{e}] optimized {:?} unoptimized {:?}: no double-double reference",
                    iv[e], pv[e]
                ));
                continue;
            };
            let r = reference.outputs[k].0.iter().nth(e).expect("same shape").to_f64();
            let ok = if reference.tainted {
                stats.tainted_references += 1;
                !pv[e].is_finite() || plain_non_finite
            } else {
                r.is_nan()
                    || error(iv[e], r)
                        <= error(pv[e], r) + ULP_BOUND as f64 * ulp_at(r, case.dtype) + 4.0 * sv[e]
            };
            if !ok {
                bad_op.push(format!(
                    "  [{e}] optimized {:?} unoptimized {:?} double-double {:?}{} (spread {:e})",
                    iv[e],
                    pv[e],
                    r,
                    if reference.tainted { " (tainted)" } else { "" },
                    sv[e]
                ));
            }
        }
        if !bad_ji.is_empty() {
            fail("jit vs interpreter", format!("output {k}:\n{}\n{trace}\n{repro}", bad_ji.join("\n")));
        }
        if !bad_op.is_empty() {
            let what = if fast { " (fast_math)" } else { "" };
            fail(
                "optimized vs unoptimized",
                format!("output {k}{what}:\n{}\n{trace}\n{repro}", bad_op.join("\n")),
            );
        }
    }
    if case.dtype == DType::F64 && chance(&mut rng, 0.5) {
        check_grad(&case, &g, &mut rng, stats, &mut fail);
    }
    fails
}

/// Rules that move a constant factor across a reduction (`sum(c * x)` → `c * sum(x)`): the
/// README documents that this can change, at the very edge of the float range, whether a
/// partial result overflows, so they are judged as stabilize rules are (no less accurate).
const MOVES_CONSTANTS: &[&str] = &["local_sum_of_scalar_mul"];

/// The rules that regroup non-constant terms under `fast_math` (README, "fast_math").
const REGROUPS_UNDER_FAST_MATH: &[&str] = &["local_add_canonizer", "local_mul_canonizer", "local_mul_to_sqr"];

fn fast_math_rule(name: &str) -> bool {
    tensorlift_opt::all_rules().any(|(_, r)| r.fast_math && r.name == name)
}

// ------------------------------------------------------------------------------------------
// Gradient against finite differences.
// ------------------------------------------------------------------------------------------

fn check_grad(
    case: &Case,
    g: &FunctionGraph,
    rng: &mut Rng,
    stats: &mut Stats,
    fail: &mut impl FnMut(&'static str, String),
) {
    let point = smooth_inputs(rng, case);
    let Some(vals) = eval_nodes(g, &point, None) else { return };
    let value_of = |id: tl::NodeId| vals[id.index()].as_ref().map(|t| t.to_f64_vec()).unwrap_or_default();
    let skip = g.ids().any(|id| {
        let n = g.node(id);
        match n.op {
            // `pow(0, c)` for `c < 1` and `sqrt(0)` are singular points, not smooth ones: an
            // infinite derivative for `0 < c < 1` or `c < 0` (inf·0 = NaN through
            // `sqrt(x - x)`), and Theano's `0 * 0**-1` = NaN at `c = 0`.
            Op::Elemwise(ScalarOp::Pow) => {
                let c = value_of(n.inputs[1]);
                value_of(n.inputs[0]).contains(&0.0) && c.iter().any(|&c| c < 1.0)
            }
            Op::Elemwise(ScalarOp::Sqrt) => value_of(n.inputs[0]).contains(&0.0),
            // Theano's gradient of a maximum or minimum gives each tied element the whole
            // gradient: a tie is not a smooth point.
            Op::Reduce { op: ReduceOp::Max | ReduceOp::Min, .. } => {
                let mut v = value_of(n.inputs[0]);
                v.sort_by(f64::total_cmp);
                v.windows(2).any(|w| w[0] == w[1])
            }
            Op::Elemwise(ScalarOp::Maximum | ScalarOp::Minimum) => {
                let (a, b) = (value_of(n.inputs[0]), value_of(n.inputs[1]));
                a.iter().any(|x| b.contains(x))
            }
            _ => false,
        }
    });
    // The chain rule through an infinite or NaN intermediate (`log(x - x)`, a row of a
    // `prod` that `sqrt` makes NaN and indexing drops) gives NaN where the cost is smooth.
    // Nor through values whose squares overflow or underflow, as derivative formulas form
    // them (`d(1/u) = -du/u²` is -inf for `u = 1e-300·x`, where the derivative is -1e300/x²).
    let outside = |v: f64| !v.is_finite() || (v != 0.0 && !(1e-150..1e150).contains(&v.abs()));
    let non_finite =
        vals.iter().flatten().any(|t| t.dtype().is_float() && t.to_f64_vec().into_iter().any(outside));
    if skip || non_finite {
        return;
    }
    let cost = case.outputs.iter().map(tl::sum).reduce(|a, b| tl::add(&a, &b)).expect("an output");
    let Ok(grads) = tl::grad(&cost, &case.inputs) else { return };
    let repro = reproducer(g, &point);
    let built = (
        build(case, &grads, Mode::Jit, OptConfig::default()),
        build(case, std::slice::from_ref(&cost), Mode::Interp, unoptimized()),
    );
    let (gf, cf) = match built {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            fail(
                "grad compile error",
                format!("{:?} {:?}\n{repro}", a.err().map(|e| e.to_string()), b.err().map(|e| e.to_string())),
            );
            return;
        }
    };
    let f = |x: &[Tensor]| -> f64 { call(&cf, x).ok().and_then(|v| v[0].to_f64().ok()).unwrap_or(f64::NAN) };
    let f0 = f(&point);
    // The cost's own rounding noise (its spread, as for the values), which finite
    // differences divide by the step.
    let cost_graph = FunctionGraph::from_vars(&case.inputs, std::slice::from_ref(&cost)).expect("checked");
    let cost_spread =
        spreads(&cost_graph, &point, 7).map_or(f64::INFINITY, |s| s[0].iter().copied().fold(0.0, f64::max));
    let analytic = match call(&gf, &point) {
        Ok(v) => v,
        Err(e) => {
            if f0.is_finite() {
                fail("grad call error", format!("{e}\n{repro}"));
            }
            return;
        }
    };
    if !f0.is_finite() {
        return;
    }
    stats.grad_cases += 1;
    let mut bad = Vec::new();
    for (i, t) in point.iter().enumerate() {
        let base = t.to_f64_vec();
        let an = analytic[i].to_f64_vec();
        for e in 0..base.len() {
            let at = |dx: f64| {
                let mut p = point.clone();
                let mut v = base.clone();
                v[e] += dx;
                p[i] = tensor(v, t.shape(), DType::F64);
                f(&p)
            };
            let h = 1e-5 * base[e].abs().max(1.0);
            let (fp, fm, fp2, fm2) = (at(h), at(-h), at(h / 2.0), at(-h / 2.0));
            let n1 = (fp - fm) / (2.0 * h);
            let n2 = (fp2 - fm2) / h;
            let noise = (100.0 * f64::EPSILON * (1.0 + f0.abs())).max(4.0 * cost_spread) / h;
            let a = an[e];
            let ill = noise > 1e-4 * a.abs().max(n1.abs()).max(1.0);
            if ill
                || !(n1.is_finite() && n2.is_finite())
                || (n1 - n2).abs() > 1e-5 * (n1.abs() + n2.abs()) + noise
            {
                stats.grad_skipped += 1;
                continue;
            }
            stats.grad_elements += 1;
            let r = (4.0 * n2 - n1) / 3.0;
            if !(a.is_finite()
                && (a - r).abs() <= 1e-5 * (a.abs() + r.abs()) + noise + 10.0 * (n1 - n2).abs())
            {
                bad.push(format!(
                    "  input {i} [{e}]: grad {a:?}, finite differences {r:?} (h {h:e}: {n1:?}, h/2: {n2:?})"
                ));
            }
        }
    }
    if !bad.is_empty() {
        fail(
            "gradient vs finite differences",
            format!("cost = sum of the outputs\n{}\n{repro}", bad.join("\n")),
        );
    }
}

// ------------------------------------------------------------------------------------------
// The test.
// ------------------------------------------------------------------------------------------

#[test]
fn differential_fuzz() {
    let cases = env_u64("TENSORLIFT_FUZZ_CASES", 2000);
    let seed = env_u64("TENSORLIFT_FUZZ_SEED", 12);
    let ops = env_u64("TENSORLIFT_FUZZ_OPS", 6) as usize;
    let only = std::env::var("TENSORLIFT_FUZZ_ONLY").ok().and_then(|v| v.parse::<u64>().ok());
    let range: Vec<u64> = match only {
        Some(k) => vec![k],
        None => (0..cases).collect(),
    };
    let mut stats = Stats::default();
    let mut fails: Vec<Failure> = Vec::new();
    let start = std::time::Instant::now();
    for k in range {
        let r = catch_unwind(AssertUnwindSafe(|| run_case(k, seed, ops, &mut stats)));
        match r {
            Ok(f) => fails.extend(f),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                fails.push(Failure {
                    kind: "panic",
                    report: format!(
                        "case {k} (TENSORLIFT_FUZZ_SEED={seed} TENSORLIFT_FUZZ_ONLY={k}) panicked: {msg}"
                    ),
                });
            }
        }
    }
    println!(
        "fuzz_diff: {} cases ({} ops each, seed {seed}) in {:.1} s; {} elements judged against double-double ({} with a \
         tainted reference), {} fast_math elements exempt; gradient: {} cases, {} elements checked, {} skipped as not smooth; {} failures",
        stats.cases,
        ops,
        start.elapsed().as_secs_f64(),
        stats.stabilized_elements,
        stats.tainted_references,
        stats.fast_math_exempt,
        stats.grad_cases,
        stats.grad_elements,
        stats.grad_skipped,
        fails.len()
    );
    if fails.is_empty() {
        return;
    }
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &fails {
        *by_kind.entry(f.kind).or_default() += 1;
    }
    let mut msg = String::new();
    for f in fails.iter().take(12) {
        let _ = writeln!(msg, "--- {}: {}", f.kind, f.report);
    }
    panic!("{msg}{} failing cases: {by_kind:?}", fails.len());
}
