//! Products beyond matrices: `tensordot`, N-d `dot` and `batched_dot` against their
//! definitions written as loops, with static shapes and without, and their gradients by
//! finite differences.

use ndarray::{ArrayD, IxDyn};
use tensorlift as tl;
use tl::{Tensor, Var};

/// Deterministic test data of `shape`.
fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let v = (0..n).map(|i| (((i as u64 + 1) * 2654435761 + seed * 97) % 1000) as f64 / 250.0 - 2.0).collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).expect("shape")
}

fn run(ins: &[&Var], out: &Var, args: Vec<ArrayD<f64>>) -> ArrayD<f64> {
    let f = tl::function(ins, &[out]).expect("compiles");
    let args: Vec<tl::Arg> = args.into_iter().map(|a| Tensor::from(a).into()).collect();
    let got = f.call(&args).expect("runs").remove(0);
    got.array::<f64>().expect("f64").to_owned()
}

#[track_caller]
fn close(got: &ArrayD<f64>, want: &ArrayD<f64>) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "got {got}\nwant {want}");
    }
}

#[test]
fn dot_of_higher_ranks_is_numpys() {
    // (2, 3, 4) · (4, 5): the last axis against the first.
    let (a, b) = (data(&[2, 3, 4], 1), data(&[4, 5], 2));
    let mut want = ArrayD::zeros(IxDyn(&[2, 3, 5]));
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..5 {
                want[[i, j, k]] = (0..4).map(|l| a[[i, j, l]] * b[[l, k]]).sum();
            }
        }
    }
    let (x, y) = (tl::dtensor3("x"), tl::dmatrix("y"));
    let out = tl::dot(&x, &y);
    assert_eq!(out.ndim(), 3);
    close(&run(&[&x, &y], &out, vec![a.clone(), b.clone()]), &want);
    // (3, 4) · (2, 4, 5): the last of `a` against the second-to-last of `b`.
    let (c, d) = (data(&[3, 4], 3), data(&[2, 4, 5], 4));
    let mut want = ArrayD::zeros(IxDyn(&[3, 2, 5]));
    for i in 0..3 {
        for j in 0..2 {
            for k in 0..5 {
                want[[i, j, k]] = (0..4).map(|l| c[[i, l]] * d[[j, l, k]]).sum();
            }
        }
    }
    let (p, q) = (tl::dmatrix("p"), tl::dtensor3("q"));
    close(&run(&[&p, &q], &tl::dot(&p, &q), vec![c, d]), &want);
    // Static shapes stay known through the reshapes.
    let s = tl::tensor("s", tl::DType::F64, &[Some(2), Some(3), Some(4)]);
    let st = tl::dot(&s, tl::tensor("t", tl::DType::F64, &[Some(4), Some(5)]));
    st.check().expect("static shapes fit");
    assert_eq!(st.ty().shape, [Some(2), Some(3), Some(5)]);
    assert!(tl::dot(&s, tl::tensor("u", tl::DType::F64, &[Some(3), Some(5)])).check().is_err());
}

#[test]
fn tensordot_sums_the_paired_axes() {
    let (a, c) = (data(&[2, 3, 4], 5), data(&[3, 4, 2], 6));
    let mut want = ArrayD::zeros(IxDyn(&[2, 2]));
    for i in 0..2 {
        for k in 0..2 {
            want[[i, k]] = (0..3)
                .flat_map(|j| (0..4).map(move |l| (j, l)))
                .map(|(j, l)| a[[i, j, l]] * c[[j, l, k]])
                .sum();
        }
    }
    let (x, z) = (tl::dtensor3("x"), tl::dtensor3("z"));
    close(&run(&[&x, &z], &tl::tensordot(&x, &z, &[1, 2], &[0, 1]), vec![a.clone(), c.clone()]), &want);
    close(&run(&[&x, &z], &tl::tensordot_n(&x, &z, 2), vec![a, c]), &want);
    // Axes out of order pair as given: a's axis 2 with z's axis 0.
    let (e, f) = (data(&[2, 3], 7), data(&[3, 2], 8));
    let (m, n) = (tl::dmatrix("m"), tl::dmatrix("n"));
    let mut want = ArrayD::zeros(IxDyn(&[]));
    want[[]] = (0..2).flat_map(|i| (0..3).map(move |j| (i, j))).map(|(i, j)| e[[i, j]] * f[[j, i]]).sum();
    close(&run(&[&m, &n], &tl::tensordot(&m, &n, &[0, 1], &[1, 0]), vec![e, f]), &want);
    assert!(tl::tensordot(&m, &n, &[0], &[0, 1]).check().is_err());
    assert!(tl::tensordot_n(&m, &n, 3).check().is_err());
}

#[test]
fn batched_dot_multiplies_each_pair() {
    let (a, b) = (data(&[3, 2, 4], 9), data(&[3, 4, 5], 10));
    let mut want = ArrayD::zeros(IxDyn(&[3, 2, 5]));
    for bi in 0..3 {
        for i in 0..2 {
            for k in 0..5 {
                want[[bi, i, k]] = (0..4).map(|l| a[[bi, i, l]] * b[[bi, l, k]]).sum();
            }
        }
    }
    let (x, y) = (tl::dtensor3("x"), tl::dtensor3("y"));
    close(&run(&[&x, &y], &tl::batched_dot(&x, &y), vec![a, b]), &want);
    let (u, v) = (data(&[3, 4], 11), data(&[3, 4], 12));
    let want = ArrayD::from_shape_fn(IxDyn(&[3]), |i| (0..4).map(|l| u[[i[0], l]] * v[[i[0], l]]).sum());
    let (p, q) = (tl::dmatrix("p"), tl::dmatrix("q"));
    close(&run(&[&p, &q], &tl::batched_dot(&p, &q), vec![u, v]), &want);
}

#[test]
fn gradients_match_finite_differences() {
    let opts = tl::VerifyGradOptions::default();
    let pts = |shapes: &[&[usize]]| -> Vec<Tensor> {
        shapes.iter().enumerate().map(|(k, s)| Tensor::from(data(s, 20 + k as u64))).collect()
    };
    tl::verify_grad(|v| tl::dot(&v[0], &v[1]), &pts(&[&[2, 3, 4], &[4, 2]]), opts).expect("dot 3-d");
    tl::verify_grad(|v| tl::tensordot(&v[0], &v[1], &[0, 2], &[1, 0]), &pts(&[&[2, 3, 4], &[4, 2, 3]]), opts)
        .expect("tensordot");
    tl::verify_grad(|v| tl::batched_dot(&v[0], &v[1]), &pts(&[&[2, 3, 4], &[2, 4, 2]]), opts)
        .expect("batched_dot");
    tl::verify_grad(|v| tl::batched_dot(&v[0], &v[1]), &pts(&[&[2, 2, 3, 4], &[2, 4, 3]]), opts)
        .expect("batched_dot 4-d by 3-d");
    tl::verify_grad(|v| tl::batched_dot(&v[0], &v[1]), &pts(&[&[3, 4], &[3, 4, 2]]), opts)
        .expect("batched_dot 2-d by 3-d");
}

/// `batched_dot` by its definition, for any ranks: `x[b, …, k] · y[b, k, …]`.
fn batched_reference(a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    let (batch, k) = (a.shape()[0], *a.shape().last().unwrap());
    let mid: Vec<usize> = a.shape()[1..a.ndim() - 1].to_vec();
    let rest: Vec<usize> = b.shape()[2..].to_vec();
    let shape: Vec<usize> = [vec![batch], mid.clone(), rest.clone()].concat();
    ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        let ix = ndarray::Dimension::slice(&ix).to_vec();
        let (i, j) = (&ix[1..1 + mid.len()], &ix[1 + mid.len()..]);
        (0..k)
            .map(|l| {
                let ai: Vec<usize> = [vec![ix[0]], i.to_vec(), vec![l]].concat();
                let bi: Vec<usize> = [vec![ix[0], l], j.to_vec()].concat();
                a[IxDyn(&ai)] * b[IxDyn(&bi)]
            })
            .sum()
    })
}

#[test]
fn batched_dot_of_any_ranks_runs_on_the_matrix_kernel() {
    // (B, M, K)·(B, K, N) with B large enough to split over threads, 4-d by 3-d, 2-d by 3-d.
    let cases: [(&[usize], &[usize]); 4] = [
        (&[64, 17, 33], &[64, 33, 9]),
        (&[2, 3, 2, 4], &[2, 4, 5]),
        (&[3, 4], &[3, 4, 2]),
        (&[3, 2, 4], &[3, 4]),
    ];
    for (sa, sb) in cases {
        let (a, b) = (data(sa, 31), data(sb, 32));
        let x = tl::tensor("x", tl::DType::F64, &vec![None; sa.len()]);
        let y = tl::tensor("y", tl::DType::F64, &vec![None; sb.len()]);
        let out = tl::batched_dot(&x, &y);
        close(&run(&[&x, &y], &out, vec![a.clone(), b.clone()]), &batched_reference(&a, &b));
        if tl::Mode::default() == tl::Mode::Jit {
            let f = tl::function(&[&x, &y], &[&out]).expect("compiles");
            let plan = f.dump(tl::Stage::Schedule).expect("plan");
            assert!(plan.contains("matmul batched_dot"), "{plan}");
        }
    }
    // Lengths that do not agree: a typed error when it runs, or when it is built if known.
    let (x, y) = (tl::dtensor3("x"), tl::dtensor3("y"));
    let f = tl::function(&[&x, &y], &[tl::batched_dot(&x, &y)]).expect("compiles");
    let args: Vec<tl::Arg> =
        vec![Tensor::from(data(&[2, 3, 4], 1)).into(), Tensor::from(data(&[2, 5, 4], 2)).into()];
    assert!(f.call(&args).expect_err("mismatch").to_string().contains("batched_dot"));
    let s = tl::tensor("s", tl::DType::F64, &[Some(2), Some(3), Some(4)]);
    let t = tl::tensor("t", tl::DType::F64, &[Some(3), Some(4), Some(2)]);
    assert!(tl::batched_dot(&s, &t).check().is_err());
}
