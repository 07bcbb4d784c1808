//! Errors of the graph layer: `BuildError` (a graph that cannot be typed, found while
//! building), `ValueError` (a value that does not fit, found while evaluating), and
//! `GraphError` (a malformed `FunctionGraph` or graph text).

use crate::dtype::DType;
use crate::types::TensorType;
use std::fmt;
use std::panic::Location;

/// One operand as an error message names it: its name (or `<unnamed>`) and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Operand {
    /// The variable's name, or a short description when it has none.
    pub name: String,
    /// Its type.
    pub ty: TensorType,
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.ty)
    }
}

/// What went wrong when typing a new node.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BuildErrorKind {
    /// Static shapes that cannot broadcast or multiply.
    #[error("{op}: incompatible shapes: {}", list(.operands))]
    ShapeMismatch {
        /// The op being built.
        op: String,
        /// The operands with their types.
        operands: Vec<Operand>,
    },
    /// An operand of a rank the op does not accept.
    #[error("{op}: {operand} has rank {}, expected {expected}", .operand.ty.ndim())]
    Rank {
        /// The op being built.
        op: String,
        /// The offending operand.
        operand: Operand,
        /// What the op accepts.
        expected: String,
    },
    /// An operand of a dtype the op does not accept.
    #[error("{op}: {operand} has dtype {}, expected {expected}", .operand.ty.dtype)]
    DType {
        /// The op being built.
        op: String,
        /// The offending operand.
        operand: Operand,
        /// What the op accepts.
        expected: String,
    },
    /// An axis out of range or repeated.
    #[error("{op}: invalid axis {axis} for {operand}")]
    Axis {
        /// The op being built.
        op: String,
        /// The axis as given.
        axis: isize,
        /// The operand.
        operand: Operand,
    },
    /// Anything else an op refuses, with its reason.
    #[error("{op}: {reason}")]
    Invalid {
        /// The op being built.
        op: String,
        /// Why.
        reason: String,
    },
    /// A list of inputs that does not fit the graph (not a type error): an input the
    /// outputs need is missing, one is listed twice, or one is not an input variable.
    #[error("{op}: {reason}")]
    Inputs {
        /// What was being built (`function`).
        op: String,
        /// Why.
        reason: String,
    },
}

fn list(ops: &[Operand]) -> String {
    ops.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ")
}

/// A type error found while building a graph, with the source location of the call that
/// built the offending node.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildError {
    /// What went wrong.
    pub kind: BuildErrorKind,
    /// Where the offending expression was written.
    pub location: Option<&'static Location<'static>>,
}

impl BuildError {
    /// An error not yet located: the public builder that returns it stamps the location of
    /// its caller (`at`).
    pub fn new(kind: BuildErrorKind) -> Self {
        BuildError { kind, location: None }
    }

    /// An error located at the caller of the `#[track_caller]` chain.
    #[track_caller]
    pub fn here(kind: BuildErrorKind) -> Self {
        BuildError { kind, location: Some(Location::caller()) }
    }

    /// An `Invalid` error, not yet located.
    pub fn invalid(op: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(BuildErrorKind::Invalid { op: op.into(), reason: reason.into() })
    }

    /// An `Inputs` error (a list of inputs that does not fit the graph), not yet located.
    pub fn inputs(op: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(BuildErrorKind::Inputs { op: op.into(), reason: reason.into() })
    }

    /// The error with `location` if it has none yet (an error inherited from an operand
    /// keeps the location of the expression that caused it).
    pub fn at(mut self, location: &'static Location<'static>) -> Self {
        self.location.get_or_insert(location);
        self
    }

    /// `at` the caller's location.
    #[track_caller]
    pub fn located(self) -> Self {
        self.at(Location::caller())
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(loc) = self.location {
            write!(f, " (built at {}:{}:{})", loc.file(), loc.line(), loc.column())?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// A value that does not fit where it is used: found while evaluating or converting.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// Run-time shapes that do not agree.
    #[error("{op}: shape mismatch: {}", shapes(.operands))]
    ShapeMismatch {
        /// The op.
        op: String,
        /// Operand names with their run-time shapes.
        operands: Vec<(String, Vec<usize>)>,
    },
    /// Data of the wrong dtype for an accessor.
    #[error("expected dtype {expected}, got {got}")]
    DType {
        /// What was asked for.
        expected: DType,
        /// What the data is.
        got: DType,
    },
    /// A conversion that would change values.
    #[error("cannot convert {from} data to {to} without loss (cast it explicitly)")]
    LossyConversion {
        /// The data's dtype.
        from: DType,
        /// The dtype asked for.
        to: DType,
    },
    /// Nested lists of unequal lengths.
    #[error("ragged nested data: {path} has length {got}, expected {expected}")]
    Ragged {
        /// Which sub-list.
        path: String,
        /// The length of the first sub-list.
        expected: usize,
        /// Its own length.
        got: usize,
    },
    /// A scalar accessor on a tensor with more than one element.
    #[error("expected a single value, got a tensor of shape {shape:?}")]
    NotScalar {
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// A conversion to a Rust value of fixed rank (`Vec<T>`, `Array2<T>`, …) from a tensor
    /// of another rank.
    #[error("expected a {expected}-d tensor, got a tensor of shape {shape:?}")]
    Ndim {
        /// The rank asked for.
        expected: usize,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// An ndarray shape error (e.g. `from_shape_vec` with a length that is not the shape's).
    #[error("ndarray: {0}")]
    Shape(#[from] ndarray::ShapeError),
    /// An index past the end of an axis.
    #[error("index {index} is out of bounds for axis {axis} with size {size}")]
    IndexOutOfBounds {
        /// The index as given.
        index: i64,
        /// The axis.
        axis: usize,
        /// The axis length.
        size: usize,
    },
    /// A result too large to allocate: its size overflows the address space, or the
    /// allocator refused it (NumPy's `MemoryError`).
    #[error(
        "{op}: unable to allocate {} for an array with shape {shape:?} and data type {dtype}",
        fmt_bytes(.shape, *.dtype)
    )]
    Memory {
        /// The op whose result it is.
        op: String,
        /// The result's shape.
        shape: Vec<usize>,
        /// The result's dtype.
        dtype: DType,
    },
    /// Anything else an op refuses at run time.
    #[error("{op}: {reason}")]
    Invalid {
        /// The op.
        op: String,
        /// Why.
        reason: String,
    },
}

/// The size of an array as NumPy's `MemoryError` prints it (`8.00 TiB`).
fn fmt_bytes(shape: &[usize], dtype: DType) -> String {
    let bytes = shape.iter().fold(dtype.size() as f64, |acc, &d| acc * d as f64);
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < units.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.2} {}", units[unit])
    }
}

fn shapes(ops: &[(String, Vec<usize>)]) -> String {
    ops.iter().map(|(n, s)| format!("{n} has shape {s:?}")).collect::<Vec<_>>().join(", ")
}

impl ValueError {
    /// An `Invalid` error.
    pub fn invalid(op: impl Into<String>, reason: impl Into<String>) -> Self {
        ValueError::Invalid { op: op.into(), reason: reason.into() }
    }
}

/// A malformed graph: what the verifier and the text parser report.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// The verifier found an inconsistency.
    #[error("invalid graph at {node}: {reason}")]
    Verify {
        /// The node, as `%N`.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// The text form could not be parsed.
    #[error("parse error at line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A node could not be typed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A replacement that would break the graph.
    #[error("cannot replace: {0}")]
    Replace(String),
}
