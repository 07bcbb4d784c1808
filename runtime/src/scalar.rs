//! The scalar path: a function whose inputs, outputs and every node are 0-d floats and
//! whose optimized graph is elementwise only (Theano's `f(2.0)` on `dscalar`s) runs as one
//! native program computing every output, called on the argument values directly, without
//! the interpreter's per-node bookkeeping. It is what makes a scalar call cost about as much as
//! its argument checks (workload W7).

use crate::kernel_cache;
use std::sync::Arc;
use tensorlift_ir::{
    DType, FunctionGraph, Op, ScalarArgs, ScalarNode, ScalarProgram, ScalarProgramBuilder, ScalarValue,
    Tensor,
};
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
/// constants and ops in topological order; composites inlined; one output per graph
/// output), or `None` if some node is not a 0-d float constant, input or elementwise op.
fn whole_program(g: &FunctionGraph) -> Option<ScalarProgram> {
    let mut b = ScalarProgramBuilder::new();
    let mut value: Vec<Option<ScalarValue>> = vec![None; g.len()];
    for &i in g.inputs() {
        value[i.index()] = Some(b.add_input(g.ty(i).dtype).ok()?);
    }
    // The values of the extra outputs of each multi-output composite.
    let mut extras: std::collections::HashMap<tensorlift_ir::NodeId, Vec<ScalarValue>> = Default::default();
    for id in g.toposort() {
        let node = g.node(id);
        if g.ty(id).ndim() != 0 || !is_float(g.ty(id).dtype) {
            return None;
        }
        let args = || node.inputs.iter().map(|i| value[i.index()]).collect::<Option<ScalarArgs>>();
        let v = match &node.op {
            Op::Input => continue,
            Op::Constant(t) => b.add_const(t.dtype(), *t.to_f64_vec().first()?).ok()?,
            Op::Elemwise(op) => b.apply(*op, &args()?).ok()?,
            Op::Composite(p) => {
                // Inline the program: its input k is `args[k]`, its values renumbered.
                let mut map: Vec<ScalarValue> = args()?.to_vec();
                for n in &p.nodes {
                    let v = match n {
                        ScalarNode::Apply { op, args, .. } => {
                            let args = args
                                .iter()
                                .map(|a| map.get(a.index()).copied())
                                .collect::<Option<ScalarArgs>>()?;
                            b.apply(*op, &args)
                        }
                        ScalarNode::Const { dtype, bits } => b.add_const(*dtype, f64::from_bits(*bits)),
                    };
                    map.push(v.ok()?);
                }
                let outs =
                    p.outputs().iter().map(|o| map.get(o.index()).copied()).collect::<Option<Vec<_>>>()?;
                if outs.len() > 1 {
                    extras.insert(id, outs[1..].to_vec());
                }
                outs[0]
            }
            Op::CompositeOutput { index, .. } => *extras.get(&node.inputs[0])?.get(index - 1)?,
            _ => return None,
        };
        // The program computes the graph's dtypes (a mismatch would write the wrong type).
        if b.dtype_of(v) != Some(g.ty(id).dtype) {
            return None;
        }
        value[id.index()] = Some(v);
    }
    let outputs = g.outputs().iter().map(|o| value[o.index()]).collect::<Option<Vec<_>>>()?;
    b.finish(&outputs).ok()
}

impl ScalarPath {
    /// The scalar path of `g`, when it applies and every output's program compiles.
    pub(crate) fn new(g: &FunctionGraph) -> Option<ScalarPath> {
        if !g.inputs().iter().all(|&i| g.ty(i).ndim() == 0 && is_float(g.ty(i).dtype)) {
            return None;
        }
        let p = whole_program(g)?;
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

    /// [`run`](Self::run) for a program of one output, written into `out`'s kept tensor when
    /// it can be.
    pub(crate) fn run_recycled<'t>(
        &self,
        n: usize,
        input: impl Fn(usize) -> Option<&'t Tensor>,
        out: &crate::recycle::Recycled,
    ) -> Option<Vec<Tensor>> {
        let k = &self.kernel;
        let mut args = [KernelArg::ScalarF64(0.0); 8];
        if k.output_dtypes().len() != 1 || n > args.len() {
            return self.run(n, input);
        }
        for (j, arg) in args[..n].iter_mut().enumerate() {
            *arg = scalar_arg(input(j)?)?;
        }
        let args = &args[..n];
        let t = match k.output_dtypes()[0] {
            DType::F64 => out.produce::<f64>(&[], |buf| k.run_uninit(args, buf).ok()),
            _ => out.produce::<f32>(&[], |buf| k.run_uninit(args, buf).ok()),
        };
        Some(vec![t?])
    }

    /// Computes every output from the `n` (checked) 0-d input values `input(k)`; `None`
    /// when some input is missing or not a float.
    pub(crate) fn run<'t>(
        &self,
        n: usize,
        input: impl Fn(usize) -> Option<&'t Tensor>,
    ) -> Option<Vec<Tensor>> {
        // Up to 8 arguments on the stack (this path is all call overhead).
        let mut stack = [KernelArg::ScalarF64(0.0); 8];
        let mut heap = Vec::new();
        let args: &mut [KernelArg<'_>] = if n <= stack.len() {
            &mut stack[..n]
        } else {
            heap.resize(n, KernelArg::ScalarF64(0.0));
            &mut heap
        };
        for (k, arg) in args.iter_mut().enumerate() {
            *arg = scalar_arg(input(k)?)?;
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

/// The value of a 0-d float tensor as a kernel argument.
fn scalar_arg(t: &Tensor) -> Option<KernelArg<'static>> {
    match t {
        Tensor::F64(a) => Some(KernelArg::ScalarF64(*a.first()?)),
        Tensor::F32(a) => Some(KernelArg::ScalarF32(*a.first()?)),
        _ => None,
    }
}
