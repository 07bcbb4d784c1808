//! Nodes that read hundreds of arrays (a flat sum written term by term) run on the
//! reference kernel instead of a native one, whose compilation time grows much faster than
//! the number of inputs; their values are the same either way (#12 item 24).

use tensorlift as tl;
use tl::{Mode, ScalarOp, Term, Var};

/// The sum of `n` float64 vectors as one n-ary add node, compiled in `Mode::Jit`, with the
/// inputs `x_k = [k, 2k]`.
fn wide_sum(n: usize) -> (tl::Function, Vec<tl::Arg>) {
    let xs: Vec<Var> = (0..n).map(|k| tl::dvector(&format!("x{k}"))).collect();
    let sum = tl::elemwise(ScalarOp::Add, xs.iter().map(|x| Term::Var(x.clone())).collect());
    let inputs: Vec<&Var> = xs.iter().collect();
    let f = tl::Function::builder(&inputs, &[&sum]).mode(Mode::Jit).build().expect("compiles");
    let args = (0..n).map(|k| tl::Arg::from(vec![k as f64, 2.0 * k as f64])).collect();
    (f, args)
}

#[test]
fn a_node_with_more_than_256_inputs_runs_on_the_reference_kernel() {
    for (n, native) in [(200, 1), (300, 0)] {
        let (f, args) = wide_sum(n);
        assert_eq!(f.native_kernel_count(), native, "{n} inputs:\n{}", f.debugprint());
        let out = f.call(&args).expect("runs").remove(0).to_vec::<f64>().unwrap();
        let total = (n * (n - 1) / 2) as f64;
        assert_eq!(out, vec![total, 2.0 * total], "{n} inputs");
    }
}
