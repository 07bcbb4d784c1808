//! Convolution and pooling (Theano's `conv2d`, `pool_2d` and their gradients): values
//! against SciPy and NumPy tables in every border mode, with strides, dilation, groups and
//! without the flip, f64 and f32, on the native path (`Mode::Jit`) and the reference
//! kernels (`Mode::Interp`); the gradient ops against the transposed products; gradients
//! by finite differences (`verify_grad`), second order included; static and symbolic
//! shapes against computed ones; typed errors at build and call time; the expression
//! language's spelling; native against reference on larger inputs and on two threads.

#[path = "conv_pool/tables.rs"]
mod tables;

use tensorlift as tl;
use tl::{BorderMode, ConvParams, DType, Mode, PoolMode, PoolParams, Tensor, Var};

/// The test inputs: multiples of 1/8 in [-1.75, 1.75] (every product and sum below exact).
fn val(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| ((i * 37 + seed * 11) % 29) as f64 / 8.0 - 1.75).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
}

/// Smooth values without ties (for finite differences through max pooling).
fn smooth(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> =
        (0..n).map(|i| ((i as f64 + 0.5) * 0.731 + seed as f64).sin() * 1.3 + i as f64 * 1e-3).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
}

fn run(inputs: &[&Var], outputs: &[Var], args: &[Tensor], mode: Mode) -> Vec<Tensor> {
    let f = tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles");
    let args: Vec<tl::Arg> = args.iter().map(tl::Arg::from).collect();
    f.call(&args).expect("runs")
}

fn assert_close(got: &Tensor, want: &[f64], shape: &[usize], tol: f64, what: &str) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    for (i, (g, w)) in got.to_f64_vec().into_iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}: element {i}: got {g}, want {w}");
    }
}

fn conv(
    border: BorderMode,
    stride: [usize; 2],
    dilation: [usize; 2],
    flip: bool,
    groups: usize,
) -> ConvParams {
    ConvParams { border, subsample: stride, dilation, filter_flip: flip, groups }
}

fn pad(a: (usize, usize), b: (usize, usize)) -> BorderMode {
    BorderMode::Pad([a, b])
}

/// A SciPy case: name, x shape, w shape, parameters, output shape, values.
type ConvCase = (&'static str, [usize; 4], [usize; 4], ConvParams, [usize; 4], &'static [f64]);

/// A NumPy pooling case: name, parameters, output shape, values, max pooling's gradient.
type PoolCase = (&'static str, PoolParams, [usize; 3], &'static [f64], Option<&'static [f64]>);

/// The SciPy cases.
fn conv_cases() -> Vec<ConvCase> {
    use tables::*;
    use BorderMode::{Full, Half, Valid};
    vec![
        ("valid", [1, 2, 4, 5], [2, 2, 3, 2], conv(Valid, [1, 1], [1, 1], true, 1), [1, 2, 2, 4], &VALID),
        ("full", [1, 2, 4, 5], [2, 2, 3, 2], conv(Full, [1, 1], [1, 1], true, 1), [1, 2, 6, 6], &FULL),
        ("half", [1, 2, 4, 5], [2, 2, 3, 2], conv(Half, [1, 1], [1, 1], true, 1), [1, 2, 4, 6], &HALF),
        (
            "pad",
            [1, 2, 4, 5],
            [2, 2, 3, 2],
            conv(pad((1, 1), (2, 2)), [1, 1], [1, 1], true, 1),
            [1, 2, 4, 8],
            &PAD,
        ),
        (
            "asym",
            [1, 2, 4, 5],
            [2, 2, 3, 2],
            conv(pad((1, 0), (0, 2)), [1, 1], [1, 1], true, 1),
            [1, 2, 3, 6],
            &ASYM,
        ),
        ("stride", [2, 1, 5, 6], [2, 1, 3, 3], conv(Half, [2, 3], [1, 1], true, 1), [2, 2, 3, 2], &STRIDE),
        (
            "dilation",
            [1, 2, 6, 5],
            [2, 2, 3, 2],
            conv(Valid, [1, 1], [2, 1], true, 1),
            [1, 2, 2, 4],
            &DILATION,
        ),
        (
            "dilation_full",
            [1, 1, 4, 4],
            [1, 1, 2, 3],
            conv(Full, [1, 2], [2, 2], true, 1),
            [1, 1, 6, 4],
            &DILATION_FULL,
        ),
        ("groups", [1, 4, 4, 4], [4, 2, 2, 2], conv(Valid, [1, 1], [1, 1], true, 2), [1, 4, 3, 3], &GROUPS),
        (
            "correlate",
            [1, 2, 4, 5],
            [2, 2, 3, 2],
            conv(Valid, [1, 1], [1, 1], false, 1),
            [1, 2, 2, 4],
            &CORRELATE,
        ),
        (
            "correlate_half_stride",
            [1, 2, 5, 5],
            [3, 2, 3, 3],
            conv(Half, [2, 2], [1, 1], false, 1),
            [1, 3, 3, 3],
            &CORRELATE_HALF_STRIDE,
        ),
    ]
}

#[test]
fn conv2d_matches_scipy_in_every_border_mode_with_strides_dilation_groups_and_flip() {
    for (name, xs, ws, p, ys, want) in conv_cases() {
        for dtype in [DType::F64, DType::F32] {
            let (x, w) = (tl::tensor("x", dtype, &[None; 4]), tl::tensor("w", dtype, &[None; 4]));
            let y = tl::conv2d(&x, &w, &p);
            let args = [val(&xs, 1).cast(dtype), val(&ws, 2).cast(dtype)];
            for mode in [Mode::Jit, Mode::Interp] {
                let got = run(&[&x, &w], std::slice::from_ref(&y), &args, mode).remove(0);
                assert_eq!(got.dtype(), dtype);
                assert_close(&got, want, &ys, 0.0, &format!("{name} {dtype} {mode:?}"));
            }
            // With static shapes the type knows the output shape.
            let (xk, wk) = (known(dtype, &xs, "x"), known(dtype, &ws, "w"));
            let yk = tl::conv2d(&xk, &wk, &p);
            assert_eq!(yk.ty().shape, ys.map(Some), "{name}: static shape");
        }
    }
}

fn known(dtype: DType, shape: &[usize], name: &str) -> Var {
    tl::tensor(name, dtype, &shape.iter().map(|&n| Some(n)).collect::<Vec<_>>())
}

/// The gradient ops (`conv2d_grad_wrt_inputs`, `conv2d_grad_wrt_weights`) and `grad` of a
/// convolution, against the transposed products of SciPy's convolutions.
#[test]
fn conv2d_gradients_are_the_transposed_products() {
    let cases = [
        (
            "gi_stride",
            [2, 2, 5, 6],
            [3, 2, 3, 2],
            conv(BorderMode::Half, [2, 2], [1, 1], true, 1),
            [2, 3, 3, 4],
            &tables::GI_STRIDE_X[..],
            &tables::GI_STRIDE_W[..],
        ),
        (
            "gi_groups_dil",
            [1, 4, 6, 5],
            [4, 2, 2, 2],
            conv(pad((1, 0), (2, 1)), [1, 2], [2, 1], false, 2),
            [1, 4, 5, 4],
            &tables::GI_GROUPS_DIL_X[..],
            &tables::GI_GROUPS_DIL_W[..],
        ),
    ];
    for (name, xs, ws, p, ts, want_x, want_w) in cases {
        let (x, w, top) = (tl::dtensor4("x"), tl::dtensor4("w"), tl::dtensor4("top"));
        let gx_op = tl::conv2d_grad_wrt_inputs(&top, &w, [xs[2].into(), xs[3].into()], &p);
        let gw_op = tl::conv2d_grad_wrt_weights(&x, &top, [ws[2].into(), ws[3].into()], &p);
        // Lengths read at run time (symbolic), as `grad` builds them for unknown shapes.
        let gx_sym =
            tl::conv2d_grad_wrt_inputs(&top, &w, [tl::shape_i(&x, 2).into(), tl::shape_i(&x, 3).into()], &p);
        let cost = tl::sum(tl::conv2d(&x, &w, &p) * &top);
        let g = tl::grad(&cost, &[&x, &w]).expect("grad");
        let outputs = [gx_op, gw_op, gx_sym, g[0].clone(), g[1].clone()];
        let args = [val(&xs, 1), val(&ws, 2), val(&ts, 3)];
        for mode in [Mode::Jit, Mode::Interp] {
            let got = run(&[&x, &w, &top], &outputs, &args, mode);
            for (k, want, shape) in
                [(0, want_x, xs), (1, want_w, ws), (2, want_x, xs), (3, want_x, xs), (4, want_w, ws)]
            {
                assert_close(&got[k], want, &shape, 0.0, &format!("{name} {mode:?} output {k}"));
            }
        }
    }
}

#[test]
fn conv2d_transpose_in_the_expression_language_is_the_gradient_with_respect_to_the_input() {
    let (top, w) = (tl::dtensor4("top"), tl::dtensor4("w"));
    let built = tl::parse(
        "conv2d_transpose(top, w, (2, 2, 5, 6), border_mode='half', input_dilation=(2, 2))",
        &[&top, &w],
    )
    .expect("parses");
    let p = conv(BorderMode::Half, [2, 2], [1, 1], true, 1);
    let direct = tl::conv2d_grad_wrt_inputs(&top, &w, [5.into(), 6.into()], &p);
    assert_eq!(tl::pp(&built), tl::pp(&direct));
    let got =
        run(&[&top, &w], &[built], &[val(&[2, 3, 3, 4], 3), val(&[3, 2, 3, 2], 2)], Mode::Jit).remove(0);
    assert_close(&got, &tables::GI_STRIDE_X, &[2, 2, 5, 6], 0.0, "conv2d_transpose");
}

fn pool_cases() -> Vec<PoolCase> {
    use tables::*;
    let p = |ws: [usize; 2], stride: [usize; 2], pad: [usize; 2], ignore_border: bool, mode: PoolMode| {
        PoolParams { ws, stride, pad, ignore_border, mode }
    };
    use PoolMode::{AverageExcPad, AverageIncPad, Max, Sum};
    vec![
        ("max_2x2", p([2, 2], [2, 2], [0, 0], true, Max), [2, 2, 3], &POOL_MAX_2X2, Some(&POOL_MAX_2X2_GRAD)),
        (
            "max_2x2_border",
            p([2, 2], [2, 2], [0, 0], false, Max),
            [2, 3, 4],
            &POOL_MAX_2X2_BORDER,
            Some(&POOL_MAX_2X2_BORDER_GRAD),
        ),
        (
            "max_3x2_st12_border",
            p([3, 2], [1, 2], [0, 0], false, Max),
            [2, 3, 4],
            &POOL_MAX_3X2_ST12_BORDER,
            Some(&POOL_MAX_3X2_ST12_BORDER_GRAD),
        ),
        ("max_pad", p([3, 3], [2, 2], [1, 2], true, Max), [2, 3, 5], &POOL_MAX_PAD, Some(&POOL_MAX_PAD_GRAD)),
        ("sum_3x2_st21", p([3, 2], [2, 1], [0, 0], true, Sum), [2, 2, 6], &POOL_SUM_3X2_ST21, None),
        ("avg_inc_pad", p([3, 3], [2, 2], [1, 2], true, AverageIncPad), [2, 3, 5], &POOL_AVG_INC_PAD, None),
        ("avg_exc_pad", p([3, 3], [2, 2], [1, 2], true, AverageExcPad), [2, 3, 5], &POOL_AVG_EXC_PAD, None),
        (
            "avg_inc_border",
            p([2, 3], [2, 3], [0, 0], false, AverageIncPad),
            [2, 3, 3],
            &POOL_AVG_INC_BORDER,
            None,
        ),
        (
            "avg_exc_border",
            p([3, 4], [2, 2], [0, 0], false, AverageExcPad),
            [2, 2, 3],
            &POOL_AVG_EXC_BORDER,
            None,
        ),
    ]
}

/// Pooling against NumPy loops over Theano's windows; max pooling's gradient sends each
/// window's gradient to every element equal to its maximum (the input has ties).
#[test]
fn pool_2d_and_max_pool_grad_match_numpy_with_ties() {
    let xs = [2, 5, 7];
    for (name, p, ys, want, want_grad) in pool_cases() {
        for dtype in [DType::F64, DType::F32] {
            let x = tl::tensor("x", dtype, &[None; 3]);
            let gz = tl::tensor("gz", dtype, &[None; 3]);
            let y = tl::pool_2d(&x, &p);
            let g = tl::grad(&tl::sum(&y * &gz), &x).expect("grad");
            let args = [val(&xs, 4).cast(dtype), val(&ys, 5).cast(dtype)];
            let tol = if dtype == DType::F32 { 1e-6 } else { 1e-15 };
            for mode in [Mode::Jit, Mode::Interp] {
                let got = run(&[&x, &gz], &[y.clone(), g.clone()], &args, mode);
                assert_close(&got[0], want, &ys, tol, &format!("{name} {dtype} {mode:?}"));
                if let Some(want_grad) = want_grad {
                    assert_close(&got[1], want_grad, &xs, tol, &format!("{name} gradient {dtype} {mode:?}"));
                }
            }
            assert_eq!(
                tl::pool_2d(known(dtype, &xs, "x"), &p).ty().shape,
                ys.map(Some),
                "{name}: static shape"
            );
        }
    }
}

/// Theano's `Pool.out_shape` with `ignore_border=False`: partial windows at the edges.
#[test]
fn pool_output_lengths_are_theanos() {
    let p = |ws, st, ib| PoolParams {
        ws: [ws, ws],
        stride: [st, st],
        pad: [0, 0],
        ignore_border: ib,
        mode: PoolMode::Max,
    };
    // (n, ws, stride, ignore_border) -> length, from Theano's formulas.
    for (n, ws, st, ib, want) in [
        (5, 2, 2, true, 2),
        (5, 2, 2, false, 3),
        (6, 3, 2, false, 3),
        (6, 3, 2, true, 2),
        (7, 3, 1, false, 5),
        (1, 3, 1, false, 1),
        (2, 3, 3, true, 0),
        (2, 3, 3, false, 1),
        (0, 2, 2, false, 0),
        (9, 2, 4, false, 3),
    ] {
        assert_eq!(p(ws, st, ib).out_len(0, n), want, "n {n} ws {ws} stride {st} ignore_border {ib}");
    }
}

/// Random points for `verify_grad` of a convolution.
fn conv_points(xs: &[usize], ws: &[usize]) -> Vec<Tensor> {
    vec![smooth(xs, 1), smooth(ws, 2)]
}

#[test]
fn conv2d_gradients_pass_finite_differences() {
    use BorderMode::{Full, Half, Valid};
    let cases = [
        ([2, 3, 5, 6], [2, 3, 3, 2], conv(Valid, [1, 1], [1, 1], true, 1)),
        ([1, 2, 4, 5], [3, 2, 2, 3], conv(Full, [1, 1], [1, 1], false, 1)),
        ([2, 2, 7, 6], [2, 2, 3, 3], conv(Half, [2, 3], [1, 1], true, 1)),
        ([1, 4, 6, 7], [4, 2, 2, 2], conv(pad((2, 0), (1, 3)), [2, 1], [2, 3], true, 2)),
    ];
    for (xs, ws, p) in cases {
        let r = tl::verify_grad(
            |v| tl::conv2d(&v[0], &v[1], &p),
            &conv_points(&xs, &ws),
            tl::VerifyGradOptions::default(),
        );
        assert!(r.is_ok(), "conv2d {p:?}: {:?}", r.err());
        // Second order: the gradient ops differentiated again.
        let second = |v: &[Var]| {
            let cost = tl::sum(tl::sqr(tl::conv2d(&v[0], &v[1], &p)));
            let g = tl::grad(&cost, &[&v[0], &v[1]]).expect("grad");
            tl::sum(tl::sqr(&g[0])) + tl::sum(tl::sqr(&g[1]))
        };
        let opts = tl::VerifyGradOptions { rel_tol: 1e-4, ..Default::default() };
        let r = tl::verify_grad(second, &conv_points(&xs, &ws), opts);
        assert!(r.is_ok(), "second order {p:?}: {:?}", r.err());
    }
}

#[test]
fn pool_gradients_pass_finite_differences_in_every_mode() {
    for mode in PoolMode::ALL {
        for (ws, stride, pad, ib) in
            [([2, 2], [2, 2], [0, 0], true), ([3, 2], [1, 2], [0, 0], false), ([3, 3], [2, 1], [1, 2], true)]
        {
            let p = PoolParams { ws, stride, pad, ignore_border: ib, mode };
            let point = [smooth(&[2, 3, 6, 7], 3)];
            let r = tl::verify_grad(|v| tl::pool_2d(&v[0], &p), &point, tl::VerifyGradOptions::default());
            assert!(r.is_ok(), "pool {p:?}: {:?}", r.err());
            // Second order: the gradient of the gradient (with respect to the pooled input,
            // through the pooling's gradient op).
            let second = |v: &[Var]| {
                let g = tl::grad(&tl::sum(tl::sqr(tl::pool_2d(&v[0], &p))), &v[0]).expect("grad");
                tl::sum(tl::sqr(g))
            };
            let r = tl::verify_grad(second, &point, tl::VerifyGradOptions::default());
            assert!(r.is_ok(), "pool second order {p:?}: {:?}", r.err());
        }
    }
}

/// Static output shapes where the inputs' are known, and the run-time shapes of results
/// and gradients where they are not, as computed.
#[test]
fn shapes_are_inferred_as_computed() {
    use BorderMode::{Full, Half, Valid};
    let convs = [
        conv(Valid, [1, 1], [1, 1], true, 1),
        conv(Full, [2, 1], [1, 2], true, 1),
        conv(Half, [3, 2], [2, 1], false, 1),
        conv(pad((0, 3), (2, 1)), [1, 3], [1, 1], true, 1),
        conv(Valid, [2, 2], [1, 1], true, 2),
    ];
    let (xs, ws) = ([3, 4, 9, 8], [6, 2, 3, 2]);
    for p in convs {
        let ws = if p.groups == 2 { ws } else { [6, 4, 3, 2] };
        let (x, w) = (tl::dtensor4("x"), tl::dtensor4("w"));
        let y = tl::conv2d(&x, &w, &p);
        let g = tl::grad(&tl::sum(tl::sqr(&y)), &[&x, &w]).expect("grad");
        let outs = [y.clone(), tl::shape(&y), tl::shape(&g[0]), tl::shape(&g[1])];
        for mode in [Mode::Jit, Mode::Interp] {
            let got = run(&[&x, &w], &outs, &[smooth(&xs, 1), smooth(&ws, 2)], mode);
            let computed: Vec<i64> = got[0].shape().iter().map(|&n| n as i64).collect();
            assert_eq!(got[1].to_vec::<i64>().unwrap(), computed, "{p:?}");
            assert_eq!(got[2].to_vec::<i64>().unwrap(), xs.map(|n| n as i64), "{p:?}");
            assert_eq!(got[3].to_vec::<i64>().unwrap(), ws.map(|n| n as i64), "{p:?}");
            let yk = tl::conv2d(known(DType::F64, &xs, "x"), known(DType::F64, &ws, "w"), &p);
            assert_eq!(yk.ty().shape, got[0].shape().iter().map(|&n| Some(n)).collect::<Vec<_>>(), "{p:?}");
        }
    }
    let x = tl::dtensor3("x");
    for mode in PoolMode::ALL {
        let p = PoolParams { ws: [3, 2], stride: [2, 3], pad: [1, 1], ignore_border: true, mode };
        let y = tl::pool_2d(&x, &p);
        let got = run(&[&x], &[y.clone(), tl::shape(&y)], &[smooth(&[2, 7, 8], 1)], Mode::Jit);
        let computed: Vec<i64> = got[0].shape().iter().map(|&n| n as i64).collect();
        assert_eq!(got[1].to_vec::<i64>().unwrap(), computed);
        assert_eq!(computed, [2, 4, 3]);
    }
}

fn build_error(v: &Var) -> String {
    v.check().expect_err("a typed error").to_string()
}

#[test]
fn bad_parameters_and_shapes_are_typed_errors_when_building() {
    let (x, w) = (known(DType::F64, &[2, 3, 5, 5], "x"), known(DType::F64, &[4, 2, 3, 3], "w"));
    let e = build_error(&tl::conv2d(&x, &w, &ConvParams::default()));
    assert!(e.contains("conv2d: incompatible shapes"), "{e}");
    let w3 = known(DType::F64, &[4, 3, 7, 3], "w3");
    let e = build_error(&tl::conv2d(&x, &w3, &ConvParams::default()));
    assert!(e.contains("larger than the padded input"), "{e}");
    // Padding makes room for it.
    assert!(tl::conv2d(&x, &w3, &ConvParams { border: BorderMode::Half, ..Default::default() })
        .check()
        .is_ok());
    let e = build_error(&tl::conv2d(&x, &w3, &ConvParams { subsample: [0, 1], ..Default::default() }));
    assert!(e.contains("strides must be at least 1"), "{e}");
    let e = build_error(&tl::conv2d(&x, &w, &ConvParams { groups: 3, ..Default::default() }));
    assert!(e.contains("do not split into 3 groups"), "{e}");
    let e = build_error(&tl::conv2d(tl::dmatrix("m"), &w, &ConvParams::default()));
    assert!(e.contains("rank 2, expected 4"), "{e}");
    let e = build_error(&tl::conv2d(tl::ltensor4("i"), &w, &ConvParams::default()));
    assert!(e.contains("expected float32 or float64"), "{e}");
    let e = build_error(&tl::pool_2d(&x, &PoolParams { pad: [2, 0], ..PoolParams::new([2, 2]) }));
    assert!(e.contains("must be smaller than the window"), "{e}");
    let e = build_error(&tl::pool_2d(
        &x,
        &PoolParams { pad: [1, 0], ignore_border: false, ..PoolParams::new([2, 2]) },
    ));
    assert!(e.contains("padding works only with ignore_border=True"), "{e}");
    let e = build_error(&tl::pool_2d(tl::dvector("v"), &PoolParams::new([2, 2])));
    assert!(e.contains("expected at least 2"), "{e}");
    // The expression language names a bad border mode and a bad pooling mode.
    let (xs, ws) = (tl::dtensor4("x"), tl::dtensor4("w"));
    let e = tl::parse("conv2d(x, w, border_mode='same')", &[&xs, &ws]).expect_err("bad mode").to_string();
    assert!(e.contains("invalid border_mode 'same'"), "{e}");
    let e = tl::parse("pool_2d(x, (2, 2), mode='median')", &[&xs]).expect_err("bad mode").to_string();
    assert!(e.contains("pool mode must be"), "{e}");
}

#[test]
fn shape_mismatches_are_typed_errors_at_call_time() {
    let (x, w) = (tl::dtensor4("x"), tl::dtensor4("w"));
    let y = tl::conv2d(&x, &w, &ConvParams::default());
    for mode in [Mode::Jit, Mode::Interp] {
        let f =
            tl::Function::builder(&[&x, &w], std::slice::from_ref(&y)).mode(mode).build().expect("compiles");
        let call = |xs: &[usize], ws: &[usize]| {
            let args = [tl::Arg::from(smooth(xs, 1)), tl::Arg::from(smooth(ws, 2))];
            f.call(&args).expect_err("fails").to_string()
        };
        let e = call(&[2, 3, 5, 5], &[4, 2, 3, 3]);
        assert!(e.contains("conv2d: shape mismatch") && e.contains("[2, 3, 5, 5]"), "{mode:?}: {e}");
        let e = call(&[2, 3, 5, 5], &[4, 3, 6, 3]);
        assert!(e.contains("larger than the padded input"), "{mode:?}: {e}");
        let top = tl::dtensor4("top");
        let gx = tl::conv2d_grad_wrt_inputs(&top, &w, [5.into(), 5.into()], &ConvParams::default());
        let g = tl::Function::builder(&[&top, &w], &[gx]).mode(mode).build().expect("compiles");
        let args = [tl::Arg::from(smooth(&[2, 4, 4, 3], 1)), tl::Arg::from(smooth(&[4, 3, 3, 3], 2))];
        let e = g.call(&args).expect_err("fails").to_string();
        assert!(e.contains("is not the output of a convolution"), "{mode:?}: {e}");
    }
}

#[test]
fn the_expression_language_builds_what_the_rust_api_builds() {
    let (x, w) = (tl::dtensor4("x"), tl::dtensor4("w"));
    let cases: [(&str, Var); 4] = [
        ("conv2d(x, w)", tl::conv2d(&x, &w, &ConvParams::default())),
        (
            "T.nnet.conv2d(x, w, border_mode=(1, (0, 2)), subsample=(2, 1), filter_flip=False, filter_dilation=2, num_groups=1)",
            tl::conv2d(&x, &w, &conv(pad((1, 1), (0, 2)), [2, 1], [2, 2], false, 1)),
        ),
        (
            "pool.pool_2d(x, (2, 3), ignore_border=True, stride=(1, 2), pad=(1, 1), mode='average_exc_pad')",
            tl::pool_2d(&x, &PoolParams { ws: [2, 3], stride: [1, 2], pad: [1, 1], ignore_border: true, mode: PoolMode::AverageExcPad }),
        ),
        (
            "pool_2d(x, ds=(2, 2))",
            tl::pool_2d(&x, &PoolParams { ignore_border: false, ..PoolParams::new([2, 2]) }),
        ),
    ];
    for (src, want) in cases {
        let got = tl::parse(src, &[&x, &w]).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(tl::pp(&got), tl::pp(&want), "{src}");
    }
}

/// The native kernels against the reference kernels on LeNet-like shapes (`Mode::Debug`
/// compares every native node with its reference), f64 and f32, one and two threads.
#[test]
fn native_convolution_and_pooling_match_the_reference() {
    let before = tl::num_threads();
    for threads in [1, 2] {
        tl::set_num_threads(threads);
        for dtype in [DType::F64, DType::F32] {
            let (x, w, v) = (
                tl::tensor("x", dtype, &[None; 4]),
                tl::tensor("w", dtype, &[None; 4]),
                tl::tensor("v", dtype, &[None; 4]),
            );
            let cases = [
                conv(BorderMode::Valid, [1, 1], [1, 1], true, 1),
                conv(BorderMode::Half, [2, 1], [1, 2], false, 1),
                conv(pad((2, 1), (0, 3)), [1, 2], [2, 1], true, 2),
            ];
            for p in cases {
                let h = tl::tanh(tl::conv2d(&x, &w, &p));
                let pooled = tl::pool_2d(&h, &PoolParams { ignore_border: false, ..PoolParams::new([2, 2]) });
                let avg = tl::pool_2d(
                    &h,
                    &PoolParams { mode: PoolMode::AverageIncPad, pad: [1, 0], ..PoolParams::new([3, 2]) },
                );
                let cost = tl::sum(tl::sqr(&pooled)) + tl::sum(&avg * 0.5) + tl::sum(tl::conv2d(&v, &w, &p));
                let g = tl::grad(&cost, &[&x, &w, &v]).expect("grad");
                let outs = [pooled, avg, g[0].clone(), g[1].clone(), g[2].clone()];
                let args = [
                    smooth(&[6, 4, 13, 12], 1).cast(dtype),
                    smooth(&[6, 4 / p.groups, 3, 3], 2).cast(dtype),
                    smooth(&[6, 4, 9, 8], 3).cast(dtype),
                ];
                let debug = run(&[&x, &w, &v], &outs, &args, Mode::Debug);
                let interp = run(&[&x, &w, &v], &outs, &args, Mode::Interp);
                let tol = if dtype == DType::F32 { 1e-4 } else { 1e-11 };
                for (k, (d, r)) in debug.iter().zip(&interp).enumerate() {
                    assert_close(
                        d,
                        &r.to_f64_vec(),
                        r.shape(),
                        tol,
                        &format!("{p:?} {dtype} threads {threads} output {k}"),
                    );
                }
                // The plan runs them natively.
                let f =
                    tl::Function::builder(&[&x, &w, &v], &outs).mode(Mode::Jit).build().expect("compiles");
                let plan = f.dump(tl::Stage::Schedule).expect("dump");
                for op in [
                    "native conv2d",
                    "native conv2d_grad_inputs",
                    "native conv2d_grad_weights",
                    "native pool_2d",
                    "native max_pool_grad",
                    "native average_pool_grad",
                ] {
                    assert!(plan.contains(op), "{op} missing from the plan:\n{plan}");
                }
            }
        }
    }
    tl::set_num_threads(before);
}

/// A LeNet-like training step: convolution, pooling, tanh, a dense softmax layer; one
/// step of gradient descent lowers the cost, and the native step equals the reference.
#[test]
fn a_small_lenet_step_lowers_the_cost_natively_as_in_the_reference() {
    let x = tl::dtensor4("x");
    let y = tl::dmatrix("y");
    let w1 = tl::shared(smooth(&[4, 1, 5, 5], 1), "w1");
    let w2 = tl::shared(smooth(&[36, 3], 2), "w2");
    let h = tl::tanh(tl::pool_2d(tl::conv2d(&x, &w1, &ConvParams::default()), &PoolParams::new([2, 2])));
    let flat = h.flatten(2);
    let p = tl::softmax(tl::dot(&flat, &w2), -1);
    let cost = -tl::mean((&y * tl::log(&p)).sum_axis(1));
    let g = tl::grad(&cost, &[&w1, &w2]).expect("grad");
    let (xv, yv) = (smooth(&[8, 1, 10, 10], 4), {
        let mut t = vec![0.0; 24];
        for i in 0..8 {
            t[i * 3 + i % 3] = 1.0;
        }
        Tensor::from(ndarray::ArrayD::from_shape_vec(vec![8, 3], t).expect("shape"))
    });
    let mut costs = Vec::new();
    for mode in [Mode::Jit, Mode::Interp] {
        let (s1, s2) = (w1.get_value().expect("shared"), w2.get_value().expect("shared"));
        let f = tl::Function::builder(&[&x, &y], std::slice::from_ref(&cost))
            .updates(&[(&w1, &w1 - &g[0] * 0.1), (&w2, &w2 - &g[1] * 0.1)])
            .mode(mode)
            .build()
            .expect("compiles");
        let args = [tl::Arg::from(xv.clone()), tl::Arg::from(yv.clone())];
        let c0 = f.call(&args).expect("runs")[0].to_f64().unwrap();
        let c1 = f.call(&args).expect("runs")[0].to_f64().unwrap();
        assert!(c1 < c0, "{mode:?}: the step does not lower the cost ({c0} → {c1})");
        costs.push((c0, c1));
        w1.set_value(s1).expect("shared");
        w2.set_value(s2).expect("shared");
    }
    assert!((costs[0].0 - costs[1].0).abs() < 1e-12 && (costs[0].1 - costs[1].1).abs() < 1e-12, "{costs:?}");
}
