//! Fused elementwise kernels: a [`ScalarProgram`] compiled by Cranelift into one native loop,
//! run through a safe API.
//!
//! # The native function
//!
//! Each kernel is one function, in its own `JITModule` (freed when the kernel drops), with
//! the C signature
//!
//! ```text
//! extern "C" fn(inputs: *const *const u8, strides: *const isize, outs: *const *mut u8,
//!               begin: usize, end: usize)
//! ```
//!
//! Element `i` of input `k` is at `inputs[k] + i * strides[k] * size`, where `size` is the
//! byte size of the input's dtype and a stride, in elements, is any signed number: 0 for a
//! broadcast scalar, 1 for a contiguous slice, anything else for a strided view (a column
//! of a matrix, every other element, a reversed slice). Element `i` of output `k` goes to
//! `outs[k] + i * size` (one output per program output: a multi-output program writes all
//! of them). The loop covers `begin..end` (nothing when `begin >= end`). Only
//! [`ElementwiseKernel::run`] and its siblings call it, after checking every count, dtype,
//! length and bound: for a strided input ([`KernelArg::StridedF64`]), that its first and
//! last element of the range (hence every element between) lie inside its slice.
//!
//! # Dtypes
//!
//! Every value of the program must be `float32` or `float64`, except constants: a `bool` or
//! integer constant is converted at compile time to the float dtype it is used in, exactly
//! as the reference kernels convert it. Mixed programs (`float32` and `float64` values,
//! `cast` between them, ops that upcast) are supported. Anything else is
//! [`JitError::Unsupported`], so that the caller can fall back to the interpreter.
//!
//! # Ops
//!
//! Each op computes what `tensorlift_ir::kernels` computes (its inputs converted to the op's
//! compute dtype first, as `ScalarOp::compute_dtype` says): bit for bit, except the inline
//! transcendental functions, which are within a few ulp (below):
//!
//! * **inline** (with vector lowerings): `add` and `mul` (n-ary, folded left to right),
//!   `sub`, `true_div`, `neg`, `abs`, `sqr`, `sqrt`, `reciprocal` (`1 / x`), `maximum` and
//!   `minimum` (NaN-propagating: a NaN in either operand gives that NaN, the first one if
//!   both are; ties give the first operand, so `maximum(0.0, -0.0)` is `0.0`), `floor`,
//!   `ceil`, `trunc`, `round` (half to even: Cranelift's `nearest`), `sign`, `second`
//!   (`fill`), `clip` (`minimum(maximum(x, lo), hi)`), `cast` between `float32` and
//!   `float64`, and constants: all bit for bit;
//! * **inline transcendentals** (`crate::vmath`, branch-free CLIF polynomials, vectorized):
//!   `exp`, `expm1`, `log`, `log1p`, `log2`, `log10`, `sin`, `cos`, `tan`, `arcsin`,
//!   `arccos`, `arctan`, `sinh`, `cosh`, `tanh`, `arcsinh`, `arccosh`, `arctanh`,
//!   `sigmoid`, `softplus`, `erf`: within 2 ulp of Rust std (glibc) in `float64` and 1 ulp in
//!   `float32` (2 where glibc's own `float` function is 2 ulp off), with exact special values
//!   (±0, ±inf, NaN, overflow and underflow); the measured table is in `vmath`'s
//!   documentation. `sin`, `cos` and `tan` keep one std call as a fallback: a vector with a
//!   lane beyond |x| = 1.5·2^20 (or infinite) is recomputed lane by lane with `f64::sin`
//!   (…) through the symbol `tl_<op>_f64` (which [`ElementwiseKernel::callees`] lists);
//! * **calls to Rust std**, one per element, through symbols registered with the JIT
//!   (`tl_<op>_f64`, `tl_<op>_f32`): `pow` (`powf`) always (an accurate vector `pow` needs a
//!   double-double `log`), and every transcendental op of a program with more than
//!   `MAX_INLINE_VMATH` (32) live ones (inlining them all would make a function too big to
//!   compile quickly); these are the remaining call-per-element fallbacks;
//! * **unsupported**: comparisons (`lt`, `gt`, `le`, `ge`, `eq`, `neq`), `and`, `or`, `not`,
//!   `switch`, casts to `bool` or integers.
//!
//! # Loops
//!
//! A program whose live ops are all inline is vectorized: the main loop handles `2 × W`
//! elements per iteration (unrolled twice), with `W = 2` (`F64X2`) for pure `float64`
//! programs and `W = 4` otherwise (one `F32X4` or two `F64X2` registers per value), and a
//! scalar loop does the remaining elements. A broadcast input is splatted once, before the
//! loop, into a stack slot that the vector loads read from. A program with a std call
//! (`pow`) runs the scalar loop only; the transcendental functions are inline and keep the
//! vector loop (`sin`, `cos`, `tan` branch to their std fallback only for huge lanes).
//!
//! The vector loop runs when every input's stride is 0 or 1 (checked once, on entry).
//! Otherwise the scalar loop does every element, each input loaded from
//! `inputs[k] + i * strides[k] * size` (128-bit x86 vectors have no gather; a strided
//! input's elements sit in different cache lines anyway). The same scalar loop is the
//! tail of the vector loop, so a kernel carries one vector body and one scalar body.
//!
//! A run of at least `CHUNKED_MIN` elements of a program with transcendental functions goes
//! through `crate::chunked` instead: chunk by chunk, JIT kernels compute the functions'
//! arguments and the result, and the AVX-512/AVX2 routines of [`crate::bulk`] compute the
//! functions (within the same ulp bounds), about twice as fast as 128-bit inline code.
//! A strided input is copied chunk by chunk into a buffer where a bulk routine reads it.

use crate::chunked::{ChunkPlan, CHUNKED_MIN};
use crate::JitError;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, ConstantData, Endianness, FuncRef, Function, InstBuilder, MemFlagsData,
    StackSlotData, StackSlotKind, Type, Value,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use std::collections::HashMap;
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::{Mutex, OnceLock};
use tensorlift_ir::{DType, Element, ScalarNode, ScalarOp, ScalarProgram};

/// The native entry point; see the module documentation.
type RawKernel = unsafe extern "C" fn(*const *const u8, *const isize, *const *mut u8, usize, usize);

/// How many vector groups one iteration of the main loop computes.
const UNROLL: usize = 2;

/// The most transcendental ops (`vmath`) a kernel inlines: each is 50–300 instructions per
/// vector group, so a program with more calls std for all of them (scalar loop).
const MAX_INLINE_VMATH: usize = 32;

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
    pub fn dtype(&self) -> DType {
        match self {
            KernelArg::F64(_) | KernelArg::ScalarF64(_) | KernelArg::StridedF64 { .. } => DType::F64,
            KernelArg::F32(_) | KernelArg::ScalarF32(_) | KernelArg::StridedF32 { .. } => DType::F32,
        }
    }

    /// The slice's length; `None` for a scalar or a strided argument (whose data need not
    /// be as long as the output).
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
    fn extent(&self) -> (usize, usize, isize) {
        match *self {
            KernelArg::F64(s) => (s.len(), 0, 1),
            KernelArg::F32(s) => (s.len(), 0, 1),
            KernelArg::ScalarF64(_) | KernelArg::ScalarF32(_) => (1, 0, 0),
            KernelArg::StridedF64 { data, first, stride } => (data.len(), first, stride),
            KernelArg::StridedF32 { data, first, stride } => (data.len(), first, stride),
        }
    }

    /// Row `r` of a [`run_rows`](ElementwiseKernel::run_rows) argument as a strided one
    /// (a scalar stays itself); its first position must have been checked.
    fn row(self, r: usize, row_stride: isize) -> KernelArg<'a> {
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
    fn strided(&self) -> Option<(usize, usize, isize)> {
        match *self {
            KernelArg::StridedF64 { data, first, stride } => Some((data.len(), first, stride)),
            KernelArg::StridedF32 { data, first, stride } => Some((data.len(), first, stride)),
            _ => None,
        }
    }

    /// The address of element 0 (computed without dereferencing: it need not exist) and
    /// the stride in elements (0 for a scalar, 1 for a slice).
    fn raw(&self) -> (*const u8, isize) {
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

/// One output buffer of a multi-output kernel run ([`ElementwiseKernel::run_outputs_uninit`]);
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
    pub fn dtype(&self) -> DType {
        match self {
            KernelOut::F64(_) => DType::F64,
            KernelOut::F32(_) => DType::F32,
        }
    }

    /// The buffer's length.
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

    fn as_mut_ptr(&mut self) -> *mut u8 {
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
fn outside(
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

/// Owns a kernel's `JITModule` and releases its code memory on drop (a dropped `JITModule`
/// leaks it on purpose). The mutex only makes the owner `Sync`; it is never locked.
struct OwnedModule(Mutex<Option<JITModule>>);

impl OwnedModule {
    fn get(&mut self) -> &mut JITModule {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner()).as_mut().expect("present until drop")
    }
}

impl Drop for OwnedModule {
    fn drop(&mut self) {
        if let Some(module) = self.0.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            // SAFETY: the module's only function pointer lives in the `ElementwiseKernel` that
            // owns this module and never leaves it; it is called only through `&self`, so no
            // call can be running (or start) once the kernel is being dropped.
            unsafe { module.free_memory() };
        }
    }
}

/// A [`ScalarProgram`] compiled to native code: call [`run`](Self::run) to apply it
/// elementwise. `Send + Sync`; the code is freed when the kernel drops.
pub struct ElementwiseKernel {
    func: RawKernel,
    inputs: Vec<DType>,
    output: DType,
    /// The dtype of every output (one for a single-output program).
    outputs: Vec<DType>,
    vector_width: Option<usize>,
    callees: Vec<String>,
    clif: String,
    pub(crate) ir: Function,
    pub(crate) isa: OwnedTargetIsa,
    /// The program, kept for the chunked plan.
    program: ScalarProgram,
    /// True when the program calls a transcendental function (a chunked plan may apply).
    transcendental: bool,
    /// Built on the first run over `CHUNKED_MIN` elements or more.
    chunk_plan: OnceLock<Option<Box<ChunkPlan>>>,
    // Last: dropped (code freed) after everything else.
    _module: OwnedModule,
}

impl fmt::Debug for ElementwiseKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElementwiseKernel")
            .field("inputs", &self.inputs)
            .field("output", &self.output)
            .field("vector_width", &self.vector_width)
            .field("callees", &self.callees)
            .finish_non_exhaustive()
    }
}

impl ElementwiseKernel {
    /// The dtype of each input, as the program declares them.
    pub fn input_dtypes(&self) -> &[DType] {
        &self.inputs
    }

    /// The result's dtype.
    pub fn out_dtype(&self) -> DType {
        self.output
    }

    /// The dtype of every output: the result's, then the extra outputs' of a multi-output
    /// program.
    pub fn output_dtypes(&self) -> &[DType] {
        &self.outputs
    }

    /// Elements per vector group (2 or 4; the main loop does two groups per iteration), or
    /// `None` when the kernel runs a scalar loop only (it calls `pow`'s std function).
    pub fn vector_width(&self) -> Option<usize> {
        self.vector_width
    }

    /// The JIT symbols of the Rust functions the kernel may call (`tl_pow_f64`, and the
    /// huge-argument fallbacks `tl_sin_f64`, `tl_cos_f64`, `tl_tan_f64`), sorted.
    pub fn callees(&self) -> &[String] {
        &self.callees
    }

    /// The CLIF text of the kernel's function as generated, before Cranelift's optimizer.
    pub fn clif(&self) -> &str {
        &self.clif
    }

    /// The CLIF text after Cranelift's mid-end optimizer (egraph: GVN, LICM, constant
    /// folding), computed on demand from a copy of the function.
    pub fn optimized_clif(&self) -> Result<String, JitError> {
        let mut ctx = Context::for_function(self.ir.clone());
        ctx.optimize(self.isa.as_ref(), &mut ControlPlane::default())
            .map_err(|e| JitError::Compile(format!("optimize: {e}")))?;
        Ok(ctx.func.display().to_string())
    }

    /// Computes every element: `out[i] = program(inputs[0][i], inputs[1][i], …)`, a scalar
    /// input standing for itself at every `i`, a strided input reading
    /// `data[first + i * stride]`.
    ///
    /// Errors (and nothing runs) when the number of inputs, an input's dtype, a slice's
    /// length (it must equal `out.len()`), a strided input's bounds (every element read
    /// must be inside its data: [`JitError::ArgBounds`]) or `T` (it must be the result's
    /// dtype) is wrong.
    pub fn run<T: Element>(&self, inputs: &[KernelArg<'_>], out: &mut [T]) -> Result<(), JitError> {
        let len = out.len();
        self.run_range(inputs, out, 0..len)
    }

    /// Like [`run`](Self::run), but computes only the elements `range` of `out` (the other
    /// elements are left untouched). Slices are still as long as `out`: element `i` of the
    /// result reads element `i` of each input (element `first + i * stride` of a strided
    /// one).
    pub fn run_range<T: Element>(
        &self,
        inputs: &[KernelArg<'_>],
        out: &mut [T],
        range: Range<usize>,
    ) -> Result<(), JitError> {
        // SAFETY: `out` is a valid, exclusively borrowed buffer of `out.len()` elements of `T`.
        unsafe { self.run_raw(inputs, T::DTYPE, out.as_mut_ptr().cast(), out.len(), range) }
    }

    /// Like [`run`](Self::run), into an output that need not be initialized: on `Ok`, every
    /// element of `out` is written (so a fresh `Vec::with_capacity` buffer skips the pass
    /// that zeroes it).
    pub fn run_uninit<T: Element>(
        &self,
        inputs: &[KernelArg<'_>],
        out: &mut [MaybeUninit<T>],
    ) -> Result<(), JitError> {
        let len = out.len();
        // SAFETY: `out` is a valid, exclusively borrowed buffer of `len` elements of `T`
        // (`MaybeUninit<T>` has `T`'s layout); the kernel only writes to it.
        unsafe { self.run_raw(inputs, T::DTYPE, out.as_mut_ptr().cast(), len, 0..len) }
    }

    /// Computes every element of every output of a multi-output program in one pass:
    /// `outs[k][i]` is output `k` of the program at element `i` (output 0 is the result).
    /// On `Ok`, every element of every output is written.
    ///
    /// Errors (and nothing runs) as [`run`](Self::run) does, and when the number of outputs,
    /// an output's dtype or length (all as long as the first) is wrong.
    pub fn run_outputs_uninit(
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

    /// Computes `rows` rows of `out.len() / rows` elements each, stored one after the
    /// other in `out`: element `i` of row `r` is computed from each input `k` moved by
    /// `r * row_strides[k]` elements — a slice's element `r * row_strides[k] + i`, a strided
    /// input's `data[first + r * row_strides[k] + i * stride]`, a scalar itself (its row
    /// stride must then be 0 unless there is one row). The same as one
    /// [`run_uninit`](Self::run_uninit) per row, with the checks done once: a run of short
    /// rows (a broadcast along a middle axis, a strided view) costs one native call per
    /// row and nothing more. On `Ok`, every element of `out` is written.
    ///
    /// Errors (and nothing runs) as [`run`](Self::run), except that slices need not be as
    /// long as a row: every element read, of every input, must lie inside it
    /// ([`JitError::ArgBounds`]); [`JitError::Rows`] when `rows` does not divide
    /// `out.len()`.
    pub fn run_rows<T: Element>(
        &self,
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
        if self.transcendental && len >= CHUNKED_MIN {
            // Long rows: each row on its own, through the chunked plan if it applies.
            for r in 0..rows {
                let args: Vec<KernelArg<'_>> =
                    inputs.iter().zip(row_strides).map(|(a, &row_stride)| a.row(r, row_stride)).collect();
                // SAFETY: row `r` of `out` is its `len` elements from element `r * len`
                // (`rows * len == n`), exclusively borrowed; each row argument reads the
                // elements checked above.
                unsafe { self.run_checked(&args, out.wrapping_add(r * row_bytes), len, 0..len)? };
            }
            return Ok(());
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
    pub(crate) unsafe fn run_raw(
        &self,
        inputs: &[KernelArg<'_>],
        dtype: DType,
        out: *mut u8,
        len: usize,
        range: Range<usize>,
    ) -> Result<(), JitError> {
        self.check_args(inputs, dtype)?;
        self.check_inputs(inputs, len, range.clone())?;
        // SAFETY: checked above; the caller's guarantees on `out` are passed on.
        unsafe { self.run_checked(inputs, out, len, range) }
    }

    /// Runs the native function over `range` of the output, through the chunked plan when
    /// it applies.
    ///
    /// # Safety
    /// As [`run_raw`](Self::run_raw), and the arguments passed its checks.
    unsafe fn run_checked(
        &self,
        inputs: &[KernelArg<'_>],
        out: *mut u8,
        len: usize,
        range: Range<usize>,
    ) -> Result<(), JitError> {
        let (begin, end) = (range.start, range.end);
        if self.transcendental && end - begin >= CHUNKED_MIN {
            // A plan that fails to compile leaves the inline code in charge.
            let plan =
                self.chunk_plan.get_or_init(|| ChunkPlan::new(&self.program).ok().flatten().map(Box::new));
            if let Some(plan) = plan {
                // SAFETY: the arguments were checked, and the caller's guarantees on `out`,
                // `len` and the range are passed on.
                return unsafe { plan.run(inputs, out, len, begin, end) };
            }
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

/// Calls `f` with each input's element-0 address and stride (`KernelArg::raw`), held on the
/// stack for up to 16 inputs.
fn with_raw_args<R>(inputs: &[KernelArg<'_>], f: impl FnOnce(&mut [*const u8], &[isize]) -> R) -> R {
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

// ---------------------------------------------------------------------------------------
// Which ops lower how.

/// How an op is lowered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lowering {
    /// Inline CLIF, with a vector form.
    Inline,
    /// A call to a Rust function per element (scalar loop only).
    Call,
}

fn lowering(op: ScalarOp) -> Option<Lowering> {
    match op.lowering() {
        tensorlift_ir::Lowering::Inline | tensorlift_ir::Lowering::Math(_) => Some(Lowering::Inline),
        tensorlift_ir::Lowering::Call => Some(Lowering::Call),
        tensorlift_ir::Lowering::Reference => None,
    }
}

/// The JIT symbol of the Rust function for `op` in `dtype`.
fn symbol_name(op: ScalarOp, dtype: DType) -> String {
    let suffix = if dtype == DType::F32 { "f32" } else { "f64" };
    format!("tl_{}_{suffix}", op.name())
}

/// The address of the `extern "C"` function computing `op` in `dtype` (`f64` or `f32`):
/// the op table's reference function of a unary op, `powf` for `pow`.
fn std_fn(op: ScalarOp, dtype: DType) -> Option<*const u8> {
    extern "C" fn pow_f64(x: f64, y: f64) -> f64 {
        x.powf(y)
    }
    extern "C" fn pow_f32(x: f32, y: f32) -> f32 {
        x.powf(y)
    }
    match (op, dtype) {
        (ScalarOp::Pow, DType::F32) => Some(pow_f32 as *const u8),
        (ScalarOp::Pow, _) => Some(pow_f64 as *const u8),
        (_, DType::F32) => op.unary_c_f32().map(|f| f as *const u8),
        _ => op.unary_c_f64().map(|f| f as *const u8),
    }
}

/// What compilation needs to know about a program, found before any code is generated.
struct Plan {
    /// Which values the result depends on (only those are computed).
    live: Vec<bool>,
    /// Each live op's compute dtype (indexed by node).
    compute: Vec<DType>,
    /// Elements per vector group, or `None` for a scalar loop only.
    vector_width: Option<usize>,
    /// The transcendental ops are calls to std (more than [`MAX_INLINE_VMATH`] of them).
    call_vmath: bool,
    /// The std functions called: (op, compute dtype); for `sin`, `cos`, `tan` (inline) the
    /// `f64` function of their huge-argument fallback.
    callees: Vec<(ScalarOp, DType)>,
}

fn plan(p: &ScalarProgram) -> Result<Plan, JitError> {
    p.validate().map_err(JitError::InvalidProgram)?;
    let n_in = p.inputs.len();
    let total = n_in + p.nodes.len();
    let mut live = vec![false; total];
    for v in p.outputs() {
        live[v] = true;
    }
    for v in (n_in..total).rev() {
        if let (true, ScalarNode::Apply { args, .. }) = (live[v], &p.nodes[v - n_in]) {
            for &a in args {
                live[a] = true;
            }
        }
    }
    // Past a budget, inline transcendentals would make the function too big to compile
    // quickly (a 50 000-op `tanh` chain is tens of millions of instructions): call std.
    let n_vmath = p
        .nodes
        .iter()
        .enumerate()
        .filter(
            |(k, n)| matches!(n, ScalarNode::Apply { op, .. } if live[n_in + k] && op.math_fn().is_some()),
        )
        .count();
    let call_vmath = n_vmath > MAX_INLINE_VMATH;
    let mut any_f32 = false;
    let mut any_call = false;
    let mut callees = Vec::new();
    let mut compute = vec![DType::F64; p.nodes.len()];
    for (v, &d) in p.inputs.iter().enumerate() {
        if live[v] {
            if !d.is_float() {
                return Err(JitError::Unsupported { op: format!("{d} input {v}") });
            }
            any_f32 |= d == DType::F32;
        }
    }
    for (k, node) in p.nodes.iter().enumerate() {
        let ScalarNode::Apply { op, args, dtype } = node else { continue };
        if !live[n_in + k] {
            continue;
        }
        let name = || match op {
            ScalarOp::Cast(d) => format!("cast.{d}"),
            op => op.name().to_string(),
        };
        let mut lowering = lowering(*op).ok_or_else(|| JitError::Unsupported { op: name() })?;
        if call_vmath && op.math_fn().is_some() {
            lowering = Lowering::Call;
        }
        if !dtype.is_float() {
            return Err(JitError::Unsupported { op: format!("{} with a {dtype} result", name()) });
        }
        let dtypes: Vec<DType> = args.iter().map(|&a| p.dtype_of(a)).collect();
        let cd = op.compute_dtype(&dtypes);
        compute[k] = cd;
        // A cast computes in its source dtype: only a constant can be non-float there, and it
        // converts at compile time.
        any_f32 |= *dtype == DType::F32 || cd == DType::F32;
        if lowering == Lowering::Call {
            any_call = true;
            if !callees.contains(&(*op, cd)) {
                callees.push((*op, cd));
            }
        } else if op.math_fn().is_some_and(crate::vmath::needs_fallback)
            && !callees.contains(&(*op, DType::F64))
        {
            // Huge arguments (rare) fall back to the f64 std function, for f32 too.
            callees.push((*op, DType::F64));
        }
    }
    // Reached by a constant result (the ops' results were checked above).
    for out in p.outputs().map(|v| p.dtype_of(v)) {
        if !out.is_float() {
            return Err(JitError::Unsupported { op: format!("a {out} result") });
        }
        any_f32 |= out == DType::F32;
    }
    let vector_width = match (any_call, any_f32) {
        (true, _) => None,
        (false, true) => Some(4),
        (false, false) => Some(2),
    };
    Ok(Plan { live, compute, vector_width, callees, call_vmath })
}

/// The exact value of a constant of `dtype` converted to `cd` (a float dtype) as the
/// reference does it (`Tensor::full`, then `Tensor::cast`), held in an f64.
fn const_value(dtype: DType, bits: u64, cd: DType) -> f64 {
    let v = f64::from_bits(bits);
    let to_cd = |x: f64| if cd == DType::F32 { x as f32 as f64 } else { x };
    match dtype {
        DType::Bool => {
            if v != 0.0 {
                1.0
            } else {
                0.0
            }
        }
        // Integers convert straight to the float type (no double rounding through f64).
        DType::I32 | DType::I64 => {
            let i = if dtype == DType::I32 { v as i32 as i64 } else { v as i64 };
            if cd == DType::F32 {
                i as f32 as f64
            } else {
                i as f64
            }
        }
        DType::F32 => to_cd(v as f32 as f64),
        DType::F64 => to_cd(v),
    }
}

// ---------------------------------------------------------------------------------------
// Compilation.

/// Compiles `program` into native code for this machine.
///
/// Returns [`JitError::Unsupported`] for programs with `bool`/integer values (other than
/// constants) or ops without a lowering (see the module documentation), so that the caller
/// can use the interpreter instead; [`JitError::InvalidProgram`] if the program does not
/// validate.
pub fn compile_elementwise(program: &ScalarProgram) -> Result<ElementwiseKernel, JitError> {
    let plan = plan(program)?;
    let isa = crate::shared_host_isa()?;
    let mut jb = JITBuilder::with_isa(isa.clone(), default_libcall_names());
    let mut callee_names = Vec::new();
    for &(op, d) in &plan.callees {
        let f = std_fn(op, d).ok_or_else(|| JitError::Unsupported { op: format!("{} in {d}", op.name()) })?;
        let name = symbol_name(op, d);
        jb.symbol(name.clone(), f);
        callee_names.push(name);
    }
    callee_names.sort();
    let mut owner = OwnedModule(Mutex::new(Some(JITModule::new(jb))));
    let module = owner.get();
    let mut ctx = module.make_context();
    let ptr = module.target_config().pointer_type();
    for _ in 0..5 {
        ctx.func.signature.params.push(AbiParam::new(ptr));
    }
    // Declare the std functions in the module and the function.
    let mut callee_ids = Vec::new();
    for &(op, d) in &plan.callees {
        let ty = scalar_type(d);
        let mut sig = module.make_signature();
        let arity = if op == ScalarOp::Pow { 2 } else { 1 };
        for _ in 0..arity {
            sig.params.push(AbiParam::new(ty));
        }
        sig.returns.push(AbiParam::new(ty));
        let id = module
            .declare_function(&symbol_name(op, d), Linkage::Import, &sig)
            .map_err(|e| JitError::Compile(e.to_string()))?;
        callee_ids.push(((op, d), id));
    }
    let mut callees = HashMap::new();
    for (key, id) in callee_ids {
        callees.insert(key, module.declare_func_in_func(id, &mut ctx.func));
    }

    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let fma = isa.has_native_fma();
    Gen { p: program, plan: &plan, callees: &callees, ptr, fma }.build(&mut b);
    b.seal_all_blocks();
    b.finalize(module.target_config());

    let clif = ctx.func.display().to_string();
    let ir = ctx.func.clone();
    let id = module
        .declare_function("tl_elementwise", Linkage::Export, &ctx.func.signature)
        .map_err(|e| JitError::Compile(e.to_string()))?;
    module.define_function(id, &mut ctx).map_err(|e| JitError::Compile(format!("{e:?}")))?;
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| JitError::Compile(e.to_string()))?;
    let code = module.get_finalized_function(id);
    // SAFETY: `code` is the finalized (executable) code of the function just defined, whose
    // Cranelift signature is five pointer-sized integer parameters, no results, in the ISA's
    // default calling convention (System V on this host), which is `extern "C"` with
    // `RawKernel`'s parameter types.
    let func = unsafe { std::mem::transmute::<*const u8, RawKernel>(code) };
    Ok(ElementwiseKernel {
        func,
        inputs: program.inputs.clone(),
        output: program.out_dtype(),
        outputs: program.outputs().map(|v| program.dtype_of(v)).collect(),
        vector_width: plan.vector_width,
        callees: callee_names,
        clif,
        ir,
        isa,
        program: program.clone(),
        transcendental: program
            .nodes
            .iter()
            .any(|n| matches!(n, ScalarNode::Apply { op, .. } if op.math_fn().is_some())),
        chunk_plan: OnceLock::new(),
        _module: owner,
    })
}

fn scalar_type(d: DType) -> Type {
    if d == DType::F32 {
        types::F32
    } else {
        types::F64
    }
}

/// Lanes of a 128-bit vector of `d`.
fn lanes(d: DType) -> usize {
    16 / d.size()
}

/// The memory flags of every load and store: valid pointers, no alignment promised.
fn mem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// A value of the program in one element group: its dtype and its registers (one scalar,
/// or `width / lanes` vectors).
#[derive(Clone)]
struct Repr {
    dtype: DType,
    chunks: Vec<Value>,
}

/// Per-input addressing, set up once at function entry.
#[derive(Clone, Copy)]
struct InputAddr {
    dtype: DType,
    /// Where the vector loop reads element 0 (for a broadcast input: the splat slot).
    base: Value,
    /// All ones for a contiguous input, zero for a broadcast one: masks the vector loop's
    /// element offset.
    mask: Value,
    /// Element 0 as the caller passed it: where the scalar loop's offsets start.
    ptr: Value,
    /// Bytes from one element to the next (the stride times the element size), for the
    /// scalar loop.
    step: Value,
}

/// The code generator of one kernel function.
struct Gen<'a> {
    p: &'a ScalarProgram,
    plan: &'a Plan,
    callees: &'a HashMap<(ScalarOp, DType), FuncRef>,
    ptr: Type,
    /// Whether the ISA has a native `fma` (else `vmath` uses `fmul` + `fadd`).
    fma: bool,
}

impl Gen<'_> {
    fn build(&self, b: &mut FunctionBuilder<'_>) {
        let ptr = self.ptr;
        let n_in = self.p.inputs.len();
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let setup = b.create_block();
        let tail_hdr = b.create_block();
        b.append_block_param(tail_hdr, ptr);
        let tail_body = b.create_block();
        let exit = b.create_block();

        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (in_pp, strides_p, outs_pp, begin, end) = (params[0], params[1], params[2], params[3], params[4]);
        let empty = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, begin, end);
        b.ins().brif(empty, exit, &[], setup, &[]);

        b.switch_to_block(setup);
        let width = self.plan.vector_width;
        let mut addrs: Vec<Option<InputAddr>> = vec![None; n_in];
        // Whether every live input's stride is 0 or 1 (the vector loop's condition).
        let mut unit_strides = b.ins().iconst(types::I8, 1);
        for (k, &dtype) in self.p.inputs.iter().enumerate() {
            if !self.plan.live[k] {
                continue;
            }
            let off = (k * ptr.bytes() as usize) as i32;
            let p = b.ins().load(ptr, mem(), in_pp, off);
            let stride = b.ins().load(ptr, mem(), strides_p, off);
            let step = b.ins().ishl_imm_u(stride, dtype.size().trailing_zeros() as i64);
            let bcast = b.ins().icmp_imm_u(IntCC::Equal, stride, 0i64);
            let unit = b.ins().icmp_imm_u(IntCC::Equal, stride, 1i64);
            let either = b.ins().bor(bcast, unit);
            unit_strides = b.ins().band(unit_strides, either);
            let zero = b.ins().iconst(ptr, 0);
            let ones = b.ins().iconst(ptr, -1);
            let mask = b.ins().select(bcast, zero, ones);
            let base = match width {
                None => p,
                Some(w) => {
                    // The vector loads of a broadcast input read a slot holding its value
                    // splatted over one iteration's elements. (A contiguous input's first
                    // element may not exist: it then loads from the slot, and drops it.)
                    let bytes = (UNROLL * w * dtype.size()) as u32;
                    let slot =
                        b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 4));
                    let slot_addr = b.ins().stack_addr(ptr, slot, 0);
                    let src = b.ins().select(bcast, p, slot_addr);
                    let x = b.ins().load(scalar_type(dtype), mem(), src, 0);
                    let v = b.ins().splat(vector_type(dtype), x);
                    for c in 0..bytes / 16 {
                        b.ins().store(mem(), v, slot_addr, (c * 16) as i32);
                    }
                    b.ins().select(bcast, slot_addr, p)
                }
            };
            addrs[k] = Some(InputAddr { dtype, base, mask, ptr: p, step });
        }
        // Each output's base address and dtype.
        let outs: Vec<(Value, DType)> = self
            .p
            .outputs()
            .enumerate()
            .map(|(k, v)| {
                (b.ins().load(ptr, mem(), outs_pp, (k * ptr.bytes() as usize) as i32), self.p.dtype_of(v))
            })
            .collect();

        if let Some(w) = width {
            let step = (UNROLL * w) as i64;
            let vloop = b.create_block();
            b.append_block_param(vloop, ptr);
            let n = b.ins().isub(end, begin);
            let minus_step = b.ins().iconst(ptr, -step);
            let nv = b.ins().band(n, minus_step);
            let vend = b.ins().iadd(begin, nv);
            // Another stride: the scalar loop does every element.
            let vend = b.ins().select(unit_strides, vend, begin);
            let go = b.ins().icmp(IntCC::UnsignedLessThan, begin, vend);
            b.ins().brif(go, vloop, &[BlockArg::Value(begin)], tail_hdr, &[BlockArg::Value(begin)]);

            b.switch_to_block(vloop);
            let i = b.block_params(vloop)[0];
            for u in 0..UNROLL {
                let first = u * w;
                let inputs = self.load_inputs(b, &addrs, i, first, Some(w));
                let results = self.emit_body(b, inputs, Some(w));
                for (r, &(out_p, d)) in results.iter().zip(&outs) {
                    self.store(b, out_p, d, i, first, &r.chunks);
                }
            }
            let i2 = b.ins().iadd_imm_s(i, step);
            let more = b.ins().icmp(IntCC::UnsignedLessThan, i2, vend);
            b.ins().brif(more, vloop, &[BlockArg::Value(i2)], tail_hdr, &[BlockArg::Value(i2)]);
        } else {
            b.ins().jump(tail_hdr, &[BlockArg::Value(begin)]);
        }

        b.switch_to_block(tail_hdr);
        let i = b.block_params(tail_hdr)[0];
        let more = b.ins().icmp(IntCC::UnsignedLessThan, i, end);
        b.ins().brif(more, tail_body, &[], exit, &[]);

        b.switch_to_block(tail_body);
        let inputs = self.load_inputs(b, &addrs, i, 0, None);
        let results = self.emit_body(b, inputs, None);
        for (r, &(out_p, d)) in results.iter().zip(&outs) {
            self.store(b, out_p, d, i, 0, &r.chunks);
        }
        let i1 = b.ins().iadd_imm_s(i, 1);
        b.ins().jump(tail_hdr, &[BlockArg::Value(i1)]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
    }

    /// Byte offset of element `i` for elements of `size` bytes.
    fn byte_offset(&self, b: &mut FunctionBuilder<'_>, i: Value, size: usize) -> Value {
        b.ins().ishl_imm_u(i, size.trailing_zeros() as i64)
    }

    /// Loads the live inputs of the group starting at element `i + first` (vectors, every
    /// stride 0 or 1), or of element `i` alone (`width == None`, any stride).
    fn load_inputs(
        &self,
        b: &mut FunctionBuilder<'_>,
        addrs: &[Option<InputAddr>],
        i: Value,
        first: usize,
        width: Option<usize>,
    ) -> Vec<Option<Repr>> {
        addrs
            .iter()
            .map(|a| {
                let a = (*a)?;
                let size = a.dtype.size();
                let chunks = match width {
                    None => {
                        let off = b.ins().imul(i, a.step);
                        let addr = b.ins().iadd(a.ptr, off);
                        vec![b.ins().load(scalar_type(a.dtype), mem(), addr, (first * size) as i32)]
                    }
                    Some(w) => {
                        let off = self.byte_offset(b, i, size);
                        let off = b.ins().band(off, a.mask);
                        let addr = b.ins().iadd(a.base, off);
                        (0..w / lanes(a.dtype))
                            .map(|c| {
                                let o = ((first + c * lanes(a.dtype)) * size) as i32;
                                b.ins().load(vector_type(a.dtype), mem(), addr, o)
                            })
                            .collect()
                    }
                };
                Some(Repr { dtype: a.dtype, chunks })
            })
            .collect()
    }

    fn store(
        &self,
        b: &mut FunctionBuilder<'_>,
        out_p: Value,
        d: DType,
        i: Value,
        first: usize,
        chunks: &[Value],
    ) {
        let size = d.size();
        let off = self.byte_offset(b, i, size);
        let addr = b.ins().iadd(out_p, off);
        for (c, &v) in chunks.iter().enumerate() {
            let o = ((first + c * lanes(d)) * size) as i32;
            b.ins().store(mem(), v, addr, o);
        }
    }

    /// Emits the live program on one element group (`width` elements, or one when `None`)
    /// and returns every output, in its dtype.
    fn emit_body(
        &self,
        b: &mut FunctionBuilder<'_>,
        inputs: Vec<Option<Repr>>,
        width: Option<usize>,
    ) -> Vec<Repr> {
        let n_in = self.p.inputs.len();
        let mut vals: Vec<Option<Repr>> = inputs;
        let mut e = Emit { b, width };
        for (k, node) in self.p.nodes.iter().enumerate() {
            let v = n_in + k;
            let repr = match node {
                ScalarNode::Apply { op, args, dtype } if self.plan.live[v] => {
                    let cd = self.plan.compute[k];
                    Some(self.emit_op(&mut e, &vals, *op, args, cd, *dtype))
                }
                _ => None,
            };
            vals.push(repr);
        }
        self.p.outputs().map(|v| self.arg(&mut e, &vals, v, self.p.dtype_of(v))).collect()
    }

    /// Value `v` converted to `d`.
    fn arg(&self, e: &mut Emit<'_, '_>, vals: &[Option<Repr>], v: usize, d: DType) -> Repr {
        let n_in = self.p.inputs.len();
        if v >= n_in {
            if let ScalarNode::Const { dtype, bits } = self.p.nodes[v - n_in] {
                let x = const_value(dtype, bits, d);
                let c = e.fconst(d, x);
                return Repr { dtype: d, chunks: c };
            }
        }
        let r = vals[v].as_ref().expect("live values are computed before use");
        e.convert(r, d)
    }

    fn emit_op(
        &self,
        e: &mut Emit<'_, '_>,
        vals: &[Option<Repr>],
        op: ScalarOp,
        args: &[usize],
        cd: DType,
        out: DType,
    ) -> Repr {
        use ScalarOp::*;
        if let Cast(d) = op {
            return self.arg(e, vals, args[0], d);
        }
        let a: Vec<Repr> = args.iter().map(|&x| self.arg(e, vals, x, cd)).collect();
        let n = a[0].chunks.len();
        let chunks: Vec<Value> = (0..n)
            .map(|c| {
                let x: Vec<Value> = a.iter().map(|r| r.chunks[c]).collect();
                let call =
                    lowering(op) == Some(Lowering::Call) || (self.plan.call_vmath && op.math_fn().is_some());
                match op.math_fn() {
                    _ if call => {
                        let f = self.callees[&(op, cd)];
                        let call = e.b.ins().call(f, &x);
                        e.b.inst_results(call)[0]
                    }
                    Some(f) => {
                        let fallback = self.callees.get(&(op, DType::F64)).copied();
                        let ty = e.ty(cd);
                        crate::vmath::emit(e.b, f, ty, self.fma, fallback, x[0])
                    }
                    _ => e.inline(op, cd, &x),
                }
            })
            .collect();
        debug_assert_eq!(cd, out, "{} computes in its result dtype", op.name());
        Repr { dtype: out, chunks }
    }
}

fn vector_type(d: DType) -> Type {
    if d == DType::F32 {
        types::F32X4
    } else {
        types::F64X2
    }
}

/// Emits the CLIF of single ops on one group, in scalar (`width == None`) or vector types.
struct Emit<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    width: Option<usize>,
}

impl Emit<'_, '_> {
    fn ty(&self, d: DType) -> Type {
        match self.width {
            None => scalar_type(d),
            Some(_) => vector_type(d),
        }
    }

    fn n_chunks(&self, d: DType) -> usize {
        self.width.map_or(1, |w| w / lanes(d))
    }

    /// The constant `x` (exact in `d`) in every chunk of a value of `d`.
    fn fconst(&mut self, d: DType, x: f64) -> Vec<Value> {
        let c = self.one_const(d, x);
        vec![c; self.n_chunks(d)]
    }

    fn one_const(&mut self, d: DType, x: f64) -> Value {
        let s = if d == DType::F32 {
            self.b.ins().f32const(Ieee32::with_bits((x as f32).to_bits()))
        } else {
            self.b.ins().f64const(Ieee64::with_bits(x.to_bits()))
        };
        match self.width {
            None => s,
            Some(_) => self.b.ins().splat(vector_type(d), s),
        }
    }

    /// Converts `r` to `d` as Rust's `as` does (promotion is exact; demotion rounds to
    /// nearest even).
    fn convert(&mut self, r: &Repr, d: DType) -> Repr {
        if r.dtype == d {
            return r.clone();
        }
        let le = MemFlagsData::new().with_endianness(Endianness::Little);
        let chunks = match (self.width, d) {
            (None, DType::F64) => vec![self.b.ins().fpromote(types::F64, r.chunks[0])],
            (None, _) => vec![self.b.ins().fdemote(types::F32, r.chunks[0])],
            (Some(_), DType::F64) => {
                // Each f32x4 becomes two f64x2: its low lanes, then its high lanes moved down.
                let mut out = Vec::new();
                let high: Vec<u8> = (8..16).chain(8..16).collect();
                let high = self.b.func.dfg.immediates.push(ConstantData::from(high));
                for &v in &r.chunks {
                    out.push(self.b.ins().fvpromote_low(v));
                    let bytes = self.b.ins().bitcast(types::I8X16, le, v);
                    let moved = self.b.ins().shuffle(bytes, bytes, high);
                    let hv = self.b.ins().bitcast(types::F32X4, le, moved);
                    out.push(self.b.ins().fvpromote_low(hv));
                }
                out
            }
            (Some(_), _) => {
                // Two f64x2 demote to the low halves of two f32x4, joined into one.
                let mut out = Vec::new();
                let join: Vec<u8> = (0..8).chain(16..24).collect();
                let join = self.b.func.dfg.immediates.push(ConstantData::from(join));
                for pair in r.chunks.chunks(2) {
                    let lo = self.b.ins().fvdemote(pair[0]);
                    let hi = self.b.ins().fvdemote(pair[1]);
                    let lo = self.b.ins().bitcast(types::I8X16, le, lo);
                    let hi = self.b.ins().bitcast(types::I8X16, le, hi);
                    let j = self.b.ins().shuffle(lo, hi, join);
                    out.push(self.b.ins().bitcast(types::F32X4, le, j));
                }
                out
            }
        };
        Repr { dtype: d, chunks }
    }

    /// `mask ? x : y` per lane; `mask` comes from `fcmp` (an `i8` for scalars, an integer
    /// vector of all-ones/all-zeros lanes for vectors).
    fn select(&mut self, d: DType, mask: Value, x: Value, y: Value) -> Value {
        match self.width {
            None => self.b.ins().select(mask, x, y),
            Some(_) => {
                let m = self.b.ins().bitcast(vector_type(d), MemFlagsData::new(), mask);
                self.b.ins().bitselect(m, x, y)
            }
        }
    }

    /// NaN-propagating maximum (`greater == true`) or minimum: the first operand if it is
    /// NaN or wins or ties, else the second.
    fn extremum(&mut self, d: DType, a: Value, b: Value, greater: bool) -> Value {
        // Take `b` when `b` is strictly better or `b` is NaN, and `a` is not NaN.
        let cc = if greater { FloatCC::UnorderedOrLessThan } else { FloatCC::UnorderedOrGreaterThan };
        let better = self.b.ins().fcmp(cc, a, b);
        let a_ord = self.b.ins().fcmp(FloatCC::Ordered, a, a);
        let take_b = self.b.ins().band(better, a_ord);
        self.select(d, take_b, b, a)
    }

    fn inline(&mut self, op: ScalarOp, d: DType, x: &[Value]) -> Value {
        use ScalarOp::*;
        let ty = self.ty(d);
        match op {
            Add => x[1..].iter().fold(x[0], |acc, &y| self.b.ins().fadd(acc, y)),
            Mul => x[1..].iter().fold(x[0], |acc, &y| self.b.ins().fmul(acc, y)),
            Sub => self.b.ins().fsub(x[0], x[1]),
            Div => self.b.ins().fdiv(x[0], x[1]),
            Neg => self.b.ins().fneg(x[0]),
            Abs => self.b.ins().fabs(x[0]),
            Sqr => self.b.ins().fmul(x[0], x[0]),
            Sqrt => self.b.ins().sqrt(x[0]),
            Reciprocal => {
                let one = self.one_const(d, 1.0);
                self.b.ins().fdiv(one, x[0])
            }
            Maximum => self.extremum(d, x[0], x[1], true),
            Minimum => self.extremum(d, x[0], x[1], false),
            Clip => {
                let lo = self.extremum(d, x[0], x[1], true);
                self.extremum(d, lo, x[2], false)
            }
            Floor => self.b.ins().floor(x[0]),
            Ceil => self.b.ins().ceil(x[0]),
            Trunc => self.b.ins().trunc(x[0]),
            Round => self.b.ins().nearest(x[0]),
            Second => x[1],
            Sign => {
                // ±1 with the sign of x when 0 < |x|; otherwise (±0, NaN) x + x, which is x
                // for zeros and x quieted for NaN, as the reference's `x * 0 + x`.
                let zero = self.one_const(d, 0.0);
                let one = self.one_const(d, 1.0);
                let abs = self.b.ins().fabs(x[0]);
                let nonzero = self.b.ins().fcmp(FloatCC::LessThan, zero, abs);
                let signed_one = match self.width {
                    None => self.b.ins().fcopysign(one, x[0]),
                    Some(_) => {
                        // Vector fcopysign has no x64 lowering: take the sign bit by mask.
                        let sign_bit = self.one_const(d, -0.0);
                        self.b.ins().bitselect(sign_bit, x[0], one)
                    }
                };
                let doubled = self.b.ins().fadd(x[0], x[0]);
                self.select(d, nonzero, signed_one, doubled)
            }
            _ => unreachable!("{} has no inline lowering ({ty})", op.name()),
        }
    }
}
