//! `tensorlift-cli`: the `tensorlift` command — evaluate, differentiate, inspect every
//! compilation stage, plot and benchmark tensor expressions from the shell.
//!
//! - `parse`, `build`, `values`: the expression language, from `tensorlift-expr` (also
//!   `tensorlift::parse`): parser, graph builder, literal values.
//! - `vars`: `--var NAME:TYPE[=VALUE]` declarations.
//! - `app`: the clap (derive) command line; `cmd`: one module per subcommand.
//! - `output`: NumPy-like text and the JSON shapes; `error`: errors and exit codes.
//!
//! The library half exists so that tests and the fuzz target can reach the parser; the
//! binary (`src/main.rs`) only maps results to stdout, stderr and exit codes.
#![forbid(unsafe_code)]

pub mod app;
pub mod cmd;
pub mod error;
pub mod output;
pub mod vars;

pub use tensorlift_expr::{build, parse, values};

pub use error::{CliError, CliResult};

/// Runs the command line `args` (the first is the program name) and returns the process
/// exit code, writing results to stdout and errors to stderr. Never panics: a panic inside
/// is caught and reported as an internal error (exit code 2).
pub fn main_with_args(args: Vec<std::ffi::OsString>) -> i32 {
    use std::io::Write as _;
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "internal error (a bug in tensorlift, please report it): {info}");
    }));
    let result = std::panic::catch_unwind(|| cmd::run_args(args));
    match result {
        Ok(Ok(out)) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error of ours.
            match stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
                    1
                }
            }
        }
        Ok(Err(e)) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            e.code()
        }
        Err(_) => 2,
    }
}
