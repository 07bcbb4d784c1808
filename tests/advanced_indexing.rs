//! Advanced indexing (`AdvancedSubtensor`, `AdvancedIncSubtensor`): values against tables
//! computed with NumPy 1.26/2.x (`x[idx]`, `np.take`, `np.add.at`, assignment with repeats),
//! NumPy's rule for where the broadcast index axes go, boolean masks, gradients by finite
//! differences (`verify_grad`) and exactly (repeated positions accumulate), the
//! negative log-likelihood `-mean(log(p)[arange(n), y])`, symbolic shapes, the text form, and
//! the errors: a position out of range when the function runs, a float index and a mask of
//! the wrong shape when the graph is built (or run, for lengths known only then).
//!
//! Every test runs in the process's mode (`TENSORLIFT_MODE=interp` runs them all under the
//! interpreter).

use ndarray::{ArrayD, IxDyn};
use tensorlift as tl;
use tl::{DType, Index, Tensor, Var};

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

/// A float64 tensor of `shape` holding `values` (row-major).
fn t(shape: &[usize], values: &[f64]) -> Tensor {
    Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).unwrap())
}

/// `start, start + 1, …` scaled: `arange(n) * scale + shift` of `shape`.
fn ramp(shape: &[usize], scale: f64, shift: f64) -> Tensor {
    let n: usize = shape.iter().product();
    t(shape, &(0..n).map(|i| i as f64 * scale + shift).collect::<Vec<_>>())
}

fn ints(v: &[i64]) -> Tensor {
    Tensor::from(v.to_vec())
}

#[track_caller]
fn assert_value(got: &Tensor, shape: &[usize], values: &[f64]) {
    assert_eq!(got.shape(), shape, "shape");
    assert_eq!(got.to_vec::<f64>().unwrap(), values, "values");
}

/// `verify_grad` of `f` at `points`.
#[track_caller]
fn check_grad(f: impl Fn(&[Var]) -> Var, points: &[Tensor]) {
    if let Err(e) = tl::verify_grad(f, points, tl::VerifyGradOptions::default()) {
        panic!("{e}");
    }
}

// ------------------------------------------------------------------------------------------
// Values
// ------------------------------------------------------------------------------------------

#[test]
fn embedding_lookup_by_vector_and_matrix() {
    let (w, ids) = (tl::dmatrix("W"), tl::lvector("ids"));
    let wv = ramp(&[5, 3], 0.5, -2.0);
    // W[[4, 0, -1, 2, 0]]
    let out = eval(&[&w, &ids], &w.index(&ids), &[wv.clone(), ints(&[4, 0, -1, 2, 0])]);
    assert_value(
        &out,
        &[5, 3],
        &[4.0, 4.5, 5.0, -2.0, -1.5, -1.0, 4.0, 4.5, 5.0, 1.0, 1.5, 2.0, -2.0, -1.5, -1.0],
    );
    // W[[[1, 2], [0, -2]]]: rows of W in the index's shape.
    let idm = tl::lmatrix("idm");
    let ix = Tensor::from(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1i64, 2, 0, -2]).unwrap());
    let out = eval(&[&w, &idm], &w.index(&idm), &[wv, ix]);
    assert_value(&out, &[2, 2, 3], &[-0.5, 0.0, 0.5, 1.0, 1.5, 2.0, -2.0, -1.5, -1.0, 2.5, 3.0, 3.5]);
}

#[test]
fn int32_indices_and_integer_data() {
    let (x, i) = (tl::lvector("x"), tl::ivector("i"));
    let out = eval(&[&x, &i], &x.index(&i), &[ints(&[10, 20, 30]), Tensor::from(vec![2i32, -3, 1])]);
    assert_eq!(out.to_vec::<i64>().unwrap(), vec![30, 10, 20]);
}

#[test]
fn numpy_places_the_broadcast_axes() {
    let x = tl::dtensor3("x");
    let xv = ramp(&[2, 3, 4], 1.0, -7.0);
    let run = |index: &[Index]| eval(&[&x], &x.get(index), std::slice::from_ref(&xv));
    // x[:, [2, 0, 2]]: in place.
    assert_value(
        &run(tl::idx![.., vec![2i64, 0, 2]]),
        &[2, 3, 4],
        &[
            1.0, 2.0, 3.0, 4.0, -7.0, -6.0, -5.0, -4.0, 1.0, 2.0, 3.0, 4.0, 13.0, 14.0, 15.0, 16.0, 5.0, 6.0,
            7.0, 8.0, 13.0, 14.0, 15.0, 16.0,
        ],
    );
    // x[[1, 0], :, [3, 1]]: separated arrays put their axes in front.
    assert_value(
        &run(tl::idx![vec![1i64, 0], .., vec![3i64, 1]]),
        &[2, 3],
        &[8.0, 12.0, 16.0, -6.0, -2.0, 2.0],
    );
    // x[:, 0, [3, 1]]: a position beside an array is advanced, and adjacent.
    assert_value(&run(tl::idx![.., 0, vec![3i64, 1]]), &[2, 2], &[-4.0, -6.0, 8.0, 6.0]);
    // x[0, :, [3, 1]]: separated by the slice, so in front (NumPy's rule).
    assert_value(&run(tl::idx![0, .., vec![3i64, 1]]), &[2, 3], &[-4.0, 0.0, 4.0, -6.0, -2.0, 2.0]);
    // x[1:, [[0], [2]], ::-2]: an index matrix between slices.
    let im = Index::Array(tl::constant(Tensor::from(
        ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![0i64, 2]).unwrap(),
    )));
    assert_value(
        &run(&[Index::slice(Some(1), None, 1), im, Index::step(-2)]),
        &[1, 2, 1, 2],
        &[8.0, 6.0, 16.0, 14.0],
    );
}

#[test]
fn gather_one_element_per_row() {
    let (p, y) = (tl::dmatrix("p"), tl::lvector("y"));
    let n = tl::shape_i(&p, 0);
    let picked = p.get(&[Index::Array(tl::arange(n)), Index::from(&y)]);
    let pv = t(&[4, 3], &[0.2, 0.3, 0.5, 0.6, 0.1, 0.3, 0.25, 0.25, 0.5, 0.1, 0.8, 0.1]);
    let out = eval(&[&p, &y], &picked, &[pv, ints(&[2, 0, 1, 1])]);
    assert_value(&out, &[4], &[0.5, 0.6, 0.25, 0.8]);
}

#[test]
fn boolean_masks() {
    let x = tl::dtensor3("x");
    let xv = ramp(&[2, 3, 4], 1.0, -7.0);
    // x[x > 0]: the positive elements in row-major order.
    let pos = eval(&[&x], &x.get(&[Index::Array(x.gt(0.0))]), std::slice::from_ref(&xv));
    assert_value(&pos, &[16], &(1..=16).map(f64::from).collect::<Vec<_>>());
    assert_eq!(x.get(&[Index::Array(x.gt(0.0))]).ty().shape, vec![None]);
    // x[:, [True, False, True]]
    let out = eval(&[&x], &x.get(tl::idx![.., vec![true, false, true]]), std::slice::from_ref(&xv));
    assert_value(
        &out,
        &[2, 2, 4],
        &[-7.0, -6.0, -5.0, -4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 13.0, 14.0, 15.0, 16.0],
    );
    // A 2-d mask input over the last two axes of x[1].
    let m = tl::bmatrix("m");
    let mv: Vec<bool> = (0..12).map(|k| k % 3 == 1).collect();
    let mt = Tensor::from(ArrayD::from_shape_vec(IxDyn(&[3, 4]), mv).unwrap());
    let out = eval(&[&x, &m], &x.index(1).index(&m), &[xv, mt]);
    assert_value(&out, &[4], &[6.0, 9.0, 12.0, 15.0]);
}

#[test]
fn take_along_an_axis_or_flattened() {
    let (a, i) = (tl::dmatrix("a"), tl::lvector("i"));
    let av = ramp(&[3, 4], 1.0, 0.0);
    let out = eval(&[&a, &i], &tl::take(&a, &i, None), &[av.clone(), ints(&[5, -1, 0])]);
    assert_value(&out, &[3], &[5.0, 11.0, 0.0]);
    let im = tl::lmatrix("im");
    let iv = Tensor::from(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![3i64, 0, 1, 1]).unwrap());
    let out = eval(&[&a, &im], &a.take(&im, Some(1)), &[av.clone(), iv]);
    assert_value(&out, &[3, 2, 2], &[3.0, 0.0, 1.0, 1.0, 7.0, 4.0, 5.0, 5.0, 11.0, 8.0, 9.0, 9.0]);
    let out = eval(&[&a, &i], &a.take(&i, Some(-2)), &[av.clone(), ints(&[2, 0])]);
    assert_value(&out, &[2, 4], &[8.0, 9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 3.0]);
    // A 0-d index drops the axis, as NumPy's take.
    let k = tl::lscalar("k");
    let out = eval(&[&a, &k], &a.take(&k, Some(1)), &[av, Tensor::from(2i64)]);
    assert_value(&out, &[3], &[2.0, 6.0, 10.0]);
}

#[test]
fn set_keeps_the_last_write_and_inc_accumulates() {
    let (x, y) = (tl::dvector("x"), tl::dvector("y"));
    let ids = tl::lvector("ids");
    let yv = t(&[3], &[10.0, 20.0, 30.0]);
    let set = tl::set_subtensor(&x, &[Index::from(&ids)], &y);
    let out = eval(&[&x, &y, &ids], &set, &[t(&[5], &[0.0; 5]), yv.clone(), ints(&[1, 3, 1])]);
    assert_value(&out, &[5], &[0.0, 30.0, 0.0, 20.0, 0.0]);
    let inc = tl::inc_subtensor(&x, &[Index::from(&ids)], &y);
    let out = eval(&[&x, &y, &ids], &inc, &[ramp(&[5], 1.0, 0.0), yv, ints(&[1, 3, -4])]);
    assert_value(&out, &[5], &[0.0, 41.0, 2.0, 23.0, 4.0]);
    // Rows: np.add.at(W, [0, 2, 0], [[1, 2], [3, 4], [5, 6]]).
    let (w, v) = (tl::dmatrix("W"), tl::dmatrix("v"));
    let inc = tl::inc_subtensor(&w, tl::idx![vec![0i64, 2, 0]], &v);
    let out = eval(&[&w, &v], &inc, &[ramp(&[4, 2], 1.0, 0.0), ramp(&[3, 2], 1.0, 1.0)]);
    assert_value(&out, &[4, 2], &[6.0, 9.0, 2.0, 3.0, 7.0, 9.0, 6.0, 7.0]);
    // A scalar value broadcast over a mask: x[x < 0] = 0.
    let relu = tl::set_subtensor(&x, &[Index::Array(x.lt(0.0))], 0.0);
    let out = eval(&[&x], &relu, &[t(&[4], &[-1.0, 2.0, -3.0, 4.0])]);
    assert_value(&out, &[4], &[0.0, 2.0, 0.0, 4.0]);
}

#[test]
fn an_update_in_place_leaves_views_of_its_input_unchanged() {
    // `a` dies at the update, which may then write it in place: the view `a.T`, read
    // after, must still see `a`'s values.
    let (x, ids) = (tl::dmatrix("x"), tl::lvector("ids"));
    let a = &x * 2.0;
    let upd = tl::inc_subtensor(&a, &[Index::from(&ids)], 1.0);
    let view = a.t();
    let f = tl::function(&[&x, &ids], &[&upd, &view]).unwrap();
    let out = f.call(&[tl::Arg::from(ramp(&[2, 2], 1.0, 0.0)), tl::Arg::from(ints(&[1, 1]))]).unwrap();
    assert_value(&out[0], &[2, 2], &[0.0, 2.0, 6.0, 8.0]);
    assert_value(&out[1], &[2, 2], &[0.0, 4.0, 2.0, 6.0]);
    // Called again, the same results (nothing kept from the first call was written).
    let again = f.call(&[tl::Arg::from(ramp(&[2, 2], 1.0, 0.0)), tl::Arg::from(ints(&[1, 1]))]).unwrap();
    assert_eq!(again[0].to_vec::<f64>().unwrap(), out[0].to_vec::<f64>().unwrap());
    assert_eq!(again[1].to_vec::<f64>().unwrap(), out[1].to_vec::<f64>().unwrap());
    // A shared variable updated as a value is not written.
    let w = tl::shared(ramp(&[3], 1.0, 0.0), "w");
    let f = tl::function(&[&ids], &[tl::inc_subtensor(&w, &[Index::from(&ids)], 1.0)]).unwrap();
    for _ in 0..2 {
        let out = f.call(&[tl::Arg::from(ints(&[2, 2]))]).unwrap();
        assert_value(&out[0], &[3], &[0.0, 1.0, 4.0]);
    }
}

// ------------------------------------------------------------------------------------------
// Gradients
// ------------------------------------------------------------------------------------------

#[test]
fn gradients_by_finite_differences() {
    let ids = || tl::constant(vec![3i64, 0, 3, -1, 1]);
    check_grad(|x| x[0].index(ids()), &[ramp(&[4, 3], 0.3, -1.0)]);
    check_grad(|x| x[0].get(&[Index::from(..), Index::Array(ids())]), &[ramp(&[2, 4], 0.7, 0.1)]);
    check_grad(|x| x[0].get(&[Index::Array(x[0].gt(0.0))]).sqr(), &[ramp(&[3, 4], 0.4, -2.1)]);
    check_grad(|x| tl::take(&x[0], tl::constant(vec![5i64, 5, 0]), None), &[ramp(&[2, 3], 0.5, 0.2)]);
    check_grad(
        |x| {
            let n = tl::shape_i(&x[0], 0);
            let y = tl::constant(vec![2i64, 0, 1]);
            -x[0].log().get(&[Index::Array(tl::arange(n)), Index::Array(y)]).mean()
        },
        &[ramp(&[3, 3], 0.1, 0.2)],
    );
    // inc and set: the gradient of x passes (inc) or is zero on the region (set); of the
    // value it is the gathered gradient (each repeat of an increment gets its own).
    for set in [false, true] {
        check_grad(
            |x| {
                let sq = x[1].sqr();
                if set {
                    tl::set_subtensor(&x[0], tl::idx![vec![2i64, 0]], &sq)
                } else {
                    tl::inc_subtensor(&x[0], tl::idx![vec![2i64, 0, 2]], &sq)
                }
            },
            &[ramp(&[4, 2], 0.5, -1.0), ramp(&[if set { 2 } else { 3 }, 2], 0.3, 0.4)],
        );
    }
}

#[test]
fn repeated_positions_accumulate_in_the_gradient() {
    let w = tl::dmatrix("W");
    let cost = w.index(tl::constant(vec![0i64, 2, 0, -4])).sum();
    let g = tl::grad(&cost, &w).unwrap();
    let out = eval(&[&w], &g, &[ramp(&[4, 2], 1.0, 0.0)]);
    assert_value(&out, &[4, 2], &[3.0, 3.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn negative_log_likelihood_and_its_gradient() {
    let (p, y) = (tl::dmatrix("p"), tl::lvector("y"));
    let n = tl::shape_i(&p, 0);
    let nll = -p.log().get(&[Index::Array(tl::arange(n)), Index::from(&y)]).mean();
    let g = tl::grad(&nll, &p).unwrap();
    let pv = t(&[4, 3], &[0.2, 0.3, 0.5, 0.6, 0.1, 0.3, 0.25, 0.25, 0.5, 0.1, 0.8, 0.1]);
    let yv = ints(&[2, 0, 1, 1]);
    let f = tl::function(&[&p, &y], &[&nll, &g]).unwrap();
    let out = f.call(&[tl::Arg::from(&pv), tl::Arg::from(&yv)]).unwrap();
    let cost = out[0].to_f64().unwrap();
    assert!((cost - 0.7033526791900091).abs() < 1e-15, "{cost}");
    let expect = [0.0, 0.0, -0.5, -0.4166666666666667, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, -0.3125, 0.0];
    for (a, b) in out[1].to_vec::<f64>().unwrap().iter().zip(expect) {
        assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    }
}

#[test]
fn categorical_crossentropy_of_integer_labels() {
    let (z, y) = (tl::dmatrix("z"), tl::lvector("y"));
    let cce = tl::nnet::categorical_crossentropy(tl::softmax(&z, -1), &y);
    let g = tl::grad(&cce.sum(), &z).unwrap();
    let f = tl::function(&[&z, &y], &[&cce, &g]).unwrap();
    let zv = t(&[2, 3], &[1.0, 2.0, 0.5, 0.0, -1.0, 3.0]);
    let out = f.call(&[tl::Arg::from(zv), tl::Arg::from(ints(&[1, 2]))]).unwrap();
    // -log(softmax(z))[arange(2), y] and softmax(z) - onehot(y), by NumPy.
    let expect = [
        vec![0.4643687841079447, 0.06588390375742924],
        vec![
            0.23122389762214907,
            -0.37146828078823746,
            0.1402443831660885,
            0.04661262257797389,
            0.01714782554552039,
            -0.06376044812349435,
        ],
    ];
    for (got, want) in out.iter().zip(&expect) {
        for (a, b) in got.to_vec::<f64>().unwrap().iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// Shapes, printing, text form
// ------------------------------------------------------------------------------------------

#[test]
fn static_and_symbolic_shapes() {
    let (w, ids) = (tl::dmatrix("W"), tl::lvector("ids"));
    let w3 = tl::tensor("W3", DType::F64, &[Some(7), Some(3)]);
    let fixed = tl::constant(vec![1i64, 2, 2, 0]);
    assert_eq!(w3.index(&fixed).ty().shape, vec![Some(4), Some(3)]);
    assert_eq!(w3.index(&ids).ty().shape, vec![None, Some(3)]);
    // The run-time lengths of W[ids] are those of ids and W, read without the gather.
    let out = w.index(&ids);
    let (n0, n1) = (tl::shape_i(&out, 0), tl::shape_i(&out, 1));
    let f = tl::function(&[&w, &ids], &[&n0, &n1]).unwrap();
    let v = f.call(&[tl::Arg::from(ramp(&[6, 5], 1.0, 0.0)), tl::Arg::from(ints(&[0, 1, 2]))]).unwrap();
    assert_eq!((v[0].to_vec::<i64>().unwrap(), v[1].to_vec::<i64>().unwrap()), (vec![3], vec![5]));
    let printed = tl::debugprint_graph(f.optimized_graph());
    assert!(!printed.contains("advanced_subtensor"), "{printed}");
    // x[:, i, j] with i and j of one length: (x's first axis, that length, the rest).
    let (x, i) = (tl::dtensor4("x"), tl::lvector("i"));
    let j = &i + 1;
    let out = x.get(tl::idx![.., &i, &j]);
    let lens: Vec<Var> = (0..3).map(|k| tl::shape_i(&out, k)).collect();
    let f = tl::function(&[&x, &i], &lens).unwrap();
    let printed = tl::debugprint_graph(f.optimized_graph());
    assert!(!printed.contains("advanced_subtensor"), "{printed}");
    let v = f.call(&[tl::Arg::from(ramp(&[2, 3, 4, 5], 1.0, 0.0)), tl::Arg::from(ints(&[0, 1]))]).unwrap();
    let v: Vec<i64> = v.iter().map(|t| t.to_vec::<i64>().unwrap()[0]).collect();
    assert_eq!(v, vec![2, 2, 5]);
}

#[test]
fn pp_and_the_text_form_round_trip() {
    let (x, i, j) = (tl::dtensor3("x"), tl::lvector("i"), tl::lscalar("j"));
    let sub = x.get(&[
        Index::from(&i),
        Index::range(Some((&j).into()), None, 1),
        Index::Array(x.index(0).index(0).gt(0.0)),
    ]);
    let sub = x.get(&[Index::from(&i), Index::range(Some((&j).into()), None, 1), Index::from(..)]).sum()
        + sub.sum();
    let inc = tl::inc_subtensor(&x, tl::idx![.., &i], 1.0);
    let set = tl::set_subtensor(&x, tl::idx![&i], 2.0);
    assert_eq!(tl::pp(&x.index(&i)), "x[i]");
    assert_eq!(tl::pp(&inc), "advanced_inc_subtensor(x[:, i], TensorConstant{1.0})");
    let g = tl::FunctionGraph::from_outputs(&[sub, inc, set]).unwrap();
    let text = g.to_string();
    assert!(text.contains("advanced_subtensor{[], ?::1, ::1}"), "{text}");
    assert!(text.contains("advanced_set_subtensor{[]}"), "{text}");
    let back = tl::FunctionGraph::parse(&text).unwrap();
    assert_eq!(back.to_string(), text);
}

// ------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------

#[track_caller]
fn value_error(r: Result<Tensor, tl::Error>) -> tl::ValueError {
    match r {
        Err(tl::Error::Eval { source, .. }) => source,
        other => panic!("expected a run-time error, got {other:?}"),
    }
}

#[test]
fn positions_out_of_range_are_errors_when_called() {
    let (w, ids) = (tl::dmatrix("W"), tl::lvector("ids"));
    let wv = ramp(&[4, 2], 1.0, 0.0);
    for bad in [4i64, -5, i64::MAX, i64::MIN] {
        let e = value_error(try_eval(&[&w, &ids], &w.index(&ids), &[wv.clone(), ints(&[0, bad])]));
        assert_eq!(e, tl::ValueError::IndexOutOfBounds { index: bad, axis: 0, size: 4 });
        let inc = tl::inc_subtensor(&w, tl::idx![.., &ids], 1.0);
        let e = value_error(try_eval(&[&w, &ids], &inc, &[wv.clone(), ints(&[bad])]));
        assert!(matches!(e, tl::ValueError::IndexOutOfBounds { axis: 1, size: 2, .. }), "{e}");
    }
    // Index arrays whose shapes do not broadcast.
    let (a, b) = (tl::lvector("a"), tl::lvector("b"));
    let e = value_error(try_eval(
        &[&w, &a, &b],
        &w.get(tl::idx![&a, &b]),
        &[wv, ints(&[0, 1]), ints(&[0, 1, 1])],
    ));
    assert!(matches!(e, tl::ValueError::ShapeMismatch { .. }), "{e}");
}

#[test]
fn float_indices_and_wrong_masks_are_build_errors() {
    let (x, f) = (tl::dmatrix("x"), tl::dvector("f"));
    let e = x.index(&f).check().unwrap_err();
    assert!(matches!(e.kind, tl::BuildErrorKind::DType { .. }), "{e}");
    let e = tl::take(&x, &f, Some(0)).check().unwrap_err();
    assert!(matches!(e.kind, tl::BuildErrorKind::DType { .. }), "{e}");
    // A mask whose static shape differs from the axes it indexes.
    let x3 = tl::tensor("x3", DType::F64, &[Some(3), Some(2)]);
    let e = x3.get(tl::idx![vec![true, false]]).check().unwrap_err();
    assert!(matches!(e.kind, tl::BuildErrorKind::ShapeMismatch { .. }), "{e}");
    // Too many axes.
    let m = tl::btensor3("m");
    assert!(x.index(&m).check().is_err());
    // The same mismatch found when called, for lengths known only then.
    let mv = tl::bvector("mv");
    let bools = Tensor::from(vec![true, false]);
    let e = value_error(try_eval(&[&x, &mv], &x.index(&mv), &[ramp(&[3, 2], 1.0, 0.0), bools]));
    assert!(matches!(e, tl::ValueError::ShapeMismatch { .. }), "{e}");
}
