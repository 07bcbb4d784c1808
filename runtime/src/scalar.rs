//! The scalar path: a function whose inputs, outputs and every node are 0-d floats and
//! whose optimized graph is elementwise only (Theano's `f(2.0)` on `dscalar`s) runs as one
//! native program computing every output, called on the argument values directly, without
//! the interpreter's per-node bookkeeping. It is what makes a scalar call cost about as much as
//! its argument checks (workload W7).

use crate::kernel_cache;
use std::sync::Arc;
use tensorlift_ir::{DType, FunctionGraph, Op, ScalarNode, ScalarProgram, Tensor};
use tensorlift_jit::{ElementwiseKernel, KernelArg, KernelOut};

/// One native kernel over the graph's inputs with one output per graph output.
#[derive(Debug)]
pub(crate) struct ScalarPath {
    kernel: Arc<ElementwiseKernel>,
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
    // The values of the extra outputs of each multi-output composite.
    let mut extras: std::collections::HashMap<tensorlift_ir::NodeId, Vec<usize>> = Default::default();
    let n_in = inputs.len();
    for id in g.toposort() {
        let node = g.node(id);
        if g.ty(id).ndim() != 0 || !is_float(g.ty(id).dtype) {
            return None;
        }
        let args: tensorlift_ir::ScalarArgs = node.inputs.iter().map(|i| value[i.index()]).collect();
        match &node.op {
            Op::Input => continue,
            Op::Constant(t) => {
                let v = t.to_f64_vec();
                nodes.push(ScalarNode::Const { dtype: t.dtype(), bits: v.first()?.to_bits() });
            }
            Op::Elemwise(op) => nodes.push(ScalarNode::Apply { op: *op, args, dtype: g.ty(id).dtype }),
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
                if !p.extra_outputs.is_empty() {
                    extras.insert(id, p.extra_outputs.iter().map(|&v| map(v)).collect());
                }
                continue;
            }
            Op::CompositeOutput { index, .. } => {
                value[id.index()] = *extras.get(&node.inputs[0])?.get(index - 1)?;
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
    Some((ScalarProgram { inputs, nodes, output: 0, extra_outputs: Vec::new() }, outputs))
}

impl ScalarPath {
    /// The scalar path of `g`, when it applies and every output's program compiles.
    pub(crate) fn new(g: &FunctionGraph) -> Option<ScalarPath> {
        if !g.inputs().iter().all(|&i| g.ty(i).ndim() == 0 && is_float(g.ty(i).dtype)) {
            return None;
        }
        let (program, outputs) = whole_program(g)?;
        let (&first, rest) = outputs.split_first()?;
        let p = ScalarProgram { output: first, extra_outputs: rest.to_vec(), ..program };
        p.validate().ok()?;
        Some(ScalarPath { kernel: kernel_cache::kernel(&p).ok()? })
    }

    /// The one output of a float64 program from float64 values, with no tensor made
    /// (`None` if the program has another signature).
    pub(crate) fn run_f64(&self, args: &[f64]) -> Option<f64> {
        let k = &self.kernel;
        let mut stack = [KernelArg::ScalarF64(0.0); 8];
        if k.output_dtypes() != [DType::F64] || args.len() > stack.len() {
            return None;
        }
        for (a, &v) in stack.iter_mut().zip(args) {
            *a = KernelArg::ScalarF64(v);
        }
        let mut r = [0f64];
        k.run(&stack[..args.len()], &mut r).ok()?;
        Some(r[0])
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
        let k = &self.kernel;
        let dtypes = k.output_dtypes();
        if let [d] = dtypes[..] {
            return Some(match d {
                DType::F64 => {
                    let mut r = [0f64];
                    k.run(args, &mut r).ok()?;
                    Tensor::from(r[0])
                }
                _ => {
                    let mut r = [0f32];
                    k.run(args, &mut r).ok()?;
                    Tensor::from(r[0])
                }
            })
            .map(|t| vec![t]);
        }
        let mut f64s = vec![std::mem::MaybeUninit::<f64>::uninit(); dtypes.len()];
        let mut f32s = vec![std::mem::MaybeUninit::<f32>::uninit(); dtypes.len()];
        let mut outs: Vec<KernelOut<'_>> = f64s
            .chunks_mut(1)
            .zip(f32s.chunks_mut(1))
            .zip(dtypes)
            .map(|((a, b), &d)| if d == DType::F64 { KernelOut::F64(a) } else { KernelOut::F32(b) })
            .collect();
        k.run_outputs_uninit(args, &mut outs).ok()?;
        drop(outs);
        Some(
            dtypes
                .iter()
                .enumerate()
                .map(|(j, &d)| {
                    // SAFETY: a successful run wrote element 0 of every output buffer.
                    unsafe {
                        if d == DType::F64 {
                            Tensor::from(f64s[j].assume_init())
                        } else {
                            Tensor::from(f32s[j].assume_init())
                        }
                    }
                })
                .collect(),
        )
    }
}
