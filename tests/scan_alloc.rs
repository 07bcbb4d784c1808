//! A compiled loop allocates no carried value per step: each step writes its outputs
//! straight into their rows of the stored traces (a carry whose trace is not stored into the
//! buffer of two steps back, double-buffered), so the large allocations of a call do not grow
//! with the number of steps.
//! A counting global allocator counts the large blocks; JIT only (the reference kernels make
//! their own results).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use tensorlift as tl;
use tl::{Scan, Tensor};

struct Counting;

/// Allocations of at least this many bytes are counted (a carried row is 80 000 bytes).
const LARGE: usize = 64 << 10;

/// The number of large allocations so far, on every thread.
static LARGE_BLOCKS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE {
            LARGE_BLOCKS.fetch_add(1, Relaxed);
        }
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= LARGE {
            LARGE_BLOCKS.fetch_add(1, Relaxed);
        }
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

#[test]
fn a_loop_allocates_no_carried_value_per_step() {
    let (steps, width) = (200usize, 10_000usize);
    // h_t = tanh(h_{t-1} / 2 + x_t) carried, y_t = 2 h_t mapped: the last h and every y.
    let x = tl::dmatrix("x");
    let h0 = tl::dvector("h0");
    let r = Scan::new()
        .sequences([&x])
        .outputs_info([tl::OutputInfo::from(&h0), tl::OutputInfo::Mapped])
        .build(|p| {
            let h = tl::tanh(&p[1] * 0.5 + &p[0]);
            vec![h.clone(), h * 2.0].into()
        })
        .unwrap();
    let last = r.outputs[0].get(&[tl::Index::At(-1)]);
    let f = tl::Function::builder(&[&x, &h0], &[&last, &r.outputs[1]]).mode(tl::Mode::Jit).build().unwrap();
    let xs: Vec<f64> = (0..steps * width).map(|i| ((i % 97) as f64 - 48.0) / 50.0).collect();
    let xs = Tensor::from(ndarray::Array2::from_shape_vec((steps, width), xs).unwrap());
    let args = [tl::Arg::from(&xs), tl::Arg::from(vec![0.1; width])];
    let first = f.call(&args).unwrap();
    let before = LARGE_BLOCKS.load(Relaxed);
    let again = f.call(&args).unwrap();
    let large = LARGE_BLOCKS.load(Relaxed) - before;
    // The arguments' conversion, the traces and the returned values: a handful, not one or
    // two per step.
    assert!(large < 20, "{large} large allocations in a call of {steps} steps");
    // The same values as the first call, and as an explicit loop.
    assert_eq!(first[0].to_f64_vec(), again[0].to_f64_vec());
    assert_eq!(first[1].to_f64_vec(), again[1].to_f64_vec());
    let mut h = vec![0.1; width];
    let x = xs.to_f64_vec();
    let y = again[1].to_f64_vec();
    for t in 0..steps {
        for (k, hk) in h.iter_mut().enumerate() {
            *hk = (*hk * 0.5 + x[t * width + k]).tanh();
            let got = y[t * width + k];
            assert!(
                (got - 2.0 * *hk).abs() <= 1e-15 * hk.abs().max(1.0) * 4.0,
                "y[{t}][{k}] {got} vs {}",
                2.0 * *hk
            );
        }
    }
}
