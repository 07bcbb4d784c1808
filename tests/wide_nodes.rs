//! Nodes that read hundreds of arrays (a flat sum written term by term, #12 items 22 and
//! 24): the optimizer splits them into native kernels of at most `MAX_KERNEL_INPUTS`
//! inputs, and a node that reaches the executor wider than the native limit (the optimizer
//! disabled) runs on the reference kernel instead of a native one, whose compilation time
//! grows much faster than the number of inputs. The values are the same either way.

use tensorlift as tl;
use tensorlift_opt::{OptConfig, MAX_KERNEL_INPUTS};
use tl::{Mode, Op, ScalarOp, Term, Var};

/// The sum of `n` float64 vectors as one n-ary add node, compiled in `Mode::Jit` with
/// `opt`, with the inputs `x_k = [k, 2k]`.
fn wide_sum(n: usize, opt: OptConfig) -> (tl::Function, Vec<tl::Arg<'static>>) {
    let xs: Vec<Var> = (0..n).map(|k| tl::dvector(&format!("x{k}"))).collect();
    let sum = tl::elemwise(ScalarOp::Add, xs.iter().map(|x| Term::Var(x.clone())).collect());
    let inputs: Vec<&Var> = xs.iter().collect();
    let f = tl::Function::builder(&inputs, &[&sum]).mode(Mode::Jit).optimizer(opt).build().expect("compiles");
    let args = (0..n).map(|k| tl::Arg::from(vec![k as f64, 2.0 * k as f64])).collect();
    (f, args)
}

fn check_value(f: &tl::Function, args: &[tl::Arg], n: usize) {
    let out = f.call(args).expect("runs").remove(0).to_vec::<f64>().unwrap();
    let total = (n * (n - 1) / 2) as f64;
    assert_eq!(out, vec![total, 2.0 * total], "{n} inputs");
}

#[test]
fn a_wide_sum_runs_natively_in_bounded_kernels() {
    let n = 300;
    let (f, args) = wide_sum(n, OptConfig::default());
    let g = f.optimized_graph();
    let widest = g
        .ids()
        .filter(|&id| matches!(g.node(id).op, Op::Composite(_) | Op::Elemwise(_)))
        .map(|id| g.node(id).inputs.len());
    let widest = widest.max();
    assert!(widest.is_some_and(|w| w <= MAX_KERNEL_INPUTS), "{widest:?} inputs\n{}", f.debugprint());
    assert!(
        f.native_kernel_count() >= n / MAX_KERNEL_INPUTS,
        "{} kernels\n{}",
        f.native_kernel_count(),
        f.debugprint()
    );
    check_value(&f, &args, n);
}

#[test]
fn an_unoptimized_graph_runs_on_the_reference_kernels() {
    // The optimizer makes every kernel program (#16): with it disabled, even a flat sum of
    // few inputs has no native kernel, and runs (correctly) on the reference kernels.
    let unoptimized = OptConfig { disabled: true, ..OptConfig::default() };
    for n in [2, 200, 300] {
        let (f, args) = wide_sum(n, unoptimized.clone());
        assert_eq!(f.native_kernel_count(), 0, "{n} inputs:\n{}", f.debugprint());
        check_value(&f, &args, n);
    }
}
