//! [`Kernel::Blas`](super::Kernel::Blas): matrix products through the CBLAS linked with the
//! `blas` feature (its names and integer width come from `build.rs`). Operands whose layout
//! BLAS cannot read (no unit stride, negative strides) are copied to row-major first;
//! dimensions beyond the library's integers are refused (`false`: the caller runs the `gemm`
//! crate instead).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use super::MatElem;

/// The linked library's declarations.
pub(super) mod ffi {
    include!(concat!(env!("OUT_DIR"), "/blas_sys.rs"));
}

use ffi::BlasInt;

/// `cblas_?gemm`'s signature for element type `T`.
pub type Gemm<T> = unsafe extern "C" fn(
    i32,
    i32,
    i32,
    BlasInt,
    BlasInt,
    BlasInt,
    T,
    *const T,
    BlasInt,
    *const T,
    BlasInt,
    T,
    *mut T,
    BlasInt,
);

/// `cblas_?gemv`'s signature for element type `T`.
pub type Gemv<T> = unsafe extern "C" fn(
    i32,
    i32,
    BlasInt,
    BlasInt,
    T,
    *const T,
    BlasInt,
    *const T,
    BlasInt,
    T,
    *mut T,
    BlasInt,
);

const ROW_MAJOR: i32 = 101;
const NO_TRANS: i32 = 111;
const TRANS: i32 = 112;

/// The thread count last given to the library (0: never set).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Runs the library on `n` threads from now on (a call only when `n` changes).
fn set_threads(n: usize) {
    if THREADS.swap(n, Relaxed) != n {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        // SAFETY: a plain setter of the library's thread count, valid for any positive count.
        unsafe { ffi::openblas_set_num_threads(n) }
    }
}

/// How row-major BLAS reads a `rows × cols` matrix with strides `s`: as itself (`NO_TRANS`)
/// or as the transpose of a row-major matrix (`TRANS`), with its leading dimension; `None`
/// when it cannot (no unit stride, or a negative one).
fn layout(rows: usize, cols: usize, s: &[isize]) -> Option<(i32, BlasInt)> {
    let ld = |s: isize, len: usize| (s >= len.max(1) as isize).then_some(s);
    let row_major =
        (cols <= 1 || s[1] == 1).then(|| if rows <= 1 { Some(cols.max(1) as isize) } else { ld(s[0], cols) });
    if let Some(Some(l)) = row_major {
        return Some((NO_TRANS, BlasInt::try_from(l).ok()?));
    }
    let col_major =
        (rows <= 1 || s[0] == 1).then(|| if cols <= 1 { Some(rows.max(1) as isize) } else { ld(s[1], rows) });
    match col_major {
        Some(Some(l)) => Some((TRANS, BlasInt::try_from(l).ok()?)),
        _ => None,
    }
}

/// Zero of `T`.
fn zero<T: MatElem>() -> T {
    <T as tensorlift_ir::Element>::zero()
}

/// `c = alpha·a·b + beta·c` through `cblas_?gemm`; `false` (nothing written) when a
/// dimension does not fit the library's integers.
pub(super) fn gemm<T: MatElem>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) -> bool {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if m == 0 || n == 0 {
        return true;
    }
    let dims = (BlasInt::try_from(m), BlasInt::try_from(n), BlasInt::try_from(k));
    let (Ok(bm), Ok(bn), Ok(bk)) = dims else {
        return false;
    };
    let Some((NO_TRANS, ldc)) = layout(m, n, c.strides()) else {
        if let Some((NO_TRANS, _)) = layout(n, m, c.view().reversed_axes().strides()) {
            // A column-major `c`: Cᵀ = Bᵀ·Aᵀ is row-major.
            let mut ct = c.view_mut().reversed_axes();
            return gemm(alpha, b.reversed_axes(), a.reversed_axes(), beta, &mut ct, threads);
        }
        // No layout BLAS writes: compute into a row-major copy (`to_owned` would keep the
        // layout).
        let mut tmp = Array2::zeros((m, n));
        if beta != zero::<T>() {
            tmp.assign(c);
        }
        let done = gemm(alpha, a, b, beta, &mut tmp.view_mut(), threads);
        if done {
            c.assign(&tmp);
        }
        return done;
    };
    let (a, b) = (readable(a), readable(b));
    let (Some((ta, lda)), Some((tb, ldb))) = (layout(m, k, a.strides()), layout(k, n, b.strides())) else {
        return false;
    };
    set_threads(threads);
    // SAFETY: every matrix is valid for its dimensions and leading dimension as `layout`
    // describes it (checked just above; `readable` copied what BLAS cannot read), `c` is
    // borrowed mutably so it aliases neither input, and `T::BLAS_GEMM` is the routine of
    // `T`'s precision. With beta = 0 BLAS does not read `c`.
    unsafe {
        T::BLAS_GEMM(
            ROW_MAJOR,
            ta,
            tb,
            bm,
            bn,
            bk,
            alpha,
            a.as_ptr(),
            lda,
            b.as_ptr(),
            ldb,
            beta,
            c.as_mut_ptr(),
            ldc,
        )
    };
    true
}

/// `y = alpha·a·x + beta·y` through `cblas_?gemv`; `false` (nothing written) when a
/// dimension or step does not fit the library's integers.
pub(super) fn gemv<T: MatElem>(
    alpha: T,
    a: ArrayView2<'_, T>,
    x: ArrayView1<'_, T>,
    beta: T,
    y: &mut ArrayViewMut1<'_, T>,
    threads: usize,
) -> bool {
    let (m, k) = a.dim();
    if m == 0 {
        return true;
    }
    let a = readable(a);
    let Some((ta, lda)) = layout(m, k, a.strides()) else {
        return false;
    };
    // Row-major BLAS of the transpose: the stored matrix is k × m.
    let (rows, cols) = if ta == NO_TRANS { (m, k) } else { (k, m) };
    let (Ok(br), Ok(bc)) = (BlasInt::try_from(rows), BlasInt::try_from(cols)) else {
        return false;
    };
    if y.strides()[0] < 1 && m > 1 {
        let mut tmp = Array1::zeros(m);
        if beta != zero::<T>() {
            tmp.assign(y);
        }
        let done = gemv(alpha, a.view(), x, beta, &mut tmp.view_mut(), threads);
        if done {
            y.assign(&tmp);
        }
        return done;
    }
    let x = if x.strides()[0] >= 1 || k <= 1 { x.into() } else { x.as_standard_layout() };
    let (incx, incy) = (x.strides()[0].max(1), y.strides()[0].max(1));
    let (Ok(incx), Ok(incy)) = (BlasInt::try_from(incx), BlasInt::try_from(incy)) else {
        return false;
    };
    set_threads(threads);
    // SAFETY: `a` is valid for its dimensions and leading dimension as `layout` describes it,
    // `x` and `y` for their lengths and positive increments (copied otherwise, above), `y`
    // is borrowed mutably so it aliases neither input, and `T::BLAS_GEMV` is the routine of
    // `T`'s precision. With beta = 0 BLAS does not read `y`.
    unsafe {
        T::BLAS_GEMV(
            ROW_MAJOR,
            ta,
            br,
            bc,
            alpha,
            a.as_ptr(),
            lda,
            x.as_ptr(),
            incx,
            beta,
            y.as_mut_ptr(),
            incy,
        )
    };
    true
}

/// `v` itself when BLAS can read it, else a row-major copy.
fn readable<'a, T: MatElem>(v: ArrayView2<'a, T>) -> ndarray::CowArray<'a, T, ndarray::Ix2> {
    if layout(v.nrows(), v.ncols(), v.strides()).is_some() {
        v.into()
    } else {
        v.as_standard_layout().into_owned().into()
    }
}
