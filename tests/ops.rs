//! Every op of the library, checked against an independent computation.
//!
//! Each test builds a small graph through the public API, compiles it with `tl::function`
//! (the op-by-op interpreter over the reference kernels), calls it, and compares the result
//! with plain Rust: the std function applied in a loop, explicit index loops over row-major
//! data, a NumPy-rule reimplementation, or known values.
//!
//! Floats are compared exactly (NaN equal to NaN, `0.0` equal to `-0.0`) wherever the kernel
//! performs the same IEEE operation or calls the same std function as the reference; a
//! relative tolerance is used only where the reference takes another, equally valid route
//! (`sigmoid`, `softplus`, `erf` against known values, the softmax family).

use ndarray::{ArrayD, Dimension, IxDyn};
use tensorlift as tl;
use tl::{Axes, DType, Index, Tensor, Var};

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/// Compiles `inputs -> out` and calls it once with `args`; panics with the error otherwise.
#[track_caller]
fn eval(inputs: &[&Var], out: &Var, args: &[tl::Arg]) -> Tensor {
    match try_eval(inputs, out, args) {
        Ok(t) => t,
        Err(e) => panic!("{out}: {e}"),
    }
}

/// Compiles `inputs -> out` and calls it once; the compile or call error as text.
fn try_eval(inputs: &[&Var], out: &Var, args: &[tl::Arg]) -> Result<Tensor, String> {
    let f = tl::function(inputs, &[out]).map_err(|e| format!("compile: {e}"))?;
    let mut r = f.call(args).map_err(|e| format!("call: {e}"))?;
    Ok(r.pop().expect("one output"))
}

/// `eval` of a one-input function.
#[track_caller]
fn eval1<'a>(x: &Var, out: &Var, arg: impl Into<tl::Arg<'a>>) -> Tensor {
    eval(&[x], out, &[arg.into()])
}

/// The data of a float64 result.
#[track_caller]
fn f64s(t: &Tensor) -> Vec<f64> {
    assert_eq!(t.dtype(), DType::F64, "result dtype");
    t.to_vec::<f64>().expect("float64")
}

/// The data of a float32 result.
#[track_caller]
fn f32s(t: &Tensor) -> Vec<f32> {
    assert_eq!(t.dtype(), DType::F32, "result dtype");
    t.to_vec::<f32>().expect("float32")
}

/// The data of a bool result.
#[track_caller]
fn bools(t: &Tensor) -> Vec<bool> {
    assert_eq!(t.dtype(), DType::Bool, "result dtype");
    t.to_vec::<bool>().expect("bool")
}

/// The data of an int64 result.
#[track_caller]
fn i64s(t: &Tensor) -> Vec<i64> {
    assert_eq!(t.dtype(), DType::I64, "result dtype");
    t.to_vec::<i64>().expect("int64")
}

/// The data of an int32 result.
#[track_caller]
fn i32s(t: &Tensor) -> Vec<i32> {
    assert_eq!(t.dtype(), DType::I32, "result dtype");
    t.to_vec::<i32>().expect("int32")
}

/// Equal as IEEE values, with NaN equal to NaN.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// `same`, or within `rtol` of `want` relative to `want`.
fn close(got: f64, want: f64, rtol: f64) -> bool {
    same(got, want) || (got - want).abs() <= rtol * want.abs()
}

/// Elementwise `close` (exact when `rtol` is 0), with a message naming the first mismatch.
#[track_caller]
fn assert_close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: number of elements");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w, rtol), "{what}: element {i}: got {g:e}, want {w:e} (rtol {rtol:e})");
    }
}

/// Exact elementwise comparison (NaN equal to NaN).
#[track_caller]
fn assert_exact(got: &[f64], want: &[f64], what: &str) {
    assert_close(got, want, 0.0, what);
}

/// Exact comparison of a float64 result with an array: dtype, shape and values.
#[track_caller]
fn assert_array(got: &Tensor, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let w: Vec<f64> = want.iter().copied().collect();
    assert_exact(&f64s(got), &w, what);
}

/// An array of `shape` whose element at `ix` is `f(ix)`.
fn grid(shape: &[usize], f: impl Fn(&[usize]) -> f64) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| f(ix.slice()))
}

/// The row-major multi-index of flat position `k` in `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        idx[a] = k % shape[a];
        k /= shape[a];
    }
    idx
}

/// The row-major flat position of `idx` in `shape`.
fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// Every pair `(a, b)` of `values`, as two vectors.
fn cartesian(values: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for &p in values {
        for &q in values {
            a.push(p);
            b.push(q);
        }
    }
    (a, b)
}

/// Values spanning zeros, signs, fractions, large magnitudes and the IEEE specials.
const GENERAL: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -0.5,
    0.75,
    -0.9,
    1.0,
    -1.0,
    1.5,
    -2.5,
    3.0,
    -7.25,
    10.0,
    -10.0,
    100.0,
    -100.0,
    1e10,
    -1e10,
    1e300,
    -1e300,
    5e-324,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// Values that exercise rounding: halves, near-halves, values beyond 2^52.
const ROUNDING: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    3.5,
    -3.5,
    0.49999999999999994,
    -0.49999999999999994,
    1.4999999999999998,
    2.5000000000000004,
    4503599627370495.5,
    -4503599627370495.5,
    4503599627370497.0,
    0.1,
    -0.9,
    7.7,
    -7.7,
    1e300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

// ------------------------------------------------------------------------------------------
// Unary elementwise ops, float64 and float32
// ------------------------------------------------------------------------------------------

/// `method(x)` and `free(x)` on a float64 vector of `inputs` against `reference` per element.
fn check_unary_f64(
    name: &str,
    method: fn(&Var) -> Var,
    free: fn(&Var) -> Var,
    inputs: &[f64],
    reference: fn(f64) -> f64,
    rtol: f64,
) {
    let x = tl::dvector("x");
    let (a, b) = (method(&x), free(&x));
    assert_eq!(a.dtype(), DType::F64, "{name}: static dtype");
    assert_eq!(b.dtype(), DType::F64, "{name}: static dtype");
    let f = tl::function(&[&x], &[&a, &b]).expect("compiles");
    let outs = f.call(&tl::args![inputs.to_vec()]).expect("runs");
    for (form, t) in ["method", "function"].iter().zip(&outs) {
        assert_eq!(t.shape(), &[inputs.len()], "{name} ({form}): shape");
        let got = f64s(t);
        for (i, &v) in inputs.iter().enumerate() {
            let want = reference(v);
            assert!(close(got[i], want, rtol), "{name}({v:e}) ({form}): got {:e}, want {want:e}", got[i]);
        }
    }
}

/// `method(x)` on a float32 vector of `inputs` (converted) against the f32 `reference`.
fn check_unary_f32(
    name: &str,
    method: fn(&Var) -> Var,
    inputs: &[f64],
    reference: fn(f32) -> f32,
    rtol: f64,
) {
    let x = tl::fvector("x");
    let y = method(&x);
    assert_eq!(y.dtype(), DType::F32, "{name}: static dtype");
    let xs: Vec<f32> = inputs.iter().map(|&v| v as f32).collect();
    let got = f32s(&eval1(&x, &y, xs.clone()));
    for (i, &v) in xs.iter().enumerate() {
        let want = reference(v);
        assert!(close(got[i] as f64, want as f64, rtol), "{name}({v:e}f32): got {:e}, want {want:e}", got[i]);
    }
}

/// One module per op with a `float64` test (method and free function) and a `float32`
/// test; the reference expression is written once and typed for both.
macro_rules! unary_tests {
    ($($op:ident($inputs:expr, $rtol64:expr, $rtol32:expr) => |$v:ident| $reference:expr;)*) => {$(
        mod $op {
            use super::*;

            #[test]
            fn float64() {
                check_unary_f64(
                    stringify!($op),
                    |x: &Var| x.$op(),
                    |x: &Var| tl::$op(x),
                    $inputs,
                    |$v: f64| $reference,
                    $rtol64,
                );
            }

            #[test]
            fn float32() {
                check_unary_f32(stringify!($op), |x: &Var| x.$op(), $inputs, |$v: f32| $reference, $rtol32);
            }
        }
    )*};
}

/// Two ulps, relative, in float64 and float32: the bound of the JIT's transcendental
/// functions against std (the interpreter calls std itself).
const ULP2_F64: f64 = 2.0 * f64::EPSILON;
const ULP2_F32: f64 = 2.0 * f32::EPSILON as f64;

mod unary {
    use super::*;

    unary_tests! {
        abs(GENERAL, 0.0, 0.0) => |v| v.abs();
        sign(GENERAL, 0.0, 0.0) => |v| if v > 0.0 { 1.0 } else if v < 0.0 { -1.0 } else { v };
        neg(GENERAL, 0.0, 0.0) => |v| -v;
        sqr(GENERAL, 0.0, 0.0) => |v| v * v;
        sqrt(GENERAL, 0.0, 0.0) => |v| v.sqrt();
        exp(GENERAL, ULP2_F64, ULP2_F32) => |v| v.exp();
        log(GENERAL, ULP2_F64, ULP2_F32) => |v| v.ln();
        log1p(GENERAL, ULP2_F64, ULP2_F32) => |v| v.ln_1p();
        expm1(GENERAL, ULP2_F64, ULP2_F32) => |v| v.exp_m1();
        log2(GENERAL, ULP2_F64, ULP2_F32) => |v| v.log2();
        log10(GENERAL, ULP2_F64, ULP2_F32) => |v| v.log10();
        sin(GENERAL, ULP2_F64, ULP2_F32) => |v| v.sin();
        cos(GENERAL, ULP2_F64, ULP2_F32) => |v| v.cos();
        tan(GENERAL, ULP2_F64, ULP2_F32) => |v| v.tan();
        tanh(GENERAL, ULP2_F64, ULP2_F32) => |v| v.tanh();
        arcsin(GENERAL, ULP2_F64, ULP2_F32) => |v| v.asin();
        arccos(GENERAL, ULP2_F64, ULP2_F32) => |v| v.acos();
        arctan(GENERAL, ULP2_F64, ULP2_F32) => |v| v.atan();
        sinh(GENERAL, ULP2_F64, ULP2_F32) => |v| v.sinh();
        cosh(GENERAL, ULP2_F64, ULP2_F32) => |v| v.cosh();
        arcsinh(GENERAL, ULP2_F64, ULP2_F32) => |v| v.asinh();
        arccosh(GENERAL, ULP2_F64, ULP2_F32) => |v| v.acosh();
        arctanh(GENERAL, ULP2_F64, ULP2_F32) => |v| v.atanh();
        // The kernels use the overflow-free forms; the references are the textbook ones,
        // exact in the ranges where they do not overflow.
        // Where e^-v overflows, sigmoid(v) = e^v to within a relative e^v.
        sigmoid(GENERAL, 1e-15, 1e-6) => |v| if (-v).exp().is_infinite() { v.exp() } else { 1.0 / (1.0 + (-v).exp()) };
        softplus(GENERAL, 1e-15, 1e-6) => |v| if v > 40.0 { v } else { v.exp().ln_1p() };
        floor(ROUNDING, 0.0, 0.0) => |v| v.floor();
        ceil(ROUNDING, 0.0, 0.0) => |v| v.ceil();
        round(ROUNDING, 0.0, 0.0) => |v| v.round_ties_even();
        trunc(ROUNDING, 0.0, 0.0) => |v| v.trunc();
        reciprocal(GENERAL, 0.0, 0.0) => |v| 1.0 / v;
    }
}

#[test]
fn erf_known_values() {
    let inputs = [0.0, 1.0, -0.5, f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::NAN];
    let want = [0.0, 0.8427007929497149, -0.5204998778130465, 1.0, -1.0, 0.0, f64::NAN];
    let x = tl::dvector("x");
    for y in [x.erf(), tl::erf(&x)] {
        assert_close(&f64s(&eval1(&x, &y, inputs.to_vec())), &want, 1e-15, "erf f64");
    }
    let xf = tl::fvector("x");
    let got: Vec<f64> =
        f32s(&eval1(&xf, &xf.erf(), inputs.map(|v| v as f32).to_vec())).into_iter().map(f64::from).collect();
    let want32: Vec<f64> = want.iter().map(|&w| w as f32 as f64).collect();
    assert_close(&got, &want32, 1e-6, "erf f32");
    // erf is odd.
    let pos = f64s(&eval1(&x, &x.erf(), GENERAL.to_vec()));
    let neg = f64s(&eval1(&x, &(-&x).erf(), GENERAL.to_vec()));
    let minus_pos: Vec<f64> = pos.iter().map(|v| -v).collect();
    // Within one ulp: under `Mode::Jit` the fused `erf(-x)` runs natively and the lone
    // `erf(x)` on the reference kernel.
    assert_close(&neg, &minus_pos, 2.3e-16, "erf(-x) = -erf(x)");
}

#[test]
fn round_is_half_to_even() {
    let x = tl::dvector("x");
    let got = f64s(&eval1(&x, &x.round(), vec![0.5, 1.5, 2.5, -2.5, -1.5, 3.5, -0.4, 0.6]));
    assert_exact(&got, &[0.0, 2.0, 2.0, -2.0, -2.0, 4.0, 0.0, 1.0], "round");
    let xf = tl::fvector("x");
    let got = f32s(&eval1(&xf, &xf.round(), vec![0.5f32, 1.5, 2.5, -2.5]));
    assert_eq!(got, vec![0.0, 2.0, 2.0, -2.0]);
}

#[test]
fn round_keeps_the_sign_of_zero() {
    let x = tl::dvector("x");
    let got = f64s(&eval1(&x, &x.round(), vec![-0.5, -0.0, -0.4]));
    for (g, v) in got.iter().zip([-0.5f64, -0.0, -0.4]) {
        assert!(*g == 0.0 && g.is_sign_negative(), "round({v}) = {g:?}, want -0.0");
    }
    let xf = tl::fvector("x");
    let g = f32s(&eval1(&xf, &xf.round(), vec![-0.5f32]))[0];
    assert!(g == 0.0 && g.is_sign_negative(), "round(-0.5f32) = {g:?}, want -0.0");
}

#[test]
fn unary_ops_on_integers() {
    let data = vec![0i64, 1, -1, 7, -7, 3_000_000_000, i64::MAX, i64::MIN];
    let x = tl::lvector("x");
    let cases: Vec<Unary<i64>> = vec![
        (x.abs(), i64::wrapping_abs),
        (x.neg(), i64::wrapping_neg),
        (-&x, i64::wrapping_neg),
        (x.sign(), i64::signum),
        (x.sqr(), |v| v.wrapping_mul(v)),
    ];
    for (y, reference) in cases {
        assert_eq!(y.dtype(), DType::I64);
        let want: Vec<i64> = data.iter().map(|&v| reference(v)).collect();
        assert_eq!(i64s(&eval1(&x, &y, data.clone())), want, "{y}");
    }
    // Float functions of integers compute in float64.
    let e = x.exp();
    assert_eq!(e.dtype(), DType::F64);
    let want: Vec<f64> = data.iter().map(|&v| (v as f64).exp()).collect();
    assert_exact(&f64s(&eval1(&x, &e, data.clone())), &want, "exp(int64)");

    let data = vec![0i32, 5, -5, i32::MAX, i32::MIN];
    let x = tl::ivector("x");
    let cases: Vec<Unary<i32>> = vec![
        (x.abs(), i32::wrapping_abs),
        (-&x, i32::wrapping_neg),
        (x.sign(), i32::signum),
        (x.sqr(), |v| v.wrapping_mul(v)),
    ];
    for (y, reference) in cases {
        assert_eq!(y.dtype(), DType::I32);
        let want: Vec<i32> = data.iter().map(|&v| reference(v)).collect();
        assert_eq!(i32s(&eval1(&x, &y, data.clone())), want, "{y}");
    }
    let s = x.sqrt();
    assert_eq!(s.dtype(), DType::F64);
    let want: Vec<f64> = data.iter().map(|&v| (v as f64).sqrt()).collect();
    assert_exact(&f64s(&eval1(&x, &s, data.clone())), &want, "sqrt(int32)");

    // Arithmetic on bools computes in int64.
    let b = tl::bvector("b");
    let n = -&b;
    assert_eq!(n.dtype(), DType::I64);
    assert_eq!(i64s(&eval1(&b, &n, vec![true, false])), vec![-1, 0]);
}

// ------------------------------------------------------------------------------------------
// Binary arithmetic
// ------------------------------------------------------------------------------------------

/// An expression of one input and the reference it must match per element.
type Unary<T> = (Var, fn(T) -> T);

/// An expression of two inputs and the reference it must match per element.
type Binary<T> = (Var, fn(T, T) -> T);

/// Values whose every pair is tried by the binary tests.
const PAIR_VALUES: &[f64] =
    &[0.0, -0.0, 0.5, -1.0, 2.0, -3.5, 7.0, 1e300, -1e-300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];

/// `build(a, b)` and `free(a, b)` on every pair of `PAIR_VALUES`, in float64 and float32.
fn check_binary(
    name: &str,
    build: fn(&Var, &Var) -> Var,
    free: fn(&Var, &Var) -> Var,
    ref64: fn(f64, f64) -> f64,
    ref32: fn(f32, f32) -> f32,
) {
    let (av, bv) = cartesian(PAIR_VALUES);
    let (a, b) = (tl::dvector("a"), tl::dvector("b"));
    for (form, y) in [("operator", build(&a, &b)), ("function", free(&a, &b))] {
        assert_eq!(y.dtype(), DType::F64);
        let got = f64s(&eval(&[&a, &b], &y, &tl::args![av.clone(), bv.clone()]));
        for i in 0..av.len() {
            let want = ref64(av[i], bv[i]);
            assert!(
                same(got[i], want),
                "{name}({:e}, {:e}) ({form}): got {:e}, want {want:e}",
                av[i],
                bv[i],
                got[i]
            );
        }
    }
    let (a32, b32): (Vec<f32>, Vec<f32>) =
        (av.iter().map(|&v| v as f32).collect(), bv.iter().map(|&v| v as f32).collect());
    let (a, b) = (tl::fvector("a"), tl::fvector("b"));
    let y = build(&a, &b);
    assert_eq!(y.dtype(), DType::F32);
    let got = f32s(&eval(&[&a, &b], &y, &tl::args![a32.clone(), b32.clone()]));
    for i in 0..a32.len() {
        let want = ref32(a32[i], b32[i]);
        assert!(
            same(got[i] as f64, want as f64),
            "{name}({:e}f32, {:e}f32): got {:e}, want {want:e}",
            a32[i],
            b32[i],
            got[i]
        );
    }
}

macro_rules! binary_tests {
    ($($name:ident: |$a:ident, $b:ident| $build:expr, $free:path => |$p:ident, $q:ident| $reference:expr;)*) => {$(
        #[test]
        fn $name() {
            check_binary(
                stringify!($name),
                |$a: &Var, $b: &Var| $build,
                |a: &Var, b: &Var| $free(a, b),
                |$p: f64, $q: f64| $reference,
                |$p: f32, $q: f32| $reference,
            );
        }
    )*};
}

mod binary {
    use super::*;

    binary_tests! {
        add: |a, b| a + b, tl::add => |p, q| p + q;
        sub: |a, b| a - b, tl::sub => |p, q| p - q;
        mul: |a, b| a * b, tl::mul => |p, q| p * q;
        div: |a, b| a / b, tl::true_div => |p, q| p / q;
        pow: |a, b| a.pow(b), tl::pow => |p, q| p.powf(q);
        // NumPy's maximum/minimum: NaN wins.
        maximum: |a, b| a.maximum(b), tl::maximum => |p, q| if p.is_nan() || q.is_nan() { p + q } else { p.max(q) };
        minimum: |a, b| a.minimum(b), tl::minimum => |p, q| if p.is_nan() || q.is_nan() { p + q } else { p.min(q) };
    }
}

#[test]
fn owned_and_borrowed_operands() {
    let (a, b) = (tl::dvector("a"), tl::dvector("b"));
    let (av, bv) = (vec![1.5, -2.0, 8.0], vec![0.5, 4.0, -3.0]);
    let want: Vec<f64> = av.iter().zip(&bv).map(|(p, q)| p * q - p / q).collect();
    for y in [
        &a * &b - &a / &b,
        a.clone() * b.clone() - a.clone() / &b,
        a.clone() * &b - tl::true_div(&a, b.clone()),
    ] {
        assert_exact(&f64s(&eval(&[&a, &b], &y, &tl::args![av.clone(), bv.clone()])), &want, "a*b - a/b");
    }
}

#[test]
fn literals_on_either_side() {
    let x = tl::dvector("x");
    let xs = vec![-2.0, -0.0, 0.5, 3.0, 1e300, f64::INFINITY, f64::NAN];
    let cases: Vec<Unary<f64>> = vec![
        (&x + 2.0, |v| v + 2.0),
        (2.0 + &x, |v| 2.0 + v),
        (&x - 2.0, |v| v - 2.0),
        (2.0 - &x, |v| 2.0 - v),
        (&x * 3, |v| v * 3.0),
        (3 * &x, |v| 3.0 * v),
        (&x / 4.0, |v| v / 4.0),
        (1.0 / &x, |v| 1.0 / v),
        (1i64 - &x, |v| 1.0 - v),
        (&x + 2.5f32, |v| v + 2.5),
        (x.pow(3), |v| v.powf(3.0)),
        (x.pow(0.5), |v| v.powf(0.5)),
        (tl::pow(2.0, &x), |v| 2f64.powf(v)),
        (tl::maximum(&x, 0.0), |v| if v.is_nan() { v } else { v.max(0.0) }),
        (tl::minimum(1, &x), |v| if v.is_nan() { v } else { v.min(1.0) }),
        (-&x, |v| -v),
        (-(x.clone()), |v| -v),
    ];
    for (y, reference) in cases {
        assert_eq!(y.dtype(), DType::F64, "{y}");
        let want: Vec<f64> = xs.iter().map(|&v| reference(v)).collect();
        assert_exact(&f64s(&eval1(&x, &y, xs.clone())), &want, &y.to_string());
    }
}

#[test]
fn integer_arithmetic() {
    let (a, b) = (tl::lvector("a"), tl::lvector("b"));
    let av = vec![7i64, -7, 7, -7, 0, i64::MAX, i64::MIN, 3, 1 << 40];
    let bv = vec![2i64, 2, -2, -2, 5, 1, -1, 0, 1 << 30];
    let args = tl::args![av.clone(), bv.clone()];
    let cases: Vec<Binary<i64>> = vec![
        (&a + &b, i64::wrapping_add),
        (&a - &b, i64::wrapping_sub),
        (&a * &b, i64::wrapping_mul),
        (a.maximum(&b), |p, q| p.max(q)),
        (a.minimum(&b), |p, q| p.min(q)),
        (&a + 1 - &b, |p, q| p.wrapping_add(1).wrapping_sub(q)),
    ];
    for (y, reference) in cases {
        assert_eq!(y.dtype(), DType::I64, "{y}");
        let want: Vec<i64> = av.iter().zip(&bv).map(|(&p, &q)| reference(p, q)).collect();
        assert_eq!(i64s(&eval(&[&a, &b], &y, &args)), want, "{y}");
    }
    // True division of integers is float64 division.
    let d = &a / &b;
    assert_eq!(d.dtype(), DType::F64);
    let want: Vec<f64> = av.iter().zip(&bv).map(|(&p, &q)| p as f64 / q as f64).collect();
    assert_exact(&f64s(&eval(&[&a, &b], &d, &args)), &want, "int64 / int64");
    // Integer powers with non-negative exponents (wrapping).
    let (base, exps) = (vec![2i64, -3, 0, 1, -1, 10, 3], vec![10i64, 3, 0, 5, 7, 18, 40]);
    let want: Vec<i64> = base.iter().zip(&exps).map(|(&p, &q)| p.wrapping_pow(q as u32)).collect();
    assert_eq!(i64s(&eval(&[&a, &b], &a.pow(&b), &tl::args![base, exps])), want, "int64 pow");
    assert_eq!(i64s(&eval1(&a, &a.pow(2), vec![-3i64, 4])), vec![9, 16], "x ** 2");

    let (a, b) = (tl::ivector("a"), tl::ivector("b"));
    let av = vec![7i32, -7, i32::MAX, i32::MIN, 100_000];
    let bv = vec![2i32, 3, 1, -1, 100_000];
    let cases: Vec<Binary<i32>> = vec![
        (&a + &b, i32::wrapping_add),
        (&a - &b, i32::wrapping_sub),
        (&a * &b, i32::wrapping_mul),
        (a.maximum(&b), |p, q| p.max(q)),
        (&a * 2 + &b, |p, q| p.wrapping_mul(2).wrapping_add(q)),
    ];
    for (y, reference) in cases {
        assert_eq!(y.dtype(), DType::I32, "{y}");
        let want: Vec<i32> = av.iter().zip(&bv).map(|(&p, &q)| reference(p, q)).collect();
        assert_eq!(i32s(&eval(&[&a, &b], &y, &tl::args![av.clone(), bv.clone()])), want, "{y}");
    }
}

#[test]
fn int32_pow() {
    let (a, b) = (tl::ivector("a"), tl::ivector("b"));
    let (base, exps) = (vec![2i32, 3, -1, 0, 1, 5, 2], vec![2i32, 2, 3, 0, 7, 1, 31]);
    let want: Vec<i32> = base.iter().zip(&exps).map(|(&p, &q)| p.wrapping_pow(q as u32)).collect();
    let y = a.pow(&b);
    assert_eq!(y.dtype(), DType::I32);
    assert_eq!(i32s(&eval(&[&a, &b], &y, &tl::args![base.clone(), exps])), want, "int32 ** int32");
    let want: Vec<i32> = base.iter().map(|&p| p * p).collect();
    assert_eq!(i32s(&eval1(&a, &a.pow(2), base)), want, "int32 ** 2");
}

/// Integer `dot` wraps like every other integer kernel, with or without overflow checks.
#[test]
fn integer_dot_wraps() {
    let (u, v) = (tl::lvector("u"), tl::lvector("v"));
    let t = eval(&[&u, &v], &tl::dot(&u, &v), &tl::args![vec![i64::MAX, 2], vec![2i64, 1]]);
    assert_eq!(i64s(&t), vec![i64::MAX.wrapping_mul(2).wrapping_add(2)]);
    let (a, b) = (tl::imatrix("a"), tl::imatrix("b"));
    let t = eval(&[&a, &b], &tl::dot(&a, &b), &tl::args![vec![vec![i32::MAX, 1]], vec![vec![3i32], vec![5]]]);
    assert_eq!(i32s(&t), vec![i32::MAX.wrapping_mul(3).wrapping_add(5)]);
}

#[test]
fn n_ary_add_and_mul() {
    let (a, b, c) = (tl::dvector("a"), tl::dvector("b"), tl::dvector("c"));
    let (av, bv, cv) = (vec![1.0, 2.0, -3.0], vec![0.5, -4.0, 8.0], vec![10.0, 0.25, 1.0]);
    let args = tl::args![av.clone(), bv.clone(), cv.clone()];
    let add = tl::apply(tl::Op::Elemwise(tl::ScalarOp::Add), vec![a.clone(), b.clone(), c.clone()]);
    let mul = tl::apply(tl::Op::Elemwise(tl::ScalarOp::Mul), vec![a.clone(), b.clone(), c.clone()]);
    let want_add: Vec<f64> = (0..3).map(|i| av[i] + bv[i] + cv[i]).collect();
    let want_mul: Vec<f64> = (0..3).map(|i| av[i] * bv[i] * cv[i]).collect();
    assert_exact(&f64s(&eval(&[&a, &b, &c], &add, &args)), &want_add, "add(a, b, c)");
    assert_exact(&f64s(&eval(&[&a, &b, &c], &mul, &args)), &want_mul, "mul(a, b, c)");
}

// ------------------------------------------------------------------------------------------
// Comparisons, logic, switch, clip
// ------------------------------------------------------------------------------------------

type CompareCase = (&'static str, fn(&Var, &Var) -> Var, fn(&Var, &Var) -> Var, fn(f64, f64) -> bool);

const COMPARISONS: [CompareCase; 6] = [
    ("lt", |a, b| a.lt(b), |a, b| tl::lt(a, b), |p, q| p < q),
    ("gt", |a, b| a.gt(b), |a, b| tl::gt(a, b), |p, q| p > q),
    ("le", |a, b| a.le(b), |a, b| tl::le(a, b), |p, q| p <= q),
    ("ge", |a, b| a.ge(b), |a, b| tl::ge(a, b), |p, q| p >= q),
    ("eq", |a, b| a.eq(b), |a, b| tl::eq(a, b), |p, q| p == q),
    ("neq", |a, b| a.neq(b), |a, b| tl::neq(a, b), |p, q| p != q),
];

#[test]
fn comparisons_float64() {
    let (av, bv) = cartesian(PAIR_VALUES);
    let (a, b) = (tl::dvector("a"), tl::dvector("b"));
    for (name, method, free, reference) in COMPARISONS {
        let want: Vec<bool> = av.iter().zip(&bv).map(|(&p, &q)| reference(p, q)).collect();
        for y in [method(&a, &b), free(&a, &b)] {
            assert_eq!(y.dtype(), DType::Bool, "{name}");
            assert_eq!(bools(&eval(&[&a, &b], &y, &tl::args![av.clone(), bv.clone()])), want, "{name}");
        }
    }
}

#[test]
fn comparisons_float32() {
    let (av, bv) = cartesian(PAIR_VALUES);
    let (a32, b32): (Vec<f32>, Vec<f32>) =
        (av.iter().map(|&v| v as f32).collect(), bv.iter().map(|&v| v as f32).collect());
    let (a, b) = (tl::fvector("a"), tl::fvector("b"));
    for (name, method, _, reference) in COMPARISONS {
        let want: Vec<bool> = a32.iter().zip(&b32).map(|(&p, &q)| reference(p as f64, q as f64)).collect();
        let y = method(&a, &b);
        assert_eq!(bools(&eval(&[&a, &b], &y, &tl::args![a32.clone(), b32.clone()])), want, "{name} f32");
    }
}

#[test]
fn comparisons_mixed_dtypes_and_literals() {
    // int32 against float32 compares in float64 (exactly).
    let (i, f) = (tl::ivector("i"), tl::fvector("f"));
    let iv = vec![16_777_217i32, 3, -2, 0];
    let fv = vec![16_777_216f32, 3.0, -2.5, -0.0];
    for (name, method, _, reference) in COMPARISONS {
        let want: Vec<bool> = iv.iter().zip(&fv).map(|(&p, &q)| reference(p as f64, q as f64)).collect();
        let y = method(&i, &f);
        assert_eq!(
            bools(&eval(&[&i, &f], &y, &tl::args![iv.clone(), fv.clone()])),
            want,
            "{name} i32 vs f32"
        );
    }
    // Literals.
    let x = tl::dvector("x");
    let xs = vec![1.0, 2.5, 3.0, f64::NAN];
    assert_eq!(bools(&eval1(&x, &x.lt(2.5), xs.clone())), vec![true, false, false, false]);
    assert_eq!(bools(&eval1(&x, &x.ge(1), xs.clone())), vec![true, true, true, false]);
    assert_eq!(bools(&eval1(&x, &tl::neq(3.0, &x), xs.clone())), vec![true, true, false, true]);
    // Bools compare as false < true.
    let (p, q) = (tl::bvector("p"), tl::bvector("q"));
    let args = tl::args![vec![false, false, true, true], vec![false, true, false, true]];
    assert_eq!(bools(&eval(&[&p, &q], &p.lt(&q), &args)), vec![false, true, false, false]);
    assert_eq!(bools(&eval(&[&p, &q], &p.eq(&q), &args)), vec![true, false, false, true]);
}

#[test]
fn logical_ops_on_bools() {
    let (p, q) = (tl::bvector("p"), tl::bvector("q"));
    let (pv, qv) = (vec![false, false, true, true], vec![false, true, false, true]);
    let args = tl::args![pv.clone(), qv.clone()];
    let and: Vec<bool> = pv.iter().zip(&qv).map(|(&a, &b)| a && b).collect();
    let or: Vec<bool> = pv.iter().zip(&qv).map(|(&a, &b)| a || b).collect();
    let not: Vec<bool> = pv.iter().map(|&a| !a).collect();
    for y in [tl::and(&p, &q), p.and(&q)] {
        assert_eq!(y.dtype(), DType::Bool);
        assert_eq!(bools(&eval(&[&p, &q], &y, &args)), and);
    }
    for y in [tl::or(&p, &q), p.or(&q)] {
        assert_eq!(bools(&eval(&[&p, &q], &y, &args)), or);
    }
    for y in [tl::not(&p), p.not()] {
        assert_eq!(bools(&eval1(&p, &y, pv.clone())), not);
    }
    // With a comparison result.
    let x = tl::dvector("x");
    let inside = tl::and(x.gt(0.0), x.lt(1.0));
    assert_eq!(
        bools(&eval1(&x, &inside, vec![-1.0, 0.5, 1.0, 0.0, 0.99])),
        vec![false, true, false, false, true]
    );
}

#[test]
fn logical_ops_on_integers_are_bitwise() {
    let (a, b) = (tl::lvector("a"), tl::lvector("b"));
    let (av, bv) = (vec![0b1100i64, -1, 0, i64::MIN, 5], vec![0b1010i64, 12345, -1, -1, 0]);
    let args = tl::args![av.clone(), bv.clone()];
    let want_and: Vec<i64> = av.iter().zip(&bv).map(|(p, q)| p & q).collect();
    let want_or: Vec<i64> = av.iter().zip(&bv).map(|(p, q)| p | q).collect();
    let want_not: Vec<i64> = av.iter().map(|p| !p).collect();
    assert_eq!(i64s(&eval(&[&a, &b], &a.and(&b), &args)), want_and);
    assert_eq!(i64s(&eval(&[&a, &b], &a.or(&b), &args)), want_or);
    assert_eq!(i64s(&eval1(&a, &a.not(), av.clone())), want_not);

    let i = tl::ivector("i");
    let iv = vec![0i32, 1, -2, i32::MAX];
    let want: Vec<i32> = iv.iter().map(|p| !p).collect();
    assert_eq!(i32s(&eval1(&i, &tl::not(&i), iv.clone())), want);
    let want: Vec<i32> = iv.iter().map(|p| p & 6).collect();
    assert_eq!(i32s(&eval1(&i, &i.and(6), iv.clone())), want);
    // bool with int32: the bool upcasts to 0/1.
    let p = tl::bvector("p");
    let y = tl::or(&p, &i);
    assert_eq!(y.dtype(), DType::I32);
    assert_eq!(
        i32s(&eval(&[&p, &i], &y, &tl::args![vec![true, false, true, false], iv])),
        vec![1, 1, -1, i32::MAX]
    );
}

#[test]
fn logical_ops_refuse_floats() {
    let (x, p) = (tl::dvector("x"), tl::bvector("p"));
    assert!(tl::and(&x, &p).check().is_err());
    assert!(tl::or(&p, tl::fvector("f")).check().is_err());
    assert!(tl::not(&x).check().is_err());
}

#[test]
fn switch_selects_elementwise() {
    let (c, a, b) = (tl::bvector("c"), tl::dvector("a"), tl::dvector("b"));
    let (cv, av, bv) = (
        vec![true, false, true, false],
        vec![1.0, 2.0, f64::NAN, 4.0],
        vec![-1.0, -2.0, -3.0, f64::INFINITY],
    );
    let want: Vec<f64> = (0..4).map(|i| if cv[i] { av[i] } else { bv[i] }).collect();
    let y = tl::switch(&c, &a, &b);
    assert_eq!(y.dtype(), DType::F64);
    assert_exact(
        &f64s(&eval(&[&c, &a, &b], &y, &tl::args![cv.clone(), av.clone(), bv.clone()])),
        &want,
        "switch",
    );

    // An integer condition: nonzero is true.
    let ci = tl::lvector("ci");
    let civ = vec![0i64, 2, -1, 0];
    let want: Vec<f64> = (0..4).map(|i| if civ[i] != 0 { av[i] } else { bv[i] }).collect();
    let y = tl::switch(&ci, &a, &b);
    assert_exact(
        &f64s(&eval(&[&ci, &a, &b], &y, &tl::args![civ, av.clone(), bv.clone()])),
        &want,
        "int cond",
    );

    // Literal branches, and a condition built from a comparison.
    let x = tl::dvector("x");
    let y = tl::switch(x.gt(0.0), &x, 0.0);
    assert_eq!(y.dtype(), DType::F64);
    assert_exact(&f64s(&eval1(&x, &y, vec![-1.0, 2.0, 0.0, 3.5])), &[0.0, 2.0, 0.0, 3.5], "relu via switch");
    let y = tl::switch(&c, 1.0, -1.0);
    assert_exact(&f64s(&eval1(&c, &y, cv.clone())), &[1.0, -1.0, 1.0, -1.0], "literal branches");

    // A vector condition broadcast against matrix branches.
    let (cm, m, n) = (tl::bvector("cm"), tl::dmatrix("m"), tl::dmatrix("n"));
    let mv = grid(&[2, 3], |ix| (ix[0] * 3 + ix[1]) as f64);
    let nv = grid(&[2, 3], |ix| -((ix[0] * 3 + ix[1]) as f64) - 1.0);
    let cmv = vec![true, false, true];
    let want = grid(&[2, 3], |ix| if cmv[ix[1]] { mv[ix] } else { nv[ix] });
    let y = tl::switch(&cm, &m, &n);
    assert_array(&eval(&[&cm, &m, &n], &y, &tl::args![cmv, &mv, &nv]), &want, "broadcast switch");

    // Dtypes: the condition does not take part.
    let (i, f) = (tl::ivector("i"), tl::fvector("f"));
    assert_eq!(tl::switch(&c, &i, &i).dtype(), DType::I32);
    assert_eq!(tl::switch(&c, &i, 0.5).dtype(), DType::F64);
    assert_eq!(tl::switch(&c, &f, 2.0).dtype(), DType::F32);
    let y = tl::switch(&c, &i, -1);
    assert_eq!(y.dtype(), DType::I32);
    assert_eq!(i32s(&eval(&[&c, &i], &y, &tl::args![cv, vec![5i32, 6, 7, 8]])), vec![5, -1, 7, -1]);
    // A float condition is refused.
    assert!(tl::switch(&x, &x, &x).check().is_err());
}

#[test]
fn clip_limits_to_bounds() {
    let x = tl::dvector("x");
    let clipped = |v: f64, lo: f64, hi: f64| if v.is_nan() { v } else { v.max(lo).min(hi) };
    let want: Vec<f64> = GENERAL.iter().map(|&v| clipped(v, -1.0, 2.0)).collect();
    for y in [tl::clip(&x, -1.0, 2.0), x.clip(-1, 2)] {
        assert_eq!(y.dtype(), DType::F64);
        assert_exact(&f64s(&eval1(&x, &y, GENERAL.to_vec())), &want, "clip(x, -1, 2)");
    }
    // Tensor bounds.
    let (lo, hi) = (tl::dvector("lo"), tl::dvector("hi"));
    let (xv, lov, hiv) = (vec![0.0, 5.0, -5.0, 1.0], vec![-1.0, 0.0, -2.0, 3.0], vec![1.0, 4.0, 2.0, 4.0]);
    let want: Vec<f64> = (0..4).map(|i| clipped(xv[i], lov[i], hiv[i])).collect();
    let y = tl::clip(&x, &lo, &hi);
    assert_exact(&f64s(&eval(&[&x, &lo, &hi], &y, &tl::args![xv, lov, hiv])), &want, "tensor bounds");
    // Integers stay integers.
    let i = tl::lvector("i");
    let y = i.clip(0, 10);
    assert_eq!(y.dtype(), DType::I64);
    assert_eq!(i64s(&eval1(&i, &y, vec![-5i64, 0, 7, 10, 11, i64::MAX])), vec![0, 0, 7, 10, 10, 10]);
    let y = tl::clip(tl::fvector("f"), 0.0, 1.0);
    assert_eq!(y.dtype(), DType::F32);
}

// ------------------------------------------------------------------------------------------
// Casts between every pair of dtypes
// ------------------------------------------------------------------------------------------

const ALL_DTYPES: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

/// `x.cast(dtype)`, `tl::cast` and `astype` of `data` against `conv` applied per element.
#[track_caller]
fn check_cast<S: Copy, T>(x: &Var, data: &[S], dtype: DType, conv: impl Fn(S) -> T)
where
    Vec<S>: Into<Tensor>,
    Vec<T>: Into<Tensor>,
{
    let want: Tensor = data.iter().map(|&v| conv(v)).collect::<Vec<T>>().into();
    assert_eq!(want.dtype(), dtype);
    for y in [x.cast(dtype), tl::cast(x, dtype), x.astype(dtype)] {
        assert_eq!(y.dtype(), dtype, "static dtype of {y}");
        let got = eval1(x, &y, data.to_vec().into());
        // Tensor equality is dtype, shape and bit patterns.
        assert_eq!(got, want, "cast {} -> {dtype}", x.dtype());
    }
}

/// The casts of a numeric source: Rust's `as` to every numeric type, `!= 0` to bool.
macro_rules! numeric_casts {
    ($x:expr, $data:expr, $s:ty) => {{
        let (x, data): (&Var, &[$s]) = (&$x, &$data);
        check_cast(x, data, DType::Bool, |v: $s| v != (0 as $s));
        check_cast(x, data, DType::I32, |v: $s| v as i32);
        check_cast(x, data, DType::I64, |v: $s| v as i64);
        check_cast(x, data, DType::F32, |v: $s| v as f32);
        check_cast(x, data, DType::F64, |v: $s| v as f64);
    }};
}

#[test]
fn cast_from_bool() {
    let x = tl::bvector("x");
    let data = [true, false, true];
    check_cast(&x, &data, DType::Bool, |v: bool| v);
    check_cast(&x, &data, DType::I32, i32::from);
    check_cast(&x, &data, DType::I64, i64::from);
    check_cast(&x, &data, DType::F32, f32::from);
    check_cast(&x, &data, DType::F64, f64::from);
}

#[test]
fn cast_from_int32() {
    numeric_casts!(tl::ivector("x"), [0i32, 1, -1, 7, -7, 16_777_217, i32::MAX, i32::MIN], i32);
}

#[test]
fn cast_from_int64() {
    numeric_casts!(
        tl::lvector("x"),
        [0i64, 1, -1, 7, 1 << 31, -(1 << 31) - 1, (1 << 53) + 1, 16_777_217, i64::MAX, i64::MIN],
        i64
    );
}

#[test]
fn cast_from_float32() {
    numeric_casts!(
        tl::fvector("x"),
        [
            0.0f32,
            -0.0,
            0.4,
            1.5,
            -1.5,
            2.7,
            -2.7,
            1e10,
            -1e10,
            3e9,
            f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN
        ],
        f32
    );
}

#[test]
fn cast_from_float64() {
    numeric_casts!(
        tl::dvector("x"),
        [
            0.0f64,
            -0.0,
            0.4,
            1.5,
            -1.5,
            2.7,
            -2.7,
            0.1,
            1e10,
            -1e10,
            3e9,
            1e300,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN
        ],
        f64
    );
}

#[test]
fn cast_float_to_int_truncates_toward_zero() {
    let x = tl::dvector("x");
    let got = i32s(&eval1(&x, &x.cast(DType::I32), vec![2.7, -2.7, 0.5, -0.5, 1.0, -1.99, 100.999]));
    assert_eq!(got, vec![2, -2, 0, 0, 1, -1, 100]);
    let b = tl::bvector("b");
    assert_exact(&f64s(&eval1(&b, &b.cast(DType::F64), vec![true, false])), &[1.0, 0.0], "bool -> f64");
    // A cast to the same dtype is the identity; a cast of a literal is a constant.
    for d in ALL_DTYPES {
        assert_eq!(tl::cast(2.5, d).dtype(), d);
    }
    let c = tl::cast(-2.5, DType::I64);
    let t = tl::function(&[] as &[&Var], &[&c]).expect("compiles").call(&[]).expect("runs");
    assert_eq!(t[0], Tensor::from(-2i64));
}

// ------------------------------------------------------------------------------------------
// Dtype rules
// ------------------------------------------------------------------------------------------

#[test]
fn upcasting_rules() {
    let (d, f) = (tl::dvector("d"), tl::fvector("f"));
    let (l, i, b) = (tl::lvector("l"), tl::ivector("i"), tl::bvector("b"));
    let cases: Vec<(&str, Var, DType)> = vec![
        ("int64 + float64", &l + &d, DType::F64),
        ("int32 + float32", &i + &f, DType::F64),
        ("int64 + float32", &l + &f, DType::F64),
        ("float32 + float64", &f + &d, DType::F64),
        ("bool + float32", &b + &f, DType::F32),
        ("bool + bool", &b + &b, DType::Bool),
        ("bool + int32", &b + &i, DType::I32),
        ("int32 + int64", &i + &l, DType::I64),
        ("float32 + 2.0", &f + 2.0, DType::F32),
        ("float32 * 2", &f * 2, DType::F32),
        ("2.0 - float32", 2.0 - &f, DType::F32),
        ("int32 + 1", &i + 1, DType::I32),
        ("int32 * 0.5", &i * 0.5, DType::F64),
        ("int64 / int64", &l / &l, DType::F64),
        ("int32 / int32", &i / &i, DType::F64),
        ("float32 / int32", &f / &i, DType::F64),
        ("int32 ** 2", i.pow(2), DType::I32),
        ("exp(int32)", i.exp(), DType::F64),
        ("exp(float32)", f.exp(), DType::F32),
        ("float32 < float64", f.lt(&d), DType::Bool),
        ("int32 == int64", i.eq(&l), DType::Bool),
        ("sum(int32)", i.sum(), DType::I64),
        ("sum(bool)", b.sum(), DType::I64),
        ("prod(int32)", i.prod(), DType::I64),
        ("sum(float32)", f.sum(), DType::F32),
        ("max(int32)", i.max(), DType::I32),
        ("mean(int32)", i.mean(), DType::F64),
        ("mean(int64)", l.mean(), DType::F64),
        ("mean(bool)", b.mean(), DType::F64),
        ("mean(float32)", f.mean(), DType::F32),
        ("argmax(float32)", f.argmax(), DType::I64),
        ("all(float64)", d.all(), DType::Bool),
        ("softmax(int64)", tl::softmax(&l, 0), DType::F64),
        ("dot(int32, int32)", tl::dot(&i, &i), DType::I32),
        ("dot(int32, float32)", tl::dot(&i, &f), DType::F64),
        ("concatenate(int32, float32)", tl::concatenate(&[i.clone(), f.clone()], 0), DType::F64),
    ];
    for (what, y, dtype) in &cases {
        assert_eq!(y.dtype(), *dtype, "{what}: static dtype");
    }
    // The kernels produce exactly the static dtype, with the expected values.
    let ins = [&d, &f, &l, &i, &b];
    let args =
        tl::args![vec![0.5, -4.0], vec![1.5f32, 2.0], vec![7i64, -3], vec![2i32, -5], vec![true, true]];
    for (what, y, dtype) in &cases {
        let f = tl::Function::builder(&ins, &[y])
            .on_unused_input(tl::OnUnusedInput::Ignore)
            .build()
            .expect("compiles");
        let t = f.call(&args).expect("runs").remove(0);
        assert_eq!(t.dtype(), *dtype, "{what}: result dtype");
    }
    let run = |y: &Var| {
        let f = tl::Function::builder(&ins, &[y]).on_unused_input(tl::OnUnusedInput::Ignore).build().unwrap();
        f.call(&args).unwrap().remove(0)
    };
    assert_exact(&run(&(&l / &l)).to_f64_vec(), &[1.0, 1.0], "l / l");
    assert_exact(&f64s(&run(&(&i / 2))), &[1.0, -2.5], "int32 / 2 is true division");
    assert_exact(&f64s(&run(&(&l + &d))), &[7.5, -7.0], "int64 + float64");
    assert_eq!(f32s(&run(&(&f + 2.0))), vec![3.5, 4.0]);
    assert_exact(&f64s(&run(&l.mean())), &[2.0], "mean of int64");
    assert_exact(&f64s(&run(&i.mean())), &[-1.5], "mean of int32");
    assert_eq!(i64s(&run(&i.sum())), vec![-3]);
    assert_eq!(i64s(&run(&b.sum())), vec![2]);
}

// ------------------------------------------------------------------------------------------
// Broadcasting
// ------------------------------------------------------------------------------------------

#[test]
fn row_plus_col_is_a_matrix() {
    let (r, c) = (tl::row("r"), tl::col("c"));
    assert_eq!(r.dtype(), DType::F64, "floatX is float64");
    let rv = grid(&[1, 3], |ix| 10.0 * ix[1] as f64);
    let cv = grid(&[2, 1], |ix| ix[0] as f64 + 0.5);
    let y = &r + &c;
    assert_eq!(y.ndim(), 2);
    let want = grid(&[2, 3], |ix| rv[[0, ix[1]].as_slice()] + cv[[ix[0], 0].as_slice()]);
    assert_array(&eval(&[&r, &c], &y, &tl::args![&rv, &cv]), &want, "row + col");
    let y = &c * &r;
    let want = grid(&[2, 3], |ix| cv[[ix[0], 0].as_slice()] * rv[[0, ix[1]].as_slice()]);
    assert_array(&eval(&[&r, &c], &y, &tl::args![&rv, &cv]), &want, "col * row");
}

#[test]
fn matrix_and_vector_pad_the_rank() {
    let (m, v) = (tl::dmatrix("m"), tl::dvector("v"));
    let mv = grid(&[2, 3], |ix| (ix[0] * 3 + ix[1]) as f64 - 2.5);
    let vv = vec![100.0, -1.0, 0.5];
    let want = grid(&[2, 3], |ix| mv[ix] + vv[ix[1]]);
    for y in [&m + &v, &v + &m, tl::add(&v, &m)] {
        assert_eq!(y.ndim(), 2);
        assert_array(&eval(&[&m, &v], &y, &tl::args![&mv, vv.clone()]), &want, "matrix + vector");
    }
    let want = grid(&[2, 3], |ix| vv[ix[1]] - mv[ix]);
    assert_array(&eval(&[&m, &v], &(&v - &m), &tl::args![&mv, vv.clone()]), &want, "vector - matrix");
    // The vector's length must match the matrix's last axis.
    assert!(try_eval(&[&m, &v], &(&m + &v), &tl::args![&mv, vec![1.0, 2.0]]).is_err());
}

#[test]
fn scalar_times_matrix() {
    let (s, m) = (tl::dscalar("s"), tl::dmatrix("m"));
    let mv = grid(&[3, 2], |ix| ix[0] as f64 - ix[1] as f64 * 0.25);
    let want = grid(&[3, 2], |ix| -1.5 * mv[ix]);
    assert_array(&eval(&[&s, &m], &(&s * &m), &tl::args![-1.5, &mv]), &want, "scalar * matrix");
    assert_array(&eval(&[&s, &m], &(&m * &s), &tl::args![-1.5, &mv]), &want, "matrix * scalar");
    assert_array(&eval1(&m, &(-1.5 * &m), &mv), &want, "literal * matrix");
    let want = grid(&[3, 2], |ix| mv[ix].powf(2.0) / 2.0);
    assert_array(&eval1(&m, &(m.pow(2) / 2), &mv), &want, "matrix ** 2 / 2");
}

#[test]
fn tensor3_with_broadcastable_middle_axis() {
    let t = tl::dtensor3("t");
    let b = tl::tensor("b", DType::F64, &[None, Some(1), None]);
    let tv = grid(&[2, 3, 4], |ix| (ix[0] * 12 + ix[1] * 4 + ix[2]) as f64);
    let bv = grid(&[2, 1, 4], |ix| 0.5 * (ix[0] * 4 + ix[2]) as f64 - 1.0);
    let y = &t - &b;
    assert_eq!(y.ty().shape, vec![None, None, None]);
    let want = grid(&[2, 3, 4], |ix| tv[ix] - bv[[ix[0], 0, ix[2]].as_slice()]);
    assert_array(&eval(&[&t, &b], &y, &tl::args![&tv, &bv]), &want, "t - b");
    // The broadcastable operand alone keeps its static length 1.
    let y = &b * 2.0;
    assert_eq!(y.ty().shape, vec![None, Some(1), None]);
    // A value with length != 1 on the broadcastable axis is refused.
    let bad = grid(&[2, 3, 4], |_| 0.0);
    assert!(try_eval(&[&t, &b], &(&t - &b), &tl::args![&tv, &bad]).is_err());
    // Three operands: clip(matrix, column, row).
    let (m, lo, hi) = (tl::dmatrix("m"), tl::col("lo"), tl::row("hi"));
    let mv = grid(&[3, 4], |ix| (ix[0] * 4 + ix[1]) as f64);
    let lov = grid(&[3, 1], |ix| 2.0 * ix[0] as f64);
    let hiv = grid(&[1, 4], |ix| 5.0 + ix[1] as f64);
    let want = grid(&[3, 4], |ix| mv[ix].max(lov[[ix[0], 0].as_slice()]).min(hiv[[0, ix[1]].as_slice()]));
    assert_array(&eval(&[&m, &lo, &hi], &tl::clip(&m, &lo, &hi), &tl::args![&mv, &lov, &hiv]), &want, "clip");
}

#[test]
fn mismatched_runtime_shapes_are_errors() {
    let (a, b) = (tl::dmatrix("a"), tl::dmatrix("b"));
    let av = grid(&[2, 3], |_| 1.0);
    // Length 1 on a non-broadcastable axis does not broadcast (Theano's rule).
    let bv = grid(&[1, 3], |_| 1.0);
    assert!(try_eval(&[&a, &b], &(&a + &b), &tl::args![&av, &bv]).is_err());
    let bv = grid(&[2, 4], |_| 1.0);
    assert!(try_eval(&[&a, &b], &(&a * &b), &tl::args![&av, &bv]).is_err());
}

// ------------------------------------------------------------------------------------------
// Reductions
// ------------------------------------------------------------------------------------------

/// The elements of `data` (row-major, `shape`) grouped by their position on the axes not
/// in `axes`: the output shape and, per output element, its group in row-major order of
/// the reduced axes.
fn reduce_groups(
    shape: &[usize],
    data: &[f64],
    axes: &[usize],
    keepdims: bool,
) -> (Vec<usize>, Vec<Vec<f64>>) {
    let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&a| shape[a]).collect();
    let mut groups = vec![Vec::new(); kept_shape.iter().product()];
    for (k, &v) in data.iter().enumerate() {
        let idx = unravel(k, shape);
        let key: Vec<usize> = kept.iter().map(|&a| idx[a]).collect();
        groups[ravel(&key, &kept_shape)].push(v);
    }
    let out_shape = if keepdims {
        shape.iter().enumerate().map(|(a, &n)| if axes.contains(&a) { 1 } else { n }).collect()
    } else {
        kept_shape
    };
    (out_shape, groups)
}

/// Every way to give axes of a 3-d tensor: the spec and the axes it means.
fn axis_specs_3d() -> Vec<(Axes, Vec<usize>)> {
    vec![
        (Axes::All, vec![0, 1, 2]),
        (Axes::from(0isize), vec![0]),
        (Axes::from(1isize), vec![1]),
        (Axes::from(2isize), vec![2]),
        (Axes::from(-1isize), vec![2]),
        (Axes::from(-2isize), vec![1]),
        (Axes::from(-3isize), vec![0]),
        (Axes::from([0, 1]), vec![0, 1]),
        (Axes::from([1, 2]), vec![1, 2]),
        (Axes::from([0, 2]), vec![0, 2]),
        (Axes::from([2, 0]), vec![0, 2]),
        (Axes::from([-1, 0]), vec![0, 2]),
        (Axes::from([0, 1, 2]), vec![0, 1, 2]),
        (Axes::from([-3, -2, -1]), vec![0, 1, 2]),
        (Axes::These(vec![]), vec![]),
    ]
}

/// Shape of the 3-d tensor the reduction tests use.
const SHAPE3: [usize; 3] = [2, 3, 4];

/// Small dyadic values with repeats (ties for the arg-extrema); every sum and product of
/// them is exact in float64, whatever the order.
fn reduce_data() -> Vec<f64> {
    const CYCLE: [f64; 11] = [1.5, -2.0, 0.5, 3.0, -1.0, 2.0, 3.0, -0.5, 1.0, -3.0, 0.5];
    (0..24).map(|k| CYCLE[(k * 7 + 3) % 11]).collect()
}

/// Data for `all`/`any`: rows (last axis) that are all nonzero (one of them NaN), all zero,
/// or mixed.
fn truth_data() -> Vec<f64> {
    (0..24)
        .map(|k| match (k / 4) % 3 {
            0 if k == 1 => f64::NAN,
            0 => k as f64 + 1.0,
            1 => 0.0,
            _ => (k % 2) as f64 * -2.0,
        })
        .collect()
}

type Reducer = fn(&[f64]) -> f64;

/// A reduction, in every form, on every axis spec with and without keepdims, against
/// `reference` applied to each group.
#[allow(clippy::too_many_arguments)]
fn check_reduction(
    name: &str,
    opts: fn(&Var, Axes, bool) -> Var,
    whole: fn(&Var) -> Var,
    free: fn(&Var) -> Var,
    axis: fn(&Var, isize) -> Var,
    dtype: DType,
    data: &[f64],
    reference: Reducer,
) {
    let x = tl::dtensor3("x");
    let xv = ArrayD::from_shape_vec(IxDyn(&SHAPE3), data.to_vec()).expect("shape");
    let check = |y: &Var, axes: &[usize], keepdims: bool, what: &str| {
        assert_eq!(y.dtype(), dtype, "{name} {what}: static dtype");
        let (shape, groups) = reduce_groups(&SHAPE3, data, axes, keepdims);
        assert_eq!(y.ndim(), shape.len(), "{name} {what}: static rank");
        let got = eval1(&x, y, &xv);
        assert_eq!(got.dtype(), dtype, "{name} {what}: dtype");
        assert_eq!(got.shape(), &shape[..], "{name} {what}: shape");
        let want: Vec<f64> = groups.iter().map(|g| reference(g)).collect();
        assert_exact(&got.to_f64_vec(), &want, &format!("{name} {what}"));
    };
    for (spec, axes) in axis_specs_3d() {
        for keepdims in [false, true] {
            let what = format!("over {spec:?}, keepdims={keepdims}");
            check(&opts(&x, spec.clone(), keepdims), &axes, keepdims, &what);
        }
    }
    check(&whole(&x), &[0, 1, 2], false, "method over all axes");
    check(&free(&x), &[0, 1, 2], false, "function over all axes");
    check(&axis(&x, -2), &[1], false, "axis -2");
    check(&axis(&x, 2), &[2], false, "axis 2");
}

fn ref_sum(g: &[f64]) -> f64 {
    g.iter().fold(0.0, |a, &b| a + b)
}

fn ref_prod(g: &[f64]) -> f64 {
    g.iter().fold(1.0, |a, &b| a * b)
}

fn ref_mean(g: &[f64]) -> f64 {
    ref_sum(g) / g.len() as f64
}

fn ref_max(g: &[f64]) -> f64 {
    if g.iter().any(|v| v.is_nan()) {
        f64::NAN
    } else {
        g.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

fn ref_min(g: &[f64]) -> f64 {
    if g.iter().any(|v| v.is_nan()) {
        f64::NAN
    } else {
        g.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

fn ref_all(g: &[f64]) -> f64 {
    f64::from(u8::from(g.iter().all(|&v| v != 0.0)))
}

fn ref_any(g: &[f64]) -> f64 {
    f64::from(u8::from(g.iter().any(|&v| v != 0.0)))
}

/// Position of the first NaN, else of the first largest element.
fn ref_argmax(g: &[f64]) -> f64 {
    if let Some(i) = g.iter().position(|v| v.is_nan()) {
        return i as f64;
    }
    let mut best = 0;
    for (i, &v) in g.iter().enumerate() {
        if v > g[best] {
            best = i;
        }
    }
    best as f64
}

/// Position of the first NaN, else of the first smallest element.
fn ref_argmin(g: &[f64]) -> f64 {
    if let Some(i) = g.iter().position(|v| v.is_nan()) {
        return i as f64;
    }
    let mut best = 0;
    for (i, &v) in g.iter().enumerate() {
        if v < g[best] {
            best = i;
        }
    }
    best as f64
}

macro_rules! reduction_tests {
    ($($name:ident, $axis:ident, $opts:ident: $dtype:expr, $data:expr, $reference:expr;)*) => {$(
        #[test]
        fn $name() {
            check_reduction(
                stringify!($name),
                |x: &Var, axes: Axes, keepdims: bool| x.$opts(axes, keepdims),
                |x: &Var| x.$name(),
                |x: &Var| tl::$name(x),
                |x: &Var, a: isize| x.$axis(a),
                $dtype,
                &$data,
                $reference,
            );
        }
    )*};
}

mod reduce {
    use super::*;

    reduction_tests! {
        sum, sum_axis, sum_opts: DType::F64, reduce_data(), ref_sum;
        mean, mean_axis, mean_opts: DType::F64, reduce_data(), ref_mean;
        prod, prod_axis, prod_opts: DType::F64, reduce_data(), ref_prod;
        max, max_axis, max_opts: DType::F64, reduce_data(), ref_max;
        min, min_axis, min_opts: DType::F64, reduce_data(), ref_min;
        all, all_axis, all_opts: DType::Bool, truth_data(), ref_all;
        any, any_axis, any_opts: DType::Bool, truth_data(), ref_any;
        argmax, argmax_axis, argmax_opts: DType::I64, reduce_data(), ref_argmax;
        argmin, argmin_axis, argmin_opts: DType::I64, reduce_data(), ref_argmin;
    }

    #[test]
    fn max_of_truth_data_propagates_nan() {
        // truth_data has one NaN: max and min over groups containing it are NaN.
        check_reduction(
            "max",
            |x, a, k| x.max_opts(a, k),
            |x| x.max(),
            |x| tl::max(x),
            |x, a| x.max_axis(a),
            DType::F64,
            &truth_data(),
            ref_max,
        );
        check_reduction(
            "min",
            |x, a, k| x.min_opts(a, k),
            |x| x.min(),
            |x| tl::min(x),
            |x, a| x.min_axis(a),
            DType::F64,
            &truth_data(),
            ref_min,
        );
        check_reduction(
            "argmax",
            |x, a, k| x.argmax_opts(a, k),
            |x| x.argmax(),
            |x| tl::argmax(x),
            |x, a| x.argmax_axis(a),
            DType::I64,
            &truth_data(),
            ref_argmax,
        );
    }
}

#[test]
fn max_and_min_propagate_nan() {
    let x = tl::dvector("x");
    let xs = vec![1.0, f64::NAN, 3.0, f64::INFINITY];
    assert!(f64s(&eval1(&x, &x.max(), xs.clone()))[0].is_nan());
    assert!(f64s(&eval1(&x, &x.min(), xs.clone()))[0].is_nan());
    // NaN first or last in the lane.
    assert!(f64s(&eval1(&x, &x.max(), vec![f64::NAN, 1.0]))[0].is_nan());
    assert!(f64s(&eval1(&x, &x.min(), vec![1.0, f64::NAN]))[0].is_nan());
    let m = tl::dmatrix("m");
    let mv = vec![vec![1.0, f64::NAN, 0.0], vec![2.0, 5.0, -1.0]];
    assert_exact(&f64s(&eval1(&m, &m.max_axis(1), mv.clone())), &[f64::NAN, 5.0], "max over rows");
    assert_exact(&f64s(&eval1(&m, &m.min_axis(0), mv.clone())), &[1.0, f64::NAN, -1.0], "min over columns");
    // Infinities are ordinary values.
    assert_exact(&f64s(&eval1(&x, &x.max(), vec![f64::NEG_INFINITY, -1e308])), &[-1e308], "max");
    assert_exact(
        &f64s(&eval1(&x, &x.min(), vec![f64::INFINITY, f64::NEG_INFINITY])),
        &[f64::NEG_INFINITY],
        "min",
    );
}

#[test]
fn argmax_picks_the_first_extremum() {
    let x = tl::dvector("x");
    assert_eq!(i64s(&eval1(&x, &x.argmax(), vec![1.0, 3.0, 3.0, 2.0])), vec![1]);
    assert_eq!(i64s(&eval1(&x, &x.argmin(), vec![2.0, 1.0, 5.0, 1.0])), vec![1]);
    assert_eq!(i64s(&eval1(&x, &x.argmax(), vec![-0.0, 0.0])), vec![0]);
    assert_eq!(i64s(&eval1(&x, &x.argmax(), vec![7.0, 7.0, 7.0])), vec![0]);
    assert_eq!(i64s(&eval1(&x, &x.argmax(), vec![f64::NEG_INFINITY, f64::NEG_INFINITY])), vec![0]);
    let m = tl::dmatrix("m");
    let mv = vec![vec![1.0, 4.0, 4.0], vec![9.0, 9.0, 0.0], vec![-1.0, -1.0, -1.0]];
    assert_eq!(i64s(&eval1(&m, &m.argmax_axis(1), mv.clone())), vec![1, 0, 0]);
    assert_eq!(i64s(&eval1(&m, &m.argmin_axis(0), mv.clone())), vec![2, 2, 2]);
    assert_eq!(i64s(&eval1(&m, &m.argmax(), mv.clone())), vec![3], "flat index over all axes");
    let k = m.argmax_opts(1, true);
    let t = eval1(&m, &k, mv);
    assert_eq!(t.shape(), &[3, 1]);
    assert_eq!(i64s(&t), vec![1, 0, 0]);
    // Integers and bools.
    let l = tl::lvector("l");
    assert_eq!(i64s(&eval1(&l, &l.argmax(), vec![3i64, i64::MAX, i64::MAX, 0])), vec![1]);
    let b = tl::bvector("b");
    assert_eq!(i64s(&eval1(&b, &b.argmax(), vec![false, true, true])), vec![1]);
    assert_eq!(i64s(&eval1(&b, &b.argmin(), vec![true, false, false])), vec![1]);
}

#[test]
fn integer_and_bool_reductions() {
    let i = tl::imatrix("i");
    let iv = vec![vec![i32::MAX, 1, -3], vec![i32::MAX, 2, 5]];
    let flat: Vec<i64> = iv.iter().flatten().map(|&v| v as i64).collect();
    // Sums and products of int32 accumulate in int64 (no int32 overflow).
    assert_eq!(i64s(&eval1(&i, &i.sum(), iv.clone())), vec![flat.iter().sum::<i64>()]);
    assert_eq!(i64s(&eval1(&i, &i.sum_axis(0), iv.clone())), vec![2 * i32::MAX as i64, 3, 2]);
    assert_eq!(
        i64s(&eval1(&i, &i.prod_axis(1), iv.clone())),
        vec![-3 * i32::MAX as i64, 10 * i32::MAX as i64]
    );
    assert_eq!(i32s(&eval1(&i, &i.max_axis(1), iv.clone())), vec![i32::MAX, i32::MAX]);
    assert_eq!(i32s(&eval1(&i, &i.min(), iv.clone())), vec![-3]);
    let mean = f64s(&eval1(&i, &i.mean_axis(1), iv.clone()));
    let want: Vec<f64> = iv.iter().map(|r| r.iter().map(|&v| v as f64).sum::<f64>() / 3.0).collect();
    assert_exact(&mean, &want, "mean of int32");
    assert_eq!(bools(&eval1(&i, &i.all_axis(1), vec![vec![1, 2], vec![0, 3]])), vec![true, false]);
    assert_eq!(bools(&eval1(&i, &i.any_axis(0), vec![vec![0, 2], vec![0, 0]])), vec![false, true]);

    let b = tl::bmatrix("b");
    let bv = vec![vec![true, false, true], vec![true, true, true]];
    assert_eq!(i64s(&eval1(&b, &b.sum_axis(1), bv.clone())), vec![2, 3]);
    assert_eq!(i64s(&eval1(&b, &b.prod_axis(1), bv.clone())), vec![0, 1]);
    assert_eq!(bools(&eval1(&b, &b.max_axis(0), bv.clone())), vec![true, true, true]);
    assert_eq!(bools(&eval1(&b, &b.min_axis(0), bv.clone())), vec![true, false, true]);
    assert_eq!(bools(&eval1(&b, &b.all_axis(1), bv.clone())), vec![false, true]);
    assert_exact(&f64s(&eval1(&b, &b.mean(), bv)), &[5.0 / 6.0], "mean of bool");
}

#[test]
fn float32_reductions_stay_float32() {
    let x = tl::fmatrix("x");
    let xv = vec![vec![1.5f32, -2.0, 0.25], vec![3.0, 0.5, -1.0]];
    let sum = f32s(&eval1(&x, &x.sum_axis(1), xv.clone()));
    assert_eq!(sum, vec![1.5f32 + -2.0 + 0.25, 3.0 + 0.5 - 1.0]);
    let mean = f32s(&eval1(&x, &x.mean_axis(0), xv.clone()));
    assert_eq!(mean, vec![2.25f32, -0.75, -0.375]);
    assert_eq!(f32s(&eval1(&x, &x.max(), xv.clone())), vec![3.0]);
    let xv = vec![vec![1.5f32, -2.0, 0.25], vec![3.0, 0.5, -1.5]];
    assert_eq!(f32s(&eval1(&x, &x.prod(), xv)), vec![1.5f32 * -2.0 * 0.25 * 3.0 * 0.5 * -1.5]);
}

#[test]
fn empty_reductions() {
    let x = tl::dvector("x");
    let empty: Vec<f64> = vec![];
    assert_exact(&f64s(&eval1(&x, &x.sum(), empty.clone())), &[0.0], "sum of nothing");
    assert_exact(&f64s(&eval1(&x, &x.prod(), empty.clone())), &[1.0], "prod of nothing");
    assert_eq!(bools(&eval1(&x, &x.all(), empty.clone())), vec![true]);
    assert_eq!(bools(&eval1(&x, &x.any(), empty.clone())), vec![false]);
    // No identity: an error, not a panic.
    assert!(try_eval(&[&x], &x.max(), &tl::args![empty.clone()]).is_err());
    assert!(try_eval(&[&x], &x.argmin(), &tl::args![empty]).is_err());
}

#[test]
fn bad_axes_are_build_errors() {
    let x = tl::dmatrix("x");
    assert!(x.sum_axis(2).check().is_err());
    assert!(x.sum_axis(-3).check().is_err());
    assert!(x.mean_axis([0, 0]).check().is_err());
    assert!(x.argmax_axis([1, -1]).check().is_err());
    assert!(tl::softmax(&x, 2).check().is_err());
    assert!(tl::function(&[&x], &[x.max_axis(5)]).is_err());
}

// ------------------------------------------------------------------------------------------
// Softmax, log_softmax, logsumexp
// ------------------------------------------------------------------------------------------

/// Softmax (or its log) of the lanes of a `rows x cols` row-major matrix along `axis`.
fn softmax_ref(rows: usize, cols: usize, data: &[f64], axis: usize, log: bool) -> Vec<f64> {
    let mut out = vec![0.0; data.len()];
    let (lanes, len) = if axis == 1 { (rows, cols) } else { (cols, rows) };
    for lane in 0..lanes {
        let at = |k: usize| if axis == 1 { lane * cols + k } else { k * cols + lane };
        let m = (0..len).map(|k| data[at(k)]).fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = (0..len).map(|k| (data[at(k)] - m).exp()).sum();
        for k in 0..len {
            let z = data[at(k)] - m;
            out[at(k)] = if log { z - s.ln() } else { z.exp() / s };
        }
    }
    out
}

fn softmax_matrices() -> Vec<(usize, usize, Vec<f64>)> {
    vec![
        (3, 4, (0..12).map(|k| ((k * 5) % 7) as f64 * 0.75 - 2.0).collect()),
        (2, 3, vec![1000.0, 1001.0, 1002.0, -1000.0, -1000.5, -999.0]),
        (2, 2, vec![1000.0, -1000.0, 0.0, 1e-3]),
        (1, 5, vec![0.1, 0.2, 0.3, 0.4, 0.5]),
    ]
}

#[test]
fn softmax_each_axis() {
    let x = tl::dmatrix("x");
    for (rows, cols, data) in softmax_matrices() {
        let xv = ArrayD::from_shape_vec(IxDyn(&[rows, cols]), data.clone()).unwrap();
        for (axis, resolved) in [(0isize, 0usize), (1, 1), (-1, 1), (-2, 0)] {
            let y = tl::softmax(&x, axis);
            assert_eq!(y.dtype(), DType::F64);
            let got = eval1(&x, &y, &xv);
            assert_eq!(got.shape(), &[rows, cols]);
            let got = f64s(&got);
            assert!(got.iter().all(|v| v.is_finite()), "softmax of {data:?} on axis {axis}: {got:?}");
            let want = softmax_ref(rows, cols, &data, resolved, false);
            assert_close(&got, &want, 1e-15, &format!("softmax axis {axis} of {data:?}"));
        }
    }
    // Lanes sum to one; shifting the input changes nothing.
    let xv = vec![vec![1000.0, 1001.0, 1002.0], vec![0.0, 1.0, 2.0]];
    let got = f64s(&eval1(&x, &tl::softmax(&x, 1), xv));
    assert_close(&got[..3], &got[3..], 1e-15, "softmax(x + 1000) = softmax(x)");
    assert!((got[..3].iter().sum::<f64>() - 1.0).abs() < 1e-15);
    // float32 in, float32 out.
    let f = tl::fmatrix("f");
    let y = tl::softmax(&f, -1);
    assert_eq!(y.dtype(), DType::F32);
    let got = f32s(&eval1(&f, &y, vec![vec![0.0f32, 1000.0]]));
    assert_eq!(got, vec![0.0, 1.0]);
}

#[test]
fn softmax_on_a_tensor3() {
    let x = tl::dtensor3("x");
    let data: Vec<f64> = (0..24).map(|k| ((k * 7) % 10) as f64 * 0.3 - 1.0).collect();
    let xv = ArrayD::from_shape_vec(IxDyn(&SHAPE3), data.clone()).unwrap();
    for axis in 0..3usize {
        // Each lane along `axis`, by explicit loops over the other two axes.
        let mut want = vec![0.0; 24];
        let mut want_log = vec![0.0; 24];
        let others: Vec<usize> = (0..3).filter(|&a| a != axis).collect();
        for i in 0..SHAPE3[others[0]] {
            for j in 0..SHAPE3[others[1]] {
                let at = |k: usize| {
                    let mut ix = [0; 3];
                    ix[others[0]] = i;
                    ix[others[1]] = j;
                    ix[axis] = k;
                    ravel(&ix, &SHAPE3)
                };
                let n = SHAPE3[axis];
                let m = (0..n).map(|k| data[at(k)]).fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = (0..n).map(|k| (data[at(k)] - m).exp()).sum();
                for k in 0..n {
                    want[at(k)] = (data[at(k)] - m).exp() / s;
                    want_log[at(k)] = data[at(k)] - m - s.ln();
                }
            }
        }
        let got = eval1(&x, &tl::softmax(&x, axis as isize), &xv);
        assert_eq!(got.shape(), &SHAPE3);
        assert_close(&f64s(&got), &want, 1e-15, &format!("softmax axis {axis}"));
        let got = f64s(&eval1(&x, &tl::log_softmax(&x, axis as isize - 3), &xv));
        for (i, (&g, &w)) in got.iter().zip(&want_log).enumerate() {
            assert!(
                (g - w).abs() <= 1e-15 * w.abs().max(1.0),
                "log_softmax axis {axis}, element {i}: {g:e} vs {w:e}"
            );
        }
    }
}

#[test]
fn log_softmax_each_axis() {
    let x = tl::dmatrix("x");
    for (rows, cols, data) in softmax_matrices() {
        let xv = ArrayD::from_shape_vec(IxDyn(&[rows, cols]), data.clone()).unwrap();
        for (axis, resolved) in [(0isize, 0usize), (1, 1), (-1, 1), (-2, 0)] {
            let y = tl::log_softmax(&x, axis);
            let got = f64s(&eval1(&x, &y, &xv));
            assert!(got.iter().all(|v| v.is_finite()), "log_softmax of {data:?} on axis {axis}: {got:?}");
            let want = softmax_ref(rows, cols, &data, resolved, true);
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-15 * w.abs().max(1.0),
                    "log_softmax axis {axis} of {data:?}, element {i}: got {g:e}, want {w:e}"
                );
            }
        }
    }
    // log_softmax(1000, -1000) stays finite (the naive log(softmax) would give -inf).
    let got = f64s(&eval1(&x, &tl::log_softmax(&x, 1), vec![vec![1000.0, -1000.0]]));
    assert_exact(&got, &[0.0, -2000.0], "log_softmax of a wide row");
}

#[test]
fn softmax_of_a_lane_holding_inf_or_nan_is_nan_throughout() {
    // #12 item 16: [1, inf, 1] gave [0, nan, 0] and log_softmax [-inf, nan, -inf]; Theano,
    // NumPy and JAX shift by the lane's maximum, inf - inf is NaN, and the lane's sum
    // carries it to every element. Other lanes keep their values.
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let x = tl::dmatrix("x");
    let rows = vec![
        vec![1.0, inf, 1.0],
        vec![1.0, f64::NEG_INFINITY, 1.0],
        vec![f64::NEG_INFINITY; 3],
        vec![inf, inf, 0.0],
        vec![nan, 0.0, 1.0],
        vec![inf, f64::NEG_INFINITY, 0.0],
        vec![0.0, 0.0, 0.0],
    ];
    let third = 1.0 / 3.0;
    let want_softmax = [[nan; 3], [0.5, 0.0, 0.5], [nan; 3], [nan; 3], [nan; 3], [nan; 3], [third; 3]];
    let ln2 = std::f64::consts::LN_2;
    let want_log = [
        [nan; 3],
        [-ln2, f64::NEG_INFINITY, -ln2],
        [nan; 3],
        [nan; 3],
        [nan; 3],
        [nan; 3],
        [-(3f64.ln()); 3],
    ];
    let flat = |w: &[[f64; 3]]| w.iter().flatten().copied().collect::<Vec<f64>>();
    // log(softmax(x)) goes through the optimizer's rewrite to log_softmax: the same NaNs.
    for (what, y, want) in [
        ("softmax", tl::softmax(&x, 1), flat(&want_softmax)),
        ("log_softmax", tl::log_softmax(&x, -1), flat(&want_log)),
        ("log(softmax)", tl::log(tl::softmax(&x, 1)), flat(&want_log)),
    ] {
        assert_close(&f64s(&eval1(&x, &y, rows.clone())), &want, 1e-15, what);
    }
    // Along axis 0: the lanes are the columns.
    let cols = vec![vec![1.0, 0.0], vec![inf, 0.0], vec![1.0, 0.0]];
    let got = f64s(&eval1(&x, &tl::softmax(&x, 0), cols.clone()));
    assert_close(&got, &[nan, third, nan, third, nan, third], 1e-15, "softmax axis 0");
    let got = f64s(&eval1(&x, &tl::log_softmax(&x, 0), cols));
    let l3 = -(3f64.ln());
    assert_close(&got, &[nan, l3, nan, l3, nan, l3], 1e-15, "log_softmax axis 0");
    // float32.
    let f = tl::fvector("f");
    let got = f32s(&eval1(&f, &tl::softmax(&f, 0), vec![1.0f32, f32::INFINITY, 1.0]));
    assert!(got.iter().all(|v| v.is_nan()), "{got:?}");
    let got = f32s(&eval1(&f, &tl::log_softmax(&f, 0), vec![1.0f32, f32::INFINITY, 1.0]));
    assert!(got.iter().all(|v| v.is_nan()), "{got:?}");
}

#[test]
fn logsumexp_axes() {
    let x = tl::dtensor3("x");
    let data: Vec<f64> = (0..24).map(|k| ((k * 5) % 9) as f64 * 0.5 - 2.0).collect();
    let xv = ArrayD::from_shape_vec(IxDyn(&SHAPE3), data.clone()).unwrap();
    let lse = |g: &[f64]| {
        let m = g.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + g.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
    };
    for (spec, axes) in axis_specs_3d() {
        for keepdims in [false, true] {
            let y = tl::logsumexp(&x, spec.clone(), keepdims);
            assert_eq!(y.dtype(), DType::F64);
            let (shape, groups) = reduce_groups(&SHAPE3, &data, &axes, keepdims);
            let got = eval1(&x, &y, &xv);
            assert_eq!(got.shape(), &shape[..], "logsumexp over {spec:?}, keepdims={keepdims}");
            let want: Vec<f64> = groups.iter().map(|g| lse(g)).collect();
            assert_close(&f64s(&got), &want, 1e-15, &format!("logsumexp over {spec:?}, keepdims={keepdims}"));
        }
    }
    // Large and infinite inputs.
    let m = tl::dmatrix("m");
    let mv = vec![
        vec![1000.0, 1000.0],
        vec![-1000.0, -1000.0],
        vec![f64::NEG_INFINITY, f64::NEG_INFINITY],
        vec![f64::INFINITY, 0.0],
        vec![f64::NAN, 0.0],
        vec![0.0, f64::NEG_INFINITY],
    ];
    let got = f64s(&eval1(&m, &tl::logsumexp(&m, 1, false), mv));
    let ln2 = std::f64::consts::LN_2;
    assert_close(
        &got,
        &[1000.0 + ln2, -1000.0 + ln2, f64::NEG_INFINITY, f64::INFINITY, f64::NAN, 0.0],
        1e-15,
        "lse",
    );
    let f = tl::fvector("f");
    let y = tl::logsumexp(&f, 0, true);
    assert_eq!(y.dtype(), DType::F32);
    let t = eval1(&f, &y, vec![100.0f32, 100.0]);
    assert_eq!(t.shape(), &[1]);
    assert!((f32s(&t)[0] - (100.0 + std::f32::consts::LN_2)).abs() <= 1e-5);
}

// ------------------------------------------------------------------------------------------
// dot, outer
// ------------------------------------------------------------------------------------------

/// The matrix product of `a (n x k)` and `b (k x m)` by the triple loop.
fn matmul(a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    let (n, k, m) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let mut out = ArrayD::zeros(IxDyn(&[n, m]));
    for i in 0..n {
        for j in 0..m {
            let mut s = 0.0;
            for p in 0..k {
                s += a[[i, p].as_slice()] * b[[p, j].as_slice()];
            }
            out[[i, j].as_slice()] = s;
        }
    }
    out
}

#[test]
fn dot_every_rank_pair() {
    let (u, v) = (tl::dvector("u"), tl::dvector("v"));
    let (a, b) = (tl::dmatrix("a"), tl::dmatrix("b"));
    let uv = vec![1.0, -2.0, 3.0];
    let vv = vec![4.0, 0.5, -1.0];
    let av = grid(&[2, 3], |ix| (ix[0] * 3 + ix[1]) as f64 - 2.0);
    let bv = grid(&[3, 4], |ix| (ix[0] as f64) * 0.5 - ix[1] as f64);

    // vector . vector -> 0-d.
    let y = tl::dot(&u, &v);
    assert_eq!(y.ndim(), 0);
    let want: f64 = uv.iter().zip(&vv).map(|(p, q)| p * q).sum();
    let t = eval(&[&u, &v], &y, &tl::args![uv.clone(), vv.clone()]);
    assert_eq!(t.shape(), &[] as &[usize]);
    assert_exact(&f64s(&t), &[want], "u . v");

    // matrix . vector.
    let want = grid(&[2], |ix| (0..3).map(|p| av[[ix[0], p].as_slice()] * uv[p]).sum());
    assert_array(&eval(&[&a, &u], &tl::dot(&a, &u), &tl::args![&av, uv.clone()]), &want, "A . u");
    assert_array(&eval(&[&a, &u], &a.dot(&u), &tl::args![&av, uv.clone()]), &want, "A.dot(u)");

    // vector . matrix.
    let want = grid(&[4], |ix| (0..3).map(|p| uv[p] * bv[[p, ix[0]].as_slice()]).sum());
    assert_array(&eval(&[&u, &b], &tl::dot(&u, &b), &tl::args![uv.clone(), &bv]), &want, "u . B");

    // matrix . matrix, non-square, and with a transposed operand.
    let y = tl::dot(&a, &b);
    assert_eq!(y.ndim(), 2);
    assert_array(&eval(&[&a, &b], &y, &tl::args![&av, &bv]), &matmul(&av, &bv), "A . B");
    let at = grid(&[3, 2], |ix| av[[ix[1], ix[0]].as_slice()]);
    let y = tl::dot(a.t(), &a);
    assert_array(&eval1(&a, &y, &av), &matmul(&at, &av), "A^T . A");

    // Non-integer data: same products, summed in another order at most.
    let cv = grid(&[4, 5], |ix| ((ix[0] * 5 + ix[1]) as f64 * 0.37).sin());
    let dv = grid(&[5, 3], |ix| ((ix[0] * 3 + ix[1]) as f64 * 0.91).cos());
    let got = f64s(&eval(&[&a, &b], &tl::dot(&a, &b), &tl::args![&cv, &dv]));
    let want: Vec<f64> = matmul(&cv, &dv).iter().copied().collect();
    assert_close(&got, &want, 1e-14, "sin . cos");

    // Integers.
    let (i, j) = (tl::lmatrix("i"), tl::lmatrix("j"));
    let y = tl::dot(&i, &j);
    assert_eq!(y.dtype(), DType::I64);
    let got = i64s(&eval(
        &[&i, &j],
        &y,
        &tl::args![vec![vec![1i64, 2], vec![3, 4]], vec![vec![5i64, 6, 7], vec![8, 9, 10]]],
    ));
    assert_eq!(got, vec![21, 24, 27, 47, 54, 61]);

    // A scalar operand multiplies.
    let s = tl::dscalar("s");
    assert_array(
        &eval(&[&s, &a], &tl::dot(&s, &a), &tl::args![2.0, &av]),
        &grid(&[2, 3], |ix| 2.0 * av[ix]),
        "s . A",
    );

    // Mismatched inner lengths are a call error.
    assert!(try_eval(&[&a, &b], &tl::dot(&a, &b), &tl::args![&av, &av]).is_err());
}

#[test]
fn outer_product() {
    let (x, y) = (tl::dvector("x"), tl::dvector("y"));
    let (xv, yv) = (vec![1.0, -2.0, 0.5], vec![3.0, 0.0, -1.0, 10.0]);
    let o = tl::outer(&x, &y);
    assert_eq!(o.ndim(), 2);
    let want = grid(&[3, 4], |ix| xv[ix[0]] * yv[ix[1]]);
    assert_array(&eval(&[&x, &y], &o, &tl::args![xv, yv]), &want, "outer");
    assert!(tl::outer(&x, tl::dmatrix("m")).check().is_err());
}

// ------------------------------------------------------------------------------------------
// dimshuffle, transpose, reshape, flatten, concatenate, stack
// ------------------------------------------------------------------------------------------

fn iota3() -> ArrayD<f64> {
    grid(&SHAPE3, |ix| (ix[0] * 100 + ix[1] * 10 + ix[2]) as f64)
}

#[test]
fn dimshuffle_permutes() {
    let x = tl::dtensor3("x");
    let xv = iota3();
    for order in [[2usize, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0], [0, 1, 2]] {
        let y = x.dimshuffle(&order.map(Some));
        let shape: Vec<usize> = order.iter().map(|&a| SHAPE3[a]).collect();
        let want = grid(&shape, |ix| {
            let mut src = [0; 3];
            for (p, &a) in order.iter().enumerate() {
                src[a] = ix[p];
            }
            xv[src.as_slice()]
        });
        assert_array(&eval1(&x, &y, &xv), &want, &format!("dimshuffle {order:?}"));
        assert_array(&eval1(&x, &x.transpose(&order), &xv), &want, &format!("transpose {order:?}"));
    }
    let want = grid(&[4, 3, 2], |ix| xv[[ix[2], ix[1], ix[0]].as_slice()]);
    assert_array(&eval1(&x, &x.t(), &xv), &want, "x.t() reverses the axes");
    let y = x.dimshuffle_pattern("2,0,1");
    let want = grid(&[4, 2, 3], |ix| xv[[ix[1], ix[2], ix[0]].as_slice()]);
    assert_array(&eval1(&x, &y, &xv), &want, "pattern 2,0,1");
    // Matrix transpose.
    let m = tl::dmatrix("m");
    let mv = grid(&[2, 5], |ix| (ix[0] * 5 + ix[1]) as f64);
    let want = grid(&[5, 2], |ix| mv[[ix[1], ix[0]].as_slice()]);
    assert_array(&eval1(&m, &m.t(), &mv), &want, "m.t()");
    assert!(x.transpose(&[0, 1]).check().is_err());
    assert!(x.dimshuffle(&[Some(0), Some(0), Some(1)]).check().is_err());
}

#[test]
fn dimshuffle_inserts_and_drops_axes() {
    let v = tl::dvector("v");
    let vv = vec![1.0, 2.0, 3.0];
    let y = v.dimshuffle(&[None, Some(0), None]);
    assert_eq!(y.ty().shape, vec![Some(1), None, Some(1)]);
    let t = eval1(&v, &y, vv.clone());
    assert_eq!(t.shape(), &[1, 3, 1]);
    assert_exact(&f64s(&t), &vv, "insert x");
    let t = eval1(&v, &v.dimshuffle_pattern("0,x"), vv.clone());
    assert_eq!(t.shape(), &[3, 1]);
    // Drop a broadcastable axis.
    let b = tl::tensor("b", DType::F64, &[None, Some(1), None]);
    let bv = grid(&[2, 1, 3], |ix| (ix[0] * 3 + ix[2]) as f64);
    let y = b.dimshuffle(&[Some(2), Some(0)]);
    let want = grid(&[3, 2], |ix| bv[[ix[1], 0, ix[0]].as_slice()]);
    assert_array(&eval1(&b, &y, &bv), &want, "drop axis 1 and swap");
    let r = tl::row("r");
    let t = eval1(&r, &r.dimshuffle(&[Some(1)]), grid(&[1, 4], |ix| ix[1] as f64));
    assert_exact(&f64s(&t), &[0.0, 1.0, 2.0, 3.0], "row -> vector");
    // Dropping a non-broadcastable axis is refused.
    assert!(tl::dmatrix("m").dimshuffle(&[Some(1)]).check().is_err());
}

#[test]
fn reshape_keeps_row_major_order() {
    let x = tl::dtensor3("x");
    let xv = iota3();
    let flat: Vec<f64> = xv.iter().copied().collect();
    for (target, shape) in [
        (vec![2isize, -1], vec![2usize, 12]),
        (vec![-1], vec![24]),
        (vec![3, -1, 2], vec![3, 4, 2]),
        (vec![4, 6], vec![4, 6]),
        (vec![-1, 1], vec![24, 1]),
        (vec![1, 2, 3, 4], vec![1, 2, 3, 4]),
    ] {
        let t = eval1(&x, &x.reshape(&target), &xv);
        assert_eq!(t.shape(), &shape[..], "reshape {target:?}");
        assert_exact(&f64s(&t), &flat, &format!("reshape {target:?}"));
    }
    // Of a transposed (non-contiguous) value: row-major order of the transpose.
    let m = tl::dmatrix("m");
    let mv = grid(&[2, 3], |ix| (ix[0] * 3 + ix[1]) as f64);
    let t = eval1(&m, &m.t().reshape(&[-1]), &mv);
    assert_exact(&f64s(&t), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0], "reshape of a transpose");
    // A size that does not divide is an error.
    assert!(try_eval(&[&x], &x.reshape(&[5, -1]), &tl::args![&xv]).is_err());
    assert!(try_eval(&[&x], &x.reshape(&[5, 5]), &tl::args![&xv]).is_err());
    assert!(x.reshape(&[-1, -1]).check().is_err());
}

#[test]
fn flatten_merges_trailing_axes() {
    let x = tl::dtensor3("x");
    let xv = iota3();
    let flat: Vec<f64> = xv.iter().copied().collect();
    for (ndim, shape) in [(1usize, vec![24usize]), (2, vec![2, 12]), (3, vec![2, 3, 4])] {
        let y = x.flatten(ndim);
        assert_eq!(y.ndim(), ndim);
        let t = eval1(&x, &y, &xv);
        assert_eq!(t.shape(), &shape[..], "flatten({ndim})");
        assert_exact(&f64s(&t), &flat, &format!("flatten({ndim})"));
    }
    let m = tl::dmatrix("m");
    let mv = grid(&[3, 2], |ix| (ix[0] * 2 + ix[1]) as f64);
    let t = eval1(&m, &m.t().flatten(1), &mv);
    assert_exact(&f64s(&t), &[0.0, 2.0, 4.0, 1.0, 3.0, 5.0], "flatten of a transpose");
    assert!(x.flatten(0).check().is_err());
    assert!(x.flatten(4).check().is_err());
}

#[test]
fn flatten_of_an_empty_tensor() {
    // Run time: an input of unknown shape holding a (0, 3, 4) value.
    let x = tl::dtensor3("x");
    let xv = ArrayD::<f64>::zeros(IxDyn(&[0, 3, 4]));
    let t = eval1(&x, &x.flatten(2), &xv);
    assert_eq!(t.shape(), &[0, 12]);
    // Build time: an input whose static shape is (0, 3, 4).
    let z = tl::tensor("z", DType::F64, &[Some(0), Some(3), Some(4)]);
    let y = z.flatten(2);
    assert!(y.check().is_ok(), "{:?}", y.check());
    assert_eq!(y.ty().shape, vec![Some(0), Some(12)]);
}

#[test]
fn concatenate_on_each_axis() {
    let (a, b) = (tl::dtensor3("a"), tl::dtensor3("b"));
    let av = iota3();
    for axis in 0..3 {
        let mut bshape = SHAPE3.to_vec();
        bshape[axis] = 5;
        let bv = grid(&bshape, |ix| -1.0 - (ix[0] * 100 + ix[1] * 10 + ix[2]) as f64);
        let mut oshape = SHAPE3.to_vec();
        oshape[axis] += 5;
        let want = grid(&oshape, |ix| {
            if ix[axis] < SHAPE3[axis] {
                av[ix]
            } else {
                let mut j = ix.to_vec();
                j[axis] -= SHAPE3[axis];
                bv[j.as_slice()]
            }
        });
        for ax in [axis as isize, axis as isize - 3] {
            let y = tl::concatenate(&[a.clone(), b.clone()], ax);
            assert_array(
                &eval(&[&a, &b], &y, &tl::args![&av, &bv]),
                &want,
                &format!("concatenate axis {ax}"),
            );
        }
    }
    // Three vectors, mixed dtypes (upcast).
    let (u, i) = (tl::dvector("u"), tl::ivector("i"));
    let y = tl::concatenate(&[u.clone(), i.clone(), u.clone()], 0);
    assert_eq!(y.dtype(), DType::F64);
    let got = f64s(&eval(&[&u, &i], &y, &tl::args![vec![0.5, 1.5], vec![7i32]]));
    assert_exact(&got, &[0.5, 1.5, 7.0, 0.5, 1.5], "concatenate u, i, u");
    // Lengths off the axis must agree.
    let bad = grid(&[2, 4, 4], |_| 0.0);
    assert!(try_eval(&[&a, &b], &tl::concatenate(&[a.clone(), b.clone()], 0), &tl::args![&av, &bad]).is_err());
}

#[test]
fn stack_on_new_axes() {
    let (u, v) = (tl::dvector("u"), tl::dvector("v"));
    let (uv, vv) = (vec![1.0, 2.0, 3.0], vec![-1.0, -2.0, -3.0]);
    let parts = [&uv, &vv];
    let y = tl::stack(&[u.clone(), v.clone()], 0);
    let want = grid(&[2, 3], |ix| parts[ix[0]][ix[1]]);
    assert_array(&eval(&[&u, &v], &y, &tl::args![uv.clone(), vv.clone()]), &want, "stack axis 0");
    let want = grid(&[3, 2], |ix| parts[ix[1]][ix[0]]);
    for ax in [1isize, -1] {
        let y = tl::stack(&[u.clone(), v.clone()], ax);
        assert_array(
            &eval(&[&u, &v], &y, &tl::args![uv.clone(), vv.clone()]),
            &want,
            &format!("stack axis {ax}"),
        );
    }
    // Matrices on every new axis.
    let (a, b) = (tl::dmatrix("a"), tl::dmatrix("b"));
    let av = grid(&[2, 3], |ix| (ix[0] * 3 + ix[1]) as f64);
    let bv = grid(&[2, 3], |ix| 10.0 + (ix[0] * 3 + ix[1]) as f64);
    let mats = [&av, &bv];
    for axis in 0..3usize {
        let mut shape = vec![2, 3];
        shape.insert(axis, 2);
        let want = grid(&shape, |ix| {
            let mut j = ix.to_vec();
            let which = j.remove(axis);
            mats[which][j.as_slice()]
        });
        let y = tl::stack(&[a.clone(), b.clone()], axis as isize);
        assert_array(
            &eval(&[&a, &b], &y, &tl::args![&av, &bv]),
            &want,
            &format!("stack matrices axis {axis}"),
        );
    }
    assert!(tl::stack(&[u.clone(), v.clone()], 2).check().is_err());
}

// ------------------------------------------------------------------------------------------
// Indexing
// ------------------------------------------------------------------------------------------

/// The positions `start:stop:step` selects on an axis of length `n`, by CPython's
/// `PySlice_AdjustIndices` followed by the iteration it describes.
fn numpy_slice(n: isize, start: Option<isize>, stop: Option<isize>, step: isize) -> Vec<usize> {
    assert!(step != 0);
    let adjust = |v: Option<isize>, default: isize| match v {
        None => default,
        Some(mut v) => {
            if v < 0 {
                v += n;
                if v < 0 {
                    v = if step < 0 { -1 } else { 0 };
                }
            } else if v >= n {
                v = if step < 0 { n - 1 } else { n };
            }
            v
        }
    };
    let s = adjust(start, if step < 0 { n - 1 } else { 0 });
    let e = adjust(stop, if step < 0 { -1 } else { n });
    let mut out = Vec::new();
    let mut i = s;
    while (step > 0 && i < e) || (step < 0 && i > e) {
        out.push(i as usize);
        i += step;
    }
    out
}

const BOUNDS: [Option<isize>; 14] = [
    None,
    Some(-100),
    Some(-8),
    Some(-7),
    Some(-6),
    Some(-3),
    Some(-1),
    Some(0),
    Some(1),
    Some(3),
    Some(6),
    Some(7),
    Some(8),
    Some(100),
];
const STEPS: [isize; 10] = [-100, -8, -3, -2, -1, 1, 2, 3, 7, 100];

#[test]
fn slices_follow_numpy_rules() {
    let x = tl::dvector("x");
    let fixed = tl::tensor("x7", DType::F64, &[Some(7)]);
    let xv: Vec<f64> = (0..7).map(|k| 10.0 * k as f64 + 1.0).collect();
    let mut cases = Vec::new();
    let mut outs = Vec::new();
    let mut outs_fixed = Vec::new();
    for start in BOUNDS {
        for stop in BOUNDS {
            for step in STEPS {
                let y = x.get(&[Index::slice(start, stop, step)]);
                let y2 = fixed.slice(start, stop, step);
                let positions = numpy_slice(7, start, stop, step);
                assert_eq!(
                    y2.ty().shape,
                    vec![Some(positions.len())],
                    "static length of [{start:?}:{stop:?}:{step}]"
                );
                outs.push(y);
                outs_fixed.push(y2);
                cases.push((start, stop, step, positions));
            }
        }
    }
    let f = tl::function(&[&x], &outs).expect("compiles");
    let g = tl::function(&[&fixed], &outs_fixed).expect("compiles");
    let got = f.call(&tl::args![xv.clone()]).expect("runs");
    let got_fixed = g.call(&tl::args![xv.clone()]).expect("runs");
    for (k, (start, stop, step, positions)) in cases.iter().enumerate() {
        let want: Vec<f64> = positions.iter().map(|&p| xv[p]).collect();
        assert_exact(&f64s(&got[k]), &want, &format!("x[{start:?}:{stop:?}:{step}]"));
        assert_exact(&f64s(&got_fixed[k]), &want, &format!("x7[{start:?}:{stop:?}:{step}]"));
    }
    // Range sugar.
    let cases: Vec<(Index, Vec<usize>)> = vec![
        (Index::from(1..3), vec![1, 2]),
        (Index::from(2isize..), vec![2, 3, 4, 5, 6]),
        (Index::from(..-2isize), vec![0, 1, 2, 3, 4]),
        (Index::from(..), (0..7).collect()),
        (Index::rev(), (0..7).rev().collect()),
        (Index::step(3), vec![0, 3, 6]),
        (Index::step(-3), vec![6, 3, 0]),
    ];
    for (index, positions) in cases {
        let y = x.get(std::slice::from_ref(&index));
        let want: Vec<f64> = positions.iter().map(|&p| xv[p]).collect();
        assert_exact(&f64s(&eval1(&x, &y, xv.clone())), &want, &format!("{index:?}"));
    }
    assert!(x.get(&[Index::step(0)]).check().is_err());
}

#[test]
fn symbolic_slice_bounds_follow_numpy_rules() {
    // `x[a:b:k]` with bounds given at call time, one function per choice of omitted bounds,
    // against the same positions NumPy takes.
    let x = tl::dvector("x");
    let (a, b, k) = (tl::lscalar("a"), tl::iscalar("b"), tl::lscalar("k"));
    let xv: Vec<f64> = (0..7).map(|k| 10.0 * k as f64 + 1.0).collect();
    for (has_start, has_stop) in [(true, true), (true, false), (false, true), (false, false)] {
        let start = has_start.then(|| tl::SliceBound::from(&a));
        let stop = has_stop.then(|| tl::SliceBound::from(&b));
        let y = x.get(&[Index::range(start, stop, &k)]);
        assert_eq!(y.ty().shape, vec![None], "a symbolic bound leaves the length to run time");
        let f = tl::Function::builder(&[&x, &a, &b, &k], &[y])
            .on_unused_input(tl::OnUnusedInput::Ignore)
            .build()
            .expect("compiles");
        for start in BOUNDS.iter().filter(|s| s.is_some() == has_start) {
            for stop in BOUNDS.iter().filter(|s| s.is_some() == has_stop) {
                for step in STEPS {
                    let got = f
                        .call(&tl::args![
                            xv.clone(),
                            start.unwrap_or(0) as i64,
                            stop.unwrap_or(0) as i32,
                            step as i64
                        ])
                        .expect("runs");
                    let want: Vec<f64> = numpy_slice(7, *start, *stop, step).iter().map(|&p| xv[p]).collect();
                    assert_exact(&f64s(&got[0]), &want, &format!("x[{start:?}:{stop:?}:{step}] symbolic"));
                }
            }
        }
        // A zero step is an error at call time, a typed one.
        let err = f.call(&tl::args![xv.clone(), 0i64, 3i32, 0i64]).expect_err("step 0");
        assert!(err.to_string().contains("step cannot be zero"), "{err}");
    }
    // Extreme bounds clip as NumPy clips them.
    let f = tl::function(&[&x, &a, &k], &[x.get(&[Index::range(Some((&a).into()), None, &k)])])
        .expect("compiles");
    for (start, step, want) in
        [(i64::MIN, 1i64, 7usize), (i64::MAX, -1, 7), (i64::MIN, i64::MIN, 0), (3, i64::MAX, 1)]
    {
        let got = f.call(&tl::args![xv.clone(), start, step]).expect("runs");
        assert_eq!(got[0].shape(), &[want], "x[{start}::{step}]");
    }
}

#[test]
fn minibatch_slices_through_givens() {
    // Theano's minibatch idiom: `givens={x: data[i * bs:(i + 1) * bs]}` with a symbolic index
    // into a shared dataset; the last batch is short when the rows run out.
    let rows: Vec<f64> = (0..10 * 3).map(|v| v as f64).collect();
    let data =
        tl::shared(Tensor::from(ArrayD::from_shape_vec(IxDyn(&[10, 3]), rows.clone()).unwrap()), "data");
    let i = tl::lscalar("i");
    let x = tl::dmatrix("x");
    let bs = 4i64;
    let batch = data.get(&[Index::from((&i * bs)..((&i + 1) * bs))]);
    let f = tl::Function::builder(&[&i], &[x.sum_opts(1, false)])
        .givens(&[(&x, &batch)])
        .build()
        .expect("compiles");
    for (index, lo, hi) in [(0i64, 0usize, 4usize), (1, 4, 8), (2, 8, 10), (3, 10, 10)] {
        let got = f.call(&tl::args![index]).expect("runs");
        let want: Vec<f64> = (lo..hi).map(|r| (0..3).map(|c| rows[r * 3 + c]).sum()).collect();
        assert_exact(&f64s(&got[0]), &want, &format!("batch {index}"));
    }
    // The gradient flows into the sliced rows only.
    let s = tl::dvector("s");
    let w = s.get(&[Index::from(i.clone()..(&i + 2i64))]);
    let g = tl::grad(&tl::sum(tl::sqr(&w)), &s).expect("grad");
    let f = tl::function(&[&s, &i], &[g]).expect("compiles");
    let got = f.call(&tl::args![vec![1.0, 2.0, 3.0, 4.0], 1i64]).expect("runs");
    assert_exact(&f64s(&got[0]), &[0.0, 4.0, 6.0, 0.0], "grad of a symbolic slice");
}

#[test]
fn arange_follows_numpy_and_theano_dtypes() {
    // Numbers alone fold to a constant of known length.
    let c = tl::arange((2, 11, 3));
    assert_eq!(c.ty().shape, vec![Some(3)]);
    assert_eq!(c.dtype(), DType::I64);
    let n = tl::lscalar("n");
    let (start, step) = (tl::lscalar("start"), tl::lscalar("step"));
    let y = tl::arange((&start, &n, &step));
    assert_eq!((y.dtype(), y.ty().shape.clone()), (DType::I64, vec![None]));
    let f = tl::function(&[&start, &n, &step], &[y]).expect("compiles");
    for (a, b, k) in
        [(0i64, 5i64, 1i64), (2, 11, 3), (5, 0, -2), (3, 3, 1), (4, 2, 1), (-3, 4, 4), (0, -10, -3)]
    {
        let got = f.call(&tl::args![a, b, k]).expect("runs");
        let want: Vec<f64> = (0..)
            .map(|i| a + i * k)
            .take_while(|&v| if k > 0 { v < b } else { v > b })
            .map(|v| v as f64)
            .collect();
        assert_eq!(got[0].dtype(), DType::I64);
        assert_exact(&f64s(&got[0].cast(DType::F64)), &want, &format!("arange({a}, {b}, {k})"));
    }
    let err = f.call(&tl::args![0i64, 5i64, 0i64]).expect_err("zero step");
    assert!(err.to_string().contains("step cannot be zero"), "{err}");
    // A float bound gives its float dtype; the length is NumPy's ceil((stop - start) / step).
    let x = tl::fscalar("x");
    let y = tl::arange((0, &x, 0.5));
    assert_eq!(y.dtype(), DType::F32);
    let got = tl::function(&[&x], &[y]).expect("compiles").call(&tl::args![2.2f32]).expect("runs");
    assert_exact(&f64s(&got[0].cast(DType::F64)), &[0.0, 0.5, 1.0, 1.5, 2.0], "arange(0, 2.2, 0.5)");
    // `arange(shape[0])` indexes as long as the axis, proven by shape inference.
    let m = tl::dmatrix("m");
    let r = tl::arange(m.shape_i(0));
    let total = tl::sum(tl::cast(&r, DType::F64) * m.sum_opts(1, false));
    let got = tl::function(&[&m], &[total])
        .expect("compiles")
        .call(&tl::args![vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]])
        .expect("runs");
    assert_exact(&f64s(&got[0]), &[0.0 * 3.0 + 1.0 * 7.0 + 2.0 * 11.0], "sum(arange(n) * rowsums)");
}

#[test]
fn index_positive_negative_and_symbolic() {
    let x = tl::dvector("x");
    let xv = vec![10.0, 11.0, 12.0, 13.0];
    for (k, want) in [(0isize, 10.0), (3, 13.0), (-1, 13.0), (-4, 10.0), (2, 12.0)] {
        let y = x.index(k);
        assert_eq!(y.ndim(), 0);
        let t = eval1(&x, &y, xv.clone());
        assert_eq!(t.shape(), &[] as &[usize]);
        assert_exact(&f64s(&t), &[want], &format!("x[{k}]"));
    }
    assert!(try_eval(&[&x], &x.index(4), &tl::args![xv.clone()]).is_err());
    assert!(try_eval(&[&x], &x.index(-5), &tl::args![xv.clone()]).is_err());
    // Static bounds are checked when building.
    assert!(tl::tensor("x4", DType::F64, &[Some(4)]).index(4).check().is_err());
    // Symbolic index, int64 and int32.
    let i = tl::lscalar("i");
    let y = x.index(&i);
    let f = tl::function(&[&x, &i], &[&y]).expect("compiles");
    for k in -4i64..4 {
        let t = f.call(&tl::args![xv.clone(), k]).expect("runs").remove(0);
        let want = xv[(k + if k < 0 { 4 } else { 0 }) as usize];
        assert_exact(&f64s(&t), &[want], &format!("x[i = {k}]"));
    }
    assert!(f.call(&tl::args![xv.clone(), 4i64]).is_err());
    assert!(f.call(&tl::args![xv.clone(), -5i64]).is_err());
    let j = tl::iscalar("j");
    let t = eval(&[&x, &j], &x.index(&j), &tl::args![xv.clone(), -2i32]);
    assert_exact(&f64s(&t), &[12.0], "x[j = -2]");
    // A float index is refused.
    assert!(x.index(tl::dscalar("d")).check().is_err());
    // A row of a matrix.
    let m = tl::dmatrix("m");
    let mv = grid(&[3, 4], |ix| (ix[0] * 4 + ix[1]) as f64);
    let want = grid(&[4], |ix| mv[[2, ix[0]].as_slice()]);
    assert_array(&eval1(&m, &m.index(-1), &mv), &want, "m[-1]");
}

#[test]
fn index_2d_mixed() {
    let m = tl::dmatrix("m");
    let (rows, cols) = (4usize, 5usize);
    let mv = grid(&[rows, cols], |ix| (ix[0] * 10 + ix[1]) as f64);
    let i = tl::lscalar("i");
    /// What an index entry takes on its axis: one position (the axis disappears) or a list.
    enum Ax {
        Pos(usize),
        Slice(Vec<usize>),
    }
    impl Ax {
        fn positions(&self) -> Vec<usize> {
            match self {
                Ax::Pos(p) => vec![*p],
                Ax::Slice(s) => s.clone(),
            }
        }
        fn len(&self) -> Option<usize> {
            match self {
                Ax::Pos(_) => None,
                Ax::Slice(s) => Some(s.len()),
            }
        }
    }
    let cases: Vec<(Vec<Index>, Ax, Ax)> = vec![
        (vec![Index::from(1..3), Index::rev()], Ax::Slice(vec![1, 2]), Ax::Slice(vec![4, 3, 2, 1, 0])),
        (vec![Index::step(2), Index::from(-1)], Ax::Slice(vec![0, 2]), Ax::Pos(4)),
        (vec![Index::from(-2), Index::slice(Some(1), None, 2)], Ax::Pos(2), Ax::Slice(vec![1, 3])),
        (
            vec![Index::slice(None, None, -2), Index::slice(Some(-2), Some(0), -1)],
            Ax::Slice(vec![3, 1]),
            Ax::Slice(vec![3, 2, 1]),
        ),
        (vec![Index::from(0), Index::from(0)], Ax::Pos(0), Ax::Pos(0)),
        (vec![Index::from(1isize..)], Ax::Slice(vec![1, 2, 3]), Ax::Slice((0..cols).collect())),
        (vec![Index::from(..), Index::from(3)], Ax::Slice((0..rows).collect()), Ax::Pos(3)),
        (vec![Index::from(2..100), Index::from(-100..2)], Ax::Slice(vec![2, 3]), Ax::Slice(vec![0, 1])),
        (vec![Index::from(&i), Index::slice(Some(4), Some(0), -2)], Ax::Pos(1), Ax::Slice(vec![4, 2])),
    ];
    for (index, r, c) in cases {
        let y = m.get(&index);
        let shape: Vec<usize> = [r.len(), c.len()].into_iter().flatten().collect();
        let mut want = Vec::new();
        for p in r.positions() {
            for q in c.positions() {
                want.push(mv[[p, q].as_slice()]);
            }
        }
        let uses_i = index.iter().any(|e| matches!(e, Index::AtVar(_)));
        let t = if uses_i { eval(&[&m, &i], &y, &tl::args![&mv, 1i64]) } else { eval1(&m, &y, &mv) };
        assert_eq!(t.shape(), &shape[..], "m{index:?}");
        assert_exact(&f64s(&t), &want, &format!("m{index:?}"));
    }
    // Trailing axes are taken whole; the idx! macro.
    let x = tl::dtensor3("x");
    let xv = iota3();
    let want = grid(&[2, 4], |ix| xv[[ix[0], 1, ix[1]].as_slice()]);
    assert_array(&eval1(&x, &x.get(tl::idx![.., 1]), &xv), &want, "x[:, 1]");
    let want = grid(&[3, 4], |ix| xv[[1, ix[0], ix[1]].as_slice()]);
    assert_array(&eval1(&x, &x.index(1), &xv), &want, "x[1]");
    assert!(m.get(&[Index::from(0), Index::from(0), Index::from(0)]).check().is_err());
}

#[test]
fn set_subtensor_and_inc_subtensor() {
    let m = tl::dmatrix("m");
    let mv = grid(&[3, 4], |ix| (ix[0] * 4 + ix[1]) as f64);
    let v = tl::dvector("v");
    let vv = vec![100.0, 200.0, 300.0, 400.0];

    // A whole row set to a vector.
    let y = tl::set_subtensor(&m, &[Index::from(1)], &v);
    let want = grid(&[3, 4], |ix| if ix[0] == 1 { vv[ix[1]] } else { mv[ix] });
    assert_array(&eval(&[&m, &v], &y, &tl::args![&mv, vv.clone()]), &want, "m[1] = v");

    // A block set to a number (broadcast).
    let y = tl::set_subtensor(&m, &[Index::from(..), Index::from(1..3)], 9.0);
    let want = grid(&[3, 4], |ix| if (1..3).contains(&ix[1]) { 9.0 } else { mv[ix] });
    assert_array(&eval1(&m, &y, &mv), &want, "m[:, 1:3] = 9");

    // Rows 0 and 2 incremented by a vector broadcast over the rows.
    let y = tl::inc_subtensor(&m, &[Index::step(2)], &v);
    let want = grid(&[3, 4], |ix| if ix[0] % 2 == 0 { mv[ix] + vv[ix[1]] } else { mv[ix] });
    assert_array(&eval(&[&m, &v], &y, &tl::args![&mv, vv.clone()]), &want, "m[::2] += v");

    // A column (k x 1) value broadcast along the columns of the region.
    let c = tl::col("c");
    let cv = grid(&[2, 1], |ix| -(ix[0] as f64) - 1.0);
    let y = tl::inc_subtensor(&m, &[Index::from(1..3), Index::rev()], &c);
    let want =
        grid(
            &[3, 4],
            |ix| if (1..3).contains(&ix[0]) { mv[ix] + cv[[ix[0] - 1, 0].as_slice()] } else { mv[ix] },
        );
    assert_array(&eval(&[&m, &c], &y, &tl::args![&mv, &cv]), &want, "m[1:3, ::-1] += c");

    // A single element, symbolic position.
    let i = tl::lscalar("i");
    let y = tl::inc_subtensor(&m, &[Index::from(&i), Index::from(-1)], 0.5);
    let want = grid(&[3, 4], |ix| if ix == [2, 3] { mv[ix] + 0.5 } else { mv[ix] });
    assert_array(&eval(&[&m, &i], &y, &tl::args![&mv, -1i64]), &want, "m[i, -1] += 0.5");
    let y = tl::set_subtensor(&m, &[Index::from(&i)], &v);
    let want = grid(&[3, 4], |ix| if ix[0] == 0 { vv[ix[1]] } else { mv[ix] });
    assert_array(&eval(&[&m, &i, &v], &y, &tl::args![&mv, 0i64, vv.clone()]), &want, "m[i] = v");

    // The input is not modified, and calling twice gives the same result.
    let y = tl::inc_subtensor(&m, &[Index::from(0)], 1.0);
    let f = tl::function(&[&m], &[&y]).expect("compiles");
    let arg = Tensor::from(mv.clone());
    let first = f.call(&tl::args![&arg]).expect("runs").remove(0);
    let second = f.call(&tl::args![&arg]).expect("runs").remove(0);
    assert_eq!(first, second);
    assert_eq!(arg, Tensor::from(mv.clone()));

    // Both results of one graph: x and set_subtensor(x) stay distinct.
    let y = tl::set_subtensor(&m, &[Index::from(0)], 0.0);
    let f = tl::function(&[&m], &[&m, &y]).expect("compiles");
    let r = f.call(&tl::args![&mv]).expect("runs");
    assert_array(&r[0], &mv, "m itself");
    assert_eq!(r[1].to_f64_vec()[..4], [0.0; 4]);

    // A value that does not fit the region is an error.
    assert!(try_eval(
        &[&m, &v],
        &tl::set_subtensor(&m, &[Index::from(0)], &v),
        &tl::args![&mv, vec![1.0, 2.0]]
    )
    .is_err());
    // A float value into an integer tensor is refused at build time.
    let l = tl::lmatrix("l");
    assert!(tl::set_subtensor(&l, &[Index::from(0)], &v).check().is_err());
    let y = tl::inc_subtensor(&l, &[Index::from(0)], 2);
    assert_eq!(y.dtype(), DType::I64);
    assert_eq!(i64s(&eval1(&l, &y, vec![vec![1i64, 2], vec![3, 4]])), vec![3, 4, 3, 4]);
}

#[test]
fn set_subtensor_on_numpy_slices() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let xv: Vec<f64> = (0..7).map(|k| k as f64).collect();
    for start in BOUNDS {
        for stop in BOUNDS {
            for step in [-3isize, -1, 2] {
                let positions = numpy_slice(7, start, stop, step);
                let yv: Vec<f64> = (0..positions.len()).map(|k| 100.0 * (k + 1) as f64).collect();
                let mut set = xv.clone();
                let mut inc = xv.clone();
                for (k, &p) in positions.iter().enumerate() {
                    set[p] = yv[k];
                    inc[p] += yv[k];
                }
                let index = [Index::slice(start, stop, step)];
                let what = format!("[{start:?}:{stop:?}:{step}]");
                let s = tl::set_subtensor(&x, &index, &y);
                assert_exact(
                    &f64s(&eval(&[&x, &y], &s, &tl::args![xv.clone(), yv.clone()])),
                    &set,
                    &format!("set {what}"),
                );
                let i = tl::inc_subtensor(&x, &index, &y);
                assert_exact(
                    &f64s(&eval(&[&x, &y], &i, &tl::args![xv.clone(), yv.clone()])),
                    &inc,
                    &format!("inc {what}"),
                );
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Views: kernels reading transposed, reversed and strided values
// ------------------------------------------------------------------------------------------

/// Every op applied to a view (a transpose, a reversed or strided slice) gives what it gives
/// on a contiguous copy of the same values, and that copy is checked by the loops above. The
/// data are small integers, so every float result is exact in any summation order.
#[test]
fn ops_on_views_match_ops_on_copies() {
    let m = tl::dmatrix("m");
    let mv = grid(&[3, 4], |ix| ((ix[0] * 4 + ix[1]) * 7 % 5) as f64 - 2.0);
    let views: Vec<(&str, Var, ArrayD<f64>)> = vec![
        ("m.T", m.t(), grid(&[4, 3], |ix| mv[[ix[1], ix[0]].as_slice()])),
        ("m[::-1]", m.get(&[Index::rev()]), grid(&[3, 4], |ix| mv[[2 - ix[0], ix[1]].as_slice()])),
        (
            "m[:, ::-2]",
            m.get(&[Index::from(..), Index::step(-2)]),
            grid(&[3, 2], |ix| mv[[ix[0], 3 - 2 * ix[1]].as_slice()]),
        ),
        (
            "m.T[::-1, 1:]",
            m.t().get(&[Index::rev(), Index::from(1isize..)]),
            grid(&[4, 2], |ix| mv[[ix[1] + 1, 3 - ix[0]].as_slice()]),
        ),
    ];
    type Op = (&'static str, fn(&Var) -> Var);
    let ops: Vec<Op> = vec![
        ("x * 2 + 1", |x| x * 2 + 1),
        ("exp(x)", |x| x.exp()),
        ("x + x[0]", |x| x + x.index(0)),
        ("sum", |x| x.sum()),
        ("sum axis 0", |x| x.sum_axis(0)),
        ("mean axis 1", |x| x.mean_axis(1)),
        ("prod axis 0", |x| x.prod_axis(0)),
        ("max axis 1", |x| x.max_axis(1)),
        ("argmax axis 1", |x| x.argmax_axis(1)),
        ("argmin", |x| x.argmin()),
        ("any axis 0", |x| x.any_axis(0)),
        ("softmax axis 1", |x| tl::softmax(x, 1)),
        ("log_softmax axis 0", |x| tl::log_softmax(x, 0)),
        ("logsumexp axis 0", |x| tl::logsumexp(x, 0, true)),
        ("reshape -1", |x| x.reshape(&[-1])),
        ("flatten 1", |x| x.flatten(1)),
        ("transpose", |x| x.t()),
        ("dimshuffle", |x| x.dimshuffle(&[Some(1), None, Some(0)])),
        ("x . x.T", |x| tl::dot(x, x.t())),
        ("x[0] . x.T", |x| tl::dot(x.index(0), x.t())),
        ("x[-1]", |x| x.index(-1)),
        ("x[::-1, 1]", |x| x.get(&[Index::rev(), Index::from(1)])),
        ("concatenate", |x| tl::concatenate(&[x.clone(), x * 10], 1)),
        ("stack", |x| tl::stack(&[x.clone(), -x], 0)),
        ("set_subtensor", |x| tl::set_subtensor(x, &[Index::from(0)], 5.0)),
        ("inc_subtensor", |x| tl::inc_subtensor(x, &[Index::from(..), Index::rev()], x)),
        ("switch", |x| tl::switch(x.gt(0.0), x, x * 3)),
    ];
    let c = tl::dmatrix("c");
    for (vname, view, copy) in &views {
        for (oname, op) in &ops {
            let got = eval1(&m, &op(view), &mv);
            let want = eval1(&c, &op(&c), copy);
            assert_eq!(got, want, "{oname} of {vname}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// IEEE specials flow through
// ------------------------------------------------------------------------------------------

#[test]
fn nan_and_infinities_flow_like_ieee() {
    let (a, b) = (tl::dvector("a"), tl::dvector("b"));
    let inf = f64::INFINITY;
    let av = vec![1.0, -1.0, 0.0, inf, inf, f64::NAN, 0.0, -inf];
    let bv = vec![0.0, 0.0, 0.0, inf, 0.0, 1.0, -0.0, 2.0];
    let args = tl::args![av.clone(), bv.clone()];
    let cases: Vec<Binary<f64>> = vec![
        (&a / &b, |p, q| p / q),
        (&a - &b, |p, q| p - q),
        (&a * &b, |p, q| p * q),
        (&a + &b, |p, q| p + q),
        (tl::log(&a) + &b, |p, q| p.ln() + q),
        (tl::sqrt(-&a) * &b, |p, q| (-p).sqrt() * q),
        (tl::exp(&a) - tl::exp(&b), |p, q| p.exp() - q.exp()),
        (a.pow(&b), |p, q| p.powf(q)),
    ];
    for (y, reference) in cases {
        let got = f64s(&eval(&[&a, &b], &y, &args));
        let want: Vec<f64> = av.iter().zip(&bv).map(|(&p, &q)| reference(p, q)).collect();
        assert_exact(&got, &want, &y.to_string());
    }
    // Spot checks of the IEEE results themselves.
    let got = f64s(&eval(&[&a, &b], &(&a / &b), &args));
    assert_eq!(got[0], inf);
    assert_eq!(got[1], -inf);
    assert!(got[2].is_nan());
    assert_eq!(f64s(&eval1(&a, &a.log(), vec![0.0]))[0], -inf);
    assert!(f64s(&eval1(&a, &a.sqrt(), vec![-1.0]))[0].is_nan());
    // Through a reduction and a softmax.
    assert!(f64s(&eval1(&a, &a.sum(), vec![1.0, f64::NAN]))[0].is_nan());
    assert_eq!(f64s(&eval1(&a, &a.sum(), vec![1.0, inf]))[0], inf);
    assert!(f64s(&eval1(&a, &a.sum(), vec![-inf, inf]))[0].is_nan());
    assert!(f64s(&eval1(&a, &a.mean(), Vec::<f64>::new()))[0].is_nan());
    let sm = f64s(&eval1(&a, &tl::softmax(&a, 0), vec![0.0, f64::NEG_INFINITY]));
    assert_exact(&sm, &[1.0, 0.0], "softmax with -inf");
}

#[test]
fn open_ranges_of_plain_integer_literals_index() {
    // `1..` and `..-1` with unsuffixed literals (i32) index like their isize forms.
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.get(&[(1..).into()]), x.get(&[(..-1).into()])]).unwrap();
    let out = f.call(&tl::args![vec![1.0, 2.0, 3.0]]).unwrap();
    assert_eq!(out[0].to_vec::<f64>().unwrap(), vec![2.0, 3.0]);
    assert_eq!(out[1].to_vec::<f64>().unwrap(), vec![1.0, 2.0]);
}

#[test]
fn floor_division_and_modulo_follow_numpy() {
    // NumPy's `floor_divide` and `mod` (Python's signs), float64 and int64, bit for bit.
    let a = [-7.0, -7.5, -1.0, -0.0, 0.0, 1.0, 0.5, 7.0, 7.5, 1.0, -1e300, 3.0];
    let b = [2.0, -2.0, 0.1, 3.0, -3.0, -0.1, 2.0, -2.0, 0.25, 0.1, 3.0, -1e-300];
    let fd = [-4.0, 3.0, -10.0, -0.0, -0.0, -10.0, 0.0, -4.0, 30.0, 9.0, -3.3333333333333335e+299, -3e+300];
    let fm = [
        1.0,
        -1.5,
        5.551115123125783e-17,
        0.0,
        -0.0,
        -5.551115123125783e-17,
        0.5,
        -1.0,
        0.0,
        0.09999999999999995,
        0.0,
        -3.1104404158808657e-301,
    ];
    let (x, y) = (tl::dvector("x"), tl::dvector("y"));
    let f = tl::function(&[&x, &y], &[x.floor_div(&y), &x % &y]).expect("compiles");
    let got = f.call(&tl::args![a.to_vec(), b.to_vec()]).expect("runs");
    for (k, (want, what)) in [(&fd, "//"), (&fm, "%")].into_iter().enumerate() {
        let bits: Vec<u64> = f64s(&got[k]).iter().map(|v| v.to_bits()).collect();
        let want_bits: Vec<u64> = want.iter().map(|v: &f64| v.to_bits()).collect();
        assert_eq!(bits, want_bits, "float64 {what}: {:?}", f64s(&got[k]));
    }
    let ai: Vec<i64> = vec![-7, -7, 7, 7, 0, -1, 5, i64::MIN, 3, -3];
    let bi: Vec<i64> = vec![2, -2, 2, -2, 3, 5, 0, -1, 0, 7];
    let (p, q) = (tl::lvector("p"), tl::lvector("q"));
    let f = tl::function(&[&p, &q], &[p.floor_div(&q), &p % &q]).expect("compiles");
    let got = f.call(&tl::args![ai, bi]).expect("runs");
    assert_eq!(got[0].dtype(), DType::I64);
    let ints = |t: &Tensor| t.array::<i64>().expect("int64").iter().copied().collect::<Vec<_>>();
    assert_eq!(ints(&got[0]), vec![-4, 3, 3, -4, 0, -1, 0, i64::MIN, 0, -1]);
    assert_eq!(ints(&got[1]), vec![1, -1, 1, -1, 0, 4, 0, 0, 0, 4]);
    // `//` has zero gradient (Theano's); `%` passes the gradient to `a` and `-(a // b)` to `b`.
    let (u, w) = (tl::dscalar("u"), tl::dscalar("w"));
    let gs = tl::grad(&(u.floor_div(&w) + &u % &w), &[&u, &w]).expect("grad");
    let f = tl::function(&[&u, &w], &gs).expect("compiles");
    let got = f.call(&tl::args![7.5, 2.0]).expect("runs");
    assert_eq!((f64s(&got[0])[0], f64s(&got[1])[0]), (1.0, -3.0));
}

#[test]
fn reshape_to_symbolic_lengths() {
    // `x.reshape((n, -1))` with `n` given at call time, and `y.shape[0]` of another tensor.
    let x = tl::dvector("x");
    let (n, y) = (tl::lscalar("n"), tl::dmatrix("y"));
    let a = tl::reshape(&x, &[(&n).into(), (-1).into()]);
    let b = tl::reshape(&x, &[tl::shape_i(&y, 0).into(), 2.into(), (-1).into()]);
    assert_eq!(a.ty().shape, vec![None, None]);
    let f = tl::function(&[&x, &n, &y], &[a, b]).expect("compiles");
    let xs: Vec<f64> = (0..12).map(f64::from).collect();
    let got = f.call(&tl::args![xs.clone(), 3i64, vec![vec![0.0; 2]; 3]]).expect("runs");
    assert_eq!((got[0].shape(), got[1].shape()), (&[3usize, 4][..], &[3usize, 2, 2][..]));
    assert_exact(&f64s(&got[1]), &xs, "row-major order kept");
    // A length that does not divide, or a negative one, is a typed error at call time.
    let err = f.call(&tl::args![xs.clone(), 5i64, vec![vec![0.0; 2]; 3]]).expect_err("12 is not 5 × k");
    assert!(err.to_string().contains("cannot reshape"), "{err}");
    let err = f.call(&tl::args![xs.clone(), -3i64, vec![vec![0.0; 2]; 3]]).expect_err("negative");
    assert!(err.to_string().contains("negative"), "{err}");
    // `x.shape[k]` of `x` itself keeps the axis; a constant length is fixed.
    let m = tl::dmatrix("m");
    let kept = tl::reshape(
        &m,
        &[tl::shape_i(&m, 0).into(), tl::constant(tl::Tensor::from(1i64)).into(), (-1).into()],
    );
    assert_eq!(kept.inputs().len(), 1, "no length input: {}", tl::pp(&kept));
    // The gradient flows back through the symbolic reshape.
    let g = tl::grad(&tl::sum(tl::sqr(tl::reshape(&x, &[(&n).into(), (-1).into()]))), &x).expect("grad");
    let f = tl::function(&[&x, &n], &[g]).expect("compiles");
    let got = f.call(&tl::args![vec![1.0, 2.0, 3.0, 4.0], 2i64]).expect("runs");
    assert_exact(&f64s(&got[0]), &[2.0, 4.0, 6.0, 8.0], "grad");
}

// ------------------------------------------------------------------------------------------
// Variance, standard deviation, broadcastability
// ------------------------------------------------------------------------------------------

#[test]
fn var_and_std_divide_by_n_minus_ddof() {
    // A 3x4 matrix; the reference is the two-pass formula over each axis set.
    let data: Vec<f64> = (0..12).map(|i| ((i * 7 % 5) as f64) * 0.75 - (i as f64) * 0.1).collect();
    let x = tl::dmatrix("x");
    let arg = || tl::Arg::from(ndarray::Array2::from_shape_vec((3, 4), data.clone()).unwrap());
    let reference = |values: &[f64], ddof: usize| {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - ddof as f64)
    };
    for ddof in [0, 1, 2] {
        let all = f64s(&eval(&[&x], &tl::var(&x, Axes::All, ddof, false), &[arg()]));
        assert!(close(all[0], reference(&data, ddof), 1e-14), "ddof {ddof}: {all:?}");
        let cols = f64s(&eval(&[&x], &tl::var(&x, 0, ddof, false), &[arg()]));
        for (j, got) in cols.iter().enumerate() {
            let col: Vec<f64> = (0..3).map(|i| data[i * 4 + j]).collect();
            assert!(close(*got, reference(&col, ddof), 1e-14), "ddof {ddof} column {j}");
        }
        let rows = eval(&[&x], &tl::std(&x, -1, ddof, true), &[arg()]);
        assert_eq!(rows.shape(), &[3, 1]);
        for (i, got) in f64s(&rows).iter().enumerate() {
            assert!(close(*got, reference(&data[i * 4..i * 4 + 4], ddof).sqrt(), 1e-14));
        }
    }
    // Integers give float64; the count is read at run time.
    let v = tl::ivector("v");
    let out = eval(&[&v], &tl::var(&v, Axes::All, 1, false), &[tl::Arg::from(ndarray::arr1(&[1i32, 2, 6]))]);
    assert_eq!(out.dtype(), DType::F64);
    assert!(close(f64s(&out)[0], 7.0, 1e-15));
    // A bad axis is a build error.
    assert!(tl::var(&x, 2, 0, false).check().is_err());
}

#[test]
fn rebroadcast_sets_static_broadcastability_and_checks_it() {
    let m = tl::dmatrix("m");
    let b = tl::addbroadcast(&m, &[0]);
    assert_eq!(b.ty().shape, vec![Some(1), None]);
    assert_eq!(tl::unbroadcast(&b, &[0]).ty().shape, vec![None, None]);
    assert_eq!(tl::patternbroadcast(&m, &[false, true]).ty().shape, vec![None, Some(1)]);
    // A broadcastable axis now broadcasts against a longer one.
    let v = tl::dmatrix("v");
    let sum = &b + &v;
    let got = eval(
        &[&m, &v],
        &sum,
        &[
            tl::Arg::from(ndarray::arr2(&[[1.0, 2.0]])),
            tl::Arg::from(ndarray::arr2(&[[10.0, 20.0], [30.0, 40.0]])),
        ],
    );
    assert_eq!(f64s(&got), vec![11.0, 22.0, 31.0, 42.0]);
    // The length is checked when the function runs.
    let err = try_eval(&[&m], &(&b * 2.0), &[tl::Arg::from(ndarray::arr2(&[[1.0], [2.0]]))]).unwrap_err();
    assert!(err.contains("cannot broadcast"), "{err}");
    // Build errors: a static length other than 1, a bad axis, a pattern of the wrong length.
    let e = tl::addbroadcast(tl::tensor("s", DType::F64, &[Some(3)]), &[0]).check().unwrap_err();
    assert!(e.to_string().contains("length 3"), "{e}");
    assert!(tl::addbroadcast(&m, &[2]).check().is_err());
    assert!(tl::patternbroadcast(&m, &[true]).check().is_err());
    // The gradient keeps the input's broadcastability.
    let g = tl::grad(&tl::sum(tl::sqr(&b) * &v), &m).unwrap();
    assert_eq!(g.ty().shape, vec![None, None]);
    let got = eval(
        &[&m, &v],
        &g,
        &[
            tl::Arg::from(ndarray::arr2(&[[1.0, 2.0]])),
            tl::Arg::from(ndarray::arr2(&[[1.0, 1.0], [2.0, 3.0]])),
        ],
    );
    assert_eq!(f64s(&got), vec![6.0, 16.0]);
}
