//! Criterion benchmarks of random draws: 1e7 float64 uniforms on one thread (a call of a
//! function returning `RandomStreams::uniform(10_000_000)`, its state advanced by the
//! default update), beside it the same on every thread, 1e7 normals (plain and truncated at
//! two standard deviations), and a dropout mask
//! `x * binomial(p = 0.5)` of 1e6. NumPy's `Generator.random(10**7)` is timed beside it by
//! `benches/peers/classic.py --only RNG`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tensorlift as tl;
use tl::{Mode, Var};

fn bench(c: &mut Criterion, name: &str, inputs: &[&Var], out: &Var, args: Vec<tl::Tensor>, threads: usize) {
    let f = tl::Function::builder(inputs, &[out]).mode(Mode::Jit).build().expect("compiles");
    let args: Vec<tl::Arg> = args.into_iter().map(tl::Arg::from).collect();
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    let before = tl::num_threads();
    tl::set_num_threads(threads);
    group.bench_function("jit", |b| b.iter(|| f.call(&args).expect("runs")));
    tl::set_num_threads(before);
    group.finish();
}

fn random(c: &mut Criterion) {
    let rng = tl::RandomStreams::new(1234);
    let all = tl::num_threads();
    let u = rng.uniform(10_000_000, 0.0, 1.0);
    bench(c, "uniform float64 1e7, 1 thread", &[], &u, vec![], 1);
    bench(c, "uniform float64 1e7, all threads", &[], &u, vec![], all);
    let z = rng.normal(10_000_000, 0.0, 1.0);
    bench(c, "normal float64 1e7, 1 thread", &[], &z, vec![], 1);
    let t = rng.normal_truncated(10_000_000, 0.0, 1.0);
    bench(c, "normal truncated float64 1e7, 1 thread", &[], &t, vec![], 1);
    let x = tl::dvector("x");
    let dropped = &x * rng.binomial(tl::shape(&x), 1, 0.5);
    let data = tl::Tensor::from(vec![1.5f64; 1_000_000]);
    bench(c, "dropout float64 1e6, 1 thread", &[&x], &dropped, vec![data], 1);
}

criterion_group!(benches, random);
criterion_main!(benches);
