//! Random draws split over threads (`Mode::Jit`): the elementwise draws (uniform, normal,
//! binomial, integers, choice with replacement) write their result in chunks on the
//! boundaries of Philox blocks, one chunk per thread, through the same generation routine
//! as the reference kernel (`tensorlift_ir::kernels::random`). Each element is a pure
//! function of the state and its index, so the bits are those of the interpreter whatever
//! the number of threads (and the AVX2 code, where the CPU has it, gives the bits of the
//! baseline code).

use std::mem::MaybeUninit;
use tensorlift_ir::kernels::random::{draw, Exec, Fill, Slot, CHUNK_UNIT};
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{Op, Tensor, TensorElement, TensorType, ValueError};

/// Buffers filled by [`crate::threads::in_parts`].
struct Threads;

impl Exec for Threads {
    fn make<T, F: Fill<T>>(&self, shape: &[usize], f: &F) -> Result<Vec<T>, ValueError>
    where
        T: TensorElement + Slot<T>,
        MaybeUninit<T>: Slot<T>,
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
        Ok(v)
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
