//! One `Function` called from several threads at once: same results as one thread, and
//! updates of a shared variable serialized so that none is lost.

use tensorlift as tl;
use tl::Mode;

#[test]
fn functions_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<tl::Function>();
}

#[test]
fn four_threads_increment_one_shared_counter_without_losing_updates() {
    let calls: usize =
        std::env::var("TENSORLIFT_CONCURRENCY_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    for mode in [Mode::Jit, Mode::Interp] {
        let c = tl::shared(0.0f64, "c");
        let f = tl::Function::builder::<&tl::Var, tl::Var>(&[], &[])
            .update(&c, &(&c + 1.0))
            .mode(mode)
            .build()
            .expect("compiles");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..calls {
                        f.call(&[]).expect("runs");
                    }
                });
            }
        });
        let v = c.as_shared().unwrap().get().scalar::<f64>().unwrap();
        assert_eq!(v, (4 * calls) as f64, "{mode:?}");
    }
}

#[test]
fn concurrent_calls_give_the_single_threaded_results() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let e = ((&x * &y).sin() + (-&x).exp() * 0.5).sum();
    let f = tl::Function::builder(&[&x, &y], &[e]).mode(Mode::Jit).build().unwrap();
    assert!(f.native_kernel_count() >= 1);
    let input = |k: usize| -> (Vec<f64>, Vec<f64>) {
        (
            (0..1000).map(|i| (i + k) as f64 * 1e-3).collect(),
            (0..1000).map(|i| (i * k) as f64 * 1e-4).collect(),
        )
    };
    let want: Vec<tl::Tensor> = (0..8)
        .map(|k| {
            let (a, b) = input(k);
            f.call(&tl::args![a, b]).unwrap().remove(0)
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (f, want) = (&f, &want);
            s.spawn(move || {
                for r in 0..200 {
                    let k = (t + r) % 8;
                    let (a, b) = input(k);
                    assert_eq!(f.call(&tl::args![a, b]).unwrap()[0], want[k]);
                }
            });
        }
    });
}
