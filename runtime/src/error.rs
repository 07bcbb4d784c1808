//! The runtime's error type: everything `function` and a call can report.

use tensorlift_ir::{BuildError, DType, GraphError, ValueError};

/// What can go wrong compiling or calling a function. Every variant names the variable
/// concerned; nothing here is a panic.
///
/// `Debug` prints the same message as `Display`, so an error returned from
/// `fn main() -> tl::Result<()>` reads as its message; match on the variants for the fields.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A type error in the graph, found when it was built (`type error: …`), or a list of
    /// inputs that does not fit the graph (an input missing, listed twice, or not an input).
    #[error("{}{}", build_label(.0), .0)]
    Build(Box<BuildError>),
    /// A malformed graph (a verifier finding, a bad replacement, unparsable graph text).
    #[error("{0}")]
    Graph(Box<GraphError>),
    /// A call with the wrong number of arguments.
    #[error("{function}: expected {expected} argument(s), got {got}")]
    Arity {
        /// The function's name.
        function: String,
        /// Number of declared inputs.
        expected: usize,
        /// Number given.
        got: usize,
    },
    /// An argument of the wrong dtype that cannot be converted without loss (the message
    /// says how to convert it anyway, or how to write data of the right dtype).
    #[error("{function}: argument {index} ({input}) must be {expected}: {source}{}", downcast_hint(.source, *.expected))]
    ArgDType {
        /// The function's name.
        function: String,
        /// Argument position.
        index: usize,
        /// The input's name.
        input: String,
        /// The input's dtype.
        expected: DType,
        /// Why it was refused.
        source: ValueError,
    },
    /// An argument whose rank or static lengths do not fit the input's type.
    #[error("{function}: argument {index} ({input}) has shape {got:?}, which does not fit type {expected}")]
    ArgShape {
        /// The function's name.
        function: String,
        /// Argument position.
        index: usize,
        /// The input's name.
        input: String,
        /// The input's type.
        expected: String,
        /// The argument's shape.
        got: Vec<usize>,
    },
    /// Data that is not a tensor (ragged nested `Vec`s).
    #[error("{function}: argument {index} ({input}): {source}")]
    ArgData {
        /// The function's name.
        function: String,
        /// Argument position.
        index: usize,
        /// The input's name.
        input: String,
        /// Why.
        source: ValueError,
    },
    /// An op failed at run time (shape mismatch, index out of range, …).
    #[error("{source} (evaluating {node})")]
    Eval {
        /// The failing node, as `pp` shows it.
        node: String,
        /// What the kernel reported.
        source: ValueError,
    },
    /// `Mode::Debug`: a node's native result differs from its reference kernel's.
    #[error("debug mode: native code and the reference kernel differ at element {index:?} of {node}: native {native}, reference {reference}")]
    DebugMismatch {
        /// The node, as `pp` shows it.
        node: String,
        /// The first differing element (empty when the shapes or dtypes differ).
        index: Vec<usize>,
        /// The native value.
        native: String,
        /// The reference kernel's value.
        reference: String,
    },
    /// A bad `updates` entry.
    #[error("updates: {0}")]
    Update(String),
    /// An input no output depends on (with the default `OnUnusedInput::Raise`).
    #[error("input {0} is not used to compute any output; pass OnUnusedInput::Ignore to allow it")]
    UnusedInput(String),
    /// A convenience call used on a function of another shape.
    #[error("{0}")]
    Usage(String),
    /// The JIT could not compile a kernel or show its code (`context`: what was asked, e.g.
    /// `dump`); `source` is the JIT's typed error.
    #[error("{context}: {source}")]
    Jit {
        /// What was asked of the JIT.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: Box<tensorlift_jit::JitError>,
    },
    /// A gradient could not be built.
    #[error(transparent)]
    Grad(Box<tensorlift_ir::grad::GradError>),
    /// `verify_grad` found the symbolic gradient and finite differences apart.
    #[error("verify_grad: the gradient does not match finite differences: {0}")]
    GradMismatch(Box<crate::grad_report::GradReport>),
    /// A value error outside of a node (e.g. an update result that does not fit).
    #[error(transparent)]
    Value(#[from] ValueError),
}

impl std::fmt::Debug for Error {
    /// The `Display` message (as `anyhow` does): what `main` prints for a returned error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// The advice of an `ArgDType` error whose data only converts with a loss: the option that
/// converts it (Theano's `allow_input_downcast`) and the literal of the right dtype.
const DOWNCAST_HINT: &str = "; build the function with .allow_input_downcast(true) to convert it";

fn downcast_hint(source: &ValueError, expected: DType) -> String {
    if !matches!(source, ValueError::LossyConversion { .. }) {
        return String::new();
    }
    let literal = match expected {
        DType::F32 => " (0.1f32, vec![0.1f32])",
        DType::I32 => " (1i32, vec![1i32])",
        DType::I64 => " (1i64, vec![1i64])",
        _ => "",
    };
    format!("{DOWNCAST_HINT}, or pass {expected} data{literal}")
}

/// The label of a build error: a type error, except a list of inputs that does not fit.
fn build_label(e: &BuildError) -> &'static str {
    match e.kind {
        tensorlift_ir::BuildErrorKind::Inputs { .. } => "",
        _ => "type error: ",
    }
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Error {
        Error::Build(Box::new(e))
    }
}

impl From<GraphError> for Error {
    fn from(e: GraphError) -> Error {
        match e {
            GraphError::Build(b) => Error::Build(Box::new(b)),
            other => Error::Graph(Box::new(other)),
        }
    }
}

impl From<tensorlift_ir::grad::GradError> for Error {
    fn from(e: tensorlift_ir::grad::GradError) -> Error {
        Error::Grad(Box::new(e))
    }
}

impl From<ndarray::ShapeError> for Error {
    /// An ndarray shape error, as a value error (so `?` works on ndarray's constructors).
    fn from(e: ndarray::ShapeError) -> Error {
        Error::Value(ValueError::Shape(e))
    }
}
