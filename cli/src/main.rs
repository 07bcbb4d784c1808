//! The `tensorlift` command. Everything happens in the `tensorlift_cli` library; this maps
//! its result to the exit code: 0 success, 1 user error, 2 internal error.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(tensorlift_cli::main_with_args(std::env::args_os().collect()));
}
