//! The fast call path: a function whose optimized graph is a single native step — all-0-d
//! (one scalar program computing every output, `crate::scalar`) or one elementwise kernel
//! reading the inputs and constants and giving the one output — runs straight from the
//! caller's arguments when they already have their inputs' dtypes and shapes: no argument
//! copies, no shared-variable snapshot, no step loop. Anything else (a conversion, an error
//! to report) takes the general path, which gives the same results and the errors.

use crate::layout::{element, slice_arg};
use crate::native::NativeKernels;
use crate::recycle::Recycled;
use crate::scalar::ScalarPath;
use std::sync::Arc;
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{Arg, DType, FunctionGraph, NodeId, Op, Tensor, Var};
use tensorlift_jit::{ElementwiseKernel, KernelArg};

/// A function's fast path, decided once when it is built.
#[derive(Debug)]
pub(crate) enum FastPath {
    /// Every value is 0-d: one native program over the input values.
    Scalar(ScalarPath),
    /// One native elementwise kernel (node `node`) reading `sources` in order.
    Kernel { node: NodeId, kernel: Arc<ElementwiseKernel>, sources: Vec<Source> },
}

/// Where an input of the one kernel comes from.
#[derive(Debug)]
pub(crate) enum Source {
    /// Argument `k` (graph node `node`).
    Arg(usize, NodeId),
    /// A constant of the graph (node `node`).
    Constant(Tensor, NodeId),
}

impl Source {
    /// True when the value is one element that broadcasts to any shape: its type has only
    /// axes of static length 1 (Theano's rule: only those broadcast).
    fn single(&self, g: &FunctionGraph) -> bool {
        let id = match self {
            Source::Arg(_, id) | Source::Constant(_, id) => *id,
        };
        g.ty(id).shape.iter().all(|d| *d == Some(1))
    }
}

impl FastPath {
    /// The fast path of `g` (optimized, with its kernels `native`) if it has one; `scalar`
    /// is its all-0-d program, when it has one.
    pub(crate) fn new(
        g: &FunctionGraph,
        native: &NativeKernels,
        scalar: Option<ScalarPath>,
    ) -> Option<FastPath> {
        if let Some(s) = scalar {
            return Some(FastPath::Scalar(s));
        }
        let [out] = g.outputs() else { return None };
        let node = g.node(*out);
        let single = match &node.op {
            Op::Composite(p) => p.n_outputs() == 1,
            Op::Elemwise(_) => true,
            _ => false,
        };
        let kernel = native.kernel(*out).filter(|_| single && g.ty(*out).dtype.is_float())?.clone();
        let sources = node
            .inputs
            .iter()
            .map(|&i| match &g.node(i).op {
                Op::Input => g.inputs().iter().position(|&j| j == i).map(|k| Source::Arg(k, i)),
                Op::Constant(t) => Some(Source::Constant((**t).clone(), i)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(FastPath::Kernel { node: *out, kernel, sources })
    }

    /// The all-0-d program, if that is the path.
    pub(crate) fn scalar(&self) -> Option<&ScalarPath> {
        match self {
            FastPath::Scalar(s) => Some(s),
            FastPath::Kernel { .. } => None,
        }
    }

    /// The outputs for `args`, when every argument already has its input's dtype and an
    /// accepted shape and the kernel runs; `None` sends the call down the general path.
    pub(crate) fn call<'a>(
        &'a self,
        g: &FunctionGraph,
        native: &NativeKernels,
        inputs: &[Var],
        args: &'a [Arg],
        out: &Recycled,
    ) -> Option<Vec<Tensor>> {
        if args.len() != inputs.len() {
            return None;
        }
        // Every argument is checked, also those no output reads.
        // SAFETY: what this path returns is computed by its native kernels into data of
        // its own (`out`); no argument's tensor, nor anything made from one, outlives it.
        let arg = |k: usize| unsafe { args[k].for_call() }.ok();
        for (k, input) in inputs.iter().enumerate() {
            let t = arg(k)?;
            let ty = input.ty();
            if t.dtype() != ty.dtype || !ty.accepts_shape(t.shape()) {
                return None;
            }
        }
        match self {
            FastPath::Scalar(path) => path.run_recycled(args.len(), arg, out),
            FastPath::Kernel { node, kernel, sources } => {
                let value = |s: &'a Source| match s {
                    Source::Arg(k, _) => arg(*k),
                    Source::Constant(t, _) => Some(t),
                };
                if sources.len() <= SMALL_INPUTS {
                    let mut values: [Option<(&Tensor, bool)>; SMALL_INPUTS] = [None; SMALL_INPUTS];
                    for (v, s) in values.iter_mut().zip(sources) {
                        *v = Some((value(s)?, s.single(g)));
                    }
                    if let Some(t) = run_small(kernel, &values[..sources.len()], out) {
                        native.count_contiguous();
                        return Some(vec![t]);
                    }
                }
                let mut ins = Vec::with_capacity(sources.len());
                for s in sources {
                    let id = match s {
                        Source::Arg(_, id) | Source::Constant(_, id) => *id,
                    };
                    ins.push(KernelInput { value: value(s)?, ty: g.ty(id), name: "" });
                }
                let op = &g.node(*node).op;
                // An error is reported by the general path, with the inputs' names.
                let t = native.eval_into(*node, op, &ins, g.ty(*node), None)?.ok()?;
                Some(vec![t])
            }
        }
    }
}

/// Kernel inputs the small-run path takes on the stack.
const SMALL_INPUTS: usize = 8;

/// The kernel's result over inputs that are contiguous and of one shape, or single values,
/// when it is too small to be split over the threads: one run into a new buffer, no layout
/// analysis. `None` for anything else (the general kernel path takes it).
fn run_small(kernel: &ElementwiseKernel, ins: &[Option<(&Tensor, bool)>], out: &Recycled) -> Option<Tensor> {
    // The result's shape: that of the inputs that are not single values, all the same.
    let mut shape: Option<&[usize]> = None;
    for &(t, single) in ins.iter().flatten() {
        if !single {
            match shape {
                None => shape = Some(t.shape()),
                Some(s) if s == t.shape() => {}
                Some(_) => return None,
            }
        }
    }
    let shape = shape?;
    if ins.iter().flatten().any(|(t, _)| t.ndim() > shape.len()) {
        return None;
    }
    let n: usize = shape.iter().product();
    let mut args = [KernelArg::ScalarF64(0.0); SMALL_INPUTS];
    if n >= crate::threads::PARALLEL_THRESHOLD || ins.len() > args.len() {
        return None;
    }
    for (a, t) in args.iter_mut().zip(ins) {
        let (t, single) = (*t)?;
        *a = if single { element(t, 0)? } else { slice_arg(t)? };
    }
    let args = &args[..ins.len()];
    match kernel.out_dtype() {
        DType::F64 => out.produce::<f64>(shape, |buf| kernel.run_uninit(args, buf).ok()),
        DType::F32 => out.produce::<f32>(shape, |buf| kernel.run_uninit(args, buf).ok()),
        _ => None,
    }
}
