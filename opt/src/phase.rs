//! The phases of the pipeline, in order. Which rules each runs is the pipeline's business
//! (`Phase::rules`, in the crate root); the engine runs whatever rules it is given.

/// A phase of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Normal forms: n-ary add/mul, constants collected and folded, useless ops removed.
    Canonicalize,
    /// Numerically stable forms: log1p, expm1, sigmoid, softplus, log-softmax, logsumexp.
    Stabilize,
    /// Faster forms: pow → sqr/sqrt/mul chains, neg, sub, gemm/gemv.
    Specialize,
    /// Elementwise chains into `Composite` kernels; reductions of them fused.
    Fusion,
    /// A fused node also read elsewhere taken into its elementwise reader as an extra output
    /// (multi-output composites). After `Fusion`, so that only nodes fusion had to leave
    /// as boundaries are taken.
    MultiOutput,
    /// The last phase: every kernel the executor runs natively made a node — lone float
    /// elementwise ops one-op `Composite`s, a whole 0-d graph one `Composite`, lone float
    /// reductions `FusedReduce`s of the identity.
    Lower,
}

impl Phase {
    /// The phases in pipeline order.
    pub const ALL: [Phase; 6] = [
        Phase::Canonicalize,
        Phase::Stabilize,
        Phase::Specialize,
        Phase::Fusion,
        Phase::MultiOutput,
        Phase::Lower,
    ];

    /// The phase's name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Canonicalize => "canonicalize",
            Phase::Stabilize => "stabilize",
            Phase::Specialize => "specialize",
            Phase::Fusion => "fusion",
            Phase::MultiOutput => "multi_output",
            Phase::Lower => "lower",
        }
    }
}
