//! Criterion benchmarks of the optimizer's compile time: `tensorlift_opt::optimize` on a
//! prebuilt `FunctionGraph` (graph construction is excluded; the verifier is off).
//!
//! Targets:
//! - `mlp20_grad` (the gradient graph of a 20-layer, width-64 tanh MLP with a softmax
//!   cross-entropy cost and an L2 term): under 5 ms.
//! - `chain/10000` (10 000 elementwise ops on a vector): under 100 ms.
//! - `chain/20000`: at most twice the time of `chain/10000` (optimization stays linear);
//!   `chain/40000` shows the ratio once the graph no longer fits in cache either way.
//!
//! - `compile/chain_grad/10000` (`tl::function` of the gradient of a 10 000-op chain
//!   alternating `sin(y + x)` and `y*1.5 - x`, JIT included): under 1 s;
//!   `compile/chain_grad/20000` at most 2.2 times that; the ratio is printed from an
//!   interleaved run of both sizes (`compile/chain_grad/… interleaved`).
//! - `compile/sum_exp/3000` (`tl::function` of `exp(x0) + … + exp(x2999)`): under 100 ms.
//!
//! The `compile` group empties the JIT cache before each call, so every call compiles.
//!
//! The node counts of each graph before and after optimization are printed once before the
//! measurements, and so are the doubling ratios measured with the sizes interleaved (one call
//! of each size per round, medians over the rounds): criterion measures one size after the
//! other, seconds apart, and on a shared machine the load can change in between; interleaving
//! takes that drift out of the ratio.

#[path = "../tests/common/scaling.rs"]
mod scaling;

use scaling::{chain_gradient, sum_of_exps};
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use tensorlift as tl;
use tensorlift_opt::{optimize, OptConfig};

/// Number of layers of the MLP.
const LAYERS: usize = 20;
/// Width of every layer of the MLP.
const WIDTH: usize = 64;

/// The options every benchmark uses: the default pipeline without the verifier.
fn config() -> OptConfig {
    OptConfig { verify: false, ..Default::default() }
}

/// The graph of a 20-layer tanh MLP's cost and the gradients of all its parameters.
/// Layers 0‥18 are `tanh(h·W + b)`; layer 19 gives the logits of a softmax cross-entropy
/// against the one-hot target `y`, plus `1e-4 · Σ‖W‖²`.
fn mlp_grad_graph() -> tl::FunctionGraph {
    let x = tl::dmatrix("x");
    let y = tl::dmatrix("y");
    let mut params = Vec::with_capacity(2 * LAYERS);
    let mut weights = Vec::with_capacity(LAYERS);
    let mut h = x.clone();
    for k in 0..LAYERS {
        let w = tl::shared(ndarray::Array2::<f64>::zeros((WIDTH, WIDTH)), &format!("w{k}"));
        let b = tl::shared(ndarray::Array1::<f64>::zeros(WIDTH), &format!("b{k}"));
        let z = tl::dot(&h, &w) + &b;
        h = if k + 1 < LAYERS { tl::tanh(z) } else { z };
        params.push(w.clone());
        params.push(b);
        weights.push(w);
    }
    let xent = -(&y * tl::log_softmax(&h, -1)).sum_axis(1).mean();
    let l2 = weights.iter().map(|w| w.sqr().sum()).reduce(|a, b| a + b).expect("at least one layer");
    let cost = xent + 1e-4 * l2;
    let grads = tl::grad(&cost, &params).expect("the gradient builds");
    let mut outputs = vec![cost];
    outputs.extend(grads);
    tl::FunctionGraph::from_vars(&[&x, &y], &outputs).expect("the graph builds")
}

/// A chain of `n` elementwise ops on a vector: `y*1.5`, `sin(y)`, `y+x` in rotation.
fn chain_graph(n: usize) -> tl::FunctionGraph {
    let x = tl::dvector("x");
    let mut y = x.clone();
    for i in 0..n {
        y = match i % 3 {
            0 => y * 1.5,
            1 => tl::sin(y),
            _ => y + &x,
        };
    }
    tl::FunctionGraph::from_vars(&[&x], &[&y]).expect("the graph builds")
}

/// Prints the node count of `g` before and after optimization, and the rewrites that fired.
fn report(name: &str, g: &tl::FunctionGraph) {
    let opt = optimize(g, &config()).expect("optimizes");
    println!(
        "optimizer/{name}: {} nodes before, {} after ({} rewrites)",
        g.len(),
        opt.graph.len(),
        opt.trace.entries.len()
    );
}

fn mlp20_grad(c: &mut Criterion) {
    let g = mlp_grad_graph();
    report("mlp20_grad", &g);
    let cfg = config();
    let mut group = c.benchmark_group("optimizer");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("mlp20_grad", |b| b.iter(|| optimize(black_box(&g), &cfg).expect("optimizes")));
    group.finish();
}

/// Rounds of the interleaved measurement.
const ROUNDS: usize = 15;

/// Prints the median time of each graph over `ROUNDS` rounds that optimize every graph once,
/// and the ratio of each median to the one before.
fn interleaved(graphs: &[(usize, tl::FunctionGraph)]) {
    // Per graph: the total times, and each phase's times (from the trace's profile).
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); graphs.len()];
    let mut phases: Vec<Vec<(&'static str, Vec<f64>)>> = vec![Vec::new(); graphs.len()];
    for _ in 0..ROUNDS {
        for (k, (_, g)) in graphs.iter().enumerate() {
            let start = std::time::Instant::now();
            let opt = black_box(optimize(black_box(g), &config()).expect("optimizes"));
            times[k].push(start.elapsed().as_secs_f64() * 1e3);
            for (i, p) in opt.trace.phases.iter().enumerate() {
                if phases[k].len() <= i {
                    phases[k].push((p.phase.name(), Vec::new()));
                }
                phases[k][i].1.push(p.time.as_secs_f64() * 1e3);
            }
        }
    }
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let medians: Vec<f64> = times.iter_mut().map(median).collect();
    for (k, ((n, _), m)) in graphs.iter().zip(&medians).enumerate() {
        let ratio = if k > 0 {
            format!(", {:.3}× the chain of half its length", m / medians[k - 1])
        } else {
            String::new()
        };
        // Each phase's median time per 10 000 ops: equal columns mean linear phases.
        let per_phase: Vec<String> = phases[k]
            .iter_mut()
            .map(|(name, t)| format!("{name} {:.2}", median(t) * 1e4 / *n as f64))
            .collect();
        println!("optimizer/chain/{n} interleaved: median {m:.2} ms over {ROUNDS} rounds{ratio}");
        println!("  ms per 10 000 ops by phase: {}", per_phase.join(", "));
    }
}

fn chain(c: &mut Criterion) {
    let graphs: Vec<(usize, tl::FunctionGraph)> =
        [10_000usize, 20_000, 40_000].into_iter().map(|n| (n, chain_graph(n))).collect();
    for (n, g) in &graphs {
        report(&format!("chain/{n}"), g);
    }
    interleaved(&graphs);
    let cfg = config();
    let mut group = c.benchmark_group("optimizer");
    // Flat sampling: tens of milliseconds per call, too slow for linear sampling's ramp.
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (n, g) in &graphs {
        group.bench_with_input(BenchmarkId::new("chain", n), g, |b, g| {
            b.iter(|| optimize(black_box(g), &cfg).expect("optimizes"))
        });
    }
    group.finish();
}

/// `tl::function` from scratch (the cache emptied first): optimizer and JIT.
fn compile_fresh(inputs: &[&tl::Var], outputs: &[&tl::Var]) -> tl::Function {
    tl::clear_cache();
    tl::function(inputs, outputs).expect("compiles")
}

/// Rounds of the interleaved compile measurement.
const COMPILE_ROUNDS: usize = 9;

/// The compile of the chain gradients of 10 000 and 20 000 ops, alternated round by round:
/// the doubling ratio from medians taken under the same machine conditions (separate
/// criterion runs of one size, then the other, drift apart on a shared machine).
fn interleaved_compile(chains: &[(usize, tl::Var, tl::Var)]) {
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(COMPILE_ROUNDS); chains.len()];
    for _ in 0..COMPILE_ROUNDS {
        for (k, (_, x, g)) in chains.iter().enumerate() {
            let start = std::time::Instant::now();
            black_box(compile_fresh(&[x], &[g]));
            times[k].push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut medians = Vec::new();
    for (k, ((n, _, _), t)) in chains.iter().zip(&mut times).enumerate() {
        t.sort_by(f64::total_cmp);
        let m = t[t.len() / 2];
        medians.push(m);
        let ratio = if k > 0 {
            format!(", {:.3}× the chain of half its length", m / medians[k - 1])
        } else {
            String::new()
        };
        println!(
            "compile/chain_grad/{n} interleaved: median {m:.1} ms (min {:.1}, max {:.1}) over {COMPILE_ROUNDS} rounds{ratio}",
            t[0],
            t[t.len() - 1]
        );
    }
}

fn compile(c: &mut Criterion) {
    let chains: Vec<(usize, tl::Var, tl::Var)> = [10_000usize, 20_000]
        .into_iter()
        .map(|n| {
            let (x, g) = chain_gradient(n);
            (n, x, g)
        })
        .collect();
    interleaved_compile(&chains);
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    for n in [10_000usize, 20_000] {
        let (x, g) = chain_gradient(n);
        group.bench_with_input(BenchmarkId::new("chain_grad", n), &n, |b, _| {
            b.iter(|| compile_fresh(&[&x], &[&g]))
        });
    }
    let (xs, s) = sum_of_exps(3000);
    let refs: Vec<&tl::Var> = xs.iter().collect();
    group.bench_function(BenchmarkId::new("sum_exp", 3000), |b| b.iter(|| compile_fresh(&refs, &[&s])));
    group.finish();
}

criterion_group!(benches, mlp20_grad, chain, compile);
criterion_main!(benches);
