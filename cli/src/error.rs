//! The command's errors and exit codes: 1 for a user error (bad expression, bad value,
//! type error, bad arguments), 2 for an internal error (a bug in tensorlift).

use std::fmt;
use tensorlift as tl;

/// What went wrong, by whose fault.
#[derive(Debug, Clone, PartialEq)]
pub enum CliError {
    /// The input is wrong: exit code 1.
    User(String),
    /// tensorlift is wrong: exit code 2.
    Internal(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn code(&self) -> i32 {
        match self {
            CliError::User(_) => 1,
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
            CliError::Internal(m) => write!(f, "internal error (a bug in tensorlift, please report it): {m}"),
        }
    }
}

impl From<tl::Error> for CliError {
    /// The library's errors about the input are user errors; a disagreement between the
    /// JIT and the reference kernels (`Mode::Debug`) is a bug.
    fn from(e: tl::Error) -> CliError {
        match e {
            tl::Error::Build(_) => CliError::User(format!("{e}")),
            tl::Error::DebugMismatch { .. } => CliError::Internal(e.to_string()),
            _ => CliError::User(e.to_string()),
        }
    }
}

impl From<tl::GradError> for CliError {
    fn from(e: tl::GradError) -> CliError {
        CliError::User(format!("grad: {e}"))
    }
}

/// The command's result type.
pub type CliResult<T> = Result<T, CliError>;
