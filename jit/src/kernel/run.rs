//! The checked run API: the one way into compiled code. Every run checks the number,
//! dtypes, lengths and bounds of its arguments (`super::args`) before the `unsafe` call of
//! the native function, and each `unsafe` block states why the call is sound.
//!
//! A run may go another way instead of the native loop: the kernel's owner decides, and
//! passes a [`LongRun`] (the public `ElementwiseKernel` passes its chunk plan for long runs
//! of transcendental programs).

use super::args::{outside, with_raw_args, KernelArg, KernelOut};
use super::compile::NativeKernel;
use crate::JitError;
use std::mem::MaybeUninit;
use std::ops::Range;
use tensorlift_ir::{DType, Element};

/// Another way to compute a run of a kernel (its chunk plan), which the kernel's owner
/// passes for the runs it wants computed that way; the native loop runs the others.
pub(crate) trait LongRun {
    /// Computes elements `begin..end` of the result into `out`.
    ///
    /// # Safety
    /// The arguments passed the kernel's checks, `out` is valid for writes of `len`
    /// elements of the result's dtype, nothing else accesses it, and
    /// `begin <= end <= len`.
    unsafe fn run(
        &self,
        inputs: &[KernelArg<'_>],
        out: *mut u8,
        len: usize,
        begin: usize,
        end: usize,
    ) -> Result<(), JitError>;

    /// Computes `rows` rows of `len` elements each into `out`: row `r` of input `k` starts
    /// `r * row_strides[k]` elements after the input's first element (a scalar is the same
    /// for every row).
    ///
    /// # Safety
    /// The arguments passed the kernel's checks for every row (as `NativeKernel::run_rows`
    /// makes them), `out` is valid for writes of `rows * len` elements of the result's
    /// dtype, and nothing else accesses it.
    unsafe fn run_rows(
        &self,
        inputs: &[KernelArg<'_>],
        row_strides: &[isize],
        rows: usize,
        len: usize,
        out: *mut u8,
    ) -> Result<(), JitError>;
}

impl NativeKernel {
    /// [`ElementwiseKernel::eval_f64`](crate::ElementwiseKernel::eval_f64).
    #[inline]
    pub(crate) fn eval_f64(&self, args: &[f64]) -> Option<f64> {
        const MAX: usize = 16;
        let n = args.len();
        if self.output != DType::F64
            || self.outputs.len() != 1
            || n != self.inputs.len()
            || n > MAX
            || self.inputs.iter().any(|&d| d != DType::F64)
        {
            return None;
        }
        let mut ptrs = [std::ptr::null::<u8>(); MAX];
        for (p, a) in ptrs.iter_mut().zip(args) {
            *p = (a as *const f64).cast();
        }
        let strides = [0isize; MAX];
        let mut r = 0f64;
        let outs = [(&mut r as *mut f64).cast::<u8>()];
        // SAFETY: every input is float64 and the one output float64 (checked), as the
        // function was compiled for; each input is a scalar (stride 0) at its element of
        // `args`, borrowed for the call; the function computes element 0 only (`0..1`) and
        // writes it to `r`, which nothing else accesses. The code stays mapped while `self`
        // lives, and it calls only Rust functions that cannot unwind.
        unsafe { (self.func)(ptrs.as_ptr(), strides.as_ptr(), outs.as_ptr(), 0, 1) };
        Some(r)
    }

    /// [`ElementwiseKernel::run_range`](crate::ElementwiseKernel::run_range), through `long` if given.
    #[inline]
    pub(crate) fn run_range<T: Element>(
        &self,
        long: Option<&dyn LongRun>,
        inputs: &[KernelArg<'_>],
        out: &mut [T],
        range: Range<usize>,
    ) -> Result<(), JitError> {
        // SAFETY: `out` is a valid, exclusively borrowed buffer of `out.len()` elements of `T`.
        unsafe { self.run_raw(long, inputs, T::DTYPE, out.as_mut_ptr().cast(), out.len(), range) }
    }

    /// [`ElementwiseKernel::run_uninit`](crate::ElementwiseKernel::run_uninit), through `long` if given.
    #[inline]
    pub(crate) fn run_uninit<T: Element>(
        &self,
        long: Option<&dyn LongRun>,
        inputs: &[KernelArg<'_>],
        out: &mut [MaybeUninit<T>],
    ) -> Result<(), JitError> {
        let len = out.len();
        // SAFETY: `out` is a valid, exclusively borrowed buffer of `len` elements of `T`
        // (`MaybeUninit<T>` has `T`'s layout); the kernel only writes to it.
        unsafe { self.run_raw(long, inputs, T::DTYPE, out.as_mut_ptr().cast(), len, 0..len) }
    }

    /// [`ElementwiseKernel::run_outputs_uninit`](crate::ElementwiseKernel::run_outputs_uninit).
    #[inline]
    pub(crate) fn run_outputs_uninit(
        &self,
        inputs: &[KernelArg<'_>],
        outs: &mut [KernelOut<'_>],
    ) -> Result<(), JitError> {
        let dtypes = self.output_dtypes();
        if outs.len() != dtypes.len() {
            return Err(JitError::OutCount { expected: dtypes.len(), got: outs.len() });
        }
        let len = outs.first().map_or(0, KernelOut::len);
        for (out, &want) in outs.iter().zip(dtypes) {
            if out.dtype() != want {
                return Err(JitError::OutDType { expected: want, got: out.dtype() });
            }
            if out.len() != len {
                return Err(JitError::Range { begin: 0, end: len, len: out.len() });
            }
        }
        self.check_inputs(inputs, len, 0..len)?;
        let ptrs: Vec<*mut u8> = outs.iter_mut().map(KernelOut::as_mut_ptr).collect();
        with_raw_args(inputs, |args, strides| {
            // SAFETY: as in `run_checked`: the inputs were checked against the kernel and the
            // range; `ptrs` holds one pointer per program output, each an exclusively
            // borrowed buffer of `len` elements of its dtype (checked), which the function
            // only writes, at `0..len`.
            unsafe { (self.func)(args.as_ptr(), strides.as_ptr(), ptrs.as_ptr(), 0, len) };
        });
        Ok(())
    }

    /// [`ElementwiseKernel::run_rows`](crate::ElementwiseKernel::run_rows), through `long` if given.
    #[inline]
    pub(crate) fn run_rows<T: Element>(
        &self,
        long: Option<&dyn LongRun>,
        inputs: &[KernelArg<'_>],
        row_strides: &[isize],
        rows: usize,
        out: &mut [MaybeUninit<T>],
    ) -> Result<(), JitError> {
        let n = out.len();
        if rows == 0 || !n.is_multiple_of(rows) {
            return Err(JitError::Rows { rows, len: n });
        }
        let len = n / rows;
        self.check_args(inputs, T::DTYPE)?;
        if row_strides.len() != inputs.len() {
            return Err(JitError::ArgCount { expected: inputs.len(), got: row_strides.len() });
        }
        for (index, (arg, &row_stride)) in inputs.iter().zip(row_strides).enumerate() {
            let (data_len, first, stride) = arg.extent();
            if let Some(position) = outside(data_len, first, stride, row_stride, rows, 0..len) {
                return Err(JitError::ArgBounds { index, position, len: data_len });
            }
        }
        if len == 0 {
            return Ok(());
        }
        let out = out.as_mut_ptr().cast::<u8>();
        let row_bytes = len * self.output.size();
        if let Some(long) = long {
            // SAFETY: every row's arguments were checked above; `out` holds `rows * len`
            // elements of the result's dtype (`rows * len == n`), exclusively borrowed.
            return unsafe { long.run_rows(inputs, row_strides, rows, len, out) };
        }
        with_raw_args(inputs, |ptrs, strides| {
            for r in 0..rows {
                // SAFETY: as in `run_checked`: dtypes, count and element sizes were checked.
                // For row `r`, `ptrs[k]` is input `k`'s element `first + r * row_strides[k]`
                // (a scalar's own value, its row stride 0 or `r == 0`), and the function
                // reads its elements `first + r * row_strides[k] + i * stride` for `i` in
                // `0..len`: a position linear in `r` and `i`, so between the four corners
                // checked inside the data above. It writes elements `r * len..(r + 1) * len`
                // of `out`, which holds `rows * len` elements, exclusively borrowed.
                let outs = [out.wrapping_add(r * row_bytes)];
                unsafe { (self.func)(ptrs.as_ptr(), strides.as_ptr(), outs.as_ptr(), 0, len) };
                for ((p, arg), &row_stride) in ptrs.iter_mut().zip(inputs).zip(row_strides) {
                    *p = p.wrapping_offset(row_stride.wrapping_mul(arg.dtype().size() as isize));
                }
            }
        });
        Ok(())
    }

    /// Checks the output's dtype (a single-output kernel's) and the number and dtypes of
    /// the inputs.
    #[inline]
    fn check_args(&self, inputs: &[KernelArg<'_>], dtype: DType) -> Result<(), JitError> {
        if dtype != self.output {
            return Err(JitError::OutDType { expected: self.output, got: dtype });
        }
        if self.outputs.len() != 1 {
            return Err(JitError::OutCount { expected: self.outputs.len(), got: 1 });
        }
        self.check_input_dtypes(inputs)
    }

    /// Checks the number and dtypes of the inputs.
    #[inline]
    fn check_input_dtypes(&self, inputs: &[KernelArg<'_>]) -> Result<(), JitError> {
        if inputs.len() != self.inputs.len() {
            return Err(JitError::ArgCount { expected: self.inputs.len(), got: inputs.len() });
        }
        for (index, (arg, &want)) in inputs.iter().zip(&self.inputs).enumerate() {
            if arg.dtype() != want {
                return Err(JitError::ArgDType { index, expected: want, got: arg.dtype() });
            }
        }
        Ok(())
    }

    /// Checks the inputs for a run over `range` of outputs of `len` elements: their number
    /// and dtypes, every slice as long as the outputs, every strided input inside its data
    /// over the range, and the range itself.
    #[inline]
    fn check_inputs(
        &self,
        inputs: &[KernelArg<'_>],
        len: usize,
        range: Range<usize>,
    ) -> Result<(), JitError> {
        self.check_input_dtypes(inputs)?;
        for (index, arg) in inputs.iter().enumerate() {
            if let Some(got) = arg.len() {
                if got != len {
                    return Err(JitError::ArgLength { index, expected: len, got });
                }
            }
        }
        let (begin, end) = (range.start, range.end);
        if begin > end || end > len {
            return Err(JitError::Range { begin, end, len });
        }
        for (index, arg) in inputs.iter().enumerate() {
            if let Some((data_len, first, stride)) = arg.strided() {
                if let Some(position) = outside(data_len, first, stride, 0, 1, begin..end) {
                    return Err(JitError::ArgBounds { index, position, len: data_len });
                }
            }
        }
        Ok(())
    }

    /// Checks everything, then runs the native function over `range` of the output.
    ///
    /// # Safety
    /// `out` must be valid for writes of `len` elements of `dtype`, and nothing else may
    /// access it during the call.
    #[inline]
    pub(crate) unsafe fn run_raw(
        &self,
        long: Option<&dyn LongRun>,
        inputs: &[KernelArg<'_>],
        dtype: DType,
        out: *mut u8,
        len: usize,
        range: Range<usize>,
    ) -> Result<(), JitError> {
        self.check_args(inputs, dtype)?;
        self.check_inputs(inputs, len, range.clone())?;
        // SAFETY: checked above; the caller's guarantees on `out` are passed on.
        unsafe { self.run_checked(long, inputs, out, len, range) }
    }

    /// Runs the native function over `range` of the output, or `long` if given.
    ///
    /// # Safety
    /// As [`run_raw`](Self::run_raw), and the arguments passed its checks.
    #[inline]
    unsafe fn run_checked(
        &self,
        long: Option<&dyn LongRun>,
        inputs: &[KernelArg<'_>],
        out: *mut u8,
        len: usize,
        range: Range<usize>,
    ) -> Result<(), JitError> {
        let (begin, end) = (range.start, range.end);
        if let Some(long) = long {
            // SAFETY: the arguments were checked, and the caller's guarantees on `out`,
            // `len` and the range are passed on.
            return unsafe { long.run(inputs, out, len, begin, end) };
        }
        let outs = [out];
        with_raw_args(inputs, |ptrs, strides| {
            // SAFETY: the function was compiled from a program whose input dtypes are
            // `self.inputs` and whose one output's dtype is `self.output`, and the caller
            // checked that each argument and the output have those dtypes (so element sizes
            // match). It reads element `i` of each slice input, for `i` in `begin..end` with
            // `end <= len == slice.len()`; element `first + i * stride` of each strided
            // input's data, inside it for every such `i` (checked); and element 0 of each
            // scalar, which lives in `inputs` (borrowed for the call); `ptrs`/`strides` hold
            // one entry per input, each pointer at its input's element 0 with the stride of
            // `raw`. It writes element `i` of `out` (`outs[0]`) for `i` in `begin..end` only,
            // and the caller guarantees `out` holds `len` elements that nothing else
            // accesses. The code stays mapped while `self` lives, and it calls only Rust
            // functions that cannot unwind.
            unsafe { (self.func)(ptrs.as_ptr(), strides.as_ptr(), outs.as_ptr(), begin, end) };
        });
        Ok(())
    }
}
