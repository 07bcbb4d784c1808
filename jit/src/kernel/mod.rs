//! Fused elementwise kernels: a [`ScalarProgram`](tensorlift_ir::ScalarProgram) compiled by Cranelift into one native loop,
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
//! [`ElementwiseKernel::run`](crate::ElementwiseKernel::run) and its siblings call it, after checking every count, dtype,
//! length and bound: for a strided input ([`KernelArg::StridedF64`]), that its first and
//! last element of the range (hence every element between) lie inside its slice.
//!
//! # Dtypes
//!
//! Every value of the program must be `float32` or `float64`, except constants: a `bool` or
//! integer constant is converted at compile time to the float dtype it is used in, exactly
//! as the reference kernels convert it. Mixed programs (`float32` and `float64` values,
//! `cast` between them, ops that upcast) are supported. Anything else is
//! [`JitError::Unsupported`](crate::JitError::Unsupported), so that the caller can fall back to the interpreter.
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
//!   (…) through the symbol `tl_<op>_f64` (which [`ElementwiseKernel::callees`](crate::ElementwiseKernel::callees) lists);
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
//! A run of at least `CHUNKED_MIN` elements of a program with transcendental functions (or a
//! run of rows holding as many, each at least `ROW_CHUNKED_MIN` long) goes through the
//! chunk plan (module `chunked`) instead (decided by the kernel's owner, the public
//! [`ElementwiseKernel`](crate::ElementwiseKernel), through `LongRun`; this module knows
//! nothing of chunks): chunk by chunk, JIT kernels compute the functions'
//! arguments and the result, and the AVX-512/AVX2 routines of [`crate::bulk`] compute the
//! functions (within the same ulp bounds), about twice as fast as 128-bit inline code.
//! A strided input is copied chunk by chunk into a buffer where a bulk routine reads it.
//!
//! # Layout
//!
//! * `args`: the arguments of a run ([`KernelArg`], [`KernelOut`]), their addresses and
//!   strides, and the bounds arithmetic;
//! * `run`: the checked run API, the only code that calls into a compiled function;
//! * `lower`: which op lowers how, liveness, compute dtypes, the Rust functions called;
//! * `codegen`: the CLIF of the kernel function;
//! * `compile`: the `JITModule` of one kernel, linking and finalizing it.

mod args;
mod codegen;
mod compile;
mod lower;
mod run;

pub use args::{KernelArg, KernelOut};
pub use compile::compilations;
pub(crate) use compile::{compile_native, NativeKernel};
pub(crate) use run::LongRun;
