//! #12 item 9: canonicalization keeps the grouping of non-constant terms. An n-ary add or
//! mul is evaluated left to right, so flattening `x + (y - y)` into one sum, or
//! `x * (y * z)` into one product, changes the result beyond rounding (cancellation lost,
//! an overflow created). Without `fast_math` only the groupings that evaluate the same are
//! flattened; with it the optimizer regroups as Theano does.

use tensorlift as tl;
use tl::{Mode, OptConfig};

/// `f` of scalar `vars` at `values`, in `mode`, with the optimizer options `opt`.
fn eval(vars: &[&tl::Var], y: &tl::Var, values: &[f64], mode: Mode, opt: OptConfig) -> f64 {
    let f = tl::Function::builder(vars, &[y]).mode(mode).optimizer(opt).build().expect("compiles");
    let args: Vec<tl::Arg> = values.iter().map(|&v| v.into()).collect();
    let out = f.call(&args).expect("runs");
    out[0].to_f64_vec()[0]
}

#[test]
fn item9_cancellation_inside_a_nested_sum_is_kept() {
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let e = &x + (&y - &y);
    for mode in [Mode::Jit, Mode::Interp] {
        assert_eq!(eval(&[&x, &y], &e, &[1.0, 1e17], mode, OptConfig::default()), 1.0);
    }
}

#[test]
fn item9_nested_product_does_not_overflow() {
    let (x, y, z) = (tl::dscalar("x"), tl::dscalar("y"), tl::dscalar("z"));
    let e = &x * (&y * &z);
    for mode in [Mode::Jit, Mode::Interp] {
        assert_eq!(eval(&[&x, &y, &z], &e, &[1e300, 1e300, 1e-300], mode, OptConfig::default()), 1e300);
    }
    // The same on vectors: one fused kernel, same grouping.
    let (a, b, c) = (tl::dvector("a"), tl::dvector("b"), tl::dvector("c"));
    let f = tl::function(&[&a, &b, &c], &[&a * (&b * &c)]).expect("compiles");
    let out = f.call(&tl::args![vec![1e300, 2.0], vec![1e300, 3.0], vec![1e-300, 4.0]]).expect("runs");
    assert_eq!(out[0].to_f64_vec(), [1e300, 24.0]);
}

/// A constant of a nested product is not moved across the term before it unless it is a
/// power of two: `a * (b * 1e-300)` as `(1e-300 * a) * b` underflows to zero for ordinary
/// values (found by the differential fuzzer, seed 12).
#[test]
fn item9_a_tiny_constant_is_not_moved_across_a_product() {
    let (a, b) = (tl::dscalar("a"), tl::dscalar("b"));
    let e = &a * (&b * tl::constant(1e-300));
    let (va, vb) = (-1e-24, 1.46e19);
    for mode in [Mode::Jit, Mode::Interp] {
        assert_eq!(eval(&[&a, &b], &e, &[va, vb], mode, OptConfig::default()), va * (vb * 1e-300));
    }
    // A power of two moves: `a * (2 * b)` is one product, `2 * a * b`.
    let f = tl::function(&[&a, &b], &[&a * (&b * 2.0)]).expect("compiles");
    assert_eq!(f.pp_output(0).expect("prints"), "(TensorConstant{2.0} * a * b)");
}

#[test]
fn item9_gradient_through_an_underflow_stays_infinite() {
    let x = tl::dscalar("x");
    let g = tl::grad(&tl::sqrt(tl::sqr(tl::exp(&x))), &x).expect("differentiates");
    for mode in [Mode::Jit, Mode::Interp] {
        assert_eq!(eval(&[&x], &g, &[-702.0], mode, OptConfig::default()), f64::INFINITY);
    }
}

/// With fast_math the nested product is one n-ary product, evaluated left to right: the
/// documented price of regrouping.
#[test]
fn item9_fast_math_regroups() {
    let (x, y, z) = (tl::dscalar("x"), tl::dscalar("y"), tl::dscalar("z"));
    let e = &x * (&y * &z);
    let v = eval(&[&x, &y, &z], &e, &[1e300, 1e300, 1e-300], Mode::Interp, OptConfig::fast_math());
    assert_eq!(v, f64::INFINITY);
}

/// Flattening that keeps the order of evaluation still happens: a leading nested sum, and
/// a nested product holding one non-constant term with constants.
#[test]
fn item9_order_preserving_flattening_still_applies() {
    let (x, y, z) = (tl::dvector("x"), tl::dvector("y"), tl::dvector("z"));
    let f = tl::Function::builder(&[&x, &y, &z], &[(&x + &y) + &z, &x * ((&y * 2.0) * 3.0)])
        .mode(Mode::Interp)
        .build()
        .expect("compiles");
    let (sum, product) = (f.pp_output(0).unwrap(), f.pp_output(1).unwrap());
    assert!(sum.contains("x + y + z") || sum.contains("i0 + i1 + i2"), "{sum}");
    assert!(product.contains("6.0"), "{product}");
}

/// A constant after two non-constant terms stays last: `(x + y) + c` is not `(c + x) + y`
/// (found by the differential fuzz as `(m - m) + 2.5e-310` → 0).
#[test]
fn item9_a_trailing_constant_is_not_moved_across_two_terms() {
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let (sum, product) = ((&x + &y) + 1e-20, (&x * &y) * 1e10);
    for mode in [Mode::Jit, Mode::Interp] {
        assert_eq!(eval(&[&x, &y], &sum, &[1.0, -1.0], mode, OptConfig::default()), 1e-20);
        assert_eq!(eval(&[&x, &y], &product, &[1e300, 1e-300], mode, OptConfig::default()), 1e10);
    }
}

/// A nested sum after a constant is not flattened: `c + (x - x)` is not `(c + x) - x`
/// (found by the differential fuzz as `2.5e-310 + (m - m)` → 0).
#[test]
fn item9_a_nested_sum_after_a_constant_is_kept() {
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let e = tl::elemwise(tl::ScalarOp::Add, vec![tl::Term::Float(1e-20), tl::Term::Var(&x + &y)]);
    for mode in [Mode::Jit, Mode::Interp] {
        assert_eq!(eval(&[&x, &y], &e, &[1.0, -1.0], mode, OptConfig::default()), 1e-20);
    }
}

/// `(x * c) * x` is not `c * sqr(x)`: `x * x` underflows where `(x * 1e300) * x` does not
/// (found by the differential fuzz).
#[test]
fn item9_a_square_after_a_constant_is_not_formed() {
    let x = tl::dscalar("x");
    let e = (&x * 1e300) * &x;
    for mode in [Mode::Jit, Mode::Interp] {
        let want = (1e-160 * 1e300) * 1e-160;
        assert_eq!(eval(&[&x], &e, &[1e-160], mode, OptConfig::default()), want);
        assert!(want > 0.0);
    }
}

/// `a * (b * c)` with a constant `c` is neither `(a * b) * c` nor flattened at all once the
/// constant would have to stay last (found by the differential fuzz: `a * (b * 1e-300)`).
#[test]
fn item9_a_nested_product_ending_in_a_constant_is_kept() {
    let (a, b) = (tl::dscalar("a"), tl::dscalar("b"));
    let e = &a * (&b * 1e-300);
    for mode in [Mode::Jit, Mode::Interp] {
        let want = 1e300 * (1e300 * 1e-300);
        assert_eq!(eval(&[&a, &b], &e, &[1e300, 1e300], mode, OptConfig::default()), want);
        assert!(want.is_finite());
    }
}
