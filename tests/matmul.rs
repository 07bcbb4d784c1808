//! Matrix products in compiled functions (`Mode::Jit`, the matrix kernels) against the
//! interpreter (the reference kernels): the fused epilogue `alpha·dot(X, W) + beta·b` with
//! beta ≠ 0 and beta = 0 (NaN and ±inf in the bias give NaN, as in the reference), f32 and
//! f64, transposed operands, vector·matrix, empty dimensions, one and two threads.

use tensorlift as tl;
use tensorlift::{Mode, Tensor, Var};

fn run(inputs: &[&Var], outputs: &[Var], args: &[tl::Arg], mode: Mode) -> Vec<Tensor> {
    let f = tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles");
    f.call(args).expect("runs")
}

/// Same shape and dtype; NaN where the reference has NaN, equal infinities, finite values
/// within `tol` (relative to their magnitude).
fn assert_matches(jit: &Tensor, interp: &Tensor, tol: f64, what: &str) {
    assert_eq!(jit.dtype(), interp.dtype(), "{what}");
    assert_eq!(jit.shape(), interp.shape(), "{what}");
    for (i, (g, w)) in jit.to_f64_vec().into_iter().zip(interp.to_f64_vec()).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * (1.0 + g.abs().max(w.abs()));
        assert!(ok, "{what}: element {i}: jit {g}, reference {w}");
    }
}

fn both(inputs: &[&Var], outputs: &[Var], args: &[tl::Arg], tol: f64) {
    let jit = run(inputs, outputs, args, Mode::Jit);
    let interp = run(inputs, outputs, args, Mode::Interp);
    for (k, (j, r)) in jit.iter().zip(&interp).enumerate() {
        assert_matches(j, r, tol, &format!("output {k}: {}", outputs[k]));
    }
}

fn grid(rows: usize, cols: usize, seed: usize) -> Vec<Vec<f64>> {
    (0..rows)
        .map(|i| (0..cols).map(|j| (((i * 31 + j * 7 + seed) % 23) as f64 / 23.0) - 0.5).collect())
        .collect()
}

fn vec_of(n: usize, seed: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 13 + seed) as f64 * 0.37).sin()).collect()
}

/// The epilogues and shapes of #15, f64: bias with beta = 1, scaled, and 0 (the bias not in
/// the result but for its NaN and infinities).
fn epilogues(threads: usize) {
    let before = tl::num_threads();
    tl::set_num_threads(threads);
    let (x, w, b, u) = (tl::dmatrix("x"), tl::dmatrix("w"), tl::dvector("b"), tl::dvector("u"));
    let (m, k, n) = (64, 300, 200);
    let mut bias = vec_of(n, 1);
    let outputs = [
        tl::dot(&x, &w) + &b,
        tl::dot(&x, &w) * 2.0 + &b * -0.5,
        tl::dot(&x, &w) + &b * 0.0,
        tl::dot(w.t(), x.t()) * 0.5,
        tl::dot(&u, &w) + &b,
        tl::dot(&u, &w) + &b * 0.0,
        tl::dot(x.t(), tl::dot(&x, &u)),
    ];
    let args = |bias: &Vec<f64>| tl::args![grid(m, k, 0), grid(k, n, 5), bias.clone(), vec_of(k, 2)];
    both(&[&x, &w, &b, &u], &outputs, &args(&bias), 1e-13);
    bias[3] = f64::INFINITY;
    bias[7] = f64::NEG_INFINITY;
    bias[11] = f64::NAN;
    let jit = run(&[&x, &w, &b, &u], &outputs, &args(&bias), Mode::Jit);
    both(&[&x, &w, &b, &u], &outputs, &args(&bias), 1e-13);
    // beta = 0: 0·inf is NaN, so the columns of the infinite and NaN bias are NaN.
    let z = jit[2].to_vec2::<f64>().expect("a matrix");
    assert!(z.iter().all(|row| row[3].is_nan() && row[7].is_nan() && row[11].is_nan() && row[4].is_finite()));
    tl::set_num_threads(before);
}

#[test]
fn fused_epilogues_match_the_reference_on_one_thread() {
    epilogues(1);
}

#[test]
fn fused_epilogues_match_the_reference_on_two_threads() {
    epilogues(2);
}

#[test]
fn float32_products_match_the_reference() {
    let (x, w, b) = (tl::fmatrix("x"), tl::fmatrix("w"), tl::fvector("b"));
    let to32 = |g: Vec<Vec<f64>>| -> Vec<Vec<f32>> {
        g.into_iter().map(|r| r.into_iter().map(|v| v as f32).collect()).collect()
    };
    let outputs = [tl::dot(&x, &w) + &b, tl::dot(x.t(), &x), tl::dot(&x, &b), tl::dot(&x, &w) + &b * 0.0];
    let mut bias: Vec<f32> = vec_of(40, 3).into_iter().map(|v| v as f32).collect();
    bias[0] = f32::INFINITY;
    let args = tl::args![to32(grid(50, 40, 1)), to32(grid(40, 40, 2)), bias];
    both(&[&x, &w, &b], &outputs, &args, 1e-5);
}

#[test]
fn empty_products_match_the_reference() {
    let (x, w, b) = (tl::dmatrix("x"), tl::dmatrix("w"), tl::dvector("b"));
    let outputs = [tl::dot(&x, &w) + &b, tl::dot(&x, &w) * 3.0 + &b * 2.0];
    // No rows; then an empty inner dimension (the product is 0: the result is beta·b).
    let none = tl::Tensor::from(tl::ndarray::Array2::<f64>::zeros((0, 4)));
    both(&[&x, &w, &b], &outputs, &[none.into(), grid(4, 3, 0).into(), vec_of(3, 0).into()], 0.0);
    let x0 = tl::Tensor::from(tl::ndarray::Array2::<f64>::zeros((5, 0)));
    let w0 = tl::Tensor::from(tl::ndarray::Array2::<f64>::zeros((0, 3)));
    both(&[&x, &w, &b], &outputs, &[x0.into(), w0.into(), vec_of(3, 0).into()], 0.0);
}

#[test]
fn short_inner_dimension_products_match_the_reference() {
    // k = 10 in f64: the matrixmultiply kernel (`matmul::choose`), with both epilogues.
    let (x, w, b) = (tl::dmatrix("x"), tl::dmatrix("w"), tl::dvector("b"));
    let outputs = [tl::dot(&x, &w) + &b, tl::dot(&x, &w) * 0.5 + &b * 0.0, tl::dot(w.t(), x.t())];
    let mut bias = vec_of(300, 4);
    bias[5] = f64::INFINITY;
    both(&[&x, &w, &b], &outputs, &tl::args![grid(200, 10, 1), grid(10, 300, 2), bias], 1e-13);
}
