//! The Theano tutorial this project grew from, cell by cell (see `tests/tutorial.rs`,
//! which asserts every value printed here).
//!
//! Run with `cargo run --release --example tutorial`.

use tensorlift as tl;

fn main() -> tl::Result<()> {
    section1()?;
    section2()?;
    section3()?;
    section4()?;
    section5()?;
    Ok(())
}

/// 1. Symbols, expressions, compiled functions.
fn section1() -> tl::Result<()> {
    println!("== 1. Symbols, expressions, compiled functions ==");

    // 1.1  x = T.dscalar('x'); y = x ** 2; f = theano.function(inputs=[x], outputs=y)
    let x = tl::dscalar("x");
    let y = x.pow(2);
    let f = tl::function(&[&x], &[&y])?;
    let values: Vec<String> =
        [1.0, 2.0, 3.0, 4.0].iter().map(|&v| f.call1(v).map(|t| t.to_string())).collect::<tl::Result<_>>()?;
    println!("1.1  f(1), f(2), f(3), f(4) = {}", values.join(" "));
    println!("     x: {:?}", x);
    println!("     y: {:?}", y);

    // 1.2  x = T.dvector('x'); f([1, 2, 3])
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.pow(2)])?;
    println!("1.2  f([1, 2, 3]) = {}", f.call1(vec![1, 2, 3])?);

    // 1.3  x = T.dmatrix('x'); f([[1, 2, 3], [4, 5, 6]])
    let x = tl::dmatrix("x");
    let f = tl::function(&[&x], &[x.pow(2)])?;
    println!("1.3  f([[1, 2, 3], [4, 5, 6]]) =\n{}", f.call1(vec![vec![1, 2, 3], vec![4, 5, 6]])?);
    Ok(())
}

/// 2. The sigmoid on a matrix, and its curve over [-5, 5].
fn section2() -> tl::Result<()> {
    println!("\n== 2. Sigmoid on a matrix ==");
    let x = tl::dmatrix("x");
    let s = 1.0 / (1.0 + tl::exp(-&x));
    let sigmoid = tl::function(&[&x], &[&s])?;
    println!("     s = {}", tl::pp(&s));
    println!(
        "2    sigmoid([[0, 1], [-1, -2]]) =\n{}",
        sigmoid.call1(vec![vec![0.0, 1.0], vec![-1.0, -2.0]])?
    );

    // The notebook plots s(x) on [-5, 5]; here the same compiled function draws it (for a
    // picture: `tensorlift plot "1/(1+exp(-x))" --range -5,5 --grad -o sigmoid.svg`).
    let grid: Vec<f64> = (0..=40).map(|i| -5.0 + 0.25 * i as f64).collect();
    let ys = sigmoid.call1(ndarray::Array2::from_shape_vec((1, grid.len()), grid.clone()).expect("row"))?;
    println!("     s(x) on [-5, 5]:");
    for row in (0..=10).rev() {
        let level = row as f64 / 10.0;
        let line: String =
            ys.to_f64_vec().iter().map(|&v| if (v - level).abs() < 0.05 { '*' } else { ' ' }).collect();
        println!("     {level:4.1} |{line}");
    }
    println!("          +{}", "-".repeat(grid.len()));
    println!("          -5{:>width$}", "5", width = grid.len() - 1);

    // `TENSORLIFT_DUMP=clif,asm` (any of graph, opt, trace, clif, clif-opt, asm, dot, or
    // `all`) prints what the compiler made of the sigmoid.
    if let Ok(stages) = std::env::var("TENSORLIFT_DUMP") {
        for name in stages.split(',').map(str::trim) {
            let chosen: Vec<tl::Stage> = match name {
                "all" => tl::Stage::ALL.to_vec(),
                _ => vec![name.parse().map_err(tl::Error::Usage)?],
            };
            for stage in chosen {
                println!("\n--- sigmoid: {} ---\n{}", stage.name(), sigmoid.dump(stage)?);
            }
        }
    }
    Ok(())
}

/// 3. Shared variables.
fn section3() -> tl::Result<()> {
    println!("\n== 3. Shared variables ==");
    let data = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]];
    let big_x = tl::shared(data, "X");
    println!("3    X.get_value() =\n{}", big_x.get_value()?);
    Ok(())
}

/// 4. Linear regression with shared parameters.
fn section4() -> tl::Result<()> {
    println!("\n== 4. Linear regression with shared parameters ==");
    let w = tl::shared(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]], "W");
    let b = tl::shared(vec![1.0, 1.0], "b");
    let x = tl::vector("x");
    let y = tl::dot(&w, &x) + &b;
    let f = tl::function(&[&x], &[&y])?;
    println!("     y = {}", tl::pp(&y));
    println!("4    f([1, 1, 1]) = {}", f.call1(vec![1.0, 1.0, 1.0])?);
    Ok(())
}

/// Python 2's `str` of a float (12 significant digits), as the notebook printed values.
fn py_str(v: f64) -> String {
    let s = format!("{v:.11e}");
    let (mantissa, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    if (-4..12).contains(&exp) {
        let fixed = format!("{:.*}", (11 - exp).max(0) as usize, v);
        let fixed = if fixed.contains('.') { fixed.trim_end_matches('0').to_string() } else { fixed };
        if fixed.ends_with('.') {
            format!("{fixed}0")
        } else if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    } else {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// Evaluates a one-input function at each point, printed as the notebook did.
fn at(f: &tl::Function, points: &[f64]) -> tl::Result<String> {
    let vals: Vec<String> =
        points.iter().map(|&p| Ok(py_str(f.call1(p)?.to_f64()?))).collect::<tl::Result<_>>()?;
    Ok(vals.join(" "))
}

/// 5. Automatic differentiation: each gradient is graph, optimized and compiled like any.
fn section5() -> tl::Result<()> {
    println!("\n== 5. Automatic differentiation ==");
    let x = tl::dscalar("x");

    // 5.1  gy = T.grad(cost=x**2, wrt=x)
    let gy = tl::grad(&x.pow(2), &x)?;
    let f = tl::function(&[&x], &[&gy])?;
    println!("5.1  pp: {}", f.pp_output(0)?);
    println!("     f(2), f(3), f(4) = {}", at(&f, &[2.0, 3.0, 4.0])?);

    // 5.2  y = T.sin(x)
    let gy = tl::grad(&tl::sin(&x), &x)?;
    let f = tl::function(&[&x], &[&gy])?;
    println!("5.2  pp: {}", f.pp_output(0)?);
    println!(
        "     f(0), f(pi/2), f(pi) = {}",
        at(&f, &[0.0, std::f64::consts::FRAC_PI_2, std::f64::consts::PI])?
    );

    // 5.3  y = (x - 4) * (x**2 + 6): the gradient is 3x² - 8x + 6
    let y = (&x - 4.0) * (x.pow(2) + 6.0);
    let gy = tl::grad(&y, &x)?;
    let f = tl::function(&[&x], &[&gy])?;
    println!("5.3  pp: {}", f.pp_output(0)?);
    println!("     f(0), f(1), f(2) = {}", at(&f, &[0.0, 1.0, 2.0])?);

    // 5.4  z = (x + 2y)**2; gx = grad(z, x), gy = grad(z, y)
    let y = tl::dscalar("y");
    let z = (&x + 2.0 * &y).pow(2);
    let g = tl::grad(&z, &[&x, &y])?;
    let fgx = tl::function(&[&x, &y], &[&g[0]])?;
    let fgy = tl::function(&[&x, &y], &[&g[1]])?;
    println!("5.4  pp gx: {}", fgx.pp_output(0)?);
    println!("     pp gy: {}", fgy.pp_output(0)?);
    let eval = |f: &tl::Function, a: f64, b: f64| -> tl::Result<String> {
        Ok(py_str(f.call(&tl::args![a, b])?[0].to_f64()?))
    };
    println!("     fgx(1, 2), fgx(2, 2) = {} {}", eval(&fgx, 1.0, 2.0)?, eval(&fgx, 2.0, 2.0)?);
    println!("     fgy(1, 2), fgy(2, 2) = {} {}", eval(&fgy, 1.0, 2.0)?, eval(&fgy, 2.0, 2.0)?);

    // 5.5  A second way to compute: the notebook checks each derivative with a computer
    // algebra system; `verify_grad` compares the symbolic gradient with finite differences.
    let report = tl::verify_grad(
        |v| (&v[0] - 4.0) * (v[0].pow(2) + 6.0),
        &[tl::Tensor::from(2.0)],
        tl::VerifyGradOptions::default(),
    )?;
    println!(
        "5.5  verify_grad((x-4)*(x**2+6) at 2): matches finite differences within {:.1e}",
        report.max_abs_err
    );
    Ok(())
}
