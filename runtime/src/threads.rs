//! How many threads a large native kernel is split over: every core by default, set with
//! [`set_num_threads`] or by the environment (`threads` in `TENSORLIFT_FLAGS`, or
//! `TENSORLIFT_NUM_THREADS`; see `tensorlift_ir::config`).

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// 0: not set yet.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Threads for one kernel run (at least 1).
pub fn num_threads() -> usize {
    match THREADS.load(Relaxed) {
        0 => {
            let n = tensorlift_ir::config::get().threads.unwrap_or_else(rayon::current_num_threads);
            THREADS.store(n, Relaxed);
            n
        }
        n => n,
    }
}

/// Splits large kernels over at most `n` threads from now on (1: no splitting; 0 is read
/// as 1). More than the machine's cores gives no more than the cores.
pub fn set_num_threads(n: usize) {
    THREADS.store(n.max(1), Relaxed);
}

/// Threads a kernel run over `n` elements is split over: [`num_threads`] from
/// [`PARALLEL_THRESHOLD`] elements on, else 1.
pub(crate) fn for_len(n: usize) -> usize {
    if n >= PARALLEL_THRESHOLD {
        num_threads()
    } else {
        1
    }
}

/// Elements above which a kernel run is split over the threads (measured: below it, waking
/// a second thread costs more than it saves on the cheapest kernels).
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Runs `part(first, chunk)` over consecutive chunks of `buf` that cover it, each a whole
/// number of `unit` elements (`first`: the chunk's first element in `buf`), one chunk per
/// thread when `buf` has [`PARALLEL_THRESHOLD`] elements or more. `Some` when every part
/// succeeded.
pub(crate) fn in_parts<T: Send>(
    buf: &mut [MaybeUninit<T>],
    unit: usize,
    part: impl Fn(usize, &mut [MaybeUninit<T>]) -> Option<()> + Sync,
) -> Option<()> {
    let n = buf.len();
    let threads = for_len(n);
    let units = n / unit.max(1);
    if threads <= 1 || units < 2 {
        return part(0, buf);
    }
    let per = units.div_ceil(threads) * unit;
    let ok = std::sync::atomic::AtomicBool::new(true);
    rayon::scope(|sc| {
        for (k, chunk) in buf.chunks_mut(per).enumerate() {
            let (ok, part) = (&ok, &part);
            sc.spawn(move |_| {
                if part(k * per, chunk).is_none() {
                    ok.store(false, Relaxed);
                }
            });
        }
    });
    ok.into_inner().then_some(())
}
