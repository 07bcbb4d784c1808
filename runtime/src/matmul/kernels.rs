//! The matrix kernels behind [`super::gemm_with`] and [`super::gemv_with`]: the `gemm` crate,
//! ndarray's `general_mat_mul` (matrixmultiply) and, with the `blas` feature, the linked
//! CBLAS. Shapes are checked by the caller; each function here computes
//! `c = alpha·a·b + beta·c`, never reading `c` when `beta` is 0.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, LinalgScalar};
use tensorlift_ir::TensorElement;

/// A matrix kernel. [`super::choose`] picks one per product; [`super::gemm_with`] and
/// [`super::gemv_with`] run the one named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The `gemm` crate: packed AVX-512, AVX2+FMA or baseline microkernels, whichever the
    /// CPU has (detected at run time), threaded by the crate itself over rayon; matrix-vector
    /// products through its gemv kernels, rows split over the threads.
    Gemm,
    /// ndarray's `general_mat_mul` (matrixmultiply) and `general_mat_vec_mul`, rows split over
    /// the threads: the kernel before `Gemm`, kept as the benchmarks' baseline.
    Ndarray,
    /// The CBLAS linked with the `blas` feature (`cblas_?gemm`, `cblas_?gemv`), on the
    /// runtime's thread count (`openblas_set_num_threads`).
    #[cfg(feature = "blas")]
    Blas,
}

impl Kernel {
    /// Every kernel built into this library.
    #[cfg(not(feature = "blas"))]
    pub const ALL: &'static [Kernel] = &[Kernel::Gemm, Kernel::Ndarray];
    /// Every kernel built into this library.
    #[cfg(feature = "blas")]
    pub const ALL: &'static [Kernel] = &[Kernel::Gemm, Kernel::Ndarray, Kernel::Blas];

    /// A short name (`gemm`, `ndarray`, `blas`).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Gemm => "gemm",
            Kernel::Ndarray => "ndarray",
            #[cfg(feature = "blas")]
            Kernel::Blas => "blas",
        }
    }
}

mod sealed {
    /// Only the float types the kernels support.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type of the matrix kernels: `f32` or `f64`.
pub trait MatElem: LinalgScalar + TensorElement + Send + Sync + sealed::Sealed {
    /// `cblas_sgemm` or `cblas_dgemm`.
    #[cfg(feature = "blas")]
    #[doc(hidden)]
    const BLAS_GEMM: super::blas::Gemm<Self>;
    /// `cblas_sgemv` or `cblas_dgemv`.
    #[cfg(feature = "blas")]
    #[doc(hidden)]
    const BLAS_GEMV: super::blas::Gemv<Self>;
    /// An empty buffer with room for a result of `shape`: one of the running call's pool
    /// (`crate::pool`), or a fresh one.
    #[doc(hidden)]
    fn result_buffer(shape: &[usize]) -> Result<Vec<Self>, tensorlift_ir::ValueError>;
}

impl MatElem for f32 {
    #[cfg(feature = "blas")]
    const BLAS_GEMM: super::blas::Gemm<f32> = super::blas::ffi::cblas_sgemm;
    #[cfg(feature = "blas")]
    const BLAS_GEMV: super::blas::Gemv<f32> = super::blas::ffi::cblas_sgemv;
    fn result_buffer(shape: &[usize]) -> Result<Vec<f32>, tensorlift_ir::ValueError> {
        crate::pool::buffer("dot", shape)
    }
}

impl MatElem for f64 {
    #[cfg(feature = "blas")]
    const BLAS_GEMM: super::blas::Gemm<f64> = super::blas::ffi::cblas_dgemm;
    #[cfg(feature = "blas")]
    const BLAS_GEMV: super::blas::Gemv<f64> = super::blas::ffi::cblas_dgemv;
    fn result_buffer(shape: &[usize]) -> Result<Vec<f64>, tensorlift_ir::ValueError> {
        crate::pool::buffer("dot", shape)
    }
}

/// `c = alpha·a·b + beta·c` on `threads` threads (the caller has already reduced it to 1 for
/// products too small to split).
pub(super) fn gemm<T: MatElem>(
    kernel: Kernel,
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) {
    match kernel {
        Kernel::Gemm => gemm_crate(alpha, a, b, beta, c, threads),
        Kernel::Ndarray => ndarray_mat_mul(alpha, a, b, beta, c, threads),
        #[cfg(feature = "blas")]
        Kernel::Blas => {
            if !super::blas::gemm(alpha, a, b, beta, c, threads) {
                gemm_crate(alpha, a, b, beta, c, threads);
            }
        }
    }
}

/// `y = alpha·a·x + beta·y` on `threads` threads, in row blocks (the linked BLAS threads
/// itself).
pub(super) fn gemv<T: MatElem>(
    kernel: Kernel,
    alpha: T,
    a: ArrayView2<'_, T>,
    x: ArrayView1<'_, T>,
    beta: T,
    y: &mut ArrayViewMut1<'_, T>,
    threads: usize,
) {
    #[cfg(feature = "blas")]
    if kernel == Kernel::Blas && super::blas::gemv(alpha, a, x, beta, y, threads) {
        return;
    }
    let parts = threads.min(a.nrows()).max(1);
    if parts <= 1 {
        return gemv_block(kernel, alpha, a, &x, beta, y);
    }
    let per = a.nrows().div_ceil(parts);
    rayon::scope(|s| {
        for (ab, mut yb) in a.axis_chunks_iter(Axis(0), per).zip(y.axis_chunks_iter_mut(Axis(0), per)) {
            let x = &x;
            s.spawn(move |_| gemv_block(kernel, alpha, ab, x, beta, &mut yb));
        }
    });
}

/// One block of rows of a matrix-vector product, on the calling thread.
fn gemv_block<T: MatElem>(
    kernel: Kernel,
    alpha: T,
    a: ArrayView2<'_, T>,
    x: &ArrayView1<'_, T>,
    beta: T,
    y: &mut ArrayViewMut1<'_, T>,
) {
    match kernel {
        Kernel::Ndarray => ndarray_gemv_block(alpha, a, x, beta, y),
        _ => {
            let (m, k) = a.dim();
            let (sa, sx, sy) = (a.strides(), x.strides()[0], y.strides()[0]);
            // Column strides of the one-column `x` and `y`: never stepped along, but gemm
            // transposes the product when the output's column stride is the smaller, and its
            // matrix-vector kernels need the output to stay a column.
            let col = |s: isize, len: usize| s.abs().max(1).saturating_mul(len.max(1) as isize);
            // SAFETY: `a`, `x` and `y` are valid for their lengths and strides (ndarray's
            // invariant; the one column of `x` and `y` is never stepped along, so its stride
            // is never applied), `y` is borrowed mutably so it aliases neither input, and `T`
            // is f32 or f64, which gemm supports.
            unsafe {
                gemm::gemm(
                    m,
                    1,
                    k,
                    y.as_mut_ptr(),
                    col(sy, m),
                    sy,
                    beta != zero::<T>(),
                    a.as_ptr(),
                    sa[1],
                    sa[0],
                    x.as_ptr(),
                    col(sx, k),
                    sx,
                    beta,
                    alpha,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            }
        }
    }
}

/// The `gemm` crate, threaded by itself over rayon when `threads > 1`.
fn gemm_crate<T: MatElem>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
    let (sa, sb, sc) = ([sa[0], sa[1]], [sb[0], sb[1]], [sc[0], sc[1]]);
    // SAFETY: the three views are valid for their shapes and strides (ndarray's invariant;
    // `as_ptr` is the first element even for negative strides), `c` is borrowed mutably so
    // it aliases neither input, and `T` is f32 or f64, which gemm supports. gemm's `alpha`
    // scales the destination and its `beta` the product; with `read_dst` false it writes
    // `c` without reading it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            sc[1],
            sc[0],
            beta != zero::<T>(),
            a.as_ptr(),
            sa[1],
            sa[0],
            b.as_ptr(),
            sb[1],
            sb[0],
            beta,
            alpha,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// ndarray's `general_mat_mul`, the longer side of the result split over the threads.
fn ndarray_mat_mul<T: MatElem>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) {
    // Split the longer side of the result: each block then packs less of the other operand.
    // Columns of C = A·B are rows of Cᵀ = Bᵀ·Aᵀ (transposed views, no copies).
    let (m, n) = (a.nrows(), b.ncols());
    if m < n {
        let mut ct = c.view_mut().reversed_axes();
        return ndarray_mat_mul(alpha, b.reversed_axes(), a.reversed_axes(), beta, &mut ct, threads);
    }
    let parts = threads.min(m).max(1);
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

/// `c = alpha·a·v + beta·c` for one block of rows with ndarray. A transposed `a` (the
/// gradient `dot(X.T, d)`) is walked along the rows of `X`, contiguous, as scaled additions
/// into `c` (or through the matrix kernel when only its columns are contiguous), instead of
/// strided row dot products.
fn ndarray_gemv_block<T: MatElem>(
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
            // With beta = 0, `c` is not read (as every kernel here).
            for y in cs.iter_mut() {
                *y = if beta == zero::<T>() { zero::<T>() } else { *y * beta };
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

/// Zero of `T` (both ndarray's and tensorlift's element traits have one).
pub(super) fn zero<T: MatElem>() -> T {
    <T as tensorlift_ir::Element>::zero()
}
