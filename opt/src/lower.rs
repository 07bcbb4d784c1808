//! Lowering, the last phase: every kernel the executor runs natively is a node the optimizer
//! made, so the executor never builds a program itself.
//!
//! - `local_scalar_graph_composite`: a graph whose every node is a 0-d float input, constant
//!   or elementwise op (composites included) becomes one `Composite` reading the graph's
//!   inputs, its constants inlined, computing every output in one call; the outputs after
//!   the first are `CompositeOutput`s of it (Theano's `f(2.0)` on `dscalar`s).
//! - `local_elemwise_composite`: a float elementwise op left alone by fusion becomes a
//!   one-op `Composite` over the same inputs (constants stay inputs, so the graph reads as
//!   before; `pp` prints such a composite as the op). An op with an integer or bool operand
//!   or result stays as it is: native kernels compute in floats only.
//! - `local_reduce_native`: a float reduction (`sum mean prod max min`) whose input fusion
//!   could not take becomes a `FusedReduce` whose body returns its one input, so the native
//!   fused reduction runs it.

use crate::engine::Rule;
use crate::fusion::inline;
use crate::pattern::Rw;
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;
use tensorlift_ir::{DType, NodeId, Op, ReduceOp, ScalarArgs, ScalarProgramBuilder, ScalarValue};

/// The rules of the phase, in the order they are tried.
pub static RULES: &[Rule] = &[
    Rule { name: "local_scalar_graph_composite", fast_math: false, apply: scalar_graph_composite },
    Rule { name: "local_elemwise_composite", fast_math: false, apply: elemwise_composite },
    Rule { name: "local_reduce_native", fast_math: false, apply: reduce_native },
];

fn is_float(d: DType) -> bool {
    matches!(d, DType::F32 | DType::F64)
}

/// True when every node of the graph is a 0-d float leaf or elementwise node, one of them an
/// input or shared variable, and some output is computed: the graph is one scalar program
/// (computed once per phase).
fn scalar_graph(rw: &Rw<'_>) -> bool {
    if let Some(known) = rw.scratch.borrow().scalar_graph {
        return known;
    }
    let g = &*rw.g;
    let order = g.toposort();
    let all = order.iter().all(|&id| {
        let ty = g.ty(id);
        ty.ndim() == 0
            && is_float(ty.dtype)
            && matches!(
                g.node(id).op,
                Op::Input
                    | Op::Shared(_)
                    | Op::Constant(_)
                    | Op::Elemwise(_)
                    | Op::Composite(_)
                    | Op::CompositeOutput { .. }
            )
    });
    // A program reads something: constants alone are folded, not lowered as one.
    let reads = order.iter().any(|&id| matches!(g.node(id).op, Op::Input | Op::Shared(_)));
    let computed = g.outputs().iter().any(|&o| !g.node(o).op.is_leaf());
    let known = all && reads && computed;
    rw.scratch.borrow_mut().scalar_graph = Some(known);
    known
}

/// The whole 0-d graph → one composite, at its first computed output (left alone when it
/// is one already: a composite reading leaves only, every other computed node a projection
/// of it).
fn scalar_graph_composite(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let first = rw.g.outputs().iter().copied().find(|&o| !rw.op(o).is_leaf())?;
    if id != first || !scalar_graph(rw) {
        return None;
    }
    let order = rw.g.toposort();
    let lowered = matches!(rw.op(id), Op::Composite(_))
        && rw.inputs(id).iter().all(|&i| matches!(rw.op(i), Op::Input | Op::Shared(_)))
        && order.iter().all(|&n| {
            n == id
                || rw.op(n).is_leaf()
                || matches!(rw.op(n), Op::CompositeOutput { .. }) && rw.inputs(n)[0] == id
        });
    if lowered {
        return None;
    }
    let mut b = ScalarProgramBuilder::with_capacity(order.len());
    let mut value: Vec<Option<ScalarValue>> = vec![None; rw.g.len()];
    // Every output value of each composite, by node.
    let mut outs_of: Vec<Option<Vec<ScalarValue>>> = vec![None; rw.g.len()];
    let mut inputs = Vec::new();
    let mut consts = HashMap::default();
    for &n in &order {
        let args = || rw.node(n).inputs.iter().map(|i| value[i.index()]).collect::<Option<ScalarArgs>>();
        let v = match rw.op(n) {
            Op::Input | Op::Shared(_) => {
                inputs.push(n);
                b.add_input(rw.ty(n).dtype).ok()?
            }
            Op::Constant(t) => {
                let key = (t.to_f64_vec().first()?.to_bits(), t.dtype());
                match consts.get(&key) {
                    Some(&v) => v,
                    None => {
                        let v = b.add_const(key.1, f64::from_bits(key.0)).ok()?;
                        consts.insert(key, v);
                        v
                    }
                }
            }
            Op::Elemwise(op) => b.apply(*op, &args()?).ok()?,
            Op::Composite(p) => {
                let all = inline(&mut b, &mut consts, p, &args()?)?;
                let outs: Vec<ScalarValue> = p.outputs().iter().map(|o| all[o.index()]).collect();
                let first = outs[0];
                outs_of[n.index()] = Some(outs);
                first
            }
            Op::CompositeOutput { index, .. } => *outs_of[rw.inputs(n)[0].index()].as_ref()?.get(*index)?,
            _ => return None,
        };
        // The program computes the graph's dtypes.
        if b.dtype_of(v) != Some(rw.ty(n).dtype) {
            return None;
        }
        value[n.index()] = Some(v);
    }
    if inputs.is_empty() {
        return None;
    }
    // Output 0 is `id`'s value; then every other computed output, once.
    let mut computed = vec![id];
    for &o in rw.g.outputs() {
        if !rw.op(o).is_leaf() && !computed.contains(&o) {
            computed.push(o);
        }
    }
    let outputs: Vec<ScalarValue> = computed.iter().map(|o| value[o.index()]).collect::<Option<_>>()?;
    let p = b.finish(&outputs).ok()?;
    let merged = rw.add(Op::Composite(Arc::new(p)), inputs)?;
    for (index, &o) in computed.iter().enumerate().skip(1) {
        let out = rw.add(Op::CompositeOutput { index, dtype: rw.ty(o).dtype }, vec![merged])?;
        rw.also_replace(o, out);
    }
    Some(merged)
}

/// A float elementwise op → the one-op composite over its inputs (a 0-d one only when the
/// whole graph is not lowered as one).
fn elemwise_composite(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let op = rw.scalar_op(id)?;
    let ins = rw.inputs(id);
    if !is_float(rw.ty(id).dtype) || !ins.iter().all(|&i| is_float(rw.ty(i).dtype)) {
        return None;
    }
    if rw.ty(id).ndim() == 0 && scalar_graph(rw) {
        return None;
    }
    let mut b = ScalarProgramBuilder::with_capacity(1);
    let args: Vec<ScalarValue> =
        ins.iter().map(|&i| b.add_input(rw.ty(i).dtype)).collect::<Result<_, _>>().ok()?;
    let v = b.apply(op, &args).ok()?;
    let p = b.finish(&[v]).ok().filter(|p| p.out_dtype() == rw.ty(id).dtype)?;
    rw.add(Op::Composite(Arc::new(p)), ins.to_vec())
}

/// A float `sum/mean/prod/max/min` left by fusion → a `FusedReduce` of the identity.
fn reduce_native(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reduce { op, axes, keepdims } = rw.op(id).clone() else { return None };
    if matches!(op, ReduceOp::All | ReduceOp::Any) {
        return None;
    }
    let x = rw.inputs(id)[0];
    let dtype = rw.ty(x).dtype;
    if !is_float(dtype) || rw.ty(id).dtype != dtype {
        return None;
    }
    let mut b = ScalarProgramBuilder::with_capacity(0);
    let i0 = b.add_input(dtype).ok()?;
    let body = b.finish(&[i0]).ok()?;
    rw.add(Op::FusedReduce { op, axes, keepdims, body: Arc::new(body) }, vec![x])
}
