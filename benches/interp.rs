//! Criterion benchmarks of the op-by-op interpreter: the baseline every later engine is
//! measured against (workloads W1, W2, W4 and W7 of the design, at sizes that keep a run short).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tensorlift as tl;

/// W1: `x**2` over a vector.
fn square(c: &mut Criterion) {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.pow(2)]).expect("compiles");
    let mut group = c.benchmark_group("W1 x**2");
    for n in [1_000usize, 1_000_000] {
        let data = tl::Tensor::from(ndarray::Array1::linspace(-1.0, 1.0, n));
        group.bench_with_input(BenchmarkId::new("interp", n), &data, |b, data| {
            b.iter(|| f.call(&tl::args![data]).expect("runs"))
        });
    }
    group.finish();
}

/// W2: the sigmoid of a 1000×1000 matrix written as `1 / (1 + exp(-x))`.
fn sigmoid(c: &mut Criterion) {
    let x = tl::dmatrix("x");
    let f = tl::function(&[&x], &[1.0 / (1.0 + tl::exp(-&x))]).expect("compiles");
    let data = tl::Tensor::from(ndarray::Array2::from_shape_fn((1000, 1000), |(i, j)| {
        (i as f64 - j as f64) / 500.0
    }));
    c.bench_function("W2 sigmoid 1000x1000/interp", |b| b.iter(|| f.call(&tl::args![&data]).expect("runs")));
}

/// W4: `dot(W, x) + b` with a 1000×1000 `W`.
fn gemv(c: &mut Criterion) {
    let w = tl::shared(ndarray::Array2::from_shape_fn((1000, 1000), |(i, j)| ((i * 7 + j) % 13) as f64), "W");
    let b = tl::shared(ndarray::Array1::<f64>::ones(1000), "b");
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[tl::dot(&w, &x) + &b]).expect("compiles");
    let data = tl::Tensor::from(ndarray::Array1::<f64>::linspace(0.0, 1.0, 1000));
    c.bench_function("W4 gemv 1000/interp", |bch| bch.iter(|| f.call(&tl::args![&data]).expect("runs")));
}

/// W7: the overhead of one call of a scalar function.
fn call_overhead(c: &mut Criterion) {
    let x = tl::dscalar("x");
    let f = tl::function(&[&x], &[x.pow(2)]).expect("compiles");
    c.bench_function("W7 scalar call/interp", |b| b.iter(|| f.call1(black_box(3.0)).expect("runs")));
}

criterion_group!(benches, square, sigmoid, gemv, call_overhead);
criterion_main!(benches);
