//! The command's errors and exit codes: 1 for a user error (bad expression, bad value,
//! type error, bad arguments) or a finding (`--mode debug` saw native code disagree with
//! the reference kernels), 2 for an internal error (a bug in tensorlift).

use std::fmt;
use tensorlift as tl;

/// What went wrong, by whose fault.
#[derive(Debug, Clone, PartialEq)]
pub enum CliError {
    /// The input is wrong: exit code 1.
    User(String),
    /// What the command was asked to check failed (`--mode debug` found native code and the
    /// reference kernels disagreeing): exit code 1, reported as a finding, not a crash.
    Finding(String),
    /// tensorlift is wrong: exit code 2.
    Internal(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn code(&self) -> i32 {
        match self {
            CliError::User(_) | CliError::Finding(_) => 1,
            CliError::Internal(_) => 2,
        }
    }

    /// A user error.
    pub fn user(msg: impl Into<String>) -> CliError {
        CliError::User(msg.into())
    }

    /// An internal error.
    pub fn internal(msg: impl Into<String>) -> CliError {
        CliError::Internal(msg.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::User(m) => write!(f, "error: {m}"),
            CliError::Finding(m) => write!(
                f,
                "finding: {m}\nnote: the native kernel and the reference kernel of this expression disagree beyond rounding; please report it with the command line"
            ),
            CliError::Internal(m) => write!(f, "internal error (a bug in tensorlift, please report it): {m}"),
        }
    }
}

impl From<tl::Error> for CliError {
    /// The library's errors about the input are user errors; a disagreement between the
    /// JIT and the reference kernels (`Mode::Debug`) is the finding debug mode looks for.
    fn from(e: tl::Error) -> CliError {
        match e {
            tl::Error::Build(_) => CliError::User(format!("{e}")),
            tl::Error::DebugMismatch { .. } => CliError::Finding(e.to_string()),
            _ => CliError::User(e.to_string()),
        }
    }
}

impl From<tl::GradError> for CliError {
    /// The library's gradient errors in the command line's terms: one `grad:` prefix, and
    /// what to change on the command line rather than which library option to pass.
    fn from(e: tl::GradError) -> CliError {
        let msg = match &e {
            tl::GradError::Disconnected { name } => format!(
                "the expression does not depend on `{name}`, so its gradient would be zero everywhere; \
                 remove `{name}` from --wrt, or use it in the expression"
            ),
            tl::GradError::IntegerWrt { name, dtype } => format!(
                "`{name}` has dtype {dtype}: integer and bool variables have no gradient; \
                 remove `{name}` from --wrt, or declare it as a float (--var {name}:dscalar, {name}:dvector, ...)"
            ),
            tl::GradError::NonScalarCost { ty } => format!(
                "the expression has type {ty}, not 0-d: a gradient needs a scalar cost (add --sum to differentiate its sum)"
            ),
            tl::GradError::NonFloatCost { ty } => format!(
                "the expression has type {ty}: a gradient needs a float cost (cast it, e.g. cast(EXPR, 'float64'))"
            ),
            other => {
                let m = other.to_string();
                m.strip_prefix("grad: ").map_or(m.clone(), str::to_string)
            }
        };
        CliError::User(format!("grad: {msg}"))
    }
}

/// The command's result type.
pub type CliResult<T> = Result<T, CliError>;
