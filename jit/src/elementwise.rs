//! The public compiled kernel: [`ElementwiseKernel`] owns the native loop of a program
//! (`crate::kernel`) and, beside it, the program's chunk plan (`crate::chunked`), built by
//! [`ElementwiseKernel::prepare_chunked`] when the kernel is compiled for a runtime (so that
//! no compilation happens inside a call), or else the first time a run is long enough to
//! use it. The kernel module knows nothing of chunks: this type decides, through `LongRun`,
//! which runs go chunk by chunk.

use crate::chunked::{ChunkPlan, CHUNKED_MIN};
use crate::kernel::{compile_native, KernelArg, KernelOut, LongRun, NativeKernel};
use crate::JitError;
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::OnceLock;
use tensorlift_ir::{DType, Element, ScalarNode, ScalarProgram};

/// A [`ScalarProgram`] compiled to native code: call [`run`](Self::run) to apply it
/// elementwise. `Send + Sync`; the code is freed when the kernel drops.
pub struct ElementwiseKernel {
    native: NativeKernel,
    /// The program, kept for the chunk plan; `None` when the program calls no
    /// transcendental function (no chunk plan applies).
    program: Option<ScalarProgram>,
    /// Built by `prepare_chunked`, or else on the first run over `CHUNKED_MIN` elements or
    /// more; `None` inside when the plan does not apply or fails to compile (the native
    /// loop then runs).
    chunk_plan: OnceLock<Option<Box<ChunkPlan>>>,
}

impl fmt::Debug for ElementwiseKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElementwiseKernel")
            .field("inputs", &self.native.input_dtypes())
            .field("output", &self.native.out_dtype())
            .field("vector_width", &self.native.vector_width())
            .field("callees", &self.native.callees())
            .finish_non_exhaustive()
    }
}

/// Compiles `program` into native code for this machine.
///
/// Returns [`JitError::Unsupported`] for programs with `bool`/integer values (other than
/// constants) or ops without a lowering (see the documentation of [`crate::kernel`]), so
/// that the caller can use the interpreter instead; [`JitError::InvalidProgram`] if the
/// program does not validate.
pub fn compile_elementwise(program: &ScalarProgram) -> Result<ElementwiseKernel, JitError> {
    let native = compile_native(program)?;
    let transcendental =
        program.nodes.iter().any(|n| matches!(n, ScalarNode::Apply { op, .. } if op.math_fn().is_some()));
    Ok(ElementwiseKernel {
        native,
        program: transcendental.then(|| program.clone()),
        chunk_plan: OnceLock::new(),
    })
}

impl ElementwiseKernel {
    /// The dtype of each input, as the program declares them.
    #[inline]
    pub fn input_dtypes(&self) -> &[DType] {
        self.native.input_dtypes()
    }

    /// The result's dtype.
    #[inline]
    pub fn out_dtype(&self) -> DType {
        self.native.out_dtype()
    }

    /// The dtype of every output: the result's, then the extra outputs' of a multi-output
    /// program.
    #[inline]
    pub fn output_dtypes(&self) -> &[DType] {
        self.native.output_dtypes()
    }

    /// Elements per vector group (2 or 4; the main loop does two groups per iteration), or
    /// `None` when the kernel runs a scalar loop only (it calls `pow`'s std function).
    pub fn vector_width(&self) -> Option<usize> {
        self.native.vector_width()
    }

    /// The JIT symbols of the Rust functions the kernel may call (`tl_pow_f64`, and the
    /// huge-argument fallbacks `tl_sin_f64`, `tl_cos_f64`, `tl_tan_f64`), sorted.
    pub fn callees(&self) -> &[String] {
        self.native.callees()
    }

    /// The CLIF text of the kernel's function as generated, before Cranelift's optimizer.
    pub fn clif(&self) -> &str {
        self.native.clif()
    }

    /// The CLIF text after Cranelift's mid-end optimizer (egraph: GVN, LICM, constant
    /// folding), computed on demand from a copy of the function.
    pub fn optimized_clif(&self) -> Result<String, JitError> {
        self.native.optimized_clif()
    }

    /// The machine code of the kernel as text (see `crate::disas` for the two forms). The
    /// instructions are those of the running kernel: the same CLIF compiled by the same ISA.
    pub fn disassembly(&self) -> Result<String, JitError> {
        self.native.disassembly()
    }

    /// Whether the chunk plan has been built and applies: long runs go chunk by chunk.
    pub fn is_chunked(&self) -> bool {
        self.chunk_plan.get().is_some_and(Option::is_some)
    }

    /// Builds the chunk plan now (compiling its kernels) if the program has one and it is not
    /// built yet, so that the first long run compiles nothing; returns whether long runs go
    /// chunk by chunk. A plan that fails to compile leaves the native loop in charge (and
    /// `false`), as it would on the first long run.
    pub fn prepare_chunked(&self) -> bool {
        self.plan().is_some()
    }

    /// The chunk plan, built on first use, if it applies.
    fn plan(&self) -> Option<&ChunkPlan> {
        let program = self.program.as_ref()?;
        self.chunk_plan.get_or_init(|| ChunkPlan::new(program).ok().flatten().map(Box::new)).as_deref()
    }

    /// Computes every element: `out[i] = program(inputs[0][i], inputs[1][i], …)`, a scalar
    /// input standing for itself at every `i`, a strided input reading
    /// `data[first + i * stride]`.
    ///
    /// Errors (and nothing runs) when the number of inputs, an input's dtype, a slice's
    /// length (it must equal `out.len()`), a strided input's bounds (every element read
    /// must be inside its data: [`JitError::ArgBounds`]) or `T` (it must be the result's
    /// dtype) is wrong.
    #[inline]
    pub fn run<T: Element>(&self, inputs: &[KernelArg<'_>], out: &mut [T]) -> Result<(), JitError> {
        let len = out.len();
        self.run_range(inputs, out, 0..len)
    }

    /// The value of a kernel of float64 inputs and one float64 output at one point (input
    /// `k` is `args[k]`): [`run`](Self::run) of one element for a 0-d call, without the
    /// general checks. `None` when the kernel is not of that kind or `args` has another
    /// length.
    #[inline]
    pub fn eval_f64(&self, args: &[f64]) -> Option<f64> {
        self.native.eval_f64(args)
    }

    /// Like [`run`](Self::run), but computes only the elements `range` of `out` (the other
    /// elements are left untouched). Slices are still as long as `out`: element `i` of the
    /// result reads element `i` of each input (element `first + i * stride` of a strided
    /// one).
    #[inline]
    pub fn run_range<T: Element>(
        &self,
        inputs: &[KernelArg<'_>],
        out: &mut [T],
        range: Range<usize>,
    ) -> Result<(), JitError> {
        self.native.run_range(self.long(range.len()), inputs, out, range)
    }

    /// Like [`run`](Self::run), into an output that need not be initialized: on `Ok`, every
    /// element of `out` is written (so a fresh `Vec::with_capacity` buffer skips the pass
    /// that zeroes it).
    #[inline]
    pub fn run_uninit<T: Element>(
        &self,
        inputs: &[KernelArg<'_>],
        out: &mut [MaybeUninit<T>],
    ) -> Result<(), JitError> {
        self.native.run_uninit(self.long(out.len()), inputs, out)
    }

    /// Computes every element of every output of a multi-output program in one pass:
    /// `outs[k][i]` is output `k` of the program at element `i` (output 0 is the result).
    /// On `Ok`, every element of every output is written.
    ///
    /// Errors (and nothing runs) as [`run`](Self::run) does, and when the number of outputs,
    /// an output's dtype or length (all as long as the first) is wrong.
    #[inline]
    pub fn run_outputs_uninit(
        &self,
        inputs: &[KernelArg<'_>],
        outs: &mut [KernelOut<'_>],
    ) -> Result<(), JitError> {
        self.native.run_outputs_uninit(inputs, outs)
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
    #[inline]
    pub fn run_rows<T: Element>(
        &self,
        inputs: &[KernelArg<'_>],
        row_strides: &[isize],
        rows: usize,
        out: &mut [MaybeUninit<T>],
    ) -> Result<(), JitError> {
        self.native.run_rows(
            self.long_rows(out.len().checked_div(rows).unwrap_or(0), rows),
            inputs,
            row_strides,
            rows,
            out,
        )
    }

    /// The way `rows` rows of `len` elements go when not through the native loop: the
    /// chunk plan when they hold [`CHUNKED_MIN`] elements in all (rows of at least
    /// `ROW_CHUNKED_MIN` elements then go chunk by chunk each on its own, shorter ones in
    /// blocks of whole rows).
    #[inline]
    fn long_rows(&self, len: usize, rows: usize) -> Option<&dyn LongRun> {
        if len == 0 || len.saturating_mul(rows) < CHUNKED_MIN {
            return None;
        }
        self.plan().map(|p| p as &dyn LongRun)
    }

    /// The way runs of `n` elements (per row) go when not through the native loop: the
    /// chunk plan, built on the first run long enough, if it applies. A plan that fails to
    /// compile leaves the native loop in charge.
    #[inline]
    fn long(&self, n: usize) -> Option<&dyn LongRun> {
        if n < CHUNKED_MIN {
            return None;
        }
        self.plan().map(|p| p as &dyn LongRun)
    }
}
