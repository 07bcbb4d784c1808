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
