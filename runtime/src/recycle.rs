//! Outputs kept across calls: a function's last output, written again by the next call once
//! the caller has dropped it (`crate::fast`, `crate::scalar`).

use crate::layout::as_uninit;
use std::mem::MaybeUninit;
use std::sync::Mutex;
use tensorlift_ir::{Tensor, TensorElement};

/// A function's last output, kept to be written again by the next call once the caller
/// has dropped it (nothing else holds its storage): a call in a loop whose results are
/// dropped allocates no output memory. A call that finds it held, or finds another call
/// using it, makes a new output.
#[derive(Debug, Default)]
pub(crate) struct Recycled(Mutex<Option<Tensor>>);

impl Recycled {
    /// A tensor of `shape` computed by `fill`: the kept one when it has the dtype and
    /// shape and nothing else holds it, else a new one, kept from now on.
    pub(crate) fn produce<T: TensorElement>(
        &self,
        shape: &[usize],
        fill: impl FnOnce(&mut [MaybeUninit<T>]) -> Option<()>,
    ) -> Option<Tensor> {
        // No wait: a call that finds another one using the slot makes its own output.
        let mut slot = self.0.try_lock().ok();
        if let Some(Some(kept)) = slot.as_deref_mut() {
            if kept.dtype() == T::DTYPE && kept.shape() == shape && kept.is_unique() {
                fill(as_uninit(T::array_mut(kept)?.as_slice_mut()?))?;
                return Some(kept.clone());
            }
        }
        let n: usize = shape.iter().product();
        let mut v: Vec<T> = crate::alloc::output_buffer("composite", shape).ok()?;
        fill(&mut v.spare_capacity_mut()[..n])?;
        // SAFETY: a successful `fill` wrote every element of the first `n`.
        unsafe { v.set_len(n) };
        let t = T::wrap(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v).ok()?.into_shared());
        if let Some(slot) = slot.as_deref_mut() {
            *slot = Some(t.clone());
        }
        Some(t)
    }
}
