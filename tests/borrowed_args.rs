//! Arguments given as ndarray views (`ArrayView`, `&Array`) are read in place: a call makes
//! no copy of them, reads views of any layout (transposed, stepped, reversed), gives the
//! results a copy of the argument gives, and returns and stores only data of its own (an
//! output or update that is the argument, or a view of it, is copied out).
//! A counting global allocator counts the bytes of large allocations (the tests run one at
//! a time).

use ndarray::{s, Array2, ArrayView2};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use tensorlift as tl;
use tl::{Arg, Tensor};

struct Counting;

/// Allocations of at least this many bytes are counted.
const LARGE: usize = 64 << 10;

/// The bytes of large allocations so far, on every thread.
static LARGE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE {
            LARGE_BYTES.fetch_add(layout.size(), Relaxed);
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
            LARGE_BYTES.fetch_add(new_size, Relaxed);
        }
        // SAFETY: the caller's guarantees are passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The tests run one at a time: the count is the whole process's.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn data(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 7 + j * 3) % 23) as f64 / 7.0 - 1.5)
}

/// True when `t`'s first element lies in `a`'s memory.
fn inside(t: &Tensor, a: &Array2<f64>) -> bool {
    let p = t.data_ptr() as usize;
    let lo = a.as_ptr() as usize;
    p >= lo && p < lo + a.len() * 8
}

#[test]
fn a_view_argument_is_not_copied() {
    let _serial = serial();
    let x = tl::dmatrix("x");
    let w = tl::dvector("w");
    // A reduction, a product and an elementwise kernel over x: none needs x copied.
    let f = tl::function(&[&x, &w], &[tl::sum(&x), tl::dot(&x, &w), tl::sum(tl::exp(&x) * 2.0)]).unwrap();
    let a = data(1000, 500);
    let v = ndarray::Array1::from_shape_fn(500, |j| j as f64 / 500.0);
    let owned = f.call(&[Arg::from(a.clone()), Arg::from(v.clone())]).unwrap();
    let before = LARGE_BYTES.load(Relaxed);
    let borrowed = f.call(&[Arg::from(a.view()), Arg::from(&v)]).unwrap();
    let grown = LARGE_BYTES.load(Relaxed) - before;
    // The 4 MB argument is read in place; only the results (and, in the interpreter, the
    // reference kernels' temporaries) allocate.
    let limit = if std::env::var("TENSORLIFT_MODE").as_deref() == Ok("interp") {
        3 * a.len() * 8
    } else {
        a.len() * 8 / 2
    };
    assert!(grown < limit, "a call on a borrowed 4 MB argument allocated {grown} bytes");
    for (o, b) in owned.iter().zip(&borrowed) {
        assert!(o.allclose(b, 1e-12, 1e-12), "{o} vs {b}");
    }
}

#[test]
fn views_of_every_layout_give_the_results_of_copies() {
    let _serial = serial();
    let x = tl::dmatrix("x");
    let y = tl::dmatrix("y");
    let outs = [tl::exp(&x) * 2.0 + &y, tl::dot(&x, y.t()), x.sum_axis(0), tl::tanh(x.t()) - &y.t()];
    let f = tl::function(&[&x, &y], &outs).unwrap();
    let a = data(40, 60);
    let b = data(60, 40);
    let layouts: Vec<(&str, ArrayView2<'_, f64>, ArrayView2<'_, f64>)> = vec![
        ("contiguous", a.slice(s![..30, ..20]), a.slice(s![10..40, 20..40])),
        ("transposed", b.t().slice_move(s![..30, ..20]), b.t().slice_move(s![10..40, 20..40])),
        ("stepped", a.slice(s![..30, ..40;2]), a.slice(s![10..40, 20..]).slice_move(s![.., ..;2])),
        ("reversed", a.slice(s![..30;-1, ..20]), a.slice(s![10..40, 20..40;-1])),
    ];
    for (name, u, v) in layouts {
        let copies = f.call(&[Arg::from(u.to_owned()), Arg::from(v.to_owned())]).unwrap();
        let views = f.call(&[Arg::from(u), Arg::from(v)]).unwrap();
        for (k, (c, w)) in copies.iter().zip(&views).enumerate() {
            assert!(c.allclose(w, 1e-12, 1e-12), "{name}, output {k}: {c} vs {w}");
        }
    }
}

#[test]
fn results_and_updates_never_share_the_arguments_memory() {
    let _serial = serial();
    let x = tl::dmatrix("x");
    let s = tl::shared(Tensor::zeros(tl::DType::F64, &[30, 20]), "s");
    let f = tl::Function::builder(
        &[&x],
        &[x.clone(), x.t(), x.get(&[tl::Index::slice(Some(1), None, 1)]), x.reshape(&[600])],
    )
    .updates(&[(&s, &x)])
    .build()
    .unwrap();
    let a = data(30, 20);
    let out = f.call(&[Arg::from(a.view())]).unwrap();
    let owned = f.call(&[Arg::from(a.clone())]).unwrap();
    for (k, (t, o)) in out.iter().zip(&owned).enumerate() {
        assert!(!t.is_borrowed() && !inside(t, &a), "output {k} reads the argument's memory");
        assert_eq!(t, o, "output {k}");
    }
    let kept = s.get_value().unwrap();
    assert!(!kept.is_borrowed() && !inside(&kept, &a));
    assert_eq!(kept, Tensor::from(a.clone()));
    // `into_result` hands the caller data of its own too.
    let arg = Arg::from(a.view());
    assert!(arg.is_borrowed());
    let t = arg.into_result().unwrap();
    assert!(!t.is_borrowed() && !inside(&t, &a));
}

#[test]
fn a_loop_over_a_borrowed_sequence_reads_its_rows_in_place() {
    let _serial = serial();
    // The rows of the sequence are views of the argument, step after step.
    let x = tl::dmatrix("x");
    let h0 = tl::dvector("h0");
    let r = tl::Scan::new()
        .sequences([&x])
        .outputs_info([tl::OutputInfo::from(&h0)])
        .build(|p| vec![tl::tanh(&p[1] * 0.5 + &p[0])].into())
        .unwrap();
    let f = tl::function(&[&x, &h0], &[r.outputs[0].clone()]).unwrap();
    let a = data(200, 300);
    let h = ndarray::Array1::<f64>::zeros(300);
    let (ac, hc) = (a.clone(), h.clone());
    let before = LARGE_BYTES.load(Relaxed);
    let copies = f.call(&[Arg::from(ac), Arg::from(hc)]).unwrap();
    let owned_grown = LARGE_BYTES.load(Relaxed) - before;
    let before = LARGE_BYTES.load(Relaxed);
    let views = f.call(&[Arg::from(a.view()), Arg::from(h.view())]).unwrap();
    let grown = LARGE_BYTES.load(Relaxed) - before;
    assert_eq!(copies, views);
    // The trace (200 × 300) is the call's to allocate; a copy of `x` per step would be
    // 200 times `x`.
    assert!(
        grown <= owned_grown + 4096,
        "{grown} bytes for a loop over a borrowed sequence, {owned_grown} over a copy"
    );
    assert!(
        grown < 4 * a.len() * 8 || std::env::var("TENSORLIFT_MODE").as_deref() == Ok("interp"),
        "{grown} bytes"
    );
}
