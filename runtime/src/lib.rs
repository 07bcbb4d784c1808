//! `tensorlift-runtime`: calling compiled graphs.
//!
//! - `function`: `function(&inputs, &outputs)` and `Function::builder` (updates, givens,
//!   mode, name), argument checking, all-or-nothing updates of shared variables.
//! - `interp`: the op-by-op interpreter over a `FunctionGraph`.
//! - `native`: fused nodes compiled to native code by the JIT (`Mode::Jit`).
//! - `verify_grad`: symbolic gradients checked against finite differences.
//! - `error`: the runtime's `Error`.
#![warn(missing_docs)]

pub mod error;
pub mod function;
pub mod interp;
pub mod native;
pub mod verify_grad;

pub use error::{Error, Result};
pub use function::{function, Function, FunctionBuilder, Mode, OnUnusedInput};
pub use interp::Interpreter;
pub use tensorlift_opt::{OptConfig, Phase, RewriteTrace, TraceEntry};
pub use verify_grad::{verify_grad, GradReport, VerifyGradOptions, WorstElement};
