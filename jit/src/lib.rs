//! `tensorlift-jit`: native code generation with Cranelift.
//!
//! This crate owns every Cranelift type; nothing of Cranelift crosses its public API.
//! Today it holds the host target: the ISA built from the CPU's own features (CPUID), with
//! the settings every kernel is compiled with. Lowering of fused kernels builds on it.
#![warn(missing_docs)]

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

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
}

/// The settings every kernel is compiled with: optimize for speed (Cranelift's default is
/// no optimization), non-PIC code as `cranelift-jit` requires, and the IR verifier off in
/// release builds (it costs about 40% of compile time).
const SETTINGS: [(&str, &str); 4] = [
    ("opt_level", "speed"),
    ("is_pic", "false"),
    ("use_colocated_libcalls", "false"),
    ("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }),
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
