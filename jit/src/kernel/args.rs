//! The arguments of a kernel run and their layout: the inputs ([`KernelArg`]: slices,
//! broadcast scalars, strided views) and outputs ([`KernelOut`]), their addresses and
//! strides as the native function reads them, and the bounds arithmetic that proves every
//! element read lies inside its data.

use std::mem::MaybeUninit;
use std::ops::Range;
use tensorlift_ir::DType;
/// One input of a kernel run: a slice as long as the output, a scalar broadcast to every
/// element, or a strided view into a slice. The variant is the input's dtype, so `float32`
/// and `float64` inputs mix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KernelArg<'a> {
    /// A contiguous `float64` input.
    F64(&'a [f64]),
    /// A contiguous `float32` input.
    F32(&'a [f32]),
    /// A `float64` scalar, the same for every element.
    ScalarF64(f64),
    /// A `float32` scalar, the same for every element.
    ScalarF32(f32),
    /// A `float64` input read with a stride: element `i` of the result reads
    /// `data[first + i * stride]`, which must lie inside `data` for every computed `i`.
    StridedF64 {
        /// The memory the elements are read from.
        data: &'a [f64],
        /// Where element 0 is (it need not exist when the run starts later).
        first: usize,
        /// Elements from one element to the next: negative walks backwards, 0 repeats one.
        stride: isize,
    },
    /// A `float32` input read with a stride, as [`KernelArg::StridedF64`].
    StridedF32 {
        /// The memory the elements are read from.
        data: &'a [f32],
        /// Where element 0 is (it need not exist when the run starts later).
        first: usize,
        /// Elements from one element to the next: negative walks backwards, 0 repeats one.
        stride: isize,
    },
}

impl<'a> KernelArg<'a> {
    /// Elements `range` of a slice argument; a strided one starting at its element
    /// `range.start`; a scalar stays itself.
    ///
    /// # Panics
    /// If `range` is not inside the slice, or a strided argument's element `range.start`
    /// is before the start of its data.
    pub fn slice(self, range: Range<usize>) -> KernelArg<'a> {
        let shift = |first: usize, stride: isize| {
            isize::try_from(range.start)
                .ok()
                .and_then(|r| r.checked_mul(stride))
                .and_then(|d| first.checked_add_signed(d))
                .unwrap_or_else(|| {
                    panic!("element {} of a strided argument is outside its data", range.start)
                })
        };
        match self {
            KernelArg::F64(s) => KernelArg::F64(&s[range]),
            KernelArg::F32(s) => KernelArg::F32(&s[range]),
            KernelArg::StridedF64 { data, first, stride } => {
                KernelArg::StridedF64 { data, first: shift(first, stride), stride }
            }
            KernelArg::StridedF32 { data, first, stride } => {
                KernelArg::StridedF32 { data, first: shift(first, stride), stride }
            }
            scalar => scalar,
        }
    }

    /// The input's dtype.
    #[inline]
    pub fn dtype(&self) -> DType {
        match self {
            KernelArg::F64(_) | KernelArg::ScalarF64(_) | KernelArg::StridedF64 { .. } => DType::F64,
            KernelArg::F32(_) | KernelArg::ScalarF32(_) | KernelArg::StridedF32 { .. } => DType::F32,
        }
    }

    /// The slice's length; `None` for a scalar or a strided argument (whose data need not
    /// be as long as the output).
    #[inline]
    pub fn len(&self) -> Option<usize> {
        match self {
            KernelArg::F64(s) => Some(s.len()),
            KernelArg::F32(s) => Some(s.len()),
            _ => None,
        }
    }

    /// True for an empty slice (never for a scalar or a strided argument).
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The argument as data length, first element and stride: a slice `(len, 0, 1)`, a
    /// scalar `(1, 0, 0)`.
    #[inline]
    pub(super) fn extent(&self) -> (usize, usize, isize) {
        match *self {
            KernelArg::F64(s) => (s.len(), 0, 1),
            KernelArg::F32(s) => (s.len(), 0, 1),
            KernelArg::ScalarF64(_) | KernelArg::ScalarF32(_) => (1, 0, 0),
            KernelArg::StridedF64 { data, first, stride } => (data.len(), first, stride),
            KernelArg::StridedF32 { data, first, stride } => (data.len(), first, stride),
        }
    }

    /// Row `r` of a [`run_rows`](crate::ElementwiseKernel::run_rows) argument as a strided one
    /// (a scalar stays itself); its first position must have been checked.
    #[inline]
    pub(crate) fn row(self, r: usize, row_stride: isize) -> KernelArg<'a> {
        let at = |first: usize| (first as isize).wrapping_add((r as isize).wrapping_mul(row_stride)) as usize;
        match self {
            KernelArg::F64(data) => KernelArg::StridedF64 { data, first: at(0), stride: 1 },
            KernelArg::F32(data) => KernelArg::StridedF32 { data, first: at(0), stride: 1 },
            KernelArg::StridedF64 { data, first, stride } => {
                KernelArg::StridedF64 { data, first: at(first), stride }
            }
            KernelArg::StridedF32 { data, first, stride } => {
                KernelArg::StridedF32 { data, first: at(first), stride }
            }
            scalar => scalar,
        }
    }

    /// A strided argument's data length, first element and stride.
    #[inline]
    pub(super) fn strided(&self) -> Option<(usize, usize, isize)> {
        match *self {
            KernelArg::StridedF64 { data, first, stride } => Some((data.len(), first, stride)),
            KernelArg::StridedF32 { data, first, stride } => Some((data.len(), first, stride)),
            _ => None,
        }
    }

    /// The address of element 0 (computed without dereferencing: it need not exist) and
    /// the stride in elements (0 for a scalar, 1 for a slice).
    #[inline]
    pub(super) fn raw(&self) -> (*const u8, isize) {
        match self {
            KernelArg::F64(s) => (s.as_ptr().cast(), 1),
            KernelArg::F32(s) => (s.as_ptr().cast(), 1),
            KernelArg::ScalarF64(x) => ((x as *const f64).cast(), 0),
            KernelArg::ScalarF32(x) => ((x as *const f32).cast(), 0),
            KernelArg::StridedF64 { data, first, stride } => {
                (data.as_ptr().wrapping_add(*first).cast(), *stride)
            }
            KernelArg::StridedF32 { data, first, stride } => {
                (data.as_ptr().wrapping_add(*first).cast(), *stride)
            }
        }
    }
}

/// One output buffer of a multi-output kernel run ([`ElementwiseKernel::run_outputs_uninit`](crate::ElementwiseKernel::run_outputs_uninit));
/// it need not be initialized.
#[derive(Debug)]
pub enum KernelOut<'a> {
    /// A `float64` output.
    F64(&'a mut [MaybeUninit<f64>]),
    /// A `float32` output.
    F32(&'a mut [MaybeUninit<f32>]),
}

impl KernelOut<'_> {
    /// The buffer's dtype.
    #[inline]
    pub fn dtype(&self) -> DType {
        match self {
            KernelOut::F64(_) => DType::F64,
            KernelOut::F32(_) => DType::F32,
        }
    }

    /// The buffer's length.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            KernelOut::F64(s) => s.len(),
            KernelOut::F32(s) => s.len(),
        }
    }

    /// True for an empty buffer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub(super) fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            KernelOut::F64(s) => s.as_mut_ptr().cast(),
            KernelOut::F32(s) => s.as_mut_ptr().cast(),
        }
    }
}

/// A position `first + r * row_stride + i * stride`, for `r` in `0..rows` and `i` in
/// `range`, that is outside `0..len`, if any: the first such corner of that rectangle
/// (`i128::MAX` for one that overflows). The position is linear in `r` and `i`, so
/// checking the four corners checks every position.
#[inline]
pub(super) fn outside(
    len: usize,
    first: usize,
    stride: isize,
    row_stride: isize,
    rows: usize,
    range: Range<usize>,
) -> Option<i128> {
    if rows == 0 || range.is_empty() {
        return None;
    }
    let at = |r: usize, i: usize| {
        let down = (r as i128).checked_mul(row_stride as i128)?;
        let across = (i as i128).checked_mul(stride as i128)?;
        (first as i128).checked_add(down)?.checked_add(across)
    };
    let corners = [(0, range.start), (0, range.end - 1), (rows - 1, range.start), (rows - 1, range.end - 1)];
    corners.into_iter().map(|(r, i)| at(r, i).unwrap_or(i128::MAX)).find(|&p| p < 0 || p >= len as i128)
}

impl<'a> From<&'a [f64]> for KernelArg<'a> {
    fn from(s: &'a [f64]) -> Self {
        KernelArg::F64(s)
    }
}

impl<'a> From<&'a [f32]> for KernelArg<'a> {
    fn from(s: &'a [f32]) -> Self {
        KernelArg::F32(s)
    }
}

impl<'a> From<&'a Vec<f64>> for KernelArg<'a> {
    fn from(s: &'a Vec<f64>) -> Self {
        KernelArg::F64(s)
    }
}

impl<'a> From<&'a Vec<f32>> for KernelArg<'a> {
    fn from(s: &'a Vec<f32>) -> Self {
        KernelArg::F32(s)
    }
}

impl From<f64> for KernelArg<'_> {
    fn from(x: f64) -> Self {
        KernelArg::ScalarF64(x)
    }
}

impl From<f32> for KernelArg<'_> {
    fn from(x: f32) -> Self {
        KernelArg::ScalarF32(x)
    }
}

/// Calls `f` with each input's element-0 address and stride (`KernelArg::raw`), held on the
/// stack for up to 16 inputs.
#[inline]
pub(super) fn with_raw_args<R>(
    inputs: &[KernelArg<'_>],
    f: impl FnOnce(&mut [*const u8], &[isize]) -> R,
) -> R {
    let mut ptrs = [std::ptr::null::<u8>(); 16];
    let mut strides = [0isize; 16];
    let mut heap: (Vec<*const u8>, Vec<isize>);
    let (ptrs, strides): (&mut [*const u8], &mut [isize]) = if inputs.len() <= 16 {
        (&mut ptrs[..inputs.len()], &mut strides[..inputs.len()])
    } else {
        heap = (vec![std::ptr::null(); inputs.len()], vec![0; inputs.len()]);
        (&mut heap.0, &mut heap.1)
    };
    for (k, arg) in inputs.iter().enumerate() {
        (ptrs[k], strides[k]) = arg.raw();
    }
    f(ptrs, strides)
}
