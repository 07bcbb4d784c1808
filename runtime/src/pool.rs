//! Buffers kept across calls: when an intermediate value dies (its last reader has run) and
//! its storage is a uniquely owned, contiguous float buffer, the storage goes to the
//! compiled function's pool instead of back to the allocator, and the next native result
//! of the same dtype that fits in it — later in the same call, or in the next call — is
//! written into it. In the steady state a call allocates only the values it returns (and
//! what the reference kernels allocate for themselves): no fresh pages for intermediates,
//! whose first touch costs more than the arithmetic on large arrays.
//!
//! A result of `n` elements takes the smallest pooled buffer with room for `n` and at most
//! half as much again ([`MAX_SLACK`]): a result a little shorter than the last call's
//! reuses its buffer, a much shorter one does not hold on to a much larger buffer (a
//! returned value keeps its buffer).
//!
//! What a pool keeps is bounded by what a call needs: no more bytes than the buffers (of
//! [`MIN_BYTES`] or more) that the last finished call asked for — or that the running call
//! has asked for so far, if more — and never more than [`MAX_BUFFERS`] buffers or
//! [`MAX_BYTES`]. The oldest buffers go first (back to the allocator), when a dying buffer
//! would not fit and when a call ends. So calls with the same shapes reuse every
//! intermediate, and calls whose lengths change from call to call never pile up buffers:
//! the pool holds at most about one call's worth.
//!
//! Only buffers of [`MIN_BYTES`] or more are pooled (the allocator recycles small ones
//! itself). A value shared with anything else (a view, a shared variable, an output) is
//! never taken. Concurrent calls share the pool under a lock; each buffer is taken out by
//! exactly one of them.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tensorlift_ir::{Element, Tensor, ValueError};

/// Most buffers a pool keeps.
pub const MAX_BUFFERS: usize = 64;

/// Most bytes a pool keeps, whatever a call needs.
pub const MAX_BYTES: usize = 1 << 30;

/// Buffers smaller than this are left to the allocator, which recycles small blocks itself
/// (glibc serves them from its free lists, without fresh pages); pooling them would only
/// add a lock to every small call.
pub const MIN_BYTES: usize = 128 << 10;

/// A result of `n` elements reuses a pooled buffer of at most `n + n / MAX_SLACK` elements.
pub const MAX_SLACK: usize = 2;

/// The buffers of one compiled function.
#[derive(Debug, Default)]
pub struct BufferPool {
    slots: Mutex<Slots>,
    fresh: AtomicUsize,
    reused: AtomicUsize,
}

/// One pooled buffer.
#[derive(Debug)]
pub(crate) enum Slot {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

impl Slot {
    fn bytes(&self) -> usize {
        match self {
            Slot::F64(v) => v.capacity() * 8,
            Slot::F32(v) => v.capacity() * 4,
        }
    }
}

/// The pooled buffers, oldest first, their total size, and what the last call needed.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    buffers: VecDeque<Slot>,
    bytes: usize,
    /// Bytes of the pooled-size buffers the last finished call was given.
    last_call: usize,
}

impl Slots {
    /// Frees the oldest buffers until `extra` more bytes (and one more buffer, if `extra`
    /// is not zero) fit within `limit`.
    fn trim(&mut self, limit: usize, extra: usize) {
        let count = MAX_BUFFERS - usize::from(extra > 0);
        while self.bytes + extra > limit || self.buffers.len() > count {
            let Some(old) = self.buffers.pop_front() else { break };
            self.bytes -= old.bytes();
        }
    }
}

/// How many native result buffers (of [`MIN_BYTES`] or more) were allocated fresh and how
/// many reused a pooled one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferStats {
    /// Buffers allocated.
    pub fresh: usize,
    /// Buffers taken from the pool.
    pub reused: usize,
}

/// Element types a pool holds.
pub(crate) trait Pooled: Sized {
    /// The buffer as a pool slot.
    fn slot(v: Vec<Self>) -> Slot;
    /// The buffer of a slot of this type.
    fn of(slot: &Slot) -> Option<&Vec<Self>>;
    /// The buffer of a slot of this type, taken.
    fn take(slot: Slot) -> Option<Vec<Self>>;
}

/// `Pooled` for an element type and its `Slot` variant.
macro_rules! pooled {
    ($t:ty, $variant:ident) => {
        impl Pooled for $t {
            fn slot(v: Vec<$t>) -> Slot {
                Slot::$variant(v)
            }
            fn of(slot: &Slot) -> Option<&Vec<$t>> {
                match slot {
                    Slot::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn take(slot: Slot) -> Option<Vec<$t>> {
                match slot {
                    Slot::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

pooled!(f64, F64);
pooled!(f32, F32);

impl BufferPool {
    /// The counters so far.
    pub fn stats(&self) -> BufferStats {
        BufferStats { fresh: self.fresh.load(Relaxed), reused: self.reused.load(Relaxed) }
    }

    /// The bytes of the buffers pooled now.
    #[cfg(test)]
    fn pooled_bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty buffer with room for `n` elements and at most `n / MAX_SLACK` more (the
    /// smallest such), if one is pooled.
    fn take<T: Pooled>(&self, n: usize) -> Option<Vec<T>> {
        let most = n.saturating_add(n / MAX_SLACK);
        let mut s = self.lock();
        let (k, _) = s
            .buffers
            .iter()
            .enumerate()
            .filter_map(|(k, slot)| Some((k, T::of(slot)?.capacity())))
            .filter(|&(_, c)| c >= n && c <= most)
            .min_by_key(|&(_, c)| c)?;
        let slot = s.buffers.remove(k)?;
        s.bytes -= slot.bytes();
        let mut v = T::take(slot)?;
        v.clear();
        Some(v)
    }

    fn put<T: Pooled>(&self, v: Vec<T>) {
        let slot = T::slot(v);
        let bytes = slot.bytes();
        if bytes < MIN_BYTES {
            return;
        }
        let mut s = self.lock();
        let limit = s.last_call.max(NEED.get()).min(MAX_BYTES);
        if bytes > limit {
            return;
        }
        s.trim(limit, bytes);
        s.bytes += bytes;
        s.buffers.push_back(slot);
    }

    /// A call that was given `need` bytes of pooled-size buffers ended: that is the pool's
    /// bound until the next call ends.
    fn end_call(&self, need: usize) {
        let mut s = self.lock();
        s.last_call = need;
        s.trim(need.min(MAX_BYTES), 0);
    }

    /// Keeps the storage of `t` if nothing else holds it (the whole buffer, also when `t`
    /// is a slice or a strided view of it); otherwise drops it.
    pub(crate) fn recycle(&self, t: Tensor) {
        match t {
            Tensor::F64(a) => {
                if let Some(v) = unique_buffer(a) {
                    self.put(v);
                }
            }
            Tensor::F32(a) => {
                if let Some(v) = unique_buffer(a) {
                    self.put(v);
                }
            }
            _ => {}
        }
    }
}

/// The whole storage of `a` if it is uniquely owned (whatever part of it `a` views: a
/// trace without its first row, a reversed view).
fn unique_buffer<T: Clone>(a: ndarray::ArcArray<T, ndarray::IxDyn>) -> Option<Vec<T>> {
    let owned = a.try_into_owned_nocopy().ok()?;
    Some(owned.into_raw_vec_and_offset().0)
}

thread_local! {
    /// The pool of the call running on this thread, if any.
    static CURRENT: RefCell<Option<Arc<BufferPool>>> = const { RefCell::new(None) };
    /// Bytes of pooled-size buffers given to the call running on this thread so far.
    static NEED: Cell<usize> = const { Cell::new(0) };
}

/// Makes `pool` this thread's pool until the returned guard drops (which ends the call's
/// accounting and restores the previous pool, even on panic).
pub(crate) fn enter(pool: &Arc<BufferPool>) -> PoolGuard {
    PoolGuard { previous: CURRENT.with(|c| c.borrow_mut().replace(pool.clone())), need: NEED.replace(0) }
}

/// Ends the call's accounting and restores the thread's previous pool when dropped.
pub(crate) struct PoolGuard {
    previous: Option<Arc<BufferPool>>,
    /// The enclosing call's count, restored.
    need: usize,
}

impl Drop for PoolGuard {
    fn drop(&mut self) {
        let need = NEED.replace(self.need);
        if let Some(pool) = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), self.previous.take())) {
            pool.end_call(need);
        }
    }
}

/// A buffer with room for the elements of an array of `shape` (the result of `op`): a
/// pooled one of this thread's pool, or a fresh one; `ValueError::Memory` when the size
/// does not fit or the allocator refuses it.
pub(crate) fn buffer<T: Pooled + Element>(op: &str, shape: &[usize]) -> Result<Vec<T>, ValueError> {
    let n = tensorlift_ir::value::checked_len(op, shape, T::DTYPE)?;
    if n * std::mem::size_of::<T>() < MIN_BYTES {
        return crate::alloc::output_buffer(op, shape);
    }
    let pooled = CURRENT.with(|c| {
        let pool = c.borrow();
        let pool = pool.as_ref()?;
        let taken = pool.take(n);
        let given = taken.as_ref().map_or(n, Vec::capacity);
        NEED.set(NEED.get().saturating_add(given * std::mem::size_of::<T>()));
        let counter = if taken.is_some() { &pool.reused } else { &pool.fresh };
        counter.fetch_add(1, Relaxed);
        taken
    });
    match pooled {
        Some(v) => Ok(v),
        None => crate::alloc::output_buffer(op, shape),
    }
}

/// A zero-filled tensor of `shape` (the stacked result of a loop, `kernels::scan::run`): in
/// a buffer of this thread's pool when it is a float one, so that a loop's traces reuse the
/// last call's pages.
pub(crate) fn zeros(dtype: tensorlift_ir::DType, shape: &[usize]) -> Result<Tensor, ValueError> {
    fn filled<T: Pooled + Element + tensorlift_ir::TensorElement>(
        shape: &[usize],
    ) -> Result<Tensor, ValueError> {
        let mut v: Vec<T> = buffer("scan", shape)?;
        v.resize(shape.iter().product(), T::zero());
        let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v)
            .map_err(|e| ValueError::invalid("scan", e.to_string()))?;
        Ok(T::wrap(a.into_shared()))
    }
    match dtype {
        tensorlift_ir::DType::F64 => filled::<f64>(shape),
        tensorlift_ir::DType::F32 => filled::<f32>(shape),
        _ => {
            tensorlift_ir::value::check_alloc("scan", shape, dtype)?;
            Ok(Tensor::zeros(dtype, shape))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool whose last call needed `bytes`, holding buffers of these capacities.
    fn pool(bytes: usize, capacities: &[usize]) -> BufferPool {
        let p = BufferPool::default();
        p.end_call(bytes);
        for &c in capacities {
            p.put(Vec::<f64>::with_capacity(c));
        }
        p
    }

    #[test]
    fn a_result_takes_the_smallest_pooled_buffer_that_fits_within_the_slack() {
        let p = pool(64 << 20, &[100_000, 300_000, 150_000]);
        assert_eq!(p.take::<f64>(120_000).map(|v| v.capacity()), Some(150_000));
        assert_eq!(p.take::<f64>(90_000).map(|v| v.capacity()), Some(100_000));
        // 300 000 is more than half as much again as 190 000: not taken.
        assert_eq!(p.take::<f64>(190_000).map(|v| v.capacity()), None);
        assert_eq!(p.take::<f64>(250_000).map(|v| v.capacity()), Some(300_000));
        // Another dtype never takes it.
        let p = pool(64 << 20, &[100_000]);
        assert!(p.take::<f32>(100_000).is_none());
        assert_eq!(p.pooled_bytes(), 800_000);
    }

    #[test]
    fn the_pool_keeps_no_more_than_a_call_needed_dropping_the_oldest() {
        // The last call needed 2 MB: of three 800 KB buffers, the oldest goes.
        let p = pool(2_000_000, &[100_000, 100_001, 100_002]);
        assert_eq!(p.pooled_bytes(), 1_600_024);
        let v = p.take::<f64>(100_000).unwrap();
        assert_eq!(v.capacity(), 100_001);
        p.put(v);
        // A call that needed less trims the pool to it when it ends, oldest first.
        p.end_call(900_000);
        assert_eq!(p.pooled_bytes(), 800_008);
        // Buffers below MIN_BYTES, or larger than what a call needs, are not kept.
        p.put(Vec::<f64>::with_capacity(1000));
        p.put(Vec::<f64>::with_capacity(1_000_000));
        assert_eq!(p.pooled_bytes(), 800_008);
    }

    #[test]
    fn a_call_through_the_thread_pool_counts_what_it_was_given() {
        let p = Arc::new(BufferPool::default());
        for _ in 0..3 {
            let _call = enter(&p);
            let v: Vec<f64> = buffer("test", &[50_000]).unwrap();
            p.put(v);
        }
        // The first call allocated; the next ones reused its buffer.
        assert_eq!(p.stats(), BufferStats { fresh: 1, reused: 2 });
        assert_eq!(p.pooled_bytes(), 400_000);
        // A call that asks for nothing pooled leaves nothing pooled.
        drop(enter(&p));
        assert_eq!(p.pooled_bytes(), 0);
    }
}
