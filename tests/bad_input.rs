//! Bad input is a typed error, never a panic.
//!
//! Every test gives the library something wrong — arguments of the wrong number, dtype,
//! rank or shape, graphs that cannot be typed, malformed function definitions, bad shared
//! values — and checks both the error variant (`matches!`) and that its message names what
//! is wrong: the op, the variables, their types or shapes, and for build errors the source
//! file of the offending line. Where the library must not error (IEEE special values), the
//! results are checked instead. A failed call or `set_value` must leave shared state as it
//! was.

use tensorlift as tl;
use tl::{BuildError, BuildErrorKind, DType, Error, Tensor, Var};

/// No inputs, for functions of shared variables only.
const NO_INPUTS: &[&Var] = &[];

/// The build error a `Var` carries; panics if it has none.
#[track_caller]
fn build_err(v: &Var) -> BuildError {
    match v.check() {
        Err(e) => e,
        Ok(()) => panic!("expected a build error, got {v}"),
    }
}

/// Asserts every word occurs in `msg`.
#[track_caller]
fn assert_names(msg: &str, words: &[&str]) {
    for w in words {
        assert!(msg.contains(w), "{w:?} is missing from the message: {msg}");
    }
}

/// Asserts a build error was located in this file, on `line`.
#[track_caller]
fn assert_located(e: &BuildError, line: u32) {
    let loc = e.location.unwrap_or_else(|| panic!("no location: {e}"));
    assert!(loc.file().ends_with("bad_input.rs"), "located in {}: {e}", loc.file());
    assert_eq!(loc.line(), line, "{e}");
    assert!(e.to_string().contains("bad_input.rs"), "{e}");
}

/// `function(inputs, [out])` must fail with `Error::Build` carrying `expected`.
#[track_caller]
fn assert_function_build_error(inputs: &[&Var], out: &Var, expected: &BuildError) {
    match tl::function(inputs, &[out]) {
        Err(Error::Build(e)) => assert_eq!(*e, *expected),
        Err(e) => panic!("expected Error::Build, got {e:?}"),
        Ok(_) => panic!("expected Error::Build, got a function"),
    }
}

fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

// ------------------------------------------------------------------------------------------
// Arguments
// ------------------------------------------------------------------------------------------

#[test]
fn too_few_and_too_many_arguments() {
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let f = tl::Function::builder(&[&x, &y], &[&x + &y]).name("addxy").build().unwrap();
    let err = f.call(&tl::args![1.0]).unwrap_err();
    assert!(matches!(&err, Error::Arity { expected: 2, got: 1, .. }), "{err:?}");
    assert_names(&err.to_string(), &["addxy", "expected 2", "got 1"]);
    let err = f.call(&tl::args![1.0, 2.0, 3.0]).unwrap_err();
    assert!(matches!(&err, Error::Arity { expected: 2, got: 3, .. }), "{err:?}");
    assert_names(&err.to_string(), &["addxy", "expected 2", "got 3"]);
    let err = f.call(&[]).unwrap_err();
    assert!(matches!(&err, Error::Arity { expected: 2, got: 0, .. }), "{err:?}");
    // call1 gives one argument.
    assert!(matches!(f.call1(1.0), Err(Error::Arity { expected: 2, got: 1, .. })));
    // The function still works.
    assert_eq!(f.call(&tl::args![1.0, 2.0]).unwrap()[0].scalar::<f64>().unwrap(), 3.0);
}

#[test]
fn a_fractional_float_into_an_int32_input() {
    let x = tl::ivector("x");
    let f = tl::function(&[&x], &[&x * 2]).unwrap();
    let err = f.call1(vec![1.0, 1.5]).unwrap_err();
    assert!(
        matches!(&err, Error::ArgDType { index: 0, expected: DType::I32, input, .. } if input == "x"),
        "{err:?}"
    );
    assert_names(&err.to_string(), &["argument 0", "(x)", "int32", "float64"]);
    // Even integral floats are refused: float to integer is never implicit.
    assert!(matches!(f.call1(vec![1.0, 2.0]), Err(Error::ArgDType { .. })));
}

#[test]
fn a_float_or_an_integer_into_a_bool_input() {
    let b = tl::bvector("b");
    let f = tl::function(&[&b], &[b.not()]).unwrap();
    let err = f.call1(vec![1.0, 0.0]).unwrap_err();
    assert!(matches!(&err, Error::ArgDType { expected: DType::Bool, .. }), "{err:?}");
    assert_names(&err.to_string(), &["(b)", "bool", "float64"]);
    let err = f.call1(vec![1i64, 0]).unwrap_err();
    assert!(matches!(&err, Error::ArgDType { expected: DType::Bool, .. }), "{err:?}");
    assert_names(&err.to_string(), &["(b)", "bool", "int64"]);
    assert_eq!(f.call1(vec![true, false]).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
}

#[test]
fn a_matrix_into_a_vector_input() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[&x + 1.0]).unwrap();
    let err = f.call1(vec![vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap_err();
    assert!(
        matches!(&err, Error::ArgShape { index: 0, input, got, .. } if input == "x" && got == &[2, 2]),
        "{err:?}"
    );
    assert_names(&err.to_string(), &["(x)", "[2, 2]", "float64[?]"]);
}

#[test]
fn a_scalar_into_a_vector_input_and_a_vector_into_a_scalar_input() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[&x + 1.0]).unwrap();
    let err = f.call1(1.0).unwrap_err();
    assert!(matches!(&err, Error::ArgShape { got, .. } if got.is_empty()), "{err:?}");
    assert_names(&err.to_string(), &["(x)", "[]", "float64[?]"]);
    let s = tl::dscalar("s");
    let g = tl::function(&[&s], &[&s + 1.0]).unwrap();
    let err = g.call1(vec![1.0]).unwrap_err();
    assert!(matches!(&err, Error::ArgShape { got, .. } if got == &[1]), "{err:?}");
    assert_names(&err.to_string(), &["(s)", "[1]", "float64[]"]);
}

#[test]
fn a_length_that_does_not_fit_a_static_shape() {
    let a = tl::tensor("a", DType::F64, &[Some(3)]);
    let f = tl::function(&[&a], &[a.sum()]).unwrap();
    let err = f.call1(vec![1.0, 2.0]).unwrap_err();
    assert!(matches!(&err, Error::ArgShape { got, .. } if got == &[2]), "{err:?}");
    assert_names(&err.to_string(), &["(a)", "[2]", "float64[3]"]);
    assert_eq!(f.call1(vec![1.0, 2.0, 3.0]).unwrap().scalar::<f64>().unwrap(), 6.0);
}

#[test]
fn the_argument_checked_first_is_reported_by_position() {
    let x = tl::dvector("x");
    let y = tl::ivector("y");
    let f = tl::function(&[&x, &y], &[&x + y.cast(DType::F64)]).unwrap();
    let err = f.call(&tl::args![vec![1.0], vec![0.5]]).unwrap_err();
    assert!(matches!(&err, Error::ArgDType { index: 1, input, .. } if input == "y"), "{err:?}");
    assert_names(&err.to_string(), &["argument 1", "(y)"]);
}

#[test]
fn a_ragged_nested_vec_as_an_argument() {
    let m = tl::dmatrix("m");
    let f = tl::function(&[&m], &[m.sum()]).unwrap();
    let err = f.call1(vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0]]).unwrap_err();
    assert!(matches!(&err, Error::ArgData { index: 0, input, .. } if input == "m"), "{err:?}");
    assert_names(&err.to_string(), &["(m)", "ragged", "row 2", "length 1", "expected 2"]);
    let t3 = tl::dtensor3("t");
    let g = tl::function(&[&t3], &[t3.sum()]).unwrap();
    let err = g.call1(vec![vec![vec![1.0, 2.0]], vec![vec![3.0]]]).unwrap_err();
    assert!(matches!(&err, Error::ArgData { .. }), "{err:?}");
    assert_names(&err.to_string(), &["(t)", "ragged", "[1][0]"]);
    // Argument errors are reported before any other argument is looked at.
    let x = tl::dvector("x");
    let h = tl::function(&[&x, &m], &[x.sum() + m.sum()]).unwrap();
    let err = h.call(&tl::args![vec![1.0], vec![vec![1.0], vec![]]]).unwrap_err();
    assert!(matches!(&err, Error::ArgData { index: 1, .. }), "{err:?}");
}

#[test]
fn a_ragged_nested_vec_to_shared_is_an_error_var() {
    let line = line!() + 1;
    let w = tl::shared(vec![vec![1.0, 2.0], vec![3.0]], "w");
    let e = build_err(&w);
    assert!(matches!(&e.kind, BuildErrorKind::Invalid { op, .. } if op == "shared"), "{e:?}");
    assert_names(&e.to_string(), &["shared", "ragged", "row 1"]);
    assert_located(&e, line);
    assert!(w.get_value().is_err());
    assert!(w.set_value(vec![vec![1.0]]).is_err());
    let x = tl::dvector("x");
    assert_function_build_error(&[&x], &(&x + &w), &e);
    let err = tl::Function::builder(&[&x], &[&x]).updates(&[(&w, &w)]).build().unwrap_err();
    assert!(matches!(err, Error::Build(ref b) if **b == e), "{err:?}");
}

// ------------------------------------------------------------------------------------------
// Shapes at run time
// ------------------------------------------------------------------------------------------

#[test]
fn elementwise_shape_mismatch_at_run_time() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = tl::function(&[&x, &y], &[&x + &y]).unwrap();
    let err = f.call(&tl::args![vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0, 4.0]]).unwrap_err();
    match &err {
        Error::Eval { source: tl::ValueError::ShapeMismatch { op, operands }, .. } => {
            assert_eq!(op, "add");
            assert_eq!(operands, &[("x".to_string(), vec![3]), ("y".to_string(), vec![4])]);
        }
        _ => panic!("expected Error::Eval with a shape mismatch, got {err:?}"),
    }
    assert_names(&err.to_string(), &["add", "x has shape [3]", "y has shape [4]", "(x + y)"]);
}

#[test]
fn a_length_one_axis_does_not_broadcast_unless_its_type_says_so() {
    // Theano's rule: only axes whose static length is 1 broadcast.
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = tl::function(&[&x, &y], &[&x * &y]).unwrap();
    let err = f.call(&tl::args![vec![2.0], vec![1.0, 2.0, 3.0]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["mul", "x has shape [1]", "y has shape [3]"]);
    let r = tl::tensor("r", DType::F64, &[Some(1)]);
    let g = tl::function(&[&r, &y], &[&r * &y]).unwrap();
    assert_eq!(f64s(&g.call(&tl::args![vec![2.0], vec![1.0, 2.0, 3.0]]).unwrap()[0]), vec![2.0, 4.0, 6.0]);
}

#[test]
fn a_mismatch_deep_in_an_expression_names_the_failing_node() {
    let x = tl::dmatrix("x");
    let y = tl::dmatrix("y");
    let z = (tl::exp(&x) + 1.0).named("ex1") - y.sum_axis(0).dimshuffle(&[None, Some(0)]);
    let f = tl::function(&[&x, &y], &[z.sum()]).unwrap();
    let err = f.call(&tl::args![vec![vec![1.0, 2.0]], vec![vec![1.0, 2.0, 3.0]]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    // The optimizer may fuse the subtraction into one kernel with `exp(x) + 1` (the message
    // then names that kernel): the shapes of the operands are always named.
    assert_names(&err.to_string(), &["x has shape [1, 2]", "has shape [1, 3]"]);
    // Unoptimized, the failing node is the user's subtraction, and the name given to its
    // operand appears.
    let raw = tl::OptConfig { disabled: true, ..Default::default() };
    let f = tl::Function::builder(&[&x, &y], &[z.sum()]).optimizer(raw).build().unwrap();
    let err = f.call(&tl::args![vec![vec![1.0, 2.0]], vec![vec![1.0, 2.0, 3.0]]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["sub", "ex1 has shape [1, 2]", "has shape [1, 3]"]);
}

#[test]
fn dot_shape_mismatch_at_run_time() {
    let w = tl::dmatrix("W");
    let x = tl::dvector("x");
    let f = tl::function(&[&w, &x], &[tl::dot(&w, &x)]).unwrap();
    let err = f.call(&tl::args![vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]], vec![1.0, 2.0]]).unwrap_err();
    match &err {
        Error::Eval { source: tl::ValueError::ShapeMismatch { op, operands }, .. } => {
            assert_eq!(op, "dot");
            assert_eq!(operands, &[("W".to_string(), vec![2, 3]), ("x".to_string(), vec![2])]);
        }
        _ => panic!("expected Error::Eval with a shape mismatch, got {err:?}"),
    }
    assert_names(&err.to_string(), &["dot", "W has shape [2, 3]", "x has shape [2]"]);
    // Matrix-matrix too.
    let a = tl::dmatrix("A");
    let b = tl::dmatrix("B");
    let g = tl::function(&[&a, &b], &[a.dot(&b)]).unwrap();
    let err = g.call(&tl::args![vec![vec![1.0, 2.0]], vec![vec![1.0, 2.0]]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["dot", "A has shape [1, 2]", "B has shape [1, 2]"]);
}

#[test]
fn index_out_of_bounds_at_run_time() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.index(5)]).unwrap();
    let err = f.call1(vec![1.0, 2.0, 3.0]).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Eval { source: tl::ValueError::IndexOutOfBounds { index: 5, axis: 0, size: 3 }, .. }
        ),
        "{err:?}"
    );
    assert_names(&err.to_string(), &["index 5", "size 3", "x[5]"]);
    assert_eq!(f.call1(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap().scalar::<f64>().unwrap(), 5.0);
    // Negative and symbolic positions.
    let g = tl::function(&[&x], &[x.index(-4)]).unwrap();
    assert!(matches!(g.call1(vec![1.0, 2.0, 3.0]), Err(Error::Eval { .. })));
    let i = tl::lscalar("i");
    let h = tl::function(&[&x, &i], &[x.index(&i)]).unwrap();
    let err = h.call(&tl::args![vec![1.0, 2.0], 2i64]).unwrap_err();
    assert!(matches!(&err, Error::Eval { source: tl::ValueError::IndexOutOfBounds { .. }, .. }), "{err:?}");
    assert_names(&err.to_string(), &["index 2", "size 2", "x[i]"]);
    assert_eq!(h.call(&tl::args![vec![1.0, 2.0], -1i64]).unwrap()[0].scalar::<f64>().unwrap(), 2.0);
}

#[test]
fn index_out_of_bounds_of_a_static_length_at_build_time() {
    let a = tl::tensor("a", DType::F64, &[Some(3)]);
    let line = line!() + 1;
    let v = a.index(3);
    let e = build_err(&v);
    assert_names(&e.to_string(), &["subtensor", "index 3", "a (float64[3])"]);
    assert_located(&e, line);
}

#[test]
fn a_float_index_is_a_build_error() {
    let x = tl::dvector("x");
    let i = tl::fscalar("i");
    let line = line!() + 1;
    let v = x.index(&i);
    let e = build_err(&v);
    assert!(
        matches!(&e.kind, BuildErrorKind::DType { op, operand, .. } if op == "subtensor" && operand.name == "i"),
        "{e:?}"
    );
    assert_names(&e.to_string(), &["subtensor", "i (float32[])", "integer"]);
    assert_located(&e, line);
    // A float index array too (an integer one is advanced indexing).
    let fv = tl::dvector("fv");
    assert_names(
        &build_err(&x.index(&fv)).to_string(),
        &["fv (float64[?])", "integer or boolean index array"],
    );
    // Too many indices.
    assert_names(&build_err(&x.get(tl::idx![0, 0])).to_string(), &["subtensor", "2 indices", "rank 1"]);
    // A zero step.
    assert_names(&build_err(&x.slice(None, None, 0)).to_string(), &["step"]);
}

// ------------------------------------------------------------------------------------------
// Types at build time
// ------------------------------------------------------------------------------------------

#[test]
fn static_shape_mismatch_is_a_build_error_located_at_its_line() {
    let a = tl::tensor("a", DType::F64, &[Some(3)]);
    let b = tl::tensor("b", DType::F64, &[Some(4)]);
    let line = line!() + 1;
    let c = &a + &b;
    let e = build_err(&c);
    match &e.kind {
        BuildErrorKind::ShapeMismatch { op, operands } => {
            assert_eq!(op, "add");
            assert_eq!(operands.len(), 2);
            assert_eq!(operands[0].name, "a");
            assert_eq!(operands[1].name, "b");
        }
        k => panic!("expected a shape mismatch, got {k:?}"),
    }
    assert_names(&e.to_string(), &["add", "a (float64[3])", "b (float64[4])"]);
    assert_located(&e, line);
    // `function` reports it.
    assert_function_build_error(&[&a, &b], &c, &e);
    let err = tl::function(&[&a, &b], &[&c]).unwrap_err();
    assert_names(&err.to_string(), &["type error", "add", "a (float64[3])", "bad_input.rs"]);
    // So do `checked`, Display and Debug.
    assert_eq!(c.clone().checked().unwrap_err(), e);
    assert!(c.to_string().contains("error"), "{c}");
    assert!(format!("{c:?}").contains("error"), "{c:?}");
}

#[test]
fn expressions_built_from_an_error_carry_the_same_error() {
    let a = tl::tensor("a", DType::F64, &[Some(3)]);
    let b = tl::tensor("b", DType::F64, &[Some(4)]);
    let c = &a + &b;
    let e = build_err(&c);
    let x = tl::dvector("x");
    let m = tl::dmatrix("m");
    let derived: Vec<(&str, Var)> = vec![
        ("exp", c.exp()),
        ("mul", &c * 2.0),
        ("rmul", 2.0 * &c),
        ("add var", &x + &c),
        ("neg", -&c),
        ("pow", c.pow(2)),
        ("sum", c.sum()),
        ("sum_axis", c.sum_axis(0)),
        ("mean_opts", c.mean_opts(tl::Axes::All, true)),
        ("argmax", c.argmax()),
        ("dot", tl::dot(&c, &x)),
        ("dot rhs", tl::dot(&m, &c)),
        ("index", c.index(0)),
        ("get", c.get(tl::idx![1..2])),
        ("t", c.t()),
        ("dimshuffle", c.dimshuffle(&[None])),
        ("reshape", c.reshape(&[3])),
        ("flatten(1)", c.flatten(1)),
        ("concatenate", tl::concatenate(&[x.clone(), c.clone()], 0)),
        ("concatenate first", tl::concatenate(&[c.clone(), x.clone()], 0)),
        ("stack", tl::stack(&[c.clone(), x.clone()], 0)),
        ("switch", tl::switch(x.gt(0.0), &c, 0.0)),
        ("clip", c.clip(0.0, 1.0)),
        ("cast", c.cast(DType::F32)),
        ("outer", tl::outer(&c, &x)),
        ("set_subtensor", tl::set_subtensor(&c, tl::idx![0], 1.0)),
        ("inc_subtensor value", tl::inc_subtensor(&x, tl::idx![0], &c)),
        ("logsumexp", tl::logsumexp(&c, tl::Axes::All, false)),
        ("named", c.named("c")),
        ("maximum", tl::maximum(&x, &c)),
    ];
    for (what, v) in &derived {
        match v.check() {
            Err(got) => assert_eq!(got, e, "{what}"),
            Ok(()) => panic!("{what}: no error"),
        }
    }
    let err = tl::function(&[&a, &b, &x], &[&derived[0].1]).unwrap_err();
    assert!(matches!(&err, Error::Build(got) if **got == e), "{err:?}");
}

#[test]
fn softmax_of_an_error_carries_the_same_error() {
    let a = tl::tensor("a", DType::F64, &[Some(3)]);
    let b = tl::tensor("b", DType::F64, &[Some(4)]);
    let c = &a + &b;
    let e = build_err(&c);
    assert_eq!(build_err(&tl::softmax(&c, -1)), e);
    assert_eq!(build_err(&tl::log_softmax(&c, -1)), e);
}

#[test]
fn shape_methods_of_an_error_carry_the_same_error() {
    let a = tl::tensor("a", DType::F64, &[Some(3)]);
    let b = tl::tensor("b", DType::F64, &[Some(4)]);
    let c = (&a + &b).dimshuffle(&[Some(0), None]);
    let e = build_err(&c);
    let derived = [
        ("transpose", c.transpose(&[1, 0])),
        ("flatten", c.flatten(2)),
        ("t", c.t()),
        ("reshape", c.reshape(&[1, 3])),
    ];
    let wrong: Vec<String> = derived
        .iter()
        .filter(|(_, v)| v.check().err().as_ref() != Some(&e))
        .map(|(what, v)| format!("{what}: {}", build_err(v)))
        .collect();
    assert!(wrong.is_empty(), "expected {e}, got {wrong:#?}");
}

#[test]
fn dot_of_incompatible_static_shapes_is_a_build_error() {
    let w = tl::tensor("W", DType::F64, &[Some(2), Some(3)]);
    let x = tl::tensor("x", DType::F64, &[Some(4)]);
    let line = line!() + 1;
    let y = tl::dot(&w, &x);
    let e = build_err(&y);
    assert!(matches!(&e.kind, BuildErrorKind::ShapeMismatch { op, .. } if op == "dot"), "{e:?}");
    assert_names(&e.to_string(), &["dot", "W (float64[2,3])", "x (float64[4])"]);
    assert_located(&e, line);
    assert_function_build_error(&[&w, &x], &y, &e);
    // Through the method too.
    let line = line!() + 1;
    let y2 = w.dot(&w);
    let e2 = build_err(&y2);
    assert_names(&e2.to_string(), &["dot", "W (float64[2,3])"]);
    assert_located(&e2, line);
}

#[test]
fn dot_of_nd_tensors_that_do_not_fit_is_a_build_error() {
    // N-d `dot` sums the last axis of `t` against the only one of `x`: 4 against 5.
    let t = tl::tensor("t", tl::DType::F64, &[Some(2), Some(3), Some(4)]);
    let x = tl::tensor("x", tl::DType::F64, &[Some(5)]);
    let line = line!() + 1;
    let y = tl::dot(&t, &x);
    let e = build_err(&y);
    assert!(matches!(&e.kind, BuildErrorKind::ShapeMismatch { op, .. } if op == "dot"), "{e:?}");
    assert_names(&e.to_string(), &["dot", "t (float64[2,3,4])", "x (float64[5])"]);
    assert_located(&e, line);
    assert_names(&build_err(&tl::tensordot(&t, &x, &[2], &[0])).to_string(), &["tensordot", "t", "x"]);
}

#[test]
fn logic_ops_on_floats_are_build_errors() {
    // `and`, `or`, `not` need bool or integer operands; so does the condition of `switch`.
    let b = tl::bvector("b");
    let x = tl::dvector("x");
    let line = line!() + 1;
    let cases = [("and", b.and(&x)), ("or", b.or(1.5)), ("switch", tl::switch(&x, &b, &b)), ("not", x.not())];
    for (op, v) in &cases {
        let e = build_err(v);
        assert!(matches!(&e.kind, BuildErrorKind::Invalid { op: o, .. } if o == op), "{e:?}");
        assert_names(&e.to_string(), &[op, "bool or integer"]);
        assert_located(&e, line);
    }
    // On bools and integers they are fine.
    let i = tl::lvector("i");
    assert!(b.and(&i).check().is_ok() && b.not().check().is_ok() && tl::switch(&i, &x, 0.0).check().is_ok());
}

#[test]
fn reductions_with_an_axis_out_of_range() {
    let m = tl::dmatrix("m");
    let line = line!() + 1;
    let s = m.sum_axis(2);
    let e = build_err(&s);
    assert!(
        matches!(&e.kind, BuildErrorKind::Axis { op, axis: 2, operand } if op == "sum" && operand.name == "m"),
        "{e:?}"
    );
    assert_names(&e.to_string(), &["sum", "axis 2", "m (float64[?,?])"]);
    assert_located(&e, line);
    assert_names(&build_err(&m.max_axis(-3)).to_string(), &["max", "axis -3", "m"]);
    assert_names(&build_err(&m.mean_axis([0, 5])).to_string(), &["mean", "axis 5"]);
    assert_names(&build_err(&m.argmax_axis(9)).to_string(), &["argmax", "axis 9"]);
    assert_names(&build_err(&m.sum_axis([0, 0])).to_string(), &["sum", "repeated"]);
    assert_names(&build_err(&m.sum_axis([1, -1])).to_string(), &["sum", "repeated"]);
    assert_names(&build_err(&tl::softmax(&m, 2)).to_string(), &["softmax", "axis 2", "m"]);
    assert_names(&build_err(&tl::logsumexp(&m, 3, false)).to_string(), &["logsumexp", "axis 3"]);
    let s = tl::dscalar("s");
    assert_names(&build_err(&s.sum_axis(0)).to_string(), &["sum", "axis 0", "s (float64[])"]);
}

#[test]
fn reshape_to_an_impossible_static_size() {
    let a = tl::tensor("a", DType::F64, &[Some(2), Some(3)]);
    let line = line!() + 1;
    let r = a.reshape(&[4, 2]);
    let e = build_err(&r);
    assert!(matches!(&e.kind, BuildErrorKind::Invalid { op, .. } if op == "reshape"), "{e:?}");
    assert_names(&e.to_string(), &["reshape", "a (float64[2,3])"]);
    assert_located(&e, line);
    assert_names(&build_err(&a.reshape(&[4, -1])).to_string(), &["reshape", "a"]);
    assert_names(&build_err(&a.reshape(&[-1, -1])).to_string(), &["reshape", "one"]);
    assert_names(&build_err(&a.reshape(&[-3, 2])).to_string(), &["reshape", "-3"]);
    assert!(a.reshape(&[3, 2]).check().is_ok());
    assert!(a.reshape(&[-1]).check().is_ok());
}

#[test]
fn reshape_to_an_impossible_size_at_run_time() {
    let m = tl::dmatrix("m");
    let f = tl::function(&[&m], &[m.reshape(&[4, -1])]).unwrap();
    let err = f.call1(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["reshape"]);
    let g = tl::function(&[&m], &[m.reshape(&[5])]).unwrap();
    let err = g.call1(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["reshape"]);
}

#[test]
fn concatenate_of_mismatched_shapes() {
    let a = tl::tensor("a", DType::F64, &[Some(2), Some(3)]);
    let b = tl::tensor("b", DType::F64, &[Some(2), Some(4)]);
    let line = line!() + 1;
    let j = tl::concatenate(&[a.clone(), b.clone()], 0);
    let e = build_err(&j);
    assert!(matches!(&e.kind, BuildErrorKind::ShapeMismatch { op, .. } if op == "concatenate"), "{e:?}");
    assert_names(&e.to_string(), &["concatenate", "a (float64[2,3])", "b (float64[2,4])"]);
    assert_located(&e, line);
    // Along axis 1 they fit.
    assert_eq!(tl::concatenate(&[a.clone(), b.clone()], 1).ty().shape, vec![Some(2), Some(7)]);
    // Ranks that differ, an axis out of range, nothing to join.
    let v = tl::dvector("v");
    assert_names(
        &build_err(&tl::concatenate(&[a.clone(), v.clone()], 0)).to_string(),
        &["concatenate", "v", "rank 1"],
    );
    assert_names(
        &build_err(&tl::concatenate(&[a.clone(), b.clone()], 2)).to_string(),
        &["concatenate", "axis 2"],
    );
    assert_names(&build_err(&tl::concatenate::<tl::Var>(&[], 0)).to_string(), &["concatenate"]);
    assert_names(&build_err(&tl::stack(&[a.clone(), b.clone()], 0)).to_string(), &["concatenate"]);
    assert_names(&build_err(&tl::stack(&[a, v], 5)).to_string(), &["stack", "axis 5"]);
}

#[test]
fn concatenate_of_mismatched_shapes_at_run_time() {
    let a = tl::dmatrix("a");
    let b = tl::dmatrix("b");
    let f = tl::function(&[&a, &b], &[tl::concatenate(&[a.clone(), b.clone()], 0)]).unwrap();
    let err = f.call(&tl::args![vec![vec![1.0, 2.0]], vec![vec![1.0, 2.0, 3.0]]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["concatenate", "a", "b", "[1, 2]", "[1, 3]"]);
}

#[test]
fn dimshuffle_dropping_a_non_broadcastable_axis() {
    let m = tl::dmatrix("m");
    let line = line!() + 1;
    let d = m.dimshuffle(&[Some(0)]);
    let e = build_err(&d);
    assert!(matches!(&e.kind, BuildErrorKind::Invalid { op, .. } if op == "dimshuffle"), "{e:?}");
    assert_names(&e.to_string(), &["dimshuffle", "axis 1", "m (float64[?,?])", "broadcastable"]);
    assert_located(&e, line);
    // A broadcastable axis can be dropped.
    let c = tl::col("c");
    assert!(c.dimshuffle(&[Some(0)]).check().is_ok());
    // An axis that does not exist, an axis twice, a bad pattern, a bad transpose.
    assert_names(&build_err(&m.dimshuffle(&[Some(0), Some(2)])).to_string(), &["dimshuffle", "axis 2"]);
    assert_names(&build_err(&m.dimshuffle(&[Some(0), Some(0)])).to_string(), &["dimshuffle", "axis 0"]);
    assert_names(&build_err(&m.dimshuffle_pattern("0,y")).to_string(), &["dimshuffle", "\"y\""]);
    assert_names(&build_err(&m.transpose(&[0])).to_string(), &["transpose", "rank 2"]);
    assert_names(&build_err(&m.flatten(3)).to_string(), &["flatten", "rank 2"]);
}

// ------------------------------------------------------------------------------------------
// IEEE special values are values, not errors
// ------------------------------------------------------------------------------------------

#[test]
fn nan_and_infinities_flow_through_arithmetic() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = tl::function(&[&x, &y], &[tl::exp(&x), &x - &y, 1.0 / &x, &x * &y, tl::log(&x)]).unwrap();
    let inf = f64::INFINITY;
    let out =
        f.call(&tl::args![vec![inf, -inf, 0.0, f64::NAN, -1.0], vec![inf, -inf, 0.0, 1.0, inf]]).unwrap();
    let exp = f64s(&out[0]);
    assert_eq!(exp[0], inf, "exp(inf)");
    assert_eq!(exp[1], 0.0, "exp(-inf)");
    assert!(exp[3].is_nan(), "exp(nan)");
    let sub = f64s(&out[1]);
    assert!(sub[0].is_nan(), "inf - inf");
    assert!(sub[1].is_nan(), "-inf - -inf");
    assert!(sub[3].is_nan(), "nan - 1");
    assert_eq!(sub[4], -inf, "-1 - inf");
    let div = f64s(&out[2]);
    assert_eq!(div[0], 0.0, "1/inf");
    assert_eq!(div[2], inf, "1/0");
    assert!(div[1] == 0.0 && div[1].is_sign_negative(), "1/-inf is -0");
    let mul = f64s(&out[3]);
    assert!(mul[2] == 0.0);
    assert_eq!(mul[0], inf, "inf * inf");
    let log = f64s(&out[4]);
    assert_eq!(log[2], -inf, "log(0)");
    assert!(log[4].is_nan(), "log(-1)");
    assert_eq!(log[0], inf, "log(inf)");
    // 1/-0 is -inf; 0/0 is NaN.
    let z = tl::dscalar("z");
    let g = tl::function(&[&z], &[1.0 / &z, &z / &z]).unwrap();
    let out = g.call(&tl::args![-0.0]).unwrap();
    assert_eq!(out[0].scalar::<f64>().unwrap(), -inf);
    assert!(out[1].scalar::<f64>().unwrap().is_nan(), "0/0");
}

#[test]
fn nan_and_infinities_through_reductions() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.sum(), x.max(), x.min(), x.mean()]).unwrap();
    let out = f.call(&tl::args![vec![1.0, f64::NAN, 3.0]]).unwrap();
    for (k, t) in out.iter().enumerate() {
        assert!(t.scalar::<f64>().unwrap().is_nan(), "reduction {k} of a NaN");
    }
    let out = f.call(&tl::args![vec![1.0, f64::INFINITY, -f64::INFINITY]]).unwrap();
    assert!(out[0].scalar::<f64>().unwrap().is_nan(), "inf + -inf");
    assert_eq!(out[1].scalar::<f64>().unwrap(), f64::INFINITY);
    assert_eq!(out[2].scalar::<f64>().unwrap(), -f64::INFINITY);
}

#[test]
fn integer_division_by_zero_is_not_a_panic() {
    // True division of integers gives floats, so 1/0 is inf.
    let i = tl::lvector("i");
    let f = tl::function(&[&i], &[1 / &i]).unwrap();
    let out = f.call1(vec![0i64, 2]).unwrap();
    assert_eq!(out.to_f64_vec(), vec![f64::INFINITY, 0.5]);
}

// ------------------------------------------------------------------------------------------
// Shared variables
// ------------------------------------------------------------------------------------------

#[test]
fn set_value_with_a_wrong_rank_or_dtype_keeps_the_old_value() {
    let w = tl::shared(vec![1.0, 2.0], "w");
    let err = w.set_value(3.0).unwrap_err();
    assert_names(&err.to_string(), &["set_value", "[]", "float64[?]"]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0]);
    let err = w.set_value(vec![vec![1.0, 2.0]]).unwrap_err();
    assert_names(&err.to_string(), &["[1, 2]", "float64[?]"]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0]);
    let err = w.set_value(vec![1i32, 2]).unwrap_err();
    assert!(matches!(err, tl::ValueError::DType { expected: DType::F64, got: DType::I32 }), "{err:?}");
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0]);
    let err = w.set_value(vec![1.0f32, 2.0]).unwrap_err();
    assert!(matches!(err, tl::ValueError::DType { .. }), "{err:?}");
    let err = w.set_value(vec![vec![1.0, 2.0], vec![3.0]]).unwrap_err();
    assert!(matches!(err, tl::ValueError::Ragged { .. }), "{err:?}");
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0]);
    // A good value is accepted, of any length.
    w.set_value(vec![5.0]).unwrap();
    assert_eq!(f64s(&w.get_value().unwrap()), vec![5.0]);
}

#[test]
fn get_and_set_value_of_a_variable_that_is_not_shared() {
    let x = tl::dvector("x");
    assert_names(&x.get_value().unwrap_err().to_string(), &["get_value", "x", "not a shared variable"]);
    assert_names(
        &x.set_value(vec![1.0]).unwrap_err().to_string(),
        &["set_value", "x", "not a shared variable"],
    );
    let y = &x + 1.0;
    assert!(y.get_value().is_err());
}

#[test]
fn a_shared_variable_with_a_static_shape_refuses_other_lengths() {
    let ty = tl::TensorType::new(DType::F64, vec![Some(2)]);
    let w = tl::shared_with_type(vec![1.0, 2.0], "w", ty.clone()).unwrap();
    assert!(w.set_value(vec![1.0, 2.0, 3.0]).is_err());
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0]);
    let err = tl::shared_with_type(vec![1.0], "v", ty).unwrap_err();
    assert_names(&err.to_string(), &["[1]", "float64[2]"]);
}

#[test]
fn updating_a_variable_that_is_not_shared() {
    let x = tl::dvector("x");
    let err = tl::Function::builder(&[&x], &[&x]).updates(&[(&x, &x + 1.0)]).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["updates", "x", "not a shared variable"]);
    let c = tl::constant(1.0);
    let err = tl::Function::builder(&[&x], &[&x]).update(&c, &(&c + 1.0)).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    let y = &x * 2.0;
    let err = tl::Function::builder(&[&x], &[&y]).update(&y, &x).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
}

#[test]
fn two_updates_of_the_same_shared_variable() {
    let w = tl::shared(1.0, "w");
    let err = tl::Function::builder(NO_INPUTS, &[&w])
        .updates(&[(&w, &w + 1.0), (&w, &w * 2.0)])
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["updates", "w", "twice"]);
    // Even through two handles of the same variable.
    let w2 = w.clone();
    let err =
        tl::Function::builder(NO_INPUTS, &[&w]).update(&w, &(&w + 1.0)).update(&w2, &w2).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_eq!(w.get_value().unwrap().scalar::<f64>().unwrap(), 1.0);
}

#[test]
fn an_update_of_the_wrong_type() {
    let w = tl::shared(vec![1.0, 2.0], "w");
    let err = tl::Function::builder(NO_INPUTS, &[&w]).update(&w, &w.cast(DType::I32)).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["updates", "w", "int32[?]", "float64[?]"]);
    let err = tl::Function::builder(NO_INPUTS, &[&w]).update(&w, &w.cast(DType::F32)).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["float32", "float64"]);
    // Wrong rank.
    let err = tl::Function::builder(NO_INPUTS, &[&w]).update(&w, &w.sum()).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["w", "float64[]", "float64[?]"]);
    // An integer variable updated by float arithmetic: refused, cast explicitly.
    let n = tl::shared(0i64, "n");
    let err = tl::Function::builder(NO_INPUTS, &[&n]).update(&n, &(&n + 0.5)).build().unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["n", "int64", "float64"]);
    // A static length that does not fit.
    let ty = tl::TensorType::new(DType::F64, vec![Some(2)]);
    let s = tl::shared_with_type(vec![1.0, 2.0], "s", ty).unwrap();
    let err = tl::Function::builder(NO_INPUTS, &[&s])
        .update(&s, &tl::concatenate(&[s.clone(), s.clone()], 0))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["s", "float64[4]", "float64[2]"]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0]);
}

#[test]
fn a_failed_call_leaves_shared_variables_unchanged() {
    let w = tl::shared(vec![1.0, 2.0, 3.0], "w");
    let count = tl::shared(0i64, "count");
    let x = tl::dvector("x");
    let y = &w + &x;
    let f =
        tl::Function::builder(&[&x], &[&y]).updates(&[(&w, &w * 2.0), (&count, &count + 1)]).build().unwrap();
    let err = f.call1(vec![1.0, 2.0]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["add", "w has shape [3]", "x has shape [2]"]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0, 3.0]);
    assert_eq!(count.get_value().unwrap().scalar::<i64>().unwrap(), 0);
    // An argument error changes nothing either.
    assert!(matches!(f.call1(vec![(1i64 << 53) + 1, 0, 0]), Err(Error::ArgDType { .. })));
    assert!(matches!(f.call(&[]), Err(Error::Arity { .. })));
    assert_eq!(f64s(&w.get_value().unwrap()), vec![1.0, 2.0, 3.0]);
    assert_eq!(count.get_value().unwrap().scalar::<i64>().unwrap(), 0);
    // A good call updates both.
    assert_eq!(f64s(&f.call1(vec![1.0, 1.0, 1.0]).unwrap()), vec![2.0, 3.0, 4.0]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![2.0, 4.0, 6.0]);
    assert_eq!(count.get_value().unwrap().scalar::<i64>().unwrap(), 1);
}

#[test]
fn a_failed_update_value_leaves_every_shared_variable_unchanged() {
    // The new value of `s` is checked against its static length only at run time; the
    // other update, listed first, must not be written either.
    let count = tl::shared(0i64, "count");
    let s =
        tl::shared_with_type(vec![1.0, 2.0], "s", tl::TensorType::new(DType::F64, vec![Some(2)])).unwrap();
    let x = tl::dvector("x");
    let f = tl::Function::builder(&[&x], &[x.sum()])
        .updates(&[(&count, &count + 1)])
        .update(&s, &x)
        .build()
        .unwrap();
    let err = f.call1(vec![1.0, 2.0, 3.0]).unwrap_err();
    assert!(matches!(&err, Error::Update(_)), "{err:?}");
    assert_names(&err.to_string(), &["s", "[3]", "float64[2]"]);
    assert_eq!(count.get_value().unwrap().scalar::<i64>().unwrap(), 0);
    assert_eq!(f64s(&s.get_value().unwrap()), vec![1.0, 2.0]);
    f.call1(vec![7.0, 8.0]).unwrap();
    assert_eq!(count.get_value().unwrap().scalar::<i64>().unwrap(), 1);
    assert_eq!(f64s(&s.get_value().unwrap()), vec![7.0, 8.0]);
}

// ------------------------------------------------------------------------------------------
// Function definitions
// ------------------------------------------------------------------------------------------

#[test]
fn an_unused_input() {
    let x = tl::dvector("x");
    let unused = tl::dscalar("unused");
    let err = tl::function(&[&x, &unused], &[&x * 2.0]).unwrap_err();
    assert!(matches!(&err, Error::UnusedInput(name) if name == "unused"), "{err:?}");
    assert_names(&err.to_string(), &["unused", "OnUnusedInput::Ignore"]);
    let f = tl::Function::builder(&[&x, &unused], &[&x * 2.0])
        .on_unused_input(tl::OnUnusedInput::Ignore)
        .build()
        .unwrap();
    let out = f.call(&tl::args![vec![1.0, 2.0], 5.0]).unwrap();
    assert_eq!(f64s(&out[0]), vec![2.0, 4.0]);
    // The ignored input is still an argument, checked like the others.
    assert!(matches!(f.call(&tl::args![vec![1.0]]), Err(Error::Arity { expected: 2, got: 1, .. })));
    assert!(matches!(f.call(&tl::args![vec![1.0], vec![5.0]]), Err(Error::ArgShape { index: 1, .. })));
}

#[test]
fn an_input_used_only_by_an_update_is_used() {
    let w = tl::shared(0.0, "w");
    let x = tl::dscalar("x");
    let f = tl::Function::builder(&[&x], NO_INPUTS).update(&w, &(&w + &x)).build().unwrap();
    // call1 needs exactly one output, and refuses before running anything.
    assert!(matches!(f.call1(2.5), Err(Error::Usage(_))));
    assert_eq!(w.get_value().unwrap().scalar::<f64>().unwrap(), 0.0);
    f.call(&tl::args![2.5]).unwrap();
    assert_eq!(w.get_value().unwrap().scalar::<f64>().unwrap(), 2.5);
}

#[test]
fn an_input_replaced_by_givens_is_unused() {
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let err = tl::Function::builder(&[&x, &y], &[&x + 1.0]).givens(&[(&x, &y)]).build().unwrap_err();
    assert!(matches!(&err, Error::UnusedInput(name) if name == "x"), "{err:?}");
}

#[test]
fn a_missing_input() {
    let x = tl::dvector("x");
    let y = tl::dvector("needed_y");
    let err = tl::function(&[&x], &[&x + &y]).unwrap_err();
    assert!(matches!(&err, Error::Build(_) | Error::Graph(_)), "{err:?}");
    assert_names(&err.to_string(), &["needed_y", "float64[?]", "not in the list of inputs"]);
    // No inputs at all.
    let err = tl::function(NO_INPUTS, &[&y]).unwrap_err();
    assert_names(&err.to_string(), &["needed_y"]);
    // Missing from an update.
    let w = tl::shared(vec![0.0], "w");
    let err = tl::Function::builder(NO_INPUTS, NO_INPUTS).update(&w, &(&w + &y)).build().unwrap_err();
    assert_names(&err.to_string(), &["needed_y"]);
}

#[test]
fn an_input_listed_twice() {
    let x = tl::dvector("x");
    let err = tl::function(&[&x, &x], &[&x * 2.0]).unwrap_err();
    assert!(matches!(&err, Error::Build(_) | Error::Graph(_)), "{err:?}");
    assert_names(&err.to_string(), &["x", "twice"]);
    let x2 = x.clone();
    let err = tl::function(&[&x, &x2], &[&x * 2.0]).unwrap_err();
    assert_names(&err.to_string(), &["x", "twice"]);
    // Two distinct inputs with the same name are two inputs.
    let other_x = tl::dvector("x");
    let f = tl::function(&[&x, &other_x], &[&x - &other_x]).unwrap();
    assert_eq!(f64s(&f.call(&tl::args![vec![3.0], vec![1.0]]).unwrap()[0]), vec![2.0]);
}

#[test]
fn an_expression_listed_as_an_input() {
    let x = tl::dvector("x");
    let y = (&x + 1.0).named("y");
    let err = tl::function(&[&y], &[&y * 2.0]).unwrap_err();
    assert!(matches!(&err, Error::Build(_) | Error::Graph(_)), "{err:?}");
    assert_names(&err.to_string(), &["y", "not an input variable"]);
    // Shared variables and constants are not inputs either.
    let w = tl::shared(1.0, "w");
    let err = tl::function(&[&w], &[&w * 2.0]).unwrap_err();
    assert_names(&err.to_string(), &["w", "not an input variable"]);
    let c = tl::constant(2.0);
    let err = tl::function(&[&c], &[&c * 2.0]).unwrap_err();
    assert_names(&err.to_string(), &["constant 2", "not an input variable"]);
}

#[test]
fn call1_on_a_two_output_function() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.sum(), x.max()]).unwrap();
    let err = f.call1(vec![1.0]).unwrap_err();
    assert!(matches!(&err, Error::Usage(_)), "{err:?}");
    assert_names(&err.to_string(), &["call1", "one output", "2"]);
}

#[test]
fn leaves_cannot_be_renamed() {
    let x = tl::dvector("x");
    let line = line!() + 1;
    let r = x.named("z");
    let e = build_err(&r);
    assert_names(&e.to_string(), &["named"]);
    assert_located(&e, line);
}

#[test]
fn error_messages_of_every_variant_are_nonempty() {
    // Errors are `std::error::Error`s with a source where one exists.
    let x = tl::fvector("x");
    let f = tl::function(&[&x], &[&x + 1.0]).unwrap();
    let err = f.call1(vec![0.1]).unwrap_err();
    let source = std::error::Error::source(&err).expect("a source");
    assert_names(&source.to_string(), &["float64", "float32", "without loss"]);
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(!boxed.to_string().is_empty());
}

// ------------------------------------------------------------------------------------------
// Edge values of shapes and positions
// ------------------------------------------------------------------------------------------

#[test]
fn reductions_of_an_empty_vector() {
    let x = tl::dvector("x");
    let empty = || Vec::<f64>::new();
    let eval = |y: &Var| tl::function(&[&x], &[y]).unwrap().call1(empty());
    assert_eq!(eval(&x.sum()).unwrap().scalar::<f64>().unwrap(), 0.0);
    assert_eq!(eval(&x.prod()).unwrap().scalar::<f64>().unwrap(), 1.0);
    assert!(eval(&x.mean()).unwrap().scalar::<f64>().unwrap().is_nan());
    assert_eq!(
        eval(&tl::logsumexp(&x, tl::Axes::All, false)).unwrap().scalar::<f64>().unwrap(),
        -f64::INFINITY
    );
    assert!(eval(&tl::softmax(&x, 0)).unwrap().is_empty());
    // No identity: an error naming the op, as in NumPy.
    for (op, y) in [("max", x.max()), ("min", x.min()), ("argmax", x.argmax()), ("argmin", x.argmin())] {
        let err = eval(&y).unwrap_err();
        assert!(matches!(&err, Error::Eval { .. }), "{op}: {err:?}");
        let msg = err.to_string();
        assert_names(&msg, &[op]);
        assert!(msg.contains("zero-size") || msg.contains("empty"), "{msg}");
    }
}

#[test]
fn extreme_slice_bounds_and_steps_follow_numpy() {
    let x = tl::dvector("x");
    type Case = (Option<isize>, Option<isize>, isize, Vec<f64>);
    let cases: [Case; 6] = [
        (Some(isize::MIN), Some(isize::MAX), 1, vec![1.0, 2.0, 3.0]),
        (None, None, isize::MIN, vec![3.0]),
        (None, None, isize::MAX, vec![1.0]),
        (Some(isize::MAX), Some(isize::MIN), -1, vec![3.0, 2.0, 1.0]),
        (Some(5), Some(9), 1, vec![]),
        (Some(-1), None, isize::MIN + 1, vec![3.0]),
    ];
    for (start, stop, step, expected) in cases {
        let f = tl::function(&[&x], &[x.slice(start, stop, step)]).unwrap();
        let got = f64s(&f.call1(vec![1.0, 2.0, 3.0]).unwrap());
        assert_eq!(got, expected, "x[{start:?}:{stop:?}:{step}]");
    }
}

#[test]
fn extreme_symbolic_indices_are_out_of_bounds() {
    let x = tl::dvector("x");
    let i = tl::lscalar("i");
    let f = tl::function(&[&x, &i], &[x.index(&i)]).unwrap();
    for v in [i64::MIN, i64::MAX, -4, 3] {
        let err = f.call(&tl::args![vec![1.0, 2.0, 3.0], v]).unwrap_err();
        assert!(
            matches!(&err, Error::Eval { source: tl::ValueError::IndexOutOfBounds { index, .. }, .. } if *index == v),
            "{v}: {err:?}"
        );
        assert_names(&err.to_string(), &[&format!("index {v}"), "size 3"]);
    }
    assert_eq!(f.call(&tl::args![vec![1.0, 2.0, 3.0], -3i64]).unwrap()[0].scalar::<f64>().unwrap(), 1.0);
    // An int32 index works too, and an index into an empty vector is out of bounds.
    let j = tl::iscalar("j");
    let g = tl::function(&[&x, &j], &[x.index(&j)]).unwrap();
    assert_eq!(g.call(&tl::args![vec![1.0, 2.0], 1i32]).unwrap()[0].scalar::<f64>().unwrap(), 2.0);
    assert!(matches!(g.call(&tl::args![Vec::<f64>::new(), 0i32]), Err(Error::Eval { .. })));
}

#[test]
fn a_reshape_whose_size_overflows_is_an_error() {
    let m = tl::dmatrix("m");
    // No array has lengths whose product exceeds isize::MAX: refused when built.
    let err = build_err(&m.reshape(&[isize::MAX, 2]));
    assert_names(&err.to_string(), &["reshape", "m", "too large"]);
    let f = tl::function(&[&m], &[m.reshape(&[isize::MAX, -1])]).unwrap();
    let err = f.call1(Tensor::zeros(DType::F64, &[2, 3])).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    assert_names(&err.to_string(), &["reshape", "m"]);
    let a = tl::tensor("a", DType::F64, &[Some(2), Some(3)]);
    assert_names(&build_err(&a.reshape(&[isize::MAX, isize::MAX])).to_string(), &["reshape", "overflows"]);
}

#[test]
fn integer_overflow_wraps_and_never_panics() {
    let a = tl::lvector("a");
    let f = tl::function(&[&a], &[&a + 1, &a * &a, -&a, a.sum(), a.abs()]).unwrap();
    let out = f.call(&tl::args![vec![i64::MAX, i64::MIN]]).unwrap();
    let v = |k: usize| out[k].to_vec::<i64>().unwrap();
    assert_eq!(v(0), vec![i64::MIN, i64::MIN + 1]);
    assert_eq!(v(1), vec![1, 0]);
    assert_eq!(v(2), vec![i64::MIN + 1, i64::MIN]);
    assert_eq!(v(3), vec![-1]);
    assert_eq!(v(4), vec![i64::MAX, i64::MIN]);
    let i = tl::ivector("i");
    let g = tl::function(&[&i], &[tl::dot(&i, &i)]).unwrap();
    assert_eq!(g.call1(vec![i32::MIN, 2]).unwrap().to_vec::<i32>().unwrap(), vec![4]);
}

// ------------------------------------------------------------------------------------------
// Regressions of bugs found and fixed
// ------------------------------------------------------------------------------------------

#[test]
fn a_run_time_error_at_the_end_of_a_deep_graph_is_reported() {
    // The chain runs fine (iterative interpreter); only reporting the error fails.
    let x = tl::dvector("x");
    let w = tl::dvector("w");
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = y + 1.0;
    }
    let z = &y + &w;
    let raw = tl::OptConfig { disabled: true, ..Default::default() };
    let f = tl::Function::builder(&[&x, &w], &[&z]).optimizer(raw).build().unwrap();
    let ok = f.call(&tl::args![vec![0.0, 1.0], vec![1.0, 1.0]]).unwrap();
    assert_eq!(f64s(&ok[0]), vec![100_001.0, 100_002.0]);
    let err = f.call(&tl::args![vec![1.0, 2.0, 3.0], vec![1.0, 2.0]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
    let msg = err.to_string();
    assert_names(&msg, &["add", "has shape [3]", "w has shape [2]"]);
    assert!(msg.len() < 10_000, "the message stays short: {} bytes", msg.len());
    // The same with the default optimizer, on a chain it cannot collapse.
    let m = tl::dmatrix("m");
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = tl::dot(&m, &y);
    }
    let f = tl::function(&[&m, &x, &w], &[&y + &w]).unwrap();
    let eye = ndarray::Array2::<f64>::eye(2);
    let err = f.call(&tl::args![eye, vec![1.0, 2.0], vec![1.0, 2.0, 3.0]]).unwrap_err();
    assert!(matches!(&err, Error::Eval { .. }), "{err:?}");
}

#[test]
fn an_index_or_an_axis_of_usize_max_is_out_of_range() {
    let x = tl::dvector("x");
    let v = x.index(usize::MAX);
    let out = v.check().map(|()| tl::function(&[&x], &[&v]));
    match out {
        Err(_) => {}
        Ok(Ok(f)) => {
            let r = f.call1(vec![1.0, 2.0, 3.0]);
            assert!(
                matches!(r, Err(Error::Eval { source: tl::ValueError::IndexOutOfBounds { .. }, .. })),
                "x[usize::MAX] of [1, 2, 3] gave {r:?}"
            );
        }
        Ok(Err(e)) => panic!("unexpected: {e}"),
    }
    let m = tl::dmatrix("m");
    let s = m.sum_axis(usize::MAX);
    assert!(s.check().is_err(), "sum over axis usize::MAX of a matrix gave {s}");
}

/// Collecting the constants of an n-ary add or mul reassociates them. It never creates an
/// overflow or underflow the written order did not have (the product of the constants must
/// be a normal number, else the node stays as written); where it removes one — `x * 1e300 *
/// 1e-300` is `x * 1.0` — the optimized result is the exact one. Documented in the README.
#[test]
fn constant_collection_never_creates_overflow_or_underflow() {
    let x = tl::dscalar("x");
    let mut chain = x.clone();
    for _ in 0..2000 {
        chain = chain * 1.5;
    }
    let same: Vec<(&str, Var, f64)> = vec![
        ("(x + 1e308) + 1e308 at -1e308", (&x + 1e308) + 1e308, -1e308),
        ("x * 1.5 (2000 times) at 0", chain, 0.0),
        ("x - 1e308 - 1e308 + 1e308 at 1e308", &x - 1e308 - 1e308 + 1e308, 1e308),
    ];
    let run = |y: &Var, v: f64, disabled: bool| -> f64 {
        let f = tl::Function::builder(&[&x], &[y])
            .optimizer(tl::OptConfig { disabled, ..Default::default() })
            .build()
            .unwrap();
        f.call1(v).unwrap().scalar::<f64>().unwrap()
    };
    for (what, y, v) in &same {
        let (a, b) = (run(y, *v, false), run(y, *v, true));
        assert_eq!(a.to_bits(), b.to_bits(), "{what}: optimized {a:e}, unoptimized {b:e}");
    }
    // Constants whose product is a normal number are collected: the intermediate overflow
    // (or underflow) of the written order disappears and the result is exact.
    assert_eq!(run(&(&x * 1e300 * 1e-300), 1e10, false), 1e10);
    assert_eq!(run(&(&x * 2f64.powi(-600) * 2f64.powi(600)), 2f64.powi(-500), false), 2f64.powi(-500));
}
