//! Shape inference end to end: the symbolic shape ops (`shape`, `shape_i`, `alloc`) compute
//! what NumPy would under every engine and fail with typed errors on bad lengths, and the
//! gradients whose fills the optimizer proves useless compile to one kernel.

use tensorlift as tl;
use tl::{Mode, Tensor};

const MODES: [Mode; 2] = [Mode::Jit, Mode::Interp];

/// The one output's `pp` after optimization.
fn optimized_pp(f: &tl::Function) -> String {
    let g = f.optimized_graph();
    tl::pp_graph(g, g.outputs()[0])
}

#[test]
fn w3_gradient_over_a_vector_is_one_kernel_reading_x_once() {
    let x = tl::dvector("x");
    let y = (&x - 4.0) * (x.pow(2) + 6.0);
    let g = tl::grad(&tl::sum(&y), &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    let pp = optimized_pp(&f);
    assert!(pp.starts_with("Composite{") && pp.ends_with("}(x)"), "{pp}");
    assert_eq!(pp.matches("Composite{").count(), 1, "{pp}");
    let xs = [-3.0, 0.0, 0.5, 2.0, 10.0];
    let out: Vec<f64> = f.call1(xs).unwrap().try_into().unwrap();
    for (o, x) in out.iter().zip(xs) {
        let want = 3.0 * x * x - 8.0 * x + 6.0;
        assert!((o - want).abs() <= 1e-12 * want.abs().max(1.0), "{o} vs {want}");
    }
}

#[test]
fn mean_gradient_needs_no_array_of_ones() {
    let m = tl::dmatrix("m");
    let g = tl::grad(&tl::mean(tl::tanh(&m)), &m).unwrap();
    for mode in MODES {
        let f = tl::Function::builder(&[&m], &[&g]).mode(mode).build().unwrap();
        let pp = optimized_pp(&f);
        assert!(!pp.contains("Alloc") && !pp.contains("fill"), "{mode:?}: {pp}");
        let v = [[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]];
        let out: Vec<Vec<f64>> = f.call1(v).unwrap().try_into().unwrap();
        for (row, vrow) in out.iter().zip(v) {
            for (o, x) in row.iter().zip(vrow) {
                let want = (1.0 - f64::tanh(x).powi(2)) / 6.0;
                assert!((o - want).abs() <= 1e-15, "{mode:?}: {o} vs {want}");
            }
        }
    }
}

#[test]
fn shape_ops_compute_what_numpy_does() {
    let m = tl::dmatrix("m");
    let n = tl::lscalar("n");
    let sh = tl::shape(&m);
    let last = tl::shape_i(&m, -1);
    // exp(m) broadcast along a new leading axis of length n.
    let a = tl::alloc(tl::exp(&m), &[(&n).into(), tl::shape_i(&m, 0).into(), 3.into()]);
    for mode in MODES {
        let f = tl::Function::builder(&[&m, &n], &[&sh, &last, &a]).mode(mode).build().unwrap();
        let v = Tensor::from([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]);
        let outs = f.call(&[v.into(), 2i64.into()]).unwrap();
        assert_eq!(outs[0].to_vec::<i64>().unwrap(), vec![2, 3], "{mode:?}");
        assert_eq!(outs[1].scalar::<i64>().unwrap(), 3, "{mode:?}");
        assert_eq!(outs[2].shape(), &[2, 2, 3], "{mode:?}");
        let got = outs[2].to_f64_vec();
        for (k, g) in got.iter().enumerate() {
            assert_eq!(*g, ((k % 6) as f64).exp(), "{mode:?}: element {k}");
        }
    }
}

#[test]
fn bad_alloc_lengths_are_typed_errors() {
    let v = tl::dvector("v");
    let n = tl::lscalar("n");
    let a = tl::alloc(&v, &[(&n).into(), 3.into()]);
    for mode in MODES {
        let f = tl::Function::builder(&[&v, &n], &[&a]).mode(mode).build().unwrap();
        let ok = f.call(&[Tensor::from([1.0, 2.0, 3.0]).into(), 2i64.into()]).unwrap();
        assert_eq!(ok[0].shape(), &[2, 3]);
        let negative = f.call(&[Tensor::from([1.0, 2.0, 3.0]).into(), (-1i64).into()]).unwrap_err();
        assert!(negative.to_string().contains("negative"), "{mode:?}: {negative}");
        // v's axis is not broadcastable: a length-4 v does not fit the fixed length 3.
        let misfit = f.call(&[Tensor::from([1.0, 2.0, 3.0, 4.0]).into(), 2i64.into()]).unwrap_err();
        assert!(misfit.to_string().contains("alloc"), "{mode:?}: {misfit}");
    }
    // The type rule refuses what can be seen when building.
    let w = tl::dmatrix("w");
    let e = tl::try_apply(tl::Op::Alloc { shape: vec![tl::Dim::Fixed(2)] }, vec![w]).unwrap_err();
    assert!(e.to_string().contains("alloc"), "{e}");
    let bad = tl::try_apply(tl::Op::Alloc { shape: vec![tl::Dim::Input] }, vec![v.clone(), tl::dscalar("f")]);
    assert!(bad.unwrap_err().to_string().contains("integer"));
}

#[test]
fn alloc_gradient_sums_over_the_broadcast_axes() {
    let v = tl::dvector("v");
    let n = tl::lscalar("n");
    let a = tl::alloc(&v, &[(&n).into(), tl::shape_i(&v, 0).into()]);
    let w = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let cost = tl::sum(&a * tl::constant(w));
    let g = tl::grad(&cost, &v).unwrap();
    for mode in MODES {
        let f = tl::Function::builder(&[&v, &n], &[&g]).mode(mode).build().unwrap();
        let out = f.call(&[Tensor::from([0.1, 0.2, 0.3]).into(), 2i64.into()]).unwrap();
        assert_eq!(out[0].to_vec::<f64>().unwrap(), vec![5.0, 7.0, 9.0], "{mode:?}");
    }
}
