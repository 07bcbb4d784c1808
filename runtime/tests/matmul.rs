//! Every matrix kernel (`Kernel::ALL`: the `gemm` crate, ndarray's, the linked BLAS with the
//! `blas` feature) against a triple loop in f64, in f32 and f64: row-major, transposed,
//! stepped and reversed operands and outputs, `beta` = 0 (the output not read: NaN in it
//! does not reach the result), 1 and others, empty dimensions, products large enough to be
//! split over two threads, and shape mismatches as typed errors.

use ndarray::{s, Array1, Array2, ArrayView2};
use tensorlift_ir::ValueError;
use tensorlift_runtime::matmul::{self, Kernel, MatElem};

/// Deterministic values in [-1, 1).
fn val(i: usize) -> f64 {
    ((i.wrapping_mul(2654435761) >> 7) % 2001) as f64 / 1000.0 - 1.0
}

/// A `rows × cols` matrix with the layout named: `row` (row-major), `col` (a transposed
/// view), `step` (every other column of a wider matrix), `rev` (rows reversed).
fn matrix<T: MatElem>(rows: usize, cols: usize, layout: &str, seed: usize) -> Array2<T> {
    let f = |i: usize, j: usize| T::from_f64(val(seed + i * 131 + j * 7));
    match layout {
        "row" => Array2::from_shape_fn((rows, cols), |(i, j)| f(i, j)),
        "col" => Array2::from_shape_fn((cols, rows), |(j, i)| f(i, j)).reversed_axes(),
        "step" => {
            let wide = Array2::from_shape_fn((rows, 2 * cols), |(i, j)| f(i, j / 2));
            wide.slice_move(s![.., ..;2])
        }
        "rev" => {
            let m = Array2::from_shape_fn((rows, cols), |(i, j)| f(rows - 1 - i, j));
            m.slice_move(s![..;-1, ..])
        }
        _ => unreachable!("a layout of this test"),
    }
}

/// A vector with the layout named: `row` (contiguous), `step` (every other element), `rev`.
fn vector<T: MatElem>(n: usize, layout: &str, seed: usize) -> Array1<T> {
    let f = |i: usize| T::from_f64(val(seed + i * 17));
    match layout {
        "row" => Array1::from_shape_fn(n, f),
        "step" => Array1::from_shape_fn(2 * n, |i| f(i / 2)).slice_move(s![..;2]),
        "rev" => Array1::from_shape_fn(n, |i| f(n - 1 - i)).slice_move(s![..;-1]),
        _ => unreachable!("a layout of this test"),
    }
}

/// Checks `got` against `alpha·Σ a·b + beta·c0` computed in f64 (with `beta` = 0, `c0` is
/// not read), within `tol` of the sum of magnitudes.
#[allow(clippy::too_many_arguments)]
fn check<T: MatElem>(
    got: ArrayView2<'_, T>,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c0: ArrayView2<'_, T>,
    alpha: f64,
    beta: f64,
    tol: f64,
    what: &str,
) {
    for ((i, j), g) in got.indexed_iter() {
        let (mut s, mut mag) = (0.0, 0.0);
        for p in 0..a.ncols() {
            let t = a[(i, p)].to_f64() * b[(p, j)].to_f64();
            s += t;
            mag += t.abs();
        }
        let z = if beta == 0.0 { 0.0 } else { beta * c0[(i, j)].to_f64() };
        let want = alpha * s + z;
        let g = g.to_f64();
        let bound = tol * (1.0 + alpha.abs() * mag + z.abs());
        assert!((g - want).abs() <= bound, "{what}: [{i},{j}] got {g}, want {want}");
    }
}

fn tol<T: MatElem>() -> f64 {
    if T::DTYPE == tensorlift_ir::DType::F32 {
        1e-5
    } else {
        1e-13
    }
}

/// The epilogues tried: (alpha, beta); with beta = 0 the output starts as NaN.
const EPILOGUES: [(f64, f64); 3] = [(1.0, 1.0), (2.0, -0.5), (1.5, 0.0)];

fn start<T: MatElem>(rows: usize, cols: usize, layout: &str, beta: f64) -> Array2<T> {
    let mut c = matrix::<T>(rows, cols, layout, 99);
    if beta == 0.0 {
        c.fill(T::from_f64(f64::NAN));
    }
    c
}

fn products<T: MatElem>(shapes: &[(usize, usize, usize)], layouts: &[&str], out_layouts: &[&str]) {
    for &kernel in Kernel::ALL {
        for &(m, k, n) in shapes {
            for la in layouts {
                for lb in layouts {
                    for lc in out_layouts {
                        for (alpha, beta) in EPILOGUES {
                            let a = matrix::<T>(m, k, la, 1);
                            let b = matrix::<T>(k, n, lb, 2);
                            let c0 = start::<T>(m, n, lc, beta);
                            let mut c = c0.clone();
                            let what = format!(
                                "{} {} {m}x{k}x{n} a:{la} b:{lb} c:{lc} alpha {alpha} beta {beta}",
                                kernel.name(),
                                T::DTYPE
                            );
                            matmul::gemm_with(
                                kernel,
                                T::from_f64(alpha),
                                a.view(),
                                b.view(),
                                T::from_f64(beta),
                                c.view_mut(),
                            )
                            .expect(&what);
                            check(c.view(), a.view(), b.view(), c0.view(), alpha, beta, tol::<T>(), &what);
                        }
                    }
                }
            }
        }
    }
}

const LAYOUTS: [&str; 4] = ["row", "col", "step", "rev"];

#[test]
fn every_kernel_matches_the_triple_loop_in_every_layout() {
    let shapes = [(7, 5, 3), (1, 1, 1), (3, 9, 1), (1, 6, 4), (17, 33, 9)];
    products::<f64>(&shapes, &LAYOUTS, &LAYOUTS);
    products::<f32>(&shapes, &LAYOUTS, &LAYOUTS);
}

#[test]
fn empty_dimensions_give_empty_or_scaled_results() {
    // k = 0: the product is 0, so the result is beta·c (0 with beta = 0, never NaN).
    let shapes = [(0, 4, 3), (4, 0, 3), (4, 3, 0), (0, 0, 0)];
    products::<f64>(&shapes, &["row", "col"], &["row", "col"]);
    products::<f32>(&shapes, &["row", "col"], &["row", "col"]);
}

#[test]
fn products_split_over_two_threads_match() {
    // 64·300·200 multiply-adds: above PARALLEL_FLOPS, so every kernel splits it.
    const { assert!(64 * 300 * 200 >= matmul::PARALLEL_FLOPS) };
    tensorlift_runtime::threads::set_num_threads(2);
    products::<f64>(&[(64, 300, 200), (200, 300, 64)], &["row", "col"], &["row"]);
    products::<f32>(&[(64, 300, 200)], &["row", "col"], &["row", "col"]);
}

fn mat_vec<T: MatElem>(shapes: &[(usize, usize)], a_layouts: &[&str], v_layouts: &[&str]) {
    for &kernel in Kernel::ALL {
        for &(m, k) in shapes {
            for la in a_layouts {
                for lx in v_layouts {
                    for ly in v_layouts {
                        for (alpha, beta) in EPILOGUES {
                            let a = matrix::<T>(m, k, la, 3);
                            let x = vector::<T>(k, lx, 4);
                            let mut y0 = vector::<T>(m, ly, 5);
                            if beta == 0.0 {
                                y0.fill(T::from_f64(f64::NAN));
                            }
                            let mut y = y0.clone();
                            let what = format!(
                                "{} {} gemv {m}x{k} a:{la} x:{lx} y:{ly} alpha {alpha} beta {beta}",
                                kernel.name(),
                                T::DTYPE
                            );
                            matmul::gemv_with(
                                kernel,
                                T::from_f64(alpha),
                                a.view(),
                                x.view(),
                                T::from_f64(beta),
                                y.view_mut(),
                            )
                            .expect(&what);
                            let col = |v: &Array1<T>| v.view().insert_axis(ndarray::Axis(1)).to_owned();
                            let (yc, xc, y0c) = (col(&y), col(&x), col(&y0));
                            check(yc.view(), a.view(), xc.view(), y0c.view(), alpha, beta, tol::<T>(), &what);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn every_kernel_matrix_vector_product_matches() {
    let shapes = [(7, 5), (1, 1), (1, 9), (9, 1), (0, 3), (3, 0), (40, 33)];
    mat_vec::<f64>(&shapes, &LAYOUTS, &["row", "step", "rev"]);
    mat_vec::<f32>(&shapes, &LAYOUTS, &["row", "step", "rev"]);
}

#[test]
fn large_matrix_vector_products_split_over_two_threads_match() {
    const { assert!(1000 * 600 >= matmul::GEMV_PARALLEL) };
    tensorlift_runtime::threads::set_num_threads(2);
    mat_vec::<f64>(&[(1000, 600)], &["row", "col"], &["row"]);
    mat_vec::<f32>(&[(600, 1000)], &["row", "col"], &["row"]);
}

#[test]
fn shape_mismatches_are_typed_errors() {
    let a = Array2::<f64>::zeros((3, 4));
    let b = Array2::<f64>::zeros((5, 2));
    let mut c = Array2::<f64>::zeros((3, 2));
    for &kernel in Kernel::ALL {
        let e = matmul::gemm_with(kernel, 1.0, a.view(), b.view(), 0.0, c.view_mut()).unwrap_err();
        assert!(matches!(&e, ValueError::ShapeMismatch { op, .. } if op == "gemm"), "{e}");
        let b = Array2::<f64>::zeros((4, 2));
        let mut c = Array2::<f64>::zeros((2, 3));
        let e = matmul::gemm_with(kernel, 1.0, a.view(), b.view(), 0.0, c.view_mut()).unwrap_err();
        assert!(matches!(&e, ValueError::ShapeMismatch { .. }), "{e}");
        let (x, mut y) = (Array1::<f64>::zeros(5), Array1::<f64>::zeros(3));
        let e = matmul::gemv_with(kernel, 1.0, a.view(), x.view(), 0.0, y.view_mut()).unwrap_err();
        assert!(matches!(&e, ValueError::ShapeMismatch { op, .. } if op == "gemv"), "{e}");
    }
    // The chosen kernel too; nothing is written on an error.
    c.fill(7.0);
    assert!(matmul::gemm(1.0, a.view(), b.view(), 0.0, c.view_mut()).is_err());
    assert!(c.iter().all(|&v| v == 7.0));
}

#[test]
fn choose_follows_the_measurements() {
    use tensorlift_ir::DType::{F32, F64};
    // The `gemm` crate everywhere, but for f64 products over a short inner dimension, and
    // with the `blas` feature for large f64 products.
    for (m, k, n) in
        [(400, 784, 1), (1000, 1000, 1), (256, 784, 512), (256, 512, 10), (8, 8, 8), (256, 10, 1)]
    {
        for dtype in [F32, F64] {
            assert_eq!(matmul::choose(dtype, m, k, n), Kernel::Gemm, "{dtype} {m}x{k}x{n}");
        }
    }
    assert_eq!(matmul::choose(F64, 256, 10, 512), Kernel::Ndarray);
    assert_eq!(matmul::choose(F32, 256, 10, 512), Kernel::Gemm);
    assert_eq!(matmul::choose(F64, 8, 10, 8), Kernel::Gemm);
    assert_eq!(matmul::choose(F32, 1000, 1000, 1000), Kernel::Gemm);
    #[cfg(not(feature = "blas"))]
    assert_eq!(matmul::choose(F64, 1000, 1000, 1000), Kernel::Gemm);
    #[cfg(feature = "blas")]
    assert_eq!(matmul::choose(F64, 1000, 1000, 1000), Kernel::Blas);
}

#[test]
fn products_run_on_the_runtime_threads_and_small_ones_on_one() {
    use matmul::product_threads;
    // One thread set: one thread, whatever the size.
    assert_eq!(product_threads(1, 1000, 1000, 1000), 1);
    assert_eq!(product_threads(1, 1000, 1000, 1), 1);
    // Two: both for W4's products, one for W5's gemv and small products.
    assert_eq!(product_threads(2, 1000, 1000, 1000), 2);
    assert_eq!(product_threads(2, 1000, 1000, 1), 2);
    assert_eq!(product_threads(2, 400, 784, 1), 1);
    assert_eq!(product_threads(2, 16, 16, 16), 1);
    assert_eq!(product_threads(2, 256, 784, 512), 2);
    // Never more threads than rows (or columns) to share, never none.
    assert_eq!(product_threads(8, 2, 1 << 20, 1), 2);
    assert_eq!(product_threads(0, 1000, 1000, 1000), 1);
}
