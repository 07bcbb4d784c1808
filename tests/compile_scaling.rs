//! #12 items 1, 21 and 22: graphs that grow in one direction compile in time linear in
//! their size, and their kernels stay small enough to run on a small stack.
//!
//! - A sum over thousands of inputs is split into kernels of at most
//!   `MAX_KERNEL_INPUTS` inputs (the same order of evaluation), so it compiles in linear
//!   time and its kernels' frames are small; native code probes the stack as a frame grows.
//! - The gradient of a long elementwise chain merges kernels into multi-output ones in a
//!   bounded number of rewrites per op.
//!
//! Only rewrite counts are asserted here; `cargo bench --bench optimizer` measures times.

#[path = "common/scaling.rs"]
mod scaling;

use scaling::{chain_gradient, sum_of_exps};
use tensorlift as tl;
use tensorlift_opt::{optimize, OptConfig, MAX_KERNEL_INPUTS};
use tl::{FunctionGraph, Op, Var};

/// The rewrites the default pipeline makes on `g`, by phase name.
fn rewrites(g: &FunctionGraph) -> Vec<(&'static str, usize)> {
    let opt = optimize(g, &OptConfig { verify: false, ..OptConfig::default() }).expect("optimizes");
    opt.trace.phases.iter().map(|p| (p.phase.name(), p.rewrites)).collect()
}

/// Asserts that no phase makes more than 2.2 times the rewrites at `2n` it makes at `n`
/// (plus a small constant for phases that do almost nothing).
fn assert_linear(at_n: &[(&str, usize)], at_2n: &[(&str, usize)]) {
    assert_eq!(at_n.len(), at_2n.len());
    for (&(name, a), &(_, b)) in at_n.iter().zip(at_2n) {
        assert!(b as f64 <= 2.2 * a as f64 + 8.0, "{name}: {a} rewrites at n, {b} at 2n");
    }
}

#[test]
fn item1_sum_of_3000_exps_runs_on_a_small_stack() {
    let (xs, s) = sum_of_exps(3000);
    let refs: Vec<&Var> = xs.iter().collect();
    let f = tl::function(&refs, &[&s]).expect("compiles");
    // No kernel reads more than the cap.
    let g = f.optimized_graph();
    for id in g.toposort() {
        if matches!(g.node(id).op, Op::Composite(_) | Op::Elemwise(_)) {
            assert!(g.node(id).inputs.len() <= MAX_KERNEL_INPUTS, "{}", g.describe(id));
        }
    }
    let values: Vec<Vec<f64>> = (0..3000).map(|i| vec![i as f64 * 1e-3, -(i as f64) * 1e-3]).collect();
    let expected: Vec<f64> = (0..2).map(|k| values.iter().fold(0.0, |s, v| s + v[k].exp())).collect();
    let args: Vec<tl::Arg> = values.into_iter().map(tl::Arg::from).collect();
    let out = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || f.call(&args).map(|o| o[0].to_f64_vec()))
        .expect("spawns")
        .join()
        .expect("the call returns")
        .expect("runs");
    for (a, b) in out.iter().zip(&expected) {
        assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
    }
}

/// The sum is split into kernels of at most `MAX_KERNEL_INPUTS` inputs, about one per 31
/// terms, and the rewrites that build them grow linearly.
#[test]
fn item22_sum_of_exps_is_split_into_bounded_kernels() {
    let optimized = |n: usize| {
        let (xs, s) = sum_of_exps(n);
        let refs: Vec<&Var> = xs.iter().collect();
        let g = FunctionGraph::from_vars(&refs, &[s]).expect("builds");
        optimize(&g, &OptConfig { verify: false, ..OptConfig::default() }).expect("optimizes")
    };
    let counts = |n: usize| {
        let opt = optimized(n);
        let g = &opt.graph;
        let kernels: Vec<usize> = g
            .toposort()
            .into_iter()
            .filter(|&id| matches!(g.node(id).op, Op::Composite(_) | Op::Elemwise(_)))
            .map(|id| g.node(id).inputs.len())
            .collect();
        assert!(kernels.iter().all(|&k| k <= MAX_KERNEL_INPUTS), "{kernels:?}");
        assert!(kernels.len() <= n / (MAX_KERNEL_INPUTS - 1) + 1, "{} kernels for {n} terms", kernels.len());
        opt.trace.phases.iter().map(|p| (p.phase.name(), p.rewrites)).collect::<Vec<_>>()
    };
    assert_linear(&counts(500), &counts(1000));
}

#[test]
fn item21_chain_gradient_rewrites_grow_linearly() {
    let count = |n: usize| {
        let (x, g) = chain_gradient(n);
        rewrites(&FunctionGraph::from_vars(&[&x], &[g]).expect("builds"))
    };
    let (at_n, at_2n) = (count(400), count(800));
    assert_linear(&at_n, &at_2n);
    // And the function still computes the gradient: a short chain checked against the
    // interpreter with the optimizer off.
    let (x, g) = chain_gradient(40);
    let opt = tl::function(&[&x], &[&g]).expect("compiles");
    let plain = tl::Function::builder(&[&x], &[&g])
        .mode(tl::Mode::Interp)
        .optimizer(OptConfig { disabled: true, ..OptConfig::default() })
        .build()
        .expect("compiles");
    let arg = vec![0.1, -0.3, 0.7, 1.2, -2.0];
    let (a, b) = (opt.call1(arg.clone()).expect("runs"), plain.call1(arg).expect("runs"));
    for (p, q) in a.to_f64_vec().iter().zip(b.to_f64_vec()) {
        assert!((p - q).abs() <= 1e-9 * (1.0 + q.abs()), "{p} vs {q}");
    }
}

/// The input cap counts distinct inputs: a chain that reads `x` a thousand times is still
/// one kernel of one input.
#[test]
fn item22_the_input_cap_counts_each_input_once() {
    let x = tl::dvector("x");
    let mut y = x.clone();
    for i in 0..3000 {
        y = match i % 3 {
            0 => y * 1.5,
            1 => tl::sin(y),
            _ => y + &x,
        };
    }
    let g = FunctionGraph::from_vars(&[&x], &[y]).expect("builds");
    let opt = optimize(&g, &OptConfig { verify: false, ..OptConfig::default() }).expect("optimizes");
    let kernels: Vec<usize> = opt
        .graph
        .toposort()
        .into_iter()
        .filter(|&id| matches!(opt.graph.node(id).op, Op::Composite(_) | Op::Elemwise(_)))
        .map(|id| opt.graph.node(id).inputs.len())
        .collect();
    assert_eq!(kernels, [1]);
}
