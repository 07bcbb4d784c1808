//! Reverse-mode differentiation on the symbolic graph: `grad` returns graph, so a gradient
//! prints, optimizes, compiles and differentiates again like any expression.
//!
//! The driver walks the cost's graph once in reverse topological order, summing the
//! contributions that reach each variable and asking each op's vector-Jacobian product
//! (`rules::vjp`) for the contributions to its inputs. `jacobian` and `hessian` are built on
//! `grad`.

mod rules;
mod scan;

use crate::build::apply_inner;
use crate::build::elemwise::{elemwise_inner, Term};
use crate::dtype::DType;
use crate::error::BuildError;
use crate::op::{Barrier, Op, ScalarOp};
use crate::types::TensorType;
use crate::var::Var;
use std::collections::{HashMap, HashSet};

/// What `grad` does with a `wrt` variable the cost does not depend on (or an integer one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Disconnected {
    /// Report an error naming the variable (Theano's `disconnected_inputs='raise'`).
    #[default]
    Raise,
    /// Return zeros of the variable's shape.
    Zero,
}

/// Options of `grad_with`, as in Theano's `grad`.
#[derive(Clone, Debug, Default)]
pub struct GradOptions {
    /// Expressions treated as constants: no gradient flows through them.
    pub consider_constant: Vec<Var>,
    /// What to do with disconnected or integer `wrt` variables.
    pub disconnected: Disconnected,
    /// Gradients injected for intermediate variables: `(variable, its gradient)`.
    pub known_grads: Vec<(Var, Var)>,
}

/// Why a gradient could not be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GradError {
    /// The cost is not 0-d.
    #[error("grad: the cost must be a 0-d tensor, got {ty} (take its sum or mean first)")]
    NonScalarCost {
        /// The cost's type.
        ty: TensorType,
    },
    /// The cost is not a float.
    #[error("grad: the cost must be a float tensor, got {ty}")]
    NonFloatCost {
        /// The cost's type.
        ty: TensorType,
    },
    /// The cost does not depend on a `wrt` variable.
    #[error("grad: the cost does not depend on {name}; pass Disconnected::Zero to get zeros")]
    Disconnected {
        /// The variable's name.
        name: String,
    },
    /// A `wrt` variable of integer or bool dtype.
    #[error(
        "grad: {name} has dtype {dtype}: integer inputs have no gradient (Disconnected::Zero gives zeros)"
    )]
    IntegerWrt {
        /// The variable's name.
        name: String,
        /// Its dtype.
        dtype: DType,
    },
    /// A gradient of a size known only at run time where a static one is needed.
    #[error("{op}: {reason}")]
    Unsupported {
        /// `jacobian` or `hessian`.
        op: String,
        /// Why.
        reason: String,
    },
    /// A type error in the graph (the cost's own, or one found building the gradient).
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// What `grad` differentiates with respect to: one variable (the gradient is a `Var`) or a
/// list of them (a slice, array or `Vec` of `Var`s or `&Var`s; the gradients are a
/// `Vec<Var>` in the same order), as Theano's `T.grad` takes one variable or a list.
pub trait Wrt {
    /// `Var` for one variable, `Vec<Var>` for a list.
    type Output;
    /// The gradient of `cost` with respect to these variables, with `opts`.
    fn grad_of(&self, cost: &Var, opts: &GradOptions) -> Result<Self::Output, GradError>;
}

impl Wrt for Var {
    type Output = Var;
    fn grad_of(&self, cost: &Var, opts: &GradOptions) -> Result<Var, GradError> {
        Ok(grad_with(cost, std::slice::from_ref(self), opts)?.remove(0))
    }
}

impl<W: AsRef<Var>> Wrt for [W] {
    type Output = Vec<Var>;
    fn grad_of(&self, cost: &Var, opts: &GradOptions) -> Result<Vec<Var>, GradError> {
        grad_with(cost, self, opts)
    }
}

impl<W: AsRef<Var>, const N: usize> Wrt for [W; N] {
    type Output = Vec<Var>;
    fn grad_of(&self, cost: &Var, opts: &GradOptions) -> Result<Vec<Var>, GradError> {
        grad_with(cost, self, opts)
    }
}

impl<W: AsRef<Var>> Wrt for Vec<W> {
    type Output = Vec<Var>;
    fn grad_of(&self, cost: &Var, opts: &GradOptions) -> Result<Vec<Var>, GradError> {
        grad_with(cost, self, opts)
    }
}

impl<T: Wrt + ?Sized> Wrt for &T {
    type Output = T::Output;
    fn grad_of(&self, cost: &Var, opts: &GradOptions) -> Result<T::Output, GradError> {
        (**self).grad_of(cost, opts)
    }
}

/// The gradient of a 0-d float `cost` (reverse mode) with respect to one variable — a
/// `Var` of its type — or to each of a list — a `Vec<Var>`, one per variable:
///
/// ```
/// use tensorlift_ir as tl;
/// let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
/// let z = (&x * &y).pow(2);
/// let gx: tl::Var = tl::grad(&z, &x).unwrap();
/// let gs: Vec<tl::Var> = tl::grad(&z, &[&x, &y]).unwrap();
/// assert_eq!((gx.ndim(), gs.len()), (0, 2));
/// ```
pub fn grad<W: Wrt + ?Sized>(cost: &Var, wrt: &W) -> Result<W::Output, GradError> {
    wrt.grad_of(cost, &GradOptions::default())
}

/// The gradient of `cost` with respect to one variable: the same as `grad(cost, wrt)` with
/// one variable, kept for the code written before `grad` took either.
pub fn grad1(cost: &Var, wrt: &Var) -> Result<Var, GradError> {
    grad(cost, wrt)
}

/// Theano's `zero_grad(x)`: `x`, whose gradient is zero (no gradient flows back through
/// it, and what reaches it only through it gets zeros). The optimizer removes it.
#[track_caller]
pub fn zero_grad(x: impl AsRef<Var>) -> Var {
    crate::build::apply(Op::GradBarrier(Barrier::Zero), vec![x.as_ref().clone()])
}

/// Theano's `disconnected_grad(x)`: `x`, disconnected from the gradient (what reaches it only
/// through it is disconnected from the cost: an error unless `Disconnected::Zero`). The
/// optimizer removes it.
#[track_caller]
pub fn disconnected_grad(x: impl AsRef<Var>) -> Var {
    crate::build::apply(Op::GradBarrier(Barrier::Disconnected), vec![x.as_ref().clone()])
}

/// `grad` with Theano's options: `consider_constant`, `disconnected`, `known_grads`.
pub fn grad_with<W: AsRef<Var>>(cost: &Var, wrt: &[W], opts: &GradOptions) -> Result<Vec<Var>, GradError> {
    let wrt: Vec<Var> = wrt.iter().map(|w| w.as_ref().clone()).collect();
    cost.check()?;
    for v in wrt.iter().chain(&opts.consider_constant) {
        v.check()?;
    }
    if cost.ndim() != 0 {
        return Err(GradError::NonScalarCost { ty: cost.ty().clone() });
    }
    if !cost.dtype().is_float() {
        return Err(GradError::NonFloatCost { ty: cost.ty().clone() });
    }
    let constant: HashSet<usize> = opts.consider_constant.iter().map(Var::key).collect();
    let seed = crate::build::leaf::constant(crate::Tensor::scalar_of(cost.dtype(), 1.0));
    for (v, g) in &opts.known_grads {
        v.check()?;
        g.check()?;
    }
    backprop(&[(cost.clone(), seed)], &opts.known_grads, &wrt, &constant, opts.disconnected)
}

/// Reverse mode from several seeds: `seeds` are `(variable, gradient)` pairs whose gradients
/// add to what the others contribute to the variable; `known` gradients replace what would
/// reach their variable (Theano's `known_grads`). Nodes in `constant` pass no gradient on.
/// Returns the gradient of each `wrt` variable.
pub(crate) fn backprop(
    seeds: &[(Var, Var)],
    known_grads: &[(Var, Var)],
    wrt: &[Var],
    constant: &HashSet<usize>,
    disconnected: Disconnected,
) -> Result<Vec<Var>, GradError> {
    let wrt_keys: HashSet<usize> = wrt.iter().map(Var::key).collect();

    // Topological order of the graphs of the seeds and of the variables with known
    // gradients; considered-constant nodes are leaves.
    let roots: Vec<Var> = seeds.iter().chain(known_grads).map(|(v, _)| v.clone()).collect();
    let order = topo(&roots, constant);
    let mut connected: HashSet<usize> = HashSet::new();
    for v in &order {
        let through_inputs =
            !constant.contains(&v.key()) && v.inputs().iter().any(|i| connected.contains(&i.key()));
        if wrt_keys.contains(&v.key()) || through_inputs {
            connected.insert(v.key());
        }
    }

    let mut contribs: HashMap<usize, Vec<Var>> = HashMap::new();
    for (v, g) in seeds {
        contribs.entry(v.key()).or_default().push(g.clone());
    }
    // A known gradient replaces what the cost would contribute to its variable (Theano).
    let mut known: HashSet<usize> = HashSet::new();
    for (v, g) in known_grads {
        known.insert(v.key());
        contribs.insert(v.key(), vec![g.clone()]);
    }
    // The gradients of a scan's outputs, by scan node, gathered until the scan is reached.
    let mut scan_grads: HashMap<usize, Vec<(usize, Var)>> = HashMap::new();
    let mut totals: HashMap<usize, Var> = HashMap::new();
    for v in order.iter().rev() {
        if !connected.contains(&v.key()) {
            continue;
        }
        let needed: Vec<bool> = v.inputs().iter().map(|i| connected.contains(&i.key())).collect();
        let input_grads = if let Op::Scan(info) = v.op() {
            let Some(outs) = scan_grads.remove(&v.key()) else { continue };
            if constant.contains(&v.key()) {
                continue;
            }
            scan::vjp(v, info, outs, &needed)?
        } else {
            let Some(parts) = contribs.remove(&v.key()) else { continue };
            let g = sum_parts(parts)?;
            totals.insert(v.key(), g.clone());
            if v.op().is_leaf() || constant.contains(&v.key()) {
                continue;
            }
            if let Op::ScanOutput { index, .. } = v.op() {
                scan_grads.entry(v.inputs()[0].key()).or_default().push((*index, g));
                continue;
            }
            rules::vjp(v, &g, &needed)?
        };
        for ((input, gi), need) in v.inputs().iter().zip(input_grads).zip(needed) {
            if let (Some(gi), true) = (gi, need) {
                if input.dtype().is_float() && !known.contains(&input.key()) {
                    contribs.entry(input.key()).or_default().push(gi);
                }
            }
        }
    }

    wrt.iter()
        .map(|w| {
            if !w.dtype().is_float() {
                return match disconnected {
                    Disconnected::Raise => {
                        Err(GradError::IntegerWrt { name: w.describe(), dtype: w.dtype() })
                    }
                    Disconnected::Zero => Ok(zeros_like(w)?),
                };
            }
            // `get`, not `remove`: a variable listed twice in `wrt` gets its gradient twice.
            match totals.get(&w.key()) {
                // A gradient that reads no variable (that of a linear cost) is still written
                // over `w`, as Theano's is over the cost: the function computing it has `w`
                // as a used input.
                Some(g) if !reads_variable(g) => {
                    Ok(apply_inner(Op::Elemwise(ScalarOp::Second), vec![w.clone(), fit(g.clone(), w.ty())?])?)
                }
                Some(g) => Ok(fit(g.clone(), w.ty())?),
                None if connected.contains(&w.key()) => Ok(zeros_like(w)?),
                None => match disconnected {
                    Disconnected::Raise => Err(GradError::Disconnected { name: w.describe() }),
                    Disconnected::Zero => Ok(zeros_like(w)?),
                },
            }
        })
        .collect()
}

/// True when `g` reads an input, a shared variable or a random draw (is not a constant
/// expression).
fn reads_variable(g: &Var) -> bool {
    topo(std::slice::from_ref(g), &HashSet::new())
        .iter()
        .any(|v| matches!(v.op(), Op::Input | Op::Shared(_) | Op::Random(_)))
}

/// Nodes reachable from `roots` (not through `stop`, nor through `disconnected_grad` or a
/// random draw), each
/// after its inputs.
fn topo(roots: &[Var], stop: &HashSet<usize>) -> Vec<Var> {
    // Random draws disconnect their inputs too (see `GradKind::Disconnected`).
    crate::var::post_order(roots, |v| {
        !stop.contains(&v.key()) && *v.op() != Op::GradBarrier(Barrier::Disconnected) && !v.op().is_random()
    })
}

/// The sum of the gradient contributions reaching one variable.
fn sum_parts(mut parts: Vec<Var>) -> Result<Var, BuildError> {
    if parts.len() == 1 {
        return Ok(parts.pop().expect("one part"));
    }
    let ndim = parts.iter().map(Var::ndim).max().unwrap_or(0);
    let parts = parts
        .into_iter()
        .map(|p| crate::build::elemwise::pad_rank(p, ndim))
        .collect::<Result<Vec<_>, _>>()?;
    apply_inner(Op::Elemwise(ScalarOp::Add), parts)
}

/// Zeros of `x`'s shape and dtype: `fill(x, 0)`.
pub(crate) fn zeros_like(x: &Var) -> Result<Var, BuildError> {
    let zero = crate::build::leaf::constant(crate::Tensor::full(x.dtype(), &vec![1; x.ndim()], 0.0));
    apply_inner(Op::Elemwise(ScalarOp::Second), vec![x.clone(), zero])
}

/// `g` summed over the axes where `ty` broadcasts and `g` does not, and over leading extra
/// axes, then cast to `ty`'s dtype: the gradient of an input that was broadcast.
pub(crate) fn fit(g: Var, ty: &TensorType) -> Result<Var, BuildError> {
    let mut g = g;
    if g.ndim() > ty.ndim() {
        let lead: Vec<usize> = (0..g.ndim() - ty.ndim()).collect();
        g = apply_inner(Op::Reduce { op: crate::op::ReduceOp::Sum, axes: lead, keepdims: false }, vec![g])?;
    }
    let axes: Vec<usize> =
        (0..ty.ndim()).filter(|&a| ty.shape[a] == Some(1) && g.ty().shape[a] != Some(1)).collect();
    if !axes.is_empty() {
        g = apply_inner(Op::Reduce { op: crate::op::ReduceOp::Sum, axes, keepdims: true }, vec![g])?;
    }
    if g.dtype() != ty.dtype {
        g = elemwise_inner(ScalarOp::Cast(ty.dtype), vec![Term::Var(g)])?;
    }
    Ok(g)
}

/// The most elements of an expression whose `jacobian` is built as one gradient graph per
/// element (straight-line code); a larger expression, or one whose shape is known only at
/// run time, gets a loop over its elements (`scan`, Theano's way).
pub const UNROLLED_JACOBIAN_ROWS: usize = 64;

/// The Jacobian as a loop: row `i` is the gradient of element `i` of the flattened
/// expression, computed by a scan over `arange(size)`.
fn jacobian_by_scan(expr: &Var, wrt: &Var) -> Result<Var, GradError> {
    use crate::build::shape::{reshape, shape_i, ReshapeLen};
    let flat = reshape(expr, &[ReshapeLen::Fixed(-1)]).checked()?;
    let size = shape_i(&flat, 0);
    let rows = crate::build::scan::Scan::new()
        .sequences([crate::build::shape::arange((0, &size, 1))])
        .name("jacobian")
        .try_build(|i| -> Result<crate::build::scan::Step, GradError> {
            let e = crate::build::index::try_subtensor(&flat, &[crate::Index::AtVar(i[0].clone())])?;
            let opts = GradOptions { disconnected: Disconnected::Zero, ..GradOptions::default() };
            Ok(grad_with(&e, std::slice::from_ref(wrt), &opts)?.remove(0).into())
        })?
        .outputs
        .remove(0);
    if expr.ndim() == 1 {
        return Ok(rows);
    }
    let mut target: Vec<ReshapeLen> = (0..expr.ndim()).map(|k| shape_i(expr, k as isize).into()).collect();
    target.extend((0..wrt.ndim()).map(|k| ReshapeLen::from(shape_i(wrt, k as isize))));
    Ok(reshape(&rows, &target).checked()?)
}

/// The Jacobian of `expr` with respect to `wrt`: shape `expr.shape + wrt.shape`.
///
/// An expression of a static shape with at most [`UNROLLED_JACOBIAN_ROWS`] elements gets
/// one `grad` per element (straight-line code, fused like any graph); any other — larger,
/// or of lengths known only at run time — a loop over its elements (`scan`, as Theano's
/// `jacobian`), whose step is the gradient of one element.
pub fn jacobian(expr: &Var, wrt: &Var) -> Result<Var, GradError> {
    expr.check()?;
    wrt.check()?;
    let static_rows = expr
        .ty()
        .shape
        .iter()
        .copied()
        .collect::<Option<Vec<usize>>>()
        .and_then(|shape| Some((crate::op::checked_product(shape.iter().copied())?, shape)))
        .filter(|&(n, _)| n <= UNROLLED_JACOBIAN_ROWS);
    let Some((n, shape)) = static_rows else {
        return jacobian_by_scan(expr, wrt);
    };
    let flat = if expr.ndim() == 1 {
        expr.clone()
    } else {
        apply_inner(Op::Reshape { shape: vec![crate::op::ReshapeDim::Infer] }, vec![expr.clone()])?
    };
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let e = if expr.ndim() == 0 {
            expr.clone()
        } else {
            crate::build::index::try_subtensor(&flat, &[crate::Index::At(i as isize)])?
        };
        let opts = GradOptions { disconnected: Disconnected::Zero, ..GradOptions::default() };
        rows.push(grad_with(&e, std::slice::from_ref(wrt), &opts)?.remove(0));
    }
    if expr.ndim() == 0 {
        return Ok(rows.remove(0));
    }
    let stacked = crate::build::shape::stack(&rows, 0).checked()?;
    let mut target: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    target.extend(wrt.ty().shape.iter().map(|d| d.map_or(-1, |d| d as isize)));
    if target.iter().filter(|&&d| d == -1).count() > 1 {
        return Ok(stacked); // wrt of several unknown lengths: stay (n, *wrt.shape)
    }
    Ok(stacked.reshape(&target).checked()?)
}

/// The Hessian of a 0-d `cost` with respect to a vector `wrt`: the Jacobian of its
/// gradient (see `jacobian`).
pub fn hessian(cost: &Var, wrt: &Var) -> Result<Var, GradError> {
    let g = grad(cost, wrt)?;
    jacobian(&g, wrt)
}
