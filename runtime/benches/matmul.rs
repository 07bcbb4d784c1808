//! The matrix kernels side by side on the workloads' shapes, f32 and f64: W4's gemm 1000³
//! and gemv 1000×1000, W5's gemv 400×784, W6's forward products 256×784·784×512 and
//! 256×512·512×10 and its gradient products 784×256·256×512 (`Xᵀ·δ`) and 256×10·10×512
//! (`δ·W2ᵀ`). Each product is `C = A·B + C` (the fused bias), row-major operands.
//!
//! `cargo bench -p tensorlift-runtime --bench matmul` (add `--features blas` for the BLAS
//! column, README "Build options"); `TENSORLIFT_FLAGS=threads=1` for one thread. What
//! [`choose`] picks follows these figures.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::{Array1, Array2};
use std::hint::black_box;
use std::time::Duration;
use tensorlift_runtime::matmul::{choose, gemm_with, gemv_with, Kernel, MatElem};

/// (name, m, k, n); n = 1 is a matrix-vector product.
const SHAPES: [(&str, usize, usize, usize); 7] = [
    ("W4 gemm 1000x1000x1000", 1000, 1000, 1000),
    ("W4 gemv 1000x1000", 1000, 1000, 1),
    ("W5 gemv 400x784", 400, 784, 1),
    ("W6 256x784x512", 256, 784, 512),
    ("W6 256x512x10", 256, 512, 10),
    ("W6 grad 784x256x512", 784, 256, 512),
    ("W6 grad 256x10x512", 256, 10, 512),
];

fn shapes<T: MatElem>(c: &mut Criterion, dtype: &str) {
    let val = |i: usize, p: usize| T::from_f64((i % p) as f64 / p as f64);
    for (name, m, k, n) in SHAPES {
        let mut g = c.benchmark_group(format!("{name} {dtype}"));
        let big = m * k * n >= 100_000_000;
        g.sample_size(if big { 10 } else { 30 })
            .warm_up_time(Duration::from_millis(if big { 1000 } else { 300 }))
            .measurement_time(Duration::from_secs(if big { 4 } else { 2 }));
        let a = Array2::from_shape_fn((m, k), |(i, j)| val(i * k + j, 13));
        println!("{name} {dtype}: choose picks {}", choose(T::DTYPE, m, k, n).name());
        for &kernel in Kernel::ALL {
            if n == 1 {
                let x = Array1::from_shape_fn(k, |i| val(i, 17));
                let mut y = Array1::from_elem(m, T::from_f64(1.0));
                g.bench_function(BenchmarkId::from_parameter(kernel.name()), |bch| {
                    bch.iter(|| {
                        gemv_with(
                            kernel,
                            T::from_f64(1.0),
                            a.view(),
                            x.view(),
                            T::from_f64(1.0),
                            y.view_mut(),
                        )
                    })
                });
                black_box(&y);
            } else {
                let b = Array2::from_shape_fn((k, n), |(i, j)| val(i * n + j, 17));
                let mut cm = Array2::from_elem((m, n), T::from_f64(1.0));
                g.bench_function(BenchmarkId::from_parameter(kernel.name()), |bch| {
                    bch.iter(|| {
                        gemm_with(
                            kernel,
                            T::from_f64(1.0),
                            a.view(),
                            b.view(),
                            T::from_f64(1.0),
                            cm.view_mut(),
                        )
                    })
                });
                black_box(&cm);
            }
        }
        g.finish();
    }
}

fn matmul(c: &mut Criterion) {
    shapes::<f64>(c, "f64");
    shapes::<f32>(c, "f32");
}

criterion_group!(benches, matmul);
criterion_main!(benches);
