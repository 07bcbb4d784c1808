//! Native kernels for `Mode::Jit`: each elementwise node (`Composite`, or the body of a
//! `FusedReduce`; the optimizer makes every program) of the optimized graph compiled once by
//! `tensorlift-jit` (through the JIT cache), and run in place of its reference kernel.
//! The fast layouts run here: inputs contiguous and of the result's shape, single values,
//! bias rows or columns, as whole slices or row by row. Any other layout (transposed,
//! stepped or reversed views, broadcasting along any mix of axes) takes the general path
//! of `crate::strided`. A multi-output composite writes all its outputs in one pass (inputs
//! contiguous or single values). Large runs are split over the threads. Other ops,
//! programs the JIT does not support and non-float inputs run the reference kernel.
//! [`NativeRuns`] counts which path each run took.

use crate::layout::{as_uninit, element, layout, Fill, Layout};
use crate::threads::in_parts;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tensorlift_ir::kernels::{self, KernelInput};
use tensorlift_ir::value::Sink;
use tensorlift_ir::{DType, FunctionGraph, NodeId, Op, Tensor, TensorElement, TensorType, ValueError};
use tensorlift_jit::{ElementwiseKernel, KernelArg, KernelOut};

/// The compiled kernels of one graph, by node.
#[derive(Clone, Default)]
pub struct NativeKernels {
    /// By node index (a lookup per node and call: no hashing).
    kernels: Vec<Option<Arc<ElementwiseKernel>>>,
    /// Float `dot`/`gemm` run threaded (`crate::matmul`).
    matmul: bool,
    /// Which path the kernels' runs took (shared by clones).
    runs: Arc<RunCounters>,
}

/// How often the native elementwise kernels of a compiled graph ran, by the path the
/// layout of their inputs took (`Function::native_runs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NativeRuns {
    /// Runs over inputs contiguous and of the result's shape, single values, bias rows or
    /// columns (whole, row by row, or as a fused reduction chunk by chunk).
    pub contiguous: u64,
    /// Runs through the general path: transposed, stepped or reversed views, broadcasting
    /// along any mix of axes.
    pub strided: u64,
    /// Nodes with a native kernel that ran their reference kernel instead (inputs the
    /// kernel cannot read, such as `bool` or integer tensors).
    pub reference: u64,
}

/// The atomic counters behind [`NativeRuns`].
#[derive(Debug, Default)]
struct RunCounters {
    contiguous: AtomicU64,
    strided: AtomicU64,
    reference: AtomicU64,
}

/// Which path a native run took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// The fast layouts of this module.
    Contiguous,
    /// `crate::strided`.
    Strided,
}

impl RunCounters {
    fn count(&self, path: Option<Path>) {
        let counter = match path {
            Some(Path::Contiguous) => &self.contiguous,
            Some(Path::Strided) => &self.strided,
            None => &self.reference,
        };
        counter.fetch_add(1, Relaxed);
    }
}

impl std::fmt::Debug for NativeKernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeKernels({} kernels)", self.len())
    }
}

/// Nodes with more inputs than this run on the reference kernel: the register allocator's
/// time for a kernel that reads thousands of arrays (a flat sum `x + x + … + x` written out
/// term by term) grows much faster than the count, and far beyond what the kernel saves.
const MAX_NATIVE_INPUTS: usize = 256;

impl NativeKernels {
    /// Compiles every fused node of `g` the JIT supports.
    pub fn compile(g: &FunctionGraph) -> NativeKernels {
        let mut kernels = vec![None; g.len()];
        for id in g.toposort() {
            let node = g.node(id);
            if node.inputs.len() > MAX_NATIVE_INPUTS {
                continue;
            }
            // The optimizer makes every kernel program (its `lower` phase turns lone
            // elementwise ops into one-op composites).
            let program = match &node.op {
                Op::Composite(p) | Op::FusedReduce { body: p, .. } => &**p,
                _ => continue,
            };
            // A program the JIT cannot compile yet runs on the reference kernel.
            if let Ok(k) = crate::kernel_cache::kernel(program) {
                kernels[id.index()] = Some(k);
            }
        }
        NativeKernels { kernels, matmul: true, runs: Arc::default() }
    }

    /// How often the kernels ran, by path, since the graph was compiled.
    pub fn runs(&self) -> NativeRuns {
        NativeRuns {
            contiguous: self.runs.contiguous.load(Relaxed),
            strided: self.runs.strided.load(Relaxed),
            reference: self.runs.reference.load(Relaxed),
        }
    }

    /// Runs `kernel` for node `id` from now on (a test hook).
    pub(crate) fn replace(&mut self, id: NodeId, kernel: ElementwiseKernel) {
        if self.kernels.len() <= id.index() {
            self.kernels.resize(id.index() + 1, None);
        }
        self.kernels[id.index()] = Some(Arc::new(kernel));
    }

    /// Counts a run over the fast layouts made outside this type (`crate::fast`).
    pub(crate) fn count_contiguous(&self) {
        self.runs.count(Some(Path::Contiguous));
    }

    /// The native kernel of node `id`, if it has one.
    pub(crate) fn kernel(&self, id: NodeId) -> Option<&Arc<ElementwiseKernel>> {
        self.kernels.get(id.index())?.as_ref()
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
        let out = g.ids().zip(&self.kernels).filter_map(|(id, kernel)| Some((id, &**kernel.as_ref()?)));
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
        sinks: &mut [Option<&mut Sink<'_>>],
    ) -> Option<Result<Vec<Tensor>, ValueError>> {
        let kernel = self.kernels.get(id.index())?.as_ref()?;
        let shape = match kernels::broadcast_runtime("composite", inputs) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        if let Err(e) = tensorlift_ir::value::checked_len("composite", &shape, kernel.out_dtype()) {
            return Some(Err(e));
        }
        let args: Vec<KernelArg<'_>> = inputs
            .iter()
            .map(|i| match layout(i.value, &shape)? {
                Layout::Full(a) | Layout::Scalar(a) => Some(a),
                _ => None,
            })
            .collect::<Option<_>>()?;
        run_outputs(kernel, &args, &shape, sinks)
    }

    /// Like [`eval`](Self::eval), writing an elementwise result into `sink` when it has the
    /// result's dtype and shape (the returned tensor then shares `sink`'s data).
    pub fn eval_into(
        &self,
        id: NodeId,
        op: &Op,
        inputs: &[KernelInput<'_>],
        out_ty: &TensorType,
        sink: Option<&mut Sink<'_>>,
    ) -> Option<Result<Tensor, ValueError>> {
        if self.matmul && matches!(op, Op::Dot | Op::Gemm) {
            return crate::matmul::eval(op, inputs, out_ty.dtype, sink).map(Ok);
        }
        let kernel = self.kernels.get(id.index())?.as_ref()?;
        let name = kernel_name(op);
        let shape = match kernels::broadcast_runtime(name, inputs) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        // A size that does not fit the address space is an error before anything runs (the
        // layouts below multiply lengths).
        if let Err(e) = tensorlift_ir::value::checked_len(name, &shape, kernel.out_dtype()) {
            return Some(Err(e));
        }
        if let Op::FusedReduce { op: rop, axes, keepdims, body } = op {
            if out_ty.dtype == kernel.out_dtype() {
                // A body that returns an input unchanged: the reduction reads it in place.
                let direct = body.outputs().first().map(|v| v.index()).filter(|&k| {
                    body.outputs().len() == 1 && body.inputs.get(k) == Some(&kernel.out_dtype())
                });
                if let Some(t) = crate::reduce::fused(kernel, direct, *rop, axes, *keepdims, inputs, &shape) {
                    crate::reduce::count_native();
                    self.runs.count(Some(Path::Contiguous));
                    return Some(t);
                }
            }
        }
        let sink = if matches!(op, Op::FusedReduce { .. }) { None } else { sink };
        let ran = run(kernel, name, inputs, &shape, sink);
        self.runs.count(ran.as_ref().map(|(_, path)| *path));
        let elem = match ran?.0 {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
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

/// The name a kernel's errors give (`ScalarProgram::kernel_name`).
fn kernel_name(op: &Op) -> &'static str {
    match op {
        Op::Elemwise(s) => s.name(),
        Op::Composite(p) => p.kernel_name(),
        _ => "composite",
    }
}

/// Runs `kernel` over `shape`: through the fast layouts when every input is contiguous and
/// either has the result's shape, one element, only its trailing axes (a bias row) or only
/// its leading axes (a column) — the last two with one split point between them —, else
/// through the general strided path. `None` (the reference kernel runs) for inputs neither
/// can read and for a `sink` that does not fit; an error (`ValueError::Memory` of `op`)
/// when the result cannot be allocated.
fn run(
    kernel: &ElementwiseKernel,
    op: &str,
    inputs: &[KernelInput<'_>],
    shape: &[usize],
    sink: Option<&mut Sink<'_>>,
) -> Option<(Result<Tensor, ValueError>, Path)> {
    let Some((layouts, split)) = fast_layouts(inputs, shape) else {
        let walk = crate::strided::Walk::new(kernel, inputs, shape)?;
        return Some((write_result(kernel.out_dtype(), op, shape, sink, &walk)?, Path::Strided));
    };
    let s = split.unwrap_or(0);
    let outer: usize = shape[..s].iter().product();
    let inner: usize = shape[s..].iter().product();
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
    // The arguments of rows from row `first` for one `run_rows` call, and how far each
    // moves from one row to the next: a full input by a row, a bias row and a single
    // value not at all, a column (one value per row) by one value.
    let rows_from = |first: usize| -> Option<(Vec<KernelArg<'_>>, Vec<isize>)> {
        let step = isize::try_from(inner).ok()?;
        layouts
            .iter()
            .map(|l| {
                Some(match *l {
                    Layout::Full(a) => (a.slice(first * inner..a.len()?), step),
                    Layout::Scalar(a) | Layout::Trailing(_, a) => (a, 0),
                    Layout::Leading(_, t) => match crate::layout::slice_arg(t)? {
                        KernelArg::F64(data) => (KernelArg::StridedF64 { data, first, stride: 0 }, 1),
                        KernelArg::F32(data) => (KernelArg::StridedF32 { data, first, stride: 0 }, 1),
                        _ => return None,
                    },
                })
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().unzip())
    };
    let parts =
        Parts { kernel, outer, inner, rows: split.is_some(), args_for: &args_for, rows_from: &rows_from };
    Some((write_result(kernel.out_dtype(), op, shape, sink, &parts)?, Path::Contiguous))
}

/// The fast layout of every input and their common split point, if they have one.
fn fast_layouts<'a>(inputs: &[KernelInput<'a>], shape: &[usize]) -> Option<(Vec<Layout<'a>>, Option<usize>)> {
    let layouts: Vec<Layout<'a>> = inputs.iter().map(|i| layout(i.value, shape)).collect::<Option<_>>()?;
    let mut split = None;
    for l in &layouts {
        if let Layout::Trailing(s, _) | Layout::Leading(s, _) = *l {
            if split.is_some_and(|t| t != s) {
                return None;
            }
            split = Some(s);
        }
    }
    Some((layouts, split))
}

/// The result of `fill` over `shape` in `dtype`: written into `sink` when it has the
/// result's dtype and shape and gives its contiguous data (`Sink::data_mut`; else `None`),
/// otherwise into a new array (`ValueError::Memory` of `op` when it cannot be allocated).
pub(crate) fn write_result(
    dtype: DType,
    op: &str,
    shape: &[usize],
    sink: Option<&mut Sink<'_>>,
    fill: &impl Fill,
) -> Option<Result<Tensor, ValueError>> {
    if let Some(sink) = sink {
        if sink.shape() != shape || sink.dtype() != dtype {
            return None;
        }
        match dtype {
            DType::F64 => fill.fill(as_uninit(sink.data_mut::<f64>()?))?,
            DType::F32 => fill.fill(as_uninit(sink.data_mut::<f32>()?))?,
            _ => return None,
        }
        return Some(Ok(sink.tensor()));
    }
    match dtype {
        DType::F64 => fresh::<f64>(op, shape, fill),
        DType::F32 => fresh::<f32>(op, shape, fill),
        _ => None,
    }
}

/// A fresh output buffer of either float dtype.
enum Buf {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

/// Every output of a multi-output kernel over `shape`, in one pass: output `k` written into
/// `sinks[k]` when given and it has the output's dtype and shape and gives its contiguous
/// data (`Sink::data_mut`), otherwise into a buffer of the call's pool or a new
/// one. `None` for non-float outputs or a failed run.
fn run_outputs(
    kernel: &ElementwiseKernel,
    args: &[KernelArg<'_>],
    shape: &[usize],
    sinks: &mut [Option<&mut Sink<'_>>],
) -> Option<Result<Vec<Tensor>, ValueError>> {
    if kernel.output_dtypes().iter().any(|d| !d.is_float()) {
        return None;
    }
    /// Where one output goes.
    enum Dest<'s, 'k> {
        New(Buf),
        Sink(&'s mut Sink<'k>),
    }
    let mut dests: Vec<Dest<'_, '_>> = Vec::with_capacity(kernel.output_dtypes().len());
    let mut sinks = sinks.iter_mut();
    for &d in kernel.output_dtypes() {
        let sink =
            sinks.next().and_then(|s| s.as_deref_mut()).filter(|t| t.dtype() == d && t.shape() == shape);
        if let Some(t) = sink {
            dests.push(Dest::Sink(t));
            continue;
        }
        let buf = match d {
            DType::F64 => crate::pool::buffer("composite", shape).map(Buf::F64),
            _ => crate::pool::buffer("composite", shape).map(Buf::F32),
        };
        match buf {
            Ok(b) => dests.push(Dest::New(b)),
            Err(e) => return Some(Err(e)),
        }
    }
    // The count fits: `checked_len` checked it.
    let n: usize = shape.iter().product();
    let threads = crate::threads::for_len(n);
    let per = n.div_ceil(threads).max(1);
    // parts[t]: part `t` of every output.
    let mut parts: Vec<Vec<KernelOut<'_>>> = (0..n.div_ceil(per)).map(|_| Vec::new()).collect();
    for dest in &mut dests {
        let out = match dest {
            Dest::New(Buf::F64(v)) => KernelOut::F64(&mut v.spare_capacity_mut()[..n]),
            Dest::New(Buf::F32(v)) => KernelOut::F32(&mut v.spare_capacity_mut()[..n]),
            Dest::Sink(s) => match s.dtype() {
                DType::F64 => KernelOut::F64(as_uninit(s.data_mut::<f64>()?)),
                DType::F32 => KernelOut::F32(as_uninit(s.data_mut::<f32>()?)),
                _ => return None,
            },
        };
        match out {
            KernelOut::F64(o) => {
                for (t, c) in o.chunks_mut(per).enumerate() {
                    parts[t].push(KernelOut::F64(c));
                }
            }
            KernelOut::F32(o) => {
                for (t, c) in o.chunks_mut(per).enumerate() {
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
    let outputs = dests
        .into_iter()
        .map(|d| {
            Some(match d {
                Dest::Sink(s) => s.tensor(),
                Dest::New(Buf::F64(mut v)) => {
                    // SAFETY: a successful run wrote every element of the first `n`.
                    unsafe { v.set_len(n) };
                    Tensor::from(ndarray::ArrayD::from_shape_vec(dims.clone(), v).ok()?)
                }
                Dest::New(Buf::F32(mut v)) => {
                    // SAFETY: as above.
                    unsafe { v.set_len(n) };
                    Tensor::from(ndarray::ArrayD::from_shape_vec(dims.clone(), v).ok()?)
                }
            })
        })
        .collect::<Option<Vec<Tensor>>>();
    outputs.map(Ok)
}

/// An array of `shape` (its buffer from the call's pool, or new) computed by `fill`;
/// `None` when `fill` fails, `ValueError::Memory` of `op` when the buffer cannot be had.
fn fresh<T: TensorElement + Send + crate::pool::Pooled>(
    op: &str,
    shape: &[usize],
    fill: &impl Fill,
) -> Option<Result<Tensor, ValueError>> {
    let mut out: Vec<T> = match crate::pool::buffer(op, shape) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    // The count fits: `buffer` checked it.
    let n: usize = shape.iter().product();
    fill.fill(&mut out.spare_capacity_mut()[..n])?;
    // SAFETY: a successful `fill` wrote every element of the first `n`.
    unsafe { out.set_len(n) };
    Some(Ok(T::wrap(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), out).ok()?.into_shared())))
}

/// The fast layouts' run: whole (`rows == false`) or row by row, each part's arguments
/// from `args_for(first_row, rows)`; without a split, "rows" are single elements.
struct Parts<'k, 'a> {
    kernel: &'k ElementwiseKernel,
    outer: usize,
    inner: usize,
    rows: bool,
    args_for: &'k (dyn Fn(usize, usize) -> Option<Vec<KernelArg<'a>>> + Sync),
    /// Row by row: the arguments from row `first` on, and their steps from row to row.
    #[allow(clippy::type_complexity)]
    rows_from: &'k (dyn Fn(usize) -> Option<(Vec<KernelArg<'a>>, Vec<isize>)> + Sync),
}

impl Fill for Parts<'_, '_> {
    fn fill<T: tensorlift_ir::Element + Send>(&self, buf: &mut [MaybeUninit<T>]) -> Option<()> {
        let (kernel, inner, args_for, rows_from) = (self.kernel, self.inner, self.args_for, self.rows_from);
        debug_assert_eq!(buf.len(), self.outer * inner);
        if buf.is_empty() {
            return Some(());
        }
        let unit = if self.rows { inner } else { 1 };
        let rows = self.rows;
        // One part: from element `first` (a whole number of rows), all elements of its rows.
        in_parts(buf, unit, |first, part| {
            if rows {
                // One call for the part's rows (long ones go through the chunk plan).
                let (args, steps) = rows_from(first / inner)?;
                kernel.run_rows(&args, &steps, part.len() / inner, part).ok()
            } else {
                kernel.run_uninit(&args_for(first, part.len())?, part).ok()
            }
        })
    }
}
