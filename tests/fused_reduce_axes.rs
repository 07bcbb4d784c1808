//! Fused reductions over any run of axes under the JIT: `sum`, `mean`, `max`, `min` of a
//! fused elementwise body over every axis, the trailing axes, the leading axes (`axis=0`,
//! the bias gradient of a training step) and middle axes, with `keepdims`, bias rows and
//! columns as inputs, float32 and float64 — against the interpreter, with the native path
//! (no elementwise temporary) checked to be the one taken.

use ndarray::{ArrayD, IxDyn};
use tensorlift as tl;
use tl::{DType, Mode, Tensor, Var};

/// A deterministic array of `shape` with values in about [-2, 2].
fn data(shape: &[usize], seed: u64, dtype: DType) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| {
            let h =
                (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            ((h >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
        })
        .collect();
    Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()).cast(dtype)
}

/// Compiles `outputs` in both modes, runs them on `args`, and checks the JIT ran `native`
/// fused reductions natively on this thread and agrees with the interpreter within `tol`
/// (relative to the magnitude of the values summed).
fn check(inputs: &[&Var], outputs: &[Var], args: &[Tensor], native: usize, tol: f64) {
    let jit = tl::Function::builder(inputs, outputs).mode(Mode::Jit).build().unwrap();
    let interp = tl::Function::builder(inputs, outputs).mode(Mode::Interp).build().unwrap();
    let args: Vec<tl::Arg> = args.iter().cloned().map(tl::Arg::from).collect();
    let before = tensorlift_runtime::reduce::native_count();
    let a = jit.call(&args).expect("jit runs");
    assert_eq!(tensorlift_runtime::reduce::native_count() - before, native, "{}", jit.debugprint());
    let b = interp.call(&args).expect("interp runs");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.dtype(), x.shape()), (y.dtype(), y.shape()), "{}", jit.debugprint());
        for (p, q) in x.to_f64_vec().into_iter().zip(y.to_f64_vec()) {
            let ok = p.to_bits() == q.to_bits()
                || (p.is_nan() && q.is_nan())
                || (p - q).abs() <= tol * (1.0 + q.abs());
            assert!(ok, "{p} vs {q}\n{}", jit.debugprint());
        }
    }
}

fn tol(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        2e-5
    } else {
        1e-12
    }
}

#[test]
fn leading_axes_of_a_matrix_every_op_and_keepdims() {
    for dtype in [DType::F64, DType::F32] {
        for (rows, cols) in [(3, 16), (300, 40), (1000, 1000), (5000, 17)] {
            let x = tl::tensor("x", dtype, &[None, None]);
            let y = tl::tensor("y", dtype, &[None, None]);
            // A body per reduction (a body read twice stays a kernel of its own).
            let body = |k: f64| tl::exp(&x * k) * &y - &x;
            let outs = vec![
                body(0.5).sum_axis(0),
                body(0.25).mean_opts(0, true),
                body(0.125).max_axis(0),
                body(-0.5).min_opts(0, true),
            ];
            let args = [data(&[rows, cols], 1, dtype), data(&[rows, cols], 2, dtype)];
            check(&[&x, &y], &outs, &args, 4, tol(dtype));
        }
    }
}

#[test]
fn bias_rows_and_columns_feed_a_leading_axis_reduction() {
    // The bias gradient of a tanh layer: sum(g * (1 - h*h), axis=0), plus a bias row and a
    // column broadcast inside the body.
    let g = tl::dmatrix("g");
    let h = tl::dmatrix("h");
    let b = tl::drow("b");
    let c = tl::dcol("c");
    let outs = vec![(&g * (1.0 - &h * &h)).sum_axis(0), (tl::tanh(&g + &b) * &c).sum_axis(0)];
    let args = [
        data(&[256, 512], 3, DType::F64),
        data(&[256, 512], 4, DType::F64),
        data(&[1, 512], 5, DType::F64),
        data(&[256, 1], 6, DType::F64),
    ];
    check(&[&g, &h, &b, &c], &outs, &args, 2, 1e-12);
}

#[test]
fn middle_and_trailing_axes_of_a_3d_tensor() {
    let x = tl::tensor("x", DType::F64, &[None, None, None]);
    let body = |k: f64| tl::sin(&x) * k + 1.0;
    // Middle axis, leading two, trailing two, trailing one (long rows), all three.
    let outs = vec![
        body(2.0).sum_axis(1),
        body(3.0).max_opts([0, 1], true),
        body(4.0).mean_axis([1, 2]),
        body(5.0).min_axis(2),
        body(6.0).sum(),
    ];
    check(&[&x], &outs, &[data(&[6, 70, 80], 7, DType::F64)], 5, 1e-12);
    // Short trailing rows go many to a kernel call (natively); a middle reduction over
    // short kept rows goes to the reference kernel; a set of axes that is not one run is
    // split into runs, each native (axis 2 of the body, then axis 0 of that).
    let outs = vec![body(2.0).sum_axis(1), body(3.0).sum_axis(2), body(4.0).sum_axis([0, 2])];
    check(&[&x], &outs, &[data(&[6, 70, 3], 8, DType::F64)], 3, 1e-12);
    // Short trailing rows with a bias row cannot go several at a time: reference kernels.
    let b = tl::tensor("b", DType::F64, &[Some(1), Some(1), None]);
    let outs = vec![(tl::sin(&x) + &b).sum_axis(2)];
    check(&[&x, &b], &outs, &[data(&[6, 70, 3], 8, DType::F64), data(&[1, 1, 3], 9, DType::F64)], 0, 1e-12);
}

#[test]
fn nan_propagates_through_max_and_min_of_any_axes() {
    let x = tl::dmatrix("x");
    let body = |k: f64| &x * k + 1.0;
    let outs = vec![body(2.0).max_axis(0), body(3.0).min_axis(0), body(4.0).max_axis(1), body(5.0).min()];
    let mut v = data(&[300, 64], 9, DType::F64).to_f64_vec();
    v[5 * 64 + 7] = f64::NAN;
    v[299 * 64 + 63] = f64::NAN;
    let t = Tensor::from(ArrayD::from_shape_vec(IxDyn(&[300, 64]), v).unwrap());
    check(&[&x], &outs, &[t], 4, 0.0);
}

#[test]
fn a_long_float32_column_sum_stays_accurate_and_thread_independent() {
    // 2e6 rows of 16 columns: the float64 accumulation in blocks of rows keeps the float32
    // result within one float32 rounding of the exact sum (a float32 running sum would
    // drift by about n·ε32 relative).
    let rows = 2_000_000;
    let x = tl::fmatrix("x");
    let f = tl::Function::builder(&[&x], &[(&x * &x).sum_axis(0)]).mode(Mode::Jit).build().unwrap();
    let t = data(&[rows, 16], 10, DType::F32);
    let v = t.to_f64_vec();
    let exact: Vec<f64> = (0..16).map(|c| (0..rows).map(|r| v[r * 16 + c] * v[r * 16 + c]).sum()).collect();
    let threads = tl::num_threads();
    let two = f.call(&[tl::Arg::from(t.clone())]).unwrap()[0].to_f64_vec();
    tl::set_num_threads(1);
    let one = f.call(&[tl::Arg::from(t)]).unwrap()[0].to_f64_vec();
    tl::set_num_threads(threads);
    assert_eq!(one, two, "the result does not depend on the threads");
    for (got, want) in two.iter().zip(&exact) {
        assert!((got - want).abs() <= 6e-8 * want, "{got} vs {want}");
    }
}

#[test]
fn products_over_any_run_of_axes() {
    for dtype in [DType::F64, DType::F32] {
        let x = tl::tensor("x", dtype, &[None, None, None]);
        // Factors near 1, so that products of thousands stay finite.
        let body = |k: f64| tl::exp(&x * k);
        let outs = vec![
            body(0.01).prod(),
            body(0.02).prod_axis(0),
            body(0.03).prod_opts(1, true),
            body(0.04).prod_axis([1, 2]),
        ];
        let tol = if dtype == DType::F32 { 1e-4 } else { 1e-12 };
        check(&[&x], &outs, &[data(&[20, 30, 70], 11, dtype)], 4, tol);
    }
}

/// A plain reduction (the body returns its input unchanged: read in place, not copied by a
/// kernel) over every run of axes of a 4-d tensor, LeNet's bias gradient
/// `sum(axis=(0, 2, 3))` among them (it reuses the `(2, 3)` sum: six reductions in all):
/// against the interpreter, and bit for bit the same reduction of a body that computes
/// those values (`sqr(x)` against `x²` given).
#[test]
fn plain_reductions_read_their_input_in_place() {
    for dtype in [DType::F64, DType::F32] {
        let x = tl::tensor("x", dtype, &[None; 4]);
        let y = tl::tensor("y", dtype, &[None; 4]);
        let axes: [&[isize]; 6] = [&[0, 1, 2, 3], &[2, 3], &[0], &[1, 2], &[0, 2, 3], &[3]];
        let plain: Vec<Var> = axes.iter().map(|a| y.sum_axis(*a)).collect();
        let fused: Vec<Var> = axes.iter().map(|a| tl::sqr(&x).sum_axis(*a)).collect();
        let xv = data(&[12, 20, 24, 24], 3, dtype);
        let squares: Vec<f64> = xv.to_f64_vec().iter().map(|v| v * v).collect();
        let squares =
            Tensor::from(ArrayD::from_shape_vec(IxDyn(&[12, 20, 24, 24]), squares).unwrap()).cast(dtype);
        check(&[&y], &plain, std::slice::from_ref(&squares), 6, tol(dtype));
        let run = |ins: &[&Var], outs: &[Var], arg: &Tensor| {
            let f = tl::Function::builder(ins, outs).mode(Mode::Jit).build().unwrap();
            f.call(&[tl::Arg::from(arg.clone())]).unwrap()
        };
        let (a, b) = (run(&[&y], &plain, &squares), run(&[&x], &fused, &xv));
        for ((p, q), ax) in a.iter().zip(&b).zip(axes) {
            let (p, q) = (p.to_f64_vec(), q.to_f64_vec());
            assert!(p.iter().zip(&q).all(|(u, v)| u.to_bits() == v.to_bits()), "{dtype} axes {ax:?}");
        }
    }
}
