//! Graphs that grow in one direction, shared by `tests/compile_scaling.rs` and
//! `benches/optimizer.rs` (#12 items 21 and 22).

use tensorlift as tl;
use tl::Var;

/// `exp(x0) + exp(x1) + … + exp(x{n-1})` over `n` vectors, and the vectors.
pub fn sum_of_exps(n: usize) -> (Vec<Var>, Var) {
    let xs: Vec<Var> = (0..n).map(|i| tl::dvector(&format!("x{i}"))).collect();
    let s = xs[1..].iter().fold(tl::exp(&xs[0]), |s, x| s + tl::exp(x));
    (xs, s)
}

/// `x`, and the gradient with respect to `x` of the sum of a chain of `n` ops alternating
/// `sin(y + x)` and `y * 1.5 - x`.
pub fn chain_gradient(n: usize) -> (Var, Var) {
    let x = tl::dvector("x");
    let mut y = x.clone();
    for i in 0..n {
        y = if i % 2 == 0 { tl::sin(&y + &x) } else { &y * 1.5 - &x };
    }
    let g = tl::grad(&y.sum(), &x).expect("differentiates");
    (x, g)
}
