//! Buffers kept across calls: when an intermediate value dies (its last reader has run) and
//! its storage is a uniquely owned, contiguous float buffer, the storage goes to the
//! compiled function's pool instead of back to the allocator, and the next native result
//! of the same dtype and length — later in the same call, or in the next call — is written
//! into it. In the steady state a call allocates only the values it returns (and what the
//! reference kernels allocate for themselves): no fresh pages for intermediates, whose
//! first touch costs more than the arithmetic on large arrays.
//!
//! Only buffers of [`MIN_BYTES`] or more are pooled (the allocator recycles small ones
//! itself). The pool is bounded ([`MAX_BUFFERS`], [`MAX_BYTES`]); beyond that, dying
//! buffers are freed as before. A value shared with anything else (a view, a shared variable, an
//! output) is never taken. Concurrent calls share the pool under a lock; each buffer is
//! taken out by exactly one of them.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tensorlift_ir::{Element, Tensor, ValueError};

/// Most buffers a pool keeps.
pub const MAX_BUFFERS: usize = 64;

/// Most bytes a pool keeps.
pub const MAX_BYTES: usize = 1 << 30;

/// Buffers smaller than this are left to the allocator, which recycles small blocks itself
/// (glibc serves them from its free lists, without fresh pages); pooling them would only
/// add a lock to every small call.
pub const MIN_BYTES: usize = 128 << 10;

/// The buffers of one compiled function.
#[derive(Debug, Default)]
pub struct BufferPool {
    slots: Mutex<Slots>,
    fresh: AtomicUsize,
    reused: AtomicUsize,
}

/// The pooled buffers by dtype, and their total size.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    f64s: Vec<Vec<f64>>,
    f32s: Vec<Vec<f32>>,
    bytes: usize,
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
    /// The pooled buffers of this type.
    fn slots(s: &mut Slots) -> &mut Vec<Vec<Self>>;
}

impl Pooled for f64 {
    fn slots(s: &mut Slots) -> &mut Vec<Vec<f64>> {
        &mut s.f64s
    }
}

impl Pooled for f32 {
    fn slots(s: &mut Slots) -> &mut Vec<Vec<f32>> {
        &mut s.f32s
    }
}

impl BufferPool {
    /// The counters so far.
    pub fn stats(&self) -> BufferStats {
        BufferStats { fresh: self.fresh.load(Relaxed), reused: self.reused.load(Relaxed) }
    }

    /// An empty buffer with room for exactly `n` elements, if one is pooled.
    fn take<T: Pooled>(&self, n: usize) -> Option<Vec<T>> {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slots = T::slots(&mut s);
        let k = slots.iter().position(|v| v.capacity() == n)?;
        let mut v = slots.swap_remove(k);
        s.bytes -= n * std::mem::size_of::<T>();
        v.clear();
        Some(v)
    }

    fn put<T: Pooled>(&self, v: Vec<T>) {
        let bytes = v.capacity() * std::mem::size_of::<T>();
        if bytes < MIN_BYTES {
            return;
        }
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if s.bytes + bytes > MAX_BYTES || s.f64s.len() + s.f32s.len() >= MAX_BUFFERS {
            return;
        }
        s.bytes += bytes;
        T::slots(&mut s).push(v);
    }

    /// Keeps the storage of `t` if nothing else holds it and it is one contiguous buffer
    /// exactly as long as the tensor; otherwise drops it.
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

/// The storage of `a` if it is uniquely owned, in standard layout and not a slice of a
/// larger buffer.
fn unique_buffer<T: Clone>(a: ndarray::ArcArray<T, ndarray::IxDyn>) -> Option<Vec<T>> {
    if !a.is_standard_layout() {
        return None;
    }
    let n = a.len();
    let owned = a.try_into_owned_nocopy().ok()?;
    let (v, offset) = owned.into_raw_vec_and_offset();
    (v.len() == n && offset.unwrap_or(0) == 0).then_some(v)
}

thread_local! {
    /// The pool of the call running on this thread, if any.
    static CURRENT: RefCell<Option<Arc<BufferPool>>> = const { RefCell::new(None) };
}

/// Makes `pool` this thread's pool until the returned guard drops (which restores the
/// previous one, even on panic).
pub(crate) fn enter(pool: &Arc<BufferPool>) -> PoolGuard {
    PoolGuard(CURRENT.with(|c| c.borrow_mut().replace(pool.clone())))
}

/// Restores the thread's previous pool when dropped.
pub(crate) struct PoolGuard(Option<Arc<BufferPool>>);

impl Drop for PoolGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = self.0.take());
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
        match pool.take(n) {
            Some(v) => {
                pool.reused.fetch_add(1, Relaxed);
                Some(v)
            }
            None => {
                pool.fresh.fetch_add(1, Relaxed);
                None
            }
        }
    });
    match pooled {
        Some(v) => Ok(v),
        None => crate::alloc::output_buffer(op, shape),
    }
}
