//! Buffers kept across calls (`Mode::Jit`): the storage of a dead intermediate is reused by
//! the next native result of its dtype and length, in the same call or the next; in the
//! steady state a call allocates only what it returns. Results are the same as without
//! reuse, call after call and from several threads at once.

use ndarray::{Array1, Array2};
use tensorlift as tl;
use tl::{Mode, Tensor};

fn matrix(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 31 + j * 17) as f64 * 0.37 + seed).sin() * 0.5)
}

#[test]
fn a_dead_intermediate_is_reused_by_the_next_call() {
    // exp(X) dies after the product: from the second call on, its buffer is reused.
    let x = tl::dmatrix("x");
    let w = tl::dmatrix("w");
    let y = tl::dot(tl::exp(&x * 0.5), &w);
    let f = tl::Function::builder(&[&x, &w], std::slice::from_ref(&y)).mode(Mode::Jit).build().unwrap();
    let interp = tl::Function::builder(&[&x, &w], &[y]).mode(Mode::Interp).build().unwrap();
    let args = tl::args![matrix(300, 200, 0.0), matrix(200, 50, 1.0)];
    let reference = interp.call(&args).unwrap()[0].to_f64_vec();
    let first = f.call(&args).unwrap()[0].to_f64_vec();
    for (a, b) in first.iter().zip(&reference) {
        assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()), "{a} vs {b}");
    }
    let mut stats = vec![f.buffer_stats()];
    for _ in 1..4 {
        // Bit for bit the first call's values, in reused buffers.
        assert!(f.call(&args).unwrap()[0].to_f64_vec() == first);
        stats.push(f.buffer_stats());
    }
    assert_eq!(stats[0], tl::BufferStats { fresh: 1, reused: 0 }, "{stats:?}");
    for k in 1..4 {
        assert_eq!(stats[k].fresh, 1, "steady calls allocate nothing new: {stats:?}");
        assert_eq!(stats[k].reused, k, "{stats:?}");
    }
    assert_eq!(interp.buffer_stats(), tl::BufferStats::default());
}

#[test]
fn a_training_step_allocates_only_what_it_returns_in_the_steady_state() {
    // A tanh layer and a softmax cross-entropy, with its SGD updates.
    let build = || {
        let x = tl::dmatrix("x");
        let t = tl::dmatrix("t");
        let w1 = tl::shared(matrix(64, 128, 0.5), "w1");
        let b1 = tl::shared(Array1::<f64>::zeros(128), "b1");
        let w2 = tl::shared(matrix(128, 10, 0.25), "w2");
        let h = tl::tanh(tl::dot(&x, &w1) + &b1);
        let cost = -(&t * tl::log_softmax(tl::dot(&h, &w2), -1)).sum_axis(1).mean();
        let params = [&w1, &b1, &w2];
        let grads = tl::grad(&cost, &params).unwrap();
        let updates: Vec<(tl::Var, tl::Var)> =
            params.iter().zip(&grads).map(|(p, g)| ((*p).clone(), *p - 0.1 * g)).collect();
        (x, t, cost, updates, w1)
    };
    let args = {
        // 256 × 128 hidden values: buffers of 256 KiB, above the pool's minimum.
        let t = Array2::from_shape_fn((256, 10), |(i, j)| if i % 10 == j { 1.0 } else { 0.0 });
        tl::args![matrix(256, 64, 2.0), t]
    };
    let run = |mode: Mode| -> (Vec<f64>, Vec<f64>, Vec<tl::BufferStats>) {
        let (x, t, cost, updates, w1) = build();
        let f = tl::Function::builder(&[&x, &t], &[cost]).updates(&updates).mode(mode).build().unwrap();
        let mut costs = Vec::new();
        let mut stats = Vec::new();
        for _ in 0..5 {
            costs.push(f.call(&args).unwrap()[0].to_f64().unwrap());
            stats.push(f.buffer_stats());
        }
        (costs, w1.get_value().unwrap().to_f64_vec(), stats)
    };
    let (jit_costs, jit_w1, stats) = run(Mode::Jit);
    let (ref_costs, ref_w1, _) = run(Mode::Interp);
    for (a, b) in jit_costs.iter().zip(&ref_costs) {
        assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
    }
    for (a, b) in jit_w1.iter().zip(&ref_w1) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
    }
    // Calls 3..5 allocate the same number of fresh buffers each — the native results that
    // leave the call (updates) — and reuse the rest.
    let per_call: Vec<(usize, usize)> =
        stats.windows(2).map(|w| (w[1].fresh - w[0].fresh, w[1].reused - w[0].reused)).collect();
    let first = (stats[0].fresh, stats[0].reused);
    assert!(per_call[1].1 > 0, "nothing reused: {first:?} then {per_call:?}");
    assert!(per_call[1].0 < first.0, "steady calls allocate less: {first:?} then {per_call:?}");
    assert_eq!(per_call[1], per_call[2], "{per_call:?}");
    assert_eq!(per_call[2], per_call[3], "{per_call:?}");
}

#[test]
fn concurrent_calls_share_the_pool_safely() {
    let x = tl::dvector("x");
    let y = tl::dot(tl::exp(&x * 0.5), tl::sin(&x));
    let z = tl::sqrt(tl::abs(&x)) * y.clone();
    // 50 000 doubles: 400 KB buffers, pooled.
    let f = tl::Function::builder(&[&x], &[z]).mode(Mode::Jit).build().unwrap();
    let v: Vec<f64> = (0..50_000).map(|i| (i as f64 * 1e-3).cos()).collect();
    let want: Tensor = f.call1(v.clone()).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let got = f.call1(v.clone()).unwrap();
                    assert!(got.to_f64_vec() == want.to_f64_vec());
                }
            });
        }
    });
    assert!(f.buffer_stats().reused > 0, "{:?}", f.buffer_stats());
}
