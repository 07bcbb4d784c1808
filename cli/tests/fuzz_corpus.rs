//! Replays the fuzz target's checked-in corpus (`cli/fuzz/corpus/parse/`) on stable Rust:
//! every input through the lexer, parser, value parser and builder must return, never
//! panic. Mirrors `cli/fuzz/fuzz_targets/parse.rs`.

use tensorlift as tl;
use tensorlift_cli::build::{build, Scope};

fn scope() -> Scope {
    let mut scope = Scope::new();
    scope.declare("x", tl::dvector("x"));
    scope.declare("m", tl::dmatrix("m"));
    scope.declare("s", tl::dscalar("s"));
    scope.declare("i", tl::lscalar("i"));
    scope
}

#[test]
fn corpus_never_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("the corpus exists").map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "corpus too small: {}", files.len());
    let scope = scope();
    let mut built = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let Ok(src) = std::str::from_utf8(&data) else { continue };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = tensorlift_cli::parse::parse(src);
            let _ = tensorlift_cli::values::parse_value(src);
            build(src, &scope).is_ok()
        }));
        match r {
            Ok(true) => built += 1,
            Ok(false) => {}
            Err(_) => panic!("{} panics: {src:?}", f.display()),
        }
    }
    // The tutorial's expressions and the pp forms in the corpus do build.
    assert!(built >= 15, "only {built} corpus entries build");
}

#[test]
fn known_good_entries_build() {
    let scope = scope();
    for src in [
        "1/(1+exp(-x))",
        "(x - 4) * (x**2 + 6)",
        "reshape(m, [@0,-1])",
        "(m \\dot x)",
        "|x| + cast{float32}(x)",
    ] {
        if let Err(e) = build(src, &scope) {
            panic!("{}", e.render(src));
        }
    }
}
