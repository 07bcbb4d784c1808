//! Matrix products for `Mode::Jit`: `dot` and the optimizer's `gemm`/`gemv` on float
//! matrices, with the result split in blocks over the threads, each block computed by
//! `matrixmultiply` (through ndarray's `general_mat_mul` / `general_mat_vec_mul`; the
//! longer side of a matrix result is the one split) with the
//! bias and the scale factors applied in the same pass (`C = alpha·A·B + beta·C`, `C`
//! starting as the broadcast bias). Anything else (integers, other ranks, small products)
//! returns `None` and runs the reference kernel.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Ix1, Ix2, LinalgScalar};
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{DType, Op, Tensor, TensorElement};

/// Products of fewer multiply-adds than this run on one thread.
pub const PARALLEL_FLOPS: usize = 1 << 19;

/// `alpha`, `beta` and the bias of a product (`dot` is `1·A·B + 0`).
struct Epilogue<'a> {
    alpha: f64,
    beta: f64,
    bias: Option<&'a Tensor>,
}

/// The result of `op` (`Dot` or `Gemm`) on float matrices, or `None` for the reference.
pub(crate) fn eval(op: &Op, inputs: &[KernelInput<'_>], out: DType) -> Option<Tensor> {
    let (x, y, epi) = match op {
        Op::Dot => (inputs[0].value, inputs[1].value, Epilogue { alpha: 1.0, beta: 0.0, bias: None }),
        Op::Gemm => {
            let scalar = |t: &Tensor| (t.len() == 1).then(|| t.to_f64_vec()[0]);
            let epi = Epilogue {
                alpha: scalar(inputs[1].value)?,
                beta: scalar(inputs[4].value)?,
                bias: Some(inputs[0].value),
            };
            // With beta = 0 the matrix kernel never reads the bias, where the reference
            // computes 0·z (NaN for an infinite z): leave that case to the reference.
            if epi.beta == 0.0 {
                return None;
            }
            (inputs[2].value, inputs[3].value, epi)
        }
        _ => return None,
    };
    if x.dtype() != out || y.dtype() != out {
        return None;
    }
    match out {
        DType::F64 => product::<f64>(x, y, &epi),
        DType::F32 => product::<f32>(x, y, &epi),
        _ => None,
    }
}

fn product<T: TensorElement + LinalgScalar + num_traits::NumCast + Send + Sync>(
    x: &Tensor,
    y: &Tensor,
    epi: &Epilogue<'_>,
) -> Option<Tensor> {
    let (xa, ya) = (x.array::<T>().ok()?, y.array::<T>().ok()?);
    let alpha: T = num_traits::cast(epi.alpha)?;
    let beta: T = num_traits::cast(epi.beta)?;
    match (xa.ndim(), ya.ndim()) {
        (2, 2) => {
            let (a, b) = (xa.into_dimensionality::<Ix2>().ok()?, ya.into_dimensionality::<Ix2>().ok()?);
            let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
            if b.nrows() != k {
                return None;
            }
            let mut c = start::<T>(&[m, n], epi)?;
            let mut c2 = c.view_mut().into_dimensionality::<Ix2>().ok()?;
            mat_mul(alpha, a, b, beta, &mut c2, m.saturating_mul(k).saturating_mul(n));
            Some(T::wrap(c.into_shared()))
        }
        (2, 1) => {
            let (a, v) = (xa.into_dimensionality::<Ix2>().ok()?, ya.into_dimensionality::<Ix1>().ok()?);
            let (m, k) = (a.nrows(), a.ncols());
            if v.len() != k {
                return None;
            }
            let mut c = start::<T>(&[m], epi)?;
            let mut c1 = c.view_mut().into_dimensionality::<Ix1>().ok()?;
            mat_vec(alpha, a, v, beta, &mut c1, m * k);
            Some(T::wrap(c.into_shared()))
        }
        _ => None,
    }
}

/// The output before the product: the bias broadcast to `shape` (or zeros). `None` (the
/// reference kernel then reports `ValueError::Memory`) when it cannot be allocated.
fn start<T: TensorElement + LinalgScalar>(shape: &[usize], epi: &Epilogue<'_>) -> Option<ndarray::ArrayD<T>> {
    tensorlift_ir::value::check_alloc("dot", shape, T::DTYPE).ok()?;
    match epi.bias {
        Some(z) => {
            let z = z.array::<T>().ok()?;
            Some(z.broadcast(ndarray::IxDyn(shape))?.to_owned())
        }
        _ => Some(ndarray::ArrayD::zeros(ndarray::IxDyn(shape))),
    }
}

/// Row blocks of the output, one per thread (one block when small).
fn blocks(rows: usize, flops: usize) -> usize {
    if flops < PARALLEL_FLOPS {
        return 1;
    }
    crate::threads::num_threads().min(rows).max(1)
}

fn mat_mul<T: LinalgScalar + Send + Sync>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    flops: usize,
) {
    // Split the longer side of the result: each block then packs less of the other operand.
    // Columns of C = A·B are rows of Cᵀ = Bᵀ·Aᵀ (transposed views, no copies).
    let (m, n) = (a.nrows(), b.ncols());
    if m < n {
        let mut ct = c.view_mut().reversed_axes();
        return mat_mul(alpha, b.reversed_axes(), a.reversed_axes(), beta, &mut ct, flops);
    }
    let parts = blocks(m, flops);
    if parts <= 1 {
        return ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, c);
    }
    let per = m.div_ceil(parts);
    rayon::scope(|s| {
        for (ab, mut cb) in a.axis_chunks_iter(Axis(0), per).zip(c.axis_chunks_iter_mut(Axis(0), per)) {
            let b = &b;
            s.spawn(move |_| ndarray::linalg::general_mat_mul(alpha, &ab, b, beta, &mut cb));
        }
    });
}

fn mat_vec<T: LinalgScalar + Send + Sync>(
    alpha: T,
    a: ArrayView2<'_, T>,
    v: ArrayView1<'_, T>,
    beta: T,
    c: &mut ArrayViewMut1<'_, T>,
    flops: usize,
) {
    let parts = blocks(a.nrows(), flops);
    if parts <= 1 {
        return gemv_block(alpha, a, &v, beta, c);
    }
    let per = a.nrows().div_ceil(parts);
    rayon::scope(|s| {
        for (ab, mut cb) in a.axis_chunks_iter(Axis(0), per).zip(c.axis_chunks_iter_mut(Axis(0), per)) {
            let v = &v;
            s.spawn(move |_| gemv_block(alpha, ab, v, beta, &mut cb));
        }
    });
}

/// `c = alpha·a·v + beta·c` for one block of rows. A transposed `a` (the gradient
/// `dot(X.T, d)`) is walked along the rows of `X`, contiguous, as scaled additions into `c`
/// (or through the matrix kernel when only its columns are contiguous), instead of strided
/// row dot products.
fn gemv_block<T: LinalgScalar>(
    alpha: T,
    a: ArrayView2<'_, T>,
    v: &ArrayView1<'_, T>,
    beta: T,
    c: &mut ArrayViewMut1<'_, T>,
) {
    let at = a.t();
    if let (false, Some(cs)) = (a.is_standard_layout(), c.as_slice_mut()) {
        if at.rows().into_iter().all(|r| r.as_slice().is_some()) {
            // Rows of `a.t()` are contiguous: `c += (alpha·v[j])·a.t()[j, ..]`, streaming.
            for y in cs.iter_mut() {
                *y = *y * beta;
            }
            for (row, &vj) in at.rows().into_iter().zip(v.iter()) {
                let s = alpha * vj;
                for (y, &x) in cs.iter_mut().zip(row.as_slice().expect("checked contiguous")) {
                    *y = *y + s * x;
                }
            }
            return;
        }
    }
    if !a.is_standard_layout() && at.is_standard_layout() {
        let vm = v.view().insert_axis(Axis(1));
        let mut cm = c.view_mut().insert_axis(Axis(1));
        ndarray::linalg::general_mat_mul(alpha, &a, &vm, beta, &mut cm);
    } else {
        ndarray::linalg::general_mat_vec_mul(alpha, &a, v, beta, c);
    }
}
