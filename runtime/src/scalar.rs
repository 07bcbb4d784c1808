//! The scalar path: a function whose inputs, outputs and every node are 0-d floats and
//! whose optimized graph is elementwise only (Theano's `f(2.0)` on `dscalar`s) runs as one
//! native program per output, called on the argument values directly, without the
//! interpreter's per-node bookkeeping. It is what makes a scalar call cost about as much as
//! its argument checks (workload W7).

use crate::cache;
use std::sync::Arc;
use tensorlift_ir::{DType, FunctionGraph, Op, ScalarNode, ScalarProgram, Tensor};
use tensorlift_jit::{ElementwiseKernel, KernelArg};

/// One native kernel per graph output, each a program over the graph's inputs.
#[derive(Debug)]
pub(crate) struct ScalarPath {
    kernels: Vec<Arc<ElementwiseKernel>>,
}

fn is_float(d: DType) -> bool {
    matches!(d, DType::F32 | DType::F64)
}

/// Translates the whole graph into one scalar program (values: the graph's inputs, then
/// constants and ops in topological order; composites inlined), or `None` if some node is
/// not a 0-d float constant, input or elementwise op.
fn whole_program(g: &FunctionGraph) -> Option<(ScalarProgram, Vec<usize>)> {
    let inputs: Vec<DType> = g.inputs().iter().map(|&i| g.ty(i).dtype).collect();
    let mut value = vec![usize::MAX; g.len()];
    for (k, &i) in g.inputs().iter().enumerate() {
        value[i.index()] = k;
    }
    let mut nodes: Vec<ScalarNode> = Vec::new();
    let n_in = inputs.len();
    for id in g.toposort() {
        let node = g.node(id);
        if node.ty.ndim() != 0 || !is_float(node.ty.dtype) {
            return None;
        }
        let args: Vec<usize> = node.inputs.iter().map(|i| value[i.index()]).collect();
        match &node.op {
            Op::Input => continue,
            Op::Constant(t) => {
                let v = t.to_f64_vec();
                nodes.push(ScalarNode::Const { dtype: t.dtype(), bits: v.first()?.to_bits() });
            }
            Op::Elemwise(op) => nodes.push(ScalarNode::Apply { op: *op, args, dtype: node.ty.dtype }),
            Op::Composite(p) => {
                // Inline the program: its input k is `args[k]`, its values renumbered.
                let base = n_in + nodes.len();
                let pn = p.inputs.len();
                let map = |v: usize| if v < pn { args[v] } else { base + v - pn };
                for n in &p.nodes {
                    nodes.push(match n {
                        ScalarNode::Apply { op, args, dtype } => ScalarNode::Apply {
                            op: *op,
                            args: args.iter().map(|&a| map(a)).collect(),
                            dtype: *dtype,
                        },
                        c => c.clone(),
                    });
                }
                value[id.index()] = map(p.output);
                continue;
            }
            _ => return None,
        }
        value[id.index()] = n_in + nodes.len() - 1;
    }
    let outputs = g.outputs().iter().map(|o| value[o.index()]).collect::<Vec<_>>();
    if outputs.contains(&usize::MAX) {
        return None;
    }
    Some((ScalarProgram { inputs, nodes, output: 0 }, outputs))
}

impl ScalarPath {
    /// The scalar path of `g`, when it applies and every output's program compiles.
    pub(crate) fn new(g: &FunctionGraph) -> Option<ScalarPath> {
        if !g.inputs().iter().all(|&i| g.ty(i).ndim() == 0 && is_float(g.ty(i).dtype)) {
            return None;
        }
        let (program, outputs) = whole_program(g)?;
        let mut kernels = Vec::with_capacity(outputs.len());
        for out in outputs {
            let p = ScalarProgram { output: out, ..program.clone() };
            p.validate().ok()?;
            kernels.push(cache::kernel(&p).ok()?);
        }
        Some(ScalarPath { kernels })
    }

    /// Computes every output from the (checked) 0-d input values.
    pub(crate) fn run(&self, inputs: &[Tensor]) -> Option<Vec<Tensor>> {
        // Up to 8 arguments on the stack (this path is all call overhead).
        let mut stack = [KernelArg::ScalarF64(0.0); 8];
        let mut heap = Vec::new();
        let args: &mut [KernelArg<'_>] = if inputs.len() <= stack.len() {
            &mut stack[..inputs.len()]
        } else {
            heap.resize(inputs.len(), KernelArg::ScalarF64(0.0));
            &mut heap
        };
        for (arg, t) in args.iter_mut().zip(inputs) {
            *arg = match t {
                Tensor::F64(a) => KernelArg::ScalarF64(*a.first()?),
                Tensor::F32(a) => KernelArg::ScalarF32(*a.first()?),
                _ => return None,
            };
        }
        let args = &*args;
        let mut out = Vec::with_capacity(self.kernels.len());
        for k in &self.kernels {
            out.push(match k.out_dtype() {
                DType::F64 => {
                    let mut r = [0f64];
                    k.run(args, &mut r).ok()?;
                    Tensor::from(r[0])
                }
                DType::F32 => {
                    let mut r = [0f32];
                    k.run(args, &mut r).ok()?;
                    Tensor::from(r[0])
                }
                _ => return None,
            });
        }
        Some(out)
    }
}
