//! Every stabilization rewrite, shown doing its job.
//!
//! Each test writes an unstable formula through the public API and compiles it twice: with
//! the optimizer disabled, the formula is evaluated as written and, at a chosen input, gives
//! the wrong answer IEEE arithmetic makes of it (inf, NaN, `-inf`, or 0 where the true value
//! is tiny but nonzero); with the default pipeline the same graph gives the right finite
//! value, compared with a value computed independently in f64 (`ln_1p`/`exp_m1` from std,
//! `-800` for `log(sigmoid(-800))`, `1000 + ln 2` for `log(exp(1000) + exp(1000))`, …), and
//! the rewrite's name appears in the function's `rewrite_trace()`.
//!
//! Expected values are compared within 1e-14 relative (they are mostly exact); the pipeline
//! runs with no rule excluded, whatever `TENSORLIFT_OPT_EXCLUDE` says.

use tensorlift as tl;
use tl::{OptConfig, Var};

/// A compiled function and what it returned.
struct Run {
    values: Vec<f64>,
    f: tl::Function,
}

fn run(inputs: &[&Var], out: &Var, args: &[tl::Arg], config: OptConfig) -> Run {
    let f = tl::Function::builder(inputs, &[out]).optimizer(config).build().expect("compiles");
    let values = f.call(args).expect("runs").remove(0).to_f64_vec();
    Run { values, f }
}

/// The unoptimized and the optimized run of `out` at `args`.
fn both(inputs: &[&Var], out: &Var, args: &[tl::Arg]) -> (Run, Run) {
    let plain = run(inputs, out, args, OptConfig { disabled: true, ..OptConfig::default() });
    let opt =
        run(inputs, out, args, OptConfig { excluded: Vec::new(), verify: true, ..OptConfig::default() });
    (plain, opt)
}

/// The optimized graph and its trace, for messages.
fn explain(r: &Run) -> String {
    format!("optimized graph:\n{}trace:\n{}", r.f.optimized_graph(), r.f.rewrite_trace())
}

/// Every value equal to the expected one within 1e-14 relative (NaN never matches).
#[track_caller]
fn assert_right(r: &Run, expected: &[f64]) {
    let ok = r.values.len() == expected.len()
        && r.values.iter().zip(expected).all(|(&v, &e)| v == e || (v - e).abs() <= 1e-14 * e.abs());
    assert!(ok, "optimized: got {:?}, expected {expected:?}\n{}", r.values, explain(r));
}

#[track_caller]
fn assert_fired(r: &Run, rule: &str) {
    assert!(r.f.rewrite_trace().fired(rule), "{rule} did not fire\n{}", explain(r));
}

/// The unoptimized values, checked with `bad` (the unstable formula's failure).
#[track_caller]
fn assert_unstable(r: &Run, what: &str, bad: impl Fn(&[f64]) -> bool) {
    assert!(bad(&r.values), "unoptimized: expected {what}, got {:?}", r.values);
}

/// `softplus(x) = log(1 + e^x)`, computed stably.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[test]
fn log_of_one_plus_x_is_log1p() {
    let x = tl::dscalar("x");
    let y = tl::log(1.0 + &x);
    let (plain, opt) = both(&[&x], &y, &[1e-20.into()]);
    assert_unstable(&plain, "0 (1 + 1e-20 rounds to 1)", |v| v == [0.0]);
    assert_right(&opt, &[1e-20f64.ln_1p()]);
    assert_eq!(opt.values, [1e-20], "log1p(1e-20) is 1e-20");
    assert_fired(&opt, "local_log1p");
}

#[test]
fn exp_minus_one_is_expm1() {
    let x = tl::dscalar("x");
    let y = tl::exp(&x) - 1.0;
    let (plain, opt) = both(&[&x], &y, &[1e-20.into()]);
    assert_unstable(&plain, "0 (exp(1e-20) rounds to 1)", |v| v == [0.0]);
    assert_right(&opt, &[1e-20f64.exp_m1()]);
    assert_fired(&opt, "local_expm1");
}

#[test]
fn reciprocal_of_one_plus_exp_of_minus_x_is_sigmoid() {
    // e^-710 ≈ 4.5e-309 is a (subnormal) double, but e^710 overflows: 1/(1 + inf) = 0.
    let x = tl::dscalar("x");
    let y = 1.0 / (1.0 + tl::exp(-&x));
    let (plain, opt) = both(&[&x], &y, &[(-710.0).into()]);
    assert_unstable(&plain, "0", |v| v == [0.0]);
    let e = (-710f64).exp();
    assert!(e > 0.0);
    assert_right(&opt, &[e / (1.0 + e)]);
    assert_fired(&opt, "local_reciprocal_1_plus_exp");
}

#[test]
fn exp_over_one_plus_exp_is_sigmoid() {
    let x = tl::dscalar("x");
    let e = tl::exp(&x);
    let y = &e / (1.0 + &e);
    let (plain, opt) = both(&[&x], &y, &[800.0.into()]);
    assert_unstable(&plain, "NaN (inf / inf)", |v| v[0].is_nan());
    assert_right(&opt, &[1.0 / (1.0 + (-800f64).exp())]);
    assert_fired(&opt, "local_exp_over_1_plus_exp");
}

#[test]
fn log_of_sigmoid_is_minus_softplus_of_minus_x() {
    let x = tl::dscalar("x");
    let y = tl::log(x.sigmoid());
    let (plain, opt) = both(&[&x], &y, &[(-800.0).into()]);
    assert_unstable(&plain, "-inf (sigmoid(-800) underflows to 0)", |v| v == [f64::NEG_INFINITY]);
    assert_right(&opt, &[-800.0]);
    assert_fired(&opt, "logsigm_to_softplus");
}

#[test]
fn log1p_of_minus_sigmoid_is_minus_softplus() {
    let x = tl::dscalar("x");
    let y = tl::log1p(-x.sigmoid());
    let (plain, opt) = both(&[&x], &y, &[800.0.into()]);
    assert_unstable(&plain, "-inf (1 - sigmoid(800) is 0)", |v| v == [f64::NEG_INFINITY]);
    assert_right(&opt, &[-800.0]);
    assert_fired(&opt, "log1msigm_to_softplus");
}

#[test]
fn log_of_one_minus_sigmoid_is_minus_softplus() {
    let x = tl::dscalar("x");
    let y = tl::log(1.0 - x.sigmoid());
    let (plain, opt) = both(&[&x], &y, &[800.0.into()]);
    assert_unstable(&plain, "-inf (1 - sigmoid(800) is 0)", |v| v == [f64::NEG_INFINITY]);
    assert_right(&opt, &[-800.0]);
    // `1 - sigmoid(x)` becomes `sigmoid(-x)` first, whose log is `-softplus(x)`.
    assert_fired(&opt, "local_1msigmoid");
    assert_fired(&opt, "logsigm_to_softplus");
}

#[test]
fn one_minus_sigmoid_is_sigmoid_of_minus_x() {
    // 1 - sigmoid(40) = 1 - (1 - 4.2e-18) rounds to 0; sigmoid(-40) is 4.2e-18.
    let x = tl::dscalar("x");
    let y = 1.0 - x.sigmoid();
    let (plain, opt) = both(&[&x], &y, &[40.0.into()]);
    assert_unstable(&plain, "0", |v| v == [0.0]);
    let e = (-40f64).exp();
    assert_right(&opt, &[e / (1.0 + e)]);
    assert_fired(&opt, "local_1msigmoid");
}

#[test]
fn log_of_one_plus_exp_is_softplus() {
    let x = tl::dscalar("x");
    let y = tl::log(1.0 + tl::exp(&x));
    let (plain, opt) = both(&[&x], &y, &[800.0.into()]);
    assert_unstable(&plain, "inf (exp(800) overflows)", |v| v == [f64::INFINITY]);
    assert_right(&opt, &[800.0]);
    assert_fired(&opt, "local_log1p");
    assert_fired(&opt, "local_log1p_exp_to_softplus");
}

#[test]
fn log_of_softmax_is_log_softmax() {
    let x = tl::dvector("x");
    let y = tl::log(tl::softmax(&x, -1));
    let (plain, opt) = both(&[&x], &y, &[vec![1000.0, 0.0].into()]);
    assert_unstable(&plain, "[0, -inf] (softmax(x)[1] underflows to 0)", |v| v == [0.0, f64::NEG_INFINITY]);
    // log_softmax(x) = x - max - log(sum(exp(x - max))).
    let lse = (1.0 + (-1000f64).exp()).ln();
    assert_right(&opt, &[0.0 - lse, -1000.0 - lse]);
    assert_fired(&opt, "local_logsoftmax");
}

#[test]
fn log_of_sum_of_exp_is_logsumexp() {
    let x = tl::dvector("x");
    let y = tl::log(x.exp().sum());
    let (plain, opt) = both(&[&x], &y, &[vec![1000.0, 1000.0].into()]);
    assert_unstable(&plain, "inf (exp(1000) overflows)", |v| v == [f64::INFINITY]);
    assert_right(&opt, &[1000.0 + 2f64.ln()]);
    assert_fired(&opt, "local_log_sum_exp");
}

#[test]
fn log_of_sum_of_exp_over_an_axis_is_logsumexp() {
    let x = tl::dmatrix("x");
    let y = tl::log(x.exp().sum_opts(1, true));
    let args = [vec![vec![1000.0, 1000.0], vec![-1000.0, -1000.0]].into()];
    let (plain, opt) = both(&[&x], &y, &args);
    assert_unstable(&plain, "[inf, -inf]", |v| v == [f64::INFINITY, f64::NEG_INFINITY]);
    assert_right(&opt, &[1000.0 + 2f64.ln(), -1000.0 + 2f64.ln()]);
    assert_eq!(opt.f.optimized_graph().ty(opt.f.outputs()[0]).shape, [None, Some(1)], "keepdims kept");
    assert_fired(&opt, "local_log_sum_exp");
}

/// Binary cross-entropy of the logits `z` against targets `y`, computed stably:
/// `softplus(z) - y*z`.
fn bce(z: &[f64], y: &[f64]) -> Vec<f64> {
    z.iter().zip(y).map(|(&z, &y)| softplus(z) - y * z).collect()
}

/// Logits where the plain formula fails (±800) and ordinary ones.
const Z: [f64; 4] = [800.0, -800.0, 0.5, -1.5];
const Y: [f64; 4] = [0.0, 1.0, 0.25, 1.0];

#[test]
fn cross_entropy_of_sigmoid_is_stable() {
    let (z, y) = (tl::dvector("z"), tl::dvector("y"));
    let p = z.sigmoid();
    let loss = -(&y * tl::log(&p)) - (1.0 - &y) * tl::log(1.0 - &p);
    let (plain, opt) = both(&[&z, &y], &loss, &[Z.to_vec().into(), Y.to_vec().into()]);
    assert_unstable(&plain, "inf at z = ±800", |v| v[0] == f64::INFINITY && v[1] == f64::INFINITY);
    assert!(opt.values.iter().all(|v| v.is_finite()), "optimized: {:?}\n{}", opt.values, explain(&opt));
    let expected = bce(&Z, &Y);
    assert_eq!(expected[..2], [800.0, 800.0]);
    let close = opt.values.iter().zip(&expected).all(|(v, e)| (v - e).abs() <= 1e-12 * e.abs().max(1.0));
    assert!(close, "optimized: got {:?}, expected {expected:?}\n{}", opt.values, explain(&opt));
    assert_fired(&opt, "logsigm_to_softplus");
    let tr = opt.f.rewrite_trace();
    assert!(
        tr.fired("local_1msigmoid") || tr.fired("log1msigm_to_softplus"),
        "log(1 - sigmoid(z)) was not stabilized\n{}",
        explain(&opt)
    );
}

#[test]
fn cross_entropy_of_spelled_out_sigmoid_is_stable() {
    let (z, y) = (tl::dvector("z"), tl::dvector("y"));
    let p = 1.0 / (1.0 + tl::exp(-&z));
    let loss = -(&y * tl::log(&p)) - (1.0 - &y) * tl::log(1.0 - &p);
    let (plain, opt) = both(&[&z, &y], &loss, &[Z.to_vec().into(), Y.to_vec().into()]);
    // z = 800: p = 1, log(1 - p) = -inf; z = -800: exp(800) = inf, p = 0, log(p) = -inf.
    assert_unstable(&plain, "inf at z = ±800", |v| v[0] == f64::INFINITY && v[1] == f64::INFINITY);
    let expected = bce(&Z, &Y);
    let close = opt.values.iter().zip(&expected).all(|(v, e)| (v - e).abs() <= 1e-12 * e.abs().max(1.0));
    assert!(close, "optimized: got {:?}, expected {expected:?}\n{}", opt.values, explain(&opt));
    assert_fired(&opt, "local_reciprocal_1_plus_exp");
    assert_fired(&opt, "logsigm_to_softplus");
    let tr = opt.f.rewrite_trace();
    assert!(
        tr.fired("local_1msigmoid") || tr.fired("log1msigm_to_softplus"),
        "log(1 - p) was not stabilized\n{}",
        explain(&opt)
    );
}

/// The logistic function, computed stably in f64.
fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

/// Logits across [-1e4, 1e4]: where `exp(-x)` overflows, where the sigmoid underflows
/// (f64 and f32), where it rounds to 1, and ordinary ones.
const LOGITS: [f64; 24] = [
    -1e4, -1000.0, -745.5, -700.0, -104.0, -88.5, -40.0, -30.0, -17.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0,
    17.0, 30.0, 37.0, 88.5, 104.0, 700.0, 745.5, 1000.0, 1e4,
];

/// Targets 1 and 0 in turn, so that every logit is seen with both far from its target.
fn targets(n: usize, flip: bool) -> Vec<f64> {
    (0..n).map(|k| f64::from(u8::from((k % 2 == 0) != flip))).collect()
}

/// `grad(sum(xent), z)` of the binary cross-entropy of `p = 1 / (1 + exp(-z))` (or
/// `sigmoid(z)`), written as Theano's logistic-regression tutorial does, compiled in `mode`
/// with the default pipeline (`disabled`: with none); its value at `z`, `y` as f64.
fn xent_grad(
    dtype: tl::DType,
    mode: tl::Mode,
    spelled_out: bool,
    disabled: bool,
    z: &[f64],
    y: &[f64],
) -> Run {
    let (x, t) = match dtype {
        tl::DType::F32 => (tl::fvector("z"), tl::fvector("y")),
        _ => (tl::dvector("z"), tl::dvector("y")),
    };
    let p = if spelled_out { 1.0 / (1.0 + tl::exp(-&x)) } else { x.sigmoid() };
    let xent = -&t * tl::log(&p) - (1.0 - &t) * tl::log(1.0 - &p);
    let g = tl::grad(&xent.sum(), &[&x]).expect("differentiates").remove(0);
    let config = OptConfig { disabled, excluded: Vec::new(), verify: true, ..OptConfig::default() };
    let f = tl::Function::builder(&[&x, &t], &[g]).mode(mode).optimizer(config).build().expect("compiles");
    let args: Vec<tl::Arg> = match dtype {
        tl::DType::F32 => vec![
            z.iter().map(|&v| v as f32).collect::<Vec<f32>>().into(),
            y.iter().map(|&v| v as f32).collect::<Vec<f32>>().into(),
        ],
        _ => vec![z.to_vec().into(), y.to_vec().into()],
    };
    let values = f.call(&args).expect("runs").remove(0).to_f64_vec();
    Run { values, f }
}

/// `p - y` for targets 0 and 1, exactly: `sigmoid(z)` or `-sigmoid(-z)`, rounded to `dtype`.
fn p_minus_y(dtype: tl::DType, z: &[f64], y: &[f64]) -> Vec<f64> {
    let round = |v: f64| if dtype == tl::DType::F32 { f64::from(v as f32) } else { v };
    z.iter()
        .zip(y)
        .map(|(&z, &y)| round(if y == 1.0 { -logistic(-round(z)) } else { logistic(round(z)) }))
        .collect()
}

/// Every value within `ulps` units in the last place of `dtype` of the expected one (zero
/// only for zero, NaN never).
#[track_caller]
fn assert_ulps(r: &Run, expected: &[f64], dtype: tl::DType, ulps: f64) {
    let eps = if dtype == tl::DType::F32 { f64::from(f32::EPSILON) } else { f64::EPSILON };
    assert_eq!(r.values.len(), expected.len());
    for (k, (&v, &e)) in r.values.iter().zip(expected).enumerate() {
        let ok = v == e || (v - e).abs() <= ulps * eps * e.abs();
        assert!(ok, "element {k} (z = {}): got {v:e}, expected {e:e}\n{}", LOGITS[k], explain(r));
    }
}

/// #13: the gradient of Theano's logistic-regression cross-entropy of
/// `p = 1 / (1 + exp(-z))` is `p - y`, exactly finite across [-1e4, 1e4] in f64 and f32, in
/// both modes: the quotient `c / (1 + exp(-z))` becomes `c * sigmoid(z)`, `exp(-z) *
/// sigmoid(z)` becomes `sigmoid(-z)`, and the divisions by `p` and `1 - p` cancel against
/// them. Unoptimized, it is NaN where a sigmoid underflows or `exp(-z)` overflows.
#[test]
fn gradient_of_cross_entropy_of_spelled_out_sigmoid_is_p_minus_y() {
    for dtype in [tl::DType::F64, tl::DType::F32] {
        for mode in [tl::Mode::Jit, tl::Mode::Interp] {
            for flip in [false, true] {
                let y = targets(LOGITS.len(), flip);
                let plain = xent_grad(dtype, mode, true, true, &LOGITS, &y);
                assert_unstable(&plain, "NaN at z = ±1e4", |v| {
                    v[0].is_nan() && v[LOGITS.len() - 1].is_nan()
                });
                let opt = xent_grad(dtype, mode, true, false, &LOGITS, &y);
                assert_ulps(&opt, &p_minus_y(dtype, &LOGITS, &y), dtype, 4.0);
                for rule in ["local_div_1_plus_exp", "local_sigm_times_exp", "local_sigm_div_cancel"] {
                    assert_fired(&opt, rule);
                }
            }
        }
    }
}

/// #13: the same with the `sigmoid` op, whose gradient `sigmoid(z) * (1 - sigmoid(z))` the
/// divisions cancel against.
#[test]
fn gradient_of_cross_entropy_of_sigmoid_is_p_minus_y() {
    for dtype in [tl::DType::F64, tl::DType::F32] {
        for mode in [tl::Mode::Jit, tl::Mode::Interp] {
            let y = targets(LOGITS.len(), false);
            let plain = xent_grad(dtype, mode, false, true, &LOGITS, &y);
            assert_unstable(&plain, "NaN at z = ±1e4", |v| v[0].is_nan() && v[LOGITS.len() - 1].is_nan());
            let opt = xent_grad(dtype, mode, false, false, &LOGITS, &y);
            assert_ulps(&opt, &p_minus_y(dtype, &LOGITS, &y), dtype, 4.0);
            assert_fired(&opt, "local_sigm_div_cancel");
        }
    }
}

/// #13: with targets strictly between 0 and 1 the stabilized gradient is
/// `(1 - y) * p - y * (1 - p)`; it agrees with central finite differences of the (stable)
/// cost at ordinary logits.
#[test]
fn gradient_of_cross_entropy_with_soft_targets_matches_finite_differences() {
    let z = [-3.0, -0.5, 0.0, 0.75, 2.5];
    let y = [0.25, 0.9, 0.5, 0.1, 0.6];
    let cost = |z: f64, y: f64| softplus(z) - y * z;
    for mode in [tl::Mode::Jit, tl::Mode::Interp] {
        let opt = xent_grad(tl::DType::F64, mode, true, false, &z, &y);
        for (k, (&zk, &yk)) in z.iter().zip(&y).enumerate() {
            let h = 1e-6;
            let fd = (cost(zk + h, yk) - cost(zk - h, yk)) / (2.0 * h);
            assert!(
                (opt.values[k] - fd).abs() <= 1e-8,
                "z = {zk}: {} vs {fd}\n{}",
                opt.values[k],
                explain(&opt)
            );
            assert!((opt.values[k] - (logistic(zk) - yk)).abs() <= 4.0 * f64::EPSILON);
        }
    }
}

/// #13: the full logistic regression of Theano's tutorial (`dot(x, w) + b`, the mean
/// cross-entropy plus an L2 penalty) has finite gradients equal to the hand-derived ones
/// when the logits reach ±2000 (the unoptimized gradient is NaN): `gw = x^T (p - y) / n + 0.02 w`, `gb = mean(p - y)`.
#[test]
fn logistic_regression_gradient_is_finite_at_huge_logits() {
    let (x, y) = (tl::dmatrix("x"), tl::dvector("y"));
    let (w, b) = (tl::dvector("w"), tl::dscalar("b"));
    let p = 1.0 / (1.0 + tl::exp(-tl::dot(&x, &w) - &b));
    let xent = -&y * tl::log(&p) - (1.0 - &y) * tl::log(1.0 - &p);
    let cost = xent.mean() + 0.01 * (&w * &w).sum();
    let g = tl::grad(&cost, &[&w, &b]).expect("differentiates");
    let xs = vec![vec![1.0, 2.0], vec![-3.0, 1.0], vec![2.0, -1.0], vec![-1.0, -1.0]];
    let (ys, ws, bs) = (vec![1.0, 0.0, 0.0, 1.0], vec![600.0, -500.0], 10.0);
    let z: Vec<f64> = xs.iter().map(|r| r[0] * ws[0] + r[1] * ws[1] + bs).collect();
    assert_eq!(z, [-390.0, -2290.0, 1710.0, -90.0]);
    let r: Vec<f64> = z.iter().zip(&ys).map(|(&z, &y)| logistic(z) - y).collect();
    let n = ys.len() as f64;
    let gw: Vec<f64> = (0..2)
        .map(|j| xs.iter().zip(&r).map(|(row, r)| row[j] * r).sum::<f64>() / n + 0.02 * ws[j])
        .collect();
    let gb = r.iter().sum::<f64>() / n;
    let args =
        || -> Vec<tl::Arg> { vec![xs.clone().into(), ys.clone().into(), ws.clone().into(), bs.into()] };
    let plain = OptConfig { disabled: true, ..OptConfig::default() };
    let f = tl::Function::builder(&[&x, &y, &w, &b], &g).optimizer(plain).build().expect("compiles");
    assert!(f.call(&args()).expect("runs")[1].to_f64_vec()[0].is_nan(), "unoptimized: gb is NaN");
    for mode in [tl::Mode::Jit, tl::Mode::Interp] {
        let config = OptConfig { excluded: Vec::new(), verify: true, ..OptConfig::default() };
        let f = tl::Function::builder(&[&x, &y, &w, &b], &g)
            .mode(mode)
            .optimizer(config)
            .build()
            .expect("compiles");
        let out = f.call(&args()).expect("runs");
        let (got_w, got_b) = (out[0].to_f64_vec(), out[1].to_f64_vec());
        let close = |a: f64, e: f64| (a - e).abs() <= 1e-14 * e.abs().max(1.0);
        assert!(got_w.iter().zip(&gw).all(|(&a, &e)| close(a, e)), "gw {got_w:?} vs {gw:?}");
        assert!(close(got_b[0], gb), "gb {got_b:?} vs {gb}");
    }
}
