//! How the inputs of a native kernel run are laid out against the result's shape (the
//! fast layouts: contiguous, one value, a bias row, a column), and the trait of whatever
//! computes every element of a result buffer. Shared by the native kernels, the strided
//! path and the fused reductions.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use tensorlift_ir::{DType, NodeId, Tensor};
use tensorlift_jit::kernel::KernelArg;

/// How one input of a kernel run is laid out against the result's shape, split at axis
/// `s` into `outer` rows of `inner` elements.
#[derive(Clone, Copy)]
pub(crate) enum Layout<'a> {
    /// As many elements as the result, contiguous.
    Full(KernelArg<'a>),
    /// One value for every element.
    Scalar(KernelArg<'a>),
    /// The trailing axes `s..` only (a row bias): the same slice for every row.
    Trailing(usize, KernelArg<'a>),
    /// The leading axes `..s` only (a column): one value per row.
    Leading(usize, &'a Tensor),
}

/// The contiguous data of a float tensor (owned or borrowed) as a kernel argument.
pub(crate) fn slice_arg(t: &Tensor) -> Option<KernelArg<'_>> {
    match t.dtype() {
        DType::F64 => Some(KernelArg::F64(t.as_slice::<f64>()?)),
        DType::F32 => Some(KernelArg::F32(t.as_slice::<f32>()?)),
        _ => None,
    }
}

/// Element `k` of a contiguous float tensor, as a scalar argument.
pub(crate) fn element(t: &Tensor, k: usize) -> Option<KernelArg<'static>> {
    match slice_arg(t)? {
        KernelArg::F64(s) => Some(KernelArg::ScalarF64(*s.get(k)?)),
        KernelArg::F32(s) => Some(KernelArg::ScalarF32(*s.get(k)?)),
        _ => None,
    }
}

pub(crate) fn layout<'a>(t: &'a Tensor, shape: &[usize]) -> Option<Layout<'a>> {
    let n = t.len();
    if n == 1 {
        return Some(Layout::Scalar(element(t, 0)?));
    }
    let arg = slice_arg(t)?;
    if t.shape() == shape {
        return Some(Layout::Full(arg));
    }
    // The input's shape, left-padded with 1s to the result's rank.
    let nd = shape.len();
    let mut p = vec![1; nd - t.ndim().min(nd)];
    p.extend_from_slice(t.shape());
    let ones_before = p.iter().take_while(|&&d| d == 1).count();
    if p[ones_before..] == shape[ones_before..] {
        return Some(Layout::Trailing(ones_before, arg));
    }
    let ones_after = p.iter().rev().take_while(|&&d| d == 1).count();
    let s = nd - ones_after;
    if p[..s] == shape[..s] {
        return Some(Layout::Leading(s, t));
    }
    None
}

/// Copies (once) the borrowed arguments among `inputs` whose elements do not fill their
/// span (a stepped view of a caller's array): the native kernels read a strided input
/// through the memory from its lowest to its highest element, and between a borrowed
/// array's elements lies memory that is not the tensor's. Dense ones (any order) stay as
/// they are.
pub(crate) fn gather_sparse_borrows(inputs: &[NodeId], values: &mut [Option<Cow<'_, Tensor>>]) {
    for &i in inputs {
        let sparse = values[i.index()].as_deref().is_some_and(|t| t.is_borrowed() && !t.is_dense());
        if sparse {
            let t = values[i.index()].take().expect("checked").into_owned();
            values[i.index()] = Some(Cow::Owned(t.detach()));
        }
    }
}

/// Computes every element of a result buffer (C order).
pub(crate) trait Fill {
    /// Writes every element of `buf` when it returns `Some`.
    fn fill<T: tensorlift_ir::Element + Send>(&self, buf: &mut [MaybeUninit<T>]) -> Option<()>;
}

/// An initialized buffer seen as one the kernels may write.
pub(crate) fn as_uninit<T>(s: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the kernels only ever write
    // initialized values of `T` (never uninitialized bytes) through the returned slice.
    unsafe { &mut *(s as *mut [T] as *mut [MaybeUninit<T>]) }
}
