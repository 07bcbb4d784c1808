//! Criterion benchmarks of the LeNet convolution layers, float64, batch 500: the first
//! layer's forward convolution (1×28×28 images, 20 filters 5×5), the second's (20×12×12,
//! 50 filters 5×5), and one training step of the whole network (conv 20 → 2×2 max pool →
//! tanh → conv 50 → pool → tanh → flatten → 500 tanh → softmax 10, the negative
//! log-likelihood, gradient descent on every parameter). The convolutions run on the
//! runtime's threads (`TENSORLIFT_NUM_THREADS=1` for one) and, for comparison, on the
//! reference kernels (`interp`, the first layer only: the direct loops are slow).
//! The first layer's memory-bound pieces on their own (`lenet layer 0 pieces`): its 2×2 max
//! pooling over (500, 20, 24, 24) and that pooling's gradient, `tanh` of the convolution
//! plus the bias broadcast along the channels (against the same kernel over a second
//! operand of full size), and the bias gradient's `sum(axis=(0, 2, 3))`; the NumPy
//! equivalents are in `benches/conv_numpy.py`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tensorlift as tl;
use tl::{ConvParams, DType, Mode, PoolParams, Tensor};

/// Deterministic values in [-scale, scale).
fn array(shape: &[usize], seed: u64, scale: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| (((i as u64 * 2654435761 + seed * 97) % 2000) as f64 / 1000.0 - 1.0) * scale)
        .collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v).expect("shape"))
}

fn layers(c: &mut Criterion) {
    let mut group = c.benchmark_group("lenet conv forward f64 batch 500");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    let cases = [
        ("conv1 1x28x28 20x5x5", [500, 1, 28, 28], [20, 1, 5, 5], true),
        ("conv2 20x12x12 50x5x5", [500, 20, 12, 12], [50, 20, 5, 5], false),
    ];
    for (name, xs, ws, with_interp) in cases {
        let (x, w) = (tl::dtensor4("x"), tl::dtensor4("w"));
        let y = tl::conv2d(&x, &w, &ConvParams::default());
        let args = [tl::Arg::from(array(&xs, 1, 1.0)), tl::Arg::from(array(&ws, 2, 0.2))];
        let engines: &[(&str, Mode)] =
            if with_interp { &[("jit", Mode::Jit), ("interp", Mode::Interp)] } else { &[("jit", Mode::Jit)] };
        for (engine, mode) in engines {
            let f = tl::Function::builder(&[&x, &w], std::slice::from_ref(&y))
                .mode(*mode)
                .build()
                .expect("compiles");
            group.bench_function(format!("{name} {engine}"), |b| b.iter(|| f.call(&args).expect("runs")));
        }
    }
    group.finish();
}

fn layer0_pieces(c: &mut Criterion) {
    let shape = [500, 20, 24, 24];
    let x = tl::dtensor4("x");
    let pool = PoolParams::new([2, 2]);
    let pooled = tl::pool_2d(&x, &pool);
    let (out, gz) = (tl::dtensor4("out"), tl::dtensor4("gz"));
    let grad = tl::build::apply(tl::Op::MaxPoolGrad(pool), vec![x.clone(), out.clone(), gz.clone()]);
    let (b, y) = (tl::dvector("b"), tl::dtensor4("y"));
    let bias = tl::tanh(&x + b.dimshuffle_pattern("x,0,x,x"));
    let full = tl::tanh(&x + &y);
    let sum = x.sum_axis([0, 2, 3]);
    let jit = |ins: &[&tl::Var], out: &tl::Var| {
        tl::Function::builder(ins, std::slice::from_ref(out)).mode(Mode::Jit).build().expect("compiles")
    };
    let xv = tl::Arg::from(array(&shape, 1, 1.0));
    let pooled_v = jit(&[&x], &pooled).call(std::slice::from_ref(&xv)).expect("runs").remove(0);
    let gz_v = tl::Arg::from(array(&[500, 20, 12, 12], 3, 1.0));
    let cases: Vec<(&str, tl::Function, Vec<tl::Arg>)> = vec![
        ("pool_2d max 2x2", jit(&[&x], &pooled), vec![xv.clone()]),
        ("max_pool_grad 2x2", jit(&[&x, &out, &gz], &grad), vec![xv.clone(), tl::Arg::from(pooled_v), gz_v]),
        (
            "tanh(x + bias x,0,x,x)",
            jit(&[&x, &b], &bias),
            vec![xv.clone(), tl::Arg::from(array(&[20], 4, 0.5))],
        ),
        ("tanh(x + y) full y", jit(&[&x, &y], &full), vec![xv.clone(), tl::Arg::from(array(&shape, 5, 0.5))]),
        ("sum axis (0,2,3)", jit(&[&x], &sum), vec![xv.clone()]),
    ];
    let mut group = c.benchmark_group("lenet layer 0 pieces f64 (500,20,24,24)");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (name, f, args) in &cases {
        group.bench_function(*name, |bch| bch.iter(|| f.call(args).expect("runs")));
    }
    group.finish();
}

fn training_step(c: &mut Criterion) {
    let x = tl::tensor("x", DType::F64, &[None, Some(1), Some(28), Some(28)]);
    let y = tl::dmatrix("y");
    let param = |shape: &[usize], seed, scale, name: &str| tl::shared(array(shape, seed, scale), name);
    let (w1, b1) = (param(&[20, 1, 5, 5], 1, 0.2, "w1"), param(&[20], 2, 0.0, "b1"));
    let (w2, b2) = (param(&[50, 20, 5, 5], 3, 0.05, "w2"), param(&[50], 4, 0.0, "b2"));
    let (w3, b3) = (param(&[800, 500], 5, 0.05, "w3"), param(&[500], 6, 0.0, "b3"));
    let (w4, b4) = (param(&[500, 10], 7, 0.05, "w4"), param(&[10], 8, 0.0, "b4"));
    let pool = PoolParams::new([2, 2]);
    let conv = ConvParams::default();
    let bias = |b: &tl::Var| b.dimshuffle_pattern("x,0,x,x");
    let h1 = tl::tanh(tl::pool_2d(tl::conv2d(&x, &w1, &conv), &pool) + bias(&b1));
    let h2 = tl::tanh(tl::pool_2d(tl::conv2d(&h1, &w2, &conv), &pool) + bias(&b2));
    let h3 = tl::tanh(tl::dot(h2.flatten(2), &w3) + &b3);
    let p = tl::softmax(tl::dot(&h3, &w4) + &b4, -1);
    let cost = -tl::mean((&y * tl::log(&p)).sum_axis(1));
    let params = [&w1, &b1, &w2, &b2, &w3, &b3, &w4, &b4];
    let grads = tl::grad(&cost, &params).expect("grad");
    let updates: Vec<(tl::Var, tl::Var)> =
        params.iter().zip(&grads).map(|(p, g)| ((*p).clone(), *p - g * 0.1)).collect();
    let f = tl::Function::builder(&[&x, &y], std::slice::from_ref(&cost))
        .updates(&updates)
        .mode(Mode::Jit)
        .build()
        .expect("compiles");
    let mut labels = vec![0.0; 5000];
    for i in 0..500 {
        labels[i * 10 + i % 10] = 1.0;
    }
    let labels =
        Tensor::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[500, 10]), labels).expect("shape"));
    let args = [tl::Arg::from(array(&[500, 1, 28, 28], 9, 1.0)), tl::Arg::from(labels)];
    let mut group = c.benchmark_group("lenet training step f64 batch 500");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    group.bench_function("jit", |b| b.iter(|| f.call(&args).expect("runs")));
    group.finish();
}

criterion_group!(benches, layers, layer0_pieces, training_step);
criterion_main!(benches);
