//! Chunked execution of kernels dominated by transcendental math.
//!
//! Cranelift's x86-64 vectors are 128 bits wide, so the inline polynomials of `vmath` run
//! two f64 lanes at a time, about half the speed of the same polynomial compiled by LLVM
//! for AVX-512. For long arrays a kernel whose program calls a transcendental function
//! therefore runs in chunks of [`CHUNK`] elements instead: for each transcendental node, in
//! program order, a JIT kernel computes its argument over the chunk into a buffer (unless
//! the argument is an input already), and the runtime-dispatched Rust routine of
//! [`crate::bulk`] applies the function to the whole buffer; a last JIT kernel computes the
//! result from the inputs and those buffers. Buffers stay in L1/L2; the cheap arithmetic
//! stays fused in native code.
//!
//! The plan is built (its kernels compiled) by the kernel's owner, the public
//! `ElementwiseKernel`: when asked to (`prepare_chunked`, which the runtime's kernel cache
//! calls as it compiles the kernel), or else the first time it runs over at least
//! [`CHUNKED_MIN`] elements; for programs with at least one op that has a bulk routine
//! (others, like `pow`, stay inside the chunk kernels).

use crate::bulk;
use crate::kernel::{compile_native, KernelArg, LongRun, NativeKernel};
use crate::JitError;
use std::cell::RefCell;
use std::collections::HashMap;
use tensorlift_ir::{
    DType, MathFn, ScalarArgs, ScalarNode, ScalarOp, ScalarProgram, ScalarProgramBuilder, ScalarValue,
};

/// Elements per chunk: a few buffers of it fit in the L1 and L2 caches.
pub const CHUNK: usize = 1024;

/// Kernels over fewer elements than this run their inline code.
pub const CHUNKED_MIN: usize = 4 * CHUNK;

/// Rows shorter than this run their inline code, however many rows a run has (each row
/// goes through the plan on its own: on shorter rows the plan's per-row work outweighs
/// what the bulk routines save).
pub const ROW_CHUNKED_MIN: usize = 256;

/// Where the argument of a transcendental step comes from.
#[derive(Debug)]
enum Source {
    /// Input `k` of the program, already in the op's dtype.
    Input(usize),
    /// The result of step `k`.
    Step(usize),
    /// A kernel over the program's inputs and the earlier steps' results.
    Kernel(Box<NativeKernel>),
}

/// One transcendental node: its argument, and the bulk routine applied to it.
#[derive(Debug)]
struct Step {
    source: Source,
    op: MathFn,
    dtype: DType,
}

/// A program split into bulk steps and a final kernel; see the module documentation.
#[derive(Debug)]
pub(crate) struct ChunkPlan {
    steps: Vec<Step>,
    /// The result, from the program's inputs followed by one input per step.
    out: NativeKernel,
    /// The result is the last step's: that step writes the output directly (no final
    /// kernel pass).
    last_is_result: bool,
}

/// A scratch buffer of one chunk.
enum Buf {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

/// Most spare buffers a thread keeps.
const MAX_SPARE: usize = 16;

thread_local! {
    /// The buffers of this thread's finished runs, for its next runs: a run over one short
    /// row (a row of a broadcast, run row by row) allocates nothing.
    static SPARE: RefCell<Vec<Buf>> = const { RefCell::new(Vec::new()) };
}

impl Buf {
    fn new(dtype: DType) -> Buf {
        match dtype {
            DType::F32 => Buf::F32(vec![0.0; CHUNK]),
            _ => Buf::F64(vec![0.0; CHUNK]),
        }
    }

    fn dtype(&self) -> DType {
        match self {
            Buf::F64(_) => DType::F64,
            Buf::F32(_) => DType::F32,
        }
    }

    /// A buffer of `dtype`: a spare one of this thread's, or a new one.
    fn take(dtype: DType) -> Buf {
        let spare = SPARE
            .try_with(|s| {
                let mut s = s.try_borrow_mut().ok()?;
                let k = s.iter().position(|b| b.dtype() == dtype)?;
                Some(s.swap_remove(k))
            })
            .ok()
            .flatten();
        spare.unwrap_or_else(|| Buf::new(dtype))
    }

    /// Keeps `bufs` as this thread's spare buffers (up to [`MAX_SPARE`]).
    fn give_back(bufs: impl IntoIterator<Item = Buf>) {
        // A thread being torn down keeps nothing.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                for b in bufs {
                    if s.len() < MAX_SPARE {
                        s.push(b);
                    }
                }
            }
        });
    }

    fn arg(&self, m: usize) -> KernelArg<'_> {
        match self {
            Buf::F64(v) => KernelArg::F64(&v[..m]),
            Buf::F32(v) => KernelArg::F32(&v[..m]),
        }
    }

    /// Copies elements `0..m` of strided input `index` (`arg`, of the buffer's dtype) into
    /// the buffer's first `m` elements.
    fn gather(&mut self, index: usize, arg: KernelArg<'_>, m: usize) -> Result<(), JitError> {
        match (self, arg) {
            (Buf::F64(v), KernelArg::StridedF64 { data, first, stride }) => {
                gather(index, &mut v[..m], data, first, stride)
            }
            (Buf::F32(v), KernelArg::StridedF32 { data, first, stride }) => {
                gather(index, &mut v[..m], data, first, stride)
            }
            _ => Err(JitError::Compile("chunk plan: argument dtype".into())),
        }
    }
}

/// `out[j] = data[first + j * stride]` for every `j`; an element outside `data` (which the
/// run's checks exclude) is an error, never a read.
fn gather<T: Copy>(
    index: usize,
    out: &mut [T],
    data: &[T],
    first: usize,
    stride: isize,
) -> Result<(), JitError> {
    for (j, o) in out.iter_mut().enumerate() {
        let at = (j as i128).checked_mul(stride as i128).and_then(|d| d.checked_add(first as i128));
        let bounds = || JitError::ArgBounds { index, position: at.unwrap_or(i128::MAX), len: data.len() };
        let at = at.and_then(|p| usize::try_from(p).ok()).ok_or_else(bounds)?;
        *o = *data.get(at).ok_or_else(bounds)?;
    }
    Ok(())
}

/// The sub-program computing value `target` of `p` (converted to `dtype`), with `p`'s
/// inputs followed by one input per value of `materialized` (in that order) standing for
/// those values.
fn sub_program(
    p: &ScalarProgram,
    target: ScalarValue,
    dtype: DType,
    materialized: &[ScalarValue],
) -> Result<ScalarProgram, JitError> {
    let n_in = p.inputs.len();
    let mut b = ScalarProgramBuilder::with_capacity(target.index() + 2);
    let mut map: HashMap<ScalarValue, ScalarValue> = HashMap::new();
    for (v, &d) in p.values().zip(&p.inputs) {
        map.insert(v, b.add_input(d)?);
    }
    for &v in materialized {
        map.insert(v, b.add_input(p.dtype_of(v))?);
    }
    // Values in increasing order are in dependency order (SSA). The nodes up to `target`:
    let upto = (target.index() + 1).saturating_sub(n_in);
    let mut needed = vec![false; p.n_values()];
    needed[target.index()] = true;
    for (k, node) in p.nodes.iter().enumerate().take(upto).rev() {
        let v = p.node_value(k);
        if !needed[v.index()] || map.contains_key(&v) {
            continue;
        }
        if let ScalarNode::Apply { args, .. } = node {
            for a in args {
                needed[a.index()] = true;
            }
        }
    }
    for (k, node) in p.nodes.iter().enumerate().take(upto) {
        let v = p.node_value(k);
        if !needed[v.index()] || map.contains_key(&v) {
            continue;
        }
        let new = match node {
            ScalarNode::Apply { op, args, .. } => {
                let args: ScalarArgs = args.iter().map(|a| map[a]).collect();
                b.apply(*op, &args)?
            }
            ScalarNode::Const { dtype, bits } => b.add_const(*dtype, f64::from_bits(*bits))?,
        };
        map.insert(v, new);
    }
    let mut output = map[&target];
    if p.dtype_of(target) != dtype {
        output = b.apply(ScalarOp::Cast(dtype), &[output])?;
    }
    Ok(b.finish(&[output])?)
}

/// Applies the bulk routine `op` to `x` into elements `c0..c0 + m` of `out`.
///
/// # Safety
/// `out` must be valid for writes of `c0 + m` elements of `x`'s dtype (of `size` bytes),
/// with nothing else accessing elements `c0..c0 + m` during the call.
unsafe fn direct(
    op: MathFn,
    x: KernelArg<'_>,
    out: *mut u8,
    size: usize,
    c0: usize,
    m: usize,
) -> Result<(), JitError> {
    // SAFETY: the caller guarantees the range is valid and exclusive; the element type is
    // the one `x`'s variant names.
    unsafe {
        let at = out.add(c0 * size);
        match x {
            KernelArg::F64(x) => bulk::unary_f64(op, x, std::slice::from_raw_parts_mut(at.cast::<f64>(), m)),
            KernelArg::F32(x) => bulk::unary_f32(op, x, std::slice::from_raw_parts_mut(at.cast::<f32>(), m)),
            KernelArg::ScalarF64(v) => {
                bulk::unary_f64(op, &vec![v; m], std::slice::from_raw_parts_mut(at.cast::<f64>(), m))
            }
            KernelArg::ScalarF32(v) => {
                bulk::unary_f32(op, &vec![v; m], std::slice::from_raw_parts_mut(at.cast::<f32>(), m))
            }
            // Strided inputs are copied into a buffer first.
            KernelArg::StridedF64 { .. } | KernelArg::StridedF32 { .. } => {
                return Err(JitError::Compile("chunk plan: a strided bulk argument".into()))
            }
        }
    }
    Ok(())
}

/// The bulk routine that computes `op` in `dtype` as the reference does, if any: every
/// transcendental function in `float64`; in `float32` those whose reference the bulk
/// routine (`f64` rounded once) stands for ([`crate::math::bulk_f32`]), the others stay
/// inline inside the chunk kernels.
fn bulk_op(op: ScalarOp, dtype: DType) -> Option<MathFn> {
    match dtype {
        DType::F64 => op.math_fn(),
        DType::F32 => op.math_fn().filter(|&f| crate::math::bulk_f32(f)),
        _ => None,
    }
}

impl ChunkPlan {
    /// The plan of `p`, or `None` when chunking does not apply (no transcendental op, or
    /// one without a bulk routine). Errors only if a part fails to compile.
    pub(crate) fn new(p: &ScalarProgram) -> Result<Option<ChunkPlan>, JitError> {
        let n_in = p.inputs.len();
        let mut transcendental = Vec::new();
        for (k, node) in p.nodes.iter().enumerate() {
            if let ScalarNode::Apply { op, args, dtype } = node {
                if let Some(u) = bulk_op(*op, *dtype) {
                    transcendental.push((p.node_value(k), args[0], u, *dtype));
                }
            }
        }
        if transcendental.is_empty() {
            return Ok(None);
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut done: Vec<ScalarValue> = Vec::new();
        for &(v, arg, op, dtype) in &transcendental {
            let source = if arg.index() < n_in && p.inputs[arg.index()] == dtype {
                Source::Input(arg.index())
            } else if let Some(k) = done.iter().position(|&d| d == arg).filter(|&k| steps[k].dtype == dtype) {
                Source::Step(k)
            } else {
                Source::Kernel(Box::new(compile_native(&sub_program(p, arg, dtype, &done)?)?))
            };
            steps.push(Step { source, op, dtype });
            done.push(v);
        }
        let out = compile_native(&sub_program(p, p.output(), p.out_dtype(), &done)?)?;
        let last_is_result =
            done.last() == Some(&p.output()) && steps.last().is_some_and(|s: &Step| s.dtype == p.out_dtype());
        Ok(Some(ChunkPlan { steps, out, last_is_result }))
    }
}

impl LongRun for ChunkPlan {
    /// Computes elements `begin..end` of the result into `out`, chunk by chunk.
    ///
    /// # Safety
    /// As `NativeKernel::run_raw`: the arguments were checked against the
    /// program, `out` is valid for writes of `len` elements of the result's dtype, nothing
    /// else accesses it, and `begin <= end <= len`.
    unsafe fn run(
        &self,
        inputs: &[KernelArg<'_>],
        out: *mut u8,
        len: usize,
        begin: usize,
        end: usize,
    ) -> Result<(), JitError> {
        let mut scratch: Vec<Buf> = self.steps.iter().map(|s| Buf::take(s.dtype)).collect();
        let mut results: Vec<Buf> = self.steps.iter().map(|s| Buf::take(s.dtype)).collect();
        // SAFETY: the caller's guarantees are passed on.
        let done = unsafe { self.run_in(&mut scratch, &mut results, inputs, out, len, begin, end) };
        Buf::give_back(scratch.into_iter().chain(results));
        done
    }
}

impl ChunkPlan {
    /// [`LongRun::run`] with the chunk buffers `scratch` and `results` (one of each per
    /// step, of its dtype).
    ///
    /// # Safety
    /// As [`LongRun::run`].
    #[allow(clippy::too_many_arguments)]
    unsafe fn run_in(
        &self,
        scratch: &mut [Buf],
        results: &mut [Buf],
        inputs: &[KernelArg<'_>],
        out: *mut u8,
        len: usize,
        begin: usize,
        end: usize,
    ) -> Result<(), JitError> {
        let size = self.out.out_dtype().size();
        let mut c0 = begin;
        while c0 < end {
            let c1 = (c0 + CHUNK).min(end);
            let m = c1 - c0;
            for (k, step) in self.steps.iter().enumerate() {
                let (before, rest) = results.split_at_mut(k);
                let mut args: Vec<KernelArg<'_>> = inputs.iter().map(|a| a.slice(c0..c1)).collect();
                args.extend(before.iter().map(|b| b.arg(m)));
                let x: KernelArg<'_> = match &step.source {
                    // A bulk routine reads a slice: a strided input is copied into one.
                    Source::Input(i)
                        if matches!(
                            args[*i],
                            KernelArg::StridedF64 { .. } | KernelArg::StridedF32 { .. }
                        ) =>
                    {
                        scratch[k].gather(*i, args[*i], m)?;
                        scratch[k].arg(m)
                    }
                    Source::Input(i) => args[*i],
                    Source::Step(j) => before[*j].arg(m),
                    Source::Kernel(kernel) => {
                        match &mut scratch[k] {
                            Buf::F64(v) => kernel.run_range(None, &args, &mut v[..m], 0..m)?,
                            Buf::F32(v) => kernel.run_range(None, &args, &mut v[..m], 0..m)?,
                        }
                        scratch[k].arg(m)
                    }
                };
                if self.last_is_result && k + 1 == self.steps.len() {
                    // SAFETY: as for the final kernel below: elements `c0..c1` of `out` are
                    // valid for writes of the result's dtype (the step's, checked when the
                    // plan was built) and accessed by nothing else during the call.
                    unsafe { direct(step.op, x, out, size, c0, m)? };
                    continue;
                }
                match (x, &mut rest[0]) {
                    (KernelArg::F64(x), Buf::F64(r)) => bulk::unary_f64(step.op, x, &mut r[..m]),
                    (KernelArg::F32(x), Buf::F32(r)) => bulk::unary_f32(step.op, x, &mut r[..m]),
                    (KernelArg::ScalarF64(x), Buf::F64(r)) => {
                        bulk::unary_f64(step.op, &vec![x; m], &mut r[..m])
                    }
                    (KernelArg::ScalarF32(x), Buf::F32(r)) => {
                        bulk::unary_f32(step.op, &vec![x; m], &mut r[..m])
                    }
                    _ => return Err(JitError::Compile("chunk plan: argument dtype".into())),
                }
            }
            if self.last_is_result {
                c0 = c1;
                continue;
            }
            let mut args: Vec<KernelArg<'_>> = inputs.iter().map(|a| a.slice(c0..c1)).collect();
            args.extend(results.iter().map(|b| b.arg(m)));
            // SAFETY: elements `c0..c1` of `out` are inside its `len` elements (the caller
            // guarantees `end <= len`), so the `m` elements from `out + c0 * size` are valid
            // for writes and accessed by nothing else.
            unsafe { self.out.run_raw(None, &args, self.out.out_dtype(), out.add(c0 * size), m, 0..m)? };
            c0 = c1;
        }
        debug_assert!(end <= len);
        Ok(())
    }
}
