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
