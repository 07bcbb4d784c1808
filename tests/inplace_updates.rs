//! In-place updates (#16): an update `w ← f(w, …)` is written into a spare buffer of `w` (a
//! value an earlier call replaced, once nothing holds it), so a training loop allocates
//! nothing per step for its parameters; results are bit-identical to fresh buffers, a value
//! read with `get_value` never changes under its reader, and a failed call changes nothing.
//!
//! The allocation counts come from a counting global allocator; the tests of this file run
//! one at a time (they share it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use tensorlift as tl;
use tl::workloads::{cases, Size};

/// Counts the bytes every thread allocates.
struct Counting;

static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BYTES.fetch_add(new_size, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The tests of this file share the allocator's counter: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The address of a shared variable's data now.
fn data_ptr(v: &tl::Var) -> usize {
    v.get_value().unwrap().array::<f64>().unwrap().as_ptr() as usize
}

/// W5's parameters after `steps` steps, and the bytes allocated per step over the last
/// `steps - 100`; with `hold`, every step's parameter values are kept alive (so no update
/// can reuse a buffer: the fresh-buffer path).
fn w5_run(steps: usize, hold: bool) -> (Vec<tl::Tensor>, usize, usize) {
    let case = cases("W5", Size::Quick).remove(0);
    let f = case.compile(tl::Mode::Jit).unwrap();
    let params: Vec<tl::Var> = case.updates.iter().map(|(p, _)| p.clone()).collect();
    let args: Vec<tl::Arg> = case.args.iter().cloned().map(tl::Arg::from).collect();
    let mut held = Vec::new();
    let mut pointers = std::collections::HashSet::new();
    let mut start = 0;
    for step in 0..steps {
        if step == 100 {
            start = BYTES.load(Relaxed);
        }
        f.call(&args).unwrap();
        if hold {
            held.push(params[0].get_value().unwrap());
        } else if step >= 100 && step % 97 == 0 {
            pointers.insert(data_ptr(&params[0]));
        }
    }
    let per_step = (BYTES.load(Relaxed) - start) / (steps - 100);
    (params.iter().map(|p| p.get_value().unwrap()).collect(), per_step, pointers.len())
}

#[test]
fn w5_training_loop_allocates_nothing_for_its_parameters() {
    let _s = serial();
    let steps = 10_000;
    let (inplace, inplace_bytes, buffers) = w5_run(steps, false);
    let (fresh, fresh_bytes, _) = w5_run(steps, true);
    // Bit-identical: the same kernels write the same values, only into other memory.
    for (a, b) in inplace.iter().zip(&fresh) {
        assert_eq!(
            a.to_f64_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.to_f64_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
    // `w` lives in at most two buffers, used in turn.
    assert!(buffers <= 2, "w moved through {buffers} buffers");
    // Per step, the fresh path allocates the new `w` (784 f64) and `b`; the in-place path
    // does not.
    let w_bytes = 784 * 8;
    assert!(
        inplace_bytes + w_bytes <= fresh_bytes,
        "in place {inplace_bytes} B/step, fresh {fresh_bytes} B/step"
    );
}

#[test]
fn large_parameter_steps_allocate_almost_nothing() {
    let _s = serial();
    let n = 200_000;
    let w = tl::shared(ndarray::Array1::from_shape_fn(n, |i| i as f64 * 1e-3), "w");
    let target = tl::shared(ndarray::Array1::from_shape_fn(n, |i| (i % 7) as f64), "target");
    let lr = tl::dscalar("lr");
    let step = tl::Function::builder(&[&lr], &[] as &[&tl::Var])
        .update(&w, &(&w - &lr * (&w - &target)))
        .mode(tl::Mode::Jit)
        .build()
        .unwrap();
    for _ in 0..5 {
        step.call(&[tl::Arg::from(0.1)]).unwrap();
    }
    let start = BYTES.load(Relaxed);
    for _ in 0..200 {
        step.call(&[tl::Arg::from(0.1)]).unwrap();
    }
    let per_step = (BYTES.load(Relaxed) - start) / 200;
    assert!(per_step < 4096, "{per_step} B/step for a {} B parameter", n * 8);
    // The values are the ones of the recurrence.
    let got = w.get_value().unwrap().to_f64_vec();
    for i in [0, 1, 12_345, n - 1] {
        let (mut v, t) = (i as f64 * 1e-3, (i % 7) as f64);
        for _ in 0..205 {
            v -= 0.1 * (v - t);
        }
        assert!((got[i] - v).abs() <= 1e-12 * v.abs().max(1.0), "{i}: {} vs {v}", got[i]);
    }
}

#[test]
fn a_value_read_never_changes_under_its_reader() {
    let _s = serial();
    let w = tl::shared(ndarray::arr1(&[1.0, 2.0, 3.0]), "w");
    let step = tl::Function::builder(&[] as &[&tl::Var], &[] as &[&tl::Var])
        .update(&w, &(&w * 2.0))
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(w.get_value().unwrap());
        step.call(&[]).unwrap();
    }
    for (k, v) in seen.iter().enumerate() {
        let scale = f64::from(1u32 << k);
        assert_eq!(v.to_f64_vec(), vec![scale, 2.0 * scale, 3.0 * scale], "read {k}");
    }
    assert_eq!(w.get_value().unwrap().to_f64_vec(), vec![64.0, 128.0, 192.0]);
}

#[test]
fn a_failed_call_changes_no_parameter() {
    let _s = serial();
    let w = tl::shared(ndarray::arr1(&[1.0, 2.0, 3.0]), "w");
    let v = tl::shared(ndarray::arr1(&[1.0, 1.0, 1.0]), "v");
    let x = tl::dvector("x");
    // The second update fails when `x` does not have w's length; the first one would run.
    let step = tl::Function::builder(&[&x], &[] as &[&tl::Var])
        .updates(&[(&w, &(&w + 1.0)), (&v, &(&v + &x))])
        .build()
        .unwrap();
    for _ in 0..3 {
        step.call(&[tl::Arg::from(ndarray::arr1(&[1.0, 1.0, 1.0]))]).unwrap();
    }
    let before = (w.get_value().unwrap().to_f64_vec(), v.get_value().unwrap().to_f64_vec());
    for _ in 0..3 {
        assert!(step.call(&[tl::Arg::from(ndarray::arr1(&[1.0, 1.0]))]).is_err());
        assert_eq!((w.get_value().unwrap().to_f64_vec(), v.get_value().unwrap().to_f64_vec()), before);
    }
    step.call(&[tl::Arg::from(ndarray::arr1(&[1.0, 1.0, 1.0]))]).unwrap();
    assert_eq!(w.get_value().unwrap().to_f64_vec(), vec![5.0, 6.0, 7.0]);
    assert_eq!(v.get_value().unwrap().to_f64_vec(), vec![5.0, 5.0, 5.0]);
}

#[test]
fn w6_parameters_stay_in_two_buffers_each() {
    let _s = serial();
    let case = cases("W6", Size::Quick).remove(0);
    let f = case.compile(tl::Mode::Jit).unwrap();
    let params: Vec<tl::Var> = case.updates.iter().map(|(p, _)| p.clone()).collect();
    let mut pointers = vec![std::collections::HashSet::new(); params.len()];
    for step in 0..12 {
        case.call(&f).unwrap();
        if step >= 2 {
            for (p, seen) in params.iter().zip(&mut pointers) {
                seen.insert(data_ptr(p));
            }
        }
    }
    // The weight matrices are updated by a matrix product with the old weights as its
    // bias (`gemm`), the biases by elementwise kernels: both write into the spare buffer.
    for (p, seen) in params.iter().zip(&pointers) {
        assert!(seen.len() <= 2, "{} moved through {} buffers", p.describe(), seen.len());
    }
}
