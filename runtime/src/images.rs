//! What the image kernels (`conv`, `pooling`) share: their element types, contiguous views
//! of their inputs, and results written image by image over the threads.

use crate::matmul::MatElem;
use std::mem::MaybeUninit;
use tensorlift_ir::{Element, Tensor, ValueError};

/// An element type of the native kernels: `f32` or `f64`.
pub(crate) trait Elem: MatElem + crate::pool::Pooled {}

impl Elem for f32 {}
impl Elem for f64 {}

/// The elements of `t` in C order: its own memory when contiguous, else a copy.
pub(crate) fn contiguous<T: Elem>(
    t: &Tensor,
) -> Result<ndarray::CowArray<'_, T, ndarray::IxDyn>, ValueError> {
    let v = t.array::<T>()?;
    Ok(if v.is_standard_layout() { v.into() } else { v.as_standard_layout().into_owned().into() })
}

pub(crate) fn slice<'a, T: MatElem>(a: &'a ndarray::CowArray<'_, T, ndarray::IxDyn>) -> &'a [T] {
    a.as_slice().expect("standard layout")
}

/// Zeros written over `buf`, then seen as initialized.
pub(crate) fn zeroed<T: Elem>(buf: &mut [MaybeUninit<T>]) -> &mut [T] {
    for e in buf.iter_mut() {
        e.write(<T as Element>::zero());
    }
    // SAFETY: every element was written just above, and `MaybeUninit<T>` has `T`'s layout.
    unsafe { &mut *(buf as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// A result of `shape` whose `per_image` elements of each of `batch` images are written by
/// `f(first_image, chunk)`, `chunk` the whole images of one thread (`threads` of them).
pub(crate) fn by_images<T: Elem>(
    op: &str,
    shape: &[usize],
    per_image: usize,
    threads: usize,
    f: impl Fn(usize, &mut [MaybeUninit<T>]) + Sync,
) -> Result<Tensor, ValueError> {
    let mut out: Vec<T> = crate::pool::buffer(op, shape)?;
    let n = shape.iter().product::<usize>();
    let buf = &mut out.spare_capacity_mut()[..n];
    if let Some(batch) = n.checked_div(per_image) {
        let per = batch.div_ceil(threads.max(1)).max(1) * per_image;
        if threads <= 1 || batch <= 1 {
            f(0, buf);
        } else {
            rayon::scope(|s| {
                for (k, chunk) in buf.chunks_mut(per).enumerate() {
                    let f = &f;
                    s.spawn(move |_| f(k * per / per_image, chunk));
                }
            });
        }
    }
    // SAFETY: `f` wrote every element of every image (the chunks cover the buffer), and
    // `n` is within the capacity `buffer` gave for `shape`.
    unsafe { out.set_len(n) };
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), out)?;
    Ok(T::wrap(a.into_shared()))
}
