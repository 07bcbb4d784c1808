//! Random draws split over threads (`Mode::Jit`): the elementwise draws (uniform, normal,
//! binomial, integers, choice with replacement) write their result in chunks on the
//! boundaries of Philox blocks, one chunk per thread, through the same generation routine
//! as the reference kernel (`tensorlift_ir::kernels::random`). Each element is a pure
//! function of the state and its index, so the bits are those of the interpreter whatever
//! the number of threads (and the AVX2 code, where the CPU has it, gives the bits of the
//! baseline code).
//!
//! A float draw that only one native elementwise kernel reads is not stored at all
//! ([`fused`]): the consumer's pass generates it chunk by chunk into a small buffer that
//! stays in the L1 cache, and runs the kernel on each chunk — dropout's `x * binomial(…)`
//! reads `x` once and writes its result once. The chunks are the threaded draw's, so the
//! bits are the same.

use crate::layout::{layout, Fill as FillResult, Layout};
use crate::native::write_result;
use ndarray::ArrayD;
use std::cell::RefCell;
use std::mem::MaybeUninit;
use tensorlift_ir::kernels::random::{draw, finish, Exec, Fill, Slot, CHUNK_UNIT};
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::value::Sink;
use tensorlift_ir::{DType, Op, Tensor, TensorElement, TensorType, ValueError};
use tensorlift_jit::{ElementwiseKernel, KernelArg};

/// Buffers filled by [`crate::threads::in_parts`].
struct Threads;

impl Exec for Threads {
    type Out = Tensor;

    fn make<T, F: Fill<T>>(&self, shape: &[usize], f: &F) -> Result<Tensor, ValueError>
    where
        T: TensorElement + Slot<T>,
        MaybeUninit<T>: Slot<T>,
        Tensor: From<ArrayD<T>>,
    {
        let n = tensorlift_ir::value::checked_len("random", shape, T::DTYPE)?;
        let mut v: Vec<T> = crate::alloc::output_buffer("random", shape)?;
        crate::threads::in_parts(&mut v.spare_capacity_mut()[..n], CHUNK_UNIT, |first, chunk| {
            fill_part(f, first, chunk);
            Some(())
        });
        // SAFETY: `in_parts` hands every element of the first `n` slots to exactly one
        // part (its chunks cover the buffer), and `Fill::fill` writes every slot of the
        // chunk it is given; the capacity is at least `n` (`output_buffer`).
        unsafe { v.set_len(n) };
        finish(v, shape)
    }

    fn whole(&self, t: Tensor) -> Result<Tensor, ValueError> {
        Ok(t)
    }
}

/// Fills one part, with AVX2 where the CPU has it (the generator's integer rounds and the
/// conversions vectorize four blocks wide; every operation is exact or the same IEEE
/// operation, so the bits are those of the baseline code).
fn fill_part<T, F: Fill<T>>(f: &F, first: usize, chunk: &mut [MaybeUninit<T>])
where
    MaybeUninit<T>: Slot<T>,
{
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { fill_avx2(f, first, chunk) };
        return;
    }
    f.fill(first, chunk);
}

/// [`Fill::fill`] compiled for AVX2 (the fills are inlined into it).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2<T, F: Fill<T>>(f: &F, first: usize, chunk: &mut [MaybeUninit<T>])
where
    MaybeUninit<T>: Slot<T>,
{
    f.fill(first, chunk);
}

/// The draw `op` on `ins`, its elementwise distributions split over the threads.
pub(crate) fn eval(op: &Op, ins: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    draw(op, ins, out, &Threads)
}

/// Elements of the draw generated at a time in a fused pass (whole Philox blocks of any
/// layout).
const FUSED_CHUNK: usize = 1024;

/// The native elementwise kernel that reads a draw, and its other inputs.
pub(crate) struct Consumer<'a> {
    /// Its kernel.
    pub kernel: &'a ElementwiseKernel,
    /// Its name, for errors.
    pub name: &'a str,
    /// Its inputs but the draw, in order.
    pub others: &'a [KernelInput<'a>],
    /// The draw's position among its inputs.
    pub at: usize,
}

/// A draw run inside its consumer's pass: see the module documentation.
struct Fused<'a, 's, 'b> {
    consumer: &'a Consumer<'a>,
    /// Where the result goes, when the caller offers a buffer.
    sink: RefCell<Option<&'s mut Sink<'b>>>,
}

impl Exec for Fused<'_, '_, '_> {
    /// `None` when the consumer's inputs do not suit a fused pass (the caller computes the
    /// draw and then the consumer).
    type Out = Option<Result<Tensor, ValueError>>;

    fn make<T, F: Fill<T>>(&self, shape: &[usize], f: &F) -> Result<Self::Out, ValueError>
    where
        T: TensorElement + Slot<T>,
        MaybeUninit<T>: Slot<T>,
        Tensor: From<ArrayD<T>>,
    {
        if !matches!(T::DTYPE, DType::F32 | DType::F64) {
            return Ok(None);
        }
        // The consumer's every other input has the draw's shape or is one value: its
        // result has the draw's shape, element `i` reading element `i` of the draw.
        let c = self.consumer;
        let mut args = Vec::with_capacity(c.others.len());
        for i in c.others {
            match layout(i.value, shape) {
                Some(Layout::Full(a)) => args.push(a),
                Some(Layout::Scalar(a)) if i.value.ndim() <= shape.len() => args.push(a),
                _ => return Ok(None),
            }
        }
        let parts =
            DrawParts { kernel: c.kernel, args, at: c.at, draw: f, element: std::marker::PhantomData };
        let mut sink = self.sink.borrow_mut();
        Ok(write_result(c.kernel.out_dtype(), c.name, shape, sink.take(), &parts))
    }

    fn whole(&self, _: Tensor) -> Result<Self::Out, ValueError> {
        Ok(None)
    }
}

/// The fused pass over the result's elements: each thread's part chunk by chunk, the draw's
/// chunk generated first.
struct DrawParts<'a, 'f, T, F> {
    kernel: &'a ElementwiseKernel,
    /// The consumer's other inputs, whole (contiguous) or one value each.
    args: Vec<KernelArg<'a>>,
    at: usize,
    draw: &'f F,
    element: std::marker::PhantomData<T>,
}

impl<T, F> FillResult for DrawParts<'_, '_, T, F>
where
    T: TensorElement + Slot<T> + Send,
    MaybeUninit<T>: Slot<T>,
    F: Fill<T>,
{
    fn fill<R: tensorlift_ir::Element + Send>(&self, buf: &mut [MaybeUninit<R>]) -> Option<()> {
        crate::threads::in_parts(buf, CHUNK_UNIT, |first, part| {
            let mut drawn: Vec<MaybeUninit<T>> = Vec::with_capacity(FUSED_CHUNK.min(part.len()));
            // SAFETY: `MaybeUninit` needs no initialization; the length is the capacity.
            unsafe { drawn.set_len(drawn.capacity()) };
            for (k, out) in part.chunks_mut(FUSED_CHUNK).enumerate() {
                let from = first + k * FUSED_CHUNK;
                let len = out.len();
                fill_part(self.draw, from, &mut drawn[..len]);
                // SAFETY: `fill_part` wrote every one of the first `len` elements.
                let values = unsafe { &*(&drawn[..len] as *const [MaybeUninit<T>] as *const [T]) };
                let mut args: Vec<KernelArg<'_>> =
                    self.args.iter().map(|a| a.slice(from..from + len)).collect();
                args.insert(self.at, float_arg(values)?);
                self.kernel.run_uninit(&args, out).ok()?;
            }
            Some(())
        })
    }
}

/// A float slice as a kernel argument (`None` for other element types).
fn float_arg<T: TensorElement>(values: &[T]) -> Option<KernelArg<'_>> {
    let (ptr, len) = (values.as_ptr(), values.len());
    Some(match T::DTYPE {
        // SAFETY: `T::DTYPE` is `F64` only for `f64` itself: the slice is one of `f64`.
        DType::F64 => KernelArg::F64(unsafe { std::slice::from_raw_parts(ptr.cast::<f64>(), len) }),
        // SAFETY: as above, for `f32`.
        DType::F32 => KernelArg::F32(unsafe { std::slice::from_raw_parts(ptr.cast::<f32>(), len) }),
        _ => return None,
    })
}

/// The consumer's result, its input `at` being the draw `draw_op` on `draw_ins`, in one
/// pass that generates the draw chunk by chunk and never stores it; written into `sink`
/// when it fits. `None` when the inputs do not suit such a pass: every other input must be
/// contiguous with the draw's shape or a single value (the caller then computes the draw,
/// and the consumer).
pub(crate) fn fused(
    consumer: &Consumer<'_>,
    draw_op: &Op,
    draw_ins: &[KernelInput<'_>],
    draw_ty: &TensorType,
    sink: Option<&mut Sink<'_>>,
) -> Option<Result<Tensor, ValueError>> {
    let exec = Fused { consumer, sink: RefCell::new(sink) };
    match draw(draw_op, draw_ins, draw_ty, &exec) {
        Ok(out) => out,
        Err(e) => Some(Err(e)),
    }
}
