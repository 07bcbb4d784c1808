//! Fused reductions for `Mode::Jit`: `sum`, `mean`, `prod`, `max` and `min` of a fused elementwise
//! body (`FusedReduce`, e.g. `sum(x**2)`, the mean cross-entropy of a training step, the
//! bias gradient `sum(g * (1 - h*h), axis=0)`), computed without the elementwise
//! temporary: the native kernel fills an L1-sized buffer, which is reduced at once. Over
//! every axis the work goes chunk by chunk; over the trailing axes row by row
//! (`sum(e, axis=-1)`); over one run of leading or middle axes (`axis=0` of a matrix,
//! `axis=1` of a 3-d tensor) block of rows by block of rows, each row's kernel output
//! accumulated column-wise.
//!
//! Summation is blocked: each chunk of [`CHUNK`] values is summed with 8 independent
//! accumulators in `float64` (for `float32` data too), and the chunks' partial sums are
//! added pairwise. The error is at most about `(CHUNK/8 + 3 + log2(n/CHUNK)) · ε · Σ|x|`
//! with `ε` the `float64` epsilon — for `float32` data well below one `float32` ulp of the
//! result's magnitude scale even at 1e7 elements (a sequential `float32` sum can be off by
//! `n · ε32`). Chunk boundaries do not depend on the number of threads, so the result is
//! the same on one thread or several. `max`/`min` propagate NaN as NumPy does.
//!
//! `prod` multiplies in `float64` too (pairwise over chunks), so a `float32` product that
//! a `float32` running product would overflow or underflow midway stays finite when its
//! value is.
//!
//! Over leading or middle axes, each output element sums its `m` rows in `float64`, in
//! blocks of [`ROW_BLOCK`] rows whose partial sums are added pairwise: an error of at most
//! about `(ROW_BLOCK + log2(m/ROW_BLOCK)) · ε · Σ|x|` (NumPy's sequential sum over a
//! non-contiguous axis: `m · ε`). Blocks, not threads, fix the order: the result is the same
//! on any number of threads.

use crate::layout::{element, layout, Layout};
use std::ops::Range;
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{DType, ReduceOp, Tensor, ValueError};
use tensorlift_jit::{ElementwiseKernel, KernelArg};

/// Elements per chunk.
pub const CHUNK: usize = 4096;

/// The fused elementwise body of a reduction: its kernel and, when the body returns one of
/// its inputs unchanged (a plain `sum(x)`), that input, whose values are then read where
/// they are instead of copied by the kernel.
struct Body<'k> {
    kernel: &'k ElementwiseKernel,
    direct: Option<usize>,
}

impl Body<'_> {
    fn out_dtype(&self) -> DType {
        self.kernel.out_dtype()
    }

    /// The `len` values of the body over `args`: the slice of input `direct`, or the
    /// kernel's output, written into `buf`. `None` when the kernel fails.
    fn values64<'b>(&self, args: &[KernelArg<'b>], buf: &'b mut Vec<f64>, len: usize) -> Option<&'b [f64]> {
        if let Some(KernelArg::F64(v)) = self.direct.and_then(|k| args.get(k).copied()) {
            if v.len() == len {
                return Some(v);
            }
        }
        buf.resize(len, 0.0);
        self.kernel.run(args, buf).ok()?;
        Some(buf)
    }

    /// [`values64`](Self::values64) in `float32`.
    fn values32<'b>(&self, args: &[KernelArg<'b>], buf: &'b mut Vec<f32>, len: usize) -> Option<&'b [f32]> {
        if let Some(KernelArg::F32(v)) = self.direct.and_then(|k| args.get(k).copied()) {
            if v.len() == len {
                return Some(v);
            }
        }
        buf.resize(len, 0.0);
        self.kernel.run(args, buf).ok()?;
        Some(buf)
    }
}

/// A running reduction of one chunk (or of several, combined).
#[derive(Clone, Copy, Debug)]
enum Partial {
    Sum(f64),
    Prod(f64),
    Max(f64),
    Min(f64),
}

/// The sum of `v` in `float64`: element `k` goes to accumulator `k % 8`, and the eight are
/// added pairwise. Eight elements at a time, with no dependence between the accumulators
/// (the compiler keeps them in vector registers).
fn sum8<T: Copy + Into<f64>>(v: &[T]) -> f64 {
    let mut acc = [-0.0f64; 8];
    let (eights, rest) = v.as_chunks::<8>();
    for c in eights {
        for k in 0..8 {
            acc[k] += c[k].into();
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a += x.into();
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

fn extreme(v: impl Iterator<Item = f64>, greater: bool) -> f64 {
    let mut best: Option<f64> = None;
    for x in v {
        if x.is_nan() {
            return x;
        }
        best = Some(match best {
            None => x,
            Some(b) if (greater && x > b) || (!greater && x < b) => x,
            Some(b) => b,
        });
    }
    best.unwrap_or(f64::NAN)
}

fn chunk_partial(op: ReduceOp, v: &[f64]) -> Partial {
    match op {
        ReduceOp::Max => Partial::Max(extreme(v.iter().copied(), true)),
        ReduceOp::Min => Partial::Min(extreme(v.iter().copied(), false)),
        ReduceOp::Prod => Partial::Prod(v.iter().product()),
        _ => Partial::Sum(sum8(v)),
    }
}

fn chunk_partial32(op: ReduceOp, v: &[f32]) -> Partial {
    let it = v.iter().map(|&x| x as f64);
    match op {
        ReduceOp::Max => Partial::Max(extreme(it, true)),
        ReduceOp::Min => Partial::Min(extreme(it, false)),
        ReduceOp::Prod => Partial::Prod(it.product()),
        _ => Partial::Sum(sum8(v)),
    }
}

/// Pairwise combination of the partials, in order.
fn combine(p: &[Partial]) -> Partial {
    match p.len() {
        1 => p[0],
        n => {
            let (a, b) = (combine(&p[..n / 2]), combine(&p[n / 2..]));
            match (a, b) {
                (Partial::Sum(x), Partial::Sum(y)) => Partial::Sum(x + y),
                (Partial::Prod(x), Partial::Prod(y)) => Partial::Prod(x * y),
                (Partial::Max(x), Partial::Max(y)) => Partial::Max(extreme([x, y].into_iter(), true)),
                (Partial::Min(x), Partial::Min(y)) => Partial::Min(extreme([x, y].into_iter(), false)),
                _ => unreachable!("one reduction per call"),
            }
        }
    }
}

/// The partials of chunks `first..first + count` (chunk `k` covers elements
/// `k * CHUNK..`), or `None` if a kernel run fails.
fn partials(
    kernel: &Body<'_>,
    op: ReduceOp,
    args: &[KernelArg<'_>],
    n: usize,
    first: usize,
    count: usize,
) -> Option<Vec<Partial>> {
    let mut out = Vec::with_capacity(count);
    let (mut b64, mut b32) = (Vec::new(), Vec::new());
    for k in first..first + count {
        let (c0, c1) = (k * CHUNK, ((k + 1) * CHUNK).min(n));
        let sub: Vec<KernelArg<'_>> = args.iter().map(|a| a.slice(c0..c1)).collect();
        out.push(match kernel.out_dtype() {
            DType::F64 => chunk_partial(op, kernel.values64(&sub, &mut b64, c1 - c0)?),
            DType::F32 => chunk_partial32(op, kernel.values32(&sub, &mut b32, c1 - c0)?),
            _ => return None,
        });
    }
    Some(out)
}

/// Reduces the `n > 0` elements the kernel computes from `args` (contiguous slices of `n`
/// elements or scalars) with `op` (one `fused` handles), into a tensor of `shape` (all
/// 1s, or 0-d); `None` when a kernel run fails.
fn full(
    kernel: &Body<'_>,
    op: ReduceOp,
    args: &[KernelArg<'_>],
    n: usize,
    shape: &[usize],
) -> Option<Tensor> {
    let chunks = n.div_ceil(CHUNK);
    let threads = crate::threads::for_len(n);
    let all = if threads <= 1 || chunks < 2 {
        partials(kernel, op, args, n, 0, chunks)?
    } else {
        let per = chunks.div_ceil(threads);
        let parts: Vec<Option<Vec<Partial>>> = {
            let mut slots: Vec<Option<Vec<Partial>>> = vec![None; chunks.div_ceil(per)];
            rayon::scope(|s| {
                for (t, slot) in slots.iter_mut().enumerate() {
                    let first = t * per;
                    let count = per.min(chunks - first);
                    s.spawn(move |_| *slot = partials(kernel, op, args, n, first, count));
                }
            });
            slots
        };
        let mut all = Vec::with_capacity(chunks);
        for p in parts {
            all.extend(p?);
        }
        all
    };
    let value = finish(op, &all, n);
    tensor(kernel.out_dtype(), shape, vec![value])
}

/// The reduction's value from its chunks' partials.
fn finish(op: ReduceOp, partials: &[Partial], n: usize) -> f64 {
    match combine(partials) {
        Partial::Sum(s) if op == ReduceOp::Mean => s / n as f64,
        Partial::Sum(v) | Partial::Prod(v) | Partial::Max(v) | Partial::Min(v) => v,
    }
}

fn tensor(dtype: DType, shape: &[usize], values: Vec<f64>) -> Option<Tensor> {
    let dims = ndarray::IxDyn(shape);
    Some(match dtype {
        DType::F64 => Tensor::from(ndarray::ArrayD::from_shape_vec(dims, values).ok()?),
        _ => Tensor::from(
            ndarray::ArrayD::from_shape_vec(dims, values.into_iter().map(|v| v as f32).collect()).ok()?,
        ),
    })
}

/// Reduces each of `outer` rows of `inner > 0` elements (the trailing axes) with `op`: rows
/// `r` have the arguments `args_for(r)` (several rows at once only when `flat`: then rows
/// shorter than a chunk go several to a kernel call, each still reduced as one chunk).
/// Rows are split over the threads when large; each row's value does not depend on the
/// split. The result has `shape`.
fn rows<'a>(
    kernel: &Body<'_>,
    op: ReduceOp,
    args_for: &(dyn Fn(Range<usize>) -> Option<Vec<KernelArg<'a>>> + Sync),
    flat: bool,
    outer: usize,
    inner: usize,
    shape: &[usize],
) -> Option<Tensor> {
    let chunks = inner.div_ceil(CHUNK);
    let span = if flat && inner < CHUNK { CHUNK.div_ceil(inner) } else { 1 };
    // The values of rows `first..first + part.len()`, into `part`.
    let run = |first: usize, part: &mut [f64]| -> Option<()> {
        if span == 1 {
            for (i, v) in part.iter_mut().enumerate() {
                let args = args_for(first + i..first + i + 1)?;
                *v = finish(op, &partials(kernel, op, &args, inner, 0, chunks)?, inner);
            }
            return Some(());
        }
        let (mut b64, mut b32): (Vec<f64>, Vec<f32>) = (Vec::new(), Vec::new());
        for (k, vals) in part.chunks_mut(span).enumerate() {
            let r0 = first + k * span;
            let args = args_for(r0..r0 + vals.len())?;
            let len = vals.len() * inner;
            match kernel.out_dtype() {
                DType::F64 => {
                    let values = kernel.values64(&args, &mut b64, len)?;
                    for (v, row) in vals.iter_mut().zip(values.chunks(inner)) {
                        *v = finish(op, &[chunk_partial(op, row)], inner);
                    }
                }
                DType::F32 => {
                    let values = kernel.values32(&args, &mut b32, len)?;
                    for (v, row) in vals.iter_mut().zip(values.chunks(inner)) {
                        *v = finish(op, &[chunk_partial32(op, row)], inner);
                    }
                }
                _ => return None,
            }
        }
        Some(())
    };
    let threads = crate::threads::for_len(outer * inner);
    let mut values = vec![0.0f64; outer];
    if threads <= 1 || outer < 2 {
        run(0, &mut values)?;
    } else {
        let per = outer.div_ceil(threads);
        let ok = std::sync::atomic::AtomicBool::new(true);
        rayon::scope(|s| {
            for (t, part) in values.chunks_mut(per).enumerate() {
                let (ok, run) = (&ok, &run);
                s.spawn(move |_| {
                    if run(t * per, part).is_none() {
                        ok.store(false, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        if !ok.into_inner() {
            return None;
        }
    }
    tensor(kernel.out_dtype(), shape, values)
}

thread_local! {
    /// Fused reductions computed here (natively, without the temporary) on this thread.
    static NATIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many fused reductions called from this thread ran natively without the elementwise
/// temporary (a diagnostic: tests use it to check which path a reduction takes).
pub fn native_count() -> usize {
    NATIVE.with(|c| c.get())
}

/// Counts one fused reduction computed here (for [`native_count`]).
pub(crate) fn count_native() {
    NATIVE.with(|c| c.set(c.get() + 1));
}

/// Rows of a leading or middle-axes reduction whose partial results are summed in order
/// before the blocks' partials are combined pairwise.
pub const ROW_BLOCK: usize = 256;

/// Kept elements per row below which a leading or middle-axes reduction is left to the
/// reference kernel (a kernel call per row of fewer elements costs more than it saves).
const MIN_COLUMNS: usize = 16;

/// Trailing rows shorter than this are left to the reference kernel, unless every input
/// is full or a single value (then many rows go to one kernel call).
const MIN_ROW: usize = 64;

/// `op` over `axes` (sorted, distinct) of the elementwise `kernel` applied to `inputs`
/// (broadcasting to `shape`), natively and without the temporary; the result has the
/// reduction's shape (with `keepdims`). `None` when the op, the axes or an input's layout
/// is not handled here (the caller computes the temporary and reduces it);
/// `ValueError::Memory` when the result cannot be allocated.
pub(crate) fn fused(
    kernel: &ElementwiseKernel,
    direct: Option<usize>,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    inputs: &[KernelInput<'_>],
    shape: &[usize],
) -> Option<Result<Tensor, ValueError>> {
    let body = Body { kernel, direct };
    let kernel = &body;
    let nd = shape.len();
    let (&k0, &last) = (axes.first()?, axes.last()?);
    let k1 = last + 1;
    let n: usize = shape.iter().product();
    if !matches!(op, ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min)
        || k1 - k0 != axes.len()
        || n == 0
    {
        return None;
    }
    let out_shape: Vec<usize> = if keepdims {
        (0..nd).map(|a| if (k0..k1).contains(&a) { 1 } else { shape[a] }).collect()
    } else {
        shape[..k0].iter().chain(&shape[k1..]).copied().collect()
    };
    // The values are computed in float64 first.
    if let Err(e) = tensorlift_ir::value::check_alloc(op.name(), &out_shape, DType::F64) {
        return Some(Err(e));
    }
    let layouts: Vec<Layout<'_>> = inputs.iter().map(|i| layout(i.value, shape)).collect::<Option<_>>()?;
    let groups: usize = shape[..k0].iter().product();
    let rows: usize = shape[k0..k1].iter().product();
    let cols: usize = shape[k1..].iter().product();
    if k0 == 0 && k1 == nd {
        let flat: Vec<KernelArg<'_>> = layouts
            .iter()
            .map(|l| match *l {
                Layout::Full(a) | Layout::Scalar(a) => Some(a),
                _ => None,
            })
            .collect::<Option<_>>()?;
        return full(kernel, op, &flat, n, &out_shape).map(Ok);
    }
    if k1 == nd {
        let flat = layouts.iter().all(|l| matches!(l, Layout::Full(_) | Layout::Scalar(_)));
        if rows < MIN_ROW && !flat {
            return None;
        }
        // Row `g`: its slice of a full input, a bias over the reduced axes whole, or its
        // element of an input over the kept axes; several rows: their slices.
        let args_for = |g: Range<usize>| -> Option<Vec<KernelArg<'_>>> {
            layouts
                .iter()
                .map(|l| match *l {
                    Layout::Full(a) => Some(a.slice(g.start * rows..g.end * rows)),
                    Layout::Scalar(a) => Some(a),
                    Layout::Trailing(s, a) if s == k0 && g.len() == 1 => Some(a),
                    Layout::Leading(s, t) if s == k0 && g.len() == 1 => element(t, g.start),
                    _ => None,
                })
                .collect()
        };
        return self::rows(kernel, op, &args_for, flat, groups, rows, &out_shape).map(Ok);
    }
    if cols < MIN_COLUMNS {
        return None;
    }
    // Row `r` of group `g`, columns `c`: the slice of a full input, of a bias over the
    // kept trailing axes or over the reduced and kept axes, or one value of an input over
    // the leading axes (per group, or per row).
    // Several rows at once (`r.len() > 1`, whole rows) when every input is full or a
    // single value: one kernel call for many short rows.
    let flat = layouts.iter().all(|l| matches!(l, Layout::Full(_) | Layout::Scalar(_)));
    let args_for = |g: usize, r: Range<usize>, c: Range<usize>| -> Option<Vec<KernelArg<'_>>> {
        if r.len() > 1 {
            let (first, last) = ((g * rows + r.start) * cols, (g * rows + r.end) * cols);
            return layouts
                .iter()
                .map(|l| match *l {
                    Layout::Full(a) => Some(a.slice(first..last)),
                    Layout::Scalar(a) => Some(a),
                    _ => None,
                })
                .collect();
        }
        let (r, row) = (r.start, g * rows + r.start);
        layouts
            .iter()
            .map(|l| match *l {
                Layout::Full(a) => Some(a.slice(row * cols + c.start..row * cols + c.end)),
                Layout::Scalar(a) => Some(a),
                Layout::Trailing(s, a) if s == k1 => Some(a.slice(c.clone())),
                Layout::Trailing(s, a) if s == k0 => Some(a.slice(r * cols + c.start..r * cols + c.end)),
                Layout::Leading(s, t) if s == k0 => element(t, g),
                Layout::Leading(s, t) if s == k1 => element(t, row),
                _ => None,
            })
            .collect()
    };
    let values = columns(kernel, op, &args_for, flat, groups, rows, cols)?;
    tensor(kernel.out_dtype(), &out_shape, values).map(Ok)
}

/// A running reduction of one column range over some rows.
fn accumulate(op: ReduceOp, acc: &mut [f64], v: impl Iterator<Item = f64>) {
    for (a, x) in acc.iter_mut().zip(v) {
        *a = match op {
            ReduceOp::Max => pick(*a, x, x > *a),
            ReduceOp::Min => pick(*a, x, x < *a),
            ReduceOp::Prod => *a * x,
            _ => *a + x,
        };
    }
}

/// The running extremum `a` after seeing `x`: a NaN sticks, the first wins ties.
fn pick(a: f64, x: f64, better: bool) -> f64 {
    if a.is_nan() || (!x.is_nan() && !better) {
        a
    } else {
        x
    }
}

/// The identity `acc` starts from.
fn identity(op: ReduceOp) -> f64 {
    match op {
        ReduceOp::Max => f64::NEG_INFINITY,
        ReduceOp::Min => f64::INFINITY,
        ReduceOp::Prod => 1.0,
        _ => -0.0,
    }
}

/// Reduces, for each of `groups` groups, `rows` rows of `cols` kernel outputs column-wise:
/// the result holds `groups * cols` values (group-major). Rows `r` of group `g` over
/// columns `c` have the arguments `args_for(g, r, c)` (several whole rows at once only when
/// `flat`). Rows go in blocks of [`ROW_BLOCK`] (one task per group, block and column
/// piece, spread over the threads), and the blocks' partials are combined pairwise, in
/// order.
fn columns<'a>(
    kernel: &Body<'_>,
    op: ReduceOp,
    args_for: &(dyn Fn(usize, Range<usize>, Range<usize>) -> Option<Vec<KernelArg<'a>>> + Sync),
    flat: bool,
    groups: usize,
    rows: usize,
    cols: usize,
) -> Option<Vec<f64>> {
    let blocks = rows.div_ceil(ROW_BLOCK);
    // Column pieces: whole rows unless long (a piece's accumulators stay in L1/L2).
    const PIECE: usize = CHUNK;
    let pieces = cols.div_ceil(PIECE);
    let tasks = groups * pieces * blocks;
    // Task `t`: group, column piece, row block (blocks innermost, so that one piece's
    // blocks are adjacent).
    let task = |t: usize| -> Option<Vec<f64>> {
        let (g, rest) = (t / (pieces * blocks), t % (pieces * blocks));
        let (piece, block) = (rest / blocks, rest % blocks);
        let c = piece * PIECE..((piece + 1) * PIECE).min(cols);
        let mut acc = vec![identity(op); c.len()];
        let (mut b64, mut b32): (Vec<f64>, Vec<f32>) = (Vec::new(), Vec::new());
        // Rows per kernel call: as many whole short rows as fill a piece.
        let span = if flat && pieces == 1 { PIECE.div_ceil(cols) } else { 1 };
        let end = ((block + 1) * ROW_BLOCK).min(rows);
        for r0 in (block * ROW_BLOCK..end).step_by(span) {
            let r1 = (r0 + span).min(end);
            let args = args_for(g, r0..r1, c.clone())?;
            let len = (r1 - r0) * c.len();
            // Each row of the span accumulated in order.
            match kernel.out_dtype() {
                DType::F64 => {
                    for row in kernel.values64(&args, &mut b64, len)?.chunks(c.len()) {
                        accumulate(op, &mut acc, row.iter().copied());
                    }
                }
                DType::F32 => {
                    for row in kernel.values32(&args, &mut b32, len)?.chunks(c.len()) {
                        accumulate(op, &mut acc, row.iter().map(|&x| x as f64));
                    }
                }
                _ => return None,
            }
        }
        Some(acc)
    };
    let n = groups * rows * cols;
    let threads = crate::threads::for_len(n);
    let mut results: Vec<Option<Vec<f64>>> = vec![None; tasks];
    if threads <= 1 || tasks < 2 {
        for (t, slot) in results.iter_mut().enumerate() {
            *slot = Some(task(t)?);
        }
    } else {
        let per = tasks.div_ceil(threads);
        rayon::scope(|s| {
            for (k, part) in results.chunks_mut(per).enumerate() {
                let task = &task;
                s.spawn(move |_| {
                    for (i, slot) in part.iter_mut().enumerate() {
                        *slot = task(k * per + i);
                    }
                });
            }
        });
    }
    let results: Vec<Vec<f64>> = results.into_iter().collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(groups * cols);
    for unit in results.chunks(blocks) {
        let mut v = combine_blocks(op, unit);
        if op == ReduceOp::Mean {
            v.iter_mut().for_each(|x| *x /= rows as f64);
        }
        out.extend(v);
    }
    Some(out)
}

/// The blocks' partials of one column piece combined pairwise, in order.
fn combine_blocks(op: ReduceOp, blocks: &[Vec<f64>]) -> Vec<f64> {
    match blocks.len() {
        1 => blocks[0].clone(),
        n => {
            let (mut a, b) = (combine_blocks(op, &blocks[..n / 2]), combine_blocks(op, &blocks[n / 2..]));
            accumulate(op, &mut a, b.into_iter());
            a
        }
    }
}
