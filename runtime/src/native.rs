//! Native kernels for `Mode::Jit`: each elementwise node (`Composite`, the body of a
//! `FusedReduce`, or a lone elementwise op) of the optimized graph compiled once by
//! `tensorlift-jit` (through the JIT cache), and run in place of its reference kernel when
//! the run-time layout allows: inputs contiguous and of the result's shape, single values,
//! bias rows or columns. A multi-output composite writes all its outputs in one pass
//! (inputs contiguous or single values). Large runs are split over the threads. Anything else — other ops,
//! programs the JIT does not support, other broadcasting — runs the reference kernel.

use std::sync::Arc;
use tensorlift_ir::kernels::{self, KernelInput};
use tensorlift_ir::{DType, FunctionGraph, NodeId, Op, Tensor, TensorType, ValueError};
use tensorlift_jit::kernel::{ElementwiseKernel, KernelArg, KernelOut};

/// The compiled kernels of one graph, by node.
#[derive(Clone, Default)]
pub struct NativeKernels {
    /// By node index (a lookup per node and call: no hashing).
    kernels: Vec<Option<Arc<ElementwiseKernel>>>,
    /// Float `dot`/`gemm` run threaded (`crate::matmul`).
    matmul: bool,
}

impl std::fmt::Debug for NativeKernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeKernels({} kernels)", self.len())
    }
}

impl NativeKernels {
    /// Compiles every fused node of `g` the JIT supports.
    pub fn compile(g: &FunctionGraph) -> NativeKernels {
        let mut kernels = vec![None; g.len()];
        for id in g.toposort() {
            let node = g.node(id);
            let lone;
            let program = match &node.op {
                Op::Composite(p) | Op::FusedReduce { body: p, .. } => &**p,
                Op::Elemwise(op) => match single_op(g, id, *op) {
                    Some(p) => {
                        lone = p;
                        &lone
                    }
                    None => continue,
                },
                _ => continue,
            };
            // A program the JIT cannot compile yet runs on the reference kernel.
            if let Ok(k) = crate::cache::kernel(program) {
                kernels[id.index()] = Some(k);
            }
        }
        NativeKernels { kernels, matmul: true }
    }

    /// Runs `kernel` for node `id` from now on (a test hook).
    pub(crate) fn replace(&mut self, id: NodeId, kernel: ElementwiseKernel) {
        if self.kernels.len() <= id.index() {
            self.kernels.resize(id.index() + 1, None);
        }
        self.kernels[id.index()] = Some(Arc::new(kernel));
    }

    /// True when node `id` has a native kernel.
    pub fn has_kernel(&self, id: NodeId) -> bool {
        self.kernels.get(id.index()).is_some_and(Option::is_some)
    }

    /// True when float matrix products run on the threaded matrix kernel.
    pub fn matmul(&self) -> bool {
        self.matmul
    }

    /// Number of compiled kernels.
    pub fn len(&self) -> usize {
        self.kernels.iter().flatten().count()
    }

    /// True when nothing was compiled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each kernel with the node it computes (`pp`, two levels deep), in node order.
    pub fn kernels(&self, g: &FunctionGraph) -> Vec<(String, &ElementwiseKernel)> {
        let out = self
            .kernels
            .iter()
            .enumerate()
            .filter_map(|(k, kernel)| Some((NodeId(k as u32), &**kernel.as_ref()?)));
        out.map(|(id, k)| (tensorlift_ir::pp_graph_depth(g, id, 2), k)).collect()
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
        self.eval_into(id, op, inputs, out_ty, None)
    }

    /// Evaluates the multi-output composite `id` natively: every output, in order, computed
    /// in one pass. `None` when it has no kernel or an input is neither contiguous with the
    /// result's shape nor a single value (the caller then runs the reference kernel).
    pub fn eval_outputs(
        &self,
        id: NodeId,
        inputs: &[KernelInput<'_>],
    ) -> Option<Result<Vec<Tensor>, ValueError>> {
        let kernel = self.kernels.get(id.index())?.as_ref()?;
        let shape = match kernels::broadcast_runtime("composite", inputs) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let args: Vec<KernelArg<'_>> = inputs
            .iter()
            .map(|i| match layout(i.value, &shape)? {
                Layout::Full(a) | Layout::Scalar(a) => Some(a),
                _ => None,
            })
            .collect::<Option<_>>()?;
        run_outputs(kernel, &args, &shape).map(Ok)
    }

    /// Like [`eval`](Self::eval), writing an elementwise result into `sink` when it has the
    /// result's dtype and shape (the returned tensor then shares `sink`'s data).
    pub fn eval_into(
        &self,
        id: NodeId,
        op: &Op,
        inputs: &[KernelInput<'_>],
        out_ty: &TensorType,
        sink: Option<&mut Tensor>,
    ) -> Option<Result<Tensor, ValueError>> {
        if self.matmul && matches!(op, Op::Dot | Op::Gemm) {
            return crate::matmul::eval(op, inputs, out_ty.dtype).map(Ok);
        }
        let kernel = self.kernels.get(id.index())?.as_ref()?;
        let name = match op {
            Op::Elemwise(s) => s.name(),
            _ => "composite",
        };
        let shape = match kernels::broadcast_runtime(name, inputs) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        if let Op::FusedReduce { op: rop, axes, keepdims, .. } = op {
            if out_ty.dtype == kernel.out_dtype() {
                if let Some(t) = crate::reduce::fused(kernel, *rop, axes, *keepdims, inputs, &shape) {
                    crate::reduce::count_native();
                    return Some(Ok(t));
                }
            }
        }
        let sink = if matches!(op, Op::FusedReduce { .. }) { None } else { sink };
        let elem = run(kernel, inputs, &shape, sink)?;
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

/// The program of a lone elementwise node: its op applied to its inputs.
fn single_op(
    g: &FunctionGraph,
    id: NodeId,
    op: tensorlift_ir::ScalarOp,
) -> Option<tensorlift_ir::ScalarProgram> {
    let node = g.node(id);
    let inputs: Vec<DType> = node.inputs.iter().map(|&i| g.ty(i).dtype).collect();
    let n = inputs.len();
    let p = tensorlift_ir::ScalarProgram {
        inputs,
        nodes: vec![tensorlift_ir::ScalarNode::Apply { op, args: (0..n).collect(), dtype: node.ty.dtype }],
        output: n,
        extra_outputs: Vec::new(),
    };
    p.validate().ok().map(|_| p)
}

/// How one input of a kernel run is laid out against the result's shape, split at axis
/// `s` into `outer` rows of `inner` elements.
#[derive(Clone, Copy)]
pub(crate) enum Layout<'a> {
    /// As many elements as the result, contiguous.
    Full(KernelArg<'a>),
    /// One value for every element.
    Scalar(KernelArg<'a>),
    /// The trailing axes `s..` only (a row bias): the same slice for every row.
    Trailing(usize, KernelArg<'a>),
    /// The leading axes `..s` only (a column): one value per row.
    Leading(usize, &'a Tensor),
}

/// The contiguous data of a float tensor as a kernel argument.
fn slice_arg(t: &Tensor) -> Option<KernelArg<'_>> {
    match t {
        Tensor::F64(a) => Some(KernelArg::F64(a.as_slice()?)),
        Tensor::F32(a) => Some(KernelArg::F32(a.as_slice()?)),
        _ => None,
    }
}

/// Element `k` of a contiguous float tensor, as a scalar argument.
pub(crate) fn element(t: &Tensor, k: usize) -> Option<KernelArg<'static>> {
    match t {
        Tensor::F64(a) => Some(KernelArg::ScalarF64(*a.as_slice()?.get(k)?)),
        Tensor::F32(a) => Some(KernelArg::ScalarF32(*a.as_slice()?.get(k)?)),
        _ => None,
    }
}

pub(crate) fn layout<'a>(t: &'a Tensor, shape: &[usize]) -> Option<Layout<'a>> {
    let n = t.len();
    if n == 1 {
        return Some(Layout::Scalar(element(t, 0)?));
    }
    let arg = slice_arg(t)?;
    if t.shape() == shape {
        return Some(Layout::Full(arg));
    }
    // The input's shape, left-padded with 1s to the result's rank.
    let nd = shape.len();
    let mut p = vec![1; nd - t.ndim().min(nd)];
    p.extend_from_slice(t.shape());
    let ones_before = p.iter().take_while(|&&d| d == 1).count();
    if p[ones_before..] == shape[ones_before..] {
        return Some(Layout::Trailing(ones_before, arg));
    }
    let ones_after = p.iter().rev().take_while(|&&d| d == 1).count();
    let s = nd - ones_after;
    if p[..s] == shape[..s] {
        return Some(Layout::Leading(s, t));
    }
    None
}

/// Runs `kernel` over `shape` if every input is contiguous and either has the result's
/// shape, one element, only its trailing axes (a bias row) or only its leading axes (a
/// column) — the last two with one split point between them. Large runs are split over
/// the threads.
fn run(
    kernel: &ElementwiseKernel,
    inputs: &[KernelInput<'_>],
    shape: &[usize],
    sink: Option<&mut Tensor>,
) -> Option<Tensor> {
    let layouts: Vec<Layout<'_>> = inputs.iter().map(|i| layout(i.value, shape)).collect::<Option<_>>()?;
    let mut split = None;
    for l in &layouts {
        if let Layout::Trailing(s, _) | Layout::Leading(s, _) = *l {
            if split.is_some_and(|t| t != s) {
                return None;
            }
            split = Some(s);
        }
    }
    let s = split.unwrap_or(0);
    let outer: usize = shape[..s].iter().product();
    let inner: usize = shape[s..].iter().product();
    let n = outer * inner;
    // Without a split, a "row" is one element.
    let unit = if split.is_some() { inner } else { 1 };
    // The arguments for `count` rows from row `first`.
    let args_for = |first: usize, count: usize| -> Option<Vec<KernelArg<'_>>> {
        layouts
            .iter()
            .map(|l| {
                Some(match *l {
                    Layout::Full(a) => a.slice(first * unit..(first + count) * unit),
                    Layout::Scalar(a) => a,
                    Layout::Trailing(_, a) => a,
                    Layout::Leading(_, t) => element(t, first)?,
                })
            })
            .collect()
    };
    let rows = split.is_some();
    if let Some(sink) = sink {
        // The caller's array, when it has the result's dtype and shape and owns its
        // contiguous data (a shared one is copied first).
        if sink.shape() != shape || sink.dtype() != kernel.out_dtype() {
            return None;
        }
        match sink {
            Tensor::F64(a) => fill_into(kernel, as_uninit(a.as_slice_mut()?), outer, inner, rows, &args_for)?,
            Tensor::F32(a) => fill_into(kernel, as_uninit(a.as_slice_mut()?), outer, inner, rows, &args_for)?,
            _ => return None,
        }
        return Some(sink.clone());
    }
    let dims = ndarray::IxDyn(shape);
    match kernel.out_dtype() {
        DType::F64 => {
            let v = fill::<f64>(kernel, n, outer, inner, rows, &args_for)?;
            Some(Tensor::from(ndarray::ArrayD::from_shape_vec(dims, v).ok()?))
        }
        DType::F32 => {
            let v = fill::<f32>(kernel, n, outer, inner, rows, &args_for)?;
            Some(Tensor::from(ndarray::ArrayD::from_shape_vec(dims, v).ok()?))
        }
        _ => None,
    }
}

/// A fresh output buffer of either float dtype.
enum Buf {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

/// Computes every output of a multi-output kernel over `shape` (its arguments contiguous
/// over the whole result, or single values), split over the threads when large.
fn run_outputs(kernel: &ElementwiseKernel, args: &[KernelArg<'_>], shape: &[usize]) -> Option<Vec<Tensor>> {
    let n: usize = shape.iter().product();
    let mut bufs: Vec<Buf> = kernel
        .output_dtypes()
        .iter()
        .map(|d| match d {
            DType::F64 => Some(Buf::F64(crate::pool::buffer(n))),
            DType::F32 => Some(Buf::F32(crate::pool::buffer(n))),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let threads = if n >= PARALLEL_THRESHOLD { crate::threads::num_threads() } else { 1 };
    let per = n.div_ceil(threads).max(1);
    // parts[t]: part `t` of every output.
    let mut parts: Vec<Vec<KernelOut<'_>>> = (0..n.div_ceil(per)).map(|_| Vec::new()).collect();
    for buf in &mut bufs {
        match buf {
            Buf::F64(v) => {
                for (t, c) in v.spare_capacity_mut()[..n].chunks_mut(per).enumerate() {
                    parts[t].push(KernelOut::F64(c));
                }
            }
            Buf::F32(v) => {
                for (t, c) in v.spare_capacity_mut()[..n].chunks_mut(per).enumerate() {
                    parts[t].push(KernelOut::F32(c));
                }
            }
        }
    }
    let run_part = |t: usize, outs: &mut [KernelOut<'_>]| -> Option<()> {
        let range = t * per..(t * per + outs.first().map_or(0, KernelOut::len));
        let args: Vec<KernelArg<'_>> = args.iter().map(|a| a.slice(range.clone())).collect();
        kernel.run_outputs_uninit(&args, outs).ok()
    };
    let ok = if parts.len() <= 1 {
        parts.iter_mut().enumerate().all(|(t, outs)| run_part(t, outs).is_some())
    } else {
        let ok = std::sync::atomic::AtomicBool::new(true);
        rayon::scope(|sc| {
            for (t, outs) in parts.iter_mut().enumerate() {
                let (ok, run_part) = (&ok, &run_part);
                sc.spawn(move |_| {
                    if run_part(t, outs).is_none() {
                        ok.store(false, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        ok.into_inner()
    };
    drop(parts);
    if !ok {
        return None;
    }
    let dims = ndarray::IxDyn(shape);
    bufs.into_iter()
        .map(|b| {
            Some(match b {
                Buf::F64(mut v) => {
                    // SAFETY: a successful run wrote every element of the first `n`.
                    unsafe { v.set_len(n) };
                    Tensor::from(ndarray::ArrayD::from_shape_vec(dims.clone(), v).ok()?)
                }
                Buf::F32(mut v) => {
                    // SAFETY: as above.
                    unsafe { v.set_len(n) };
                    Tensor::from(ndarray::ArrayD::from_shape_vec(dims.clone(), v).ok()?)
                }
            })
        })
        .collect()
}

/// An initialized buffer seen as one the kernels may write.
fn as_uninit<T>(s: &mut [T]) -> &mut [std::mem::MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the kernels only ever write
    // initialized values of `T` (never uninitialized bytes) through the returned slice.
    unsafe { &mut *(s as *mut [T] as *mut [std::mem::MaybeUninit<T>]) }
}

/// Elements above which a kernel run is split over the threads (measured: below it, waking
/// a second thread costs more than it saves on the cheapest kernels).
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Computes the `n = outer * inner` elements of a fresh buffer (see [`fill_into`]).
fn fill<'a, T: tensorlift_ir::Element + Send + crate::pool::Pooled>(
    kernel: &ElementwiseKernel,
    n: usize,
    outer: usize,
    inner: usize,
    rows: bool,
    args_for: &(dyn Fn(usize, usize) -> Option<Vec<KernelArg<'a>>> + Sync),
) -> Option<Vec<T>> {
    let mut out: Vec<T> = crate::pool::buffer(n);
    fill_into(kernel, &mut out.spare_capacity_mut()[..n], outer, inner, rows, args_for)?;
    // SAFETY: a successful `fill_into` wrote every element of the first `n`.
    unsafe { out.set_len(n) };
    Some(out)
}

/// Computes the `outer * inner` elements of `buf`: whole (`rows == false`) or row by row,
/// each part's arguments from `args_for(first_row, rows)`, in parallel when large. On
/// `Some`, every element is written.
fn fill_into<'a, T: tensorlift_ir::Element + Send>(
    kernel: &ElementwiseKernel,
    buf: &mut [std::mem::MaybeUninit<T>],
    outer: usize,
    inner: usize,
    rows: bool,
    args_for: &(dyn Fn(usize, usize) -> Option<Vec<KernelArg<'a>>> + Sync),
) -> Option<()> {
    let n = buf.len();
    let threads = if n >= PARALLEL_THRESHOLD { crate::threads::num_threads() } else { 1 };
    // One part: rows `first..first + count` (all elements of them) into `part`.
    let run_part = |first: usize, count: usize, part: &mut [std::mem::MaybeUninit<T>]| -> Option<()> {
        if rows {
            for r in 0..count {
                let args = args_for(first + r, 1)?;
                kernel.run_uninit(&args, &mut part[r * inner..(r + 1) * inner]).ok()?;
            }
            Some(())
        } else {
            kernel.run_uninit(&args_for(first, count)?, part).ok()
        }
    };
    // Parts are ranges of rows; without a split, "rows" are single elements.
    let (units, unit) = if rows { (outer, inner) } else { (n, 1) };
    if threads <= 1 || units < 2 {
        return run_part(0, units, buf);
    }
    let per = units.div_ceil(threads);
    let ok = std::sync::atomic::AtomicBool::new(true);
    rayon::scope(|sc| {
        for (k, part) in buf.chunks_mut(per * unit).enumerate() {
            let (ok, run_part) = (&ok, &run_part);
            sc.spawn(move |_| {
                if run_part(k * per, part.len() / unit, part).is_none() {
                    ok.store(false, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    ok.into_inner().then_some(())
}
