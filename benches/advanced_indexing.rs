//! Criterion benchmarks of advanced indexing: an embedding lookup `W[ids]` (10 000 × 128
//! float64 rows, a batch of 500 ids) and the gradient's scatter-add into `W`, and the
//! per-row gather `p[arange(n), y]` of the negative log-likelihood with its gradient
//! (1 000 × 100). Every case runs in the JIT mode (the gather is the same kernel in both).

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tensorlift as tl;
use tl::{Index, Mode, Tensor, Var};

/// A deterministic float64 array of `shape`.
fn array(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n).map(|i| ((i as u64 * 2654435761 + seed * 97) % 2000) as f64 / 1000.0 + 0.01).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v).expect("shape"))
}

/// `n` deterministic positions below `bound`.
fn ids(n: usize, bound: usize, seed: u64) -> Tensor {
    Tensor::from((0..n).map(|i| ((i as u64 * 7919 + seed * 31) % bound as u64) as i64).collect::<Vec<_>>())
}

fn bench(c: &mut Criterion, name: &str, inputs: &[&Var], outputs: &[&Var], args: Vec<Tensor>) {
    let f = tl::Function::builder(inputs, outputs).mode(Mode::Jit).build().expect("compiles");
    let args: Vec<tl::Arg> = args.into_iter().map(tl::Arg::from).collect();
    let mut group = c.benchmark_group(name);
    group.sample_size(30);
    group.warm_up_time(Duration::from_millis(500));
    group.bench_function("jit", |b| b.iter(|| f.call(&args).expect("runs")));
    group.finish();
}

fn advanced(c: &mut Criterion) {
    let (w, i) = (tl::dmatrix("W"), tl::lvector("ids"));
    let rows = w.index(&i);
    let w_args = || vec![array(&[10_000, 128], 1), ids(500, 10_000, 2)];
    bench(c, "embedding_gather 10000x128 batch 500", &[&w, &i], &[&rows], w_args());
    let g = tl::grad(&rows.sum(), &w).expect("grad");
    bench(c, "embedding_scatter_add_grad 10000x128 batch 500", &[&w, &i], &[&g], w_args());

    let (p, y) = (tl::dmatrix("p"), tl::lvector("y"));
    let n = tl::shape_i(&p, 0);
    let nll = -p.log().get(&[Index::Array(tl::arange(n)), Index::from(&y)]).mean();
    let gp = tl::grad(&nll, &p).expect("grad");
    let p_args = || vec![array(&[1_000, 100], 3), ids(1_000, 100, 4)];
    bench(c, "nll 1000x100", &[&p, &y], &[&nll], p_args());
    bench(c, "nll_grad 1000x100", &[&p, &y], &[&nll, &gp], p_args());
}

criterion_group!(benches, advanced);
criterion_main!(benches);
