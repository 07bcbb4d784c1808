//! Native kernels for `Mode::Jit`: each fused elementwise node (`Composite`, and the body of
//! a `FusedReduce`) of the optimized graph compiled once by `tensorlift-jit`, and run in
//! place of its reference kernel when the run-time layout allows (inputs contiguous and of
//! the result's shape, or single values). Anything else — other ops, programs the JIT does
//! not support yet, broadcasting along some axes only — runs the reference kernel.

use std::collections::HashMap;
use std::sync::Arc;
use tensorlift_ir::kernels::{self, KernelInput};
use tensorlift_ir::{DType, FunctionGraph, NodeId, Op, Tensor, TensorType, ValueError};
use tensorlift_jit::kernel::{ElementwiseKernel, KernelArg};

/// The compiled kernels of one graph, by node.
#[derive(Clone, Default)]
pub struct NativeKernels {
    kernels: HashMap<NodeId, Arc<ElementwiseKernel>>,
}

impl std::fmt::Debug for NativeKernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeKernels({} kernels)", self.kernels.len())
    }
}

impl NativeKernels {
    /// Compiles every fused node of `g` the JIT supports.
    pub fn compile(g: &FunctionGraph) -> NativeKernels {
        let mut kernels = HashMap::new();
        for id in g.toposort() {
            let node = g.node(id);
            let program = match &node.op {
                Op::Composite(p) | Op::FusedReduce { body: p, .. } => &**p,
                // A lone elementwise op stays on the reference kernel: measured on W1 (x**2)
                // and W2 (sigmoid) at 1e6 elements, the native call does not beat ndarray's
                // own loop yet (see the note on Mode::Jit in the README).
                _ => continue,
            };
            // A program the JIT cannot compile yet runs on the reference kernel.
            if let Ok(k) = crate::cache::kernel(program) {
                kernels.insert(id, k);
            }
        }
        NativeKernels { kernels }
    }

    /// Runs `kernel` for node `id` from now on (a test hook).
    pub(crate) fn replace(&mut self, id: NodeId, kernel: ElementwiseKernel) {
        self.kernels.insert(id, Arc::new(kernel));
    }

    /// Number of compiled kernels.
    pub fn len(&self) -> usize {
        self.kernels.len()
    }

    /// True when nothing was compiled.
    pub fn is_empty(&self) -> bool {
        self.kernels.is_empty()
    }

    /// Each kernel with the node it computes (`pp`, two levels deep), in node order.
    pub fn kernels(&self, g: &FunctionGraph) -> Vec<(String, &ElementwiseKernel)> {
        let mut out: Vec<(NodeId, &ElementwiseKernel)> =
            self.kernels.iter().map(|(&id, k)| (id, &**k)).collect();
        out.sort_by_key(|(id, _)| *id);
        out.into_iter().map(|(id, k)| (tensorlift_ir::pp_graph_depth(g, id, 2), k)).collect()
    }

    /// The CLIF of each kernel, with the node it computes.
    pub fn clif(&self, g: &FunctionGraph) -> Vec<(String, String)> {
        self.kernels(g).into_iter().map(|(node, k)| (node, k.clif().to_string())).collect()
    }

    /// Evaluates node `id` natively, or `None` when it has no kernel or the layout does not
    /// suit it (the caller then runs the reference kernel).
    pub fn eval(
        &self,
        id: NodeId,
        op: &Op,
        inputs: &[KernelInput<'_>],
        out_ty: &TensorType,
    ) -> Option<Result<Tensor, ValueError>> {
        let kernel = self.kernels.get(&id)?;
        let name = match op {
            Op::Elemwise(s) => s.name(),
            _ => "composite",
        };
        let shape = match kernels::broadcast_runtime(name, inputs) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let elem = run(kernel, inputs, &shape)?;
        Some(match op {
            Op::FusedReduce { op, axes, keepdims, .. } => {
                let ty = TensorType::unknown(elem.dtype(), elem.ndim());
                let reduce = Op::Reduce { op: *op, axes: axes.clone(), keepdims: *keepdims };
                kernels::eval(&reduce, &[KernelInput { value: &elem, ty: &ty, name: "composite" }], out_ty)
            }
            _ => Ok(elem),
        })
    }
}

/// Runs `kernel` over `shape` if every input is contiguous with that shape or one value.
fn run(kernel: &ElementwiseKernel, inputs: &[KernelInput<'_>], shape: &[usize]) -> Option<Tensor> {
    let mut args = Vec::with_capacity(inputs.len());
    for i in inputs {
        let arg = match i.value {
            Tensor::F64(a) if a.len() == 1 => KernelArg::ScalarF64(*a.iter().next()?),
            Tensor::F32(a) if a.len() == 1 => KernelArg::ScalarF32(*a.iter().next()?),
            Tensor::F64(a) if a.shape() == shape => KernelArg::F64(a.as_slice()?),
            Tensor::F32(a) if a.shape() == shape => KernelArg::F32(a.as_slice()?),
            _ => return None,
        };
        args.push(arg);
    }
    let n: usize = shape.iter().product();
    let dims = ndarray::IxDyn(shape);
    match kernel.out_dtype() {
        DType::F64 => {
            let mut out = vec![0.0f64; n];
            kernel.run(&args, &mut out).ok()?;
            Some(Tensor::from(ndarray::ArrayD::from_shape_vec(dims, out).ok()?))
        }
        DType::F32 => {
            let mut out = vec![0.0f32; n];
            kernel.run(&args, &mut out).ok()?;
            Some(Tensor::from(ndarray::ArrayD::from_shape_vec(dims, out).ok()?))
        }
        _ => None,
    }
}
