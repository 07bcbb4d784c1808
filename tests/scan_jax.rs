//! `scan` against JAX: the nine programs of `tests/common/scan_reference.rs` (values, loss
//! and every gradient computed by `jax.lax.scan` in float64, cross-checked with Theano 1.0)
//! rebuilt with `tl::Scan` and compared to 1e-10.

#[path = "common/scan_reference.rs"]
mod reference;

use reference as r;
use tensorlift as tl;
use tl::{Arg, OutputInfo, Scan, Sequence, Step, Tensor, Var};

/// An input of a case: `s * sin(a * i + b)` by flat index, as the tables' `v`.
fn input(shape: &[usize], a: f64, b: f64, s: f64) -> Tensor {
    let (shape, data) = r::v(shape, a, b, s);
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, data).expect("shape"))
}

/// `t + c` elementwise (the tables' `v(…) + 1`).
fn plus(t: Tensor, c: f64) -> Tensor {
    Tensor::from(t.to_f64_array().mapv(|e| e + c))
}

/// Compiles `loss` and `outs` and the gradients of `loss` with respect to `wrt`, calls the
/// function on `args`, and compares everything with the tables, in order.
fn check(
    inputs: &[&Var],
    args: &[Tensor],
    outs: &[Var],
    loss: &Var,
    wrt: &[&Var],
    want: &[(&[f64], &[usize])],
) {
    let grads = tl::grad(loss, wrt).expect("grad");
    let mut all: Vec<Var> = outs.to_vec();
    all.push(loss.clone());
    all.extend(grads);
    let f = tl::function(inputs, &all).expect("compiles");
    let args: Vec<Arg> = args.iter().cloned().map(Arg::from).collect();
    let got = f.call(&args).expect("runs");
    assert_eq!(got.len(), want.len());
    for (k, (g, (values, shape))) in got.iter().zip(want).enumerate() {
        assert_eq!(g.shape(), *shape, "value {k}: shape");
        for (i, (a, b)) in g.to_f64_vec().iter().zip(values.iter()).enumerate() {
            assert!((a - b).abs() <= 1e-10 * (1.0 + b.abs()), "value {k}, element {i}: {a} vs JAX {b}");
        }
    }
}

/// `acc_t = 0.9 acc_{t-1} + x_t²`, optionally for `n` steps.
fn accumulate(x: &Var, a0: &Var, n: Option<i64>) -> Var {
    let mut s = Scan::new().sequences([x]).outputs_info([a0]);
    if let Some(n) = n {
        s = s.n_steps(n);
    }
    s.build(|p| (&p[1] * 0.9 + &p[0] * &p[0]).into()).expect("scan").outputs[0].clone()
}

#[test]
fn accum() {
    let (x, a0) = (tl::dmatrix("x"), tl::dvector("a0"));
    let acc = accumulate(&x, &a0, None);
    let loss = tl::sum(&acc * tl::constant(input(&[7, 3], 0.11, 0.0, 1.0)));
    check(
        &[&x, &a0],
        &[input(&[7, 3], 0.37, 0.1, 1.0), input(&[3], 0.5, 0.2, 0.5)],
        &[acc],
        &loss,
        &[&x, &a0],
        &[
            (r::ACCUM_ACC, r::ACCUM_ACC_SHAPE),
            (r::ACCUM_LOSS, r::ACCUM_LOSS_SHAPE),
            (r::ACCUM_GRAD_X, r::ACCUM_GRAD_X_SHAPE),
            (r::ACCUM_GRAD_A0, r::ACCUM_GRAD_A0_SHAPE),
        ],
    );
}

#[test]
fn nsteps_short() {
    let (x, a0) = (tl::dmatrix("x"), tl::dvector("a0"));
    let acc = accumulate(&x, &a0, Some(4));
    let loss = tl::sum(tl::sqr(&acc));
    check(
        &[&x, &a0],
        &[input(&[7, 3], 0.37, 0.1, 1.0), input(&[3], 0.5, 0.2, 0.5)],
        &[acc],
        &loss,
        &[&x, &a0],
        &[
            (r::NSTEPS_SHORT_ACC, r::NSTEPS_SHORT_ACC_SHAPE),
            (r::NSTEPS_SHORT_LOSS, r::NSTEPS_SHORT_LOSS_SHAPE),
            (r::NSTEPS_SHORT_GRAD_X, r::NSTEPS_SHORT_GRAD_X_SHAPE),
            (r::NSTEPS_SHORT_GRAD_A0, r::NSTEPS_SHORT_GRAD_A0_SHAPE),
        ],
    );
}

#[test]
fn poly() {
    let (coef, x) = (tl::dvector("coef"), tl::dscalar("x"));
    let comp = Scan::new()
        .sequences([coef.clone(), tl::arange(6)])
        .build(|p| (&p[0] * x.pow(&p[1])).into())
        .expect("scan")
        .outputs[0]
        .clone();
    let loss = tl::sum(&comp);
    check(
        &[&coef, &x],
        &[input(&[6], 0.5, 0.2, 1.0), Tensor::from(0.7)],
        &[comp],
        &loss,
        &[&coef, &x],
        &[
            (r::POLY_COMP, r::POLY_COMP_SHAPE),
            (r::POLY_LOSS, r::POLY_LOSS_SHAPE),
            (r::POLY_GRAD_COEF, r::POLY_GRAD_COEF_SHAPE),
            (r::POLY_GRAD_X, r::POLY_GRAD_X_SHAPE),
        ],
    );
}

#[test]
fn power_and_matpow() {
    let a = tl::dvector("A");
    let rr = Scan::new()
        .outputs_info([tl::ones_like(&a)])
        .n_steps(5)
        .build(|p| (&p[0] * &a).into())
        .expect("scan")
        .outputs[0]
        .clone();
    let loss = tl::sum(rr.get(&[tl::Index::At(-1)])) + tl::sum(&rr) * 0.1;
    check(
        &[&a],
        &[input(&[4], 0.3, 0.4, 0.9)],
        &[rr],
        &loss,
        &[&a],
        &[
            (r::POWER_R, r::POWER_R_SHAPE),
            (r::POWER_LOSS, r::POWER_LOSS_SHAPE),
            (r::POWER_GRAD_A, r::POWER_GRAD_A_SHAPE),
        ],
    );
    let m = tl::dmatrix("A");
    let rr = Scan::new()
        .outputs_info([tl::identity_like(&m)])
        .n_steps(4)
        .build(|p| tl::dot(&p[0], &m).into())
        .expect("scan")
        .outputs[0]
        .clone();
    let loss = tl::sum(tl::sqr(rr.get(&[tl::Index::At(-1)])));
    check(
        &[&m],
        &[input(&[3, 3], 0.3, 0.4, 0.8)],
        &[rr],
        &loss,
        &[&m],
        &[
            (r::MATPOW_R, r::MATPOW_R_SHAPE),
            (r::MATPOW_LOSS, r::MATPOW_LOSS_SHAPE),
            (r::MATPOW_GRAD_A, r::MATPOW_GRAD_A_SHAPE),
        ],
    );
}

#[test]
fn elman() {
    let (x, h0) = (tl::dtensor3("x"), tl::dmatrix("h0"));
    let (w_in, w_h, b, w_out) =
        (tl::dmatrix("Win"), tl::dmatrix("Wh"), tl::dvector("b"), tl::dmatrix("Wout"));
    let out = Scan::new()
        .sequences([&x])
        .outputs_info([OutputInfo::from(&h0), OutputInfo::Mapped])
        .build(|p| {
            let h = tl::tanh(tl::dot(&p[0], &w_in) + tl::dot(&p[1], &w_h) + &b);
            let y = tl::dot(&h, &w_out);
            Step::new(&[h, y])
        })
        .expect("scan");
    let (h, y) = (out.outputs[0].clone(), out.outputs[1].clone());
    let loss = tl::sum(tl::sqr(&h)) * 0.5 + tl::sum(tl::sin(&y));
    let vars = [&x, &h0, &w_in, &w_h, &b, &w_out];
    check(
        &vars,
        &[
            input(&[6, 3, 4], 0.21, 0.3, 1.0),
            input(&[3, 5], 0.13, 0.7, 0.5),
            input(&[4, 5], 0.17, 0.2, 0.5),
            input(&[5, 5], 0.19, 0.5, 0.5),
            input(&[5], 0.23, 0.9, 0.1),
            input(&[5, 2], 0.29, 0.1, 1.0),
        ],
        &[h, y],
        &loss,
        &vars,
        &[
            (r::ELMAN_H, r::ELMAN_H_SHAPE),
            (r::ELMAN_Y, r::ELMAN_Y_SHAPE),
            (r::ELMAN_LOSS, r::ELMAN_LOSS_SHAPE),
            (r::ELMAN_GRAD_X, r::ELMAN_GRAD_X_SHAPE),
            (r::ELMAN_GRAD_H0, r::ELMAN_GRAD_H0_SHAPE),
            (r::ELMAN_GRAD_WIN, r::ELMAN_GRAD_WIN_SHAPE),
            (r::ELMAN_GRAD_WH, r::ELMAN_GRAD_WH_SHAPE),
            (r::ELMAN_GRAD_B, r::ELMAN_GRAD_B_SHAPE),
            (r::ELMAN_GRAD_WOUT, r::ELMAN_GRAD_WOUT_SHAPE),
        ],
    );
}

#[test]
fn mitsot() {
    let (w, init) = (tl::dvector("w"), tl::dmatrix("init"));
    let out = Scan::new()
        .outputs_info([OutputInfo::taps(&init, &[-2, -1])])
        .n_steps(8)
        .build(|p| (&p[0] * 0.6 + tl::tanh(&p[1] * &w) * 0.5).into())
        .expect("scan")
        .outputs[0]
        .clone();
    let loss = tl::sum(&out * tl::constant(input(&[8, 3], 0.07, 0.0, 1.0)));
    check(
        &[&w, &init],
        &[plus(input(&[3], 0.4, 0.2, 1.0), 1.0), input(&[2, 3], 0.31, 0.5, 1.0)],
        &[out],
        &loss,
        &[&w, &init],
        &[
            (r::MITSOT_OUT, r::MITSOT_OUT_SHAPE),
            (r::MITSOT_LOSS, r::MITSOT_LOSS_SHAPE),
            (r::MITSOT_GRAD_W, r::MITSOT_GRAD_W_SHAPE),
            (r::MITSOT_GRAD_INIT, r::MITSOT_GRAD_INIT_SHAPE),
        ],
    );
}

#[test]
fn seqtaps() {
    let (x, w) = (tl::dmatrix("x"), tl::dvector("w"));
    let out = Scan::new()
        .sequences([Sequence::taps(&x, &[-2, 0])])
        .build(|p| tl::tanh(&p[1] * &w - &p[0]).into())
        .expect("scan")
        .outputs[0]
        .clone();
    let loss = tl::sum(tl::sqr(&out));
    check(
        &[&x, &w],
        &[input(&[9, 2], 0.27, 0.8, 1.0), plus(input(&[2], 0.3, std::f64::consts::FRAC_PI_2, 1.0), 0.5)],
        &[out],
        &loss,
        &[&x, &w],
        &[
            (r::SEQTAPS_OUT, r::SEQTAPS_OUT_SHAPE),
            (r::SEQTAPS_LOSS, r::SEQTAPS_LOSS_SHAPE),
            (r::SEQTAPS_GRAD_X, r::SEQTAPS_GRAD_X_SHAPE),
            (r::SEQTAPS_GRAD_W, r::SEQTAPS_GRAD_W_SHAPE),
        ],
    );
}

#[test]
fn backwards() {
    let x = tl::dmatrix("x");
    let out = Scan::new()
        .sequences([&x])
        .outputs_info([tl::constant(Tensor::from(vec![1.0, 1.0, 1.0]))])
        .go_backwards(true)
        .build(|p| (&p[1] * &p[0] + 1.0).into())
        .expect("scan")
        .outputs[0]
        .clone();
    let loss = tl::sum(&out * tl::constant(input(&[5, 3], 0.13, 0.2, 1.0)));
    check(
        &[&x],
        &[input(&[5, 3], 0.45, 0.3, 1.0)],
        &[out],
        &loss,
        &[&x],
        &[
            (r::BACKWARDS_OUT, r::BACKWARDS_OUT_SHAPE),
            (r::BACKWARDS_LOSS, r::BACKWARDS_LOSS_SHAPE),
            (r::BACKWARDS_GRAD_X, r::BACKWARDS_GRAD_X_SHAPE),
        ],
    );
}
