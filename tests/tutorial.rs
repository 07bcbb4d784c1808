//! The tutorial (`examples/tutorial.rs`), cell by cell: every value it prints, asserted.

use tensorlift as tl;

fn vals(t: &tl::Tensor) -> Vec<f64> {
    t.to_vec::<f64>().expect("float64 result")
}

#[test]
fn cell_1_1_scalar_square() -> tl::Result<()> {
    let x = tl::dscalar("x");
    let y = x.pow(2);
    let f = tl::function(&[&x], &[&y])?;
    for (arg, want) in [(1.0, 1.0), (2.0, 4.0), (3.0, 9.0), (4.0, 16.0)] {
        let out = f.call1(arg)?;
        assert_eq!(out.shape(), &[] as &[usize]);
        assert_eq!(out.scalar::<f64>()?, want);
        assert_eq!(out.to_string(), format!("{want:?}"));
    }
    // A symbol and an expression are both tensor variables of the same type.
    assert_eq!(x.ty(), y.ty());
    assert_eq!(x.dtype(), tl::DType::F64);
    Ok(())
}

#[test]
fn cell_1_2_vector_square() -> tl::Result<()> {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.pow(2)])?;
    let out = f.call1(vec![1, 2, 3])?;
    assert_eq!(vals(&out), vec![1.0, 4.0, 9.0]);
    assert_eq!(out.to_string(), "[1. 4. 9.]");
    Ok(())
}

#[test]
fn cell_1_3_matrix_square() -> tl::Result<()> {
    let x = tl::dmatrix("x");
    let f = tl::function(&[&x], &[x.pow(2)])?;
    let out = f.call1(vec![vec![1, 2, 3], vec![4, 5, 6]])?;
    assert_eq!(out.shape(), &[2, 3]);
    assert_eq!(vals(&out), vec![1.0, 4.0, 9.0, 16.0, 25.0, 36.0]);
    Ok(())
}

#[test]
fn cell_1_types_follow_the_declaration_rule() {
    assert_eq!(tl::dscalar("a").dtype(), tl::DType::F64);
    assert_eq!(tl::fscalar("a").dtype(), tl::DType::F32);
    assert_eq!(tl::lscalar("a").dtype(), tl::DType::I64);
    assert_eq!(tl::dvector("a").ndim(), 1);
    assert_eq!(tl::dmatrix("a").ndim(), 2);
    assert_eq!(tl::vector("a").dtype(), tl::config::float_x());
}

#[test]
fn cell_2_sigmoid() -> tl::Result<()> {
    let x = tl::dmatrix("x");
    let s = 1.0 / (1.0 + tl::exp(-&x));
    let sigmoid = tl::function(&[&x], &[&s])?;
    let out = sigmoid.call1(vec![vec![0.0, 1.0], vec![-1.0, -2.0]])?;
    let want = [0.5, 0.73105858, 0.26894142, 0.11920292];
    for (got, want) in vals(&out).iter().zip(want) {
        assert!((got - want).abs() < 5e-9, "{got} vs {want}");
    }
    assert_eq!(out.to_string(), "[[0.5        0.73105858]\n [0.26894142 0.11920292]]");
    Ok(())
}

#[test]
fn cell_2_sigmoid_curve_is_monotone_from_0_to_1() -> tl::Result<()> {
    let x = tl::dmatrix("x");
    let sigmoid = tl::function(&[&x], &[1.0 / (1.0 + tl::exp(-&x))])?;
    let grid: Vec<f64> = (0..=40).map(|i| -5.0 + 0.25 * i as f64).collect();
    let out = vals(&sigmoid.call1(vec![grid])?);
    assert!(out.windows(2).all(|w| w[0] < w[1]));
    assert!((out[0] - 1.0 / (1.0 + 5f64.exp())).abs() < 1e-15);
    assert!((out[20] - 0.5).abs() < 1e-15);
    Ok(())
}

#[test]
fn cell_3_shared_get_value() -> tl::Result<()> {
    let data = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]];
    let big_x = tl::shared(data, "X");
    let v = big_x.get_value()?;
    assert_eq!(v.shape(), &[2, 3]);
    assert_eq!(vals(&v), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(v.to_string(), "[[1. 2. 3.]\n [4. 5. 6.]]");
    Ok(())
}

#[test]
fn cell_4_linear_regression() -> tl::Result<()> {
    let w = tl::shared(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]], "W");
    let b = tl::shared(vec![1.0, 1.0], "b");
    let x = tl::vector("x");
    let y = tl::dot(&w, &x) + &b;
    let f = tl::function(&[&x], &[&y])?;
    let out = f.call1(vec![1.0, 1.0, 1.0])?;
    assert_eq!(vals(&out), vec![7.0, 16.0]);
    assert_eq!(out.to_string(), "[ 7. 16.]");
    // Shared state is read at call time.
    b.set_value(vec![0.0, 0.0])?;
    assert_eq!(vals(&f.call1(vec![1.0, 1.0, 1.0])?), vec![6.0, 15.0]);
    Ok(())
}

fn grad_fn(cost: &tl::Var, x: &tl::Var) -> tl::Result<tl::Function> {
    let g = tl::grad(cost, x)?;
    tl::function(&[x], &[&g])
}

#[test]
fn cell_5_1_gradient_of_square() -> tl::Result<()> {
    let x = tl::dscalar("x");
    let f = grad_fn(&x.pow(2), &x)?;
    let got: Vec<f64> = [2.0, 3.0, 4.0]
        .iter()
        .map(|&v| f.call1(v)?.to_f64().map_err(tl::Error::from))
        .collect::<tl::Result<_>>()?;
    assert_eq!(got, vec![4.0, 6.0, 8.0]);
    Ok(())
}

#[test]
fn cell_5_2_gradient_of_sin() -> tl::Result<()> {
    let x = tl::dscalar("x");
    let f = grad_fn(&x.sin(), &x)?;
    assert_eq!(f.call1(0.0)?.to_f64()?, 1.0);
    // The notebook prints 6.12323399574e-17: cos(pi/2) in float64.
    assert_eq!(f.call1(std::f64::consts::FRAC_PI_2)?.to_f64()?, 6.123233995736766e-17);
    assert_eq!(f.call1(std::f64::consts::PI)?.to_f64()?, -1.0);
    Ok(())
}

#[test]
fn cell_5_3_gradient_of_a_cubic() -> tl::Result<()> {
    let x = tl::dscalar("x");
    let f = grad_fn(&((&x - 4.0) * (x.pow(2) + 6.0)), &x)?;
    for (v, want) in [(0.0, 6.0), (1.0, 1.0), (2.0, 2.0), (-3.0, 57.0)] {
        assert_eq!(f.call1(v)?.to_f64()?, want, "3x² - 8x + 6 at {v}");
    }
    Ok(())
}

#[test]
fn cell_5_4_partial_derivatives() -> tl::Result<()> {
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    let z = (&x + 2.0 * &y).pow(2);
    let g = tl::grad(&z, &[&x, &y])?;
    let fgx = tl::function(&[&x, &y], &[&g[0]])?;
    let fgy = tl::function(&[&x, &y], &[&g[1]])?;
    let at =
        |f: &tl::Function, a: f64, b: f64| -> tl::Result<f64> { Ok(f.call(&tl::args![a, b])?[0].to_f64()?) };
    assert_eq!((at(&fgx, 1.0, 2.0)?, at(&fgx, 2.0, 2.0)?), (10.0, 12.0));
    assert_eq!((at(&fgy, 1.0, 2.0)?, at(&fgy, 2.0, 2.0)?), (20.0, 24.0));
    Ok(())
}

/// The optimized graphs of section 5, as `pp` prints them: the gradient went through the
/// same optimizer as everything else and its elementwise part became one fused kernel.
#[test]
fn cell_5_optimized_gradient_graphs() -> tl::Result<()> {
    let x = tl::dscalar("x");
    assert_eq!(grad_fn(&x.pow(2), &x)?.pp_output(0)?, "(TensorConstant{2.0} * x)");
    assert_eq!(grad_fn(&x.sin(), &x)?.pp_output(0)?, "cos(x)");
    // 3x² - 8x + 6 as one composite whose only input is x.
    let f = grad_fn(&((&x - 4.0) * (x.pow(2) + 6.0)), &x)?;
    assert_eq!(f.pp_output(0)?, "Composite{(6.0 + (2.0 * (-4.0 + i0) * i0) + sqr(i0))}(x)");
    assert_eq!(f.optimized_graph().toposort().len(), 2, "x and one kernel");
    // Both partials of (x + 2y)² are one composite each over x and y.
    let y = tl::dscalar("y");
    let z = (&x + 2.0 * &y).pow(2);
    let g = tl::grad(&z, &[&x, &y])?;
    let fgx = tl::function(&[&x, &y], &[&g[0]])?;
    let fgy = tl::function(&[&x, &y], &[&g[1]])?;
    assert_eq!(fgx.pp_output(0)?, "Composite{(2.0 * (i0 + (2.0 * i1)))}(x, y)");
    assert_eq!(fgy.pp_output(0)?, "Composite{(4.0 * (i0 + (2.0 * i1)))}(x, y)");
    Ok(())
}

/// 5.5: the second way to compute a derivative — finite differences agree with `grad`.
#[test]
fn cell_5_5_verify_grad_is_the_second_way() -> tl::Result<()> {
    let f = |v: &[tl::Var]| (&v[0] - 4.0) * (v[0].pow(2) + 6.0);
    let r = tl::verify_grad(f, &[tl::Tensor::from(2.0)], tl::VerifyGradOptions::default())?;
    assert!(r.max_abs_err < 1e-6, "{r:?}");
    Ok(())
}
