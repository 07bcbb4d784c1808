//! Fuzz target: any UTF-8 text through the lexer, the parser and the graph builder (with a
//! few declared variables) must give a value or an error, never a panic, a hang or a stack
//! overflow. Run with `cargo +nightly fuzz run parse` in `cli/fuzz` (see README.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorlift as tl;
use tensorlift_cli::build::{build, Scope};

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = tensorlift_cli::parse::parse(src);
        let _ = tensorlift_cli::values::parse_value(src);
        let mut scope = Scope::new();
        scope.declare("x", tl::dvector("x"));
        scope.declare("m", tl::dmatrix("m"));
        scope.declare("s", tl::dscalar("s"));
        scope.declare("i", tl::lscalar("i"));
        let _ = build(src, &scope);
    }
});
