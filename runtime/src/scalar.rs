//! The scalar path: a function whose inputs, outputs and every node are 0-d floats and
//! whose optimized graph is elementwise only (Theano's `f(2.0)` on `dscalar`s) is one
//! composite (the optimizer's `lower` phase makes it so); its native kernel computes every
//! output, called on the argument values directly, without the plan's per-step
//! bookkeeping. It is what makes a scalar call cost about as much as its argument checks
//! (workload W7).

use crate::native::NativeKernels;
use std::sync::Arc;
use tensorlift_ir::{DType, FunctionGraph, Op, Tensor};
use tensorlift_jit::{ElementwiseKernel, KernelArg, KernelOut};

/// The one native kernel of an all-0-d graph, with where its inputs and outputs go.
#[derive(Debug)]
pub(crate) struct ScalarPath {
    kernel: Arc<ElementwiseKernel>,
    /// The argument each input of the kernel reads.
    args: Vec<usize>,
    /// The kernel output each graph output is.
    outputs: Vec<usize>,
}

impl ScalarPath {
    /// The scalar path of `g` (optimized, with its kernels `native`): when its inputs are
    /// 0-d floats and its outputs are the outputs of one 0-d composite over them.
    pub(crate) fn new(g: &FunctionGraph, native: &NativeKernels) -> Option<ScalarPath> {
        if !g.inputs().iter().all(|&i| g.ty(i).ndim() == 0 && g.ty(i).dtype.is_float()) {
            return None;
        }
        let first = *g.outputs().first()?;
        let composite = match &g.node(first).op {
            Op::Composite(_) => first,
            Op::CompositeOutput { .. } => g.node(first).inputs[0],
            _ => return None,
        };
        if g.ty(composite).ndim() != 0 || !matches!(g.node(composite).op, Op::Composite(_)) {
            return None;
        }
        let outputs = g
            .outputs()
            .iter()
            .map(|&o| match &g.node(o).op {
                _ if o == composite => Some(0),
                Op::CompositeOutput { index, .. } if g.node(o).inputs[0] == composite => Some(*index),
                _ => None,
            })
            .collect::<Option<Vec<usize>>>()?;
        let args = g
            .node(composite)
            .inputs
            .iter()
            .map(|i| g.inputs().iter().position(|j| j == i))
            .collect::<Option<Vec<usize>>>()?;
        Some(ScalarPath { kernel: native.kernel(composite)?.clone(), args, outputs })
    }

    /// The one output of a float64 program from float64 values, with no tensor made
    /// (`None` if the program has another signature).
    pub(crate) fn run_f64(&self, args: &[f64]) -> Option<f64> {
        let mut stack = [0f64; 8];
        if self.outputs != [0] || self.args.len() > stack.len() {
            return None;
        }
        for (a, &j) in stack.iter_mut().zip(&self.args) {
            *a = *args.get(j)?;
        }
        self.kernel.eval_f64(&stack[..self.args.len()])
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
        let n_args = self.args.len();
        if k.output_dtypes().len() != 1 || self.outputs != [0] || n_args > args.len() {
            return self.run(n, input);
        }
        for (arg, &j) in args.iter_mut().zip(&self.args) {
            *arg = scalar_arg(input(j)?)?;
        }
        let args = &args[..n_args];
        // Float64 all through: the kernel at one point, without the general checks.
        let mut values = [0f64; 8];
        let all_f64 = args.iter().zip(&mut values).all(|(a, v)| match a {
            KernelArg::ScalarF64(x) => {
                *v = *x;
                true
            }
            _ => false,
        });
        let t = match k.output_dtypes()[0] {
            DType::F64 if all_f64 => out.produce::<f64>(&[], |buf| {
                buf[0].write(k.eval_f64(&values[..n_args])?);
                Some(())
            }),
            DType::F64 => out.produce::<f64>(&[], |buf| k.run_uninit(args, buf).ok()),
            _ => out.produce::<f32>(&[], |buf| k.run_uninit(args, buf).ok()),
        };
        Some(vec![t?])
    }

    /// Computes every graph output from the `n` (checked) 0-d argument values `input(k)`;
    /// `None` when some argument is missing or not a float.
    pub(crate) fn run<'t>(
        &self,
        n: usize,
        input: impl Fn(usize) -> Option<&'t Tensor>,
    ) -> Option<Vec<Tensor>> {
        let args = self
            .args
            .iter()
            .map(|&j| if j < n { scalar_arg(input(j)?) } else { None })
            .collect::<Option<Vec<KernelArg<'_>>>>()?;
        let k = &self.kernel;
        let dtypes = k.output_dtypes();
        let mut f64s = vec![std::mem::MaybeUninit::<f64>::uninit(); dtypes.len()];
        let mut f32s = vec![std::mem::MaybeUninit::<f32>::uninit(); dtypes.len()];
        let mut outs: Vec<KernelOut<'_>> = f64s
            .chunks_mut(1)
            .zip(f32s.chunks_mut(1))
            .zip(dtypes)
            .map(|((a, b), &d)| if d == DType::F64 { KernelOut::F64(a) } else { KernelOut::F32(b) })
            .collect();
        k.run_outputs_uninit(&args, &mut outs).ok()?;
        drop(outs);
        // SAFETY: a successful run wrote element 0 of every output buffer.
        let value = |j: usize| unsafe {
            match dtypes[j] {
                DType::F64 => Tensor::from(f64s[j].assume_init()),
                _ => Tensor::from(f32s[j].assume_init()),
            }
        };
        self.outputs.iter().map(|&j| (j < dtypes.len()).then(|| value(j))).collect()
    }
}

/// The value of a 0-d float tensor as a kernel argument.
fn scalar_arg(t: &Tensor) -> Option<KernelArg<'static>> {
    match t.dtype() {
        DType::F64 => Some(KernelArg::ScalarF64(*t.as_slice::<f64>()?.first()?)),
        DType::F32 => Some(KernelArg::ScalarF32(*t.as_slice::<f32>()?.first()?)),
        _ => None,
    }
}
