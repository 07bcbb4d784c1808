//! The README's first example, as a test: it must keep compiling and printing what it says.

use tensorlift as tl;

#[test]
fn readme_first_example() -> tl::Result<()> {
    let w = tl::shared(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]], "W");
    let b = tl::shared(vec![1.0, 1.0], "b");
    let x = tl::vector("x");
    let y = tl::dot(&w, &x) + &b;

    let f = tl::function(&[&x], &[&y])?;
    assert_eq!(tl::pp(&y), "((W \\dot x) + b)");
    assert_eq!(f.call1(vec![1.0, 1.0, 1.0])?.to_string(), "[ 7. 16.]");

    let step = tl::Function::builder(&[&x], &[&y]).updates(&[(&b, &b * 0.5)]).build()?;
    step.call1(vec![0.0, 0.0, 0.0])?;
    assert_eq!(b.get_value()?.to_string(), "[0.5 0.5]");
    Ok(())
}

#[test]
fn readme_gradient_example() -> tl::Result<()> {
    let x = tl::dscalar("x");
    let y = (&x - 4.0) * (x.pow(2) + 6.0);
    let f = tl::function(&[&x], &[tl::grad(&y, &x)?])?;
    assert_eq!(f.pp_output(0)?, "Composite{(6.0 + (2.0 * (-4.0 + i0) * i0) + sqr(i0))}(x)");
    assert_eq!(f.call1(2.0)?.to_string(), "2.0");
    Ok(())
}
