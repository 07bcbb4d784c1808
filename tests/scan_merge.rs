//! `scan_merge`: loops over the same rows run as one loop. Two loops reading one sequence,
//! and the reverse loops of their gradients, are merged in the optimized graph; the values
//! and gradients are those of the same function with the rewrite excluded and of an
//! explicit Rust loop. Also two gradients of one loop (two reverse loops holding the same
//! forward step's placeholders), a loop and its clone, and the checked public constructor of a
//! loop's description.

use ndarray::Array2;
use tensorlift as tl;
use tl::{Arg, OptConfig, Scan, Tensor, Var};

/// Rows, columns of the sequence.
const T: usize = 6;
const N: usize = 3;

/// A tensor of `shape` whose flat element `i` is `s * sin(a * i + b)`.
fn v(shape: &[usize], a: f64, b: f64, s: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let data: Vec<f64> = (0..n).map(|i| s * (a * i as f64 + b).sin()).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), data).unwrap())
}

/// The optimizer's options with `scan_merge` on (`merge`) or excluded.
fn config(merge: bool) -> OptConfig {
    let config = OptConfig { excluded: Vec::new(), ..OptConfig::default() };
    if merge {
        config
    } else {
        config.excluding("scan_merge")
    }
}

/// The function of `outs`, compiled with or without `scan_merge`.
fn compile(inputs: &[&Var], outs: &[Var], merge: bool) -> tl::Function {
    tl::Function::builder(inputs, outs).optimizer(config(merge)).build().expect("compiles")
}

/// The number of loops in the optimized graph.
fn loops(f: &tl::Function) -> usize {
    let g = f.optimized_graph();
    g.ids().filter(|&id| !g.is_dead(id) && matches!(g.node(id).op, tl::Op::Scan(_))).count()
}

fn call(f: &tl::Function, args: &[Tensor]) -> Vec<Tensor> {
    let args: Vec<Arg> = args.iter().cloned().map(Arg::from).collect();
    f.call(&args).expect("call")
}

fn close(got: &Tensor, want: &[f64], tol: f64, what: &str) {
    let got = got.to_f64_vec();
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{k}]: {g} vs {w}\n{got:?}\n{want:?}");
    }
}

/// The same values, to rounding (the merged step may be fused otherwise).
fn same(a: &[Tensor], b: &[Tensor]) {
    assert_eq!(a.len(), b.len());
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.shape(), y.shape(), "output {k}");
        close(x, &y.to_f64_vec(), 1e-13, &format!("output {k}"));
    }
}

/// Two loops over the rows of `x`: `a_t = w a_{t-1} + x_t²` from `a0`, and
/// `c_t = u c_{t-1} + x_t` from `c0` with the mapped `b_t = tanh(v x_t)`. Returns the
/// traces `a`, `c`, `b`.
fn two_loops(x: &Var, a0: &Var, c0: &Var, w: &Var, u: &Var, v: &Var) -> [Var; 3] {
    let a = Scan::new().sequences([x]).outputs_info([a0]).build(|p| (&p[1] * w + &p[0] * &p[0]).into());
    let cb = Scan::new()
        .sequences([x])
        .outputs_info([tl::OutputInfo::from(c0), tl::OutputInfo::Mapped])
        .build(|p| vec![&p[1] * u + &p[0], tl::tanh(&p[0] * v)].into());
    let (a, cb) = (a.unwrap(), cb.unwrap());
    [a.outputs[0].clone(), cb.outputs[0].clone(), cb.outputs[1].clone()]
}

/// The values of `two_loops` and the gradients of `Σa² + ½Σc² + Σb²` with respect to `x`,
/// `a0`, `c0`, `w`, `u`, `v`, by an explicit loop (each column on its own).
fn reference(x: &Array2<f64>, a0: &[f64], c0: &[f64], w: f64, u: f64, v: f64) -> Vec<Vec<f64>> {
    let (mut a, mut c, mut b) = (Array2::zeros((T, N)), Array2::zeros((T, N)), Array2::zeros((T, N)));
    let (mut gx, mut ga0, mut gc0) = (Array2::<f64>::zeros((T, N)), vec![0.0; N], vec![0.0; N]);
    let (mut gw, mut gu, mut gv) = (0.0, 0.0, 0.0);
    for j in 0..N {
        let (mut pa, mut pc) = (a0[j], c0[j]);
        for t in 0..T {
            a[[t, j]] = w * pa + x[[t, j]] * x[[t, j]];
            c[[t, j]] = u * pc + x[[t, j]];
            b[[t, j]] = (v * x[[t, j]]).tanh();
            (pa, pc) = (a[[t, j]], c[[t, j]]);
        }
        // λ_t = ∂/∂a_t through later steps and the cost; μ_t likewise for c.
        let (mut lam, mut mu) = (0.0, 0.0);
        for t in (0..T).rev() {
            lam = 2.0 * a[[t, j]] + w * lam;
            mu = c[[t, j]] + u * mu;
            let (before_a, before_c) = if t > 0 { (a[[t - 1, j]], c[[t - 1, j]]) } else { (a0[j], c0[j]) };
            gw += lam * before_a;
            gu += mu * before_c;
            let db = 2.0 * b[[t, j]] * (1.0 - b[[t, j]] * b[[t, j]]);
            gv += db * x[[t, j]];
            gx[[t, j]] = lam * 2.0 * x[[t, j]] + mu + db * v;
        }
        ga0[j] = w * lam;
        gc0[j] = u * mu;
    }
    let flat = |m: Array2<f64>| m.iter().copied().collect::<Vec<f64>>();
    vec![flat(a), flat(c), flat(b), flat(gx), ga0, gc0, vec![gw], vec![gu], vec![gv]]
}

#[test]
fn two_loops_over_one_sequence_and_their_gradients_run_as_one_loop_each() {
    let (x, a0, c0) = (tl::dmatrix("x"), tl::dvector("a0"), tl::dvector("c0"));
    let (w, u, vv) = (tl::dscalar("w"), tl::dscalar("u"), tl::dscalar("v"));
    let [a, c, b] = two_loops(&x, &a0, &c0, &w, &u, &vv);
    let cost = tl::sum(tl::sqr(&a)) + tl::sum(tl::sqr(&c)) * 0.5 + tl::sum(tl::sqr(&b));
    let grads = tl::grad(&cost, &[&x, &a0, &c0, &w, &u, &vv]).unwrap();
    let inputs = [&x, &a0, &c0, &w, &u, &vv];
    let mut outs = vec![a, c, b];
    outs.extend(grads);

    let args = [
        v(&[T, N], 0.37, 0.1, 0.8),
        v(&[N], 0.5, 0.2, 0.5),
        v(&[N], 0.9, 0.4, 0.3),
        0.7.into(),
        (-0.6).into(),
        1.3.into(),
    ];
    let xa: Array2<f64> = args[0].to_f64_array().into_dimensionality().unwrap();
    let want = reference(&xa, &args[1].to_f64_vec(), &args[2].to_f64_vec(), 0.7, -0.6, 1.3);

    let merged = compile(&inputs, &outs, true);
    let apart = compile(&inputs, &outs, false);
    // Two forward loops and their two reverse loops, merged in pairs.
    assert_eq!(loops(&apart), 4, "{}", apart.dump(tl::Stage::Optimized).unwrap());
    assert_eq!(loops(&merged), 2, "{}", merged.dump(tl::Stage::Optimized).unwrap());
    assert!(merged.rewrite_trace().fired("scan_merge"));
    let optimized = merged.dump(tl::Stage::Optimized).unwrap();
    assert!(
        optimized.contains("scan&scan") && optimized.contains("grad_of_scan&grad_of_scan"),
        "{optimized}"
    );

    let (got, base) = (call(&merged, &args), call(&apart, &args));
    same(&got, &base);
    let names = ["a", "c", "b", "∂x", "∂a0", "∂c0", "∂w", "∂u", "∂v"];
    for ((g, w), name) in got.iter().zip(&want).zip(names) {
        close(g, w, 1e-12, name);
    }
}

#[test]
fn the_forward_loops_alone_merge_and_read_the_sequence_once() {
    let (x, a0, c0) = (tl::dmatrix("x"), tl::dvector("a0"), tl::dvector("c0"));
    let (w, u, vv) = (tl::dscalar("w"), tl::dscalar("u"), tl::dscalar("v"));
    let outs = two_loops(&x, &a0, &c0, &w, &u, &vv);
    let f = compile(&[&x, &a0, &c0, &w, &u, &vv], &outs, true);
    assert_eq!(loops(&f), 1);
    let g = f.optimized_graph();
    let scan = g
        .ids()
        .find_map(|id| match &g.node(id).op {
            tl::Op::Scan(s) if !g.is_dead(id) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!((scan.n_seqs, scan.n_carries, scan.n_mapped), (1, 2, 1));
    let args = [
        v(&[T, N], 0.21, 0.3, 1.1),
        v(&[N], 0.5, 0.2, 0.5),
        v(&[N], 0.9, 0.4, 0.3),
        0.4.into(),
        0.9.into(),
        (-0.8).into(),
    ];
    let xa: Array2<f64> = args[0].to_f64_array().into_dimensionality().unwrap();
    let want = reference(&xa, &args[1].to_f64_vec(), &args[2].to_f64_vec(), 0.4, 0.9, -0.8);
    let got = call(&f, &args);
    for (k, name) in ["a", "c", "b"].into_iter().enumerate() {
        close(&got[k], &want[k], 1e-13, name);
    }
    // No step runs: the traces are empty, as apart.
    let empty = [
        Tensor::from(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[0, N]))),
        args[1].clone(),
        args[2].clone(),
        0.4.into(),
        0.9.into(),
        (-0.8).into(),
    ];
    let apart = compile(&[&x, &a0, &c0, &w, &u, &vv], &outs, false);
    same(&call(&f, &empty), &call(&apart, &empty));
    assert_eq!(call(&f, &empty)[0].shape(), &[0, N]);
}

/// Two gradients of one loop: two reverse loops built from the same forward step (they hold
/// its placeholders), merged with placeholders of their own.
#[test]
fn two_gradients_of_one_loop_merge() {
    let (x, a0, w) = (tl::dmatrix("x"), tl::dvector("a0"), tl::dscalar("w"));
    let r = Scan::new().sequences([&x]).outputs_info([&a0]).build(|p| (&p[1] * &w + &p[0] * &p[0]).into());
    let a = r.unwrap().outputs[0].clone();
    let g1 = tl::grad(&tl::sum(tl::sqr(&a)), &[&x]).unwrap().remove(0);
    let g2 = tl::grad(&tl::sum(&a), &[&x, &w]).unwrap();
    let outs = [g1, g2[0].clone(), g2[1].clone()];
    let merged = compile(&[&x, &a0, &w], &outs, true);
    let apart = compile(&[&x, &a0, &w], &outs, false);
    assert_eq!(loops(&apart), 3);
    assert_eq!(loops(&merged), 2, "{}", merged.dump(tl::Stage::Optimized).unwrap());

    let (xv, av, wv) = (v(&[T, N], 0.37, 0.1, 0.8), v(&[N], 0.5, 0.2, 0.5), 0.7);
    let args = [xv.clone(), av.clone(), wv.into()];
    let got = call(&merged, &args);
    same(&got, &call(&apart, &args));
    // ∂Σa²/∂x_t = λ_t 2x_t with λ_t = 2a_t + w λ_{t+1}; ∂Σa/∂x_t = κ_t 2x_t with
    // κ_t = 1 + w κ_{t+1}; ∂Σa/∂w = Σ κ_t a_{t-1}.
    let (x, a0) = (xv.to_f64_vec(), av.to_f64_vec());
    let (mut want1, mut want2, mut want_w) = (vec![0.0; T * N], vec![0.0; T * N], 0.0);
    for j in 0..N {
        let mut a = [0.0; T];
        let mut prev = a0[j];
        for t in 0..T {
            a[t] = wv * prev + x[t * N + j] * x[t * N + j];
            prev = a[t];
        }
        let (mut lam, mut kappa) = (0.0, 0.0);
        for t in (0..T).rev() {
            lam = 2.0 * a[t] + wv * lam;
            kappa = 1.0 + wv * kappa;
            want1[t * N + j] = lam * 2.0 * x[t * N + j];
            want2[t * N + j] = kappa * 2.0 * x[t * N + j];
            want_w += kappa * if t > 0 { a[t - 1] } else { a0[j] };
        }
    }
    close(&got[0], &want1, 1e-12, "∂Σa²/∂x");
    close(&got[1], &want2, 1e-12, "∂Σa/∂x");
    close(&got[2], &[want_w], 1e-12, "∂Σa/∂w");
}

/// One loop cloned with another non-sequence (`clone_replace`): two scan nodes of one step,
/// over one sequence. The merged step gives the second copy placeholders of its own.
#[test]
fn a_loop_and_its_clone_with_another_non_sequence_merge() {
    let (x, a0, w, w2) = (tl::dmatrix("x"), tl::dvector("a0"), tl::dscalar("w"), tl::dscalar("w2"));
    let r = Scan::new().sequences([&x]).outputs_info([&a0]).build(|p| (&p[1] * &w + &p[0] * &p[0]).into());
    let a = r.unwrap().outputs[0].clone();
    let a2 = tl::clone_replace(std::slice::from_ref(&a), &[(w.clone(), w2.clone())]).unwrap().remove(0);
    let outs = [a, a2];
    let merged = compile(&[&x, &a0, &w, &w2], &outs, true);
    let apart = compile(&[&x, &a0, &w, &w2], &outs, false);
    assert_eq!((loops(&apart), loops(&merged)), (2, 1));
    let (xv, av) = (v(&[T, N], 0.37, 0.1, 0.8), v(&[N], 0.5, 0.2, 0.5));
    let args = [xv.clone(), av.clone(), 0.7.into(), (-0.4).into()];
    let got = call(&merged, &args);
    same(&got, &call(&apart, &args));
    let (x, a0) = (xv.to_f64_vec(), av.to_f64_vec());
    for (k, wv) in [0.7, -0.4].into_iter().enumerate() {
        let mut want = vec![0.0; T * N];
        for j in 0..N {
            let mut prev = a0[j];
            for t in 0..T {
                prev = wv * prev + x[t * N + j] * x[t * N + j];
                want[t * N + j] = prev;
            }
        }
        close(&got[k], &want, 1e-13, &format!("a with w = {wv}"));
    }
}

/// The public constructor of a loop's description checks the counts against the step.
#[test]
fn a_step_description_with_counts_that_do_not_fit_is_a_typed_error() {
    let (h, x) = (tl::dvector("h"), tl::dvector("x"));
    let step = || tl::ScanStep { inputs: vec![x.clone(), h.clone()], outputs: vec![&h + &x] };
    let info = step().try_into_info(1, 1, false, None, false, "ok".into()).unwrap();
    assert_eq!((info.n_seqs, info.n_carries, info.n_mapped), (1, 1, 0));
    let e = step().try_into_info(1, 2, false, None, false, "bad".into()).unwrap_err();
    assert!(e.to_string().contains("carries"), "{e}");
    let e = step().try_into_info(0, 1, true, None, false, "bad".into()).unwrap_err();
    assert!(e.to_string().contains("carries"), "{e}");
    let wrong = tl::ScanStep { inputs: vec![x.clone(), h.clone()], outputs: vec![tl::sum(&h)] };
    let e = wrong.try_into_info(1, 1, false, None, false, "bad".into()).unwrap_err();
    assert!(e.to_string().contains("carry 0"), "{e}");
}
