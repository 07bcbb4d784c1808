//! `Mode`: how a compiled function runs (interpreter, JIT, or JIT checked against the
//! reference kernels). Part of the key of every compiled graph in the cache.

use tensorlift_ir::config::ModeSetting;

/// How a compiled function runs. The default is `Jit`, or what the environment says
/// (`mode` in `TENSORLIFT_FLAGS`, or `TENSORLIFT_MODE=jit|interp|debug`; see
/// `tensorlift_ir::config`): running a whole test suite under
/// any mode is one variable away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Op by op with the reference kernels.
    Interp,
    /// Elementwise kernels (fused or lone) compiled to native code with Cranelift, all-0-d
    /// functions as one native program; every other node (and any kernel whose inputs are
    /// laid out in a way the native code does not take) runs its reference kernel.
    Jit,
    /// Like `Jit`, and every node that runs natively is also computed by its reference
    /// kernel; a difference beyond the tolerance (relative 1e-9 and absolute 1e-12 for
    /// `float64`, 1e-4 and 1e-6 for `float32`; NaN equals NaN) fails the call with
    /// [`Error::DebugMismatch`](crate::Error::DebugMismatch) naming the node, the element and both values.
    Debug,
}

impl Default for Mode {
    fn default() -> Mode {
        match tensorlift_ir::config::get().mode {
            ModeSetting::Jit => Mode::Jit,
            ModeSetting::Interp => Mode::Interp,
            ModeSetting::Debug => Mode::Debug,
        }
    }
}
