//! Gradients: every differentiable op checked against central finite differences with
//! `verify_grad` (several points, shapes that broadcast), second derivatives, Hessians, the
//! options of `grad`, and its errors.

use ndarray::{Array2, ArrayD, IxDyn};
use tensorlift as tl;
use tl::{Index, Tensor, Var};

/// Deterministic test data in `[lo, hi)`.
fn data(shape: &[usize], seed: u64, lo: f64, hi: f64) -> Tensor {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect();
    Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

/// `verify_grad` of `f` at three seeded points of the given shapes and range.
fn check(f: impl Fn(&[Var]) -> Var + Copy, shapes: &[&[usize]], lo: f64, hi: f64) {
    for seed in 1..=3 {
        let points: Vec<Tensor> =
            shapes.iter().enumerate().map(|(k, s)| data(s, seed * 10 + k as u64, lo, hi)).collect();
        if let Err(e) = tl::verify_grad(f, &points, tl::VerifyGradOptions::default()) {
            panic!("seed {seed}: {e}");
        }
    }
}

macro_rules! unary_grad_tests {
    ($($name:ident: $f:expr, $lo:expr, $hi:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(|x| $f(&x[0]), &[&[5]], $lo, $hi);
                check(|x| $f(&x[0]), &[&[2, 3]], $lo, $hi);
            }
        )*
    };
}

unary_grad_tests! {
    grad_neg: |x: &Var| -x, -2.0, 2.0;
    grad_abs: |x: &Var| x.abs(), 0.1, 2.0;
    grad_abs_negative: |x: &Var| x.abs(), -2.0, -0.1;
    grad_sqr: |x: &Var| x.sqr(), -2.0, 2.0;
    grad_sqrt: |x: &Var| x.sqrt(), 0.5, 3.0;
    grad_reciprocal: |x: &Var| x.reciprocal(), 0.5, 3.0;
    grad_exp: |x: &Var| x.exp(), -2.0, 2.0;
    grad_expm1: |x: &Var| x.expm1(), -2.0, 2.0;
    grad_log: |x: &Var| x.log(), 0.5, 3.0;
    grad_log1p: |x: &Var| x.log1p(), -0.5, 3.0;
    grad_log2: |x: &Var| x.log2(), 0.5, 3.0;
    grad_log10: |x: &Var| x.log10(), 0.5, 3.0;
    grad_sin: |x: &Var| x.sin(), -3.0, 3.0;
    grad_cos: |x: &Var| x.cos(), -3.0, 3.0;
    grad_tan: |x: &Var| x.tan(), -1.2, 1.2;
    grad_tanh: |x: &Var| x.tanh(), -2.0, 2.0;
    grad_arcsin: |x: &Var| x.arcsin(), -0.9, 0.9;
    grad_arccos: |x: &Var| x.arccos(), -0.9, 0.9;
    grad_arctan: |x: &Var| x.arctan(), -3.0, 3.0;
    grad_sinh: |x: &Var| x.sinh(), -2.0, 2.0;
    grad_cosh: |x: &Var| x.cosh(), -2.0, 2.0;
    grad_arcsinh: |x: &Var| x.arcsinh(), -3.0, 3.0;
    grad_arccosh: |x: &Var| x.arccosh(), 1.5, 4.0;
    grad_arctanh: |x: &Var| x.arctanh(), -0.9, 0.9;
    grad_sigmoid: |x: &Var| x.sigmoid(), -4.0, 4.0;
    grad_softplus: |x: &Var| x.softplus(), -4.0, 4.0;
    grad_erf: |x: &Var| x.erf(), -2.0, 2.0;
    grad_pow_const: |x: &Var| x.pow(3), -2.0, 2.0;
    grad_pow_fractional: |x: &Var| x.pow(2.5), 0.5, 2.0;
    grad_clip: |x: &Var| x.clip(-0.5, 0.5), -1.0, 1.0;
    grad_sum: |x: &Var| x.sum(), -1.0, 1.0;
    grad_mean: |x: &Var| x.mean(), -1.0, 1.0;
    grad_prod: |x: &Var| x.prod(), 0.5, 1.5;
    grad_max: |x: &Var| x.max(), -1.0, 1.0;
    grad_min: |x: &Var| x.min(), -1.0, 1.0;
}

fn two(shapes: &[&[usize]], f: impl Fn(&Var, &Var) -> Var + Copy, lo: f64, hi: f64) {
    check(|x| f(&x[0], &x[1]), shapes, lo, hi);
}

#[test]
fn grad_binary_arithmetic_with_broadcasting() {
    for shapes in [&[&[4][..], &[4]][..], &[&[2, 3], &[3]], &[&[2, 3], &[]]] {
        two(shapes, |a, b| a + b, -1.0, 1.0);
        two(shapes, |a, b| a - b, -1.0, 1.0);
        two(shapes, |a, b| a * b, -1.0, 1.0);
        two(shapes, |a, b| a / b, 0.5, 2.0);
        two(shapes, |a, b| a.pow(b), 0.5, 2.0);
        two(shapes, |a, b| tl::maximum(a, b), -1.0, 1.0);
        two(shapes, |a, b| tl::minimum(a, b), -1.0, 1.0);
        two(shapes, |a, b| tl::switch(a.gt(b), a * 2.0, b * 3.0), -1.0, 1.0);
    }
}

#[test]
fn grad_static_broadcasting_of_row_and_column() {
    // A column times a row: each input is summed over the axis it was broadcast along.
    two(&[&[3], &[4]], |a, b| &a.dimshuffle(&[Some(0), None]) * &b.dimshuffle(&[None, Some(0)]), -1.0, 1.0);
    two(&[&[3], &[4]], |a, b| tl::outer(a, b), -1.0, 1.0);
    two(&[&[2, 3, 4], &[3]], |a, b| a * &b.dimshuffle(&[Some(0), None]), -1.0, 1.0);
}

#[test]
fn grad_reductions_over_axes_with_keepdims() {
    for keepdims in [false, true] {
        check(|x| x[0].sum_opts(1, keepdims), &[&[2, 3, 4]], -1.0, 1.0);
        check(|x| x[0].mean_opts([0, 2], keepdims), &[&[2, 3, 4]], -1.0, 1.0);
        check(|x| x[0].prod_opts(-1, keepdims), &[&[2, 3]], 0.5, 1.5);
        check(|x| x[0].max_opts(0, keepdims), &[&[3, 4]], -1.0, 1.0);
        check(|x| x[0].min_opts(1, keepdims), &[&[3, 4]], -1.0, 1.0);
        check(|x| tl::logsumexp(&x[0], 1, keepdims), &[&[3, 4]], -2.0, 2.0);
    }
}

#[test]
fn grad_through_float_casts() {
    // Through float32 the finite differences need a larger step to see past rounding.
    let opts = tl::VerifyGradOptions { eps: 1e-2, rel_tol: 1e-5, ..Default::default() };
    let f = |x: &[Var]| x[0].cast(tl::DType::F32).cast(tl::DType::F64) * 3.0;
    tl::verify_grad(f, &[data(&[5], 7, -1.0, 1.0)], opts).unwrap();
    // An integer cast blocks the gradient: zero, not an error.
    let x = tl::dvector("x");
    let g = tl::grad(&(x.cast(tl::DType::I64).cast(tl::DType::F64) + &x).sum(), &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    assert_eq!(f.call1(vec![1.5, 2.5]).unwrap().to_vec::<f64>().unwrap(), vec![1.0, 1.0]);
}

#[test]
fn grad_prod_with_zeros_is_the_product_of_the_others() {
    let x = tl::dvector("x");
    let g = tl::grad(&x.prod(), &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    let v = f.call1(vec![2.0, 0.0, 3.0]).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(v, vec![0.0, 6.0, 0.0]);
    let v = f.call1(vec![0.0, 0.0, 3.0]).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(v, vec![0.0, 0.0, 0.0]);
}

#[test]
fn grad_softmax_family() {
    check(|x| tl::softmax(&x[0], -1), &[&[3, 4]], -2.0, 2.0);
    check(|x| tl::softmax(&x[0], 0), &[&[3, 4]], -2.0, 2.0);
    check(|x| tl::log_softmax(&x[0], 1), &[&[3, 4]], -2.0, 2.0);
    check(|x| tl::logsumexp(&x[0], tl::Axes::All, false), &[&[3, 4]], -2.0, 2.0);
}

/// `f`'s outputs at 0-d float64 inputs, as `f64`s.
fn call_scalars(f: &tl::Function, args: &[f64]) -> Vec<f64> {
    let args: Vec<tl::Arg> = args.iter().map(|&a| a.into()).collect();
    f.call(&args).unwrap().iter().map(|t| t.to_f64().unwrap()).collect()
}

#[test]
fn grad_pow_at_a_zero_base_is_guarded_as_theano() {
    // #12 item 11: d(x**y)/dy = log(x) * x**y is 0 where x == 0 (Theano's switch), not
    // log(0) * 0**y (NaN for y > 0, -inf for y < 0); d/dx stays y * x**(y-1) as in Theano.
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let cost = x.pow(&y);
    let f = tl::function(&[&x, &y], &tl::grad(&cost, &[&x, &y]).unwrap()).unwrap();
    let value = tl::function(&[&x, &y], &[&cost]).unwrap();
    for (base, exponent, dx) in [
        (0.0, 2.0, 0.0),
        (0.0, 3.0, 0.0),
        (0.0, 1.0, 1.0),
        (0.0, 2.5, 0.0),
        (-0.0, 2.0, -0.0),
        (0.0, -0.5, f64::NEG_INFINITY),
    ] {
        let got = call_scalars(&f, &[base, exponent]);
        assert_eq!(got[0], dx, "d/dx of {base}**{exponent}");
        assert_eq!(got[1].to_bits(), 0f64.to_bits(), "d/dy of {base}**{exponent}: {got:?}");
        if exponent > 0.0 {
            // 0**y is 0 for every y > 0: the central difference in y is exactly 0 too.
            let h = 1e-6;
            let up = call_scalars(&value, &[base, exponent + h])[0];
            let down = call_scalars(&value, &[base, exponent - h])[0];
            assert_eq!((up - down) / (2.0 * h), 0.0);
        }
    }
    // Theano's d/dx at 0**0 is 0 * 0**-1 = NaN; d/dy is guarded to 0.
    let got = call_scalars(&f, &[0.0, 0.0]);
    assert!(got[0].is_nan() && got[1] == 0.0, "{got:?}");
    // Away from zero the unguarded value: log(2) * 2**3.
    let got = call_scalars(&f, &[2.0, 3.0]);
    assert_eq!(got, vec![12.0, 8.0 * std::f64::consts::LN_2]);
    // Broadcast: a vector of bases, some zero, and a 0-d exponent summed over them.
    let v = tl::dvector("v");
    let g = tl::grad(&v.pow(&y).sum(), &y).unwrap();
    let f = tl::function(&[&v, &y], &[&g]).unwrap();
    let got = f.call(&tl::args![vec![0.0, 2.0, 0.0, 3.0], 2.0]).unwrap()[0].to_f64().unwrap();
    let want = 4.0 * 2f64.ln() + 9.0 * 3f64.ln();
    assert!((got - want).abs() <= 1e-15 * want, "{got} vs {want}");
    // float32 keeps its dtype and the guard.
    let (a, b) = (tl::fscalar("a"), tl::fscalar("b"));
    let g = tl::grad(&a.pow(&b), &b).unwrap();
    assert_eq!(g.dtype(), tl::DType::F32);
    let f = tl::function(&[&a, &b], &[&g]).unwrap();
    assert_eq!(f.call(&tl::args![0.0f32, -0.5f32]).unwrap()[0].to_f64().unwrap(), 0.0);
    // Finite differences where it is smooth, with bases both sides of 1.
    two(&[&[5], &[5]], |a, b| a.pow(b), 0.2, 3.0);
    two(&[&[2, 3], &[]], |a, b| a.pow(b), 0.2, 3.0);
}

#[test]
fn grad_logsumexp_is_the_softmax_of_its_input() {
    // #12 item 12: at [1e16, 1e16] logsumexp rounds to 1e16, so exp(x - logsumexp(x)) was
    // [1, 1]; the softmax of x is [0.5, 0.5].
    let x = tl::dvector("x");
    let g = tl::grad(&tl::logsumexp(&x, tl::Axes::All, false), &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    assert_eq!(f.call1(vec![1e16, 1e16]).unwrap().to_vec::<f64>().unwrap(), vec![0.5, 0.5]);
    assert_eq!(f.call1(vec![1e16, 1e16, 1e16, 1e16]).unwrap().to_vec::<f64>().unwrap(), vec![0.25; 4]);
    let got = f.call1(vec![1e300, -1e300, 1e300]).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(got, vec![0.5, 0.0, 0.5]);
    assert_eq!(f.call1(vec![0.0, f64::NEG_INFINITY]).unwrap().to_vec::<f64>().unwrap(), vec![1.0, 0.0]);
    assert_eq!(f.call1(Vec::<f64>::new()).unwrap().to_vec::<f64>().unwrap(), Vec::<f64>::new());

    // Every way of choosing axes: one axis, several (leading, middle, trailing), all;
    // compared with the softmax over those axes computed here.
    let t = tl::dtensor3("t");
    let shape = [2, 3, 4];
    // 1e16 plus 0, 2, 4 or 6: exact (the spacing there is 2), so are their differences.
    let tv =
        ArrayD::from_shape_fn(IxDyn(&shape), |ix| 1e16 + 2.0 * ((ix[0] * 5 + ix[1] * 3 + ix[2]) % 4) as f64);
    let all_axes: [&[isize]; 7] = [&[0], &[1], &[2], &[0, 2], &[1, 2], &[0, 1], &[0, 1, 2]];
    for axes in all_axes {
        for keepdims in [false, true] {
            let g = tl::grad(&tl::logsumexp(&t, axes, keepdims).sum(), &t).unwrap();
            let f = tl::function(&[&t], &[&g]).unwrap();
            let got = f.call1(tv.clone()).unwrap().into_array::<f64>().unwrap();
            assert_eq!(got.shape(), &shape);
            // The softmax of each group of elements that share their kept coordinates.
            let mut groups: std::collections::HashMap<Vec<usize>, Vec<(f64, f64)>> = Default::default();
            for (ix, &g) in got.indexed_iter() {
                let key: Vec<usize> =
                    (0..3).map(|a| if axes.contains(&(a as isize)) { 0 } else { ix[a] }).collect();
                groups.entry(key).or_default().push((tv[ix.clone()], g));
            }
            for members in groups.values() {
                let m = members.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = members.iter().map(|p| (p.0 - m).exp()).sum();
                for &(xv, gv) in members {
                    let want = (xv - m).exp() / s;
                    assert!((gv - want).abs() <= 1e-15, "axes {axes:?} keepdims {keepdims}: {gv} vs {want}");
                }
            }
        }
    }
    // Finite differences over several axes, with and without keepdims, and of the
    // second derivative (the gradient of the softmax).
    for keepdims in [false, true] {
        check(|x| tl::logsumexp(&x[0], [0, 2], keepdims), &[&[2, 3, 4]], -2.0, 2.0);
        check(|x| tl::logsumexp(&x[0], tl::Axes::All, keepdims), &[&[2, 3]], -2.0, 2.0);
    }
    check(|x| tl::grad(&tl::logsumexp(&x[0], [0, 1], false).sum(), &x[0]).unwrap(), &[&[2, 3]], -2.0, 2.0);
    // The Hessian diag(p) - p p^T, at values whose logsumexp rounds.
    let v = tl::tensor("v", tl::DType::F64, &[Some(2)]);
    let h = tl::hessian(&tl::logsumexp(&v, tl::Axes::All, false), &v).unwrap();
    let f = tl::function(&[&v], &[&h]).unwrap();
    let got = f.call1(vec![1e16, 1e16]).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(got, vec![0.25, -0.25, -0.25, 0.25]);
    // float32: [1e8, 1e8] rounds the same way.
    let x = tl::fvector("x");
    let g = tl::grad(&tl::logsumexp(&x, 0, false), &x).unwrap();
    assert_eq!(g.dtype(), tl::DType::F32);
    let f = tl::function(&[&x], &[&g]).unwrap();
    assert_eq!(f.call1(vec![1e8f32, 1e8]).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
}

#[test]
fn grad_with_respect_to_a_variable_listed_twice() {
    // #12 item 14: every occurrence gets the gradient, as in Theano ([6, 6], not [6, 0]).
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let g = tl::grad(&(&x * &x), &[&x, &x]).unwrap();
    let f = tl::function(&[&x], &g).unwrap();
    assert_eq!(call_scalars(&f, &[3.0]), vec![6.0, 6.0]);
    let g = tl::grad(&(&x * &y), &[&x, &y, &x, &y]).unwrap();
    let f = tl::function(&[&x, &y], &g).unwrap();
    assert_eq!(call_scalars(&f, &[3.0, 5.0]), vec![5.0, 3.0, 5.0, 3.0]);
    let v = tl::dvector("v");
    let g = tl::grad(&v.exp().sum(), &[&v, &v]).unwrap();
    let f = tl::function(&[&v], &g).unwrap();
    let out = f.call(&tl::args![vec![0.0, 1.0]]).unwrap();
    for o in &out {
        assert_eq!(o.to_vec::<f64>().unwrap(), vec![1.0, 1f64.exp()]);
    }
    // A disconnected variable listed twice: zeros twice, or the error.
    let opts = tl::GradOptions { disconnected: tl::Disconnected::Zero, ..Default::default() };
    let g = tl::grad_with(&x.sqr(), &[&y, &x, &y], &opts).unwrap();
    let f = tl::function(&[&x, &y], &g).unwrap();
    assert_eq!(call_scalars(&f, &[3.0, 5.0]), vec![0.0, 6.0, 0.0]);
    let e = tl::grad(&x.sqr(), &[&x, &y, &y]).unwrap_err();
    assert!(matches!(&e, tl::GradError::Disconnected { name } if name == "y"), "{e}");
}

#[test]
fn grad_dot_every_rank_pair() {
    two(&[&[4], &[4]], |a, b| tl::dot(a, b), -1.0, 1.0);
    two(&[&[3, 4], &[4]], |a, b| tl::dot(a, b), -1.0, 1.0);
    two(&[&[4], &[4, 2]], |a, b| tl::dot(a, b), -1.0, 1.0);
    two(&[&[3, 4], &[4, 2]], |a, b| tl::dot(a, b), -1.0, 1.0);
}

#[test]
fn grad_shape_ops() {
    check(|x| x[0].t(), &[&[2, 3]], -1.0, 1.0);
    check(|x| x[0].transpose(&[2, 0, 1]), &[&[2, 3, 4]], -1.0, 1.0);
    check(|x| x[0].dimshuffle(&[Some(1), None, Some(0)]), &[&[2, 3]], -1.0, 1.0);
    check(|x| x[0].reshape(&[3, -1]), &[&[2, 3]], -1.0, 1.0);
    check(|x| x[0].flatten(1), &[&[2, 3, 2]], -1.0, 1.0);
    check(|x| x[0].flatten(2), &[&[2, 3, 2]], -1.0, 1.0);
    two(&[&[2, 3], &[4, 3]], |a, b| tl::concatenate(&[a.clone(), b.clone()], 0), -1.0, 1.0);
    two(&[&[2, 3], &[2, 1]], |a, b| tl::concatenate(&[a.clone(), b.clone(), a.exp()], 1), -1.0, 1.0);
    two(&[&[2, 3], &[2, 3]], |a, b| tl::stack(&[a.clone(), b.clone()], 1), -1.0, 1.0);
}

#[test]
fn grad_indexing() {
    check(|x| x[0].index(1), &[&[4, 3]], -1.0, 1.0);
    check(|x| x[0].index(-1), &[&[4]], -1.0, 1.0);
    check(|x| x[0].get(&[Index::slice(Some(1), None, 2), Index::rev()]), &[&[5, 3]], -1.0, 1.0);
    check(|x| x[0].get(&[Index::from(..), Index::from(1)]), &[&[5, 3]], -1.0, 1.0);
    check(|x| x[0].index(tl::constant(2i64)), &[&[5]], -1.0, 1.0);
    // set_subtensor: the overwritten region gets no gradient, the value gets it (summed where
    // it was broadcast).
    two(&[&[4, 3], &[3]], |a, b| tl::set_subtensor(a, &[Index::from(1..3)], b), -1.0, 1.0);
    two(&[&[4, 3], &[3]], |a, b| tl::inc_subtensor(a, &[Index::from(1..3)], b), -1.0, 1.0);
    two(&[&[4, 3], &[]], |a, b| tl::set_subtensor(a, &[Index::from(0), Index::from(2)], b), -1.0, 1.0);
}

#[test]
fn grad_of_grad_second_derivatives() {
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let d2 = |cost: &Var, wrt: &Var| tl::grad(&tl::grad(cost, wrt).unwrap(), wrt).unwrap();
    let f = tl::function(&[&x], &[d2(&x.pow(3), &x), d2(&x.sin(), &x)]).unwrap();
    for v in [-1.5, 0.3, 2.0] {
        let out = f.call1_multi(v);
        assert!((out[0] - 6.0 * v).abs() < 1e-10, "d²x³/dx² at {v}: {}", out[0]);
        assert!((out[1] + v.sin()).abs() < 1e-10, "d²sin/dx² at {v}: {}", out[1]);
    }
    // exp(x*y): d²/dx² = y² e^{xy}, d²/dxdy = (1 + xy) e^{xy}
    let e = (&x * &y).exp();
    let gx = tl::grad(&e, &x).unwrap();
    let gxx = tl::grad(&gx, &x).unwrap();
    let gxy = tl::grad(&gx, &y).unwrap();
    let f = tl::function(&[&x, &y], &[gxx, gxy]).unwrap();
    for (a, b) in [(0.5, -1.0), (1.2, 0.7)] {
        let out = f.call(&tl::args![a, b]).unwrap();
        let exy = f64::exp(a * b);
        assert!((out[0].to_f64().unwrap() - b * b * exy).abs() < 1e-10);
        assert!((out[1].to_f64().unwrap() - (1.0 + a * b) * exy).abs() < 1e-10);
    }
}

trait CallMulti {
    fn call1_multi(&self, v: f64) -> Vec<f64>;
}

impl CallMulti for tl::Function {
    fn call1_multi(&self, v: f64) -> Vec<f64> {
        self.call(&tl::args![v]).unwrap().iter().map(|t| t.to_f64().unwrap()).collect()
    }
}

#[test]
fn hessian_of_a_quadratic_form_is_the_symmetrized_matrix() {
    let a = Array2::from_shape_vec((3, 3), vec![2.0, 1.0, 0.5, -1.0, 3.0, 0.25, 4.0, 0.0, 1.0]).unwrap();
    let x = tl::tensor("x", tl::DType::F64, &[Some(3)]);
    let am = tl::constant(a.clone());
    let cost = 0.5 * tl::dot(&x, tl::dot(&am, &x));
    let h = tl::hessian(&cost, &x).unwrap();
    let f = tl::function(&[&x], &[&h]).unwrap();
    let got = f.call1(vec![0.3, -1.0, 2.0]).unwrap().into_array::<f64>().unwrap();
    let want = (&a + &a.t()) * 0.5;
    assert_eq!(got.shape(), &[3, 3]);
    for (g, w) in got.iter().zip(want.iter()) {
        assert!((g - w).abs() < 1e-10, "{got} vs {want}");
    }
}

#[test]
fn jacobian_of_an_elementwise_function_is_diagonal() {
    let x = tl::tensor("x", tl::DType::F64, &[Some(3)]);
    let j = tl::jacobian(&x.exp(), &x).unwrap();
    let f = tl::function(&[&x], &[&j]).unwrap();
    let got = f.call1(vec![0.0, 1.0, -1.0]).unwrap().into_array::<f64>().unwrap();
    for i in 0..3 {
        for k in 0..3 {
            let want = if i == k { [0.0f64, 1.0, -1.0][i].exp() } else { 0.0 };
            assert!((got[[i, k]] - want).abs() < 1e-15);
        }
    }
    // Lengths known only at run time: a loop over the elements.
    let y = tl::dvector("y");
    let f = tl::function(&[&y], &[tl::jacobian(&y.exp(), &y).unwrap()]).unwrap();
    let got = f.call1(vec![0.0, 1.0]).unwrap();
    assert_eq!(got.shape(), &[2, 2]);
    assert_eq!(got.to_vec::<f64>().unwrap(), vec![1.0, 0.0, 0.0, 1f64.exp()]);
}

#[test]
fn options_consider_constant_known_grads_and_zero() {
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let inner = &x * &y;
    let cost = &inner * &x; // x²y
                            // consider_constant: inner is a constant, so d cost/dx = inner = xy.
    let opts = tl::GradOptions { consider_constant: vec![inner.clone()], ..Default::default() };
    let g = tl::grad_with(&cost, &[&x], &opts).unwrap();
    let f = tl::function(&[&x, &y], &[&g[0]]).unwrap();
    assert_eq!(f.call(&tl::args![3.0, 2.0]).unwrap()[0].to_f64().unwrap(), 6.0);
    // known_grads: inject d cost/d inner = 10 for an intermediate the cost does not reach
    // (Theano walks the graphs of the cost and of every known variable).
    let z = tl::dscalar("z");
    let opts =
        tl::GradOptions { known_grads: vec![(inner.clone(), tl::constant(10.0))], ..Default::default() };
    let g = tl::grad_with(&(&z * 1.0), &[&x, &y], &opts).unwrap();
    let f = tl::function(&[&x, &y], &g).unwrap();
    let out = f.call(&tl::args![3.0, 2.0]).unwrap();
    assert_eq!((out[0].to_f64().unwrap(), out[1].to_f64().unwrap()), (20.0, 30.0));
    // A known gradient replaces what the cost contributes to its variable: d(inner * x)/dx
    // is inner (direct) + 10 * y (through inner), not inner + (10 + x) * y.
    let g = tl::grad_with(&cost, &[&x], &opts).unwrap();
    let f = tl::function(&[&x, &y], &g).unwrap();
    assert_eq!(f.call(&tl::args![2.0, 3.0]).unwrap()[0].to_f64().unwrap(), 6.0 + 30.0);
    let opts =
        tl::GradOptions { known_grads: vec![(inner.clone(), tl::constant(10.0))], ..Default::default() };
    let g = tl::grad_with(&(&inner * 0.0 + &z), &[&x, &y], &opts).unwrap();
    let f = tl::function(&[&x, &y], &g).unwrap();
    let out = f.call(&tl::args![3.0, 2.0]).unwrap();
    assert_eq!((out[0].to_f64().unwrap(), out[1].to_f64().unwrap()), (20.0, 30.0));
    // Disconnected::Zero gives zeros of the input's shape.
    let v = tl::dvector("v");
    let opts = tl::GradOptions { disconnected: tl::Disconnected::Zero, ..Default::default() };
    let g = tl::grad_with(&x.sqr(), &[&v], &opts).unwrap();
    let f = tl::function(&[&v], &g).unwrap();
    assert_eq!(f.call1(vec![1.0, 2.0]).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 0.0]);
}

#[test]
fn grad_errors() {
    let x = tl::dvector("x");
    let s = tl::dscalar("s");
    // Non-scalar cost: the error shows the cost's type.
    let e = tl::grad(&x.exp(), &[&x]).unwrap_err();
    assert!(matches!(e, tl::GradError::NonScalarCost { .. }) && e.to_string().contains("float64[?]"), "{e}");
    // wrt not part of the graph.
    let e = tl::grad(&x.sum(), &[&s]).unwrap_err();
    assert!(matches!(&e, tl::GradError::Disconnected { name } if name == "s"), "{e}");
    // Integer wrt.
    let i = tl::lscalar("i");
    let e = tl::grad(&(&x * &i).sum(), &[&i]).unwrap_err();
    assert!(matches!(&e, tl::GradError::IntegerWrt { name, .. } if name == "i"), "{e}");
    // Integer cost.
    let e = tl::grad(&i.sqr(), &[&i]).unwrap_err();
    assert!(matches!(e, tl::GradError::NonFloatCost { .. }), "{e}");
    // A build error in the cost is reported as such.
    let a = tl::tensor("a", tl::DType::F64, &[Some(3)]);
    let b = tl::tensor("b", tl::DType::F64, &[Some(4)]);
    let e = tl::grad(&(&a + &b).sum(), &[&a]).unwrap_err();
    assert!(matches!(e, tl::GradError::Build(_)), "{e}");
}

#[test]
fn grad_with_respect_to_a_constant_or_an_expression() {
    let x = tl::dscalar("x");
    let c = tl::constant(3.0);
    let mid = x.sin();
    let cost = &mid * &c;
    let g = tl::grad(&cost, &[&c, &mid]).unwrap();
    let f = tl::function(&[&x], &g).unwrap();
    let out = f.call1_multi(0.5);
    assert!((out[0] - 0.5f64.sin()).abs() < 1e-15);
    assert_eq!(out[1], 3.0);
}

#[test]
fn grad_through_argmax_is_zero() {
    let x = tl::dvector("x");
    let cost = x.argmax().cast(tl::DType::F64) * 2.0;
    let g = tl::grad(&cost, &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    assert_eq!(f.call1(vec![1.0, 3.0, 2.0]).unwrap().to_vec::<f64>().unwrap(), vec![0.0; 3]);
}

#[test]
fn nan_in_inputs_propagates_through_gradients() {
    let x = tl::dvector("x");
    let g = tl::grad(&(x.exp() * &x).sum(), &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    let v = f.call1(vec![f64::NAN, 1.0]).unwrap().to_vec::<f64>().unwrap();
    assert!(v[0].is_nan());
    assert!((v[1] - 2.0 * 1f64.exp()).abs() < 1e-14);
}

#[test]
fn float32_gradients_stay_float32() {
    let x = tl::fvector("x");
    let g = tl::grad(&(x.sqr() * 0.5).sum(), &x).unwrap();
    assert_eq!(g.dtype(), tl::DType::F32);
    let f = tl::function(&[&x], &[&g]).unwrap();
    assert_eq!(f.call1(vec![1.5f32, -2.0]).unwrap().to_vec::<f32>().unwrap(), vec![1.5, -2.0]);
}

#[test]
fn piecewise_constant_ops_have_zero_gradient() {
    // sign, floor, ceil, round and trunc are flat almost everywhere: their gradient is 0
    // (connected, so no disconnected-input error), as in Theano.
    let x = tl::dvector("x");
    let cost = (x.sign() + x.floor() + x.ceil() + x.round() + x.trunc() + &x * 0.5).sum();
    let g = tl::grad(&cost, &x).unwrap();
    let f = tl::function(&[&x], &[&g]).unwrap();
    assert_eq!(f.call1(vec![-1.3, 0.2, 2.7]).unwrap().to_vec::<f64>().unwrap(), vec![0.5; 3]);
    for op in [Var::sign, Var::floor, Var::ceil, Var::round, Var::trunc] {
        let g = tl::grad(&op(&x).sum(), &x).unwrap();
        let f = tl::function(&[&x], &[&g]).unwrap();
        assert_eq!(f.call1(vec![-1.3, 0.2]).unwrap().to_vec::<f64>().unwrap(), vec![0.0; 2]);
    }
}

/// The gradient of a linear cost is a constant, still written over its variable: a function
/// of that variable computing it compiles (Theano's gradient reads `ones_like(cost)`).
#[test]
fn the_gradient_of_a_linear_cost_keeps_its_input_used() {
    let a = tl::dscalar("a");
    let g = tl::grad(&(&a * 2.0), &a).unwrap();
    let f = tl::function(&[&a], &[&g]).unwrap();
    assert_eq!(f.call1(5.0).unwrap().to_f64().unwrap(), 2.0);
    let v = tl::dvector("v");
    let g = tl::grad(&(&v * 3.0).sum(), &v).unwrap();
    let f = tl::function(&[&v], &[&g]).unwrap();
    assert_eq!(f.call1(vec![1.0, 2.0]).unwrap().to_vec::<f64>().unwrap(), vec![3.0, 3.0]);
}

#[test]
fn grad_takes_one_variable_or_a_list() {
    // #19: one `grad`, as Theano's T.grad: a Var for a variable, a Vec<Var> for a list.
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let z = (&x + 2.0 * &y).pow(2);
    let gx: tl::Var = tl::grad(&z, &x).unwrap();
    let gs: Vec<tl::Var> = tl::grad(&z, &[&x, &y]).unwrap();
    let owned: Vec<tl::Var> = tl::grad(&z, &vec![x.clone(), y.clone()]).unwrap();
    let slice: &[tl::Var] = std::slice::from_ref(&y);
    let from_slice: Vec<tl::Var> = tl::grad(&z, slice).unwrap();
    let alias = tl::grad1(&z, &x).unwrap();
    let f = tl::function(&[&x, &y], &[&gx, &gs[0], &gs[1], &owned[1], &from_slice[0], &alias]).unwrap();
    let out: Vec<f64> = f.call(&tl::args![1.0, 2.0]).unwrap().iter().map(|t| t.to_f64().unwrap()).collect();
    // z = (x + 2y)^2: dz/dx = 2(x + 2y) = 10, dz/dy = 4(x + 2y) = 20.
    assert_eq!(out, vec![10.0, 10.0, 20.0, 20.0, 20.0, 10.0]);
    // Builders take owned expressions as well as references.
    let s = tl::sum(x.pow(2));
    let g = tl::grad(&s, &x).unwrap();
    let f = tl::function(&[&x], &[&s, &g]).unwrap();
    let out = f.call1(3.0);
    assert!(out.is_err(), "two outputs: call1 refuses");
    let out = f.call(&tl::args![3.0]).unwrap();
    assert_eq!((out[0].to_f64().unwrap(), out[1].to_f64().unwrap()), (9.0, 6.0));
    let e = tl::grad(&tl::sum(tl::dvector("v")), &x).unwrap_err();
    assert!(e.to_string().contains("does not depend on x"), "{e}");
}

/// #13: `zero_grad` stops the gradient with zeros, `disconnected_grad` disconnects; both
/// are the identity when computing, and the optimizer removes them.
#[test]
fn gradient_barriers() {
    let x = tl::dvector("x");
    let xs: [f64; 3] = [0.5, -1.0, 2.0];
    // d/dx sum(zero_grad(exp(x)) * x) = exp(x): exp(x) is a constant to the gradient.
    let cost = tl::sum(tl::zero_grad(tl::exp(&x)) * &x);
    let g = tl::grad(&cost, &x).unwrap();
    let f = tl::function(&[&x], &[&cost, &g]).unwrap();
    let outs = f.call(&[Tensor::from(xs).into()]).unwrap();
    let want_cost: f64 = xs.iter().map(|v| v.exp() * v).sum();
    assert!((outs[0].scalar::<f64>().unwrap() - want_cost).abs() < 1e-12);
    let got: Vec<f64> = outs[1].to_vec().unwrap();
    for (g, v) in got.iter().zip(xs) {
        assert!((g - v.exp()).abs() < 1e-12, "{g} vs {}", v.exp());
    }
    let text = tl::pp_graph(f.optimized_graph(), f.optimized_graph().outputs()[1]);
    assert!(!text.contains("zero_grad"), "{text}");
    // Through zero_grad alone: zeros, no error.
    let g = tl::grad(&tl::sum(tl::zero_grad(&x)), &x).unwrap();
    let z: Vec<f64> = tl::function(&[&x], &[&g]).unwrap().call1(xs).unwrap().try_into().unwrap();
    assert_eq!(z, vec![0.0; 3]);
    // Through disconnected_grad alone: disconnected, unless zeros are asked for.
    let cost = tl::sum(tl::disconnected_grad(&x) * 2.0);
    assert!(matches!(tl::grad(&cost, &x), Err(tl::GradError::Disconnected { .. })));
    let opts = tl::GradOptions { disconnected: tl::Disconnected::Zero, ..Default::default() };
    let g = tl::grad_with(&cost, &[&x], &opts).unwrap();
    let z: Vec<f64> = tl::function(&[&x], &g).unwrap().call1(xs).unwrap().try_into().unwrap();
    assert_eq!(z, vec![0.0; 3]);
    // Beside another path, disconnected_grad contributes nothing: d/dx sum(dg(x)*x) = dg(x) = x.
    let g = tl::grad(&tl::sum(tl::disconnected_grad(&x) * &x), &x).unwrap();
    let v: Vec<f64> = tl::function(&[&x], &[&g]).unwrap().call1(xs).unwrap().try_into().unwrap();
    assert_eq!(v, xs.to_vec());
}
