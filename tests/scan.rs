//! `scan`: every form of Theano's scan against an explicit Rust loop — sequences with taps,
//! fed-back outputs with taps, mapped outputs, non-sequences and free variables,
//! `n_steps`, `go_backwards`, `until`, shared-variable updates, random streams, nesting —
//! their gradients by finite differences (`verify_grad`), `truncate_gradient`, second
//! derivatives, what the plan stores, the text form, and the errors.

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use tensorlift as tl;
use tl::{Arg, OutputInfo, Scan, Sequence, Step, Tensor, Var};

/// A tensor of `shape` whose flat element `i` is `s * sin(a * i + b)`.
fn v(shape: &[usize], a: f64, b: f64, s: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let data: Vec<f64> = (0..n).map(|i| s * (a * i as f64 + b).sin()).collect();
    Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), data).unwrap())
}

fn arr(t: &Tensor) -> ArrayD<f64> {
    t.to_f64_array()
}

fn close(got: &Tensor, want: &ArrayD<f64>, tol: f64) {
    let got = arr(got);
    assert_eq!(got.shape(), want.shape(), "shapes");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{g} vs {w}\n{got}\n{want}");
    }
}

fn call(f: &tl::Function, args: &[Tensor]) -> Vec<Tensor> {
    let args: Vec<Arg> = args.iter().cloned().map(Arg::from).collect();
    f.call(&args).expect("call")
}

fn verify(f: impl Fn(&[Var]) -> Var, points: &[Tensor]) {
    tl::verify_grad(f, points, tl::VerifyGradOptions::default())
        .expect("gradient agrees with finite differences");
}

/// `acc_t = 0.9 acc_{t-1} + x_t²`: a fed-back output over a sequence.
fn accumulate(x: &Var, a0: &Var) -> Var {
    Scan::new()
        .sequences([x])
        .outputs_info([a0])
        .build(|a| (&a[1] * 0.9 + &a[0] * &a[0]).into())
        .unwrap()
        .outputs[0]
        .clone()
}

#[test]
fn a_fed_back_output_over_a_sequence_matches_the_loop() {
    let (x, a0) = (tl::dmatrix("x"), tl::dvector("a0"));
    let f = tl::function(&[&x, &a0], &[accumulate(&x, &a0)]).unwrap();
    let (xv, av) = (v(&[7, 3], 0.37, 0.1, 1.0), v(&[3], 0.5, 0.2, 0.5));
    let (xa, mut acc) = (arr(&xv), arr(&av));
    let mut want = ArrayD::zeros(IxDyn(&[7, 3]));
    for t in 0..7 {
        acc = &acc * 0.9 + xa.index_axis(ndarray::Axis(0), t).mapv(|e| e * e);
        want.index_axis_mut(ndarray::Axis(0), t).assign(&acc);
    }
    close(&call(&f, &[xv.clone(), av.clone()])[0], &want, 1e-14);
    verify(|p| tl::sum(accumulate(&p[0], &p[1]) * 1.5), &[xv, av]);
}

#[test]
fn the_tutorial_power_and_polynomial() {
    // A**k by repeated multiplication, n_steps symbolic; only the last value read.
    let (a, k) = (tl::dvector("A"), tl::iscalar("k"));
    let r = Scan::new()
        .outputs_info([tl::ones_like(&a)])
        .non_sequences([&a])
        .n_steps(&k)
        .build(|p| (&p[0] * &p[1]).into())
        .unwrap();
    let last = r.outputs[0].get(&[tl::Index::At(-1)]);
    let f = tl::function(&[&a, &k], &[&last]).unwrap();
    let got = call(&f, &[Tensor::from(vec![0.0, 1.0, 2.0, 3.0]), Tensor::from(3i32)]);
    assert_eq!(got[0].to_f64_vec(), vec![0.0, 1.0, 8.0, 27.0]);
    // The trace's last row is read (with no step, `[-1]` must fail, so it is not the carry's
    // last value): the plan stores the trace.
    let schedule = f.dump(tl::Stage::Schedule).unwrap();
    assert!(schedule.contains("stores trace 0"), "{schedule}");
    // The step's own plan follows, indented.
    let step = &schedule[schedule.find("= loop scan, each step:").expect("the step's plan")..];
    assert!(step.contains("\n  %") && step.contains("  return %"), "{schedule}");
    // The polynomial: a mapped output over two sequences, x read as a free variable.
    let (coef, x) = (tl::dvector("coef"), tl::dscalar("x"));
    let comps = Scan::new()
        .sequences([coef.clone(), tl::arange(10000)])
        .build(|p| (&p[0] * x.pow(&p[1])).into())
        .unwrap();
    let poly = tl::sum(&comps.outputs[0]);
    let f = tl::function(&[&coef, &x], &[&poly]).unwrap();
    assert_eq!(call(&f, &[Tensor::from(vec![1.0, 0.0, 2.0]), Tensor::from(3.0)])[0].to_f64().unwrap(), 19.0);
    verify(
        |p| {
            let c = Scan::new()
                .sequences([p[0].clone(), tl::arange(6)])
                .build(|q| (&q[0] * p[1].pow(&q[1])).into())
                .unwrap();
            tl::sum(&c.outputs[0])
        },
        &[v(&[6], 0.5, 0.2, 1.0), Tensor::from(0.7)],
    );
}

/// The Elman network: `h_t = tanh(x_t W + h_{t-1} U + b)`, `y_t = h_t V` mapped.
fn elman(x: &Var, h0: &Var, w: &Var, u: &Var, b: &Var, vv: &Var) -> (Var, Var) {
    let r = Scan::new()
        .sequences([x])
        .outputs_info([OutputInfo::from(h0), OutputInfo::Mapped])
        .build(|p| {
            let h = tl::tanh(tl::dot(&p[0], w) + tl::dot(&p[1], u) + b);
            let y = tl::dot(&h, vv);
            Step::new(&[h, y])
        })
        .unwrap();
    (r.outputs[0].clone(), r.outputs[1].clone())
}

#[test]
fn an_elman_network_matches_the_loop_and_its_gradients_finite_differences() {
    let vars = [
        tl::dtensor3("x"),
        tl::dmatrix("h0"),
        tl::dmatrix("W"),
        tl::dmatrix("U"),
        tl::dvector("b"),
        tl::dmatrix("V"),
    ];
    let points = [
        v(&[6, 3, 4], 0.21, 0.3, 1.0),
        v(&[3, 5], 0.13, 0.7, 0.5),
        v(&[4, 5], 0.17, 0.2, 0.5),
        v(&[5, 5], 0.19, 0.5, 0.5),
        v(&[5], 0.23, 0.9, 0.1),
        v(&[5, 2], 0.29, 0.1, 1.0),
    ];
    let (h, y) = elman(&vars[0], &vars[1], &vars[2], &vars[3], &vars[4], &vars[5]);
    let f = tl::function(&vars, &[&h, &y]).unwrap();
    let got = call(&f, &points);
    let m2 = |t: &Tensor| arr(t).into_dimensionality::<ndarray::Ix2>().unwrap();
    let (xa, w, u, vv) = (arr(&points[0]), m2(&points[2]), m2(&points[3]), m2(&points[5]));
    let b: Array1<f64> = arr(&points[4]).into_dimensionality().unwrap();
    let mut hp: Array2<f64> = m2(&points[1]);
    let (mut hs, mut ys) = (ArrayD::zeros(IxDyn(&[6, 3, 5])), ArrayD::zeros(IxDyn(&[6, 3, 2])));
    for t in 0..6 {
        let xt = xa.index_axis(ndarray::Axis(0), t).into_dimensionality::<ndarray::Ix2>().unwrap();
        hp = (xt.dot(&w) + hp.dot(&u) + &b).mapv(f64::tanh);
        hs.index_axis_mut(ndarray::Axis(0), t).assign(&hp);
        ys.index_axis_mut(ndarray::Axis(0), t).assign(&hp.dot(&vv));
    }
    close(&got[0], &hs, 1e-13);
    close(&got[1], &ys, 1e-13);
    verify(
        |p| {
            let (h, y) = elman(&p[0], &p[1], &p[2], &p[3], &p[4], &p[5]);
            tl::sum(h.pow(2)) * 0.5 + tl::sum(tl::sin(y))
        },
        &points,
    );
}

#[test]
fn taps_of_outputs_and_of_sequences() {
    // h_t = 0.6 h_{t-2} + 0.5 tanh(h_{t-1} w), from two initial rows.
    let (init, w) = (tl::dmatrix("init"), tl::dvector("w"));
    let fib = |init: &Var, w: &Var| {
        Scan::new()
            .outputs_info([OutputInfo::taps(init, &[-2, -1])])
            .n_steps(8)
            .build(|p| (&p[0] * 0.6 + tl::tanh(&p[1] * w) * 0.5).into())
            .unwrap()
            .outputs[0]
            .clone()
    };
    let f = tl::function(&[&init, &w], &[fib(&init, &w)]).unwrap();
    let (iv, wv) = (v(&[2, 3], 0.31, 0.5, 1.0), v(&[3], 0.4, 0.2, 1.0));
    let (ia, wa) = (arr(&iv), arr(&wv));
    let mut prev: Vec<ArrayD<f64>> =
        vec![ia.index_axis(ndarray::Axis(0), 0).to_owned(), ia.index_axis(ndarray::Axis(0), 1).to_owned()];
    let mut want = ArrayD::zeros(IxDyn(&[8, 3]));
    for t in 0..8 {
        let next = &prev[0] * 0.6 + (&prev[1] * &wa).mapv(f64::tanh) * 0.5;
        want.index_axis_mut(ndarray::Axis(0), t).assign(&next);
        prev = vec![prev[1].clone(), next];
    }
    close(&call(&f, &[iv.clone(), wv.clone()])[0], &want, 1e-14);
    verify(|p| tl::sum(fib(&p[0], &p[1]) * tl::constant(v(&[8, 3], 0.07, 0.0, 1.0))), &[iv, wv]);

    // out_t = tanh(x[t] w - x[t-2]): seven steps over nine rows.
    let x = tl::dmatrix("x");
    let taps = |x: &Var, w: &Var| {
        Scan::new()
            .sequences([Sequence::taps(x, &[-2, 0])])
            .build(|p| tl::tanh(&p[1] * w - &p[0]).into())
            .unwrap()
            .outputs[0]
            .clone()
    };
    let f = tl::function(&[&x, &w], &[taps(&x, &w)]).unwrap();
    let xv = v(&[9, 2], 0.27, 0.8, 1.0);
    let wv2 = v(&[2], 0.3, 1.0, 1.0);
    let (xa, wa) = (arr(&xv), arr(&wv2));
    let mut want = ArrayD::zeros(IxDyn(&[7, 2]));
    for t in 0..7 {
        let row = (&xa.index_axis(ndarray::Axis(0), t + 2) * &wa - xa.index_axis(ndarray::Axis(0), t))
            .mapv(f64::tanh);
        want.index_axis_mut(ndarray::Axis(0), t).assign(&row);
    }
    close(&call(&f, &[xv.clone(), wv2.clone()])[0], &want, 1e-14);
    verify(|p| tl::sum(taps(&p[0], &p[1]).pow(2)), &[xv, wv2]);
}

#[test]
fn go_backwards_and_n_steps_shorter_than_the_sequence() {
    let (x, a0) = (tl::dmatrix("x"), tl::dvector("a0"));
    let back = |x: &Var, a0: &Var, n: Option<i64>| {
        let mut s = Scan::new().sequences([x]).outputs_info([a0]).go_backwards(true);
        if let Some(n) = n {
            s = s.n_steps(n);
        }
        s.build(|p| (&p[1] * &p[0] + 1.0).into()).unwrap().outputs[0].clone()
    };
    let (xv, av) = (v(&[5, 3], 0.45, 0.3, 1.0), Tensor::from(vec![1.0, 1.0, 1.0]));
    let xa = arr(&xv);
    for n in [None, Some(3)] {
        let f = tl::function(&[&x, &a0], &[back(&x, &a0, n)]).unwrap();
        let steps = n.unwrap_or(5) as usize;
        // Theano cuts the sequence to the first `n` rows, then walks them from the last.
        let mut acc = arr(&av);
        let mut want = ArrayD::zeros(IxDyn(&[steps, 3]));
        for (k, t) in (0..steps).rev().enumerate() {
            acc = &acc * &xa.index_axis(ndarray::Axis(0), t) + 1.0;
            want.index_axis_mut(ndarray::Axis(0), k).assign(&acc);
        }
        close(&call(&f, &[xv.clone(), av.clone()])[0], &want, 1e-14);
        verify(|p| tl::sum(back(&p[0], &p[1], n) * 0.7), &[xv.clone(), av.clone()]);
    }
}

#[test]
fn truncated_gradients_cover_the_last_steps_only() {
    let (x, a0) = (tl::dmatrix("x"), tl::dvector("a0"));
    let out = |k: usize| {
        Scan::new()
            .sequences([&x])
            .outputs_info([&a0])
            .truncate_gradient(k)
            .build(|p| (&p[1] * 0.5 + &p[0] * &p[0]).into())
            .unwrap()
            .outputs[0]
            .clone()
    };
    let (xv, av) = (v(&[6, 2], 0.3, 0.1, 1.0), v(&[2], 0.4, 0.3, 1.0));
    let xa = arr(&xv);
    for k in [2, 6, 10] {
        let cost = tl::sum(out(k).get(&[tl::Index::At(-1)]));
        let g = tl::grad(&cost, &[&x, &a0]).unwrap();
        let f = tl::function(&[&x, &a0], &g).unwrap();
        let got = call(&f, &[xv.clone(), av.clone()]);
        // d acc_5 / d x_t = 2 x_t 0.5^(5-t), for the last k steps only.
        let mut want = ArrayD::zeros(IxDyn(&[6, 2]));
        for t in 6usize.saturating_sub(k)..6 {
            let row = xa.index_axis(ndarray::Axis(0), t).mapv(|e| 2.0 * e * 0.5f64.powi(5 - t as i32));
            want.index_axis_mut(ndarray::Axis(0), t).assign(&row);
        }
        close(&got[0], &want, 1e-14);
        let g0 = if k >= 6 { 0.5f64.powi(6) } else { 0.0 };
        close(&got[1], &ArrayD::from_elem(IxDyn(&[2]), g0), 1e-14);
    }
}

#[test]
fn until_ends_the_loop_after_the_step_where_it_holds() {
    let max = tl::dscalar("max");
    let r = Scan::new()
        .outputs_info([tl::constant(1.0)])
        .n_steps(1024)
        .build(|p| {
            let next = &p[0] * 2.0;
            Step::new(std::slice::from_ref(&next)).until(tl::gt(&next, &max))
        })
        .unwrap();
    let f = tl::function(&[&max], &[&r.outputs[0]]).unwrap();
    assert_eq!(call(&f, &[Tensor::from(45.0)])[0].to_f64_vec(), vec![2.0, 4.0, 8.0, 16.0, 32.0, 64.0]);
    assert_eq!(call(&f, &[Tensor::from(0.5)])[0].to_f64_vec(), vec![2.0]);
    // A while loop has no gradient.
    let e = tl::grad(&tl::sum(&r.outputs[0]), &max).unwrap_err();
    assert!(e.to_string().contains("while loop"), "{e}");
}

#[test]
fn shared_updates_and_random_streams_in_the_step() {
    // A counter updated every step: its last value is the returned update.
    let count = tl::shared(Tensor::from(0.0), "count");
    let x = tl::dvector("x");
    let r = Scan::new()
        .sequences([&x])
        .build(|p| Step::new(&[&p[0] * &count]).update(&count, &count + 1.0))
        .unwrap();
    assert_eq!(r.updates.len(), 1);
    let f = tl::Function::builder(&[&x], &[&r.outputs[0]]).updates(&r.updates).build().unwrap();
    let got = call(&f, &[Tensor::from(vec![1.0, 1.0, 1.0])]);
    assert_eq!(got[0].to_f64_vec(), vec![0.0, 1.0, 2.0]);
    assert_eq!(count.get_value().unwrap().to_f64().unwrap(), 3.0);
    call(&f, &[Tensor::from(vec![1.0])]);
    assert_eq!(count.get_value().unwrap().to_f64().unwrap(), 4.0);

    // A draw per step: the stream's state is carried, each step draws anew, and the call's
    // update advances the stream past every step's draw.
    let rng = tl::RandomStreams::new(7);
    let r = Scan::new().n_steps(4).build(|_| rng.uniform(&[3usize][..], 0.0, 1.0).into()).unwrap();
    assert_eq!(r.updates.len(), 1, "the stream's default update is the scan's");
    let f = tl::Function::builder(&[] as &[Var], &[&r.outputs[0]]).updates(&r.updates).build().unwrap();
    let a = arr(&call(&f, &[])[0]);
    let b = arr(&call(&f, &[])[0]);
    assert_ne!(a.index_axis(ndarray::Axis(0), 0), a.index_axis(ndarray::Axis(0), 1), "steps draw anew");
    assert_ne!(a, b, "calls draw anew");
    assert!(a.iter().all(|&u| (0.0..1.0).contains(&u)));
}

#[test]
fn nested_scans_and_second_derivatives() {
    // The outer loop's step is itself a loop: sum_t sum_j (x_t * w)^j for j < 3.
    let (x, w) = (tl::dvector("x"), tl::dscalar("w"));
    let nested = |x: &Var, w: &Var| {
        let r = Scan::new()
            .sequences([x])
            .build(|p| {
                let xt = p[0].clone();
                let inner =
                    Scan::new().sequences([tl::arange(3)]).build(|q| (&xt * w).pow(&q[0]).into()).unwrap();
                tl::sum(&inner.outputs[0]).into()
            })
            .unwrap();
        tl::sum(&r.outputs[0])
    };
    let f = tl::function(&[&x, &w], &[nested(&x, &w)]).unwrap();
    let got = call(&f, &[Tensor::from(vec![0.5, -1.0, 2.0]), Tensor::from(1.5)])[0].to_f64().unwrap();
    let want: f64 = [0.5f64, -1.0, 2.0].iter().map(|&e| (0..3).map(|j| (e * 1.5).powi(j)).sum::<f64>()).sum();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    verify(|p| nested(&p[0], &p[1]), &[Tensor::from(vec![0.5, -1.0, 2.0]), Tensor::from(1.5)]);
    // Second derivatives through a scan: the gradient's own reverse scan differentiated.
    // acc_t = acc_{t-1} w + x_t from 0: sum(acc) = x0 (1 + w + w²) + x1 (1 + w) + x2.
    let (xs, ws) = (tl::dvector("xs"), tl::dscalar("ws"));
    let acc = Scan::new()
        .sequences([&xs])
        .outputs_info([tl::constant(0.0)])
        .build(|p| (&p[1] * &ws + &p[0]).into())
        .unwrap();
    let cost = tl::sum(&acc.outputs[0]);
    let gw = tl::grad(&cost, &ws).unwrap();
    let hw = tl::grad(&gw, &ws).unwrap();
    let hx = tl::grad(&gw, &xs).unwrap();
    let f = tl::function(&[&xs, &ws], &[&gw, &hw, &hx]).unwrap();
    let got = call(&f, &[Tensor::from(vec![0.3, -0.2, 0.9]), Tensor::from(1.5)]);
    assert!((got[0].to_f64().unwrap() - (0.3 * (1.0 + 2.0 * 1.5) - 0.2)).abs() < 1e-13);
    assert!((got[1].to_f64().unwrap() - 0.6).abs() < 1e-13);
    close(&got[2], &ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0 + 2.0 * 1.5, 1.0, 0.0]).unwrap(), 1e-13);
}

#[test]
fn the_text_form_round_trips_and_debugprint_shows_the_step() {
    let (x, a0) = (tl::dmatrix("x"), tl::dvector("a0"));
    let out = accumulate(&x, &a0);
    let g = tl::FunctionGraph::from_vars(&[&x, &a0], &[&out]).unwrap();
    let text = g.to_string();
    assert!(text.contains("scan{name=\"scan\", seqs=1, carries=1, mapped=0"), "{text}");
    let back = tl::FunctionGraph::parse(&text).unwrap();
    assert_eq!(back.to_string(), text);
    let dp = tl::debugprint(&[out]);
    assert!(dp.contains("for{scan}") && dp.contains("Inner graphs") && dp.contains("a0[t-1]"), "{dp}");
}

/// The gradient's loop is a reverse scan: it runs from the last row to the first, reading the
/// stored rows where they are (the carries' values before each step are a view of their
/// full trace, stored once with the initial value): no reversed or concatenated copies.
#[test]
fn the_gradient_is_a_reverse_scan_over_the_stored_rows() {
    // a_t = w a_{t-1} + x_t from 0, cost = Σ a_t²: λ_t = 2 a_t + w λ_{t+1} (λ_n = 0),
    // ∂/∂x_t = λ_t, ∂/∂w = Σ λ_t a_{t-1}.
    let (xs, ws) = (tl::dvector("xs"), tl::dscalar("ws"));
    let acc = Scan::new()
        .sequences([&xs])
        .outputs_info([tl::constant(0.0)])
        .build(|p| (&p[1] * &ws + &p[0]).into())
        .unwrap();
    let cost = tl::sum(tl::sqr(&acc.outputs[0]));
    let g = tl::grad(&cost, &[&xs, &ws]).unwrap();
    let graph = tl::FunctionGraph::from_vars(&[&xs, &ws], &g).unwrap();
    let text = graph.to_string();
    assert!(text.contains("name=\"grad_of_scan\"") && text.contains(", reverse, step="), "{text}");
    assert_eq!(tl::FunctionGraph::parse(&text).unwrap().to_string(), text);
    let f = tl::function(&[&xs, &ws], &g).unwrap();
    let optimized = f.dump(tl::Stage::Optimized).unwrap();
    assert!(!optimized.contains("::-1") && !optimized.contains("join"), "{optimized}");
    let (x, w) = ([0.3, -0.2, 0.9, 0.5], 0.7);
    let mut a = vec![0.0; x.len()];
    let mut prev = 0.0;
    for t in 0..x.len() {
        a[t] = w * prev + x[t];
        prev = a[t];
    }
    let mut lambda = vec![0.0; x.len()];
    let (mut next, mut gw) = (0.0, 0.0);
    for t in (0..x.len()).rev() {
        lambda[t] = 2.0 * a[t] + w * next;
        next = lambda[t];
        gw += lambda[t] * if t > 0 { a[t - 1] } else { 0.0 };
    }
    let got = call(&f, &[Tensor::from(x.to_vec()), Tensor::from(w)]);
    close(&got[0], &ArrayD::from_shape_vec(IxDyn(&[4]), lambda).unwrap(), 1e-13);
    assert!((got[1].to_f64().unwrap() - gw).abs() < 1e-13);
}

#[test]
fn bad_scans_are_typed_errors() {
    let (x, h0) = (tl::dmatrix("x"), tl::fvector("h0"));
    // The step's output is float64, the initial value float32.
    let e = Scan::new().sequences([&x]).outputs_info([&h0]).build(|p| (&p[0] + 1.0).into()).unwrap_err();
    assert!(e.to_string().contains("initial value"), "{e}");
    // Nothing says how many steps.
    let e = Scan::new().outputs_info([tl::dvector("a")]).build(|p| (&p[0] + 1.0).into()).unwrap_err();
    assert!(e.to_string().contains("n_steps"), "{e}");
    // A carry whose length changes from step to step: a run-time error, shared unchanged.
    let s = tl::shared(Tensor::from(5.0), "s");
    let a = tl::dvector("a");
    let r = Scan::new()
        .outputs_info([&a])
        .n_steps(2)
        .build(|p| Step::new(&[tl::concatenate(&[p[0].clone(), p[0].clone()], 0)]).update(&s, &s + 1.0))
        .unwrap();
    let f = tl::Function::builder(&[&a], &[&r.outputs[0]]).updates(&r.updates).build().unwrap();
    let e = f.call(&[Arg::from(vec![1.0])]).unwrap_err();
    assert!(e.to_string().contains("carry 0"), "{e}");
    assert_eq!(s.get_value().unwrap().to_f64().unwrap(), 5.0);
}

#[test]
fn products_of_sequence_rows_move_out_of_the_loop() {
    // dot(x_t, W) is one product over every row, outside; the loop keeps dot(h, U).
    let (x, h0, w, u, b) =
        (tl::dtensor3("x"), tl::dmatrix("h0"), tl::dmatrix("W"), tl::dmatrix("U"), tl::dvector("b"));
    let r = Scan::new()
        .sequences([&x])
        .outputs_info([&h0])
        .build(|p| tl::tanh(tl::dot(&p[0], &w) + &b + tl::dot(&p[1], &u)).into())
        .unwrap();
    let dp = tl::debugprint(&r.outputs);
    let inner = &dp[dp.find("Inner graphs").expect("inner graphs")..];
    assert!(inner.contains("pushed0[t]") && inner.contains(" U ") && !inner.contains(" W "), "{dp}");
    // The sequence itself is no longer read in the loop.
    assert!(!inner.contains("x[t+0]"), "{dp}");
    let points = [
        v(&[4, 2, 3], 0.3, 0.1, 1.0),
        v(&[2, 5], 0.2, 0.4, 0.5),
        v(&[3, 5], 0.17, 0.2, 0.5),
        v(&[5, 5], 0.19, 0.5, 0.5),
        v(&[5], 0.23, 0.9, 0.1),
    ];
    verify(
        |p| {
            let r = Scan::new()
                .sequences([&p[0]])
                .outputs_info([&p[1]])
                .build(|q| tl::tanh(tl::dot(&q[0], &p[2]) + &p[4] + tl::dot(&q[1], &p[3])).into())
                .unwrap();
            tl::sum(tl::sqr(&r.outputs[0]))
        },
        &points,
    );
}

/// `h_t = tanh(x_t W + h_{t-1} U + b)` by an explicit loop over the rows of `x` (from the
/// last when `backwards`): every `h_t`, in step order.
fn elman_loop(points: &[Tensor], backwards: bool) -> ArrayD<f64> {
    let m2 = |t: &Tensor| arr(t).into_dimensionality::<ndarray::Ix2>().unwrap();
    let (xa, mut h, w, u) = (arr(&points[0]), m2(&points[1]), m2(&points[2]), m2(&points[3]));
    let b: Array1<f64> = arr(&points[4]).into_dimensionality().unwrap();
    let steps = xa.shape()[0];
    let mut hs = ArrayD::zeros(IxDyn(&[steps, h.nrows(), h.ncols()]));
    for k in 0..steps {
        let t = if backwards { steps - 1 - k } else { k };
        let xt = xa.index_axis(ndarray::Axis(0), t).into_dimensionality::<ndarray::Ix2>().unwrap();
        h = (xt.dot(&w) + h.dot(&u) + &b).mapv(f64::tanh);
        hs.index_axis_mut(ndarray::Axis(0), k).assign(&h);
    }
    hs
}

#[test]
fn compiled_steps_write_their_outputs_straight_into_the_stacked_traces() {
    let (x, h0, w, u, b) =
        (tl::dtensor3("x"), tl::dmatrix("h0"), tl::dmatrix("W"), tl::dmatrix("U"), tl::dvector("b"));
    let points = [
        v(&[9, 3, 4], 0.21, 0.3, 1.0),
        v(&[3, 5], 0.13, 0.7, 0.5),
        v(&[4, 5], 0.17, 0.2, 0.5),
        v(&[5, 5], 0.19, 0.5, 0.5),
        v(&[5], 0.23, 0.9, 0.1),
    ];
    let inputs = [&x, &h0, &w, &u, &b];
    let copies = |f: &tl::Function| {
        let before = tl::kernels::scan::row_copies();
        let got = call(f, &points);
        (got, tl::kernels::scan::row_copies() - before)
    };
    // The Elman cell, forwards and backwards: every row of the carry's trace written by the
    // step's native kernel in place, and read back by the next step.
    for backwards in [false, true] {
        let r = Scan::new()
            .sequences([&x])
            .outputs_info([&h0])
            .go_backwards(backwards)
            .build(|p| tl::tanh(tl::dot(&p[0], &w) + tl::dot(&p[1], &u) + &b).into())
            .unwrap();
        let f = tl::Function::builder(&inputs, &[&r.outputs[0]]).mode(tl::Mode::Jit).build().unwrap();
        let (got, copied) = copies(&f);
        assert_eq!(copied, 0, "{}", f.dump(tl::Stage::Schedule).unwrap());
        close(&got[0], &elman_loop(&points, backwards), 1e-13);
        // The interpreter's reference kernels make their own arrays: each row is copied.
        let interp = tl::Function::builder(&inputs, &[&r.outputs[0]]).mode(tl::Mode::Interp).build().unwrap();
        let (reference, copied) = copies(&interp);
        assert_eq!(copied, 9);
        close(&reference[0], &elman_loop(&points, backwards), 1e-13);
        // A second call: the same values (nothing of the first call's trace is written).
        let again = call(&f, &points);
        assert_eq!((got[0].to_f64_vec(), got[0].shape()), (again[0].to_f64_vec(), again[0].shape()));
    }
    // A mapped output whose rows' shape only the step gives: its first row is copied, the
    // others written in place (here by the matrix product); the carry's rows all in place.
    let vv = tl::dmatrix("V");
    let r = Scan::new()
        .sequences([&x])
        .outputs_info([OutputInfo::from(&h0), OutputInfo::Mapped])
        .build(|p| {
            let h = tl::tanh(tl::dot(&p[0], &w) + tl::dot(&p[1], &u) + &b);
            let y = tl::dot(&h, &vv) * 2.0;
            Step::new(&[h, y])
        })
        .unwrap();
    let with_v = [&x, &h0, &w, &u, &b, &vv];
    let f = tl::Function::builder(&with_v, &r.outputs).mode(tl::Mode::Jit).build().unwrap();
    let before = tl::kernels::scan::row_copies();
    let mut args = points.to_vec();
    args.push(v(&[5, 2], 0.29, 0.1, 1.0));
    let got = call(&f, &args);
    assert_eq!(tl::kernels::scan::row_copies() - before, 1, "{}", f.dump(tl::Stage::Schedule).unwrap());
    let hs = elman_loop(&points, false);
    close(&got[0], &hs, 1e-13);
    let vm = arr(&args[5]).into_dimensionality::<ndarray::Ix2>().unwrap();
    let ys: Vec<ArrayD<f64>> = hs
        .outer_iter()
        .map(|h| (h.into_dimensionality::<ndarray::Ix2>().unwrap().dot(&vm) * 2.0).into_dyn())
        .collect();
    let views: Vec<_> = ys.iter().map(|y| y.view()).collect();
    close(&got[1], &ndarray::stack(ndarray::Axis(0), &views).unwrap(), 1e-13);
    // A step that returns its carry unchanged writes nothing: its rows are copied.
    let r = Scan::new().sequences([&x]).outputs_info([&h0]).build(|p| p[1].clone().into()).unwrap();
    let f = tl::Function::builder(&[&x, &h0], &[&r.outputs[0]]).mode(tl::Mode::Jit).build().unwrap();
    let before = tl::kernels::scan::row_copies();
    let got = call(&f, &points[..2]);
    assert_eq!(tl::kernels::scan::row_copies() - before, 9);
    let h = arr(&points[1]);
    let views: Vec<_> = (0..9).map(|_| h.view()).collect();
    close(&got[0], &ndarray::stack(ndarray::Axis(0), &views).unwrap(), 0.0);
}
