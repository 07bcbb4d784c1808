//! Rust errors as Python exceptions. Each error becomes an instance of the class named after
//! its variant in `tensorlift.errors` (`ArgShape`, `ShapeMismatch`, …), which derives from
//! the built-in exception a Python user expects (`TypeError`, `ValueError`, …) and from
//! `TensorliftError`. The message is the library's own.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;
use tensorlift as tl;
use tl::{BuildErrorKind, GradError, GraphError, ValueError};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// An exception of class `tensorlift.errors.<class>` carrying `message`.
pub fn raise(class: &str, message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| {
        let module =
            ERRORS.get_or_try_init(py, || PyModule::import(py, "tensorlift.errors").map(Bound::unbind));
        match module.and_then(|m| m.bind(py).getattr(class)) {
            Ok(cls) => match cls.call1((message.clone(),)) {
                Ok(exc) => PyErr::from_value(exc),
                Err(e) => e,
            },
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// The variant name of a build error's kind.
fn build_class(kind: &BuildErrorKind) -> &'static str {
    match kind {
        BuildErrorKind::ShapeMismatch { .. } => "ShapeMismatch",
        BuildErrorKind::Rank { .. } => "RankError",
        BuildErrorKind::DType { .. } => "DTypeError",
        BuildErrorKind::Axis { .. } => "AxisError",
        BuildErrorKind::Invalid { .. } | BuildErrorKind::Inputs { .. } => "InvalidGraph",
    }
}

/// A build error, without the Rust source location (the Python traceback points at the
/// line that built the expression).
pub fn build_error(e: &tl::BuildError) -> PyErr {
    raise(build_class(&e.kind), e.kind.to_string())
}

/// A value that does not fit.
pub fn value_error(e: &ValueError) -> PyErr {
    raise(value_class(e), e.to_string())
}

fn value_class(e: &ValueError) -> &'static str {
    match e {
        ValueError::ShapeMismatch { .. } => "ShapeMismatch",
        ValueError::DType { .. } => "DTypeError",
        ValueError::LossyConversion { .. } => "LossyConversion",
        ValueError::Ragged { .. } => "Ragged",
        ValueError::NotScalar { .. } => "NotScalar",
        ValueError::IndexOutOfBounds { .. } => "IndexOutOfBounds",
        ValueError::Ndim { .. } | ValueError::Shape(_) => "InvalidValue",
        ValueError::Memory { .. } => "OutOfMemory",
        ValueError::Invalid { .. } => "InvalidValue",
    }
}

/// A gradient that cannot be built.
pub fn grad_error(e: &GradError) -> PyErr {
    let class = match e {
        GradError::NonScalarCost { .. } => "NonScalarCost",
        GradError::NonFloatCost { .. } => "NonFloatCost",
        GradError::Disconnected { .. } => "DisconnectedInputError",
        GradError::IntegerWrt { .. } => "IntegerWrt",
        GradError::Unsupported { .. } => "GradUnsupported",
        GradError::Build(b) => return build_error(b),
    };
    // The Rust API's advice, in Python's words.
    let message =
        e.to_string().replace("pass Disconnected::Zero to get zeros", "pass disconnected_inputs='ignore'");
    raise(class, message)
}

/// Any error of the library.
pub fn error(e: &tl::Error) -> PyErr {
    use tl::Error as E;
    let class = match e {
        E::Build(b) => return build_error(b),
        E::Grad(g) => return grad_error(g),
        E::Graph(g) => match g.as_ref() {
            GraphError::Build(b) => return build_error(b),
            _ => "InvalidGraph",
        },
        E::Arity { .. } => "Arity",
        E::ArgDType { .. } => "ArgDType",
        E::ArgShape { .. } => "ArgShape",
        E::ArgData { source, .. } => match source {
            ValueError::Ragged { .. } => "Ragged",
            _ => "ArgData",
        },
        E::Eval { source, .. } => value_class(source),
        E::DebugMismatch { .. } => "DebugMismatch",
        E::Update(_) => "UpdateError",
        E::UnusedInput(_) => "UnusedInputError",
        E::GradMismatch(_) => "GradMismatch",
        _ => "TensorliftError",
    };
    let message = match e {
        // The Rust API's advice, in Python's words.
        E::ArgDType { function, index, input, expected, source } => format!(
            "{function}: argument {index} ({input}) must be {expected}: {source}{}",
            if matches!(source, ValueError::LossyConversion { .. }) {
                "; pass allow_input_downcast=True to theano.function to convert it"
            } else {
                ""
            }
        ),
        _ => e.to_string().replace("pass OnUnusedInput::Ignore", "pass on_unused_input='ignore'"),
    };
    raise(class, message)
}

/// `Result` conversion for the binding's functions.
pub trait IntoPy<T> {
    /// The value, or the error as a Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, tl::Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| error(&e))
    }
}

impl<T> IntoPy<T> for Result<T, GradError> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| grad_error(&e))
    }
}

impl<T> IntoPy<T> for Result<T, ValueError> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| value_error(&e))
    }
}

impl<T> IntoPy<T> for Result<T, tl::BuildError> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| build_error(&e))
    }
}
