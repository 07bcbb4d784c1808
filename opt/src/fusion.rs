//! Fusion: connected elementwise ops become one `Composite` node holding a scalar program
//! (scalar constants move inside it), and a reduction whose input is such a kernel becomes a
//! `FusedReduce` that reads the inputs once and writes no temporary.
//!
//! A cluster grows from its output toward its inputs and absorbs an elementwise node only
//! when every reader of that node is already in the cluster: nothing is computed twice, and
//! no path leaves the cluster and comes back (the cluster is convex).
//!
//! A node that is also read outside (or is a graph output) is then taken into its
//! elementwise reader as an extra output: one multi-output `Composite` computes both in one
//! pass, and the outside readers read `CompositeOutput` of it. This applies when the node
//! has the reader's shape, and only when no other input of the reader is computed from the
//! node (which would make a cycle).

use crate::engine::Rule;
use crate::pattern::{same_pattern, Rw};
use crate::scratch::{NodeMap, NodeSet, Scratch};
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;
use tensorlift_ir::{
    DType, NodeId, Op, ReduceOp, ScalarArgs, ScalarNode, ScalarOp, ScalarProgram, ScalarProgramBuilder,
    ScalarValue,
};

/// The rules of the phase, in the order they are tried.
pub static RULES: &[Rule] = &[
    Rule { name: "elemwise_fusion", fast_math: false, apply: fuse_elemwise },
    Rule { name: "local_careduce_fusion", fast_math: false, apply: fuse_reduce },
];

/// The rules of the multi-output phase, which runs after fusion.
pub static MULTI_OUTPUT_RULES: &[Rule] =
    &[Rule { name: "composite_extra_output", fast_math: false, apply: fuse_extra_output }];

/// True for nodes a composite can hold: elementwise ops, except the conversion of a
/// computed integer or bool value to a float (`cast{float64}(shape_i(x, 0))`, a count). Native
/// kernels compute in floats only, so a float kernel reading such a value would run on the
/// reference kernel; the conversion stays outside, and the kernel reads its float result.
fn fusible(rw: &Rw<'_>, id: NodeId) -> bool {
    match rw.op(id) {
        Op::Elemwise(ScalarOp::Cast(d)) => {
            let x = rw.node(id).inputs[0];
            !d.is_float() || rw.ty(x).dtype.is_float() || rw.const_value(x).is_some()
        }
        op => matches!(op, Op::Elemwise(_)),
    }
}

/// A one-element constant, inlined into programs.
fn scalar_const(rw: &Rw<'_>, id: NodeId) -> bool {
    rw.const_value(id).is_some() && rw.ty(id).shape.iter().all(|&d| d == Some(1))
}

/// The cluster of fusible nodes that can be computed inside one kernel ending at `root`,
/// left in `cluster`. The cluster reads at most `MAX_KERNEL_INPUTS` distinct values from
/// outside (`reads` counts, per outside value, the cluster's reads of it).
fn grow_cluster(rw: &Rw<'_>, root: NodeId, cluster: &mut NodeSet, reads: &mut NodeMap<u32>) {
    cluster.clear(rw.g.len());
    reads.clear(rw.g.len());
    cluster.insert(root, ());
    let ndim = rw.ty(root).ndim();
    let outside = |n: NodeId| rw.node(n).inputs.iter().copied().filter(move |&i| !scalar_const(rw, i));
    let mut distinct = 0;
    for i in outside(root) {
        distinct += usize::from(reads.insert(i, reads.get(i).unwrap_or(0) + 1).is_none());
    }
    let mut work = vec![root];
    let mut fresh: Vec<NodeId> = Vec::new();
    while let Some(n) = work.pop() {
        for &i in &rw.node(n).inputs {
            if cluster.contains(i) || !fusible(rw, i) || rw.ty(i).ndim() != ndim {
                continue;
            }
            let readers_inside =
                rw.g.uses(i).iter().all(|&u| cluster.contains(u)) && !rw.g.outputs().contains(&i);
            if !readers_inside {
                continue;
            }
            // Taking `i` in: it is no longer read from outside, its operands are.
            fresh.clear();
            fresh.extend(outside(i).filter(|&j| reads.get(j).is_none_or(|r| r == 0)));
            fresh.sort_unstable();
            fresh.dedup();
            if distinct - 1 + fresh.len() > crate::MAX_KERNEL_INPUTS {
                continue;
            }
            distinct = distinct - 1 + fresh.len();
            reads.insert(i, 0);
            for j in outside(i) {
                reads.insert(j, reads.get(j).unwrap_or(0) + 1);
            }
            cluster.insert(i, ());
            work.push(i);
        }
    }
}

/// The program computing `root` from the cluster in `s.cluster`, and its outside inputs
/// (numbered in depth-first, left-to-right order of first use, as Theano numbers
/// `i0, i1, …`); `None` if the builder refuses it (an op whose operands' dtypes it does not
/// take).
fn program_of(rw: &Rw<'_>, root: NodeId, s: &mut Scratch) -> Option<(ScalarProgram, Vec<NodeId>)> {
    let len = rw.g.len();
    // The cluster's nodes, each after its operands (programs can be thousands of ops deep).
    let mut order = Vec::new();
    s.visited.clear(len);
    let mut stack = vec![(root, false)];
    while let Some((n, expanded)) = stack.pop() {
        if expanded {
            order.push(n);
        } else if s.visited.insert(n, ()).is_none() {
            stack.push((n, true));
            let inside =
                rw.node(n).inputs.iter().rev().filter(|&&i| s.cluster.contains(i) && !s.visited.contains(i));
            stack.extend(inside.map(|&i| (i, false)));
        }
    }
    // Inputs numbered as a reader meets them: depth-first from the root, operands left to
    // right (Theano's `i0, i1, …`); every node then gets its value number in `s.values`.
    let mut inputs: Vec<NodeId> = Vec::new();
    s.values.clear(len);
    s.visited.clear(len);
    s.visited.insert(root, ());
    // (node, next operand to look at): operands left to right, each fused child explored
    // before the operands after it.
    let mut walk: Vec<(NodeId, usize)> = vec![(root, 0)];
    while let Some((n, k)) = walk.pop() {
        let Some(&i) = rw.node(n).inputs.get(k) else { continue };
        walk.push((n, k + 1));
        if s.cluster.contains(i) {
            if s.visited.insert(i, ()).is_none() {
                walk.push((i, 0));
            }
        } else if !scalar_const(rw, i) && !s.values.contains(i) {
            s.values.insert(i, inputs.len() as u32);
            inputs.push(i);
        }
    }
    // Sized up front: a fused chain holds tens of thousands of nodes.
    let mut b = ScalarProgramBuilder::with_capacity(order.len() + 1);
    for &i in &inputs {
        b.add_input(rw.ty(i).dtype).ok()?;
    }
    let mut consts: HashMap<(u64, DType), ScalarValue> = HashMap::default();
    for &n in &order {
        let mut args = ScalarArgs::new();
        for &i in &rw.node(n).inputs {
            let v = match s.values.get(i) {
                Some(v) => ScalarValue::new(v),
                None => {
                    let x = rw.const_value(i).expect("inlined constant");
                    let key = (x.to_bits(), rw.ty(i).dtype);
                    match consts.get(&key) {
                        Some(&v) => v,
                        None => {
                            let v = b.add_const(key.1, x).ok()?;
                            consts.insert(key, v);
                            v
                        }
                    }
                }
            };
            args.push(v);
        }
        let op = rw.scalar_op(n).expect("elementwise");
        let v = b.apply(op, &args).ok()?;
        s.values.insert(n, v.index() as u32);
    }
    let output = ScalarValue::new(s.values.get(root).expect("computed"));
    Some((b.finish(&[output]).ok()?, inputs))
}

/// The program of one elementwise node (its scalar constants inlined) and its inputs.
fn program_of_node(rw: &Rw<'_>, id: NodeId) -> Option<(ScalarProgram, Vec<NodeId>)> {
    let mut s = rw.scratch.borrow_mut();
    s.cluster.clear(rw.g.len());
    s.cluster.insert(id, ());
    program_of(rw, id, &mut s)
}

/// Fuses the largest cluster of elementwise nodes ending at `id` (two ops or more) into
/// one `Composite`.
fn fuse_elemwise(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    if !fusible(rw, id) {
        return None;
    }
    // Grow from the last node of a chain only: a node whose every reader is one fusible
    // node will be absorbed by it.
    // (Unless the reader could not take it in without reading too many inputs.)
    let users = rw.g.uses(id);
    let operands = |n: NodeId| rw.node(n).inputs.iter().filter(|&&i| !scalar_const(rw, i)).count();
    if !users.is_empty()
        && !rw.g.outputs().contains(&id)
        && users.iter().all(|&u| u == users[0])
        && fusible(rw, users[0])
        && rw.ty(users[0]).ndim() == rw.ty(id).ndim()
        && operands(users[0]) + operands(id) - rw.use_count(id) <= crate::MAX_KERNEL_INPUTS
    {
        return None;
    }
    let (program, inputs) = {
        let mut s = rw.scratch.borrow_mut();
        let Scratch { cluster, reads, .. } = &mut *s;
        grow_cluster(rw, id, cluster, reads);
        program_of(rw, id, &mut s)?
    };
    if program.op_count() < 2 || inputs.is_empty() {
        return None;
    }
    rw.add(Op::Composite(Arc::new(program)), inputs)
}

/// `sum/mean/prod/max/min` of a composite (or of one elementwise op) that nothing else
/// reads → one `FusedReduce`.
fn fuse_reduce(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reduce { op, axes, keepdims } = rw.op(id).clone() else { return None };
    if matches!(op, ReduceOp::All | ReduceOp::Any) {
        return None;
    }
    let x = rw.inputs(id)[0];
    if rw.use_count(x) != 1 {
        return None;
    }
    let (body, inputs) = match rw.op(x).clone() {
        Op::Composite(p) => ((*p).clone(), rw.inputs(x).into_vec()),
        Op::Elemwise(s) if s != ScalarOp::Second && fusible(rw, x) => {
            let (p, ins) = program_of_node(rw, x)?;
            if ins.is_empty() {
                return None;
            }
            (p, ins)
        }
        _ => return None,
    };
    rw.add(Op::FusedReduce { op, axes, keepdims, body: Arc::new(body) }, inputs)
}

/// The program of an elementwise node (a composite's own, or a lone op's with its scalar
/// constants inlined) and its inputs.
fn elementwise_program(rw: &Rw<'_>, id: NodeId) -> Option<(ScalarProgram, Vec<NodeId>)> {
    match rw.op(id) {
        Op::Composite(p) => Some(((**p).clone(), rw.inputs(id).into_vec())),
        Op::Elemwise(_) => program_of_node(rw, id),
        _ => None,
    }
}

/// The elementwise node whose output `x` is (itself, or the composite a `CompositeOutput`
/// reads) and which output of it (0 for the result).
fn source_of(rw: &Rw<'_>, x: NodeId) -> Option<(NodeId, usize)> {
    match rw.op(x) {
        Op::Composite(_) | Op::Elemwise(_) => Some((x, 0)),
        Op::CompositeOutput { index, .. } => Some((rw.inputs(x)[0], *index)),
        _ => None,
    }
}

/// The node holding output `k` of the elementwise node `c` (`c` itself for 0), if any.
fn output_node(rw: &Rw<'_>, c: NodeId, k: usize) -> Option<NodeId> {
    if k == 0 {
        return Some(c);
    }
    rw.g.uses(c).into_iter().find(|&u| matches!(rw.op(u), Op::CompositeOutput { index, .. } if *index == k))
}

/// How many reads of output node `o` of `c` there are, not counting `c`'s own projection
/// nodes (`CompositeOutput`s reading `c` for its other outputs): those are not readers of
/// output 0.
fn value_reads(rw: &Rw<'_>, o: NodeId, c: NodeId) -> usize {
    let projections = if o == c {
        rw.g.uses(c).into_iter().filter(|&u| matches!(rw.op(u), Op::CompositeOutput { .. })).count()
    } else {
        0
    };
    rw.use_count(o) - projections
}

/// An elementwise node `id` (composite or lone op) reading outputs of an elementwise node
/// `c` with `id`'s shape → one composite computing `id`'s outputs, then those of `c`'s
/// outputs read elsewhere (and only those: an output nothing else reads is not written);
/// these are replaced by `CompositeOutput`s of it. A `c` that `id` alone reads is taken
/// whole: fusion left it because it was read elsewhere then, by a node since merged into
/// `id` (or it has several outputs, which fusion does not take).
fn fuse_extra_output(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ndim = rw.ty(id).ndim();
    // 0-d values live in registers: there is no memory pass to save (and the executor runs
    // an all-0-d graph as one program anyway).
    if ndim == 0 {
        return None;
    }
    let (outer, outer_ins) = elementwise_program(rw, id)?;
    let reads = |x: NodeId| outer_ins.iter().filter(|&&i| i == x).count();
    let c = outer_ins.iter().find_map(|&x| {
        let (c, _) = source_of(rw, x)?;
        // The walks last: only for a candidate that passes every other test.
        let acyclic = || {
            outer_ins
                .iter()
                .all(|&y| source_of(rw, y).is_some_and(|(s, _)| s == c) || !may_depend_on(rw, y, c))
        };
        (c != id && rw.ty(c).ndim() == ndim && same_pattern(rw.ty(c), rw.ty(id)) && acyclic()).then_some(c)
    })?;
    let (inner, inner_ins) = elementwise_program(rw, c)?;
    if inner_ins.is_empty() || inner.nodes.len() + outer.nodes.len() > crate::MAX_MERGED_OPS {
        return None;
    }
    let in_c = |rw: &Rw<'_>, x: NodeId| source_of(rw, x).filter(|&(s, _)| s == c).map(|(_, k)| k);
    // Inputs: the outer node's other inputs, then `c`'s (each once).
    let mut inputs: Vec<NodeId> = Vec::new();
    for &x in outer_ins.iter().filter(|&&x| in_c(rw, x).is_none()).chain(&inner_ins) {
        if !inputs.contains(&x) {
            inputs.push(x);
        }
    }
    if inputs.len() > crate::MAX_KERNEL_INPUTS {
        return None;
    }
    let index_of = |x: NodeId| inputs.iter().position(|&y| y == x).expect("listed");
    let mut b = ScalarProgramBuilder::with_capacity(inner.nodes.len() + outer.nodes.len());
    let ins: Vec<ScalarValue> =
        inputs.iter().map(|&x| b.add_input(rw.ty(x).dtype)).collect::<Result<_, _>>().ok()?;
    // `c`'s program first, then the outer one reading `c`'s outputs in place of its inputs.
    let mut consts = HashMap::default();
    let inner_args: Vec<ScalarValue> = inner_ins.iter().map(|&x| ins[index_of(x)]).collect();
    let inner_value = inline(&mut b, &mut consts, &inner, &inner_args)?;
    let inner_outputs: Vec<ScalarValue> = inner.outputs().iter().map(|v| inner_value[v.index()]).collect();
    let outer_args: Vec<ScalarValue> = outer_ins
        .iter()
        .map(|&x| match in_c(rw, x) {
            Some(k) => inner_outputs[k],
            None => ins[index_of(x)],
        })
        .collect();
    let outer_value = inline(&mut b, &mut consts, &outer, &outer_args)?;
    let mut outputs: Vec<ScalarValue> = outer.outputs().iter().map(|v| outer_value[v.index()]).collect();
    // `c`'s outputs read elsewhere become extra outputs; the others are not written.
    let mut taken: Vec<(NodeId, usize)> = Vec::new();
    for (k, &v) in inner_outputs.iter().enumerate() {
        if let Some(o) = output_node(rw, c, k) {
            if value_reads(rw, o, c) > reads(o) {
                taken.push((o, outputs.len()));
                outputs.push(v);
            }
        }
    }
    // Every output is a pointer the kernel keeps live, like every input.
    if inputs.len() + outputs.len() > crate::MAX_KERNEL_INPUTS {
        return None;
    }
    let p = b.finish(&outputs).ok()?;
    let merged = rw.add(Op::Composite(Arc::new(p)), inputs)?;
    // `c` itself last: its `CompositeOutput` readers are replaced first.
    taken.sort_by_key(|&(o, _)| o == c);
    for (o, index) in taken {
        let dtype = rw.ty(o).dtype;
        let out = rw.add(Op::CompositeOutput { index, dtype }, vec![merged])?;
        rw.also_replace(o, out);
    }
    Some(merged)
}

/// Most nodes `may_depend_on` visits before it gives up.
const DEPENDENCE_WALK_LIMIT: usize = 2 * crate::MAX_MERGED_OPS;

/// True when `a` is (or may be) computed from `b`: a walk from `a` toward the inputs that
/// answers true, to be safe, once it has visited `DEPENDENCE_WALK_LIMIT` nodes, so that a
/// merge costs the same however large the graph behind it.
fn may_depend_on(rw: &Rw<'_>, a: NodeId, b: NodeId) -> bool {
    let mut s = rw.scratch.borrow_mut();
    s.visited.clear(rw.g.len());
    let mut stack = vec![a];
    let mut visited = 0;
    while let Some(n) = stack.pop() {
        if n == b {
            return true;
        }
        if s.visited.insert(n, ()).is_none() {
            visited += 1;
            if visited > DEPENDENCE_WALK_LIMIT {
                return true;
            }
            stack.extend(rw.node(n).inputs.iter().copied());
        }
    }
    false
}

/// Appends `q`'s nodes to `b`, its input `k` standing for `b`'s value `args[k]` and its
/// constants merged with equal ones already inlined (`consts`: each constant's first
/// value); returns the value in `b` of each value of `q`, or `None` if the builder refuses
/// a node.
pub(crate) fn inline(
    b: &mut ScalarProgramBuilder,
    consts: &mut HashMap<(u64, DType), ScalarValue>,
    q: &ScalarProgram,
    args: &[ScalarValue],
) -> Option<Vec<ScalarValue>> {
    let mut value: Vec<ScalarValue> = args.to_vec();
    for node in &q.nodes {
        let v = match node {
            ScalarNode::Const { dtype, bits } => match consts.get(&(*bits, *dtype)) {
                Some(&v) => v,
                None => {
                    let v = b.add_const(*dtype, f64::from_bits(*bits)).ok()?;
                    consts.insert((*bits, *dtype), v);
                    v
                }
            },
            ScalarNode::Apply { op, args, .. } => {
                let args: ScalarArgs = args.iter().map(|v| value[v.index()]).collect();
                b.apply(*op, &args).ok()?
            }
        };
        value.push(v);
    }
    Some(value)
}
