//! The general path of native elementwise kernels (`Mode::Jit`): inputs of any layout —
//! transposed, stepped or reversed views (any signed strides), broadcasting along any mix
//! of axes — read in place, without copies.
//!
//! The result's axes are coalesced first: axes of length 1 are dropped (they move no
//! address), and neighbouring axes merge when every input steps through them as through
//! one axis (the output, C-contiguous, always does). The last coalesced axis is the
//! kernel's loop, with each input's stride along it (0 for a broadcast axis): the vector
//! loop when every stride is 0 or 1, the scalar strided loop otherwise (see
//! `tensorlift_jit::kernel`). The rows along the last outer axis go to the kernel in one
//! `run_rows` call (checked once, one native call per row), each input moving by its own
//! signed stride along that axis; the axes further out are indexed from the row number.
//! Large results are split into ranges of elements over the threads; a range that starts
//! or ends inside a row computes that piece of the row on its own.

use crate::layout::Fill;
use crate::threads::in_parts;
use ndarray::{ArcArray, IxDyn};
use std::mem::MaybeUninit;
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::value::extent;
use tensorlift_ir::{DType, Tensor};
use tensorlift_jit::{ElementwiseKernel, KernelArg};

/// The memory of one float input.
#[derive(Clone, Copy)]
enum Data<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

impl<'a> Data<'a> {
    /// The kernel argument reading `data[first + i * stride]` at element `i`.
    fn arg(self, first: usize, stride: isize) -> KernelArg<'a> {
        match self {
            Data::F64(data) => KernelArg::StridedF64 { data, first, stride },
            Data::F32(data) => KernelArg::StridedF32 { data, first, stride },
        }
    }
}

/// One input as the walk reads it.
struct Operand<'a> {
    data: Data<'a>,
    /// Where the element at index 0 on every axis is in `data`.
    origin: usize,
    /// Elements from one index to the next along each coalesced axis (0: broadcast).
    strides: Vec<isize>,
}

/// A kernel run over inputs of any layout: the result's coalesced axes and each input's
/// steps along them. It computes the result in C order ([`Fill`]).
pub(crate) struct Walk<'k, 'a> {
    kernel: &'k ElementwiseKernel,
    /// Lengths of the coalesced axes, outermost first (at least one); the last is the
    /// kernel's loop.
    dims: Vec<usize>,
    inputs: Vec<Operand<'a>>,
}

impl<'k, 'a> Walk<'k, 'a> {
    /// The walk of `kernel` over `inputs` into a result of `shape`; `None` when an input is
    /// not a float tensor or does not broadcast to `shape`.
    pub(crate) fn new(
        kernel: &'k ElementwiseKernel,
        inputs: &[KernelInput<'a>],
        shape: &[usize],
    ) -> Option<Walk<'k, 'a>> {
        let nd = shape.len();
        // Axes of length 1 move no address.
        let axes: Vec<usize> = (0..nd).filter(|&a| shape[a] != 1).collect();
        let mut operands = Vec::with_capacity(inputs.len());
        for input in inputs {
            let t = input.value;
            let (data, origin, t_strides) = span(t)?;
            // An input of lower rank is aligned to the result's trailing axes.
            let pad = nd.checked_sub(t.ndim())?;
            let strides = axes
                .iter()
                .map(|&a| {
                    let Some(axis) = a.checked_sub(pad) else { return Some(0) };
                    match t.shape()[axis] {
                        n if n == shape[a] => Some(t_strides[axis]),
                        1 => Some(0),
                        _ => None,
                    }
                })
                .collect::<Option<Vec<isize>>>()?;
            operands.push(Operand { data, origin, strides });
        }
        // Merge axis `j` into the axis before it when every input's outer step is its step
        // times its length: the two are then one axis of their product's length.
        let mut dims: Vec<usize> = Vec::with_capacity(axes.len().max(1));
        let mut steps: Vec<Vec<isize>> = vec![Vec::with_capacity(dims.capacity()); operands.len()];
        for (j, &a) in axes.iter().enumerate() {
            let n = shape[a];
            let merge = !dims.is_empty()
                && operands.iter().zip(&steps).all(|(o, s)| {
                    isize::try_from(n).ok().and_then(|n| o.strides[j].checked_mul(n)) == s.last().copied()
                });
            if merge {
                *dims.last_mut().expect("not empty") *= n;
            } else {
                dims.push(n);
            }
            for (o, s) in operands.iter().zip(&mut steps) {
                if merge {
                    *s.last_mut().expect("one step per axis") = o.strides[j];
                } else {
                    s.push(o.strides[j]);
                }
            }
        }
        if dims.is_empty() {
            // A single element.
            dims.push(1);
            steps.iter_mut().for_each(|s| s.push(0));
        }
        for (o, s) in operands.iter_mut().zip(steps) {
            o.strides = s;
        }
        Some(Walk { kernel, dims, inputs: operands })
    }

    /// Computes elements `start..start + part.len()` of the result (C order) into `part`:
    /// a piece of a row where the part starts or ends inside one, and whole rows between.
    fn run_part<T: tensorlift_ir::Element>(&self, start: usize, part: &mut [MaybeUninit<T>]) -> Option<()> {
        let m = self.dims.len() - 1;
        let inner = self.dims[m];
        let end = start + part.len();
        let mut pos = start;
        let mut offsets = Vec::with_capacity(self.inputs.len());
        let mut args: Vec<KernelArg<'a>> = self.inputs.iter().map(|o| o.data.arg(0, 0)).collect();
        while pos < end {
            let (row, col) = (pos / inner, pos % inner);
            let out = &mut part[pos - start..];
            if col != 0 || end - pos < inner {
                // A piece of one row.
                let count = (inner - col).min(end - pos);
                self.args_at(row, col, &mut offsets, &mut args)?;
                self.kernel.run_uninit(&args, &mut out[..count]).ok()?;
                pos += count;
            } else {
                let rows = (end - pos) / inner;
                self.whole_rows(row, rows, &mut out[..rows * inner], &mut offsets, &mut args)?;
                pos += rows * inner;
            }
        }
        Some(())
    }

    /// Computes the `count` whole rows from row `first` into `out`, in runs of rows along
    /// axis `m - 1` (one `run_rows` call per run).
    fn whole_rows<T: tensorlift_ir::Element>(
        &self,
        first: usize,
        count: usize,
        out: &mut [MaybeUninit<T>],
        offsets: &mut Vec<isize>,
        args: &mut [KernelArg<'a>],
    ) -> Option<()> {
        let m = self.dims.len() - 1;
        let inner = self.dims[m];
        let row_strides: Vec<isize> =
            self.inputs.iter().map(|o| if m == 0 { 0 } else { o.strides[m - 1] }).collect();
        let mut row = first;
        while row < first + count {
            let along = if m == 0 { 1 } else { self.dims[m - 1] - row % self.dims[m - 1] };
            let rows = along.min(first + count - row);
            self.args_at(row, 0, offsets, args)?;
            let at = (row - first) * inner;
            self.kernel.run_rows(args, &row_strides, rows, &mut out[at..at + rows * inner]).ok()?;
            row += rows;
        }
        Some(())
    }

    /// Sets `args` to each input's elements from column `col` of row `row`.
    fn args_at(
        &self,
        row: usize,
        col: usize,
        offsets: &mut Vec<isize>,
        args: &mut [KernelArg<'a>],
    ) -> Option<()> {
        self.offsets(row, offsets)?;
        let m = self.dims.len() - 1;
        for ((arg, o), &off) in args.iter_mut().zip(&self.inputs).zip(offsets.iter()) {
            let stride = o.strides[m];
            *arg = o.data.arg(usize::try_from(off + col as isize * stride).ok()?, stride);
        }
        Some(())
    }

    /// Each input's offset of the first element of row `row` (rows: the indices over the
    /// outer axes, in C order), into `offsets`.
    fn offsets(&self, row: usize, offsets: &mut Vec<isize>) -> Option<()> {
        offsets.clear();
        for o in &self.inputs {
            offsets.push(isize::try_from(o.origin).ok()?);
        }
        let mut rest = row;
        for (axis, &n) in self.dims[..self.dims.len() - 1].iter().enumerate().rev() {
            let index = (rest % n) as isize;
            rest /= n;
            for (off, o) in offsets.iter_mut().zip(&self.inputs) {
                *off += index * o.strides[axis];
            }
        }
        Some(())
    }
}

impl Fill for Walk<'_, '_> {
    fn fill<T: tensorlift_ir::Element + Send>(&self, buf: &mut [MaybeUninit<T>]) -> Option<()> {
        debug_assert_eq!(buf.len(), self.dims.iter().product::<usize>());
        in_parts(buf, 1, |start, part| self.run_part(start, part))
    }
}

/// A float tensor's memory: the slice from its lowest to its highest element, where its
/// element at index 0 on every axis is in it (an empty slice for an empty tensor), and its
/// strides in elements. `None` for other dtypes, and for borrowed data whose elements do not
/// fill their span (the memory between them is someone else's: copied first by the caller).
fn span(t: &Tensor) -> Option<(Data<'_>, usize, &[isize])> {
    match t {
        Tensor::F64(a) => {
            let (data, origin) = span_of(a);
            Some((Data::F64(data), origin, a.strides()))
        }
        Tensor::F32(a) => {
            let (data, origin) = span_of(a);
            Some((Data::F32(data), origin, a.strides()))
        }
        Tensor::Borrowed(b) => {
            let data = match b.dtype() {
                DType::F64 => Data::F64(b.view::<f64>()?.to_slice_memory_order()?),
                DType::F32 => Data::F32(b.view::<f32>()?.to_slice_memory_order()?),
                _ => return None,
            };
            // Dense in some order (a transpose, a Fortran-order array): the slice is the
            // elements themselves, the origin where index 0 sits among them.
            let (lo, _) = extent(b.shape(), b.strides());
            Some((data, lo.unsigned_abs(), b.strides()))
        }
        _ => None,
    }
}

/// An array's memory from its lowest to its highest element, and the position of its
/// element at index 0 on every axis in it.
fn span_of<T>(a: &ArcArray<T, IxDyn>) -> (&[T], usize) {
    if a.is_empty() {
        return (&[], 0);
    }
    // Offsets (in elements, from element 0) of the lowest and the highest element.
    let (lo, hi) = extent(a.shape(), a.strides());
    let len = (hi - lo) as usize + 1;
    // SAFETY: an `ArcArray` keeps its elements in one reference-counted `Vec`, and ndarray
    // guarantees that every element `as_ptr() + Σ index·stride` lies among that `Vec`'s
    // initialized elements (with every such offset fitting `isize`). The lowest and highest
    // elements are at offsets `lo` and `hi`, so the `len` elements from `lo` lie inside the
    // same `Vec`, all initialized. Nothing writes to them while the slice lives: `a` is
    // borrowed for its lifetime, so no one can write through `a`, and every other owner
    // of the `Vec` copies it before writing (an `ArcArray` writes only as the sole owner).
    let data = unsafe { std::slice::from_raw_parts(a.as_ptr().offset(lo), len) };
    (data, lo.unsigned_abs())
}
