//! #19: the Rust API as the README tells a user to write it — conversions both ways, one
//! `grad`, builders over owned expressions, errors that print their message under `Debug`
//! (what `fn main() -> tl::Result<()>` shows), and tensors that print as NumPy's `repr`.

use tensorlift as tl;

/// Every `Error` variant family a user can meet, each with the text it must start with.
fn errors() -> Vec<(tl::Error, &'static str)> {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = tl::function(&[&x], &[x.exp()]).unwrap();
    let a = tl::tensor("a", tl::DType::F64, &[Some(3)]);
    let b = tl::tensor("b", tl::DType::F64, &[Some(4)]);
    let two = tl::function(&[&x], &[x.exp(), x.sin()]).unwrap();
    let sum = tl::function(&[&x, &y], &[&x + &y]).unwrap();
    let w = tl::shared(vec![1.0, 2.0], "w");
    let v = tl::fvector("v");
    let fv = tl::function(&[&v], &[v.exp()]).unwrap();
    vec![
        (tl::function(&[&a, &b], &[&a + &b]).unwrap_err(), "type error: add: incompatible shapes"),
        (tl::function(&[&x], &[&x + &y]).unwrap_err(), "function: the graph needs input y"),
        (tl::function(&[&x, &x], &[&x]).unwrap_err(), "function: input x is listed twice"),
        (f.call(&[]).unwrap_err(), "function: expected 1 argument(s), got 0"),
        (fv.call1(vec![0.1]).unwrap_err(), "function: argument 0 (v) must be float32"),
        (f.call1([[1.0, 2.0]]).unwrap_err(), "function: argument 0 (x) has shape [1, 2]"),
        (f.call1(vec![vec![1.0], vec![]]).unwrap_err(), "function: argument 0 (x): ragged nested data"),
        (sum.call(&tl::args![vec![1.0, 2.0], vec![1.0]]).unwrap_err(), "add: shape mismatch"),
        (tl::Function::builder(&[&x], &[&x]).updates(&[(&w, &x.sum())]).build().unwrap_err(), "updates:"),
        (tl::function(&[&x, &y], &[&x]).unwrap_err(), "input y is not used"),
        (two.call1(vec![1.0]).unwrap_err(), ""),
        (tl::Error::from(tl::grad(&x.sum(), &y).unwrap_err()), "grad: the cost does not depend on y"),
        (tl::Error::from(tl::Tensor::from(1.0).to_vec2::<f64>().unwrap_err()), "expected a 2-d tensor"),
        (
            tl::Error::from(ndarray::ArrayD::<f64>::from_shape_vec(vec![2], vec![1.0]).unwrap_err()),
            "ndarray: ",
        ),
    ]
}

#[test]
fn errors_debug_print_their_message() {
    for (err, start) in errors() {
        let shown = err.to_string();
        assert_eq!(format!("{err:?}"), shown);
        assert!(shown.starts_with(start), "{shown:?} should start with {start:?}");
    }
}

#[test]
fn a_missing_input_is_not_a_type_error() {
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let err = tl::function(&[&x], &[&x + &y]).unwrap_err();
    assert_eq!(
        format!("{err:?}"),
        "function: the graph needs input y (float64[]), which is not in the list of inputs"
    );
    let a = tl::tensor("a", tl::DType::F64, &[Some(3)]);
    let err = tl::function(&[&a], &[a.dot(a.dimshuffle(&[Some(0), None, None]))]).unwrap_err();
    assert!(format!("{err:?}").starts_with("type error: "), "{err:?}");
}

/// The four lines a new user wrote first (#19), each compiling and giving the right value.
#[test]
fn the_first_five_minutes() -> tl::Result<()> {
    // A nested Rust array is a matrix argument.
    let m = tl::dmatrix("m");
    let f = tl::function(&[&m], &[m.sum_axis(1)])?;
    let rows = f.call1([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    assert_eq!(rows.to_vec::<f64>()?, vec![6.0, 15.0]);

    // A 0-d result converts to f64 (fallibly: a wrong dtype or shape is an error, not a panic).
    let x = tl::dscalar("x");
    let y = (&x - 4.0) * (x.pow(2) + 6.0);
    let f = tl::function(&[&x], &[&y])?;
    let v: f64 = f.call1(2.0)?.try_into()?;
    assert_eq!(v, -20.0);

    // One grad: a Var for one variable.
    let gy = tl::grad(&y, &x)?;
    let g = tl::function(&[&x], &[&gy])?;
    let dv: f64 = g.call1(2.0)?.try_into()?;
    assert_eq!(dv, 2.0); // 3x² - 8x + 6 at 2

    // Builders take owned expressions.
    let xv = tl::dvector("x");
    let s = tl::sum(xv.pow(2));
    let f = tl::function(&[&xv], &[&s, &tl::grad(&s, &xv)?])?;
    let out = f.call(&tl::args![[1.0, 2.0, 3.0]])?;
    assert_eq!(f64::try_from(&out[0])?, 14.0);
    assert_eq!(Vec::<f64>::try_from(&out[1])?, vec![2.0, 4.0, 6.0]);

    // Two outputs as an array.
    let [s2, ds] = f.call_n([1.0, 2.0, 3.0])?;
    assert_eq!((f64::try_from(&s2)?, Vec::<f64>::try_from(&ds)?), (14.0, vec![2.0, 4.0, 6.0]));
    Ok(())
}

/// Several inputs as a tuple, of any argument types; the output count checked.
#[test]
fn calls_take_tuples_and_give_arrays() -> tl::Result<()> {
    let (a, b, v) = (tl::dscalar("a"), tl::dscalar("b"), tl::dvector("v"));
    let f = tl::function(&[&a, &b, &v], &[tl::sum(&v * &a) + &b])?;
    let y: f64 = f.call1((2.0, 0.5, [1.0, 2.0]))?.try_into()?;
    assert_eq!(y, 6.5);
    let g = tl::function(&[&a, &b], &[&a * &b, &a - &b])?;
    let [p, d] = g.call_n((3.0, 2.0))?;
    assert_eq!((f64::try_from(&p)?, f64::try_from(&d)?), (6.0, 1.0));
    let err = g.call1((3.0, 2.0)).unwrap_err().to_string();
    assert!(err.contains("exactly one output") && err.contains("has 2"), "{err}");
    assert!(g.call_n::<3>((3.0, 2.0)).is_err());
    // A tuple of the wrong length is the usual argument-count error.
    assert!(g.call1((3.0,)).is_err());
    Ok(())
}

#[test]
fn values_round_trip_through_rust_types() -> tl::Result<()> {
    use tl::ndarray::{array, Array2};
    let m = tl::dmatrix("m");
    let f = tl::function(&[&m], &[m.t()])?;
    let t: Array2<f64> = f.call1(array![[1.0, 2.0], [3.0, 4.0]])?.try_into()?;
    assert_eq!(t, array![[1.0, 3.0], [2.0, 4.0]]);
    let rows: Vec<Vec<f64>> = f.call1([[1.0, 2.0, 3.0]])?.try_into()?;
    assert_eq!(rows, vec![vec![1.0], vec![2.0], vec![3.0]]);
    // ndarray's ShapeError goes through `?` into tl::Error.
    let bad = || -> tl::Result<tl::Tensor> {
        Ok(tl::ndarray::Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0])?.into())
    };
    assert!(matches!(bad(), Err(tl::Error::Value(tl::ValueError::Shape(_)))));
    // A result of the wrong rank for the Rust type is a typed error.
    let err = Vec::<f64>::try_from(f.call1([[1.0]])?).unwrap_err();
    assert_eq!(err, tl::ValueError::Ndim { expected: 1, shape: vec![1, 1] });
    Ok(())
}

#[test]
fn results_debug_print_as_numpy_repr() -> tl::Result<()> {
    let x = tl::dvector("x");
    let f = tl::function(
        &[&x],
        &[x.pow(2), x.sum(), x.astype(tl::DType::I32), x.astype(tl::DType::F32) * 0.8f32],
    )?;
    let out = f.call(&tl::args![[1.0, 2.0]])?;
    let reprs: Vec<String> = out.iter().map(|t| format!("{t:?}")).collect();
    assert_eq!(
        reprs,
        ["array([1., 4.])", "array(3.)", "array([1, 2], dtype=int32)", "array([0.8, 1.6], dtype=float32)"]
    );
    assert_eq!(format!("{:?}", tl::Tensor::from([[true, false]])), "array([[ True, False]])");
    Ok(())
}

#[test]
fn the_prelude_is_enough() -> Result<(), tl::Error> {
    use tl::prelude::*;
    let x = dvector("x");
    let w = shared(vec![0.5, 0.5], "w");
    let cost = sum(&x * &w);
    let gw: Var = grad(&cost, &w)?;
    let gs: Vec<Var> = grad(&cost, &[&x, &w])?;
    let f: Function = function(&[&x], &[&gw, &gs[0]])?;
    let out: Vec<Tensor> = f.call(&args![[3.0, 4.0]])?;
    assert_eq!(Vec::<f64>::try_from(&out[0])?, vec![3.0, 4.0]);
    assert_eq!(Vec::<f64>::try_from(&out[1])?, vec![0.5, 0.5]);
    Ok(())
}

#[test]
fn a_lossy_argument_says_how_to_convert_it() -> tl::Result<()> {
    let v = tl::fvector("v");
    let f = tl::function(&[&v], &[v.exp()])?;
    let err = f.call1(vec![0.1]).unwrap_err();
    assert_eq!(
        format!("{err:?}"),
        "function: argument 0 (v) must be float32: cannot convert float64 data to float32 without loss \
         (cast it explicitly); build the function with .allow_input_downcast(true) to convert it, or pass \
         float32 data (0.1f32, vec![0.1f32])"
    );
    // Both ways it suggests work.
    let g = tl::Function::builder(&[&v], &[&v * 2.0f32]).allow_input_downcast(true).build()?;
    assert_eq!(g.call1(vec![0.1])?.to_vec::<f32>()?, vec![0.2f32]);
    let h = tl::function(&[&v], &[&v * 2.0f32])?;
    assert_eq!(h.call1(vec![0.1f32])?.to_vec::<f32>()?, vec![0.2f32]);
    Ok(())
}

/// #19: a formula from a Theano notebook pastes into Rust: `tl::parse` is the command's
/// expression language, over the variables given (by name), with `?` into `tl::Error`.
#[test]
fn parse_builds_expressions_in_theano_spelling() -> tl::Result<()> {
    let x = tl::dvector("x");
    let w = tl::dmatrix("W");
    let s = tl::parse("1/(1+T.exp(-x))", &[&x])?;
    let y = tl::parse("sum(dot(W, x) ** 2, axis=0) + x.shape[0]", &[&x, &w])?;
    let f = tl::function(&[&x, &w], &[&s, &y])?;
    let outs =
        f.call(&[tl::Tensor::from([0.0, 1.0]).into(), tl::Tensor::from([[1.0, 2.0], [3.0, 4.0]]).into()])?;
    let sig: Vec<f64> = outs[0].to_vec()?;
    assert_eq!(sig[0], 0.5);
    assert!((sig[1] - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
    // dot(W, x) = [2, 4]: 4 + 16 + 2.
    assert_eq!(outs[1].scalar::<f64>()?, 22.0);
    let e = tl::parse("exp(x) +", &[&x]).unwrap_err();
    assert!(e.to_string().contains("syntax error") && e.to_string().contains('^'), "{e}");
    let e = tl::parse("exp(z)", &[&x]).unwrap_err();
    assert!(e.to_string().contains("`z`"), "{e}");
    let e: tl::Error = tl::parse("dot(W, W, W)", &[&w]).unwrap_err().into();
    assert!(!e.to_string().is_empty());
    Ok(())
}
