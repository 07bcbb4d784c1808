//! [`Borrowed`]: tensor data read in place from memory another owner keeps — a caller's
//! ndarray view for the length of one call, or a NumPy array a Python object keeps alive —
//! so an argument reaches the kernels without a copy.
//!
//! Borrowed data is only ever read. Whatever must own its data (a value that outlives the
//! call, a kernel that writes in place, a reference kernel built on `ArcArray`) copies it
//! first ([`Borrowed::to_owned`]); views of it (a transpose, a slice) stay borrowed
//! ([`Borrowed::derive`]). The tensor's memory is valid as long as the contract of
//! [`Borrowed::new`] says: that is the one promise this module rests on.

use crate::dtype::DType;
use crate::value::{Tensor, TensorElement};
use ndarray::{ArrayViewD, IxDyn, RawArrayView};
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// What keeps borrowed memory alive: its owner (a NumPy array, a buffer), dropped when the
/// last tensor reading the memory is.
pub type Keeper = Arc<dyn Any + Send + Sync>;

/// The elements of borrowed data, by dtype.
#[doc(hidden)]
#[derive(Clone)]
pub enum Raw {
    /// `bool` elements.
    Bool(RawArrayView<bool, IxDyn>),
    /// `int32` elements.
    I32(RawArrayView<i32, IxDyn>),
    /// `int64` elements.
    I64(RawArrayView<i64, IxDyn>),
    /// `float32` elements.
    F32(RawArrayView<f32, IxDyn>),
    /// `float64` elements.
    F64(RawArrayView<f64, IxDyn>),
}

macro_rules! with_raw {
    ($r:expr, $a:ident => $body:expr) => {
        match $r {
            Raw::Bool($a) => $body,
            Raw::I32($a) => $body,
            Raw::I64($a) => $body,
            Raw::F32($a) => $body,
            Raw::F64($a) => $body,
        }
    };
}

/// Data read in place from memory another owner keeps (see the module documentation).
/// Cloning is cheap: the clone reads the same memory and shares the keeper.
#[derive(Clone)]
pub struct Borrowed {
    data: Raw,
    /// The owner of the memory; `None` when the borrow lasts one call (a caller's view),
    /// where the call copies what it keeps ([`Tensor::detach`]).
    keeper: Option<Keeper>,
}

// SAFETY: a `Borrowed` only reads its memory, which `Borrowed::new`'s contract keeps valid
// and unwritten while any `Borrowed` over it lives, whichever thread holds it; the keeper
// is `Send + Sync` itself.
#[allow(unsafe_code)]
unsafe impl Send for Borrowed {}
// SAFETY: as for `Send`: shared access is read-only.
#[allow(unsafe_code)]
unsafe impl Sync for Borrowed {}

impl Borrowed {
    /// Borrowed data over `view`'s elements, kept alive by `keeper`.
    ///
    /// # Safety
    /// The memory `view` reads must stay valid, and must not be written, as long as the
    /// returned value or anything cloned or derived from it lives: with a `keeper`, as long
    /// as the keeper lives (it owns the memory, and its owner promises not to write it
    /// while tensors read it); without one, the caller keeps every such value from
    /// outliving the borrow (the runtime detaches a call's results and updates).
    #[allow(unsafe_code)]
    pub unsafe fn new<T: TensorElement>(view: ArrayViewD<'_, T>, keeper: Option<Keeper>) -> Borrowed {
        let raw = view.raw_view().clone();
        Borrowed { data: T::raw_data(raw), keeper }
    }

    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self.data {
            Raw::Bool(_) => DType::Bool,
            Raw::I32(_) => DType::I32,
            Raw::I64(_) => DType::I64,
            Raw::F32(_) => DType::F32,
            Raw::F64(_) => DType::F64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_raw!(&self.data, a => a.shape())
    }

    /// The strides, in elements.
    pub fn strides(&self) -> &[isize] {
        with_raw!(&self.data, a => a.strides())
    }

    /// True when the elements are contiguous in row-major order.
    pub fn is_standard_layout(&self) -> bool {
        with_raw!(&self.data, a => a.is_standard_layout())
    }

    /// The address of the element at index 0 on every axis.
    pub fn as_ptr(&self) -> *const u8 {
        with_raw!(&self.data, a => a.as_ptr() as *const u8)
    }

    /// The owner keeping the memory alive (`None` for a borrow lasting one call).
    pub fn keeper(&self) -> Option<&Keeper> {
        self.keeper.as_ref()
    }

    /// The elements as `T`, or `None` when the dtype is not `T`'s.
    pub fn view<T: TensorElement>(&self) -> Option<ArrayViewD<'_, T>> {
        let raw = T::borrowed_raw(self)?;
        // SAFETY: `new`'s contract keeps the memory valid and unwritten while `self` lives,
        // and the view borrows `self`.
        #[allow(unsafe_code)]
        let view = unsafe { raw.clone().deref_into_view() };
        Some(view)
    }

    /// The elements as `T` broadcast to `shape` (NumPy's rules), or `None` when the dtype is
    /// not `T`'s or the shape does not broadcast.
    pub fn broadcast<T: TensorElement>(&self, shape: &[usize]) -> Option<ArrayViewD<'_, T>> {
        let view = self.view::<T>()?;
        let raw = view.broadcast(IxDyn(shape))?.raw_view().clone();
        // SAFETY: a broadcast reads only elements of `self`'s memory (repeated), which
        // `new`'s contract keeps valid and unwritten while `self` lives; the view borrows
        // `self`.
        #[allow(unsafe_code)]
        let view = unsafe { raw.deref_into_view() };
        Some(view)
    }

    /// A copy of the elements with storage of its own (standard layout).
    pub fn to_owned(&self) -> Tensor {
        fn copy<T: TensorElement>(b: &Borrowed) -> Tensor {
            T::wrap(
                b.view::<T>().expect("the dtype's own view").as_standard_layout().into_owned().into_shared(),
            )
        }
        match self.dtype() {
            DType::Bool => copy::<bool>(self),
            DType::I32 => copy::<i32>(self),
            DType::I64 => copy::<i64>(self),
            DType::F32 => copy::<f32>(self),
            DType::F64 => copy::<f64>(self),
        }
    }

    /// A view of the same memory (`f` transposes, slices, indexes the elements), borrowed
    /// like this one and kept by the same keeper; `None` when the dtype is not `T`'s or
    /// `f` returned elements outside this data's memory.
    pub fn derive<T: TensorElement>(
        &self,
        f: impl FnOnce(ArrayViewD<'_, T>) -> ArrayViewD<'_, T>,
    ) -> Option<Borrowed> {
        let view = self.view::<T>()?;
        let (lo, hi) = span(&view);
        let derived = f(view);
        if !derived.is_empty() {
            let (dlo, dhi) = span(&derived);
            if dlo < lo || dhi > hi {
                return None;
            }
        }
        let raw = derived.raw_view().clone();
        Some(Borrowed { data: T::raw_data(raw), keeper: self.keeper.clone() })
    }
}

/// The addresses of the lowest and the highest element of a non-empty view.
fn span<T>(v: &ArrayViewD<'_, T>) -> (usize, usize) {
    let base = v.as_ptr() as usize;
    let size = std::mem::size_of::<T>() as isize;
    let (lo, hi) = crate::value::extent(v.shape(), v.strides());
    (base.wrapping_add_signed(lo * size), base.wrapping_add_signed(hi * size))
}

impl fmt::Debug for Borrowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Borrowed({} {:?})", self.dtype(), self.shape())
    }
}

/// Connects an element type with its borrowed data (used by [`Borrowed`] only).
macro_rules! raw_element {
    ($t:ty, $v:ident) => {
        impl RawElement for $t {
            fn borrowed_raw(b: &Borrowed) -> Option<&RawArrayView<Self, IxDyn>> {
                match &b.data {
                    Raw::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn raw_data(a: RawArrayView<Self, IxDyn>) -> Raw {
                Raw::$v(a)
            }
        }
    };
}

/// An element type's place in [`Raw`]; a supertrait of `TensorElement`.
#[doc(hidden)]
pub trait RawElement: Sized {
    /// The elements of `b` when its dtype is `Self`.
    fn borrowed_raw(b: &Borrowed) -> Option<&RawArrayView<Self, IxDyn>>;
    /// Wraps raw elements.
    fn raw_data(a: RawArrayView<Self, IxDyn>) -> Raw;
}

raw_element!(bool, Bool);
raw_element!(i32, I32);
raw_element!(i64, I64);
raw_element!(f32, F32);
raw_element!(f64, F64);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    fn borrowed(a: &Array2<f64>) -> Tensor {
        // SAFETY: `a` outlives every tensor made here and is not written meanwhile.
        #[allow(unsafe_code)]
        let b = unsafe { Borrowed::new(a.view().into_dyn(), None) };
        Tensor::Borrowed(b)
    }

    #[test]
    fn reads_in_place_and_copies_on_demand() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        let t = borrowed(&a);
        assert_eq!(t.dtype(), DType::F64);
        assert_eq!(t.shape(), &[3, 4]);
        assert_eq!(t.array::<f64>().unwrap().as_ptr(), a.as_ptr());
        assert!(!t.is_unique());
        let owned = t.clone().detach();
        assert_ne!(owned.array::<f64>().unwrap().as_ptr(), a.as_ptr());
        assert_eq!(owned, t);
        assert_eq!(t.to_f64_vec(), a.iter().copied().collect::<Vec<_>>());
    }

    #[test]
    fn derived_views_stay_in_the_memory() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        let Tensor::Borrowed(b) = borrowed(&a) else { unreachable!("made borrowed") };
        let t = b.derive::<f64>(|v| v.reversed_axes()).unwrap();
        assert_eq!(t.shape(), &[4, 3]);
        assert_eq!(t.view::<f64>().unwrap()[[1, 2]], a[[2, 1]]);
        let row = b.derive::<f64>(|v| v.slice_move(s![1.., ..;2]).into_dyn()).unwrap();
        assert_eq!(row.view::<f64>().unwrap().iter().copied().collect::<Vec<_>>(), vec![4.0, 6.0, 8.0, 10.0]);
        // A view of other memory is refused, however long it lives.
        static OTHER: [f64; 4] = [0.0; 4];
        let elsewhere = b.derive::<f64>(|_| ndarray::ArrayView1::from(&OTHER[..]).into_dyn());
        assert!(elsewhere.is_none());
        assert!(b.derive::<f32>(|v| v).is_none());
    }
}
