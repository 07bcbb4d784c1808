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

/// The first element of a float64 vector shared variable, after checking that every element
/// equals it (updates write whole vectors: a reader never sees part of one).
fn uniform_value(v: &tl::Var) -> f64 {
    let t = v.get_value().unwrap();
    let xs = t.to_f64_vec();
    assert!(xs.iter().all(|&x| x == xs[0]), "{} is not uniform: a torn write", v.describe());
    xs[0]
}

/// #12 item 2: calls from rayon jobs, while the call itself splits large kernels over the
/// same rayon pool. A call holds no lock while it computes, so a worker that waits inside
/// one call and steals another call's job cannot wait for itself.
#[test]
fn calls_from_rayon_jobs_do_not_deadlock() {
    const N: usize = 1 << 20;
    const JOBS: usize = 200;
    let w = tl::shared(vec![0.0f64; N], "w");
    let f = tl::Function::builder::<&tl::Var, tl::Var>(&[], &[])
        .update(&w, &(&w + 1.0))
        .mode(Mode::Jit)
        .build()
        .unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    for _ in 0..JOBS {
        let (f, done) = (f.clone(), done.clone());
        rayon::spawn(move || {
            done.send(f.call(&[]).map(drop)).unwrap();
        });
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    for _ in 0..JOBS {
        let r = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("every call returns (no deadlock between calls on the rayon pool)");
        r.unwrap();
    }
    assert_eq!(uniform_value(&w), JOBS as f64, "no update lost");
}

/// #12 item 19: `set_value` during calls that update the same variable is not lost: it
/// takes effect between two calls, and the calls after it start from its value.
#[test]
fn set_value_during_updating_calls_is_not_lost() {
    const BIG: f64 = 1e9;
    for mode in [Mode::Jit, Mode::Interp] {
        let c = tl::shared(vec![0.0f64; 4096], "c");
        let f = tl::Function::builder::<&tl::Var, tl::Var>(&[], &[])
            .update(&c, &(&c + 1.0))
            .mode(mode)
            .build()
            .unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    f.call(&[]).unwrap();
                    calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
            while calls.load(std::sync::atomic::Ordering::Relaxed) < 100 {
                std::thread::yield_now();
            }
            c.set_value(vec![BIG; 4096]).unwrap();
            let after = uniform_value(&c);
            assert!(after >= BIG, "{mode:?}: set_value was overwritten by a call that read the old value");
            while calls.load(std::sync::atomic::Ordering::Relaxed) < 200 {
                std::thread::yield_now();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let total = calls.load(std::sync::atomic::Ordering::Relaxed) as f64;
        let last = uniform_value(&c);
        assert!(last >= BIG && last <= BIG + total, "{mode:?}: {last}");
    }
}

/// #12 item 20: the updates of one call are published together: a function reading `a`
/// and `b` never sees `a ← a+1` without `b ← b+1`.
#[test]
fn updates_of_one_call_are_seen_together() {
    let reads: usize =
        std::env::var("TENSORLIFT_CONCURRENCY_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    for mode in [Mode::Jit, Mode::Interp] {
        let a = tl::shared(0.0f64, "a");
        let b = tl::shared(0.0f64, "b");
        let inc = tl::Function::builder::<&tl::Var, tl::Var>(&[], &[])
            .updates(&[(&a, &a + 1.0), (&b, &b + 1.0)])
            .mode(mode)
            .build()
            .unwrap();
        let diff = tl::Function::builder::<&tl::Var, _>(&[], &[&a - &b]).mode(mode).build().unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    inc.call(&[]).unwrap();
                }
            });
            let torn =
                (0..reads).filter(|_| diff.call(&[]).unwrap()[0].scalar::<f64>().unwrap() != 0.0).count();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(torn, 0, "{mode:?}: {torn} of {reads} reads saw half of a call's updates");
        });
    }
}

/// Eight threads mixing updating calls, reading calls, `call_into`, failing calls,
/// `set_value` and `get_value` for `TENSORLIFT_STRESS_SECS` seconds (10 by default), then
/// the documented promises checked: calls and `set_value` are linearizable, so
/// - `a`, `b` and `c` move together (every call updates all three by the same amount) and
///   no update is lost: at the end each equals the sum of the increments that succeeded;
/// - a reader never sees a torn or half-published state (`a - b` is always 0, vectors are
///   uniform, values never decrease);
/// - a failed call changes nothing;
/// - `d`, written by `set_value` and incremented by calls, never loses a `set_value`.
#[test]
fn stress_eight_threads_of_mixed_calls() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    let secs: f64 = std::env::var("TENSORLIFT_STRESS_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let n = 3000;
    let a = tl::shared(vec![0.0f64; n], "a");
    let b = tl::shared(vec![0.0f64; n], "b");
    let c = tl::shared(0.0f64, "c");
    let d = tl::shared(0.0f64, "d");
    let step = tl::dscalar("step");
    let add = tl::Function::builder(&[&step], &[a.sum()])
        .updates(&[(&a, &a + &step), (&b, &b + &step), (&c, &c + &step)])
        .build()
        .unwrap();
    let x = tl::dvector("x");
    let add_vec = tl::Function::builder(&[&x], &[&x * 2.0])
        .updates(&[(&a, &a + tl::max(&x)), (&b, &b + tl::max(&x)), (&c, &c + tl::max(&x))])
        .mode(Mode::Interp)
        .build()
        .unwrap();
    let diff = tl::function::<&tl::Var, _>(&[], &[(&a - &b).sum(), tl::max(&a) - tl::min(&a)]).unwrap();
    let bump_d =
        tl::Function::builder::<&tl::Var, tl::Var>(&[], &[]).update(&d, &(&d + 1.0)).build().unwrap();
    let added = AtomicU64::new(0); // sum of the increments that succeeded (whole numbers)
    let d_calls = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let (add, added, stop) = (&add, &added, &stop);
            s.spawn(move || {
                while !stop.load(Relaxed) {
                    add.call(&tl::args![(t + 1) as f64]).unwrap();
                    added.fetch_add(t + 1, Relaxed);
                }
            });
        }
        s.spawn(|| {
            let mut k = 0u64;
            while !stop.load(Relaxed) {
                k += 1;
                if k.is_multiple_of(3) {
                    add_vec.call(&tl::args![vec![1.0; 7]]).unwrap();
                    added.fetch_add(1, Relaxed);
                    // A vector where a scalar goes: an error, and nothing changes.
                    assert!(add.call(&tl::args![vec![1.0, 2.0]]).is_err());
                } else {
                    let mut out = [tl::Tensor::from(vec![0.0f64; 3])];
                    add_vec.call_into(&tl::args![vec![3.0, 1.0, 2.0]], &mut out).unwrap();
                    assert_eq!(out[0].to_f64_vec(), [6.0, 2.0, 4.0]);
                    added.fetch_add(3, Relaxed);
                }
            }
        });
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    let r = diff.call(&[]).unwrap();
                    assert_eq!(r[0].scalar::<f64>().unwrap(), 0.0, "a - b seen torn");
                    assert_eq!(r[1].scalar::<f64>().unwrap(), 0.0, "a seen half written");
                }
            });
        }
        s.spawn(|| {
            let mut last = 0.0;
            while !stop.load(Relaxed) {
                let now = uniform_value(&a);
                assert!(now >= last, "a went back from {last} to {now}");
                last = now;
            }
        });
        s.spawn(|| {
            while !stop.load(Relaxed) {
                bump_d.call(&[]).unwrap();
                d_calls.fetch_add(1, Relaxed);
            }
        });
        s.spawn(|| {
            let mut k = 0.0;
            while std::time::Instant::now() < deadline {
                k += 1.0;
                d.set_value(k * 1e9).unwrap();
                let seen = d.get_value().unwrap().scalar::<f64>().unwrap();
                assert!(seen >= k * 1e9 && seen < (k + 1.0) * 1e9, "set_value of {} lost: {seen}", k * 1e9);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            stop.store(true, Relaxed);
        });
    });
    let total = added.load(Relaxed) as f64;
    assert_eq!(uniform_value(&a), total, "an update of a was lost");
    assert_eq!(uniform_value(&b), total, "an update of b was lost");
    assert_eq!(c.get_value().unwrap().scalar::<f64>().unwrap(), total, "an update of c was lost");
    let d_end = d.get_value().unwrap().scalar::<f64>().unwrap();
    let last_set = (d_end / 1e9).floor() * 1e9;
    assert!(d_end - last_set <= d_calls.load(Relaxed) as f64);
}
