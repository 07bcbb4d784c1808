//! Criterion benchmarks of elementwise kernels over inputs that are not laid out like their
//! result: a transposed matrix, a transposed rank-3 tensor, stepped and reversed slices,
//! and broadcasting along different axes of a rank-3 result. Each case is one group with
//! the interpreter (`Mode::Interp`, the reference kernels) and the JIT (`Mode::Jit`).

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tensorlift as tl;
use tl::{DType, Index, Mode, Tensor, Var};

const ENGINES: [(&str, Mode); 2] = [("interp", Mode::Interp), ("jit", Mode::Jit)];

/// `n` deterministic values in [-1, 1).
fn data(n: usize, seed: u64) -> Vec<f64> {
    (0..n).map(|i| ((i as u64 * 2654435761 + seed * 97) % 2000) as f64 / 1000.0 - 1.0).collect()
}

fn array(shape: &[usize], seed: u64) -> Tensor {
    let n = shape.iter().product();
    Tensor::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), data(n, seed)).expect("shape"))
}

/// One benchmark case: its inputs, outputs and arguments.
struct Case {
    name: &'static str,
    inputs: Vec<Var>,
    output: Var,
    args: Vec<Tensor>,
}

fn cases() -> Vec<Case> {
    let x = tl::dmatrix("x");
    let y = tl::dmatrix("y");
    let t = tl::dtensor3("t");
    let u = tl::dtensor3("u");
    let v = tl::dvector("v");
    let w = tl::dvector("w");
    let a = tl::tensor("a", DType::F64, &[None, Some(1), None]);
    let b = tl::tensor("b", DType::F64, &[Some(1), None, Some(1)]);
    vec![
        Case {
            name: "transpose_add 1000x1000",
            inputs: vec![x.clone(), y.clone()],
            output: x.t() + &y,
            args: vec![array(&[1000, 1000], 1), array(&[1000, 1000], 2)],
        },
        Case {
            name: "transpose3_mul 100x100x100",
            inputs: vec![t.clone(), u.clone()],
            output: t.transpose(&[2, 0, 1]) * &u + 1.0,
            args: vec![array(&[100, 100, 100], 3), array(&[100, 100, 100], 4)],
        },
        Case {
            name: "step2_add 1e6",
            inputs: vec![v.clone(), w.clone()],
            output: v.get(&[Index::step(2)]) + &w,
            args: vec![array(&[2_000_000], 5), array(&[1_000_000], 6)],
        },
        Case {
            name: "reversed_mul 1e6",
            inputs: vec![v.clone(), w.clone()],
            output: v.get(&[Index::rev()]) * &w,
            args: vec![array(&[1_000_000], 7), array(&[1_000_000], 8)],
        },
        Case {
            name: "outer_bcast 100x100x100",
            inputs: vec![a.clone(), b.clone()],
            output: &a * &b + 1.0,
            args: vec![array(&[100, 1, 100], 9), array(&[1, 100, 1], 10)],
        },
        Case {
            name: "short_rows 300x300x4",
            inputs: vec![a.clone(), b.clone()],
            output: &a * &b + 1.0,
            args: vec![array(&[300, 1, 4], 11), array(&[1, 300, 1], 12)],
        },
    ]
}

fn strided(c: &mut Criterion) {
    for case in cases() {
        let mut group = c.benchmark_group(case.name);
        group.sample_size(20);
        group.warm_up_time(Duration::from_millis(500));
        for (name, mode) in ENGINES {
            let f =
                tl::Function::builder(&case.inputs, &[&case.output]).mode(mode).build().expect("compiles");
            let args: Vec<tl::Arg> = case.args.iter().map(|t| tl::Arg::from(t.clone())).collect();
            group.bench_function(name, |bench| bench.iter(|| f.call(&args).expect("runs")));
        }
        group.finish();
    }
}

criterion_group!(benches, strided);
criterion_main!(benches);
