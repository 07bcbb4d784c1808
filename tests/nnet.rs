//! `tl::nnet`: Theano's activations against their formulas, and the cross-entropies of a
//! sigmoid and of a softmax, whose naive forms give inf/NaN where the optimizer's stable
//! forms (and their gradients) stay finite.

use tensorlift as tl;
use tl::{nnet, OptConfig, Var};

fn run(inputs: &[&Var], outs: &[Var], args: &[tl::Arg], config: OptConfig) -> Vec<Vec<f64>> {
    let f = tl::Function::builder(inputs, outs).optimizer(config).build().expect("compiles");
    f.call(args).expect("runs").iter().map(|t| t.to_f64_vec()).collect()
}

fn plain() -> OptConfig {
    OptConfig { disabled: true, ..OptConfig::default() }
}

fn optimized() -> OptConfig {
    OptConfig { excluded: Vec::new(), ..OptConfig::default() }
}

#[track_caller]
fn close(got: &[f64], want: &[f64], what: &str) {
    let ok = got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| g == w || (g - w).abs() <= 1e-14 * w.abs().max(1.0));
    assert!(ok, "{what}: got {got:?}, want {want:?}");
}

#[test]
fn activations_follow_theano() {
    let x = tl::dvector("x");
    let xs = [-3.0, -0.5, 0.0, 0.25, 4.0];
    let outs = [
        nnet::relu(&x, 0.0),
        nnet::relu(&x, 0.1),
        nnet::elu(&x, 1.5),
        nnet::selu(&x),
        nnet::hard_sigmoid(&x),
    ];
    let got = run(&[&x], &outs, &[xs.to_vec().into()], optimized());
    let map = |f: &dyn Fn(f64) -> f64| xs.iter().map(|&v| f(v)).collect::<Vec<_>>();
    close(&got[0], &map(&|v| v.max(0.0)), "relu");
    close(&got[1], &map(&|v| if v > 0.0 { v } else { 0.1 * v }), "leaky relu");
    close(&got[2], &map(&|v| if v > 0.0 { v } else { 1.5 * v.exp_m1() }), "elu");
    let (alpha, scale) = (1.673_263_242_354_377_3, 1.050_700_987_355_480_5);
    close(&got[3], &map(&|v| scale * if v > 0.0 { v } else { alpha * v.exp_m1() }), "selu");
    close(&got[4], &map(&|v| (0.2 * v + 0.5).clamp(0.0, 1.0)), "hard_sigmoid");
}

#[test]
fn binary_crossentropy_of_a_sigmoid_and_its_gradient_stay_finite() {
    let (z, t) = (tl::dvector("z"), tl::dvector("t"));
    let cost = tl::sum(nnet::binary_crossentropy(z.sigmoid(), &t));
    let g = tl::grad(&cost, &z).expect("grad");
    let args: [tl::Arg; 2] = [vec![800.0, -800.0, 0.5].into(), vec![0.0, 1.0, 0.25].into()];
    let naive = run(&[&z, &t], &[cost.clone(), g.clone()], &args, plain());
    assert!(!naive[0][0].is_finite() && naive[1].iter().any(|v| !v.is_finite()), "naive: {naive:?}");
    let stable = run(&[&z, &t], &[cost, g], &args, optimized());
    let softplus = |v: f64| if v > 30.0 { v } else { v.exp().ln_1p() };
    let want = 800.0 + 800.0 + (softplus(0.5) - 0.25 * 0.5);
    close(&stable[0], &[want], "cost");
    // d cost / dz = sigmoid(z) - t.
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    close(&stable[1], &[1.0, -1.0, sig(0.5) - 0.25], "gradient");
    // The logits form is the same function, stable by construction.
    let direct = tl::sum(nnet::sigmoid_binary_crossentropy(&z, &t));
    close(&run(&[&z, &t], &[direct], &args, plain())[0], &[want], "sigmoid_binary_crossentropy");
}

#[test]
fn categorical_crossentropy_of_a_softmax_and_its_gradient_stay_finite() {
    let (x, y) = (tl::dmatrix("x"), tl::dmatrix("y"));
    let cost = tl::sum(nnet::categorical_crossentropy(tl::softmax(&x, -1), &y));
    let g = tl::grad(&cost, &x).expect("grad");
    let args: [tl::Arg; 2] = [
        vec![vec![1000.0, 0.0, -1000.0], vec![1.0, 2.0, 3.0]].into(),
        vec![vec![0.0, 0.0, 1.0], vec![0.0, 1.0, 0.0]].into(),
    ];
    let naive = run(&[&x, &y], &[cost.clone(), g.clone()], &args, plain());
    assert!(naive.iter().flatten().any(|v| !v.is_finite()), "naive: {naive:?}");
    let stable = run(&[&x, &y], &[cost, g], &args, optimized());
    let lse = |r: [f64; 3]| {
        let m = r.iter().cloned().fold(f64::MIN, f64::max);
        m + r.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
    };
    let (r0, r1) = ([1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]);
    close(&stable[0], &[(lse(r0) + 1000.0) + (lse(r1) - 2.0)], "cost");
    // d cost / dx = softmax(x) - y, row by row.
    let sm = |r: [f64; 3]| r.map(|v| (v - lse(r)).exp());
    let (s0, s1) = (sm(r0), sm(r1));
    let want = [s0[0], s0[1], s0[2] - 1.0, s1[0], s1[1] - 1.0, s1[2]];
    let ok = stable[1].iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-12);
    assert!(ok, "gradient: got {:?}, want {want:?}", stable[1]);
}
