//! How many threads a large native kernel is split over: every core by default, set with
//! [`set_num_threads`] or the `TENSORLIFT_NUM_THREADS` environment variable.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// 0: not set yet.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Threads for one kernel run (at least 1).
pub fn num_threads() -> usize {
    match THREADS.load(Relaxed) {
        0 => {
            let n = std::env::var("TENSORLIFT_NUM_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(rayon::current_num_threads);
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
