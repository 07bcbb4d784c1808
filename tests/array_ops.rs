//! The array family (Theano's `extra_ops`, `sort` and `basic`): `cumsum`, `cumprod`,
//! `sort`, `argsort`, `repeat`, `tile`, `roll`, `eye` and `identity_like` — values against
//! tables computed with NumPy 2.4 (`np.cumsum`, `np.sort`, `np.argsort(kind='stable')`,
//! `np.repeat`, `np.tile`, `np.roll`, `np.eye`), symbolic counts, shifts and lengths,
//! gradients by finite differences (`verify_grad`), static and symbolic shapes, `pp` and
//! the text form, and the errors: a bad axis, float counts and a matrix that is not one
//! when building; negative counts and lengths of the wrong size when building for
//! constants or known lengths, else when the function runs.
//!
//! Every test runs in the process's mode (`TENSORLIFT_MODE=interp` runs them all under the
//! interpreter).

use ndarray::{ArrayD, IxDyn};
use tensorlift as tl;
use tl::{DType, Length, Tensor, Var};

/// Compiles `inputs -> out` and calls it once.
fn try_eval(inputs: &[&Var], out: &Var, args: &[Tensor]) -> Result<Tensor, tl::Error> {
    let f = tl::function(inputs, &[out])?;
    let args: Vec<tl::Arg> = args.iter().map(tl::Arg::from).collect();
    Ok(f.call(&args)?.remove(0))
}

#[track_caller]
fn eval(inputs: &[&Var], out: &Var, args: &[Tensor]) -> Tensor {
    try_eval(inputs, out, args).unwrap_or_else(|e| panic!("{}: {e}", tl::pp(out)))
}

/// `eval` of a function of one input.
#[track_caller]
fn eval1(input: &Var, out: &Var, arg: &Tensor) -> Tensor {
    eval(&[input], out, std::slice::from_ref(arg))
}

/// A float64 tensor of `shape` holding `values` (row-major).
fn t(shape: &[usize], values: &[f64]) -> Tensor {
    Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).unwrap())
}

/// `arange(n) * scale + shift` of `shape`.
fn ramp(shape: &[usize], scale: f64, shift: f64) -> Tensor {
    let n: usize = shape.iter().product();
    t(shape, &(0..n).map(|i| i as f64 * scale + shift).collect::<Vec<_>>())
}

/// The value's shape and its elements (NaN equal to NaN).
#[track_caller]
fn assert_value(got: &Tensor, shape: &[usize], values: &[f64]) {
    assert_eq!(got.shape(), shape, "shape");
    let got = got.to_f64_vec();
    assert_eq!(got.len(), values.len(), "{got:?} vs {values:?}");
    for (a, b) in got.iter().zip(values) {
        assert!(a == b || (a.is_nan() && b.is_nan()), "{got:?} vs {values:?}");
    }
}

/// `verify_grad` of `f` at `points`.
#[track_caller]
fn check_grad(f: impl Fn(&[Var]) -> Var, points: &[Tensor]) {
    if let Err(e) = tl::verify_grad(f, points, tl::VerifyGradOptions::default()) {
        panic!("{e}");
    }
}

#[track_caller]
fn value_error(r: Result<Tensor, tl::Error>) -> tl::ValueError {
    match r {
        Err(tl::Error::Eval { source, .. }) => source,
        other => panic!("expected a run-time error, got {other:?}"),
    }
}

const X23: [f64; 6] = [0.5, -1.25, 2.0, 3.0, 0.75, -2.5];

/// An axis, the result's shape and two expected tables.
type Case<'a, A, B> = (Option<isize>, &'a [usize], A, B);

// ------------------------------------------------------------------------------------------
// Values
// ------------------------------------------------------------------------------------------

#[test]
fn cumsum_and_cumprod_along_each_axis() {
    let x = tl::dmatrix("x");
    let xv = t(&[2, 3], &X23);
    let cases: [Case<[f64; 6], [f64; 6]>; 4] = [
        (None, &[6], [0.5, -0.75, 1.25, 4.25, 5.0, 2.5], [0.5, -0.625, -1.25, -3.75, -2.8125, 7.03125]),
        (Some(0), &[2, 3], [0.5, -1.25, 2.0, 3.5, -0.5, -0.5], [0.5, -1.25, 2.0, 1.5, -0.9375, -5.0]),
        (Some(1), &[2, 3], [0.5, -0.75, 1.25, 3.0, 3.75, 1.25], [0.5, -0.625, -1.25, 3.0, 2.25, -5.625]),
        (Some(-1), &[2, 3], [0.5, -0.75, 1.25, 3.0, 3.75, 1.25], [0.5, -0.625, -1.25, 3.0, 2.25, -5.625]),
    ];
    for (axis, shape, sum, prod) in cases {
        assert_value(&eval1(&x, &tl::cumsum(&x, axis), &xv), shape, &sum);
        assert_value(&eval1(&x, &x.cumprod(axis), &xv), shape, &prod);
    }
    // Integers keep their dtype (Theano's CumOp); booleans count in int64 (NumPy).
    let i = tl::imatrix("i");
    let iv = Tensor::from([[1i32, 2, 3], [4, 5, 6]]);
    let out = eval1(&i, &tl::cumsum(&i, Some(1)), &iv);
    assert_eq!((out.dtype(), out.to_vec::<i32>().unwrap()), (DType::I32, vec![1, 3, 6, 4, 9, 15]));
    let out = eval(&[&i], &tl::cumprod(&i, Some(0)), &[iv]);
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 2, 3, 4, 10, 18]);
    let b = tl::bvector("b");
    let out = eval(&[&b], &tl::cumsum(&b, None), &[Tensor::from(vec![true, false, true, true])]);
    assert_eq!((out.dtype(), out.to_vec::<i64>().unwrap()), (DType::I64, vec![1, 1, 2, 3]));
    // The first element is itself: -0.0 stays.
    let v = tl::dvector("v");
    let out = eval(&[&v], &tl::cumsum(&v, Some(0)), &[Tensor::from(vec![-0.0, 1.0])]);
    assert!(out.to_vec::<f64>().unwrap()[0].is_sign_negative());
}

/// `np.sort` and `np.argsort(kind='stable')` of a matrix with NaN and infinities.
#[test]
fn sort_and_argsort_put_nan_last() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let s = t(&[3, 4], &[3.5, nan, -1.0, 2.0, inf, 0.25, -inf, 7.0, 1.5, -3.0, nan, 0.0]);
    let x = tl::dmatrix("x");
    let cases: [Case<[f64; 12], [i64; 12]>; 4] = [
        (
            None,
            &[12],
            [-inf, -3.0, -1.0, 0.0, 0.25, 1.5, 2.0, 3.5, 7.0, inf, nan, nan],
            [6, 9, 2, 11, 5, 8, 3, 0, 7, 4, 1, 10],
        ),
        (
            Some(0),
            &[3, 4],
            [1.5, -3.0, -inf, 0.0, 3.5, 0.25, -1.0, 2.0, inf, nan, nan, 7.0],
            [2, 2, 1, 2, 0, 1, 0, 0, 1, 0, 2, 1],
        ),
        (
            Some(1),
            &[3, 4],
            [-1.0, 2.0, 3.5, nan, -inf, 0.25, 7.0, inf, -3.0, 0.0, 1.5, nan],
            [2, 3, 0, 1, 2, 1, 3, 0, 1, 3, 0, 2],
        ),
        (
            Some(-1),
            &[3, 4],
            [-1.0, 2.0, 3.5, nan, -inf, 0.25, 7.0, inf, -3.0, 0.0, 1.5, nan],
            [2, 3, 0, 1, 2, 1, 3, 0, 1, 3, 0, 2],
        ),
    ];
    for (axis, shape, sorted, order) in cases {
        assert_value(&eval1(&x, &tl::sort(&x, axis), &s), shape, &sorted);
        let pos = eval1(&x, &x.argsort(axis), &s);
        assert_eq!((pos.dtype(), pos.shape()), (DType::I64, shape), "{axis:?}");
        assert_eq!(pos.to_vec::<i64>().unwrap(), order, "{axis:?}");
    }
    // Integers and booleans sort too; equal elements keep their order in argsort.
    let l = tl::lvector("l");
    let lv = Tensor::from(vec![3i64, -1, 3, 0, -1]);
    assert_eq!(eval1(&l, &tl::sort(&l, Some(0)), &lv).to_vec::<i64>().unwrap(), vec![-1, -1, 0, 3, 3]);
    assert_eq!(eval(&[&l], &tl::argsort(&l, Some(0)), &[lv]).to_vec::<i64>().unwrap(), vec![1, 4, 3, 0, 2]);
    let b = tl::bvector("b");
    let out = eval(&[&b], &tl::sort(&b, Some(-1)), &[Tensor::from(vec![true, false, true])]);
    assert_eq!(out.to_vec::<bool>().unwrap(), vec![false, true, true]);
}

#[test]
fn repeat_with_one_count_or_one_per_slice() {
    let r = tl::dmatrix("r");
    let rv = t(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let out = eval1(&r, &tl::repeat(&r, 2, None), &rv);
    assert_value(&out, &[12], &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0]);
    let out = eval1(&r, &r.repeat(3, Some(1)), &rv);
    let want = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 5.0, 5.0, 6.0, 6.0, 6.0];
    assert_value(&out, &[3, 6], &want);
    let counts = tl::constant(vec![1i64, 0, 2]);
    let out = eval1(&r, &tl::repeat(&r, &counts, Some(0)), &rv);
    assert_value(&out, &[3, 2], &[1.0, 2.0, 5.0, 6.0, 5.0, 6.0]);
    // Symbolic counts: a scalar, a vector, a vector of one count for all.
    let (n, c) = (tl::lscalar("n"), tl::lvector("c"));
    let out = eval(&[&r, &n], &tl::repeat(&r, &n, Some(1)), &[rv.clone(), Tensor::from(3i64)]);
    assert_value(&out, &[3, 6], &want);
    let by = |counts: Vec<i64>| {
        eval(&[&r, &c], &tl::repeat(&r, &c, Some(-1)), &[rv.clone(), Tensor::from(counts)])
    };
    assert_value(&by(vec![2, 1]), &[3, 3], &[1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 5.0, 6.0]);
    assert_value(&by(vec![0]), &[3, 0], &[]);
    assert_value(&by(vec![2]), &[3, 4], &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0]);
    // int32 counts and int32 data.
    let i = tl::ivector("i");
    let out = eval(&[&i], &tl::repeat(&i, tl::constant(vec![2i32, 1]), None), &[Tensor::from(vec![7i32, 8])]);
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![7, 7, 8]);
}

#[test]
fn tile_with_fixed_and_symbolic_counts() {
    let x = tl::dmatrix("x");
    let xv = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let ab = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let twice_cols = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 4.0, 5.0, 6.0];
    let cases: [(&[usize], &[usize], Vec<f64>); 4] = [
        (&[2], &[2, 6], twice_cols.to_vec()),
        (&[2, 1], &[4, 3], [ab, ab].concat()),
        (&[1, 2, 2], &[1, 4, 6], [twice_cols, twice_cols].concat()),
        (&[3, 1, 1], &[3, 2, 3], [ab, ab, ab].concat()),
    ];
    for (reps, shape, want) in &cases {
        let reps: Vec<Length> = reps.iter().map(|&r| Length::Fixed(r)).collect();
        assert_value(&eval1(&x, &tl::tile(&x, &reps, None), &xv), shape, want);
    }
    // A vector to two axes with ndim, and counts that are variables.
    let v = tl::dvector("v");
    let out = eval(&[&v], &tl::tile(&v, &[2.into()], Some(2)), &[Tensor::from(vec![1.0, 2.0, 3.0])]);
    assert_value(&out, &[1, 6], &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    let (a, b) = (tl::lscalar("a"), tl::iscalar("b"));
    let tiled = tl::tile(&x, &[(&a).into(), (&b).into()], None);
    let f = tl::function(&[&x, &a, &b], &[&tiled]).unwrap();
    let out = f.call(&[xv.clone().into(), 2i64.into(), 1i32.into()]).unwrap().remove(0);
    assert_value(&out, &[4, 3], &[ab, ab].concat());
    // The counts as an integer vector (Theano's `reps` vector with `ndim`), padded with ones.
    let reps = tl::lvector("reps");
    let tiled = tl::tile_vector(&x, &reps, 3);
    let f = tl::function(&[&x, &reps], &[&tiled]).unwrap();
    let out = f.call(&[xv.clone().into(), Tensor::from(vec![2i64, 1]).into()]).unwrap().remove(0);
    assert_value(&out, &[1, 4, 3], &[ab, ab].concat());
    let out = f.call(&[xv.into(), Tensor::from(vec![1i64, 2, 2]).into()]).unwrap().remove(0);
    assert_value(&out, &[1, 4, 6], &[twice_cols, twice_cols].concat());
}

#[test]
fn roll_by_fixed_and_symbolic_shifts() {
    let x = tl::dmatrix("x");
    let xv = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let cases: [(i64, Option<isize>, [f64; 6]); 7] = [
        (1, Some(1), [3.0, 1.0, 2.0, 6.0, 4.0, 5.0]),
        (-1, Some(1), [2.0, 3.0, 1.0, 5.0, 6.0, 4.0]),
        (7, Some(-1), [3.0, 1.0, 2.0, 6.0, 4.0, 5.0]),
        (2, None, [5.0, 6.0, 1.0, 2.0, 3.0, 4.0]),
        (-5, None, [6.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        (1, Some(0), [4.0, 5.0, 6.0, 1.0, 2.0, 3.0]),
        (0, Some(1), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    ];
    let s = tl::lscalar("s");
    for (shift, axis, want) in cases {
        assert_value(&eval1(&x, &tl::roll(&x, shift, axis), &xv), &[2, 3], &want);
        let rolled = tl::roll(&x, &s, axis);
        assert_value(&eval(&[&x, &s], &rolled, &[xv.clone(), Tensor::from(shift)]), &[2, 3], &want);
    }
    // An empty axis rolls to itself.
    let v = tl::dvector("v");
    let out =
        eval(&[&v, &s], &tl::roll(&v, &s, Some(0)), &[Tensor::from(Vec::<f64>::new()), Tensor::from(3i64)]);
    assert_value(&out, &[0], &[]);
}

#[test]
fn eye_and_identity_like() {
    // n, m, k, the shape and the elements.
    type Eye<'a> = (i64, Option<i64>, i64, &'a [usize], Vec<f64>);
    let cases: [Eye; 5] = [
        (3, None, 0, &[3, 3], vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
        (2, Some(4), 1, &[2, 4], vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
        (4, Some(3), -1, &[4, 3], vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
        (3, Some(3), 5, &[3, 3], vec![0.0; 9]),
        (0, Some(2), 0, &[0, 2], vec![]),
    ];
    let (n, m, k) = (tl::lscalar("n"), tl::lscalar("m"), tl::iscalar("k"));
    let sym = tl::eye(&n, Some((&m).into()), &k, Some(DType::F64));
    let f = tl::function(&[&n, &m, &k], &[&sym]).unwrap();
    for (nv, mv, kv, shape, want) in cases {
        // Numbers alone give a constant of known shape.
        let fixed = tl::eye(nv, mv.map(tl::Term::Int), kv, Some(DType::F64));
        assert_eq!(fixed.ty().shape, shape.iter().map(|&d| Some(d)).collect::<Vec<_>>());
        assert_value(&eval(&[], &fixed, &[]), shape, &want);
        let args: [tl::Arg; 3] = [nv.into(), mv.unwrap_or(nv).into(), (kv as i32).into()];
        assert_value(&f.call(&args).unwrap()[0], shape, &want);
    }
    // floatX by default; any dtype on request.
    assert_eq!(tl::eye(2, None, 0, None).dtype(), tl::config::float_x());
    let out = eval(&[], &tl::eye(2, None, 0, Some(DType::I32)), &[]);
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 0, 0, 1]);
    // identity_like: x's shape and dtype.
    let x = tl::fmatrix("x");
    let like = tl::identity_like(&x);
    let out = eval(&[&x], &like, &[Tensor::from(ndarray::Array2::<f32>::zeros((2, 3)).into_dyn())]);
    assert_eq!(out.dtype(), DType::F32);
    assert_value(&out, &[2, 3], &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
}

// ------------------------------------------------------------------------------------------
// Gradients
// ------------------------------------------------------------------------------------------

#[test]
fn gradients_by_finite_differences() {
    let p = |shape: &[usize], scale: f64, shift: f64| ramp(shape, scale, shift);
    // The cost is a weighted sum so that every output element has its own weight.
    let weighted = |y: Var| (&y * tl::cos(tl::arange(y.shape_i(-1)) * 0.7 + 0.3)).sum();
    check_grad(|x| weighted(tl::cumsum(&x[0], Some(1))), &[p(&[2, 3], 0.4, -0.5)]);
    check_grad(|x| weighted(tl::cumsum(&x[0], None)), &[p(&[2, 3], 0.4, -0.5)]);
    check_grad(|x| weighted(tl::cumprod(&x[0], Some(0))), &[p(&[3, 2], 0.3, 0.2)]);
    check_grad(|x| weighted(tl::cumprod(&x[0], None)), &[p(&[2, 2], -0.45, 1.1)]);
    // Sort: distinct values in shuffled order, along each axis.
    let shuffled = t(&[3, 3], &[0.4, -1.3, 2.2, 1.7, 0.1, -0.6, -2.4, 0.9, 1.2]);
    for axis in [Some(0), Some(1), None] {
        check_grad(|x| weighted(tl::sort(&x[0], axis)), std::slice::from_ref(&shuffled));
    }
    check_grad(|x| weighted(tl::sort(&x[0], Some(-1))), &[t(&[2, 1, 3], &[0.3, -0.2, 0.1, 1.5, 2.5, -1.0])]);
    // Repeat: one count (symbolic too), one per slice, the flattened tensor.
    check_grad(|x| weighted(tl::repeat(&x[0], 3, Some(0))), &[p(&[2, 3], 0.5, 0.1)]);
    check_grad(
        |x| weighted(tl::repeat(&x[0], tl::constant(vec![2i64, 0, 3]), Some(1))),
        &[p(&[2, 3], 0.5, 0.1)],
    );
    check_grad(
        |x| weighted(tl::repeat(&x[0], tl::constant(vec![1i64, 2, 1, 3]), None)),
        &[p(&[2, 2], 0.5, 0.1)],
    );
    check_grad(
        |x| {
            let n = tl::cast(tl::shape_i(&x[0], 0), DType::I64) - 1;
            weighted(tl::repeat(&x[0], n, Some(1)))
        },
        &[p(&[3, 2], 0.5, 0.1)],
    );
    // Tile and roll come from other ops.
    check_grad(|x| weighted(tl::tile(&x[0], &[2.into(), 1.into(), 3.into()], None)), &[p(&[2, 3], 0.5, 0.1)]);
    check_grad(|x| weighted(tl::roll(&x[0], 4, None)), &[p(&[2, 3], 0.5, 0.1)]);
    check_grad(
        |x| {
            let s = tl::cast(tl::shape_i(&x[0], 1), DType::I64) + 1;
            weighted(tl::roll(&x[0], s, Some(-1)))
        },
        &[p(&[2, 3], 0.5, 0.1)],
    );
}

#[test]
fn argsort_has_no_gradient() {
    let x = tl::dvector("x");
    let cost = (tl::cast(tl::argsort(&x, Some(0)), DType::F64) * &x).sum();
    let g = tl::grad(&cost, &x).unwrap();
    let out = eval(&[&x], &g, &[Tensor::from(vec![0.5, -1.0, 2.0])]);
    // Only the direct factor: the positions are constant.
    assert_value(&out, &[3], &[1.0, 0.0, 2.0]);
}

// ------------------------------------------------------------------------------------------
// Shapes, printing, text form
// ------------------------------------------------------------------------------------------

#[test]
fn static_shapes() {
    let x = tl::tensor("x", DType::F64, &[Some(2), Some(3)]);
    assert_eq!(tl::cumsum(&x, Some(0)).ty().shape, vec![Some(2), Some(3)]);
    assert_eq!(tl::cumsum(&x, None).ty().shape, vec![Some(6)]);
    assert_eq!(tl::sort(&x, None).ty().shape, vec![Some(6)]);
    assert_eq!(tl::argsort(&x, Some(1)).ty().shape, vec![Some(2), Some(3)]);
    assert_eq!(tl::repeat(&x, 2, Some(1)).ty().shape, vec![Some(2), None]);
    assert_eq!(tl::tile(&x, &[2.into(), 2.into()], Some(3)).ty().shape, vec![Some(1), Some(4), Some(6)]);
    assert_eq!(tl::roll(&x, 1, Some(1)).ty().shape, vec![Some(2), Some(3)]);
    assert_eq!(tl::roll(&x, 1, None).ty().shape, vec![Some(2), Some(3)]);
    assert_eq!(tl::identity_like(&x).ty().shape, vec![Some(2), Some(3)]);
    assert_eq!(tl::eye(tl::lscalar("n"), None, 0, None).ty().shape, vec![None, None]);
}

/// The lengths of each result are read from its inputs, without computing it.
#[test]
fn symbolic_shapes_skip_the_computation() {
    let (x, r) = (tl::dmatrix("x"), tl::lscalar("r"));
    let outs = [
        tl::shape_i(tl::cumsum(&x, Some(1)), 0),
        tl::shape_i(tl::sort(&x, Some(0)), 1),
        tl::shape_i(tl::argsort(&x, Some(0)), 0),
        tl::shape_i(tl::repeat(&x, &r, Some(1)), 0),
        tl::shape_i(tl::identity_like(&x), 0),
        tl::shape_i(tl::identity_like(&x), 1),
    ];
    let f = tl::function(&[&x, &r], &outs).unwrap();
    let printed = tl::debugprint_graph(f.optimized_graph());
    for op in ["cumsum", "sort", "repeat", "Eye"] {
        assert!(!printed.contains(op), "{op}: {printed}");
    }
    let args = [ramp(&[4, 5], 1.0, 0.0).into(), 3i64.into()];
    let v: Vec<i64> = f.call(&args).unwrap().iter().map(|t| t.scalar::<i64>().unwrap()).collect();
    assert_eq!(v, vec![4, 5, 4, 4, 4, 5]);
    // The repeated axis and tile's lengths are computed (and right).
    let (rep, tiled) = (tl::repeat(&x, &r, Some(1)), tl::tile(&x, &[(&r).into(), 2.into()], None));
    let lens = [tl::shape_i(&rep, 1), tl::shape_i(&tiled, 0), tl::shape_i(&tiled, 1)];
    let f = tl::function(&[&x, &r], &lens).unwrap();
    let v: Vec<i64> = f
        .call(&[ramp(&[4, 5], 1.0, 0.0).into(), 3i64.into()])
        .unwrap()
        .iter()
        .map(|t| t.scalar::<i64>().unwrap())
        .collect();
    assert_eq!(v, vec![15, 12, 10]);
}

#[test]
fn pp_and_the_text_form_round_trip() {
    let (x, r, n) = (tl::dmatrix("x"), tl::lvector("r"), tl::lscalar("n"));
    assert_eq!(tl::pp(&tl::cumsum(&x, Some(1))), "cumsum(x, axis=1)");
    assert_eq!(tl::pp(&tl::cumprod(&x, Some(0))), "cumprod(x, axis=0)");
    assert_eq!(tl::pp(&tl::sort(&x, Some(-1))), "sort(x, axis=1)");
    assert_eq!(tl::pp(&tl::argsort(&x, Some(0))), "argsort(x, axis=0)");
    assert_eq!(tl::pp(&tl::repeat(&x, &r, Some(0))), "repeat(x, r, axis=0)");
    assert_eq!(
        tl::pp(&tl::eye(&n, None, 0, Some(DType::F32))),
        "Eye{dtype='float32'}(n, n, TensorConstant{0})"
    );
    let outs = [
        tl::cumsum(&x, None),
        tl::cumprod(&x, Some(1)),
        tl::sort(&x, Some(0)),
        tl::cast(tl::argsort(&x, Some(1)), DType::F64),
        tl::repeat(&x, &r, Some(1)),
        tl::tile(&x, &[(&n).into(), 2.into()], None),
        tl::roll(&x, &n, Some(0)),
        tl::eye(&n, None, 1, Some(DType::F64)),
    ];
    let g = tl::FunctionGraph::from_outputs(&outs).unwrap();
    let text = g.to_string();
    for spelling in [
        "cumsum{axis=0}",
        "cumprod{axis=1}",
        "sort{axis=0}",
        "argsort{axis=1}",
        "repeat{axis=1}",
        "eye{float64}",
    ] {
        assert!(text.contains(spelling), "{spelling}: {text}");
    }
    let back = tl::FunctionGraph::parse(&text).unwrap();
    assert_eq!(back.to_string(), text);
}

// ------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------

#[track_caller]
fn build_error(v: &Var) -> tl::BuildErrorKind {
    v.check().expect_err("a build error").kind
}

#[test]
fn bad_arguments_are_build_errors() {
    let (x, f) = (tl::dmatrix("x"), tl::dscalar("f"));
    for v in [
        tl::cumsum(&x, Some(2)),
        tl::sort(&x, Some(-3)),
        tl::argsort(&x, Some(2)),
        tl::repeat(&x, 2, Some(2)),
    ] {
        assert!(matches!(build_error(&v), tl::BuildErrorKind::Axis { .. }), "{}", build_error(&v));
    }
    assert!(matches!(build_error(&tl::roll(&x, 1, Some(2))), tl::BuildErrorKind::Axis { .. }));
    // Counts: float, a matrix, negative constants, a vector of the wrong known length.
    assert!(matches!(build_error(&tl::repeat(&x, &f, None)), tl::BuildErrorKind::DType { .. }));
    assert!(matches!(build_error(&tl::repeat(&x, 1.5, None)), tl::BuildErrorKind::DType { .. }));
    assert!(matches!(build_error(&tl::repeat(&x, tl::lmatrix("c"), None)), tl::BuildErrorKind::Rank { .. }));
    let e = build_error(&tl::repeat(&x, -1, Some(0)));
    assert!(e.to_string().contains("repeats may not be negative, got -1"), "{e}");
    let e = build_error(&tl::repeat(&x, tl::constant(vec![1i64, -2]), Some(0)));
    assert!(e.to_string().contains("negative"), "{e}");
    let x3 = tl::tensor("x3", DType::F64, &[Some(3), Some(2)]);
    let e = build_error(&tl::repeat(&x3, tl::constant(vec![1i64, 2]), Some(0)));
    assert!(matches!(e, tl::BuildErrorKind::ShapeMismatch { .. }), "{e}");
    // Shift, lengths and ranks.
    assert!(matches!(build_error(&tl::roll(&x, &f, Some(0))), tl::BuildErrorKind::DType { .. }));
    assert!(build_error(&tl::roll(&x, 0.5, Some(0))).to_string().contains("integer"));
    assert!(matches!(build_error(&tl::eye(&f, None, 0, None)), tl::BuildErrorKind::DType { .. }));
    assert!(matches!(build_error(&tl::eye(3, None, 0.5, None)), tl::BuildErrorKind::DType { .. }));
    assert!(matches!(build_error(&tl::identity_like(tl::dvector("v"))), tl::BuildErrorKind::Rank { .. }));
    assert!(build_error(&tl::tile(&x, &[2.into()], Some(1))).to_string().contains("ndim"));
    assert!(build_error(&tl::tile(&x, &[1.into(), 2.into(), 3.into()], Some(2)))
        .to_string()
        .contains("ndim"));
    assert!(matches!(build_error(&tl::tile(&x, &[(&f).into()], None)), tl::BuildErrorKind::DType { .. }));
    assert!(matches!(
        build_error(&tl::tile_vector(&x, tl::dvector("d"), 2)),
        tl::BuildErrorKind::DType { .. }
    ));
    assert!(build_error(&tl::tile_vector(&x, tl::constant(vec![1i64, 2, 3]), 2))
        .to_string()
        .contains("ndim"));
}

#[test]
fn bad_values_are_errors_when_called() {
    let (x, c, n) = (tl::dmatrix("x"), tl::lvector("c"), tl::lscalar("n"));
    let xv = ramp(&[2, 3], 1.0, 0.0);
    let rep = tl::repeat(&x, &c, Some(1));
    let e = value_error(try_eval(&[&x, &c], &rep, &[xv.clone(), Tensor::from(vec![1i64, 2])]));
    assert!(matches!(e, tl::ValueError::ShapeMismatch { .. }), "{e}");
    let e = value_error(try_eval(&[&x, &c], &rep, &[xv.clone(), Tensor::from(vec![1i64, -2, 1])]));
    assert!(e.to_string().contains("repeats may not be negative, got -2"), "{e}");
    let e = value_error(try_eval(&[&x, &n], &tl::repeat(&x, &n, None), &[xv.clone(), Tensor::from(-1i64)]));
    assert!(e.to_string().contains("negative"), "{e}");
    let eye = tl::eye(&n, None, 0, None);
    let e = value_error(try_eval(&[&n], &eye, &[Tensor::from(-2i64)]));
    assert!(e.to_string().contains("negative dimensions"), "{e}");
    // More counts than ndim allows, known only when called.
    let tiled = tl::tile_vector(&x, &c, 2);
    let e = try_eval(&[&x, &c], &tiled, &[xv, Tensor::from(vec![1i64, 2, 3])]);
    assert!(e.is_err());
}
