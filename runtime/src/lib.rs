//! `tensorlift-runtime`: calling compiled graphs.
//!
//! - `function`: `function(&inputs, &outputs)` and `Function::builder` (updates, givens,
//!   mode, name), argument checking, all-or-nothing updates of shared variables.
//! - `mode`: `Mode`, how a compiled function runs.
//! - `plan`: the compiled plan, the steps a call runs, each decided when the function is
//!   built; its executor.
//! - `interp`: the op-by-op reference interpreter (`Mode::Interp`): the plan of reference kernels.
//! - `matmul`: float `dot`/`gemm` with the rows split over the threads (`Mode::Jit`).
//! - `random`: random draws split over the threads on Philox block boundaries (`Mode::Jit`).
//! - `images`: what the image kernels share (element types, threads over images).
//! - `conv`: native convolution (im2col and the matrix kernel), with its gradients
//!   (`Mode::Jit`); `pooling`: native pooling and its gradients, plane by plane.
//! - `native`: fused nodes compiled to native code by the JIT (`Mode::Jit`), and their fast
//!   layouts (contiguous inputs, single values, bias rows, columns).
//! - `layout`: the fast layouts of kernel inputs, shared by `native`, `strided`, `reduce`.
//! - `strided`: the native kernels' general path over any layout (strided, transposed,
//!   reversed views, broadcasting along any axes).
//! - `reduce`: fused full reductions, chunk by chunk with blocked summation.
//! - `scalar`: all-0-d functions run as native scalar programs, without the interpreter.
//! - `fast`: the call path of a function that is one native step, straight from its arguments.
//! - `recycle`: a function's last output, written again once the caller dropped it.
//! - `threads`: how many threads large kernels are split over.
//! - `verify_grad`: symbolic gradients checked against finite differences; `grad_report`:
//!   what it measured.
//! - `alloc`: output buffers of native kernels (huge pages for large ones).
//! - `pool`: the storage of dead intermediates, kept across calls and reused (at most what
//!   a call needs).
//! - `cache`: the process-wide JIT cache of compiled graphs (bounded in entries, and in the
//!   bytes of constants and shared values kept for graphs no function uses:
//!   [`IDLE_BYTES`]); `kernel_cache`: of native kernels and their chunk plans, below the
//!   executor.
//! - `debug`: `Mode::Debug`'s comparison of native and reference values.
//! - `dump`: every stage of a compiled function as text (`Function::dump`).
//! - `error`: the runtime's `Error`.
#![warn(missing_docs)]

pub mod alloc;
pub mod cache;
mod conv;
mod debug;
pub mod dump;
pub mod error;
mod fast;
pub mod function;
pub mod grad_report;
mod images;
pub mod interp;
mod kernel_cache;
mod layout;
pub mod matmul;
pub mod mode;
pub mod native;
pub mod plan;
pub mod pool;
mod pooling;
pub mod profile;
mod random;
mod recycle;
pub mod reduce;
mod scalar;
mod strided;
pub mod threads;
pub mod verify_grad;

pub use cache::{cache_stats, clear_cache, CacheStats, GRAPH_CAPACITY, IDLE_BYTES};
pub use dump::Stage;
pub use error::{Error, Result};
pub use function::{function, Caller, Function, FunctionBuilder, OnUnusedInput};
pub use interp::Interpreter;
pub use mode::Mode;
pub use native::NativeRuns;
pub use plan::{How, Plan};
pub use pool::BufferStats;
pub use tensorlift_opt::{OptConfig, Phase, PhaseStats, RewriteTrace, TraceEntry};
pub use threads::{num_threads, set_num_threads};
pub use verify_grad::{verify_grad, GradReport, VerifyGradOptions, WorstElement};
