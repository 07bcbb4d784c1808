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
use std::mem::MaybeUninit;
use tensorlift_ir::{
    DType, MathFn, ScalarArgs, ScalarNode, ScalarOp, ScalarProgram, ScalarProgramBuilder, ScalarValue,
};

/// Elements per chunk: a few buffers of it fit in the L1 and L2 caches.
pub const CHUNK: usize = 1024;

/// Kernels over fewer elements than this run their inline code.
pub const CHUNKED_MIN: usize = 128;

/// Rows at least this long go through the plan each on its own, chunk by chunk; shorter
/// rows (a bias broadcast along the leading axes) go in blocks of whole rows, each block a
/// chunk.
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

    /// Copies input `index` of `block` (of the buffer's dtype) into the buffer's first `m`
    /// elements, row by row.
    fn gather_rows(&mut self, index: usize, block: &Block<'_, '_>, m: usize) -> Result<(), JitError> {
        let row_stride = block.row_stride(index) as i128;
        let first_of = |first: usize, r: usize| -> Result<usize, JitError> {
            let at = first as i128 + r as i128 * row_stride;
            usize::try_from(at).map_err(|_| JitError::ArgBounds { index, position: at, len: 0 })
        };
        let len = block.len;
        for r in 0..block.rows {
            let row = match block.args[index] {
                KernelArg::StridedF64 { data, first, stride } => {
                    KernelArg::StridedF64 { data, first: first_of(first, r)?, stride }
                }
                KernelArg::StridedF32 { data, first, stride } => {
                    KernelArg::StridedF32 { data, first: first_of(first, r)?, stride }
                }
                KernelArg::F64(data) => KernelArg::StridedF64 { data, first: first_of(0, r)?, stride: 1 },
                KernelArg::F32(data) => KernelArg::StridedF32 { data, first: first_of(0, r)?, stride: 1 },
                _ => return Err(JitError::Compile("chunk plan: a scalar gathered".into())),
            };
            match (&mut *self, row) {
                (Buf::F64(v), KernelArg::StridedF64 { data, first, stride }) => {
                    gather(index, &mut v[r * len..(r + 1) * len], data, first, stride)?
                }
                (Buf::F32(v), KernelArg::StridedF32 { data, first, stride }) => {
                    gather(index, &mut v[r * len..(r + 1) * len], data, first, stride)?
                }
                _ => return Err(JitError::Compile("chunk plan: argument dtype".into())),
            }
        }
        debug_assert_eq!(block.rows * len, m);
        Ok(())
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
        debug_assert!(begin <= end && end <= len);
        self.with_buffers(|scratch, results| {
            let mut c0 = begin;
            while c0 < end {
                let c1 = (c0 + CHUNK).min(end);
                let args: Vec<KernelArg<'_>> = inputs.iter().map(|a| a.slice(c0..c1)).collect();
                let block = Block { args, row_strides: None, rows: 1, len: c1 - c0 };
                // SAFETY: elements `c0..c1` of `out` are inside its `len` elements (the
                // caller guarantees `end <= len`), valid for writes and accessed by nothing
                // else; the arguments are the checked ones, sliced to the chunk.
                unsafe { self.run_block(scratch, results, &block, out, c0)? };
                c0 = c1;
            }
            Ok(())
        })
    }

    /// Long rows go chunk by chunk each on its own; short rows (a bias broadcast along the
    /// leading axes) go in blocks of whole rows, a block being a chunk.
    ///
    /// # Safety
    /// As [`LongRun::run_rows`].
    unsafe fn run_rows(
        &self,
        inputs: &[KernelArg<'_>],
        row_strides: &[isize],
        rows: usize,
        len: usize,
        out: *mut u8,
    ) -> Result<(), JitError> {
        let row_bytes = len * self.out.out_dtype().size();
        if len >= ROW_CHUNKED_MIN {
            for r in 0..rows {
                let args: Vec<KernelArg<'_>> =
                    inputs.iter().zip(row_strides).map(|(a, &row_stride)| a.row(r, row_stride)).collect();
                // SAFETY: row `r` of `out` is its `len` elements from element `r * len`, of
                // the `rows * len` the caller guarantees; each row argument reads elements
                // the caller checked.
                unsafe { self.run(&args, out.wrapping_add(r * row_bytes), len, 0, len)? };
            }
            return Ok(());
        }
        let per = (CHUNK / len.max(1)).max(1);
        self.with_buffers(|scratch, results| {
            let mut r0 = 0;
            while r0 < rows {
                let b = per.min(rows - r0);
                let args: Vec<KernelArg<'_>> =
                    inputs.iter().zip(row_strides).map(|(a, &row_stride)| a.row(r0, row_stride)).collect();
                let block = Block { args, row_strides: Some(row_strides), rows: b, len };
                // SAFETY: rows `r0..r0 + b` of `out` are elements `r0 * len..(r0 + b) * len`
                // of the `rows * len` the caller guarantees valid and exclusive; the block's
                // arguments read the rows the caller checked.
                unsafe { self.run_block(scratch, results, &block, out, r0 * len)? };
                r0 += b;
            }
            Ok(())
        })
    }
}

/// One chunk of a run: `rows` rows of `len` elements (at most [`CHUNK`] in all); row `r` of
/// input `k` starts `r * row_strides[k]` elements after `args[k]`'s first (one row: no
/// strides needed).
struct Block<'a, 's> {
    args: Vec<KernelArg<'a>>,
    row_strides: Option<&'s [isize]>,
    rows: usize,
    len: usize,
}

impl<'a> Block<'a, '_> {
    /// Elements in the block.
    fn size(&self) -> usize {
        self.rows * self.len
    }

    /// Input `k`'s step from one row to the next.
    fn row_stride(&self, k: usize) -> isize {
        self.row_strides.map_or(0, |s| s[k])
    }

    /// Input `i` as one contiguous slice of the block's elements, if it is one (a scalar
    /// stays itself).
    fn contiguous(&self, i: usize) -> Option<KernelArg<'a>> {
        let m = self.size();
        let whole = self.rows == 1 || self.row_stride(i) == self.len as isize;
        match self.args[i] {
            KernelArg::F64(d) => Some(KernelArg::F64(d.get(..m)?)),
            KernelArg::F32(d) => Some(KernelArg::F32(d.get(..m)?)),
            KernelArg::StridedF64 { data, first, stride: 1 } if whole => {
                Some(KernelArg::F64(data.get(first..first.checked_add(m)?)?))
            }
            KernelArg::StridedF32 { data, first, stride: 1 } if whole => {
                Some(KernelArg::F32(data.get(first..first.checked_add(m)?)?))
            }
            a @ (KernelArg::ScalarF64(_) | KernelArg::ScalarF32(_)) => Some(a),
            _ => None,
        }
    }
}

impl ChunkPlan {
    /// Runs `f` with this thread's chunk buffers: one scratch and one result buffer per
    /// step, of its dtype (given back after).
    fn with_buffers(
        &self,
        f: impl FnOnce(&mut [Buf], &mut [Buf]) -> Result<(), JitError>,
    ) -> Result<(), JitError> {
        let mut scratch: Vec<Buf> = self.steps.iter().map(|s| Buf::take(s.dtype)).collect();
        let mut results: Vec<Buf> = self.steps.iter().map(|s| Buf::take(s.dtype)).collect();
        let done = f(&mut scratch, &mut results);
        Buf::give_back(scratch.into_iter().chain(results));
        done
    }

    /// Computes one block into elements `at..at + block.size()` of `out`, with the chunk
    /// buffers `scratch` and `results` (one of each per step, of its dtype).
    ///
    /// # Safety
    /// Those elements of `out` are valid for writes of the result's dtype and accessed by
    /// nothing else; the block's arguments read only elements checked to be inside their data.
    unsafe fn run_block(
        &self,
        scratch: &mut [Buf],
        results: &mut [Buf],
        block: &Block<'_, '_>,
        out: *mut u8,
        at: usize,
    ) -> Result<(), JitError> {
        let size = self.out.out_dtype().size();
        let m = block.size();
        let n_in = block.args.len();
        let len =
            isize::try_from(block.len).map_err(|_| JitError::Compile("chunk plan: row length".into()))?;
        // Every kernel of the plan reads the inputs, then the finished steps' buffers (one
        // contiguous block each: a row of them is `len` further on).
        let mut row_strides: Vec<isize> = (0..n_in).map(|k| block.row_stride(k)).collect();
        row_strides.extend(self.steps.iter().map(|_| len));
        for (k, step) in self.steps.iter().enumerate() {
            let (before, rest) = results.split_at_mut(k);
            let mut args = block.args.clone();
            args.extend(before.iter().map(|b| b.arg(m)));
            let x: KernelArg<'_> = match &step.source {
                Source::Input(i) => match block.contiguous(*i) {
                    Some(a) => a,
                    // A bulk routine reads a slice: a strided input is copied into one.
                    None => {
                        scratch[k].gather_rows(*i, block, m)?;
                        scratch[k].arg(m)
                    }
                },
                Source::Step(j) => before[*j].arg(m),
                Source::Kernel(kernel) => {
                    let strides = &row_strides[..args.len()];
                    match &mut scratch[k] {
                        Buf::F64(v) => {
                            kernel.run_rows(None, &args, strides, block.rows, uninit(&mut v[..m]))?
                        }
                        Buf::F32(v) => {
                            kernel.run_rows(None, &args, strides, block.rows, uninit(&mut v[..m]))?
                        }
                    }
                    scratch[k].arg(m)
                }
            };
            if self.last_is_result && k + 1 == self.steps.len() {
                // SAFETY: elements `at..at + m` of `out` are valid for writes of the result's
                // dtype (the step's, checked when the plan was built) and accessed by nothing
                // else during the call (the caller's guarantee).
                return unsafe { direct(step.op, x, out, size, at, m) };
            }
            match (x, &mut rest[0]) {
                (KernelArg::F64(x), Buf::F64(r)) => bulk::unary_f64(step.op, x, &mut r[..m]),
                (KernelArg::F32(x), Buf::F32(r)) => bulk::unary_f32(step.op, x, &mut r[..m]),
                (KernelArg::ScalarF64(x), Buf::F64(r)) => bulk::unary_f64(step.op, &vec![x; m], &mut r[..m]),
                (KernelArg::ScalarF32(x), Buf::F32(r)) => bulk::unary_f32(step.op, &vec![x; m], &mut r[..m]),
                _ => return Err(JitError::Compile("chunk plan: argument dtype".into())),
            }
        }
        let mut args = block.args.clone();
        args.extend(results.iter().map(|b| b.arg(m)));
        let at = out.wrapping_add(at * size);
        // SAFETY: the `m` elements from `at` are the block's part of `out`, valid for writes
        // of the result's dtype (the final kernel's) and accessed by nothing else.
        unsafe {
            match self.out.out_dtype() {
                DType::F64 => {
                    let o = std::slice::from_raw_parts_mut(at.cast::<MaybeUninit<f64>>(), m);
                    self.out.run_rows(None, &args, &row_strides, block.rows, o)
                }
                DType::F32 => {
                    let o = std::slice::from_raw_parts_mut(at.cast::<MaybeUninit<f32>>(), m);
                    self.out.run_rows(None, &args, &row_strides, block.rows, o)
                }
                _ => Err(JitError::Compile("chunk plan: result dtype".into())),
            }
        }
    }
}

/// A buffer seen as one to be written (the kernels only write it).
fn uninit<T>(v: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and every `T` (`f32`, `f64`) is a valid
    // `MaybeUninit<T>`; writes through the result leave valid values.
    unsafe { &mut *(v as *mut [T] as *mut [MaybeUninit<T>]) }
}
