//! Criterion benchmarks of `scan`: the Elman cell of `benches/peers/classic.py --only
//! SCAN_RNN` (1000 steps, batch 32, input 64, hidden 64, float64, one thread) —
//! `h_t = tanh(x_t W + h_{t-1} U + b)`, the loss `sum(h²) / size` and its gradients with
//! respect to W, U and b (forward and backpropagation through time) — and the forward
//! loop alone; beside them a scalar loop (the running sum of 1e5 numbers), which measures
//! the cost of a step itself; and two scalar loops over the same 1e5 numbers (a running
//! sum and a running sum of squares) run as one loop by `scan_merge` or apart.

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tensorlift as tl;
use tl::{Mode, Scan, Tensor, Var};

/// `s * sin(a i + b)` by flat index.
fn data(shape: &[usize], a: f64, b: f64, s: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| s * (a * i as f64 + b).sin()).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
}

fn bench(c: &mut Criterion, name: &str, inputs: &[&Var], outs: &[Var], args: Vec<Tensor>) {
    let f = tl::Function::builder(inputs, outs).mode(Mode::Jit).build().expect("compiles");
    let args: Vec<tl::Arg> = args.into_iter().map(tl::Arg::from).collect();
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    let before = tl::num_threads();
    tl::set_num_threads(1);
    group.bench_function("jit", |b| b.iter(|| f.call(&args).expect("runs")));
    tl::set_num_threads(before);
    group.finish();
}

fn scan(c: &mut Criterion) {
    let (steps, batch, input, hidden) = (1000, 32, 64, 64);
    let w = tl::shared(data(&[input, hidden], 0.37, 0.1, 0.1), "W");
    let u = tl::shared(data(&[hidden, hidden], 0.23, 0.4, 0.1), "U");
    let b = tl::shared(data(&[hidden], 0.11, 0.2, 0.1), "b");
    let x = tl::dtensor3("x");
    let h0 = tl::alloc(0.0, &[batch.into(), hidden.into()]);
    let r = Scan::new()
        .sequences([&x])
        .outputs_info([&h0])
        .build(|a| tl::tanh(tl::dot(&a[0], &w) + tl::dot(&a[1], &u) + &b).into())
        .expect("scan");
    let h = &r.outputs[0];
    let loss = tl::sum(tl::sqr(h)) / (steps * batch * hidden) as f64;
    let grads = tl::grad(&loss, &[&w, &u, &b]).expect("grad");
    let xs = data(&[steps, batch, input], 0.013, 0.3, 1.0);
    let mut all = vec![loss.clone()];
    all.extend(grads);
    bench(c, "elman rnn 1000 steps, loss and gradients", &[&x], &all, vec![xs.clone()]);
    bench(c, "elman rnn 1000 steps, forward", &[&x], &[loss], vec![xs]);

    let v = tl::dvector("v");
    let sums =
        Scan::new().sequences([&v]).outputs_info([tl::constant(0.0)]).build(|a| (&a[1] + &a[0]).into());
    let last = sums.expect("scan").outputs[0].get(&[tl::Index::At(-1)]);
    bench(
        c,
        "running sum of 1e5 scalars",
        &[&v],
        std::slice::from_ref(&last),
        vec![data(&[100_000], 0.1, 0.0, 1.0)],
    );

    // The same loop and a running sum of squares over the same numbers: one loop or two.
    let squares = Scan::new()
        .sequences([&v])
        .outputs_info([tl::constant(0.0)])
        .build(|a| (&a[1] + &a[0] * &a[0]).into());
    let last_sq = squares.expect("scan").outputs[0].get(&[tl::Index::At(-1)]);
    let outs = [last, last_sq];
    let args: Vec<tl::Arg> = vec![tl::Arg::from(data(&[100_000], 0.1, 0.0, 1.0))];
    let mut group = c.benchmark_group("two loops over 1e5 scalars");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    let before = tl::num_threads();
    tl::set_num_threads(1);
    for (label, merge) in [("merged", true), ("apart", false)] {
        let mut config = tl::OptConfig::default();
        if !merge {
            config = config.excluding("scan_merge");
        }
        let f =
            tl::Function::builder(&[&v], &outs).mode(Mode::Jit).optimizer(config).build().expect("compiles");
        group.bench_function(label, |b| b.iter(|| f.call(&args).expect("runs")));
    }
    tl::set_num_threads(before);
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
