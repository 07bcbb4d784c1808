//! Matrix products for `Mode::Jit`: `dot` and the optimizer's `gemm` on float matrices and
//! vectors, with the bias and the scale factors applied in the same pass
//! (`C = alpha·A·B + beta·C`, `C` starting as the broadcast bias). Anything else (integers,
//! mixed dtypes, other ranks, a bias larger than the product) returns `None` and runs the
//! reference kernel.
//!
//! [`choose`] picks the [`Kernel`] of each product by shape and dtype, as measured with
//! `cargo bench -p tensorlift-runtime --bench matmul` on a 2-core AMD EPYC (AVX2+FMA, no
//! AVX-512; README, "Build options", has the figures): the `gemm` crate everywhere, which
//! dispatches on the CPU's features (AVX-512, AVX2+FMA, baseline) itself, except f64
//! products with a short inner dimension (at most [`SHORT_K`]), where ndarray's
//! matrixmultiply kernel (the one before, slower on every other measured shape) is ahead;
//! and with the `blas` feature the linked BLAS for large f64 products with every side at
//! least `BLAS_MIN_SIDE`. [`gemm_with`] runs any kernel.
//!
//! Threads: [`crate::threads::num_threads`], and one thread for a product below
//! [`PARALLEL_FLOPS`] multiply-adds (a matrix-vector product below [`GEMV_PARALLEL`]
//! matrix elements), which cannot win back waking a second one.

use kernels::zero;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Ix1, Ix2, IxDyn};
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::value::Sink;
use tensorlift_ir::{DType, Op, Tensor, ValueError};

#[cfg(feature = "blas")]
mod blas;
mod kernels;

pub use kernels::{Kernel, MatElem};

/// Products of fewer multiply-adds than this run on one thread.
pub const PARALLEL_FLOPS: usize = 1 << 19;

/// Matrix-vector products over fewer matrix elements than this run on one thread.
pub const GEMV_PARALLEL: usize = 1 << 19;

/// With the `blas` feature, f64 products whose three sides are all at least this long run
/// on the linked BLAS (measured: OpenBLAS is ahead of the `gemm` crate only there).
#[cfg(feature = "blas")]
pub const BLAS_MIN_SIDE: usize = 768;

/// The kernel for an `m×k` by `k×n` product of `dtype` elements (`n = 1`: matrix-vector).
pub fn choose(dtype: DType, m: usize, k: usize, n: usize) -> Kernel {
    #[cfg(feature = "blas")]
    if dtype == DType::F64 && m.min(k).min(n) >= BLAS_MIN_SIDE {
        return Kernel::Blas;
    }
    // A short inner dimension (W6's `δ·W2ᵀ`, 256×10·10×512): matrixmultiply's f64 kernel
    // was 6–10% ahead of gemm's in every run (the gemm crate's packing does not pay for
    // itself over 10 terms); in f32 neither was reliably ahead.
    if dtype == DType::F64 && k <= SHORT_K && n > 1 && m.saturating_mul(n) >= 64 * 64 {
        return Kernel::Ndarray;
    }
    Kernel::Gemm
}

/// Inner dimensions up to this long are "short" for [`choose`].
pub const SHORT_K: usize = 16;

/// `c = alpha·a·b + beta·c` with the kernel [`choose`] picks, on the runtime's threads. With
/// `beta` = 0, `c` is not read (as in BLAS: NaN in `c` does not reach the result).
///
/// # Errors
/// [`ValueError::ShapeMismatch`] when the shapes do not fit.
pub fn gemm<T: MatElem>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) -> Result<(), ValueError> {
    let kernel = choose(T::DTYPE, a.nrows(), a.ncols(), b.ncols());
    gemm_with(kernel, alpha, a, b, beta, c)
}

/// [`gemm()`] with the kernel given.
///
/// # Errors
/// [`ValueError::ShapeMismatch`] when the shapes do not fit.
pub fn gemm_with<T: MatElem>(
    kernel: Kernel,
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<(), ValueError> {
    let (m, k, n) = checked_dims(&a, &b, &c)?;
    let threads = product_threads(crate::threads::num_threads(), m, k, n);
    kernels::gemm(kernel, alpha, a, b, beta, &mut c, threads);
    Ok(())
}

/// `(m, k, n)` of `c ← a · b`, or the mismatch when the shapes do not fit.
fn checked_dims<T>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &ArrayViewMut2<'_, T>,
) -> Result<(usize, usize, usize), ValueError> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if b.nrows() != k || c.dim() != (m, n) {
        return Err(mismatch("gemm", [("a", a.shape()), ("b", b.shape()), ("c", c.shape())]));
    }
    Ok((m, k, n))
}

/// [`gemm()`] on `threads` threads (at least 1), for callers that split work over the
/// threads themselves (`crate::conv` runs one product per image on each thread).
///
/// # Errors
/// [`ValueError::ShapeMismatch`] when the shapes do not fit.
pub fn gemm_on<T: MatElem>(
    threads: usize,
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<(), ValueError> {
    let (m, k, n) = checked_dims(&a, &b, &c)?;
    kernels::gemm(choose(T::DTYPE, m, k, n), alpha, a, b, beta, &mut c, threads.max(1));
    Ok(())
}

/// `y = alpha·a·x + beta·y` with the kernel [`choose`] picks, on the runtime's threads. With
/// `beta` = 0, `y` is not read.
///
/// # Errors
/// [`ValueError::ShapeMismatch`] when the shapes do not fit.
pub fn gemv<T: MatElem>(
    alpha: T,
    a: ArrayView2<'_, T>,
    x: ArrayView1<'_, T>,
    beta: T,
    y: ArrayViewMut1<'_, T>,
) -> Result<(), ValueError> {
    let kernel = choose(T::DTYPE, a.nrows(), a.ncols(), 1);
    gemv_with(kernel, alpha, a, x, beta, y)
}

/// [`gemv`] with the kernel given.
///
/// # Errors
/// [`ValueError::ShapeMismatch`] when the shapes do not fit.
pub fn gemv_with<T: MatElem>(
    kernel: Kernel,
    alpha: T,
    a: ArrayView2<'_, T>,
    x: ArrayView1<'_, T>,
    beta: T,
    mut y: ArrayViewMut1<'_, T>,
) -> Result<(), ValueError> {
    if a.ncols() != x.len() || a.nrows() != y.len() {
        return Err(mismatch("gemv", [("a", a.shape()), ("x", x.shape()), ("y", y.shape())]));
    }
    let threads = product_threads(crate::threads::num_threads(), a.nrows(), a.ncols(), 1);
    kernels::gemv(kernel, alpha, a, x, beta, &mut y, threads);
    Ok(())
}

/// The threads an `m×k` by `k×n` product (`n = 1`: matrix-vector) runs on when the runtime
/// has `threads`: all of them for a large product, one below [`PARALLEL_FLOPS`]
/// multiply-adds ([`GEMV_PARALLEL`] matrix elements for a matrix-vector product), never
/// more than the rows or columns of the result.
pub fn product_threads(threads: usize, m: usize, k: usize, n: usize) -> usize {
    let work = m.saturating_mul(k).saturating_mul(n);
    let small = if n == 1 { work < GEMV_PARALLEL } else { work < PARALLEL_FLOPS };
    if small {
        1
    } else {
        threads.min(m.max(n)).max(1)
    }
}

fn mismatch(op: &str, operands: [(&str, &[usize]); 3]) -> ValueError {
    ValueError::ShapeMismatch {
        op: op.into(),
        operands: operands.iter().map(|(n, s)| ((*n).to_string(), s.to_vec())).collect(),
    }
}

/// `alpha`, `beta` and the bias of a product (`dot` is `1·A·B + 0`).
struct Epilogue<'a> {
    alpha: f64,
    beta: f64,
    bias: Option<&'a Tensor>,
}

/// The result of `op` (`Dot` or `Gemm`) on float matrices, or `None` for the reference;
/// written into `sink` when it has the result's dtype and shape and gives its contiguous
/// data (the result then shares its data).
pub(crate) fn eval(
    op: &Op,
    inputs: &[KernelInput<'_>],
    out: DType,
    sink: Option<&mut Sink<'_>>,
) -> Option<Tensor> {
    let (x, y, epi) = match op {
        Op::BatchedDot => {
            let (x, y) = (inputs[0].value, inputs[1].value);
            return match (x.dtype() == out && y.dtype() == out, out) {
                (true, DType::F64) => batched::<f64>(x, y),
                (true, DType::F32) => batched::<f32>(x, y),
                _ => None,
            };
        }
        Op::Dot => (inputs[0].value, inputs[1].value, Epilogue { alpha: 1.0, beta: 0.0, bias: None }),
        Op::Gemm => {
            let scalar = |t: &Tensor| (t.len() == 1).then(|| t.to_f64_vec()[0]);
            let epi = Epilogue {
                alpha: scalar(inputs[1].value)?,
                beta: scalar(inputs[4].value)?,
                bias: Some(inputs[0].value),
            };
            (inputs[2].value, inputs[3].value, epi)
        }
        _ => return None,
    };
    if x.dtype() != out || y.dtype() != out {
        return None;
    }
    match out {
        DType::F64 => product::<f64>(x, y, &epi, sink),
        DType::F32 => product::<f32>(x, y, &epi, sink),
        _ => None,
    }
}

/// One product per batch index, `(B, M, K)` by `(B, K, N)`: the batch split over the threads
/// when it is large enough, else each product threaded; `None` when the shapes do not fit
/// (the reference kernel reports it).
fn batched<T: MatElem>(x: &Tensor, y: &Tensor) -> Option<Tensor> {
    let (xa, ya) = (x.array::<T>().ok()?, y.array::<T>().ok()?);
    let (xa, ya) =
        (xa.into_dimensionality::<ndarray::Ix3>().ok()?, ya.into_dimensionality::<ndarray::Ix3>().ok()?);
    let ((batch, m, k), (b2, k2, n)) = (xa.dim(), ya.dim());
    if batch != b2 || k != k2 {
        return None;
    }
    tensorlift_ir::value::check_alloc("batched_dot", &[batch, m, n], T::DTYPE).ok()?;
    let mut out = ndarray::Array3::<T>::zeros((batch, m, n));
    let t = crate::threads::num_threads();
    let macs = batch.saturating_mul(m).saturating_mul(k).saturating_mul(n);
    if t > 1 && batch >= t && macs >= PARALLEL_FLOPS {
        let per = batch.div_ceil(t);
        let ok = std::sync::atomic::AtomicBool::new(true);
        rayon::scope(|s| {
            for (part, mut c) in out.axis_chunks_iter_mut(ndarray::Axis(0), per).enumerate() {
                let (xa, ya, ok) = (&xa, &ya, &ok);
                s.spawn(move |_| {
                    for (i, c) in c.outer_iter_mut().enumerate() {
                        let b = part * per + i;
                        let (a, bb) =
                            (xa.index_axis(ndarray::Axis(0), b), ya.index_axis(ndarray::Axis(0), b));
                        if gemm_on(1, T::from_f64(1.0), a, bb, zero::<T>(), c).is_err() {
                            ok.store(false, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        ok.into_inner().then_some(())?;
    } else {
        let threads = product_threads(t, m, k, n);
        for ((a, b), c) in xa.outer_iter().zip(ya.outer_iter()).zip(out.outer_iter_mut()) {
            gemm_on(threads, T::from_f64(1.0), a, b, zero::<T>(), c).ok()?;
        }
    }
    Some(T::wrap(out.into_dyn().into_shared()))
}

fn product<T: MatElem>(
    x: &Tensor,
    y: &Tensor,
    epi: &Epilogue<'_>,
    sink: Option<&mut Sink<'_>>,
) -> Option<Tensor> {
    let (xa, ya) = (x.array::<T>().ok()?, y.array::<T>().ok()?);
    let alpha = T::from_f64(epi.alpha);
    let beta = T::from_f64(epi.beta);
    let shape = match (xa.ndim(), ya.ndim()) {
        (2, 2) => vec![xa.shape()[0], ya.shape()[1]],
        (2, 1) => vec![xa.shape()[0]],
        (1, 2) => vec![ya.shape()[1]],
        _ => return None,
    };
    let mut out = Out::new(&shape, epi, beta, sink)?;
    let mut c = out.view()?;
    match (xa.ndim(), ya.ndim()) {
        (2, 2) => {
            let (a, b) = (xa.into_dimensionality::<Ix2>().ok()?, ya.into_dimensionality::<Ix2>().ok()?);
            gemm(alpha, a, b, beta, c.view_mut().into_dimensionality::<Ix2>().ok()?).ok()?;
        }
        (2, 1) => {
            let (a, v) = (xa.into_dimensionality::<Ix2>().ok()?, ya.into_dimensionality::<Ix1>().ok()?);
            gemv(alpha, a, v, beta, c.view_mut().into_dimensionality::<Ix1>().ok()?).ok()?;
        }
        _ => {
            // v·B = Bᵀ·v: B's transposed view, no copy.
            let (v, b) = (xa.into_dimensionality::<Ix1>().ok()?, ya.into_dimensionality::<Ix2>().ok()?);
            gemv(alpha, b.reversed_axes(), v, beta, c.view_mut().into_dimensionality::<Ix1>().ok()?).ok()?;
        }
    }
    if beta == zero::<T>() {
        if let Some(z) = epi.bias {
            // The kernels never read the output with beta = 0; the reference computes
            // `0·z + alpha·A·B`, NaN where `z` is infinite or NaN (and -0·… signs): the same,
            // in one pass over the result.
            let z = z.array::<T>().ok()?;
            let z = z.broadcast(c.raw_dim())?;
            ndarray::Zip::from(&mut c).and(&z).for_each(|c, &z| *c = beta * z + *c);
        }
    }
    Some(out.finish())
}

/// Where a product is written: a new array, or the caller's sink.
enum Out<'s, 'k, T> {
    New(ndarray::ArrayD<T>),
    Sink(&'s mut Sink<'k>),
}

impl<'s, 'k, T: MatElem> Out<'s, 'k, T> {
    /// The output of `shape` holding the bias broadcast (or zeros, see [`start`]): the
    /// sink when it fits (its dtype and shape, its contiguous memory given), else new.
    fn new(shape: &[usize], epi: &Epilogue<'_>, beta: T, sink: Option<&'s mut Sink<'k>>) -> Option<Self> {
        if let Some(sink) = sink.filter(|s| s.dtype() == T::DTYPE && s.shape() == shape) {
            let mut out = Out::Sink(sink);
            if let Some(c) = out.view() {
                fill_start(c, epi, beta)?;
                return Some(out);
            }
        }
        start(shape, epi, beta).map(Out::New)
    }

    /// The output's elements (`None` when a sink does not give its memory).
    fn view(&mut self) -> Option<ndarray::ArrayViewMutD<'_, T>> {
        match self {
            Out::New(a) => Some(a.view_mut()),
            Out::Sink(s) => {
                let shape = IxDyn(s.shape());
                ndarray::ArrayViewMutD::from_shape(shape, s.data_mut::<T>()?).ok()
            }
        }
    }

    fn finish(self) -> Tensor {
        match self {
            Out::New(a) => T::wrap(a.into_shared()),
            Out::Sink(s) => s.tensor(),
        }
    }
}

/// Writes the start of a product into `c` (see [`start`]).
fn fill_start<T: MatElem>(mut c: ndarray::ArrayViewMutD<'_, T>, epi: &Epilogue<'_>, beta: T) -> Option<()> {
    match epi.bias {
        Some(z) if beta != zero::<T>() => {
            let z = z.array::<T>().ok()?;
            let dim = c.raw_dim();
            c.assign(&z.broadcast(dim)?);
        }
        Some(z) => {
            z.array::<T>().ok()?.broadcast(c.raw_dim())?;
            c.fill(zero::<T>());
        }
        None => c.fill(zero::<T>()),
    }
    Some(())
}

/// The output before the product: the bias broadcast to `shape` (or zeros, when `beta` is 0
/// and the kernel does not read it), in a buffer of the running call's pool or a fresh one
/// (huge pages when large).
/// `None` (the reference kernel then reports `ValueError::Memory`, or the shape mismatch)
/// when it cannot be allocated, or when the bias does not broadcast to the product's shape.
fn start<T: MatElem>(shape: &[usize], epi: &Epilogue<'_>, beta: T) -> Option<ndarray::ArrayD<T>> {
    let mut v = T::result_buffer(shape).ok()?;
    let len = shape.iter().product();
    match epi.bias {
        Some(z) if beta != zero::<T>() => {
            let z = z.array::<T>().ok()?;
            let zb = z.broadcast(ndarray::IxDyn(shape))?;
            // Row by row: a bias row is one slice (or one repeated element).
            for lane in zb.lanes(ndarray::Axis(shape.len().checked_sub(1)?)) {
                match lane.as_slice() {
                    Some(row) => v.extend_from_slice(row),
                    None => v.extend(lane.iter().copied()),
                }
            }
        }
        Some(z) => {
            // Only its shape matters here (the pass after the product reads it).
            z.array::<T>().ok()?.broadcast(ndarray::IxDyn(shape))?;
            v.resize(len, zero::<T>());
        }
        None => v.resize(len, zero::<T>()),
    }
    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v).ok()
}
