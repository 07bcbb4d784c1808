//! Fused reductions for `Mode::Jit`: `sum`, `mean`, `max` and `min` over every axis, or
//! over the trailing axes (row by row: `sum(e, axis=-1)` of a matrix), of a fused
//! elementwise body (`FusedReduce`, e.g. `sum(x**2)`, the mean cross-entropy of a
//! training step), computed chunk by chunk without the elementwise temporary: the native
//! kernel fills an L1-sized buffer, which is reduced at once.
//!
//! Summation is blocked: each chunk of [`CHUNK`] values is summed with 8 independent
//! accumulators in `float64` (for `float32` data too), and the chunks' partial sums are
//! added pairwise. The error is at most about `(CHUNK/8 + 3 + log2(n/CHUNK)) · ε · Σ|x|`
//! with `ε` the `float64` epsilon — for `float32` data well below one `float32` ulp of the
//! result's magnitude scale even at 1e7 elements (a sequential `float32` sum can be off by
//! `n · ε32`). Chunk boundaries do not depend on the number of threads, so the result is
//! the same on one thread or several. `max`/`min` propagate NaN as NumPy does.

use tensorlift_ir::{DType, ReduceOp, Tensor};
use tensorlift_jit::kernel::{ElementwiseKernel, KernelArg};

/// Elements per chunk.
pub const CHUNK: usize = 1024;

/// A running reduction of one chunk (or of several, combined).
#[derive(Clone, Copy, Debug)]
enum Partial {
    Sum(f64),
    Max(f64),
    Min(f64),
}

fn sum8(v: impl Iterator<Item = f64>) -> f64 {
    let mut acc = [-0.0f64; 8];
    for (k, x) in v.enumerate() {
        acc[k & 7] += x;
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
        _ => Partial::Sum(sum8(v.iter().copied())),
    }
}

fn chunk_partial32(op: ReduceOp, v: &[f32]) -> Partial {
    let it = v.iter().map(|&x| x as f64);
    match op {
        ReduceOp::Max => Partial::Max(extreme(it, true)),
        ReduceOp::Min => Partial::Min(extreme(it, false)),
        _ => Partial::Sum(sum8(it)),
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
    kernel: &ElementwiseKernel,
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
            DType::F64 => {
                b64.resize(c1 - c0, 0.0);
                kernel.run(&sub, &mut b64).ok()?;
                chunk_partial(op, &b64)
            }
            DType::F32 => {
                b32.resize(c1 - c0, 0.0);
                kernel.run(&sub, &mut b32).ok()?;
                chunk_partial32(op, &b32)
            }
            _ => return None,
        });
    }
    Some(out)
}

/// Reduces the `n > 0` elements the kernel computes from `args` (contiguous slices of `n`
/// elements or scalars) with `op`, into a tensor of `shape` (all 1s, or 0-d); `None` when
/// the op is not handled here.
pub(crate) fn full(
    kernel: &ElementwiseKernel,
    op: ReduceOp,
    args: &[KernelArg<'_>],
    n: usize,
    shape: &[usize],
) -> Option<Tensor> {
    if n == 0 || !matches!(op, ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Max | ReduceOp::Min) {
        return None;
    }
    let chunks = n.div_ceil(CHUNK);
    let threads = if n >= crate::native::PARALLEL_THRESHOLD { crate::threads::num_threads() } else { 1 };
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
        Partial::Sum(v) | Partial::Max(v) | Partial::Min(v) => v,
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

/// Reduces each of `outer` rows of `inner > 0` elements (the trailing axes) with `op`: row
/// `r`'s arguments are `args_for(r)`. Rows are split over the threads when large; each
/// row's value does not depend on the split. The result has `shape`.
pub(crate) fn rows<'a>(
    kernel: &ElementwiseKernel,
    op: ReduceOp,
    args_for: &(dyn Fn(usize) -> Option<Vec<KernelArg<'a>>> + Sync),
    outer: usize,
    inner: usize,
    shape: &[usize],
) -> Option<Tensor> {
    if inner == 0 || !matches!(op, ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Max | ReduceOp::Min) {
        return None;
    }
    let chunks = inner.div_ceil(CHUNK);
    let row = |r: usize| -> Option<f64> {
        let args = args_for(r)?;
        Some(finish(op, &partials(kernel, op, &args, inner, 0, chunks)?, inner))
    };
    let threads =
        if outer * inner >= crate::native::PARALLEL_THRESHOLD { crate::threads::num_threads() } else { 1 };
    let mut values = vec![0.0f64; outer];
    if threads <= 1 || outer < 2 {
        for (r, v) in values.iter_mut().enumerate() {
            *v = row(r)?;
        }
    } else {
        let per = outer.div_ceil(threads);
        let ok = std::sync::atomic::AtomicBool::new(true);
        rayon::scope(|s| {
            for (t, part) in values.chunks_mut(per).enumerate() {
                let (ok, row) = (&ok, &row);
                s.spawn(move |_| {
                    for (i, v) in part.iter_mut().enumerate() {
                        match row(t * per + i) {
                            Some(x) => *v = x,
                            None => ok.store(false, std::sync::atomic::Ordering::Relaxed),
                        }
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
