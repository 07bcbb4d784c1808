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
    section5();
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

    // The notebook plots s(x) on [-5, 5]; here the same compiled function draws it.
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

/// 5. Automatic differentiation.
fn section5() {
    println!("\n== 5. Automatic differentiation ==");
    // Section 5 (grad, and the optimized graph of each gradient printed with pp) lands
    // with reverse-mode differentiation.
    println!("     (not yet: gradients arrive with `grad`)");
}
