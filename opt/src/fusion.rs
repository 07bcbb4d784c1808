//! Fusion: connected elementwise ops become one `Composite` node holding a scalar program
//! (scalar constants move inside it), and a reduction whose input is such a kernel becomes a
//! `FusedReduce` that reads the inputs once and writes no temporary.
//!
//! A cluster grows from its output toward its inputs and absorbs an elementwise node only
//! when every reader of that node is already in the cluster: nothing is computed twice, and
//! no path leaves the cluster and comes back (the cluster is convex).

use crate::engine::Rule;
use crate::pattern::Rw;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tensorlift_ir::{DType, NodeId, Op, ReduceOp, ScalarNode, ScalarOp, ScalarProgram};

/// The rules of the phase, in the order they are tried.
pub static RULES: &[Rule] = &[
    Rule { name: "elemwise_fusion", fast_math: false, apply: fuse_elemwise },
    Rule { name: "local_careduce_fusion", fast_math: false, apply: fuse_reduce },
];

/// True for nodes a composite can hold.
fn fusible(rw: &Rw<'_>, id: NodeId) -> bool {
    matches!(rw.op(id), Op::Elemwise(_))
}

/// A one-element constant, inlined into programs.
fn scalar_const(rw: &Rw<'_>, id: NodeId) -> bool {
    rw.const_value(id).is_some() && rw.ty(id).shape.iter().all(|&d| d == Some(1))
}

/// The cluster of fusible nodes that can be computed inside one kernel ending at `root`.
fn grow_cluster(rw: &Rw<'_>, root: NodeId) -> HashSet<NodeId> {
    let mut cluster = HashSet::from([root]);
    let mut work = vec![root];
    while let Some(n) = work.pop() {
        for i in rw.inputs(n) {
            if cluster.contains(&i) || !fusible(rw, i) || rw.ty(i).ndim() != rw.ty(root).ndim() {
                continue;
            }
            let readers_inside =
                rw.g.uses(i).iter().all(|u| cluster.contains(u)) && !rw.g.outputs().contains(&i);
            if readers_inside {
                cluster.insert(i);
                work.push(i);
            }
        }
    }
    cluster
}

/// The program computing `root` from its cluster, and its outside inputs (numbered in
/// depth-first, left-to-right order of first use, as Theano numbers `i0, i1, …`).
fn program_of(rw: &Rw<'_>, root: NodeId, cluster: &HashSet<NodeId>) -> (ScalarProgram, Vec<NodeId>) {
    // The cluster's nodes, each after its operands (programs can be thousands of ops deep).
    let order = rw.g.postorder(root, |i| cluster.contains(&i));
    let mut inputs: Vec<NodeId> = Vec::new();
    // Inputs numbered as a reader meets them: depth-first from the root, operands left to
    // right (Theano's `i0, i1, …`).
    let mut input_index: HashMap<NodeId, usize> = HashMap::new();
    let mut visited: HashSet<NodeId> = HashSet::from([root]);
    // (node, next operand to look at): operands left to right, each fused child explored
    // before the operands after it.
    let mut walk: Vec<(NodeId, usize)> = vec![(root, 0)];
    while let Some((n, k)) = walk.pop() {
        let ins = rw.inputs(n);
        let Some(&i) = ins.get(k) else { continue };
        walk.push((n, k + 1));
        if cluster.contains(&i) {
            if visited.insert(i) {
                walk.push((i, 0));
            }
        } else if !scalar_const(rw, i) && !input_index.contains_key(&i) {
            input_index.insert(i, inputs.len());
            inputs.push(i);
        }
    }
    let n_in = inputs.len();
    let mut program = ScalarProgram {
        inputs: inputs.iter().map(|&i| rw.ty(i).dtype).collect(),
        nodes: Vec::new(),
        output: 0,
    };
    let mut values: HashMap<NodeId, usize> = input_index;
    let mut consts: HashMap<(u64, DType), usize> = HashMap::new();
    for &n in &order {
        let mut args = Vec::new();
        for i in rw.inputs(n) {
            let v = match values.get(&i) {
                Some(&v) => v,
                None => {
                    let key = (rw.const_value(i).expect("inlined constant").to_bits(), rw.ty(i).dtype);
                    *consts.entry(key).or_insert_with(|| {
                        program.nodes.push(ScalarNode::Const { dtype: key.1, bits: key.0 });
                        n_in + program.nodes.len() - 1
                    })
                }
            };
            args.push(v);
        }
        let op = rw.scalar_op(n).expect("elementwise");
        program.nodes.push(ScalarNode::Apply { op, args, dtype: rw.ty(n).dtype });
        values.insert(n, n_in + program.nodes.len() - 1);
    }
    program.output = values[&root];
    (program, inputs)
}

/// Fuses the largest cluster of elementwise nodes ending at `id` (two ops or more) into
/// one `Composite`.
fn fuse_elemwise(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    if !fusible(rw, id) {
        return None;
    }
    // Grow from the last node of a chain only: a node whose every reader is one fusible
    // node will be absorbed by it.
    let users = rw.g.uses(id);
    if !users.is_empty()
        && !rw.g.outputs().contains(&id)
        && users.iter().all(|&u| u == users[0])
        && fusible(rw, users[0])
        && rw.ty(users[0]).ndim() == rw.ty(id).ndim()
    {
        return None;
    }
    let cluster = grow_cluster(rw, id);
    let (program, inputs) = program_of(rw, id, &cluster);
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
        Op::Elemwise(s) if s != ScalarOp::Second => {
            let (p, ins) = program_of(rw, x, &HashSet::from([x]));
            if ins.is_empty() {
                return None;
            }
            (p, ins)
        }
        _ => return None,
    };
    rw.add(Op::FusedReduce { op, axes, keepdims, body: Arc::new(body) }, inputs)
}
