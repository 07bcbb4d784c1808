//! Bulk math routines (`tensorlift_jit::bulk`) against a Rust loop calling std, over
//! n = 1e6 elements (f64 and f32), for the functions with an f32 algorithm: exp, expm1,
//! log, log1p, sin, cos, tanh, sigmoid and softplus.
//!
//! Criterion reports the time per pass over 1e6 elements, so 1 ms is 1 ns per element.
//! `bulk-<level>` rows run on a forced dispatch level (every level this CPU has).
//!
//! `inline_f64` times JIT kernels of one function over 2048 elements, below the length at
//! which a kernel calls the bulk routines: the inline Cranelift code (`vmath`, 128-bit
//! vectors) of the same algorithms (1 µs is 0.49 ns per element), and `<name>-bulk` the bulk
//! routine (detected level) on the same 2048 elements.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tensorlift_ir::{DType, MathFn, ScalarProgramBuilder};
use tensorlift_jit::bulk::{self, Level};
use tensorlift_jit::{compile_elementwise, KernelArg};

const N: usize = 1_000_000;

/// Deterministic inputs in [lo, hi].
fn inputs(lo: f64, hi: f64) -> Vec<f64> {
    let mut s: u64 = 0x1234_5678;
    (0..N)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

fn sigmoid64(x: f64) -> f64 {
    tensorlift_ir::scalar::reference::sigmoid(x)
}

fn sigmoid32(x: f32) -> f32 {
    tensorlift_ir::scalar::reference::sigmoid(x)
}

fn softplus64(x: f64) -> f64 {
    tensorlift_ir::scalar::reference::softplus(x)
}

fn softplus32(x: f32) -> f32 {
    tensorlift_ir::scalar::reference::softplus(x)
}

/// An op, its input range and its std versions (f64, f32).
type Case = (MathFn, f64, f64, fn(f64) -> f64, fn(f32) -> f32);

fn bench(c: &mut Criterion) {
    let cases: [Case; 9] = [
        (MathFn::Exp, -20.0, 20.0, f64::exp, f32::exp),
        (MathFn::Expm1, -5.0, 5.0, f64::exp_m1, f32::exp_m1),
        (MathFn::Log, 1e-3, 1e3, f64::ln, f32::ln),
        (MathFn::Log1p, -0.5, 10.0, f64::ln_1p, f32::ln_1p),
        (MathFn::Sin, -100.0, 100.0, f64::sin, f32::sin),
        (MathFn::Cos, -100.0, 100.0, f64::cos, f32::cos),
        (MathFn::Tanh, -5.0, 5.0, f64::tanh, f32::tanh),
        (MathFn::Sigmoid, -20.0, 20.0, sigmoid64, sigmoid32),
        (MathFn::Softplus, -20.0, 20.0, softplus64, softplus32),
    ];
    for (op, lo, hi, std64, std32) in cases {
        let x = inputs(lo, hi);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut out = vec![0.0f64; N];
        let mut out32 = vec![0.0f32; N];

        let mut g = c.benchmark_group(format!("{}_f64", op.name()));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function("std", |b| {
            b.iter(|| {
                for (o, &v) in out.iter_mut().zip(black_box(&x)) {
                    *o = std64(v);
                }
            })
        });
        for level in Level::available() {
            g.bench_function(format!("bulk-{}", level.name()), |b| {
                b.iter(|| bulk::unary_f64_at(level, op, black_box(&x), &mut out))
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{}_f32", op.name()));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function("std", |b| {
            b.iter(|| {
                for (o, &v) in out32.iter_mut().zip(black_box(&x32)) {
                    *o = std32(v);
                }
            })
        });
        for level in Level::available() {
            g.bench_function(format!("bulk-{}", level.name()), |b| {
                b.iter(|| bulk::unary_f32_at(level, op, black_box(&x32), &mut out32))
            });
        }
        g.finish();
    }
}

/// The elements of an inline kernel run.
const INLINE_N: usize = 2048;

fn bench_inline(c: &mut Criterion) {
    let cases: [(MathFn, f64, f64); 4] = [
        (MathFn::Tanh, -5.0, 5.0),
        (MathFn::Exp, -20.0, 20.0),
        (MathFn::Sigmoid, -20.0, 20.0),
        (MathFn::Softplus, -20.0, 20.0),
    ];
    let mut g = c.benchmark_group("inline_f64");
    g.throughput(Throughput::Elements(INLINE_N as u64));
    for (op, lo, hi) in cases {
        let x = inputs(lo, hi)[..INLINE_N].to_vec();
        let mut out = vec![0.0f64; INLINE_N];
        let mut b = ScalarProgramBuilder::new();
        let xin = b.add_input(DType::F64).expect("an input");
        let y = b.apply(op.op(), &[xin]).expect("a unary op");
        let k = compile_elementwise(&b.finish(&[y]).expect("a program")).expect("a kernel");
        g.bench_function(op.name(), |b| {
            b.iter(|| k.run(&[KernelArg::F64(black_box(&x))], &mut out).expect("a run"))
        });
        // The bulk routine on the same elements, for comparison.
        g.bench_function(format!("{}-bulk", op.name()), |b| {
            b.iter(|| bulk::unary_f64(op, black_box(&x), &mut out))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench, bench_inline
}
criterion_main!(benches);
