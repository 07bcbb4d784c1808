//! `Mode::Jit` against `Mode::Interp`: the same functions give the same results (NaN equal
//! to NaN, infinities exact, other values within 1e-14 (relative and absolute): the JIT's inline
//! transcendentals are within 2 ulp of std, not bit-identical) whether the fused kernels run
//! as native code or on the reference kernels — the tutorial cells, gradients,
//! broadcasting, f32, reductions and a training step.

use tensorlift as tl;
use tl::{Mode, Tensor, Var};

fn compile(inputs: &[&Var], outputs: &[Var], mode: Mode) -> tl::Function {
    tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles")
}

fn same(a: &Tensor, b: &Tensor) -> bool {
    a.dtype() == b.dtype()
        && a.shape() == b.shape()
        && a.to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .all(|(&x, y)| close(x, y, if a.dtype() == tl::DType::F32 { 1e-6 } else { 1e-14 }))
}

/// Equal bits, both NaN, or finite and within `tol` of each other, relative or absolute
/// (an absolute term, for results of cancellation such as `c*tanh(u) + c` near `u → -∞`).
fn close(x: f64, y: f64, tol: f64) -> bool {
    x.to_bits() == y.to_bits()
        || (x.is_nan() && y.is_nan())
        || (x.is_finite() && y.is_finite() && (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
}

/// Compiles in both modes, checks the JIT compiled at least `min_kernels` kernels, and
/// compares the results on `args`.
fn both(inputs: &[&Var], outputs: &[Var], args: &[tl::Arg], min_kernels: usize) -> Vec<Tensor> {
    let jit = compile(inputs, outputs, Mode::Jit);
    let interp = compile(inputs, outputs, Mode::Interp);
    assert!(
        jit.native_kernel_count() >= min_kernels,
        "{} kernels:\n{}",
        jit.native_kernel_count(),
        jit.debugprint()
    );
    assert_eq!(interp.native_kernel_count(), 0);
    let a = jit.call(args).expect("jit runs");
    let b = interp.call(args).expect("interp runs");
    for (x, y) in a.iter().zip(&b) {
        assert!(same(x, y), "jit {x} vs interp {y}\n{}", jit.debugprint());
    }
    a
}

fn ramp(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|i| lo + (hi - lo) * i as f64 / (n.max(2) - 1) as f64).collect()
}

#[test]
fn tutorial_cells_under_the_jit() {
    let x = tl::dmatrix("x");
    let s: Var = 1.0 / (1.0 + tl::exp(-&x));
    let out = both(&[&x], &[s], &tl::args![vec![vec![0.0, 1.0], vec![-1.0, -2.0]]], 0);
    assert_eq!(out[0].to_string(), "[[0.5        0.73105858]\n [0.26894142 0.11920292]]");

    let x = tl::dscalar("x");
    let g = tl::grad(&((&x - 4.0) * (x.pow(2) + 6.0)), &x).unwrap();
    for (v, want) in [(0.0, 6.0), (1.0, 1.0), (2.0, 2.0)] {
        assert_eq!(both(&[&x], std::slice::from_ref(&g), &tl::args![v], 1)[0].to_f64().unwrap(), want);
    }
    let y = tl::dscalar("y");
    let gs = tl::grad(&(&x + 2.0 * &y).pow(2), &[&x, &y]).unwrap();
    let out = both(&[&x, &y], &gs, &tl::args![1.0, 2.0], 1);
    assert_eq!((out[0].to_f64().unwrap(), out[1].to_f64().unwrap()), (10.0, 20.0));
}

#[test]
fn elementwise_expressions_with_special_values() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let mut v = ramp(1001, -5.0, 5.0);
    v[3] = f64::NAN;
    v[10] = f64::INFINITY;
    v[11] = f64::NEG_INFINITY;
    v[12] = -0.0;
    let w: Vec<f64> = v.iter().map(|a| 0.5 - a * 0.3).collect();
    let exprs: Vec<Var> = vec![
        (&x * &y + 1.0) / (tl::abs(&x) + 2.0),
        tl::maximum(&x, &y) - tl::minimum(&x, 0.5).sqr(),
        tl::sqrt(tl::abs(&x)) * tl::sign(&y) + tl::floor(&x) - tl::round(&y),
        tl::tanh(&x) * tl::exp(&y) + tl::sigmoid(&x * 2.0),
        tl::softplus(&x) - tl::log1p(tl::abs(&y)) + tl::clip(&x, -1.0, 1.0),
        (&x - &y).pow(3) + x.pow(2.5).reciprocal(),
    ];
    // The first and third share |x|: one two-output kernel computes both.
    let out = both(&[&x, &y], &exprs, &tl::args![v.clone(), w.clone()], exprs.len() - 1);
    assert_eq!(out[0].shape(), &[1001]);
}

#[test]
fn broadcast_scalars_and_rows() {
    let m = tl::dmatrix("m");
    let s = tl::dscalar("s");
    let r = tl::row("r");
    let mv: Vec<Vec<f64>> = (0..7).map(|i| ramp(5, -1.0, i as f64)).collect();
    // A scalar broadcast runs natively; a row broadcast along one axis falls back to the
    // reference kernel — both must agree.
    let exprs = vec![(&m * &s + 1.0).exp(), (&m - &r).sqr() * 0.5 + &s];
    both(&[&m, &s, &r], &exprs, &tl::args![mv, 1.5, vec![ramp(5, 0.0, 1.0)]], 2);
}

#[test]
fn float32_kernels() {
    let x = tl::fvector("x");
    let e = (&x * 3.0 + 1.0).sqr() - tl::sqrt(tl::abs(&x)) * 0.25;
    let v: Vec<f32> = ramp(37, -3.0, 3.0).iter().map(|&a| a as f32).collect();
    let out = both(&[&x], &[e], &tl::args![v], 1);
    assert_eq!(out[0].dtype(), tl::DType::F32);
}

#[test]
fn fused_reductions() {
    let x = tl::dmatrix("x");
    let rows: Vec<Vec<f64>> = (0..6).map(|i| ramp(9, -2.0, 1.0 + i as f64)).collect();
    let exprs = vec![x.sqr().sum(), (tl::exp(&x) * 2.0 + 1.0).mean_axis(1), tl::abs(&x).max_opts(0, true)];
    both(&[&x], &exprs, &tl::args![rows], 3);
}

#[test]
fn a_training_step_matches() {
    let x = tl::dmatrix("x");
    let y = tl::dvector("y");
    let data: Vec<Vec<f64>> = (0..20).map(|i| ramp(8, -1.0, (i % 5) as f64 * 0.3)).collect();
    let labels: Vec<f64> = (0..20).map(|i| (i % 2) as f64).collect();
    let run = |mode: Mode| -> Vec<f64> {
        let w = tl::shared(vec![0.01; 8], "w");
        let b = tl::shared(0.0, "b");
        let p: Var = 1.0 / (1.0 + tl::exp(-tl::dot(&x, &w) - &b));
        let cost = (-&y * tl::log(&p) - (1.0 - &y) * tl::log(1.0 - &p)).mean() + 0.01 * (&w * &w).sum();
        let g = tl::grad(&cost, &[&w, &b]).unwrap();
        let f = tl::Function::builder(&[&x, &y], &[&cost])
            .updates(&[(&w, &w - 0.1 * &g[0]), (&b, &b - 0.1 * &g[1])])
            .mode(mode)
            .build()
            .unwrap();
        let mut costs = Vec::new();
        for _ in 0..50 {
            costs.push(f.call(&tl::args![data.clone(), labels.clone()]).unwrap()[0].to_f64().unwrap());
        }
        costs
    };
    let (a, b) = (run(Mode::Jit), run(Mode::Interp));
    assert!(a.iter().zip(&b).all(|(&x, &y)| close(x, y, 1e-12)), "{a:?}\n{b:?}");
    assert!(a[49] < a[0]);
}

#[test]
fn shape_errors_are_still_typed_errors() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = compile(&[&x, &y], &[(&x * &y + 1.0).exp()], Mode::Jit);
    assert_eq!(f.native_kernel_count(), 1);
    let err = f.call(&tl::args![vec![1.0, 2.0], vec![1.0, 2.0, 3.0]]).unwrap_err();
    assert!(matches!(err, tl::Error::Eval { .. }), "{err}");
    assert!(err.to_string().contains("[2]") && err.to_string().contains("[3]"), "{err}");
}

#[test]
fn clif_of_the_kernels_is_available() {
    let x = tl::dvector("x");
    let f = compile(&[&x], &[(&x * 2.0 + 1.0).sqr()], Mode::Jit);
    let clif = f.clif();
    assert_eq!(clif.len(), 1);
    assert!(clif[0].0.starts_with("Composite{"), "{}", clif[0].0);
    assert!(clif[0].1.contains("function") && clif[0].1.contains("fmul"), "{}", clif[0].1);
}

#[test]
fn large_kernels_split_over_threads_give_the_single_threaded_result() {
    let x = tl::dvector("x");
    let y = tl::fvector("y");
    let n = 200_003;
    let xs: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
    let ys: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
    let outputs = [(&x * 1.5 + 0.25).sqr() - &x, tl::cast(&y, tl::DType::F64) * &x + 1.0];
    let f = compile(&[&x, &y], &outputs, Mode::Jit);
    assert_eq!(f.native_kernel_count(), 2, "{}", f.debugprint());
    let before = tl::num_threads();
    tl::set_num_threads(1);
    let one = f.call(&tl::args![xs.clone(), ys.clone()]).unwrap();
    tl::set_num_threads(2);
    let two = f.call(&tl::args![xs.clone(), ys.clone()]).unwrap();
    tl::set_num_threads(before);
    assert_eq!(one, two);
    let reference = compile(&[&x, &y], &outputs, Mode::Interp).call(&tl::args![xs, ys]).unwrap();
    for (a, b) in one.iter().zip(&reference) {
        assert!(same(a, b));
    }
}

#[test]
fn bias_rows_and_columns_broadcast_in_native_kernels() {
    let x = tl::dmatrix("x");
    let b = tl::dvector("b");
    let c = tl::dcol("c");
    let (rows, cols) = (301, 257);
    let xs: Vec<Vec<f64>> =
        (0..rows).map(|i| (0..cols).map(|j| ((i * cols + j) as f64 * 0.013).sin()).collect()).collect();
    let bs: Vec<f64> = (0..cols).map(|j| j as f64 * 0.01 - 1.0).collect();
    let cs: Vec<Vec<f64>> = (0..rows).map(|i| vec![1.0 + i as f64 * 0.001]).collect();
    let args = tl::args![xs, bs, cs];
    let out = both(&[&x, &b, &c], &[((&x * 2.0 + &b).tanh() * &c + &c).sqr()], &args, 1);
    assert_eq!(out[0].shape(), &[rows, cols]);
}

#[test]
fn all_scalar_functions_match_the_interpreter() {
    let x = tl::dscalar("x");
    let y = tl::fscalar("y");
    let z = tl::dscalar("z");
    let outputs = [
        x.pow(2),
        (&x * tl::cast(&y, tl::DType::F64) + 1.0).exp() / (&z - 0.5),
        tl::sigmoid(&(&z * 3.0)) + x.sin(),
        y.clone() * 2.0,
        x.clone(),
    ];
    let jit = compile(&[&x, &y, &z], &outputs, Mode::Jit);
    let interp = compile(&[&x, &y, &z], &outputs, Mode::Interp);
    for (a, b, c) in
        [(2.0, 0.5f32, 1.0), (-0.0, -1.5, 0.5), (f64::NAN, 3.0, -2.0), (1e300, 1e30, f64::INFINITY)]
    {
        let args = tl::args![a, b, c];
        let (p, q) = (jit.call(&args).unwrap(), interp.call(&args).unwrap());
        for (u, v) in p.iter().zip(&q) {
            assert!(same(u, v), "{u} vs {v} at {a}, {b}, {c}");
        }
    }
    // Type errors are still errors.
    assert!(jit.call(&tl::args![1.0, 0.1f64, 3.0]).is_err());
}

#[test]
fn call_into_writes_into_the_callers_arrays() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let c = tl::shared(0.0, "c");
    let outputs = [(&x * 2.0 + &y).exp(), x.sum(), x.clone()];
    for mode in [Mode::Jit, Mode::Interp, Mode::Debug] {
        let f =
            tl::Function::builder(&[&x, &y], &outputs).update(&c, &(&c + 1.0)).mode(mode).build().unwrap();
        let args = tl::args![vec![0.5, -1.0, 2.0], vec![1.0, 0.0, -3.0]];
        let want = f.call(&args).unwrap();
        let mut outs = vec![Tensor::from(vec![0.0; 3]), Tensor::from(0.0), Tensor::from(vec![0.0; 3])];
        let ptr = |t: &Tensor| match t {
            Tensor::F64(a) => a.as_ptr(),
            _ => unreachable!(),
        };
        let p0 = ptr(&outs[0]);
        for _ in 0..3 {
            f.call_into(&args, &mut outs).unwrap();
            assert_eq!(outs, want, "{mode:?}");
            assert_eq!(ptr(&outs[0]), p0, "{mode:?}: written in place");
        }
        let counter = c.as_shared().unwrap();
        let before = counter.get();
        // An array of the wrong shape is an error, and the update is not applied.
        let mut bad = vec![Tensor::from(vec![0.0; 2]), Tensor::from(0.0), Tensor::from(vec![0.0; 3])];
        let err = f.call_into(&args, &mut bad).unwrap_err();
        assert!(err.to_string().contains("output 0"), "{err}");
        assert_eq!(counter.get(), before);
        assert!(f.call_into(&args, &mut outs[..2]).is_err());
    }
}

/// #12 item 13: an output array that shares the input's buffer, asked for a permuted view
/// of that input, receives the permuted elements (not the untouched input).
#[test]
fn call_into_an_array_sharing_the_input_buffer_gets_the_permuted_view() {
    let x = tl::dmatrix("x");
    let t3 = tl::dtensor3("t3");
    for mode in [Mode::Jit, Mode::Interp, Mode::Debug] {
        let f = tl::Function::builder(&[&x], &[x.t()]).mode(mode).build().unwrap();
        let matrix = |rows: [[f64; 2]; 2]| Tensor::from(ndarray::arr2(&rows).into_dyn());
        let input = matrix([[1.0, 2.0], [3.0, 4.0]]);
        let mut outs = [input.clone()];
        f.call_into(&[input.clone().into()], &mut outs).unwrap();
        assert_eq!(outs[0], matrix([[1.0, 3.0], [2.0, 4.0]]), "{mode:?}");
        assert_eq!(input, matrix([[1.0, 2.0], [3.0, 4.0]]), "{mode:?}: input kept");

        let g = tl::Function::builder(&[&t3], &[t3.dimshuffle_pattern("2,0,1")]).mode(mode).build().unwrap();
        let data: Vec<f64> = (0..8).map(f64::from).collect();
        let input = Tensor::from(ndarray::ArrayD::from_shape_vec(vec![2, 2, 2], data).unwrap());
        let want = g.call(&[input.clone().into()]).unwrap().remove(0);
        assert_ne!(want, input, "a permutation that moves elements");
        let mut outs = [input.clone()];
        g.call_into(&[input.into()], &mut outs).unwrap();
        assert_eq!(outs[0], want, "{mode:?}");
    }
}

#[test]
fn threaded_matrix_products_match_the_reference() {
    let x = tl::dmatrix("x");
    let w = tl::dmatrix("w");
    let b = tl::dvector("b");
    let v = tl::dvector("v");
    let u = tl::dvector("u");
    let (m, k, n) = (64, 300, 200);
    let xs: Vec<Vec<f64>> =
        (0..m).map(|i| (0..k).map(|j| ((i * 31 + j * 7) % 23) as f64 / 23.0 - 0.5).collect()).collect();
    let ws: Vec<Vec<f64>> =
        (0..k).map(|i| (0..n).map(|j| ((i * 13 + j * 3) % 19) as f64 / 19.0 - 0.5).collect()).collect();
    let bs: Vec<f64> = (0..n).map(|j| j as f64 * 0.01).collect();
    let vs: Vec<f64> = (0..m).map(|i| i as f64 * 0.1 - 3.0).collect();
    let us: Vec<f64> = (0..k).map(|i| (i as f64 * 0.37).sin()).collect();
    let outputs = [
        tl::dot(&x, &w) + &b,  // gemm with a bias row
        tl::dot(&x, &w) * 2.0, // dot, alpha folded
        tl::dot(x.t(), &v),    // gemv of a transposed matrix
        tl::dot(&x, &u) + 1.0, // gemv
        tl::dot(w.t(), x.t()), // both transposed, a tall result
    ];
    both(&[&x, &w, &b, &v, &u], &outputs, &tl::args![xs, ws, bs, vs, us], 0);
}

#[test]
fn fused_full_reductions_are_blocked_accurate_and_thread_independent() {
    // float32 sum of 1e7 squares: blocked summation stays within an ulp of the exact sum,
    // on one thread or two (the same result bit for bit).
    let x = tl::fvector("x");
    let n = 10_000_000usize;
    let xs: Vec<f32> = (0..n).map(|i| ((i % 1000) as f32) * 1e-3).collect();
    let exact: f64 = xs.iter().map(|&v| (v as f64) * (v as f64)).sum();
    let f = compile(&[&x], &[x.sqr().sum()], Mode::Jit);
    assert_eq!(f.native_kernel_count(), 1, "{}", f.debugprint());
    let before = tl::num_threads();
    tl::set_num_threads(1);
    let one = f.call1(xs.clone()).unwrap().scalar::<f32>().unwrap();
    tl::set_num_threads(2);
    let two = f.call1(xs).unwrap().scalar::<f32>().unwrap();
    tl::set_num_threads(before);
    assert_eq!(one.to_bits(), two.to_bits());
    let err = (one as f64 - exact).abs() / exact;
    assert!(err <= f32::EPSILON as f64, "relative error {err:e}: {one} vs {exact}");

    // mean, max, min (NaN-propagating), keepdims, and -0.0 sums, against the interpreter.
    let m = tl::dmatrix("m");
    let outputs = [
        (&m * 2.0).exp().mean(),
        (&m + 1.0).max(),
        (&m - 1.0).min(),
        (&m * 3.0).sum_opts(tl::Axes::All, true),
    ];
    let big: Vec<Vec<f64>> =
        (0..300).map(|i| (0..70).map(|j| ((i * 70 + j) as f64 * 0.001).sin()).collect()).collect();
    both(&[&m], &outputs, &tl::args![big.clone()], 1);
    let mut with_nan = big;
    with_nan[123][45] = f64::NAN;
    both(&[&m], &outputs, &tl::args![with_nan], 1);
    let zeros = vec![vec![-0.0f64; 5000]; 2];
    let neg_zero = compile(&[&m], &[(&m * 1.0 + -0.0).sum()], Mode::Jit).call1(zeros).unwrap();
    assert!(neg_zero.scalar::<f64>().unwrap().is_sign_negative());
}

#[test]
fn fused_row_reductions_match_the_interpreter() {
    let m = tl::dmatrix("m");
    let b = tl::dvector("b");
    let c = tl::dcol("c");
    let t = tl::dtensor3("t");
    let outputs = [
        (&m * 2.0 + &b).exp().sum_axis(-1),
        ((&m - &c).sqr() * 0.5).mean_opts(1, true),
        (&m + 1.0).max_axis(1),
        (&m * &c).min_axis(-1),
    ];
    let rows: Vec<Vec<f64>> =
        (0..150).map(|i| (0..200).map(|j| ((i * 200 + j) as f64 * 0.003).cos()).collect()).collect();
    let bs: Vec<f64> = (0..200).map(|j| j as f64 * -0.001).collect();
    let cs: Vec<Vec<f64>> = (0..150).map(|i| vec![i as f64 * 0.01 - 0.5]).collect();
    let out = both(&[&m, &b, &c], &outputs, &tl::args![rows.clone(), bs.clone(), cs.clone()], 4);
    assert_eq!(out[1].shape(), &[150, 1]);
    let mut with_nan = rows;
    with_nan[7][9] = f64::NAN;
    both(&[&m, &b, &c], &outputs, &tl::args![with_nan, bs, cs], 4);
    let cube: Vec<Vec<Vec<f64>>> = (0..6)
        .map(|i| (0..30).map(|j| (0..40).map(|k| ((i + j * k) as f64 * 0.01).sin()).collect()).collect())
        .collect();
    both(&[&t], &[(&t * 3.0).tanh().sum_axis([1, 2]), (&t + 0.5).sqr().sum_axis(2)], &tl::args![cube], 2);
}
