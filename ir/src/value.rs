// Over 800 lines: `Tensor` with its conversions from and to every Rust and ndarray type is one API surface, kept with the private dtype dispatch it shares.
//! `Tensor`: a concrete value (a dtype-tagged, reference-counted ndarray), its conversions
//! from Rust data, typed accessors, bit-exact hashing for constants, and NumPy-like printing.

use crate::dtype::{DType, Element};
use crate::error::ValueError;
use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

// The crate's one `unsafe` module: writing a row of a stacked buffer that the steps of a
// loop read (see its documentation).
#[allow(unsafe_code)]
mod sink;
pub use sink::{Sink, Stack, StackRow};
// Data read in place from memory another owner keeps.
#[allow(unsafe_code)]
mod borrowed;
pub use borrowed::{Borrowed, Keeper};

/// A concrete tensor value. Cloning is cheap: the data is reference counted and copied only
/// when a unique owner is needed.
///
/// Made `From` Rust data (`2.0`, `vec![1.0, 2.0]`, `[1.0, 2.0]`, `[[1.0, 2.0], [3.0, 4.0]]`,
/// a 3-level nested array, `TryFrom` nested `Vec`s) and ndarray arrays. An owned `Array` or
/// `ArcArray` is moved in without a copy; everything else is copied: Rust arrays, `Vec`s of
/// `Vec`s, slices, `&Array` and `ArrayView` (given to a call as an [`Arg`], a view is read in
/// place instead; [`Tensor::Borrowed`] holds such data).
///
/// Back to Rust with `TryFrom` (a `ValueError` when the dtype or rank does not fit, never a
/// panic): `f64`/`f32`/`i64`/`i32`/`bool` from a one-element tensor, `Vec<T>` from a vector,
/// `Vec<Vec<T>>` from a matrix (copies), and `Array1<T>` … `ArrayD<T>` (from an owned
/// `Tensor` without a copy when it is the data's only owner; from `&Tensor` a copy). Also
/// `to_vec` (any rank, flattened), `to_vec2`, `to_vec3`, `into_array1`, `into_array2`.
///
/// ```
/// use tensorlift_ir::Tensor;
/// let m = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
/// let rows: Vec<Vec<f64>> = m.to_vec2().unwrap();
/// assert_eq!(rows, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
/// let x: f64 = Tensor::from(2.5).try_into().unwrap();
/// assert_eq!(x, 2.5);
/// ```
#[derive(Clone)]
pub enum Tensor {
    /// `bool` data.
    Bool(ArcArray<bool, IxDyn>),
    /// `int32` data.
    I32(ArcArray<i32, IxDyn>),
    /// `int64` data.
    I64(ArcArray<i64, IxDyn>),
    /// `float32` data.
    F32(ArcArray<f32, IxDyn>),
    /// `float64` data.
    F64(ArcArray<f64, IxDyn>),
    /// Data of any dtype read in place from memory another owner keeps (an argument given
    /// as a view, a NumPy array): only read, copied by whatever must own its data.
    Borrowed(Borrowed),
}

/// Applies `$body` to the array inside a tensor, whatever its dtype (borrowed data is
/// copied into an array of its own first).
#[macro_export]
macro_rules! with_array {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::Tensor::Bool($a) => $body,
            $crate::Tensor::I32($a) => $body,
            $crate::Tensor::I64($a) => $body,
            $crate::Tensor::F32($a) => $body,
            $crate::Tensor::F64($a) => $body,
            $crate::Tensor::Borrowed(b) => match b.to_owned() {
                $crate::Tensor::Bool($a) => $body,
                $crate::Tensor::I32($a) => $body,
                $crate::Tensor::I64($a) => $body,
                $crate::Tensor::F32($a) => $body,
                $crate::Tensor::F64($a) => $body,
                $crate::Tensor::Borrowed(_) => unreachable!("a copy owns its data"),
            },
        }
    };
}

/// Applies `$body` to the array inside a tensor and wraps the result in the same variant
/// (borrowed data is copied into an array of its own first).
#[macro_export]
macro_rules! map_array {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::Tensor::Bool($a) => $crate::Tensor::Bool($body),
            $crate::Tensor::I32($a) => $crate::Tensor::I32($body),
            $crate::Tensor::I64($a) => $crate::Tensor::I64($body),
            $crate::Tensor::F32($a) => $crate::Tensor::F32($body),
            $crate::Tensor::F64($a) => $crate::Tensor::F64($body),
            $crate::Tensor::Borrowed(b) => match b.to_owned() {
                $crate::Tensor::Bool($a) => $crate::Tensor::Bool($body),
                $crate::Tensor::I32($a) => $crate::Tensor::I32($body),
                $crate::Tensor::I64($a) => $crate::Tensor::I64($body),
                $crate::Tensor::F32($a) => $crate::Tensor::F32($body),
                $crate::Tensor::F64($a) => $crate::Tensor::F64($body),
                $crate::Tensor::Borrowed(_) => unreachable!("a copy owns its data"),
            },
        }
    };
}

/// `map_array!` for a body that only views the data anew (transposes, slices, indexes: no
/// element copied): borrowed data stays borrowed, the body applied to its view.
#[macro_export]
macro_rules! view_array {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::Tensor::Borrowed(b) => {
                let derived = match b.dtype() {
                    $crate::DType::Bool => b.derive::<bool>(|$a| $body),
                    $crate::DType::I32 => b.derive::<i32>(|$a| $body),
                    $crate::DType::I64 => b.derive::<i64>(|$a| $body),
                    $crate::DType::F32 => b.derive::<f32>(|$a| $body),
                    $crate::DType::F64 => b.derive::<f64>(|$a| $body),
                };
                match derived {
                    Some(d) => $crate::Tensor::Borrowed(d),
                    None => $crate::map_array!(b.to_owned(), $a => $body),
                }
            }
            t => $crate::map_array!(t, $a => $body),
        }
    };
}

/// `$owned` on the array of a tensor owning its data, `$borrowed` on borrowed data.
macro_rules! owned_or {
    ($t:expr, $a:ident => $owned:expr, $b:ident => $borrowed:expr) => {
        match $t {
            Tensor::Bool($a) => $owned,
            Tensor::I32($a) => $owned,
            Tensor::I64($a) => $owned,
            Tensor::F32($a) => $owned,
            Tensor::F64($a) => $owned,
            Tensor::Borrowed($b) => $borrowed,
        }
    };
}

/// The offsets, in elements from the element at index 0, of the lowest and the highest
/// element of an array of `shape` and `strides` (both 0 for an empty array).
pub fn extent(shape: &[usize], strides: &[isize]) -> (isize, isize) {
    if shape.contains(&0) {
        return (0, 0);
    }
    let (mut lo, mut hi) = (0isize, 0isize);
    for (&n, &stride) in shape.iter().zip(strides) {
        let reach = (n as isize - 1) * stride;
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    (lo, hi)
}

/// Connects an `Element` type with its `Tensor` variant.
pub trait TensorElement: Element + borrowed::RawElement {
    /// The array inside `t` when its dtype is `Self` and `t` owns its data (borrowed data
    /// gives `None`: read it with [`Tensor::array`]).
    fn array(t: &Tensor) -> Option<&ArcArray<Self, IxDyn>>;
    /// The array inside `t`, mutably, when its dtype is `Self`.
    fn array_mut(t: &mut Tensor) -> Option<&mut ArcArray<Self, IxDyn>>;
    /// Wraps an array.
    fn wrap(a: ArcArray<Self, IxDyn>) -> Tensor;
}

macro_rules! tensor_element {
    ($t:ty, $v:ident) => {
        impl TensorElement for $t {
            fn array(t: &Tensor) -> Option<&ArcArray<Self, IxDyn>> {
                match t {
                    Tensor::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn array_mut(t: &mut Tensor) -> Option<&mut ArcArray<Self, IxDyn>> {
                match t {
                    Tensor::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn wrap(a: ArcArray<Self, IxDyn>) -> Tensor {
                Tensor::$v(a)
            }
        }
        impl From<$t> for Tensor {
            fn from(v: $t) -> Tensor {
                // `arr0`: a static 0-d shape, converted without computing strides.
                Tensor::$v(ndarray::arr0(v).into_dyn().into_shared())
            }
        }
        impl From<Vec<$t>> for Tensor {
            fn from(v: Vec<$t>) -> Tensor {
                Tensor::$v(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).expect("1-d shape").into_shared())
            }
        }
        impl From<&[$t]> for Tensor {
            fn from(v: &[$t]) -> Tensor {
                Tensor::from(v.to_vec())
            }
        }
        impl<const N: usize> From<[$t; N]> for Tensor {
            fn from(v: [$t; N]) -> Tensor {
                Tensor::from(v.to_vec())
            }
        }
        impl<const N: usize, const M: usize> From<[[$t; N]; M]> for Tensor {
            /// A matrix from nested arrays: `[[1.0, 2.0], [3.0, 4.0]]` (copies the data).
            fn from(v: [[$t; N]; M]) -> Tensor {
                from_flat(&[M, N], v.as_flattened().to_vec())
            }
        }
        impl<const N: usize, const M: usize, const K: usize> From<[[[$t; N]; M]; K]> for Tensor {
            /// A 3-d tensor from nested arrays (copies the data).
            fn from(v: [[[$t; N]; M]; K]) -> Tensor {
                from_flat(&[K, M, N], v.as_flattened().as_flattened().to_vec())
            }
        }
        impl TryFrom<Tensor> for $t {
            type Error = ValueError;
            /// The single value of a 0-d (or one-element) tensor of this dtype.
            fn try_from(t: Tensor) -> Result<$t, ValueError> {
                t.scalar()
            }
        }
        impl TryFrom<&Tensor> for $t {
            type Error = ValueError;
            /// The single value of a 0-d (or one-element) tensor of this dtype.
            fn try_from(t: &Tensor) -> Result<$t, ValueError> {
                t.scalar()
            }
        }
        impl<D: ndarray::Dimension> From<ndarray::Array<$t, D>> for Tensor {
            fn from(a: ndarray::Array<$t, D>) -> Tensor {
                Tensor::$v(a.into_dyn().into_shared())
            }
        }
        impl<D: ndarray::Dimension> From<ndarray::ArcArray<$t, D>> for Tensor {
            fn from(a: ndarray::ArcArray<$t, D>) -> Tensor {
                Tensor::$v(a.into_dyn())
            }
        }
        impl<D: ndarray::Dimension> From<ndarray::ArrayView<'_, $t, D>> for Tensor {
            fn from(a: ndarray::ArrayView<'_, $t, D>) -> Tensor {
                Tensor::$v(a.into_dyn().to_shared())
            }
        }
        impl<D: ndarray::Dimension> From<&ndarray::Array<$t, D>> for Tensor {
            fn from(a: &ndarray::Array<$t, D>) -> Tensor {
                Tensor::$v(a.view().into_dyn().to_shared())
            }
        }
        impl TryFrom<Vec<Vec<$t>>> for Tensor {
            type Error = ValueError;
            fn try_from(rows: Vec<Vec<$t>>) -> Result<Tensor, ValueError> {
                nested2(rows)
            }
        }
        impl TryFrom<Vec<Vec<Vec<$t>>>> for Tensor {
            type Error = ValueError;
            fn try_from(v: Vec<Vec<Vec<$t>>>) -> Result<Tensor, ValueError> {
                nested3(v)
            }
        }
    };
}
tensor_element!(bool, Bool);
tensor_element!(i32, I32);
tensor_element!(i64, I64);
tensor_element!(f32, F32);
tensor_element!(f64, F64);

/// A tensor of `shape` over row-major `data` whose length is the shape's product.
fn from_flat<T: TensorElement>(shape: &[usize], data: Vec<T>) -> Tensor {
    T::wrap(
        ArrayD::from_shape_vec(IxDyn(shape), data).expect("length is the product of the shape").into_shared(),
    )
}

impl<T: TensorElement> TryFrom<Tensor> for Vec<T> {
    type Error = ValueError;
    /// The elements of a 1-d tensor of dtype `T` (copies; see `Tensor::to_vec` for any rank).
    fn try_from(t: Tensor) -> Result<Vec<T>, ValueError> {
        Vec::try_from(&t)
    }
}

impl<T: TensorElement> TryFrom<&Tensor> for Vec<T> {
    type Error = ValueError;
    /// The elements of a 1-d tensor of dtype `T` (copies; see `Tensor::to_vec` for any rank).
    fn try_from(t: &Tensor) -> Result<Vec<T>, ValueError> {
        t.check_ndim(1)?;
        t.to_vec()
    }
}

impl<T: TensorElement> TryFrom<Tensor> for Vec<Vec<T>> {
    type Error = ValueError;
    /// The rows of a 2-d tensor of dtype `T` (copies).
    fn try_from(t: Tensor) -> Result<Vec<Vec<T>>, ValueError> {
        t.to_vec2()
    }
}

impl<T: TensorElement> TryFrom<&Tensor> for Vec<Vec<T>> {
    type Error = ValueError;
    /// The rows of a 2-d tensor of dtype `T` (copies).
    fn try_from(t: &Tensor) -> Result<Vec<Vec<T>>, ValueError> {
        t.to_vec2()
    }
}

impl<T: TensorElement, D: ndarray::Dimension> TryFrom<Tensor> for ndarray::Array<T, D> {
    type Error = ValueError;
    /// The data as an `Array1<T>`, `Array2<T>`, …, `ArrayD<T>`: no copy when this tensor is
    /// the only owner of its data.
    fn try_from(t: Tensor) -> Result<ndarray::Array<T, D>, ValueError> {
        t.into_array_dim()
    }
}

impl<T: TensorElement, D: ndarray::Dimension> TryFrom<&Tensor> for ndarray::Array<T, D> {
    type Error = ValueError;
    /// A copy of the data as an `Array1<T>`, `Array2<T>`, …, `ArrayD<T>`.
    fn try_from(t: &Tensor) -> Result<ndarray::Array<T, D>, ValueError> {
        t.clone().into_array_dim()
    }
}

impl From<&Tensor> for Tensor {
    /// A cheap clone (the data is reference counted).
    fn from(t: &Tensor) -> Tensor {
        t.clone()
    }
}

/// Anything that converts to a `Tensor`, possibly failing (ragged nested `Vec`s).
pub trait IntoTensor {
    /// The tensor, or why the data does not form one.
    fn into_tensor(self) -> Result<Tensor, ValueError>;
}

impl<T: Into<Tensor>> IntoTensor for T {
    fn into_tensor(self) -> Result<Tensor, ValueError> {
        Ok(self.into())
    }
}

macro_rules! nested_into_tensor {
    ($($t:ty),*) => {
        $(
            impl IntoTensor for Vec<Vec<$t>> {
                fn into_tensor(self) -> Result<Tensor, ValueError> {
                    Tensor::try_from(self)
                }
            }
            impl IntoTensor for Vec<Vec<Vec<$t>>> {
                fn into_tensor(self) -> Result<Tensor, ValueError> {
                    Tensor::try_from(self)
                }
            }
        )*
    };
}
nested_into_tensor!(bool, i32, i64, f32, f64);

/// An argument of a compiled function: a tensor, or the reason the data given for it does
/// not form one (reported when the function is called). Made `From` numbers, `Vec`s,
/// slices, arrays, nested `Vec`s, ndarray arrays, and `Tensor`s (each moved or copied as
/// [`Tensor`]'s conversions do); an `ArrayView` or `&Array` is *borrowed*: the call reads
/// it in place, without a copy, for the argument's lifetime `'a`, and copies whatever of it
/// the call returns or stores.
#[derive(Clone, Debug)]
pub struct Arg<'a> {
    value: Result<Tensor, ValueError>,
    /// The data borrowed, if any, for `'a`.
    borrow: PhantomData<&'a ()>,
}

impl Arg<'_> {
    fn owned(value: Result<Tensor, ValueError>) -> Self {
        Arg { value, borrow: PhantomData }
    }

    /// The tensor or the conversion error. A borrowed argument's data is copied: the tensor
    /// is the caller's to keep.
    pub fn into_result(self) -> Result<Tensor, ValueError> {
        self.value.map(Tensor::detach)
    }

    /// True when the argument reads the caller's data in place (an `ArrayView`, a
    /// `&Array`).
    pub fn is_borrowed(&self) -> bool {
        matches!(&self.value, Ok(t) if t.is_borrowed())
    }

    /// The shape of the argument's tensor, or the conversion error.
    pub fn shape(&self) -> Result<&[usize], &ValueError> {
        self.value.as_ref().map(Tensor::shape)
    }

    /// The tensor or the conversion error, by reference, for the call it is an argument of.
    ///
    /// # Safety
    /// A borrowed argument's tensor reads the caller's data for `'a` only: nothing made
    /// from the tensor (a clone, a view, a result computed in place of it) may outlive the
    /// call, unless [`Tensor::detach`]ed first (the runtime detaches every output and update
    /// value of a call).
    #[allow(unsafe_code)]
    pub unsafe fn for_call(&self) -> Result<&Tensor, &ValueError> {
        self.value.as_ref()
    }
}

impl From<Tensor> for Arg<'_> {
    fn from(t: Tensor) -> Self {
        // A tensor the caller made owns its data, or borrows it under its own keeper.
        Arg::owned(Ok(t))
    }
}

impl From<&Tensor> for Arg<'_> {
    fn from(t: &Tensor) -> Self {
        Arg::owned(Ok(t.clone()))
    }
}

macro_rules! arg_from {
    ($t:ty) => {
        impl From<$t> for Arg<'_> {
            fn from(v: $t) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl From<Vec<$t>> for Arg<'_> {
            fn from(v: Vec<$t>) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl From<&[$t]> for Arg<'_> {
            fn from(v: &[$t]) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl<const N: usize> From<[$t; N]> for Arg<'_> {
            fn from(v: [$t; N]) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl<const N: usize, const M: usize> From<[[$t; N]; M]> for Arg<'_> {
            fn from(v: [[$t; N]; M]) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl<const N: usize, const M: usize, const K: usize> From<[[[$t; N]; M]; K]> for Arg<'_> {
            fn from(v: [[[$t; N]; M]; K]) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl From<Vec<Vec<$t>>> for Arg<'_> {
            fn from(v: Vec<Vec<$t>>) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl From<Vec<Vec<Vec<$t>>>> for Arg<'_> {
            fn from(v: Vec<Vec<Vec<$t>>>) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl<D: ndarray::Dimension> From<ndarray::Array<$t, D>> for Arg<'_> {
            fn from(v: ndarray::Array<$t, D>) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl<D: ndarray::Dimension> From<ndarray::ArcArray<$t, D>> for Arg<'_> {
            fn from(v: ndarray::ArcArray<$t, D>) -> Self {
                Arg::owned(v.into_tensor())
            }
        }
        impl<'a, D: ndarray::Dimension> From<ndarray::ArrayView<'a, $t, D>> for Arg<'a> {
            /// Borrowed: read in place for `'a`.
            fn from(v: ndarray::ArrayView<'a, $t, D>) -> Self {
                // SAFETY: the data stays borrowed (so valid and unwritten) for `'a`, which
                // the argument carries; the tensor is reached only through `into_result`
                // (which copies it) or `for_call`, whose contract keeps everything made from
                // it within the call.
                #[allow(unsafe_code)]
                let b = unsafe { Borrowed::new(v.into_dyn(), None) };
                Arg::owned(Ok(Tensor::Borrowed(b)))
            }
        }
        impl<'a, D: ndarray::Dimension> From<&'a ndarray::Array<$t, D>> for Arg<'a> {
            /// Borrowed: read in place for `'a`.
            fn from(v: &'a ndarray::Array<$t, D>) -> Self {
                Arg::from(v.view())
            }
        }
    };
}
arg_from!(bool);
arg_from!(i32);
arg_from!(i64);
arg_from!(f32);
arg_from!(f64);

/// The arguments of one call: a single argument (anything that makes an [`Arg`]), or a
/// tuple of up to eight, one per input: `f.call1(2.0)`, `f.call1((x, 3.0))`.
pub trait IntoArgs<'a> {
    /// The arguments, in input order.
    fn into_args(self) -> Vec<Arg<'a>>;
}

impl<'a, T: Into<Arg<'a>>> IntoArgs<'a> for T {
    fn into_args(self) -> Vec<Arg<'a>> {
        vec![self.into()]
    }
}

macro_rules! tuple_args {
    ($($name:ident),+) => {
        impl<'a, $($name: Into<Arg<'a>>),+> IntoArgs<'a> for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Arg<'a>> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    };
}
tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
tuple_args!(A, B, C, D, E);
tuple_args!(A, B, C, D, E, F);
tuple_args!(A, B, C, D, E, F, G);
tuple_args!(A, B, C, D, E, F, G, H);

/// An array of function arguments from values of mixed types:
/// `f.call(&args![2.0, vec![1.0, 2.0]])`.
#[macro_export]
macro_rules! args {
    ($($e:expr),* $(,)?) => {
        [$($crate::value::Arg::from($e)),*]
    };
}

fn ragged(path: String, expected: usize, got: usize) -> ValueError {
    ValueError::Ragged { path, expected, got }
}

fn nested2<T: TensorElement>(rows: Vec<Vec<T>>) -> Result<Tensor, ValueError> {
    let cols = rows.first().map_or(0, Vec::len);
    let n = rows.len();
    let mut data = Vec::with_capacity(n * cols);
    for (i, r) in rows.into_iter().enumerate() {
        if r.len() != cols {
            return Err(ragged(format!("row {i}"), cols, r.len()));
        }
        data.extend(r);
    }
    let a = ArrayD::from_shape_vec(IxDyn(&[n, cols]), data).expect("checked shape");
    Ok(T::wrap(a.into_shared()))
}

fn nested3<T: TensorElement>(v: Vec<Vec<Vec<T>>>) -> Result<Tensor, ValueError> {
    let d1 = v.first().map_or(0, Vec::len);
    let d2 = v.first().and_then(|p| p.first()).map_or(0, Vec::len);
    let d0 = v.len();
    let mut data = Vec::with_capacity(d0 * d1 * d2);
    for (i, p) in v.into_iter().enumerate() {
        if p.len() != d1 {
            return Err(ragged(format!("[{i}]"), d1, p.len()));
        }
        for (j, r) in p.into_iter().enumerate() {
            if r.len() != d2 {
                return Err(ragged(format!("[{i}][{j}]"), d2, r.len()));
            }
            data.extend(r);
        }
    }
    let a = ArrayD::from_shape_vec(IxDyn(&[d0, d1, d2]), data).expect("checked shape");
    Ok(T::wrap(a.into_shared()))
}

impl Tensor {
    /// The dtype of the data.
    #[inline]
    pub fn dtype(&self) -> DType {
        match self {
            Tensor::Bool(_) => DType::Bool,
            Tensor::I32(_) => DType::I32,
            Tensor::I64(_) => DType::I64,
            Tensor::F32(_) => DType::F32,
            Tensor::F64(_) => DType::F64,
            Tensor::Borrowed(b) => b.dtype(),
        }
    }

    /// True when this tensor reads data another owner keeps ([`Tensor::Borrowed`]).
    #[inline]
    pub fn is_borrowed(&self) -> bool {
        matches!(self, Tensor::Borrowed(_))
    }

    /// This tensor with data of its own: borrowed data is copied (in standard layout),
    /// anything else returned as it is. What a value that outlives a call's borrows is
    /// made of.
    #[inline]
    pub fn detach(self) -> Tensor {
        match self {
            Tensor::Borrowed(b) => b.to_owned(),
            t => t,
        }
    }

    /// The strides, in elements.
    #[inline]
    pub fn strides(&self) -> &[isize] {
        owned_or!(self, a => a.strides(), b => b.strides())
    }

    /// True when the elements fill the memory from the lowest to the highest of them (in
    /// any order: a transpose is dense, a stepped slice is not).
    pub fn is_dense(&self) -> bool {
        let (lo, hi) = extent(self.shape(), self.strides());
        self.is_empty() || (hi - lo) as usize + 1 == self.len()
    }

    /// True when the elements are contiguous in row-major order.
    pub fn is_standard_layout(&self) -> bool {
        owned_or!(self, a => a.is_standard_layout(), b => b.is_standard_layout())
    }

    /// The address of the element at index 0 on every axis.
    pub fn data_ptr(&self) -> *const u8 {
        owned_or!(self, a => a.as_ptr() as *const u8, b => b.as_ptr())
    }

    /// True when both tensors are the same view of the same memory: same dtype, shape,
    /// strides and first element, so every element of one is the element of the other at
    /// the same index (a transposed view of the same buffer is not).
    pub fn shares_data(&self, other: &Tensor) -> bool {
        self.dtype() == other.dtype()
            && self.shape() == other.shape()
            && self.strides() == other.strides()
            && self.data_ptr() == other.data_ptr()
    }

    /// True when nothing else holds this tensor's storage (no clone, view or shared
    /// variable): writing into it in place changes no value anyone else can see.
    #[inline]
    pub fn is_unique(&self) -> bool {
        owned_or!(self, a => a.is_unique(), _b => false)
    }

    /// A copy with storage of its own, in standard layout (nothing else holds it).
    pub fn deep_copy(&self) -> Tensor {
        map_array!(self, a => a.as_standard_layout().to_owned().into_shared())
    }

    /// Copies `src`'s elements into this tensor's own memory (copied first if shared), in
    /// place: same dtype and shape required.
    pub fn assign(&mut self, src: &Tensor) -> Result<(), ValueError> {
        if self.dtype() != src.dtype() || self.shape() != src.shape() {
            return Err(ValueError::Invalid {
                op: "assign".into(),
                reason: format!(
                    "cannot assign {} of shape {:?} to {} of shape {:?}",
                    src.dtype(),
                    src.shape(),
                    self.dtype(),
                    self.shape()
                ),
            });
        }
        match (self, src) {
            (Tensor::Bool(a), Tensor::Bool(b)) => a.assign(b),
            (Tensor::I32(a), Tensor::I32(b)) => a.assign(b),
            (Tensor::I64(a), Tensor::I64(b)) => a.assign(b),
            (Tensor::F32(a), Tensor::F32(b)) => a.assign(b),
            (Tensor::F64(a), Tensor::F64(b)) => a.assign(b),
            (dst, src) => {
                if dst.is_borrowed() {
                    *dst = std::mem::replace(dst, Tensor::from(false)).detach();
                }
                let src = src.clone().detach();
                return dst.assign(&src);
            }
        }
        Ok(())
    }

    /// The concrete shape.
    #[inline]
    pub fn shape(&self) -> &[usize] {
        owned_or!(self, a => a.shape(), b => b.shape())
    }

    /// Number of axes.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A tensor of zeros (false) of the given dtype and shape.
    pub fn zeros(dtype: DType, shape: &[usize]) -> Tensor {
        fn z<T: TensorElement>(shape: &[usize]) -> Tensor {
            T::wrap(ArrayD::from_elem(IxDyn(shape), T::zero()).into_shared())
        }
        match dtype {
            DType::Bool => z::<bool>(shape),
            DType::I32 => z::<i32>(shape),
            DType::I64 => z::<i64>(shape),
            DType::F32 => z::<f32>(shape),
            DType::F64 => z::<f64>(shape),
        }
    }

    /// A 0-d tensor of `dtype` holding `v` converted as Rust's `as` does.
    pub fn scalar_of(dtype: DType, v: f64) -> Tensor {
        Tensor::full(dtype, &[], v)
    }

    /// A tensor filled with `v` (converted as Rust's `as` does).
    pub fn full(dtype: DType, shape: &[usize], v: f64) -> Tensor {
        fn f<T: TensorElement>(shape: &[usize], v: f64) -> Tensor {
            T::wrap(ArrayD::from_elem(IxDyn(shape), T::from_f64(v)).into_shared())
        }
        match dtype {
            DType::Bool => f::<bool>(shape, v),
            DType::I32 => f::<i32>(shape, v),
            DType::I64 => f::<i64>(shape, v),
            DType::F32 => f::<f32>(shape, v),
            DType::F64 => f::<f64>(shape, v),
        }
    }

    /// A view of the data as `T`, or an error naming both dtypes.
    pub fn array<T: TensorElement>(&self) -> Result<ArrayViewD<'_, T>, ValueError> {
        let view = match self {
            Tensor::Borrowed(b) => b.view(),
            t => T::array(t).map(|a| a.view()),
        };
        view.ok_or(ValueError::DType { expected: T::DTYPE, got: self.dtype() })
    }

    /// The elements as a slice of `T`, when the dtype is `T` and they are contiguous in
    /// row-major order (no view is made: the cheapest way to the data).
    #[inline]
    pub fn as_slice<T: TensorElement>(&self) -> Option<&[T]> {
        match self {
            Tensor::Borrowed(b) => b.view::<T>()?.to_slice(),
            t => T::array(t)?.as_slice(),
        }
    }

    /// A view of the data as `T` broadcast to `shape` (NumPy's rules), or `None` when the
    /// dtype is not `T` or the shape does not broadcast.
    pub fn broadcast_view<T: TensorElement>(&self, shape: &[usize]) -> Option<ArrayViewD<'_, T>> {
        match self {
            Tensor::Borrowed(b) => b.broadcast(shape),
            t => T::array(t)?.broadcast(IxDyn(shape)),
        }
    }

    /// The data as an owned `ArrayD<T>` (no copy when this tensor is its only owner).
    pub fn into_array<T: TensorElement>(self) -> Result<ArrayD<T>, ValueError> {
        let got = self.dtype();
        if let Tensor::Borrowed(b) = &self {
            return b.view::<T>().map(|v| v.to_owned()).ok_or(ValueError::DType { expected: T::DTYPE, got });
        }
        T::array(&self).ok_or(ValueError::DType { expected: T::DTYPE, got })?;
        let arc = T::array(&self).expect("checked").clone();
        drop(self);
        Ok(arc.into_owned())
    }

    /// The data as an owned array of static rank (`Array1<T>`, `Array2<T>`, …, or `ArrayD<T>`),
    /// without a copy when this tensor is its only owner. A dtype other than `T` or a rank
    /// other than `D`'s is an error.
    pub fn into_array_dim<T: TensorElement, D: ndarray::Dimension>(
        self,
    ) -> Result<ndarray::Array<T, D>, ValueError> {
        if let Some(n) = D::NDIM {
            self.check_ndim(n)?;
        }
        Ok(self.into_array::<T>()?.into_dimensionality::<D>()?)
    }

    /// `into_array_dim` for a vector: the data as `Array1<T>`.
    pub fn into_array1<T: TensorElement>(self) -> Result<ndarray::Array1<T>, ValueError> {
        self.into_array_dim()
    }

    /// `into_array_dim` for a matrix: the data as `Array2<T>`.
    pub fn into_array2<T: TensorElement>(self) -> Result<ndarray::Array2<T>, ValueError> {
        self.into_array_dim()
    }

    /// The rows of a matrix as `Vec<Vec<T>>` (a copy).
    pub fn to_vec2<T: TensorElement>(&self) -> Result<Vec<Vec<T>>, ValueError> {
        self.check_ndim(2)?;
        let a = self.array::<T>()?;
        Ok(a.outer_iter().map(|row| row.iter().copied().collect()).collect())
    }

    /// The data of a 3-d tensor as `Vec<Vec<Vec<T>>>` (a copy).
    pub fn to_vec3<T: TensorElement>(&self) -> Result<Vec<Vec<Vec<T>>>, ValueError> {
        self.check_ndim(3)?;
        let a = self.array::<T>()?;
        Ok(a.outer_iter()
            .map(|m| m.outer_iter().map(|row| row.iter().copied().collect()).collect())
            .collect())
    }

    /// `Ok` when the tensor has `ndim` axes, else `ValueError::Ndim`.
    fn check_ndim(&self, ndim: usize) -> Result<(), ValueError> {
        if self.ndim() == ndim {
            Ok(())
        } else {
            Err(ValueError::Ndim { expected: ndim, shape: self.shape().to_vec() })
        }
    }

    /// `ArrayD<f64>` of the data, converting any dtype.
    pub fn to_f64_array(&self) -> ArrayD<f64> {
        with_array!(self, a => a.mapv(|v| v.to_f64()))
    }

    /// The single value of a 0-d (or one-element) tensor as `T`.
    pub fn scalar<T: TensorElement>(&self) -> Result<T, ValueError> {
        let a = self.array::<T>()?;
        if a.len() != 1 {
            return Err(ValueError::NotScalar { shape: self.shape().to_vec() });
        }
        Ok(*a.iter().next().expect("one element"))
    }

    /// The single value of a 0-d tensor as f64, whatever its dtype.
    pub fn to_f64(&self) -> Result<f64, ValueError> {
        if self.len() != 1 {
            return Err(ValueError::NotScalar { shape: self.shape().to_vec() });
        }
        Ok(with_array!(self, a => a.iter().next().expect("one element").to_f64()))
    }

    /// The truth of a 0-d (or one-element) tensor, as Python's `bool`: non-zero is true
    /// (NaN too).
    pub fn is_true(&self) -> Result<bool, ValueError> {
        Ok(self.to_f64()? != 0.0)
    }

    /// The elements in row-major order, converted to f64.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        with_array!(self, a => a.iter().map(|v| v.to_f64()).collect())
    }

    /// The data in row-major order as `Vec<T>`.
    pub fn to_vec<T: TensorElement>(&self) -> Result<Vec<T>, ValueError> {
        Ok(self.array::<T>()?.iter().copied().collect())
    }

    /// The same values in another dtype, converted as Rust's `as` does (a cast).
    pub fn cast(&self, dtype: DType) -> Tensor {
        if self.dtype() == dtype {
            return self.clone();
        }
        fn to<T: TensorElement>(t: &Tensor) -> Tensor {
            let a: ArrayD<T> = match t {
                Tensor::Bool(a) => a.mapv(|v| if v { T::one() } else { T::zero() }),
                Tensor::I32(a) => a.mapv(|v| T::from_i64(v as i64)),
                Tensor::I64(a) => a.mapv(T::from_i64),
                Tensor::F32(a) => a.mapv(|v| T::from_f64(v as f64)),
                Tensor::F64(a) => a.mapv(T::from_f64),
                Tensor::Borrowed(b) => return to::<T>(&b.to_owned()),
            };
            T::wrap(a.into_shared())
        }
        match dtype {
            DType::Bool => to::<bool>(self),
            DType::I32 => to::<i32>(self),
            DType::I64 => to::<i64>(self),
            DType::F32 => to::<f32>(self),
            DType::F64 => to::<f64>(self),
        }
    }

    /// Converts to `dtype` only when no value changes (Theano's `allow_input_downcast=False`):
    /// never from float to integer or bool, nor from integer to bool; otherwise every value
    /// must convert back to itself (NaN stays NaN).
    pub fn convert_lossless(&self, dtype: DType) -> Result<Tensor, ValueError> {
        let from = self.dtype();
        if from == dtype {
            return Ok(self.clone());
        }
        let refused = ValueError::LossyConversion { from, to: dtype };
        if dtype.kind() < from.kind() {
            return Err(refused);
        }
        let out = self.cast(dtype);
        let back = out.cast(from);
        if !back.bit_eq_or_nan(self) {
            return Err(refused);
        }
        Ok(out)
    }

    fn bit_eq_or_nan(&self, other: &Tensor) -> bool {
        fn floats<T: TensorElement>(a: &Tensor, b: &Tensor) -> Option<bool> {
            let (a, b) = (a.array::<T>().ok()?, b.array::<T>().ok()?);
            Some(a.iter().zip(b.iter()).all(|(x, y)| x == y || (x.is_nan() && y.is_nan())))
        }
        match (self.dtype(), other.dtype()) {
            (DType::F32, DType::F32) => floats::<f32>(self, other).unwrap_or(false),
            (DType::F64, DType::F64) => floats::<f64>(self, other).unwrap_or(false),
            _ => self == other,
        }
    }

    /// True when both tensors have the same dtype, shape and values, comparing floats within
    /// `rtol`/`atol` (NumPy's `allclose`, with NaN equal to NaN).
    pub fn allclose(&self, other: &Tensor, rtol: f64, atol: f64) -> bool {
        if self.dtype() != other.dtype() || self.shape() != other.shape() {
            return false;
        }
        let (a, b) = (self.to_f64_vec(), other.to_f64_vec());
        a.iter()
            .zip(&b)
            .all(|(&x, &y)| (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= atol + rtol * y.abs())
    }
}

impl PartialEq for Tensor {
    /// Equal dtype, shape and bit patterns (so a NaN constant equals itself).
    fn eq(&self, other: &Tensor) -> bool {
        fn bits<T: TensorElement>(a: &Tensor, b: &Tensor, key: fn(&T) -> u64) -> bool {
            let (Ok(a), Ok(b)) = (a.array::<T>(), b.array::<T>()) else { return false };
            a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| key(x) == key(y))
        }
        if self.dtype() != other.dtype() {
            return false;
        }
        match self.dtype() {
            DType::Bool => bits::<bool>(self, other, |v| *v as u64),
            DType::I32 => bits::<i32>(self, other, |v| *v as u64),
            DType::I64 => bits::<i64>(self, other, |v| *v as u64),
            DType::F32 => bits::<f32>(self, other, |v| v.to_bits() as u64),
            DType::F64 => bits::<f64>(self, other, |v| v.to_bits()),
        }
    }
}

impl Eq for Tensor {}

impl Hash for Tensor {
    /// Hashes dtype, shape and bit patterns, consistent with `eq`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.shape().hash(state);
        let mut view = |t: &Tensor| -> Option<()> {
            match t.dtype() {
                DType::Bool => t.array::<bool>().ok()?.iter().for_each(|v| v.hash(state)),
                DType::I32 => t.array::<i32>().ok()?.iter().for_each(|v| v.hash(state)),
                DType::I64 => t.array::<i64>().ok()?.iter().for_each(|v| v.hash(state)),
                DType::F32 => t.array::<f32>().ok()?.iter().for_each(|v| v.to_bits().hash(state)),
                DType::F64 => t.array::<f64>().ok()?.iter().for_each(|v| v.to_bits().hash(state)),
            }
            Some(())
        };
        view(self).expect("a tensor's own dtype");
    }
}

// ---------------------------------------------------------------------------------------
// Allocation

/// Results at least this large (in bytes) are reserved once by [`check_alloc`] before a
/// kernel allocates them itself: below it the allocator does not refuse memory the
/// machine has, and the probe would only cost a call.
pub const PROBE_BYTES: usize = 64 << 20;

/// The element count of a `dtype` array of `shape`, or [`ValueError::Memory`] when it does
/// not fit the address space: the count overflows, or its size exceeds `isize::MAX` bytes
/// (the most one allocation, and an ndarray, can hold), or the product of its nonzero
/// lengths does (no array, even an empty one, has that shape).
pub fn checked_len(op: &str, shape: &[usize], dtype: DType) -> Result<usize, ValueError> {
    crate::types::checked_product(shape.iter().copied())
        .filter(|&n| n.checked_mul(dtype.size()).is_some_and(|b| b <= isize::MAX as usize))
        .filter(|_| crate::types::shape_fits(shape))
        .ok_or_else(|| ValueError::Memory { op: op.into(), shape: shape.to_vec(), dtype })
}

/// An empty vector with room for exactly the elements of a `T` array of `shape`, or
/// [`ValueError::Memory`] when the count does not fit ([`checked_len`]) or the allocator
/// refuses the memory, as NumPy raises `MemoryError`: never an abort. Every result whose
/// size comes from input shapes is allocated through here (or checked by [`check_alloc`]).
pub fn try_buffer<T: Element>(op: &str, shape: &[usize]) -> Result<Vec<T>, ValueError> {
    let n = checked_len(op, shape, T::DTYPE)?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| ValueError::Memory {
        op: op.into(),
        shape: shape.to_vec(),
        dtype: T::DTYPE,
    })?;
    Ok(v)
}

/// Checks that a `dtype` array of `shape` can be allocated, before a kernel that allocates
/// it itself (through ndarray, which aborts on failure) runs: the count is checked, and a
/// result of [`PROBE_BYTES`] or more is reserved once with [`try_buffer`] and released.
pub fn check_alloc(op: &str, shape: &[usize], dtype: DType) -> Result<(), ValueError> {
    let n = checked_len(op, shape, dtype)?;
    if n * dtype.size() >= PROBE_BYTES {
        match dtype {
            DType::Bool => drop(try_buffer::<bool>(op, shape)?),
            DType::I32 => drop(try_buffer::<i32>(op, shape)?),
            DType::I64 => drop(try_buffer::<i64>(op, shape)?),
            DType::F32 => drop(try_buffer::<f32>(op, shape)?),
            DType::F64 => drop(try_buffer::<f64>(op, shape)?),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Printing

/// Formats one element in the shortest form that reads back to the same value
/// (`2.0`, `-0.5`, `inf`, `NaN`, `7`, `true`): the text form of constants uses it.
pub fn fmt_elem_exact<T: Element>(v: T) -> String {
    format!("{v:?}")
}

/// NumPy's printing of float elements (`floatmode='maxprec'`): each value in its shortest
/// form that reads back as the same value of its own type (`0.8` for an f32 0.8), rounded to
/// at most `precision` decimals; then every value with the same number of decimals, trailing
/// zeros dropped (`1.`); scientific notation when a value is at least 1e8, below 1e-4, or the
/// largest is more than 1000 times the smallest nonzero one.
fn numpy_floats<T: Copy + fmt::Display + fmt::LowerExp + Into<f64>>(
    vals: &[T],
    precision: usize,
) -> Vec<String> {
    let as_f64: Vec<f64> = vals.iter().map(|&v| v.into()).collect();
    let nonzero: Vec<f64> = as_f64.iter().filter(|v| v.is_finite() && **v != 0.0).map(|v| v.abs()).collect();
    let max_abs = nonzero.iter().fold(0.0f64, |m, &v| m.max(v));
    let min_abs = nonzero.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    let scientific = !nonzero.is_empty() && (max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1e3);
    let special = |v: f64| -> Option<String> {
        if v.is_nan() {
            Some("nan".into())
        } else if v.is_infinite() {
            Some(if v > 0.0 { "inf".into() } else { "-inf".into() })
        } else {
            None
        }
    };
    let frac_len = |s: &str| s.split_once('.').map_or(0, |(_, f)| f.len());
    if scientific {
        // The decimals of each mantissa in its shortest form, at most `precision`.
        let digits = vals
            .iter()
            .zip(&as_f64)
            .filter(|(_, f)| f.is_finite())
            .map(|(&v, _)| {
                let s = format!("{v:e}");
                let (m, _) = s.split_once('e').expect("exponent");
                frac_len(m).min(precision)
            })
            .max()
            .unwrap_or(0);
        return vals
            .iter()
            .zip(&as_f64)
            .map(|(&v, &f)| {
                special(f).unwrap_or_else(|| {
                    let s = format!("{:.*e}", digits, v);
                    let (m, e) = s.split_once('e').expect("exponent");
                    let m = if digits == 0 { format!("{m}.") } else { m.to_string() };
                    let e: i32 = e.parse().expect("exponent digits");
                    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
                })
            })
            .collect();
    }
    let trimmed: Vec<Option<String>> = vals
        .iter()
        .zip(&as_f64)
        .map(|(&v, &f)| {
            special(f).is_none().then(|| {
                let mut s = format!("{v}");
                if frac_len(&s) > precision {
                    s = format!("{:.*}", precision, v).trim_end_matches('0').to_string();
                }
                if !s.contains('.') {
                    s.push('.');
                }
                s
            })
        })
        .collect();
    let frac = trimmed.iter().flatten().map(|s| frac_len(s)).max().unwrap_or(0);
    as_f64
        .iter()
        .zip(trimmed)
        .map(|(&f, t)| match t {
            Some(s) => {
                let pad = frac - frac_len(&s);
                format!("{s}{}", " ".repeat(pad))
            }
            None => special(f).expect("non-finite"),
        })
        .collect()
}

/// NumPy prints at most this many elements before it summarizes (`threshold`).
const PRINT_THRESHOLD: usize = 1000;
/// Elements shown at each end of a summarized axis (`edgeitems`).
const EDGE_ITEMS: usize = 3;
/// NumPy's line width (`linewidth`).
const LINE_WIDTH: usize = 75;

/// The indices of an axis of length `n` that are printed, and whether `...` stands between
/// the leading and the trailing ones.
fn shown_items(n: usize, summarize: bool) -> (Vec<usize>, bool) {
    if summarize && n > 2 * EDGE_ITEMS {
        ((0..EDGE_ITEMS).chain(n - EDGE_ITEMS..n).collect(), true)
    } else {
        ((0..n).collect(), false)
    }
}

/// Every printed multi-index, in row-major order.
fn shown_indices(shape: &[usize], summarize: bool) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &n in shape {
        let (items, _) = shown_items(n, summarize);
        out =
            out.into_iter().flat_map(|p| items.iter().map(move |&i| [p.as_slice(), &[i]].concat())).collect();
    }
    out
}

impl Tensor {
    /// The printed elements as NumPy formats them (all of the same width), in row-major
    /// order of the shown indices.
    fn cells(&self, summarize: bool) -> Vec<String> {
        let idx = shown_indices(self.shape(), summarize);
        fn pick<T: TensorElement>(t: &Tensor, idx: &[Vec<usize>]) -> Vec<T> {
            let a = t.array::<T>().expect("the tensor's own dtype");
            idx.iter().map(|i| a[IxDyn(i)]).collect()
        }
        let cells: Vec<String> = match self.dtype() {
            DType::F64 => numpy_floats(&pick::<f64>(self, &idx), 8),
            DType::F32 => numpy_floats(&pick::<f32>(self, &idx), 8),
            DType::I32 => pick::<i32>(self, &idx).iter().map(ToString::to_string).collect(),
            DType::I64 => pick::<i64>(self, &idx).iter().map(ToString::to_string).collect(),
            DType::Bool => {
                pick::<bool>(self, &idx).iter().map(|&v| if v { "True" } else { "False" }.into()).collect()
            }
        };
        let width = cells.iter().map(String::len).max().unwrap_or(0);
        cells.into_iter().map(|c| format!("{c:>width$}")).collect()
    }

    /// NumPy's `array2string`: nested brackets, `sep` between elements, lines wrapped at
    /// `width` and continued under `hanging`, `...` for the elided middle.
    fn array_string(&self, sep: &str, hanging: &str, width: usize) -> String {
        let summarize = self.len() > PRINT_THRESHOLD;
        let cells = self.cells(summarize);
        let mut cells = cells.iter();
        format_axes(&mut cells, self.shape(), summarize, sep, hanging, width)
    }
}

/// NumPy's `_formatArray` (non-legacy), over the formatted cells in order.
fn format_axes<'a>(
    cells: &mut impl Iterator<Item = &'a String>,
    shape: &[usize],
    summarize: bool,
    sep: &str,
    hanging: &str,
    width: usize,
) -> String {
    let Some((&n, rest)) = shape.split_first() else {
        return cells.next().cloned().unwrap_or_default();
    };
    let next_hanging = format!("{hanging} ");
    let (items, gap) = shown_items(n, summarize);
    let mut words: Vec<String> = items
        .iter()
        .map(|_| format_axes(cells, rest, summarize, sep, &next_hanging, width.saturating_sub(1)))
        .collect();
    if gap {
        words.insert(EDGE_ITEMS, "...".into());
    }
    let mut s = String::new();
    if rest.is_empty() {
        let elem_width = width.saturating_sub(sep.trim_end().len().max(1));
        let mut line = hanging.to_string();
        for (k, word) in words.iter().enumerate() {
            let wrap = line.len() + word.len() > elem_width && line.len() > hanging.len();
            if wrap {
                s.push_str(line.trim_end());
                s.push('\n');
                line = hanging.to_string();
            }
            line.push_str(word);
            if k + 1 < words.len() {
                line.push_str(sep);
            }
        }
        s.push_str(&line);
    } else {
        let line_sep = format!("{}{}", sep.trim_end(), "\n".repeat(rest.len()));
        for (k, word) in words.iter().enumerate() {
            s.push_str(hanging);
            s.push_str(word);
            if k + 1 < words.len() {
                s.push_str(&line_sep);
            }
        }
    }
    format!("[{}]", &s[hanging.len()..])
}

impl fmt::Display for Tensor {
    /// Prints like NumPy's `print`: `[[0.5        0.73105858]\n [0.26894142 0.11920292]]`,
    /// `[1. 4. 9.]`, `16.0` for a 0-d float; more than 1000 elements are summarized with
    /// `...` and long lines wrap at 75 columns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ndim() == 0 {
            // NumPy prints a 0-d float by repr: 16.0, 0.5.
            return match self {
                Tensor::F64(a) => write!(f, "{:?}", a.iter().next().expect("one element")),
                Tensor::F32(a) => write!(f, "{:?}", a.iter().next().expect("one element")),
                _ => f.write_str(&self.cells(false)[0]),
            };
        }
        if self.is_empty() {
            // NumPy prints every empty array as `[]` (its shape can be any length of zeros).
            return f.write_str("[]");
        }
        f.write_str(&self.array_string(" ", " ", LINE_WIDTH))
    }
}

impl fmt::Debug for Tensor {
    /// NumPy's `repr`: `array([1., 2.])`, `array([1, 2], dtype=int32)`,
    /// `array([0.8], dtype=float32)`, `array(2.)`; the dtype is shown unless it is float64,
    /// int64 or bool, and the shape when the array is summarized or empty (not `(0,)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PREFIX: &str = "array(";
        let body = if self.is_empty() {
            "[]".to_string()
        } else {
            self.array_string(", ", "       ", LINE_WIDTH - 1)
        };
        let mut extras = Vec::new();
        if (self.is_empty() && self.shape() != [0]) || self.len() > PRINT_THRESHOLD {
            let dims: Vec<String> = self.shape().iter().map(ToString::to_string).collect();
            let tuple =
                if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
            extras.push(format!("shape={tuple}"));
        }
        let implied = matches!(self.dtype(), DType::F64 | DType::I64 | DType::Bool);
        if !implied || self.is_empty() {
            extras.push(format!("dtype={}", self.dtype()));
        }
        if extras.is_empty() {
            return write!(f, "{PREFIX}{body})");
        }
        let head = format!("{PREFIX}{body},");
        let extra = format!("{})", extras.join(", "));
        let last_line = head.len() - head.rfind('\n').map_or(0, |i| i + 1);
        let spacer = if last_line + extra.len() + 1 > LINE_WIDTH {
            format!("\n{}", " ".repeat(PREFIX.len()))
        } else {
            " ".into()
        };
        write!(f, "{head}{spacer}{extra}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_numpy() {
        let t = Tensor::try_from(vec![
            vec![0.5, 0.7310585786300049],
            vec![0.2689414213699951, 0.11920292202211755],
        ])
        .unwrap();
        assert_eq!(t.to_string(), "[[0.5        0.73105858]\n [0.26894142 0.11920292]]");
        assert_eq!(Tensor::from(vec![1.0, 4.0, 9.0]).to_string(), "[1. 4. 9.]");
        assert_eq!(Tensor::from(16.0).to_string(), "16.0");
        assert_eq!(Tensor::from(vec![7.0, 16.0]).to_string(), "[ 7. 16.]");
        assert_eq!(Tensor::zeros(DType::F64, &[2, 0]).to_string(), "[]");
        // An empty array of any shape prints at once.
        let huge = Tensor::zeros(DType::F64, &[0]).cast(DType::I32);
        let huge = crate::map_array!(&huge, a => a.clone().into_shape_with_order(IxDyn(&[isize::MAX as usize, 0, 0])).unwrap());
        assert_eq!(huge.to_string(), "[]");
    }

    #[test]
    fn debug_is_numpy_repr() {
        // Pinned from NumPy 2.4's repr of the same arrays.
        let cases: Vec<(Tensor, &str)> = vec![
            (Tensor::from([1.0, 2.0]), "array([1., 2.])"),
            (Tensor::from([1i64, 2]), "array([1, 2])"),
            (Tensor::from([1i32, 2]), "array([1, 2], dtype=int32)"),
            (Tensor::from([0.8f32]), "array([0.8], dtype=float32)"),
            (Tensor::from(2.0), "array(2.)"),
            (Tensor::from(2i64), "array(2)"),
            (Tensor::from(2.0f32), "array(2., dtype=float32)"),
            (Tensor::from([true, false]), "array([ True, False])"),
            (Tensor::from([[1.0, 2.0], [3.0, 4.5]]), "array([[1. , 2. ],\n       [3. , 4.5]])"),
            (
                Tensor::from([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]]),
                "array([[[ 0.,  1.,  2.],\n        [ 3.,  4.,  5.]],\n\n       [[ 6.,  7.,  8.],\n        [ 9., 10., 11.]]])",
            ),
            (
                Tensor::from((0..2000).map(f64::from).collect::<Vec<_>>()),
                "array([0.000e+00, 1.000e+00, 2.000e+00, ..., 1.997e+03, 1.998e+03,\n       1.999e+03], shape=(2000,))",
            ),
            (
                Tensor::from((0..1001).map(i64::from).collect::<Vec<_>>()),
                "array([   0,    1,    2, ...,  998,  999, 1000], shape=(1001,))",
            ),
            (Tensor::zeros(DType::F64, &[0]), "array([], dtype=float64)"),
            (Tensor::zeros(DType::F64, &[2, 0]), "array([], shape=(2, 0), dtype=float64)"),
            (Tensor::from([0.5, 0.7310585786300049, 0.2689414213699951]), "array([0.5       , 0.73105858, 0.26894142])"),
            (
                Tensor::from((0..30).map(|i| f64::from(i) * 1.5).collect::<Vec<_>>()),
                "array([ 0. ,  1.5,  3. ,  4.5,  6. ,  7.5,  9. , 10.5, 12. , 13.5, 15. ,\n       16.5, 18. , 19.5, 21. , 22.5, 24. , 25.5, 27. , 28.5, 30. , 31.5,\n       33. , 34.5, 36. , 37.5, 39. , 40.5, 42. , 43.5])",
            ),
            (Tensor::from([1e-5, 1.0]), "array([1.e-05, 1.e+00])"),
            (Tensor::from([f64::NAN, f64::NEG_INFINITY, 1.0]), "array([ nan, -inf,   1.])"),
            (
                Tensor::from((0..40).collect::<Vec<i32>>()),
                "array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,\n       34, 35, 36, 37, 38, 39], dtype=int32)",
            ),
            (
                Tensor::from((0..25).map(|i| f64::from(i) * 0.1).collect::<Vec<_>>()),
                "array([0. , 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1. , 1.1, 1.2,\n       1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2. , 2.1, 2.2, 2.3, 2.4])",
            ),
            (Tensor::from([1.5, 10.25]), "array([ 1.5 , 10.25])"),
            (
                Tensor::from(ndarray::Array::from_shape_fn((3, 1000), |(i, j)| (i * 1000 + j) as f64)),
                "array([[0.000e+00, 1.000e+00, 2.000e+00, ..., 9.970e+02, 9.980e+02,\n        9.990e+02],\n       [1.000e+03, 1.001e+03, 1.002e+03, ..., 1.997e+03, 1.998e+03,\n        1.999e+03],\n       [2.000e+03, 2.001e+03, 2.002e+03, ..., 2.997e+03, 2.998e+03,\n        2.999e+03]], shape=(3, 1000))",
            ),
            (Tensor::from([0.1f32 * 3.0, 0.2f32 * 3.0]), "array([0.3, 0.6], dtype=float32)"),
        ];
        for (t, repr) in cases {
            assert_eq!(format!("{t:?}"), repr);
        }
    }

    #[test]
    fn f32_prints_as_f32() {
        assert_eq!(Tensor::from([0.8f32, 0.1]).to_string(), "[0.8 0.1]");
    }

    #[test]
    fn ragged_rows_are_an_error() {
        let err: ValueError = Tensor::try_from(vec![vec![1.0, 2.0], vec![3.0]]).unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
    }

    #[test]
    fn lossless_conversion() {
        let ints = Tensor::from(vec![1i64, 2, 3]);
        assert_eq!(ints.convert_lossless(DType::F64).unwrap(), Tensor::from(vec![1.0, 2.0, 3.0]));
        assert!(Tensor::from(vec![1.5]).convert_lossless(DType::I32).is_err());
        assert!(Tensor::from(vec![0.1f64]).convert_lossless(DType::F32).is_err());
        assert!(Tensor::from(vec![0.5f64]).convert_lossless(DType::F32).is_ok());
    }
}
