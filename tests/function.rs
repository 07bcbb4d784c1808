//! The behaviour of compiled functions and shared variables, through the public API.
//!
//! - `updates` are applied after every output is computed: outputs see the old value, and
//!   several updates read each other's old values (a swap in one call);
//! - `givens` substitute an expression for an input, or a constant for a shared variable;
//! - call forms (`call`, `call1`), several outputs, no inputs, repeated outputs, an input
//!   returned as an output;
//! - argument conversion: only conversions that change no value are made;
//! - the optimized graph and the printers (`pp`, `debugprint`);
//! - `floatX`;
//! - shared variables are read at call time, never folded as constants;
//! - a deep graph (100 000 chained additions) compiles, runs and drops without a stack
//!   overflow;
//! - a compiled function can be called from several threads.

use tensorlift as tl;
use tl::{DType, Tensor, Var};

/// The elements of a float64 tensor.
#[track_caller]
fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap_or_else(|e| panic!("{t:?}: {e}"))
}

/// The value of a float64 0-d tensor.
#[track_caller]
fn f64_scalar(t: &Tensor) -> f64 {
    t.scalar::<f64>().unwrap_or_else(|e| panic!("{t:?}: {e}"))
}

/// No inputs, for functions of shared variables only.
const NO_INPUTS: &[&Var] = &[];

// ------------------------------------------------------------------------------------------
// Updates
// ------------------------------------------------------------------------------------------

#[test]
fn outputs_see_the_value_before_the_update() {
    let w = tl::shared(0.0, "w");
    let f = tl::Function::builder(NO_INPUTS, &[&w]).updates(&[(&w, &w + 1.0)]).build().unwrap();
    for k in 0..5 {
        let out = f.call(&[]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(f64_scalar(&out[0]), k as f64, "call {k} returns the old value");
        assert_eq!(f64_scalar(&w.get_value().unwrap()), (k + 1) as f64, "then w grows");
    }
}

#[test]
fn an_output_computed_from_the_updated_variable_uses_the_old_value() {
    let w = tl::shared(vec![1.0, 2.0], "w");
    let x = tl::dvector("x");
    let y = &w * &x;
    let f = tl::Function::builder(&[&x], &[&y]).update(&w, &(&w * 2.0)).build().unwrap();
    assert_eq!(f64s(&f.call1(vec![10.0, 10.0]).unwrap()), vec![10.0, 20.0]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![2.0, 4.0]);
    assert_eq!(f64s(&f.call1(vec![10.0, 10.0]).unwrap()), vec![20.0, 40.0]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![4.0, 8.0]);
}

#[test]
fn updates_read_each_others_old_values_a_swap() {
    let a = tl::shared(vec![1.0, 2.0], "a");
    let b = tl::shared(vec![3.0, 4.0, 5.0], "b");
    let f = tl::Function::builder(NO_INPUTS, &[&a, &b]).updates(&[(&a, &b), (&b, &a)]).build().unwrap();
    let out = f.call(&[]).unwrap();
    assert_eq!(f64s(&out[0]), vec![1.0, 2.0]);
    assert_eq!(f64s(&out[1]), vec![3.0, 4.0, 5.0]);
    assert_eq!(f64s(&a.get_value().unwrap()), vec![3.0, 4.0, 5.0], "a took b's old value");
    assert_eq!(f64s(&b.get_value().unwrap()), vec![1.0, 2.0], "b took a's old value");
    f.call(&[]).unwrap();
    assert_eq!(f64s(&a.get_value().unwrap()), vec![1.0, 2.0], "swapped back");
    assert_eq!(f64s(&b.get_value().unwrap()), vec![3.0, 4.0, 5.0]);
}

#[test]
fn updates_computed_from_several_old_values() {
    // A Fibonacci step: (a, b) <- (b, a + b), both from the old pair.
    let a = tl::shared(0i64, "a");
    let b = tl::shared(1i64, "b");
    let f =
        tl::Function::builder(NO_INPUTS, &[&a]).updates(&[(&a, b.clone()), (&b, &a + &b)]).build().unwrap();
    let seq: Vec<i64> = (0..10).map(|_| f.call(&[]).unwrap()[0].scalar::<i64>().unwrap()).collect();
    assert_eq!(seq, vec![0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
}

#[test]
fn an_accumulator_over_ten_calls() {
    let acc = tl::shared(0.0, "acc");
    let x = tl::dscalar("x");
    let new_acc = &acc + &x;
    let f = tl::Function::builder(&[&x], &[&new_acc]).updates(&[(&acc, &new_acc)]).build().unwrap();
    let mut expected = 0.0;
    for k in 1..=10 {
        let out = f.call1(k as f64).unwrap();
        expected += k as f64;
        assert_eq!(f64_scalar(&out), expected);
        assert_eq!(f64_scalar(&acc.get_value().unwrap()), expected);
    }
    assert_eq!(expected, 55.0);
}

#[test]
fn a_function_reads_the_current_value_after_set_value() {
    let w = tl::shared(vec![1.0, 2.0], "w");
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[&w + &x]).unwrap();
    assert_eq!(f64s(&f.call1(vec![1.0, 1.0]).unwrap()), vec![2.0, 3.0]);
    w.set_value(vec![10.0, 20.0]).unwrap();
    assert_eq!(f64s(&f.call1(vec![1.0, 1.0]).unwrap()), vec![11.0, 21.0]);
    // Shared variables have no fixed length: another length is accepted.
    w.set_value(vec![5.0, 6.0, 7.0]).unwrap();
    assert_eq!(f64s(&f.call1(vec![1.0, 1.0, 1.0]).unwrap()), vec![6.0, 7.0, 8.0]);
}

#[test]
fn shared_variables_are_not_folded_as_constants() {
    // A function of shared variables only: nothing may be computed once at compile time.
    let w = tl::shared(vec![0.0, 1.0], "w");
    let f = tl::function(NO_INPUTS, &[tl::exp(&w) * 2.0 + w.sum()]).unwrap();
    assert_eq!(f64s(&f.call(&[]).unwrap()[0]), vec![3.0, 2.0 * 1f64.exp() + 1.0]);
    w.set_value(vec![0.0, 0.0, 0.0]).unwrap();
    assert_eq!(f64s(&f.call(&[]).unwrap()[0]), vec![2.0, 2.0, 2.0]);
    assert!(f.reads_shared(w.as_shared().unwrap()));
    // A function of constants only is fine too.
    let g = tl::function(NO_INPUTS, &[tl::constant(3.0) * 2.0]).unwrap();
    assert_eq!(f64_scalar(&g.call(&[]).unwrap()[0]), 6.0);
}

#[test]
fn two_functions_share_one_variable() {
    let count = tl::shared(0i64, "count");
    let inc = tl::Function::builder(NO_INPUTS, NO_INPUTS).updates(&[(&count, &count + 1)]).build().unwrap();
    let read = tl::function(NO_INPUTS, &[&count]).unwrap();
    for _ in 0..3 {
        assert!(inc.call(&[]).unwrap().is_empty(), "a function with no outputs returns nothing");
    }
    assert_eq!(read.call(&[]).unwrap()[0].scalar::<i64>().unwrap(), 3);
    assert!(read.reads_shared(count.as_shared().unwrap()));
}

// ------------------------------------------------------------------------------------------
// Givens
// ------------------------------------------------------------------------------------------

#[test]
fn givens_replace_an_input_by_an_expression_of_another() {
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let out = &x * 2.0;
    let f = tl::Function::builder(&[&y], &[&out]).givens(&[(&x, &y + 1.0)]).build().unwrap();
    assert_eq!(f64_scalar(&f.call1(3.0).unwrap()), 8.0);
    assert_eq!(f.inputs().len(), 1);
    // The original expression is unchanged.
    let g = tl::function(&[&x], &[&out]).unwrap();
    assert_eq!(f64_scalar(&g.call1(3.0).unwrap()), 6.0);
}

#[test]
fn givens_replace_a_shared_variable_by_a_constant() {
    let w = tl::shared(vec![1.0, 2.0], "w");
    let x = tl::dvector("x");
    let out = &w * &x;
    let f = tl::Function::builder(&[&x], &[&out])
        .givens(&[(&w, tl::constant(vec![10.0, 100.0]))])
        .build()
        .unwrap();
    assert_eq!(f64s(&f.call1(vec![1.0, 2.0]).unwrap()), vec![10.0, 200.0]);
    assert!(!f.reads_shared(w.as_shared().unwrap()), "w was replaced");
    // Changing w does not change f.
    w.set_value(vec![0.0, 0.0]).unwrap();
    assert_eq!(f64s(&f.call1(vec![1.0, 2.0]).unwrap()), vec![10.0, 200.0]);
}

#[test]
fn givens_of_another_type_are_refused() {
    let x = tl::dvector("x");
    let y = tl::dscalar("y");
    let err = tl::Function::builder(&[&y], &[&x * 2.0]).givens(&[(&x, &y)]).build().unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, tl::Error::Build(_)), "{err:?}");
    assert!(msg.contains("givens") && msg.contains('x') && msg.contains('y'), "{msg}");
}

// ------------------------------------------------------------------------------------------
// Call forms and outputs
// ------------------------------------------------------------------------------------------

#[test]
fn call1_on_one_input_and_one_output() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.pow(2) + 1.0]).unwrap();
    assert_eq!(f64s(&f.call1(vec![1.0, 2.0, 3.0]).unwrap()), vec![2.0, 5.0, 10.0]);
    assert_eq!(f64s(&f.call1([4.0, 5.0]).unwrap()), vec![17.0, 26.0]);
    assert_eq!(f64s(&f.call1(&[0.5][..]).unwrap()), vec![1.25]);
}

#[test]
fn several_outputs_in_order() {
    let a = tl::dmatrix("a");
    let b = tl::dmatrix("b");
    let diff = &a - &b;
    let abs_diff = diff.abs();
    let sq = &diff * &diff;
    let f = tl::function(&[&a, &b], &[&diff, &abs_diff, &sq]).unwrap();
    let out = f
        .call(&tl::args![vec![vec![1.0, 1.0], vec![1.0, 1.0]], vec![vec![0.0, 1.0], vec![-1.0, -2.0]]])
        .unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(f64s(&out[0]), vec![1.0, 0.0, 2.0, 3.0]);
    assert_eq!(f64s(&out[1]), vec![1.0, 0.0, 2.0, 3.0]);
    assert_eq!(f64s(&out[2]), vec![1.0, 0.0, 4.0, 9.0]);
    assert_eq!(out[0].shape(), &[2, 2]);
    assert_eq!(f.outputs().len(), 3);
}

#[test]
fn a_function_with_no_inputs() {
    let c = tl::constant(vec![1.0, 2.0]);
    let f = tl::function(NO_INPUTS, &[tl::exp(&c) - 1.0]).unwrap();
    let out = f.call(&[]).unwrap();
    assert_eq!(f64s(&out[0]), vec![1.0f64.exp() - 1.0, 2.0f64.exp() - 1.0]);
    assert!(f.inputs().is_empty());
    // An argument given anyway is an arity error.
    assert!(matches!(f.call(&tl::args![1.0]), Err(tl::Error::Arity { expected: 0, got: 1, .. })));
}

#[test]
fn the_same_variable_as_two_outputs() {
    let x = tl::dvector("x");
    let y = &x * 3.0;
    let f = tl::function(&[&x], &[&y, &y]).unwrap();
    let out = f.call(&tl::args![vec![1.0, 2.0]]).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(f64s(&out[0]), vec![3.0, 6.0]);
    assert_eq!(out[0], out[1]);
}

#[test]
fn an_output_that_is_an_input() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = tl::function(&[&x, &y], &[&x, &(&x + &y), &y]).unwrap();
    let out = f.call(&tl::args![vec![1.0, 2.0], vec![10.0, 20.0]]).unwrap();
    assert_eq!(f64s(&out[0]), vec![1.0, 2.0]);
    assert_eq!(f64s(&out[1]), vec![11.0, 22.0]);
    assert_eq!(f64s(&out[2]), vec![10.0, 20.0]);
    // The identity function: its only input is also its output, and counts as used.
    let id = tl::function(&[&x], &[&x]).unwrap();
    assert_eq!(f64s(&id.call1(vec![7.0]).unwrap()), vec![7.0]);
}

#[test]
fn a_function_can_be_called_many_times_and_cloned() {
    let x = tl::dscalar("x");
    let f = tl::function(&[&x], &[&x * &x]).unwrap();
    let g = f.clone();
    for k in 0..20 {
        let v = k as f64 - 10.0;
        assert_eq!(f64_scalar(&f.call1(v).unwrap()), v * v);
        assert_eq!(f64_scalar(&g.call1(v).unwrap()), v * v);
    }
}

#[test]
fn named_function_appears_in_errors() {
    let x = tl::dvector("x");
    let f = tl::Function::builder(&[&x], &[&x + 1.0]).name("my_fn").build().unwrap();
    let err = f.call(&[]).unwrap_err();
    assert!(err.to_string().contains("my_fn"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Argument conversion
// ------------------------------------------------------------------------------------------

#[test]
fn an_integer_list_into_a_float64_vector() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[&x / 2.0]).unwrap();
    assert_eq!(f64s(&f.call1(vec![1i64, 2, 3]).unwrap()), vec![0.5, 1.0, 1.5]);
    assert_eq!(f64s(&f.call1(vec![1i32, -4]).unwrap()), vec![0.5, -2.0]);
    assert_eq!(f64s(&f.call1(vec![true, false]).unwrap()), vec![0.5, 0.0]);
    // 2^53 + 1 has no float64: refused rather than rounded.
    let big = (1i64 << 53) + 1;
    assert!(matches!(f.call1(vec![big]), Err(tl::Error::ArgDType { .. })));
}

#[test]
fn int32_values_into_an_int64_input() {
    let x = tl::lvector("x");
    let f = tl::function(&[&x], &[&x * 2]).unwrap();
    let out = f.call1(vec![1i32, -2, i32::MAX]).unwrap();
    assert_eq!(out.dtype(), DType::I64);
    assert_eq!(out.to_vec::<i64>().unwrap(), vec![2, -4, 2 * i32::MAX as i64]);
}

#[test]
fn int64_values_into_an_int32_input_when_they_fit() {
    let x = tl::ivector("x");
    let f = tl::function(&[&x], &[&x + 1]).unwrap();
    assert_eq!(f.call1(vec![1i64, 2]).unwrap().to_vec::<i32>().unwrap(), vec![2, 3]);
    assert!(matches!(f.call1(vec![1i64 << 40]), Err(tl::Error::ArgDType { .. })));
}

#[test]
fn float64_values_into_a_float32_input_only_when_exact() {
    let x = tl::fvector("x");
    let f = tl::function(&[&x], &[&x * 2.0]).unwrap();
    let out = f.call1(vec![0.5, -1.25, 1024.0]).unwrap();
    assert_eq!(out.dtype(), DType::F32);
    assert_eq!(out.to_vec::<f32>().unwrap(), vec![1.0, -2.5, 2048.0]);
    let err = f.call1(vec![0.5, 0.1]).unwrap_err();
    assert!(matches!(&err, tl::Error::ArgDType { index: 0, expected: DType::F32, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains('x') && msg.contains("float32"), "{msg}");
    // Too large for float32.
    assert!(f.call1(vec![1e300]).is_err());
}

#[test]
fn nan_and_infinities_into_a_float32_input() {
    let x = tl::fvector("x");
    let f = tl::function(&[&x], &[&x + 1.0]).unwrap();
    let out = f.call1(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]).unwrap();
    let v = out.to_vec::<f32>().unwrap();
    assert!(v[0].is_nan());
    assert_eq!(&v[1..], &[f32::INFINITY, f32::NEG_INFINITY, 1.0]);
}

#[test]
fn arrays_tensors_and_views_as_arguments() {
    let m = tl::dmatrix("m");
    let f = tl::function(&[&m], &[m.sum_axis(1)]).unwrap();
    let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    assert_eq!(f64s(&f.call1(a.clone()).unwrap()), vec![3.0, 7.0]);
    assert_eq!(f64s(&f.call1(&a).unwrap()), vec![3.0, 7.0]);
    assert_eq!(f64s(&f.call1(a.view()).unwrap()), vec![3.0, 7.0]);
    assert_eq!(f64s(&f.call1(a.t()).unwrap()), vec![4.0, 6.0], "a transposed view");
    let t = Tensor::from(a);
    assert_eq!(f64s(&f.call1(&t).unwrap()), vec![3.0, 7.0]);
    assert_eq!(f64s(&f.call1(t).unwrap()), vec![3.0, 7.0]);
}

// ------------------------------------------------------------------------------------------
// The optimized graph and printing
// ------------------------------------------------------------------------------------------

#[test]
fn the_optimized_graph_is_consistent() {
    let x = tl::dvector("x");
    let w = tl::shared(vec![1.0, 2.0], "w");
    let y = tl::exp(&x) * &w;
    let f = tl::Function::builder(&[&x], &[&y, &x.sum()]).updates(&[(&w, &w + 1.0)]).build().unwrap();
    let g = f.optimized_graph();
    g.verify().unwrap();
    // Outputs first, then the update values.
    assert_eq!(g.outputs().len(), 3);
    assert_eq!(f.outputs(), &g.outputs()[..2]);
    let live = g.toposort();
    for o in g.outputs() {
        assert!(live.contains(o), "output {o} is reachable");
    }
    assert_eq!(g.inputs().len(), 1);
    assert_eq!(g.name(g.inputs()[0]), Some("x"));
    // The optimizer may rewrite (fuse, reorder) the expression; its printed form still
    // shows what it computes from what.
    let pp0 = f.pp_output(0).unwrap();
    assert!(pp0.contains("exp(") && pp0.contains('x') && pp0.contains('w'), "{pp0}");
    assert_eq!(f.pp_output(1).unwrap(), "sum(x)");
    let pp2 = f.pp_output(2).unwrap();
    assert!(pp2.contains("TensorConstant{1.0}") && pp2.contains('w') && pp2.contains('+'), "{pp2}");
    let dp = f.debugprint();
    assert!(dp.lines().next().unwrap().contains("[id A]"), "{dp}");
    assert!(dp.contains("exp") && dp.contains('x') && dp.contains('w'), "{dp}");
    // The graph has a text form.
    let text = g.to_string();
    assert!(!text.is_empty());
    // Without the optimizer, the graph is the user's expression.
    let raw = tl::OptConfig { disabled: true, ..Default::default() };
    let f_raw = tl::Function::builder(&[&x], &[&y, &x.sum()])
        .updates(&[(&w, &w + 1.0)])
        .optimizer(raw)
        .build()
        .unwrap();
    f_raw.optimized_graph().verify().unwrap();
    assert_eq!(f_raw.pp_output(0).unwrap(), "(exp(x) * w)");
    assert_eq!(f_raw.pp_output(1).unwrap(), "sum(x)");
    assert_eq!(f_raw.pp_output(2).unwrap(), "(w + TensorConstant{1.0})");
    assert!(f_raw.debugprint().starts_with("mul [id A] <float64[?]>"), "{}", f_raw.debugprint());
    // Both compute the same, and update the same variable.
    let out = f_raw.call(&tl::args![vec![0.0, 0.0]]).unwrap();
    assert_eq!(f64s(&out[0]), vec![1.0, 2.0]);
    let out = f.call(&tl::args![vec![0.0, 0.0]]).unwrap();
    assert_eq!(f64s(&out[0]), vec![2.0, 3.0]);
    assert_eq!(f64s(&w.get_value().unwrap()), vec![3.0, 4.0]);
}

#[test]
fn pp_of_a_power() {
    let x = tl::dscalar("x");
    assert_eq!(tl::pp(&x.pow(2)), "(x ** TensorConstant{2.0})");
    assert_eq!(tl::pp(&x.pow(2.0)), "(x ** TensorConstant{2.0})");
}

#[test]
fn pp_of_the_logistic_function() {
    let x = tl::dscalar("x");
    let s = 1.0 / (1.0 + tl::exp(-&x));
    assert_eq!(tl::pp(&s), "(TensorConstant{1.0} / (TensorConstant{1.0} + exp((-x))))");
    assert_eq!(s.to_string(), tl::pp(&s), "Display is pp");
    // The same on a vector: the literals are broadcastable length-1 constants.
    let v = tl::dvector("v");
    let s = 1.0 / (1.0 + tl::exp(-&v));
    assert_eq!(tl::pp(&s), "(TensorConstant{1.0} / (TensorConstant{1.0} + exp((-v))))");
}

#[test]
fn pp_of_dot_transpose_sum_and_indexing() {
    let w = tl::dmatrix("W");
    let x = tl::dvector("x");
    assert_eq!(tl::pp(&tl::dot(&w, &x)), "(W \\dot x)");
    assert_eq!(tl::pp(&w.dot(&x)), "(W \\dot x)");
    assert_eq!(tl::pp(&w.t()), "W.T");
    assert_eq!(tl::pp(&w.transpose(&[1, 0])), "W.T");
    assert_eq!(tl::pp(&w.sum_axis(1)), "sum(W, axis=(1,))");
    assert_eq!(tl::pp(&w.sum_axis([0, 1])), "sum(W)");
    assert_eq!(tl::pp(&w.sum()), "sum(W)");
    assert_eq!(tl::pp(&x.get(tl::idx![1..3])), "x[1:3]");
    assert_eq!(tl::pp(&x.slice(Some(1), Some(3), 1)), "x[1:3]");
    assert_eq!(tl::pp(&x.index(-1)), "x[-1]");
    assert_eq!(tl::pp(&w.get(tl::idx![.., 0])), "W[:, 0]");
}

#[test]
fn debugprint_of_variables() {
    let x = tl::dvector("x");
    let y = tl::exp(&x) + &x;
    let s = tl::debugprint(std::slice::from_ref(&y));
    let first = s.lines().next().unwrap();
    assert!(first.contains("add") && first.contains("[id A]"), "{s}");
    assert!(s.contains("exp"), "{s}");
    assert!(s.contains("<float64[?]>"), "{s}");
    // x appears twice; the second time it has the same id as the first.
    let ids: Vec<&str> =
        s.lines().filter(|l| l.trim_start_matches(['├', '└', '─', '│', ' ']).starts_with("x ")).collect();
    assert_eq!(ids.len(), 2, "{s}");
    let tag = |l: &str| l[l.find("[id").unwrap()..].split(']').next().unwrap().to_string();
    assert_eq!(tag(ids[0]), tag(ids[1]), "{s}");
}

// ------------------------------------------------------------------------------------------
// floatX
// ------------------------------------------------------------------------------------------

#[test]
fn float_x_is_float64_by_default() {
    // Only this process's environment can change it; no test here sets it.
    let expected = match std::env::var("TENSORLIFT_FLOATX").as_deref() {
        Ok("float32") => DType::F32,
        _ => DType::F64,
    };
    assert_eq!(tl::config::float_x(), expected);
    assert_eq!(tl::vector("v").dtype(), tl::config::float_x());
    assert_eq!(tl::scalar("s").dtype(), tl::config::float_x());
    assert_eq!(tl::matrix("m").dtype(), tl::config::float_x());
    if std::env::var_os("TENSORLIFT_FLOATX").is_none() {
        assert_eq!(tl::vector("v").dtype(), DType::F64);
    }
}

#[test]
fn float_x_must_be_a_float_dtype() {
    let before = tl::config::float_x();
    for d in [DType::I32, DType::I64, DType::Bool] {
        let err = tl::config::set_float_x(d).unwrap_err();
        assert!(err.to_string().contains("floatX"), "{err}");
    }
    assert_eq!(tl::config::float_x(), before, "a refused setting changes nothing");
}

// ------------------------------------------------------------------------------------------
// Deep graphs
// ------------------------------------------------------------------------------------------

#[test]
fn a_deep_graph_compiles_runs_and_drops() {
    const N: usize = 100_000;
    let x = tl::dscalar("x");
    let mut y = x.clone();
    for _ in 0..N {
        y = y + 1.0;
    }
    y.check().unwrap();
    let f = tl::function(&[&x], &[&y]).unwrap();
    assert_eq!(f64_scalar(&f.call1(0.5).unwrap()), N as f64 + 0.5);
    // Also with a shared variable updated through the deep chain.
    let w = tl::shared(0.0, "w");
    let mut z = w.clone();
    for _ in 0..N {
        z = z + 1.0;
    }
    let g = tl::Function::builder(NO_INPUTS, NO_INPUTS).updates(&[(&w, &z)]).build().unwrap();
    g.call(&[]).unwrap();
    assert_eq!(f64_scalar(&w.get_value().unwrap()), N as f64);
    drop(f);
    drop(g);
    drop(z);
    drop(y);
}

#[test]
fn a_deep_graph_that_the_optimizer_cannot_fold() {
    // 100 000 alternating `* 1.5` and `tanh`: fused, not folded.
    const N: usize = 100_000;
    let x = tl::dvector("x");
    let mut y = x.clone();
    for k in 0..N {
        y = if k % 2 == 0 { y * 1.5 } else { y.tanh() };
    }
    let f = tl::function(&[&x], &[&y]).unwrap();
    let raw = tl::OptConfig { disabled: true, ..Default::default() };
    let g = tl::Function::builder(&[&x], &[&y]).optimizer(raw).build().unwrap();
    assert!(g.optimized_graph().len() > N);
    let a = f64s(&f.call1(vec![-1.0, 0.0, 2.0]).unwrap());
    let b = f64s(&g.call1(vec![-1.0, 0.0, 2.0]).unwrap());
    let mut r = [-1.0f64, 0.0, 2.0];
    for k in 0..N {
        for v in r.iter_mut() {
            *v = if k % 2 == 0 { *v * 1.5 } else { v.tanh() };
        }
    }
    assert_eq!(b, r.to_vec(), "the interpreter applies each op in turn");
    assert_eq!(a, r.to_vec(), "the fused kernel computes the same");
}

#[test]
fn a_deep_graph_drops_without_being_compiled() {
    let x = tl::dvector("x");
    let mut y = x.exp();
    for k in 0..100_000 {
        y = if k % 2 == 0 { &y * 2.0 } else { y.tanh() };
    }
    drop(y);
}

#[test]
fn functions_and_shared_variables_can_be_used_from_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<tl::Function>();
    send_sync::<Var>();
    send_sync::<Tensor>();
    let w = tl::shared(vec![1.0, 2.0], "w");
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[&w * &x]).unwrap();
    std::thread::scope(|s| {
        for k in 0..4 {
            let f = &f;
            s.spawn(move || {
                for _ in 0..100 {
                    let out = f64s(&f.call1(vec![k as f64, 1.0]).unwrap());
                    assert_eq!(out, vec![k as f64, 2.0]);
                }
            });
        }
    });
}

#[test]
fn concurrent_calls_do_not_lose_updates() {
    let n = tl::shared(0i64, "n");
    let f = tl::Function::builder(NO_INPUTS, NO_INPUTS).update(&n, &(&n + 1)).build().unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20_000 {
                    f.call(&[]).unwrap();
                }
            });
        }
    });
    assert_eq!(n.get_value().unwrap().scalar::<i64>().unwrap(), 8 * 20_000);
}

/// #12 item 8: `pp_output` of an output that does not exist is an error, not a panic.
#[test]
fn pp_output_past_the_last_output_is_an_error() {
    let x = tl::dscalar("x");
    let c = tl::shared(0.0, "c");
    let f = tl::Function::builder(&[&x], &[&x * 2.0]).update(&c, &(&c + &x)).build().unwrap();
    assert_eq!(f.pp_output(1).unwrap(), "(c + x)", "the update value follows the outputs");
    let err = f.pp_output(2).unwrap_err();
    assert!(err.to_string().contains("pp_output(2)"), "{err}");
    assert!(f.pp_output(usize::MAX).is_err());
}

/// `call_f64`: a function of float64 scalars called on plain numbers gives what `call`
/// gives; other functions have no such path.
#[test]
fn call_f64_matches_call_and_applies_only_to_plain_scalar_functions() {
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    // The path is the JIT's (the suite also runs with the interpreter as default mode).
    let jit = |ins: &[&tl::Var], outs: &[tl::Var]| tl::Function::builder(ins, outs).mode(tl::Mode::Jit);
    let f = jit(&[&x, &y], &[(&x - 4.0) * (x.pow(2) + &y)]).build().unwrap();
    assert!(tl::Function::builder(&[&x], &[&x * 2.0])
        .mode(tl::Mode::Interp)
        .build()
        .unwrap()
        .call_f64(&[1.0])
        .is_none());
    for (a, b) in [(2.0, 6.0), (-1.5, 0.25), (1e300, 3.0)] {
        let fast = f.call_f64(&[a, b]).expect("a plain scalar function").unwrap();
        let slow = f.call(&tl::args![a, b]).unwrap()[0].to_f64().unwrap();
        assert_eq!(fast.to_bits(), slow.to_bits());
    }
    assert!(matches!(f.call_f64(&[1.0]), Some(Err(tl::Error::Arity { .. }))));
    // float32 inputs, vectors, shared variables and updates take the general path.
    let s = tl::fscalar("s");
    assert!(jit(&[&s], &[&s * 2.0]).build().unwrap().call_f64(&[1.0]).is_none());
    let v = tl::dvector("v");
    assert!(jit(&[&v], &[&v * 2.0]).build().unwrap().call_f64(&[1.0]).is_none());
    let w = tl::shared(1.0, "w");
    let g = jit(&[&x], &[&x * 2.0]).updates(&[(&w, &w + 1.0)]).build().unwrap();
    assert!(g.call_f64(&[1.0]).is_none());
    let profiled = jit(&[&x], &[&x * 2.0]).profile(true).build().unwrap();
    assert!(profiled.call_f64(&[1.0]).is_none());
}
