//! `tensorlift-jit`: native code generation with Cranelift.
//!
//! This crate owns every Cranelift type; nothing of Cranelift crosses its public API.
//! It holds the host target (the ISA built from the CPU's own features, with the settings
//! every kernel is compiled with) and [`kernel`]: fused elementwise kernels
//! ([`tensorlift_ir::ScalarProgram`]s) compiled to native loops and run through a safe API,
//! with their CLIF and machine code available as text (`disas`); `math` holds the
//! transcendental algorithms, written once; `vmath` emits them inline in those loops. [`bulk`] holds precompiled, runtime-dispatched
//! (AVX-512/AVX2/baseline) transcendental functions over slices that JIT kernels call on
//! chunks.
#![warn(missing_docs)]

pub mod bulk;
mod chunked;
mod disas;
mod elementwise;
pub mod kernel;
mod math;
mod vmath;

pub use chunked::{CHUNK, CHUNKED_MIN, ROW_CHUNKED_MIN};
pub use elementwise::{compile_elementwise, ElementwiseKernel};
pub use kernel::{KernelArg, KernelOut};

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::sync::OnceLock;
use tensorlift_ir::DType;

/// Why the JIT could not set up or compile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JitError {
    /// The host CPU is not supported by Cranelift.
    #[error("unsupported host: {0}")]
    UnsupportedHost(String),
    /// A Cranelift setting was refused.
    #[error("cranelift setting {name}={value}: {reason}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: &'static str,
        /// Cranelift's message.
        reason: String,
    },
    /// The program uses an op, or a dtype, that the JIT does not lower (yet): the caller
    /// should fall back to the interpreter.
    #[error("not supported by the JIT: {op}")]
    Unsupported {
        /// The op's name, or a description of the unsupported value (`int64 input 0`).
        op: String,
    },
    /// The program is malformed (`ScalarProgram::validate` refused it).
    #[error("invalid scalar program: {0}")]
    InvalidProgram(#[from] tensorlift_ir::ProgramError),
    /// Cranelift failed to compile or link the generated function.
    #[error("cranelift: {0}")]
    Compile(String),
    /// A kernel was run with the wrong number of inputs.
    #[error("the kernel takes {expected} inputs, got {got}")]
    ArgCount {
        /// The program's number of inputs.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// An input of a kernel has the wrong dtype.
    #[error("input {index} of the kernel is {expected}, got {got}")]
    ArgDType {
        /// Which input.
        index: usize,
        /// The program's dtype for it.
        expected: DType,
        /// The dtype given.
        got: DType,
    },
    /// An input slice's length differs from the output's.
    #[error("input {index} of the kernel has {got} elements, the output {expected}")]
    ArgLength {
        /// Which input.
        index: usize,
        /// The output's length.
        expected: usize,
        /// The input's length.
        got: usize,
    },
    /// A kernel was run with the wrong number of outputs.
    #[error("the kernel has {expected} outputs, got {got} buffers")]
    OutCount {
        /// The program's number of outputs.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// An input would be read outside its data (a strided input, or any input of
    /// `run_rows`).
    #[error("input {index} of the kernel would read element {position} of its {len} elements")]
    ArgBounds {
        /// Which input.
        index: usize,
        /// A position read outside `0..len` (`i128::MAX` when it overflows).
        position: i128,
        /// The length of its data.
        len: usize,
    },
    /// The output of `run_rows` does not split into the number of rows given.
    #[error("an output of {len} elements does not split into {rows} rows")]
    Rows {
        /// The number of rows.
        rows: usize,
        /// The output's length.
        len: usize,
    },
    /// The output buffer has the wrong element type.
    #[error("the kernel's output is {expected}, got a buffer of {got}")]
    OutDType {
        /// The program's result dtype.
        expected: DType,
        /// The buffer's element dtype.
        got: DType,
    },
    /// The element range to compute is not inside the output.
    #[error("range {begin}..{end} is not inside an output of {len} elements")]
    Range {
        /// First element.
        begin: usize,
        /// One past the last element.
        end: usize,
        /// The output's length.
        len: usize,
    },
}

/// The settings every kernel is compiled with: optimize for speed (Cranelift's default is
/// no optimization), non-PIC code as `cranelift-jit` requires, the IR verifier off in
/// release builds (it costs about 40% of compile time), and inline stack probes: a frame
/// larger than a page touches each page in turn as it grows, so a kernel that needs more
/// stack than its thread has left faults on the guard page instead of jumping past it.
const SETTINGS: [(&str, &str); 6] = [
    ("opt_level", "speed"),
    ("is_pic", "false"),
    ("use_colocated_libcalls", "false"),
    ("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }),
    ("enable_probestack", "true"),
    ("probestack_strategy", "inline"),
];

/// The target ISA of this machine, with its vector and FMA features detected by CPUID.
pub(crate) fn host_isa() -> Result<OwnedTargetIsa, JitError> {
    let mut flags = settings::builder();
    for (name, value) in SETTINGS {
        flags.set(name, value).map_err(|e| JitError::Setting { name, value, reason: e.to_string() })?;
    }
    let isa = cranelift_native::builder().map_err(|e| JitError::UnsupportedHost(e.to_string()))?;
    isa.finish(settings::Flags::new(flags)).map_err(|e| JitError::UnsupportedHost(e.to_string()))
}

/// The host ISA, built once per process (building it costs about 80 µs) and shared: an
/// `OwnedTargetIsa` is an `Arc`.
pub(crate) fn shared_host_isa() -> Result<OwnedTargetIsa, JitError> {
    static ISA: OnceLock<OwnedTargetIsa> = OnceLock::new();
    if let Some(isa) = ISA.get() {
        return Ok(isa.clone());
    }
    let isa = host_isa()?;
    Ok(ISA.get_or_init(|| isa).clone())
}

/// What the JIT targets on this machine: the triple and the enabled ISA feature flags
/// (`has_avx`, `has_fma`, …), as `tensorlift show` and the JIT cache key report them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostTarget {
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub triple: String,
    /// The ISA-specific boolean flags that are on.
    pub features: Vec<String>,
}

/// Describes the host target.
pub fn host_target() -> Result<HostTarget, JitError> {
    let isa = host_isa()?;
    let features =
        isa.isa_flags().iter().filter(|v| v.as_bool() == Some(true)).map(|v| v.name.to_string()).collect();
    Ok(HostTarget { triple: isa.triple().to_string(), features })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// #12 item 1: native code probes the stack, inline, as a frame larger than a page grows.
    #[test]
    fn kernels_are_compiled_with_inline_stack_probes() {
        let isa = host_isa().expect("this machine is supported");
        assert!(isa.flags().enable_probestack());
        assert_eq!(isa.flags().probestack_strategy(), settings::ProbestackStrategy::Inline);
    }

    #[test]
    fn host_target_matches_the_cpu() {
        let t = host_target().expect("this machine is supported");
        assert!(t.triple.starts_with(std::env::consts::ARCH), "{}", t.triple);
        #[cfg(target_arch = "x86_64")]
        {
            let has = |f: &str| t.features.iter().any(|x| x == f);
            assert_eq!(has("has_avx"), std::arch::is_x86_feature_detected!("avx"));
            assert_eq!(has("has_sse41"), std::arch::is_x86_feature_detected!("sse4.1"));
        }
    }
}
