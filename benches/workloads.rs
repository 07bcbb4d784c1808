//! Criterion benchmarks of the design's workloads under both engines in the same run: the
//! op-by-op interpreter (`Mode::Interp`, the baseline) and native fused kernels
//! (`Mode::Jit`). W1 `x**2`, W2 sigmoid, W4 `dot(W, x) + b`, W7 a scalar call, W9
//! `(sin(x)*cos(y) + exp(-x*y))*0.5 + tanh(x-y)`; sizes kept moderate so a run is short.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tensorlift as tl;
use tl::Mode;

const ENGINES: [(&str, Mode); 2] = [("interp", Mode::Interp), ("jit", Mode::Jit)];

fn compile(inputs: &[&tl::Var], outputs: &[tl::Var], mode: Mode) -> tl::Function {
    tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles")
}

/// W1: `x**2` over a vector.
fn square(c: &mut Criterion) {
    let x = tl::dvector("x");
    let mut group = c.benchmark_group("W1 x**2");
    for n in [1_000usize, 1_000_000] {
        let data = tl::Tensor::from(ndarray::Array1::linspace(-1.0, 1.0, n));
        for (name, mode) in ENGINES {
            let f = compile(&[&x], &[x.pow(2)], mode);
            group.bench_with_input(BenchmarkId::new(name, n), &data, |b, data| {
                b.iter(|| f.call(&tl::args![data]).expect("runs"))
            });
        }
    }
    group.finish();
}

/// W2: the sigmoid of a 1000×1000 matrix written as `1 / (1 + exp(-x))`.
fn sigmoid(c: &mut Criterion) {
    let x = tl::dmatrix("x");
    let data = tl::Tensor::from(ndarray::Array2::from_shape_fn((1000, 1000), |(i, j)| {
        (i as f64 - j as f64) / 500.0
    }));
    let mut group = c.benchmark_group("W2 sigmoid 1000x1000");
    for (name, mode) in ENGINES {
        let f = compile(&[&x], &[1.0 / (1.0 + tl::exp(-&x))], mode);
        group.bench_function(name, |b| b.iter(|| f.call(&tl::args![&data]).expect("runs")));
    }
    group.finish();
}

/// W4: `dot(W, x) + b` with a 1000×1000 `W` (a gemv after optimization).
fn gemv(c: &mut Criterion) {
    let w = tl::shared(ndarray::Array2::from_shape_fn((1000, 1000), |(i, j)| ((i * 7 + j) % 13) as f64), "W");
    let b = tl::shared(ndarray::Array1::<f64>::ones(1000), "b");
    let x = tl::dvector("x");
    let data = tl::Tensor::from(ndarray::Array1::<f64>::linspace(0.0, 1.0, 1000));
    let mut group = c.benchmark_group("W4 gemv 1000");
    for (name, mode) in ENGINES {
        let f = compile(&[&x], &[tl::dot(&w, &x) + &b], mode);
        group.bench_function(name, |bch| bch.iter(|| f.call(&tl::args![&data]).expect("runs")));
    }
    group.finish();
}

/// W7: the overhead of one call of a scalar function.
fn call_overhead(c: &mut Criterion) {
    let x = tl::dscalar("x");
    let mut group = c.benchmark_group("W7 scalar call");
    for (name, mode) in ENGINES {
        let f = compile(&[&x], &[x.pow(2)], mode);
        group.bench_function(name, |b| b.iter(|| f.call1(black_box(3.0)).expect("runs")));
    }
    group.finish();
}

/// W9: a transcendental-heavy elementwise kernel over 1e6 elements, f64.
fn w9(c: &mut Criterion) {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let e = (tl::sin(&x) * tl::cos(&y) + tl::exp(-(&x * &y))) * 0.5 + tl::tanh(&x - &y);
    let n = 1_000_000;
    let xv = tl::Tensor::from(ndarray::Array1::linspace(-2.0, 2.0, n));
    let yv = tl::Tensor::from(ndarray::Array1::linspace(1.0, -1.0, n));
    let mut group = c.benchmark_group("W9 1e6 f64");
    group.sample_size(20);
    for (name, mode) in ENGINES {
        let f = compile(&[&x, &y], std::slice::from_ref(&e), mode);
        group.bench_function(name, |b| b.iter(|| f.call(&tl::args![&xv, &yv]).expect("runs")));
    }
    group.finish();
}

criterion_group!(benches, square, sigmoid, gemv, call_overhead, w9);
criterion_main!(benches);
